//! The interface between the VM and whoever owns state (the `contract` module).

use crate::{Env, HostError, StorageEntry, Vm};

/// What a running contract can reach outside its sandbox.
///
/// The `contract` module implements this over its transaction context; tests implement it over
/// in-memory maps. The VM has already charged fuel, bounds-checked every pointer and enforced
/// size limits (key ≤ 256 B, value ≤ 64 KiB, range limit ≤ 100) and read-only mode before any
/// method is called, so implementations only deal with well-formed requests.
///
/// Implementations must be deterministic (a function of chain state and arguments) and must
/// scope storage to [`Env::contract`]: keys arrive without the `contract/store/<name>/` prefix.
///
/// A `HostError` fails the whole run with its code, except from
/// [`call_contract`](Host::call_contract) and [`bank_transfer`](Host::bank_transfer), whose
/// errors are handed to the contract as an encoded [`CallError`](crate::CallError) so it can
/// recover.
///
/// The trait is object-safe: the VM holds the host as `&mut dyn Host` for the duration of one
/// run, and a nested call re-enters [`Vm::run`] with the same host.
pub trait Host {
    /// Context of the running contract (spec §7 `Env`). For a nested call it must describe the
    /// callee (the VM reads it for `env` and to prefix the contract's typed errors).
    fn env(&self) -> &Env;

    /// Current value of `key` in the contract's storage.
    fn storage_get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, HostError>;

    /// Writes `key`; part of the call's write-set, discarded if the call fails.
    fn storage_set(&mut self, key: &[u8], value: &[u8]) -> Result<(), HostError>;

    /// Deletes `key` (absent keys are not an error).
    fn storage_remove(&mut self, key: &[u8]) -> Result<(), HostError>;

    /// Up to `limit` entries with `start <= key < end` (`end: None` = unbounded), ascending or
    /// descending by key. Entries beyond `limit` are ignored by the VM.
    fn storage_range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: u32,
        descending: bool,
    ) -> Result<Vec<StorageEntry>, HostError>;

    /// Records an event with module `contract`, kind `<contract>.<kind>`; the host applies the
    /// per-transaction event bounds.
    fn emit_event(&mut self, kind: &str, data: &[u8]) -> Result<(), HostError>;

    /// The chain suite's hash (SM3 or SHA-256).
    fn hash(&self, data: &[u8]) -> [u8; 32];

    /// Whether `signature` is a suite signature by `public_key` over `msg` in the domain
    /// `(chain id, kind 0x90 "contract message")`.
    fn verify_signature(&self, public_key: &[u8], msg: &[u8], signature: &[u8]) -> bool;

    /// Runs contract `name`'s `execute` with `msg` and at most `fuel` fuel, typically by
    /// calling `vm.run` with `self` as host after pushing the callee on the call stack and
    /// switching [`env`](Host::env) to it.
    ///
    /// The host enforces the call depth ([`VmLimits::max_call_depth`](crate::VmLimits)) and
    /// reentrancy (spec §6), and reverts the callee's writes (and events) if it fails.
    /// Returns the callee's return data, or its error; either way with the fuel it used
    /// (a [`RunOutcome::fuel_used`](crate::RunOutcome)), which the VM then takes from the
    /// caller. Use `HostError::from(&vm_error)` to report a failed run.
    #[allow(clippy::type_complexity)]
    fn call_contract(
        &mut self,
        vm: &Vm,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<(Vec<u8>, u64), (HostError, u64)>;

    /// Transfers `amount` of `asset` from the contract's own account to `to`.
    fn bank_transfer(&mut self, to: [u8; 20], asset: &str, amount: u128) -> Result<(), HostError>;

    /// Balance of `addr` in `asset`.
    fn bank_balance(&mut self, addr: [u8; 20], asset: &str) -> Result<u128, HostError>;

    /// The [`NotaryRecord::encode`](crate::NotaryRecord::encode)d record of `doc_hash`, if any.
    fn notary_get(&mut self, doc_hash: [u8; 32]) -> Result<Option<Vec<u8>>, HostError>;

    /// Sends `msg` over interop channel `channel` (port `contract`) to contract `target` on
    /// the counterparty chain, as this contract; returns the packet's sequence. Like
    /// [`bank_transfer`](Host::bank_transfer), an error is handed to the contract. The
    /// default refuses (`contract.no_interop`): hosts without cross-chain support.
    fn interop_send(
        &mut self,
        channel: &str,
        target: &str,
        msg: &[u8],
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    ) -> Result<u64, HostError> {
        let _ = (channel, target, msg, timeout_height, timeout_timestamp_ms);
        Err(HostError::new(
            crate::codes::NO_INTEROP,
            "this host has no interop module",
        ))
    }
}
