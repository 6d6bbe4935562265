//! Authenticated symmetric encryption: SM4-GCM (`sm`) or AES-256-GCM (`intl`) behind one API.
//!
//! SM4-GCM is `aes_gcm::AesGcm<sm4::Sm4, U12>`: GCM is generic over any 128-bit block cipher,
//! and this instantiation is the SM4-GCM of RFC 8998 (checked against its Appendix A.1 vector).
//!
//! Output of [`seal`] is `ciphertext || tag` (16-byte tag). The nonce is 12 bytes and must never
//! repeat under one key; choosing it is the caller's job (this crate is pure and has no RNG).

use crate::{CryptoError, Suite};
use aes_gcm::{
    aead::{consts::U12, Aead, KeyInit, Payload},
    Aes256Gcm, AesGcm, Nonce,
};
use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// SM4-GCM with a 96-bit nonce (RFC 8998).
pub type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Nonce length for both AEADs.
pub const NONCE_LEN: usize = 12;
/// Tag length for both AEADs.
pub const TAG_LEN: usize = 16;
/// SM4 key length.
pub const SM4_KEY_LEN: usize = 16;
/// AES-256 key length.
pub const AES256_KEY_LEN: usize = 32;

/// A symmetric key of the chain's suite. Zeroized on drop; `Debug` never prints it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub enum SymmetricKey {
    /// SM4 (128-bit key), used with GCM.
    Sm4([u8; SM4_KEY_LEN]),
    /// AES-256, used with GCM.
    Aes256([u8; AES256_KEY_LEN]),
}

impl SymmetricKey {
    /// Builds a key for `suite` (16 bytes for `sm`, 32 for `intl`).
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        match suite {
            Suite::Sm => <[u8; SM4_KEY_LEN]>::try_from(bytes)
                .map(Self::Sm4)
                .map_err(|_| CryptoError::InvalidKeyLength),
            Suite::Intl => <[u8; AES256_KEY_LEN]>::try_from(bytes)
                .map(Self::Aes256)
                .map_err(|_| CryptoError::InvalidKeyLength),
        }
    }

    /// Key length required by `suite`.
    pub const fn len_for(suite: Suite) -> usize {
        match suite {
            Suite::Sm => SM4_KEY_LEN,
            Suite::Intl => AES256_KEY_LEN,
        }
    }

    /// The key's suite.
    pub const fn suite(&self) -> Suite {
        match self {
            Self::Sm4(_) => Suite::Sm,
            Self::Aes256(_) => Suite::Intl,
        }
    }
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SymmetricKey({}, [REDACTED])", self.suite())
    }
}

fn nonce_of(nonce: &[u8]) -> Result<&Nonce<U12>, CryptoError> {
    <&Nonce<U12>>::try_from(nonce).map_err(|_| CryptoError::InvalidNonceLength)
}

/// Encrypts and authenticates `plaintext` (and authenticates `aad`); returns `ciphertext || tag`.
pub fn seal(
    key: &SymmetricKey,
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce = nonce_of(nonce)?;
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let out = match key {
        SymmetricKey::Sm4(k) => Sm4Gcm::new_from_slice(k)
            .map_err(|_| CryptoError::InvalidKeyLength)?
            .encrypt(nonce, payload),
        SymmetricKey::Aes256(k) => Aes256Gcm::new_from_slice(k)
            .map_err(|_| CryptoError::InvalidKeyLength)?
            .encrypt(nonce, payload),
    };
    out.map_err(|_| CryptoError::SealFailed)
}

