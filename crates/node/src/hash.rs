//! The chain's hash as the types crate sees it.

use meridian_crypto::Suite;
use meridian_storage::HashKind;
use meridian_types::{Hash32, HashFn};

/// The suite's hash (SM3 or SHA-256) behind [`HashFn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainHash(pub Suite);

impl HashFn for ChainHash {
    fn hash(&self, data: &[u8]) -> Hash32 {
        self.0.hash(data).0
    }
}

impl ChainHash {
    /// The authenticated-state hasher of the same suite.
    pub fn state_hash_kind(&self) -> HashKind {
        match self.0 {
            Suite::Sm => HashKind::Sm3,
            Suite::Intl => HashKind::Sha256,
        }
    }
}
