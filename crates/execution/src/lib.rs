//! Deterministic transaction execution.
//!
//! The executor turns an ordered list of signed transactions plus a read-only view of the state
//! into a write set and one receipt per transaction. It is pure: no I/O, no clock — the block
//! height and time come from the header, state reads come from a [`StateRead`] the host
//! supplies (the node layers it over storage), and signature checking comes from a
//! [`TxAuthenticator`] (the node's verify-once cache), so every validator that executes the
//! same block from the same parent state gets byte-identical writes and receipts.
//!
//! Native modules plug in through [`Module`]. A module owns the key space under its own name
//! (`"<module>/..."`); [`TxContext`] refuses writes outside it, so a bug in one module cannot
//! corrupt another's state.
//!
//! A transaction that fails inside its module changes nothing but the sender's nonce: its
//! writes are discarded and its receipt carries the module's stable error code.

mod context;
mod executor;
mod overlay;
mod parallel;

pub use context::{ChildOutcome, TxContext, CHAIN_GOVERNANCE_MODULE};
pub use executor::{
    nonce_key, AccessControl, AdmissionError, BlockEnv, BlockOutcome, Denial, ExecMode, Executor,
    TxAuthenticator,
};
pub use overlay::{
    is_ordered_range, range_through, Overlay, StateRead, WriteSet, ORDERED_PREFIXES,
};
pub use parallel::ExecConfig;

/// A native module: a named state machine invoked by [`meridian_types::Call`]s addressed to it.
pub trait Module: Send + Sync {
    /// The module's name; also the prefix of every state key it owns.
    fn name(&self) -> &'static str;
    /// Executes `method` with the module's canonical `args`. Returning an error discards every
    /// write the call made (the executor then only bumps the sender's nonce).
    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError>;
}

/// A module-level failure with a stable, namespaced code such as `bank.insufficient_balance`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ModuleError {
    pub code: String,
    pub message: String,
}

impl ModuleError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Stable codes the executor itself assigns.
pub mod codes {
    pub const OK: &str = "ok";
    pub const UNKNOWN_MODULE: &str = "tx.unknown_module";
    pub const UNKNOWN_METHOD: &str = "tx.unknown_method";
    pub const BAD_ARGS: &str = "tx.bad_args";
    pub const FORBIDDEN_KEY: &str = "tx.forbidden_key";
    pub const WRONG_CHAIN: &str = "tx.wrong_chain";
    pub const BAD_SIGNATURE: &str = "tx.bad_signature";
    pub const EXPIRED: &str = "tx.expired";
    pub const BAD_NONCE: &str = "tx.bad_nonce";
    pub const DUPLICATE: &str = "tx.duplicate";
}

#[cfg(test)]
mod tests;
