//! ECDSA P-256 (secp256r1) with SHA-256, verification only.
//!
//! Needed to check external certificates (e.g. X.509 issued by an `intl` CA) later; Meridian
//! never signs with P-256 itself, so there is no signing API.

use crate::CryptoError;
use p256::ecdsa::{signature::Verifier as _, Signature, VerifyingKey};

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
