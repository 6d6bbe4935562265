//! The crate's error type.
//!
//! Every variant has a stable machine-readable [`StorageError::code`]. Codes are part of the
//! public contract (logs, API responses); rename a variant freely, never change its code.

use crate::HashKind;

/// Everything that can go wrong in `meridian-storage`.
///
/// Errors split into two families, see [`StorageError::is_fatal`]:
///
/// * **fatal** (`Io`, `Poisoned`, `Corrupt`, `Tree`): the disk or the stored data can no longer be
///   trusted. After a failed write the [`Store`](crate::Store) poisons itself and refuses further
///   writes; the caller must stop the node (DESIGN §4.6: "a failed storage write is fatal for that
///   instance — stop, don't limp on") and let it restart and recover from the journal.
/// * **caller errors**: the request was wrong (height gap, stale branch, bad proof, ...); nothing
///   was written and the store stays usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The storage engine reported an I/O or internal error.
    #[error("storage engine error: {0}")]
    Io(#[from] fjall::Error),

    /// An earlier write failed; this instance refuses further writes.
    #[error("store is poisoned by an earlier failed write; restart the node")]
    Poisoned,

    /// Stored bytes could not be decoded (disk corruption or a bug).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),

    /// The directory was created for another hash suite.
    #[error("store was created with hash {stored} but opened with {requested}")]
    HashKindMismatch {
        /// Suite recorded in the store.
        stored: &'static str,
        /// Suite requested by the caller.
        requested: &'static str,
    },

    /// `commit` for a height that is not the next one.
    #[error("cannot commit height {got}: next height is {expected}")]
    HeightGap {
        /// The only height that can be committed now.
        expected: u64,
        /// The height that was offered.
        got: u64,
    },

    /// `commit` with a prepared state whose version differs from the block height.
    #[error("prepared state has version {version} but block height is {height}")]
    VersionMismatch {
        /// Block height.
        height: u64,
        /// Version of the prepared state.
        version: u64,
    },

    /// A committed height was re-delivered with a different block hash (a fork: safety fault).
    #[error("height {height} is already committed with a different block hash")]
    ConflictingCommit {
        /// The height in question.
        height: u64,
    },

    /// The prepared state descends from a state that was not the one committed (abandoned fork).
    #[error("prepared state at version {version} is not built on the committed chain")]
    StaleBranch {
        /// Version of the rejected prepared state.
        version: u64,
    },

    /// The prepared state was produced by another `Store` instance.
    #[error("prepared state belongs to another store instance")]
    ForeignState,

    /// `prepare` was asked for a version that does not follow its parent.
    #[error("invalid prepare version {got}: expected {expected}")]
    InvalidVersion {
        /// The version that must be prepared on this parent.
        expected: u64,
        /// The version asked for.
        got: u64,
    },

    /// A read asked for a version that is not committed.
    #[error("version {version} is not committed (latest: {latest:?})")]
    VersionNotCommitted {
        /// The version asked for.
        version: u64,
        /// Latest committed version, if any.
        latest: Option<u64>,
    },

    /// The Merkle tree reported an inconsistency (missing node, ...).
    #[error("state tree error: {0}")]
    Tree(String),

    /// An input exceeds a hard limit (e.g. more than `u32::MAX` transactions in a block).
    #[error("input too large: {0}")]
    TooLarge(&'static str),

    /// Proof bytes are not a well-formed [`StateProof`](crate::StateProof) encoding.
    #[error("malformed state proof: {0}")]
    ProofMalformed(&'static str),

    /// The proof is well formed but does not prove the claim against the given root.
    #[error("state proof does not verify: {0}")]
    ProofInvalid(String),
}

impl StorageError {
    /// Stable error code, e.g. `"storage.height_gap"`.
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::Io(_) => "storage.io",
            StorageError::Poisoned => "storage.poisoned",
            StorageError::Corrupt(_) => "storage.corrupt",
            StorageError::HashKindMismatch { .. } => "storage.hash_kind_mismatch",
            StorageError::HeightGap { .. } => "storage.height_gap",
            StorageError::VersionMismatch { .. } => "storage.version_mismatch",
            StorageError::ConflictingCommit { .. } => "storage.conflicting_commit",
            StorageError::StaleBranch { .. } => "storage.stale_branch",
            StorageError::ForeignState => "storage.foreign_state",
            StorageError::InvalidVersion { .. } => "storage.invalid_version",
            StorageError::VersionNotCommitted { .. } => "storage.version_not_committed",
            StorageError::Tree(_) => "storage.tree",
            StorageError::TooLarge(_) => "storage.too_large",
            StorageError::ProofMalformed(_) => "storage.proof_malformed",
            StorageError::ProofInvalid(_) => "storage.proof_invalid",
        }
    }

    /// `true` when the instance can no longer be trusted and the node must stop.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            StorageError::Io(_)
                | StorageError::Poisoned
                | StorageError::Corrupt(_)
                | StorageError::Tree(_)
        )
    }

    /// Converts an error coming out of `jmt` (which speaks `anyhow`). Our own reader wraps
    /// `StorageError`s into `anyhow`; recover them so codes survive the round trip.
    pub(crate) fn from_tree(err: anyhow::Error) -> Self {
        match err.downcast::<StorageError>() {
            Ok(e) => e,
            Err(e) => StorageError::Tree(format!("{e:#}")),
        }
    }

    pub(crate) fn kind_mismatch(stored: HashKind, requested: HashKind) -> Self {
        StorageError::HashKindMismatch {
            stored: stored.name(),
            requested: requested.name(),
        }
    }
}
