//! The crate's one error type.
//!
//! Every variant has a stable, machine-readable [`CryptoError::code`] so that callers (mempool,
//! API) can surface rejections without depending on the human-readable message, which may change.

use thiserror::Error;

/// Errors returned by `meridian-crypto`.
///
/// Verification failures are deliberately coarse (`BadSignature`): telling an attacker *why* a
/// signature failed helps nobody but the attacker.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The suite name or tag is not one of `sm` / `intl`.
    #[error("unknown crypto suite")]
    UnknownSuite,
    /// A key or signature of one suite was used with a key or signature of another.
    #[error("crypto suite mismatch")]
    SuiteMismatch,
    /// The chain id of a signing domain is empty or longer than 64 bytes.
    #[error("invalid chain id (must be 1..=64 bytes)")]
    InvalidChainId,
    /// The signing kind tag is unknown or reserved.
    #[error("invalid signing kind")]
    InvalidSigningKind,
    /// Private key bytes are malformed (wrong length, zero or out-of-range scalar).
    #[error("invalid private key")]
    InvalidPrivateKey,
    /// Public key bytes are malformed (wrong length, not on the curve, non-canonical).
    #[error("invalid public key")]
    InvalidPublicKey,
    /// Signature bytes are malformed (wrong length, out-of-range scalars, bad DER).
    #[error("malformed signature")]
    MalformedSignature,
    /// The signature is well formed but does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The SM2 distinguishing identifier is too long (GM/T 0003 limits ENTL to 16 bits).
    #[error("invalid SM2 distinguishing id")]
    InvalidDistId,
    /// A symmetric key has the wrong length.
    #[error("invalid symmetric key length")]
    InvalidKeyLength,
    /// An AEAD nonce has the wrong length.
    #[error("invalid nonce length")]
    InvalidNonceLength,
    /// AEAD encryption failed (input too long).
    #[error("encryption failed")]
    SealFailed,
    /// AEAD decryption failed: wrong key, nonce or AAD, or tampered ciphertext.
    #[error("decryption failed")]
    OpenFailed,
    /// A tagged encoding is truncated, has trailing bytes or an unknown tag.
    #[error("malformed encoding")]
    MalformedEncoding,
}

impl CryptoError {
    /// Stable error code; never changes meaning once released.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::UnknownSuite => "crypto.unknown_suite",
            Self::SuiteMismatch => "crypto.suite_mismatch",
            Self::InvalidChainId => "crypto.invalid_chain_id",
            Self::InvalidSigningKind => "crypto.invalid_signing_kind",
            Self::InvalidPrivateKey => "crypto.invalid_private_key",
            Self::InvalidPublicKey => "crypto.invalid_public_key",
            Self::MalformedSignature => "crypto.malformed_signature",
            Self::BadSignature => "crypto.bad_signature",
            Self::InvalidDistId => "crypto.invalid_distid",
            Self::InvalidKeyLength => "crypto.invalid_key_length",
            Self::InvalidNonceLength => "crypto.invalid_nonce_length",
            Self::SealFailed => "crypto.seal_failed",
            Self::OpenFailed => "crypto.open_failed",
            Self::MalformedEncoding => "crypto.malformed_encoding",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed() {
        let all = [
            CryptoError::UnknownSuite,
            CryptoError::SuiteMismatch,
            CryptoError::InvalidChainId,
            CryptoError::InvalidSigningKind,
            CryptoError::InvalidPrivateKey,
            CryptoError::InvalidPublicKey,
            CryptoError::MalformedSignature,
            CryptoError::BadSignature,
            CryptoError::InvalidDistId,
            CryptoError::InvalidKeyLength,
            CryptoError::InvalidNonceLength,
            CryptoError::SealFailed,
            CryptoError::OpenFailed,
            CryptoError::MalformedEncoding,
        ];
        let mut codes: Vec<_> = all.iter().map(CryptoError::code).collect();
        assert!(codes.iter().all(|c| c.starts_with("crypto.")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
