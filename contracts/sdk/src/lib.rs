//! SDK for Meridian contracts compiled to `wasm32-unknown-unknown`; the ABI is
//! `docs/spec/contracts.md` (section numbers below refer to it).
//!
//! * [`sys`]: the host imports of module `"meridian"` (§6) behind safe functions. On wasm32
//!   they call the host; on every other target they call the thread-local mock host of
//!   [`testing`], so contracts are unit-tested natively with `cargo test`.
//! * [`entry!`]: generates the `() -> i32` entry points (§4) from typed handlers.
//! * [`Ctx`]: what a handler sees: env (§7), storage, events, hash, signatures, nested calls,
//!   bank, notary and cross-chain calls ([`Ctx::interop_send`], answered through the
//!   `interop_ack` entry point with an [`InteropAck`]).
//! * [`Item`] / [`Map`]: typed, JSON-encoded state over the contract's storage.
//! * [`ContractError`], [`ensure!`], [`fail!`]: typed errors (`<contract>.<code>`, §3).
//! * [`Address`], [`Uint128`]: JSON-friendly chain types (hex addresses, decimal-string amounts).
//!
//! The SDK's own code never uses floating point.
//!
//! ```ignore
//! use meridian_contract_sdk::{entry, ensure, ContractError, Ctx, Item};
//!
//! const COUNT: Item<u64> = Item::new("count");
//!
//! fn init(ctx: &mut Ctx, start: u64) -> Result<(), ContractError> {
//!     COUNT.save(ctx, &start)
//! }
//! fn exec(ctx: &mut Ctx, by: u64) -> Result<u64, ContractError> {
//!     let n = COUNT.load(ctx)?.checked_add(by);
//!     ensure!(n.is_some(), "overflow", "count overflows");
//!     COUNT.save(ctx, &n.unwrap_or_default())?;
//!     Ok(n.unwrap_or_default())
//! }
//! fn query(ctx: &Ctx, _msg: ()) -> Result<u64, ContractError> {
//!     COUNT.load(ctx)
//! }
//! entry!(instantiate = init, execute = exec, query = query);
//! ```

mod codec;
mod ctx;
mod entry;
mod error;
mod hash;
mod storage;
pub mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod types;

pub use ctx::{Ctx, RangeIter, RawEntry};
pub use entry::EntryPoints;
pub use error::{codes, CallError, ContractError, InvalidErrorCode};
pub use hash::Hash32;
pub use storage::{Item, Key, KeyDecode, Map, MapIter};
pub use types::{
    is_valid_error_code, u128_dec, Address, Env, InteropAck, InteropOutcome, NotaryRecord, Order,
    ParseAddressError, ParseAmountError, Uint128,
};

/// Re-exported so contracts and the generated entry points use the SDK's versions.
pub use serde;
pub use serde_json;

/// Host limits the SDK and the mock host share (§1, §4, §6).
pub mod limits {
    /// Longest storage key, in bytes (§1).
    pub const MAX_KEY_LEN: usize = 256;
    /// Longest storage value, in bytes (§1).
    pub const MAX_VALUE_LEN: usize = 64 * 1024;
    /// Longest return or error data, in bytes (§4).
    pub const MAX_RETURN_LEN: usize = 64 * 1024;
    /// Most entries one `storage_range` call returns (§6).
    pub const MAX_RANGE_LIMIT: u32 = 100;
    /// Deepest contract→contract call stack (§4).
    pub const MAX_CALL_DEPTH: usize = 8;
    /// Most fuel one transaction may carry (§2).
    pub const MAX_FUEL_PER_TX: u64 = 5_000_000_000;
    /// Longest contract name / error code (§1, §3).
    pub const MAX_NAME_LEN: usize = 48;
}

#[doc(hidden)]
pub mod __private {
    pub use crate::entry::{run_interop_ack, run_mut, run_query};
}
