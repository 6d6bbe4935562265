//! Meridian's cryptography: one crate, two suites, chosen per chain in genesis.
//!
//! | suite  | signatures (all roles)   | hash    | AEAD        | extra                    |
//! |--------|--------------------------|---------|-------------|--------------------------|
//! | `sm`   | SM2 (GM/T 0003, Z_A/ID)  | SM3     | SM4-GCM     |                          |
//! | `intl` | Ed25519 (RFC 8032)       | SHA-256 | AES-256-GCM | P-256 ECDSA verification |
//!
//! The chain's suite signs transactions, consensus votes and p2p identities alike, so an `sm`
//! chain has no Ed25519 on its critical path: [`sm2dsa`] implements commonware's signer traits for
//! SM2, and [`sm2dsa::certificate`] is the SM2 attributable certificate scheme that commonware
//! simplex needs (instantiated for simplex in `simplex_sm2` behind the `simplex` feature).
//!
//! # Quick tour
//!
//! ```
//! use meridian_crypto::{Domain, PrivateKey, SigningKind, Suite};
//!
//! let suite: Suite = "sm".parse().unwrap();
//! let key = PrivateKey::from_seed(suite, &[7u8; 32]);
//! let domain = Domain::new("meridian-sh", SigningKind::Transaction).unwrap();
//! let sig = key.sign(&domain, b"transfer 10");
//! key.public_key().verify(&domain, b"transfer 10", &sig).unwrap();
//!
//! // Same bytes, other chain: rejected.
//! let other = Domain::new("meridian-bj", SigningKind::Transaction).unwrap();
//! assert!(key.public_key().verify(&other, b"transfer 10", &sig).is_err());
//!
//! // Hashing with the suite's function (SM3 here).
//! let digest = suite.hash(b"abc");
//! assert_eq!(digest.to_hex().len(), 64);
//! ```
//!
//! Every signature covers a [`Domain`] (chain id + [`SigningKind`]); see [`domain`] for the
//! exact signed bytes. The crate is pure: no I/O, no clocks, no global RNG — callers pass RNGs.

pub mod aead;
pub mod domain;
pub mod ecdsa_p256;
mod error;
pub mod keys;
pub mod sm2dsa;
pub mod suite;

#[cfg(feature = "simplex")]
pub mod finality;
#[cfg(feature = "simplex")]
pub mod simplex_sm2;

pub use aead::{open, seal, SymmetricKey};
pub use domain::{Domain, SigningKind, MAX_CHAIN_ID_LEN};
pub use ecdsa_p256::verify_p256;
pub use error::CryptoError;
pub use keys::{verify_batch, BatchItem, PrivateKey, PublicKey, Signature};
pub use suite::{Digest32, Hasher, Sha256Hasher, Sm3Hasher, Suite};

/// Re-export of commonware's Ed25519 types (the `intl` signer), for symmetry with [`sm2dsa`].
pub use commonware_cryptography::ed25519;

/// Paths used by the exported macros; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use commonware_codec;
    pub use commonware_cryptography;
    pub use commonware_parallel;
    pub use commonware_utils;
    pub use rand_core;
}