/// Verifies and decrypts `ciphertext || tag`. Any tampering (or wrong key, nonce, AAD) gives
/// [`CryptoError::OpenFailed`] and no plaintext.
pub fn open(
    key: &SymmetricKey,
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce = nonce_of(nonce)?;
    if sealed.len() < TAG_LEN {
        return Err(CryptoError::OpenFailed);
    }
    let payload = Payload { msg: sealed, aad };
    let out = match key {
        SymmetricKey::Sm4(k) => Sm4Gcm::new_from_slice(k)
            .map_err(|_| CryptoError::InvalidKeyLength)?
            .decrypt(nonce, payload),
        SymmetricKey::Aes256(k) => Aes256Gcm::new_from_slice(k)
            .map_err(|_| CryptoError::InvalidKeyLength)?
            .decrypt(nonce, payload),
    };
    out.map_err(|_| CryptoError::OpenFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm4::cipher::{BlockCipherDecrypt, BlockCipherEncrypt};

    fn hx(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// GB/T 32907-2016 Appendix A, example 1 (single block).
    #[test]
    fn sm4_block_vector() {
        let key = hx("0123456789abcdeffedcba9876543210");
        let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::Block::<sm4::Sm4>::try_from(key.as_slice()).unwrap();
        cipher.encrypt_block(&mut block);
        assert_eq!(block.to_vec(), hx("681edf34d206965e86b3e94f536e4246"));
        cipher.decrypt_block(&mut block);
        assert_eq!(block.to_vec(), key);
    }

    /// GB/T 32907-2016 Appendix A, example 2: 1,000,000 encryptions.
    #[test]
    fn sm4_block_vector_million() {
        let key = hx("0123456789abcdeffedcba9876543210");
        let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::Block::<sm4::Sm4>::try_from(key.as_slice()).unwrap();
        for _ in 0..1_000_000 {
            cipher.encrypt_block(&mut block);
        }
        assert_eq!(block.to_vec(), hx("595298c7c6fd271f0402f804c33d3f66"));
    }

    /// RFC 8998 Appendix A.1: SM4-GCM.
    #[test]
    fn sm4_gcm_rfc8998_vector() {
        let key =
            SymmetricKey::from_bytes(Suite::Sm, &hx("0123456789abcdeffedcba9876543210")).unwrap();
        let nonce = hx("00001234567800000000abcd");
        let aad = hx("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = hx(concat!(
            "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd",
            "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
        ));
        let expect = hx(concat!(
            "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735",
            "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d",
            "83de3541e4c2b58177e065a9bf7b62ec"
        ));
        let sealed = seal(&key, &nonce, &aad, &pt).unwrap();
        assert_eq!(sealed, expect);
        assert_eq!(open(&key, &nonce, &aad, &sealed).unwrap(), pt);
    }

    /// GCM specification (McGrew & Viega) test case 16: AES-256-GCM.
    #[test]
    fn aes256_gcm_vector() {
        let key = SymmetricKey::from_bytes(
            Suite::Intl,
            &hx("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
        )
        .unwrap();
        let nonce = hx("cafebabefacedbaddecaf888");
        let aad = hx("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = hx(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let expect = hx(concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"
        ));
        let sealed = seal(&key, &nonce, &aad, &pt).unwrap();
        assert_eq!(sealed, expect);
        assert_eq!(open(&key, &nonce, &aad, &sealed).unwrap(), pt);
    }

    #[test]
    fn tampering_and_misuse_are_rejected() {
        for suite in Suite::ALL {
            let key =
                SymmetricKey::from_bytes(suite, &vec![7u8; SymmetricKey::len_for(suite)]).unwrap();
            let nonce = [1u8; NONCE_LEN];
            let sealed = seal(&key, &nonce, b"aad", b"secret payload").unwrap();
            assert_eq!(sealed.len(), 14 + TAG_LEN);
            for i in [0, 5, sealed.len() - 1] {
                let mut bad = sealed.clone();
                bad[i] ^= 1;
                assert_eq!(
                    open(&key, &nonce, b"aad", &bad),
                    Err(CryptoError::OpenFailed)
                );
            }
            assert_eq!(
                open(&key, &nonce, b"aaD", &sealed),
                Err(CryptoError::OpenFailed)
            );
            assert_eq!(
                open(&key, &[2u8; 12], b"aad", &sealed),
                Err(CryptoError::OpenFailed)
            );
            assert_eq!(
                open(&key, &nonce, b"aad", &sealed[..15]),
                Err(CryptoError::OpenFailed)
            );
            assert_eq!(
                open(&key, &[0u8; 11], b"aad", &sealed),
                Err(CryptoError::InvalidNonceLength)
            );
            let other =
                SymmetricKey::from_bytes(suite, &vec![8u8; SymmetricKey::len_for(suite)]).unwrap();
            assert_eq!(
                open(&other, &nonce, b"aad", &sealed),
                Err(CryptoError::OpenFailed)
            );
            assert!(format!("{key:?}").contains("REDACTED"));
        }
        assert_eq!(
            SymmetricKey::from_bytes(Suite::Sm, &[0u8; 32]).err(),
            Some(CryptoError::InvalidKeyLength)
        );
        assert_eq!(
            SymmetricKey::from_bytes(Suite::Intl, &[0u8; 16]).err(),
            Some(CryptoError::InvalidKeyLength)
        );
    }
}
