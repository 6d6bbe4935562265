//! WASM contract runtime (wasmi) and host API; see `docs/spec/contracts.md` (the binding spec).
//!
//! The crate is deliberately pure: it owns no state besides a compiled-module cache, does no I/O
//! and reads no clock. Everything a contract observes comes through the [`Host`] the caller
//! passes to [`Vm::run`], so the `contract` module stays in charge of state, write-sets, call
//! stacks and receipts, and the VM only guarantees that a run is a deterministic function of
//! (code, entry point, input, fuel limit, host answers).
//!
//! Determinism rests on three choices made here (details on [`Vm`]):
//! - wasmi's `deterministic` feature canonicalises NaNs produced by float arithmetic;
//! - modules are compiled eagerly, so lazy per-function compilation never charges fuel and a
//!   cached module costs exactly what a freshly compiled one costs;
//! - host calls charge the fixed fuel of spec §5 ([`fuel`]) before doing any work.

mod abi;
mod error;
mod host;
mod imports;
mod limits;
mod vm;

pub use abi::{
    encode_entries, CallError, Entry, Env, InteropAck, InteropOutcome, NotaryRecord, StorageEntry,
};
pub use error::{codes, HostError, VmError};
pub use host::Host;
pub use limits::{fuel, VmLimits};
pub use vm::{CodeInfo, RunOutcome, Vm, DEFAULT_CACHE_CAPACITY};
