//! ECDSA P-256 (secp256r1) with SHA-256.
//!
//! Two uses: checking X.509 signatures of external issuers ([`verify_p256`], DER or fixed
//! signatures, high `s` accepted), and — on `intl` chains — transaction keys of members whose
//! certificates are P-256 (Fabric and most HSMs issue those). Transaction signatures are the
//! strict form: 64-byte `r || s` with low `s` (BIP-62 style), so each signature has one
//! encoding, over the same domain-framed bytes as every other Meridian signature.

use crate::{CryptoError, Domain};
use core::fmt;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{signature::Verifier as _, Signature, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// Compressed SEC1 length of a P-256 public key.
pub const PUBLIC_KEY_LEN: usize = 33;

/// A P-256 verification key, kept with its canonical 33-byte compressed encoding.
#[derive(Clone)]
pub struct P256PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    key: VerifyingKey,
}

impl P256PublicKey {
    /// Parses 33-byte compressed or 65-byte uncompressed SEC1 (normalised to compressed).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != PUBLIC_KEY_LEN && bytes.len() != 65 {
            return Err(CryptoError::InvalidPublicKey);
        }
        let key =
            VerifyingKey::from_sec1_bytes(bytes).map_err(|_| CryptoError::InvalidPublicKey)?;
        let point = key.to_sec1_point(true);
        let bytes = point
            .as_bytes()
            .try_into()
            .map_err(|_| CryptoError::InvalidPublicKey)?;
        Ok(Self { bytes, key })
    }

    /// The 33-byte compressed encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The `p256` crate's key (for X.509 code that verifies DER signatures).
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies a strict (64-byte, low-`s`) signature over `msg` framed in `domain`.
    pub fn verify(&self, domain: &Domain, msg: &[u8], sig: &P256Signature) -> bool {
        self.key
            .verify(&domain.signing_payload(msg), &sig.0)
            .is_ok()
    }
}

impl PartialEq for P256PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for P256PublicKey {}
impl PartialOrd for P256PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for P256PublicKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
impl core::hash::Hash for P256PublicKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}
impl fmt::Debug for P256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P256PublicKey({})", hex::encode(self.bytes))
    }
}

/// A strict P-256 signature: `r || s`, 64 bytes, `s` in the lower half of the group order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct P256Signature(Signature, [u8; 64]);

impl P256Signature {
    /// Parses 64 bytes; high-`s` and zero scalars are rejected.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let sig = Signature::from_slice(bytes).map_err(|_| CryptoError::MalformedSignature)?;
        if sig.normalize_s() != sig {
            return Err(CryptoError::MalformedSignature);
        }
        let raw = bytes
            .try_into()
            .map_err(|_| CryptoError::MalformedSignature)?;
        Ok(Self(sig, raw))
    }

    /// The 64 bytes `r || s`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.1
    }
}

impl PartialOrd for P256Signature {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for P256Signature {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.1.cmp(&other.1)
    }
}
impl core::hash::Hash for P256Signature {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.1.hash(state)
    }
}

/// A P-256 signing key (client side: wallets of members with P-256 certificates).
#[derive(Clone)]
pub struct P256PrivateKey(SigningKey);

impl P256PrivateKey {
    /// A fresh key from a cryptographically secure RNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            let mut seed = Zeroizing::new([0u8; 32]);
            rng.fill_bytes(&mut seed[..]);
            // A uniformly random 32-byte string is a valid scalar except with probability
            // about 2^-32; draw again in that case.
            if let Ok(k) = Self::from_bytes(seed.as_ref()) {
                return k;
            }
        }
    }

    /// Parses the 32-byte big-endian secret scalar.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        SigningKey::from_slice(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidPrivateKey)
    }

    /// The 32 secret bytes (wiped when dropped).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    pub fn public_key(&self) -> P256PublicKey {
        let key = *self.0.verifying_key();
        let point = key.to_sec1_point(true);
        let mut bytes = [0u8; PUBLIC_KEY_LEN];
        bytes.copy_from_slice(point.as_bytes());
        P256PublicKey { bytes, key }
    }

    /// Signs `msg` framed in `domain` (RFC 6979 deterministic nonce), `s` normalised low.
    pub fn sign(&self, domain: &Domain, msg: &[u8]) -> P256Signature {
        let sig: Signature = self.0.sign(&domain.signing_payload(msg));
        let sig = sig.normalize_s();
        let mut raw = [0u8; 64];
        raw.copy_from_slice(&sig.to_bytes());
        P256Signature(sig, raw)
    }
}

/// Verifies an ECDSA P-256/SHA-256 signature over `msg` (the message, not its hash).
///
/// - `pubkey_sec1`: 33-byte compressed or 65-byte uncompressed SEC1 point;
/// - `sig`: 64-byte fixed `r || s`, or ASN.1 DER (as in X.509 / TLS).
///
/// High-`s` signatures are accepted (X.509 issuers do not normalise `s`).
pub fn verify_p256(pubkey_sec1: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
    let key =
        VerifyingKey::from_sec1_bytes(pubkey_sec1).map_err(|_| CryptoError::InvalidPublicKey)?;
    let sig = if sig.len() == 64 {
        Signature::from_slice(sig)
    } else {
        Signature::from_der(sig)
    }
    .map_err(|_| CryptoError::MalformedSignature)?;
    key.verify(msg, &sig).map_err(|_| CryptoError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hx(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // RFC 6979 Appendix A.2.5 (P-256): public key U = xG for
    // x = c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721.
    const UX: &str = "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
    const UY: &str = "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
    // With SHA-256, message "sample".
    const R: &str = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716";
    const S: &str = "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";

    fn pubkey() -> Vec<u8> {
        let mut k = vec![0x04];
        k.extend(hx(UX));
        k.extend(hx(UY));
        k
    }

    #[test]
    fn rfc6979_a25_sha256_sample_verifies() {
        let sig = hx(&format!("{R}{S}"));
        verify_p256(&pubkey(), b"sample", &sig).unwrap();
        // The key in the RFC matches its private scalar.
        let sk = p256::ecdsa::SigningKey::from_slice(&hx(
            "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
        ))
        .unwrap();
        let derived = sk.verifying_key().to_sec1_point(false);
        assert_eq!(derived.as_bytes(), pubkey().as_slice());
        // Compressed key and DER signature are accepted too.
        let compressed = sk.verifying_key().to_sec1_point(true);
        let der = Signature::from_slice(&sig).unwrap().to_der();
        verify_p256(compressed.as_bytes(), b"sample", der.as_bytes()).unwrap();
    }

    #[test]
    fn rejects_tampering() {
        let sig = hx(&format!("{R}{S}"));
        assert_eq!(
            verify_p256(&pubkey(), b"samplE", &sig),
            Err(CryptoError::BadSignature)
        );
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert_eq!(
            verify_p256(&pubkey(), b"sample", &bad),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            verify_p256(&pubkey(), b"sample", &sig[..63]),
            Err(CryptoError::MalformedSignature)
        );
        assert_eq!(
            verify_p256(&pubkey()[..64], b"sample", &sig),
            Err(CryptoError::InvalidPublicKey)
        );
        assert_eq!(
            verify_p256(&[0u8; 64], b"sample", &[0u8; 64]),
            Err(CryptoError::InvalidPublicKey)
        );
    }
}
