//! Native mock host: run contracts with `cargo test`, no chain, no wasm.
//!
//! [`MockHost`] installs a thread-local host that serves [`crate::sys`] on non-wasm targets.
//! It applies the chain's rules where that is cheap:
//!
//! * storage is per contract; key ≤ 256 bytes, value ≤ 64 KiB (else `contract.trap`, as the
//!   VM does); `storage_range` returns at most 100 entries;
//! * queries are read-only: storage writes, events, bank transfers and nested calls fail the
//!   call with `contract.read_only`;
//! * a failed call (error, panic = trap, host error) discards all its writes, events and bank
//!   transfers, including those of nested calls; a failed nested call reverts only the callee;
//! * nested calls: call depth ≤ 8 (`contract.call_depth`), re-entry only if the contract was
//!   registered with `allow_reentry` (`contract.reentrancy`), unknown callee
//!   (`contract.not_found`), missing entry point (`contract.bad_code`);
//! * return / error data ≤ 64 KiB (`contract.return_too_large`); error codes must be
//!   `[a-z0-9_]{1,48}` (`contract.bad_error`); contract errors read `<contract>.<code>`;
//! * events: kind 1..=32 bytes of `[a-z0-9_]` (`contract.bad_event`; receipts carry
//!   `<contract>.<kind>`, at most 48 + 1 + 32 bytes);
//!   ≤ 64 per top-level call and ≤ 4 KiB data (`tx.too_many_events`);
//! * bank transfers: positive amount (`bank.invalid_amount`), known asset
//!   (`bank.unknown_asset`), sufficient balance (`bank.insufficient_balance`);
//! * hash: SHA-256 (default) or SM3, like the chain suites;
//! * cross-chain calls: `interop_send` records the call (see [`MockHost::interop_sent`]) and
//!   returns per-channel sequences from 1; the outcome is delivered by the test with
//!   [`MockHost::interop_ack`]. No channel or allowlist is modelled.
//!
//! Not modelled: wasm instruction fuel and out-of-fuel (only the host-call fuel of §5 is
//! counted, see [`MockHost::host_fuel`]), memory/stack limits, real signatures (register
//! accepted ones with [`MockHost::accept_signature`]).

use crate::ctx::RawEntry;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::enc;
use crate::entry::EntryPoints;
use crate::error::CallError;
use crate::limits::{MAX_CALL_DEPTH, MAX_KEY_LEN, MAX_RANGE_LIMIT, MAX_RETURN_LEN, MAX_VALUE_LEN};
use crate::types::{is_valid_error_code, Address, Env, InteropAck, NotaryRecord};
use crate::Ctx;

/// Most events per transaction (`meridian_types::MAX_EVENTS_PER_TX`).
pub const MAX_EVENTS_PER_TX: usize = 64;
/// Largest event payload (`meridian_types::MAX_EVENT_DATA_LEN`).
pub const MAX_EVENT_DATA_LEN: usize = 4 * 1024;
/// Longest event kind in a receipt (`meridian_types::MAX_NAME_LEN`).
pub const MAX_EVENT_KIND_LEN: usize = 32;

/// Contract names the chain reserves (§1).
pub const RESERVED_NAMES: [&str; 7] = [
    "bank", "notary", "identity", "contract", "auth", "chain", "system",
];

/// `true` if `kind` is a valid event kind (the contract's part: 1..=32 bytes of `[a-z0-9_]`).
pub fn is_valid_event_kind(kind: &str) -> bool {
    is_valid_error_code(kind) && kind.len() <= MAX_EVENT_KIND_LEN
}

/// `true` if `name` is a valid contract name (§1).
pub fn is_valid_contract_name(name: &str) -> bool {
    is_valid_error_code(name)
        && name.as_bytes()[0].is_ascii_lowercase()
        && !RESERVED_NAMES.contains(&name)
}

/// A deterministic test address: the first 20 bytes of SHA-256(`label`).
pub fn addr(label: &str) -> Address {
    let h = HashSuite::Sha256.hash(label.as_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[..20]);
    Address(a)
}

/// The chain's hash suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HashSuite {
    /// International suite.
    #[default]
    Sha256,
    /// Chinese national suite.
    Sm3,
}

impl HashSuite {
    /// The suite hash of `data`.
    pub fn hash(self, data: &[u8]) -> [u8; 32] {
        match self {
            HashSuite::Sha256 => <sha2::Sha256 as sha2::Digest>::digest(data).into(),
            HashSuite::Sm3 => <sm3::Sm3 as sm3::Digest>::digest(data).into(),
        }
    }

    /// A contract's account address (§1).
    pub fn contract_address(self, name: &str) -> Address {
        let mut pre = b"meridian/contract/".to_vec();
        pre.extend_from_slice(name.as_bytes());
        let h = self.hash(&pre);
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[..20]);
        Address(a)
    }
}

/// Which entry point to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// `instantiate`.
    Instantiate,
    /// `execute`.
    Execute,
    /// `query` (read-only).
    Query,
    /// `migrate`.
    Migrate,
    /// `interop_ack`.
    InteropAck,
}

impl EntryKind {
    fn pick(self, e: &EntryPoints) -> Option<fn() -> i32> {
        match self {
            EntryKind::Instantiate => e.instantiate,
            EntryKind::Execute => e.execute,
            EntryKind::Query => e.query,
            EntryKind::Migrate => e.migrate,
            EntryKind::InteropAck => e.interop_ack,
        }
    }

    fn export_name(self) -> &'static str {
        match self {
            EntryKind::Instantiate => "instantiate",
            EntryKind::Execute => "execute",
            EntryKind::Query => "query",
            EntryKind::Migrate => "migrate",
            EntryKind::InteropAck => "interop_ack",
        }
    }
}

/// An emitted event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockEvent {
    /// Always `contract`.
    pub module: String,
    /// `<contract name>.<kind>`.
    pub kind: String,
    /// The payload.
    pub data: Vec<u8>,
}

impl MockEvent {
    /// The payload as JSON.
    ///
    /// # Panics
    /// If it does not decode as `T`.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.data)
            .unwrap_or_else(|e| panic!("event {} data is not the expected JSON: {e}", self.kind))
    }
}

/// A bank transfer made by a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankTransfer {
    /// The contract's account.
    pub from: Address,
    /// Recipient.
    pub to: Address,
    /// Asset symbol.
    pub asset: String,
    /// Amount.
    pub amount: u128,
}

/// A cross-chain call a contract sent with `interop_send`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteropSent {
    /// The sending contract.
    pub source: String,
    /// The channel it was sent on.
    pub channel: String,
    /// The target contract on the other chain.
    pub target: String,
    /// The raw message.
    pub msg: Vec<u8>,
    /// Counterparty timeout height (0 = none).
    pub timeout_height: u64,
    /// Timeout time, ms (0 = none).
    pub timeout_timestamp_ms: u64,
    /// The sequence returned to the contract.
    pub sequence: u64,
}

/// Return data of a successful call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The raw bytes passed to `set_return`.
    pub data: Vec<u8>,
}

impl Response {
    /// The data as JSON.
    ///
    /// # Panics
    /// If it does not decode as `T`.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.data).unwrap_or_else(|e| {
            panic!(
                "response {:?} is not the expected JSON: {e}",
                String::from_utf8_lossy(&self.data)
            )
        })
    }
}

#[derive(Clone)]
struct Contract {
    entry: EntryPoints,
    allow_reentry: bool,
    storage: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// Everything a failed call reverts.
#[derive(Clone, Default)]
struct World {
    contracts: BTreeMap<String, Contract>,
    assets: BTreeSet<String>,
    bank: BTreeMap<(Address, String), u128>,
    events: Vec<MockEvent>,
    transfers: Vec<BankTransfer>,
    interop_sent: Vec<InteropSent>,
    interop_next: BTreeMap<String, u64>,
}

struct Frame {
    contract: String,
    caller: Address,
    caller_is_contract: bool,
    read_only: bool,
    input: Vec<u8>,
    ret: Vec<u8>,
    error: Option<(Vec<u8>, Vec<u8>)>,
}

struct State {
    generation: u64,
    world: World,
    suite: HashSuite,
    chain_id: String,
    height: u64,
    time_ms: u64,
    tx_hash: [u8; 32],
    caller: Address,
    caller_org: String,
    caller_cert_id: Option<[u8; 32]>,
    caller_roles: Vec<String>,
    notary: BTreeMap<[u8; 32], NotaryRecord>,
    signatures: BTreeSet<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    frames: Vec<Frame>,
    tx_event_base: usize,
    host_fuel: u64,
}

/// A host-side failure: unwinds out of the contract to the frame that runs it.
struct HostAbort(CallError);

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    static GENERATION: Cell<u64> = const { Cell::new(0) };
    /// > 0 while an entry point runs (its panics are reported as traps, not printed).
    static ENTRY_DEPTH: Cell<u32> = const { Cell::new(0) };
}

fn install_panic_hook() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let prev = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if ENTRY_DEPTH.with(Cell::get) > 0 {
                return; // reported as a CallError by the frame
            }
            if let Some(HostAbort(e)) = info.payload().downcast_ref::<HostAbort>() {
                eprintln!("mock host error outside an entry point: {e}");
            }
            prev(info)
        }));
    });
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let s = s
            .as_mut()
            .expect("no MockHost on this thread: create one with testing::MockHost::new");
        f(s)
    })
}

fn host_fail(code: &str, message: impl Into<String>) -> ! {
    panic::panic_any(HostAbort(CallError::new(code, message)))
}

/// Runs `f` on the current frame; host errors unwind after the state borrow is released.
fn in_frame<R>(f: impl FnOnce(&mut State) -> Result<R, CallError>) -> R {
    match with_state(|s| {
        if s.frames.is_empty() {
            return Err(CallError::new(
                "mock.no_call",
                "host function called outside a MockHost call (use MockHost::with_ctx)",
            ));
        }
        f(s)
    }) {
        Ok(r) => r,
        Err(e) => panic::panic_any(HostAbort(e)),
    }
}

impl State {
    fn frame(&self) -> &Frame {
        self.frames.last().expect("frame")
    }
    fn frame_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("frame")
    }
    fn charge(&mut self, fuel: u64) {
        self.host_fuel = self.host_fuel.saturating_add(fuel);
    }
    fn storage(&mut self) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
        let name = self.frame().contract.clone();
        &mut self
            .world
            .contracts
            .get_mut(&name)
            .expect("contract")
            .storage
    }
    fn writable(&self) -> Result<(), CallError> {
        if self.frame().read_only {
            Err(CallError::new(
                "contract.read_only",
                "writes are refused in a query",
            ))
        } else {
            Ok(())
        }
    }
    fn env(&self) -> Env {
        let f = self.frame();
        let top = !f.caller_is_contract;
        Env {
            chain_id: self.chain_id.clone(),
            height: self.height,
            time_ms: self.time_ms,
            tx_hash: self.tx_hash,
            contract: f.contract.clone(),
            contract_address: self.suite.contract_address(&f.contract),
            caller: f.caller,
            caller_is_contract: f.caller_is_contract,
            caller_org: if top {
                self.caller_org.clone()
            } else {
                String::new()
            },
            caller_cert_id: if top { self.caller_cert_id } else { None },
            caller_roles: if top {
                self.caller_roles.clone()
            } else {
                Vec::new()
            },
        }
    }
}

fn check_key(key: &[u8]) -> Result<(), CallError> {
    if key.len() > MAX_KEY_LEN {
        return Err(CallError::new(
            "contract.trap",
            format!("storage key of {} bytes is over {MAX_KEY_LEN}", key.len()),
        ));
    }
    Ok(())
}

fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Runs `contract`'s entry point `kind` in a new frame; reverts the world on failure.
fn run_frame(
    contract: &str,
    kind: EntryKind,
    input: Vec<u8>,
    caller: Address,
    caller_is_contract: bool,
    read_only: bool,
) -> Result<Vec<u8>, CallError> {
    let (entry, snapshot) = with_state(|s| {
        let c = s.world.contracts.get(contract).ok_or_else(|| {
            CallError::new("contract.not_found", format!("no contract {contract:?}"))
        })?;
        let f = kind.pick(&c.entry).ok_or_else(|| {
            CallError::new(
                "contract.bad_code",
                format!("contract {contract} has no `{}` export", kind.export_name()),
            )
        })?;
        Ok::<_, CallError>((f, s.world.clone()))
    })?;
    with_state(|s| {
        s.frames.push(Frame {
            contract: contract.to_string(),
            caller,
            caller_is_contract,
            read_only,
            input,
            ret: Vec::new(),
            error: None,
        })
    });
    ENTRY_DEPTH.with(|d| d.set(d.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(entry));
    ENTRY_DEPTH.with(|d| d.set(d.get() - 1));
    let frame = with_state(|s| s.frames.pop().expect("frame"));
    let result = match outcome {
        Ok(0) => Ok(frame.ret),
        Ok(1) => Err(match frame.error {
            Some((code, message)) => {
                let message = String::from_utf8_lossy(&message).into_owned();
                match std::str::from_utf8(&code) {
                    Ok(c) if is_valid_error_code(c) => {
                        CallError::new(format!("{contract}.{c}"), message)
                    }
                    _ => CallError::new(
                        "contract.bad_error",
                        format!(
                            "invalid error code {:?}: {message}",
                            String::from_utf8_lossy(&code)
                        ),
                    ),
                }
            }
            None => CallError::new("contract.trap", "entry point returned 1 without set_error"),
        }),
        Ok(n) => Err(CallError::new(
            "contract.trap",
            format!("entry point returned {n}"),
        )),
        Err(payload) => Err(match payload.downcast::<HostAbort>() {
            Ok(h) => h.0,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".to_string());
                CallError::new("contract.trap", msg)
            }
        }),
    };
    if result.is_err() {
        with_state(|s| s.world = snapshot);
    }
    result
}

/// The native implementation of [`crate::sys`]. Same signatures as on wasm32.
pub(crate) mod host {
    use super::*;

    /// The entry point's input message.
    pub fn input() -> Vec<u8> {
        in_frame(|s| {
            let input = s.frame().input.clone();
            s.charge(200 + len64(input.len()));
            Ok(input)
        })
    }

    /// Result data of a successful call.
    pub fn set_return(data: &[u8]) {
        in_frame(|s| {
            s.charge(100 + len64(data.len()));
            if data.len() > MAX_RETURN_LEN {
                return Err(CallError::new(
                    "contract.return_too_large",
                    format!("return data of {} bytes", data.len()),
                ));
            }
            s.frame_mut().ret = data.to_vec();
            Ok(())
        })
    }

    /// Typed error; the entry point then returns 1.
    pub fn set_error(code: &[u8], message: &[u8]) {
        in_frame(|s| {
            s.charge(100 + len64(code.len() + message.len()));
            if code.len() + message.len() > MAX_RETURN_LEN {
                return Err(CallError::new(
                    "contract.return_too_large",
                    format!("error data of {} bytes", code.len() + message.len()),
                ));
            }
            s.frame_mut().error = Some((code.to_vec(), message.to_vec()));
            Ok(())
        })
    }

    /// The encoded `Env`.
    pub fn env() -> Vec<u8> {
        in_frame(|s| {
            let e = enc::encode_env(&s.env());
            s.charge(200 + len64(e.len()));
            Ok(e)
        })
    }

    /// The value under `key`, if any.
    pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
        in_frame(|s| {
            check_key(key)?;
            let v = s.storage().get(key).cloned();
            let vl = len64(v.as_ref().map_or(0, Vec::len));
            s.charge(100 + 200 + len64(key.len()) + vl);
            if v.is_some() {
                s.charge(100 + vl);
            }
            Ok(v)
        })
    }

    /// Writes `key` = `value`.
    pub fn storage_set(key: &[u8], value: &[u8]) {
        in_frame(|s| {
            s.charge(100 + 1000 + 10 * len64(key.len() + value.len()));
            s.writable()?;
            check_key(key)?;
            if value.len() > MAX_VALUE_LEN {
                return Err(CallError::new(
                    "contract.trap",
                    format!("storage value of {} bytes is over 64 KiB", value.len()),
                ));
            }
            s.storage().insert(key.to_vec(), value.to_vec());
            Ok(())
        })
    }

    /// Deletes `key`.
    pub fn storage_remove(key: &[u8]) {
        in_frame(|s| {
            s.charge(100 + 500 + len64(key.len()));
            s.writable()?;
            check_key(key)?;
            s.storage().remove(key);
            Ok(())
        })
    }

    /// Encoded `Entries` with `start <= key < end` (`end` empty: unbounded).
    pub fn storage_range(start: &[u8], end: &[u8], limit: u32, descending: bool) -> Vec<u8> {
        in_frame(|s| {
            check_key(start)?;
            check_key(end)?;
            // The host clamps the limit.
            let limit = limit.min(MAX_RANGE_LIMIT) as usize;
            let store = s.storage();
            let entries: Vec<RawEntry> = if !end.is_empty() && end <= start {
                Vec::new()
            } else {
                use std::ops::Bound::{Excluded, Included, Unbounded};
                let upper = if end.is_empty() {
                    Unbounded
                } else {
                    Excluded(end.to_vec())
                };
                let it = store.range::<Vec<u8>, _>((Included(start.to_vec()), upper));
                if descending {
                    it.rev()
                        .take(limit)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                } else {
                    it.take(limit)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                }
            };
            let out = enc::encode_entries(&entries);
            s.charge(100 + 500 + 100 * len64(entries.len()) + len64(out.len()));
            s.charge(100 + len64(out.len()));
            Ok(out)
        })
    }

    /// Emits event `kind` with `data`.
    pub fn emit_event(kind: &[u8], data: &[u8]) {
        in_frame(|s| {
            s.charge(100 + 200 + 2 * len64(kind.len() + data.len()));
            s.writable()?;
            let kind = std::str::from_utf8(kind)
                .map_err(|_| CallError::new("contract.trap", "event kind is not UTF-8"))?;
            if !is_valid_event_kind(kind) {
                return Err(CallError::new(
                    "contract.bad_event",
                    "an event kind is 1..=32 bytes of [a-z0-9_]",
                ));
            }
            if s.world.events.len() - s.tx_event_base >= MAX_EVENTS_PER_TX
                || data.len() > MAX_EVENT_DATA_LEN
            {
                return Err(CallError::new("tx.too_many_events", "event limit exceeded"));
            }
            let full = format!("{}.{kind}", s.frame().contract);
            s.world.events.push(MockEvent {
                module: "contract".into(),
                kind: full,
                data: data.to_vec(),
            });
            Ok(())
        })
    }

    /// The suite hash of `data`.
    pub fn hash(data: &[u8]) -> [u8; 32] {
        in_frame(|s| {
            s.charge(100 + 100 + len64(data.len()));
            Ok(s.suite.hash(data))
        })
    }

    /// `true` if (`pk`, `msg`, `sig`) was registered with [`MockHost::accept_signature`].
    pub fn verify_signature(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        in_frame(|s| {
            s.charge(100 + 20_000);
            Ok(s.signatures
                .contains(&(pk.to_vec(), msg.to_vec(), sig.to_vec())))
        })
    }

    /// Runs contract `name`'s `execute`: `Ok(return data)` or `Err(encoded CallError)`.
    pub fn call_contract(name: &[u8], msg: &[u8], _fuel: u64) -> Result<Vec<u8>, Vec<u8>> {
        let prepared = in_frame(|s| {
            s.charge(100 + 5000 + len64(msg.len()));
            s.writable()?;
            let me = s.frame();
            let (caller, read_only) = (s.suite.contract_address(&me.contract), me.read_only);
            let Ok(name) = std::str::from_utf8(name) else {
                return Ok(Err(CallError::new("contract.not_found", "bad name")));
            };
            let Some(callee) = s.world.contracts.get(name) else {
                return Ok(Err(CallError::new(
                    "contract.not_found",
                    format!("no contract {name:?}"),
                )));
            };
            if s.frames.len() >= MAX_CALL_DEPTH {
                return Ok(Err(CallError::new(
                    "contract.call_depth",
                    format!("call depth is over {MAX_CALL_DEPTH}"),
                )));
            }
            if !callee.allow_reentry && s.frames.iter().any(|f| f.contract == name) {
                return Ok(Err(CallError::new(
                    "contract.reentrancy",
                    format!("{name} is already on the call stack"),
                )));
            }
            Ok(Ok((name.to_string(), caller, read_only)))
        });
        let result = prepared.and_then(|(name, caller, read_only)| {
            run_frame(
                &name,
                EntryKind::Execute,
                msg.to_vec(),
                caller,
                true,
                read_only,
            )
        });
        let out = match result {
            Ok(data) => Ok(data),
            Err(e) => Err(enc::encode_call_error(&e)),
        };
        // The wasm SDK then asks `buffer_len` and copies the buffer with `buffer_read`.
        with_state(|s| s.charge(100 + 100 + len64(out.as_ref().map_or_else(Vec::len, Vec::len))));
        out
    }

    /// Transfers from the current contract's account.
    pub fn bank_transfer(to: &[u8; 20], asset: &[u8], amount: u128) -> Result<(), Vec<u8>> {
        in_frame(|s| {
            s.charge(100 + 5000);
            s.writable()?;
            let from = s.suite.contract_address(&s.frame().contract);
            let to = Address(*to);
            let r = (|| {
                let asset = std::str::from_utf8(asset)
                    .ok()
                    .filter(|a| s.world.assets.contains(*a))
                    .ok_or_else(|| {
                        CallError::new(
                            "bank.unknown_asset",
                            format!("unknown asset {:?}", String::from_utf8_lossy(asset)),
                        )
                    })?
                    .to_string();
                if amount == 0 {
                    return Err(CallError::new(
                        "bank.invalid_amount",
                        "amount must be positive",
                    ));
                }
                let bal = s
                    .world
                    .bank
                    .get(&(from, asset.clone()))
                    .copied()
                    .unwrap_or(0);
                let rest = bal.checked_sub(amount).ok_or_else(|| {
                    CallError::new(
                        "bank.insufficient_balance",
                        format!("balance {bal} is below {amount}"),
                    )
                })?;
                s.world.bank.insert((from, asset.clone()), rest);
                let to_bal = s.world.bank.entry((to, asset.clone())).or_insert(0);
                *to_bal = to_bal
                    .checked_add(amount)
                    .ok_or_else(|| CallError::new("bank.corrupt_state", "balance overflows"))?;
                s.world.transfers.push(BankTransfer {
                    from,
                    to,
                    asset,
                    amount,
                });
                Ok(())
            })();
            Ok(r.map_err(|e| {
                let b = enc::encode_call_error(&e);
                // `buffer_len`, then `buffer_read` of the CallError.
                s.charge(100 + 100 + len64(b.len()));
                b
            }))
        })
    }

    /// Records a cross-chain call from the current contract.
    pub fn interop_send(
        channel: &[u8],
        target: &[u8],
        msg: &[u8],
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    ) -> Result<u64, Vec<u8>> {
        in_frame(|s| {
            s.charge(100 + 10_000 + len64(msg.len()));
            s.writable()?;
            let channel = String::from_utf8_lossy(channel).into_owned();
            let next = s.world.interop_next.entry(channel.clone()).or_insert(1);
            let sequence = *next;
            *next += 1;
            let source = s.frame().contract.clone();
            s.world.interop_sent.push(InteropSent {
                source,
                channel,
                target: String::from_utf8_lossy(target).into_owned(),
                msg: msg.to_vec(),
                timeout_height,
                timeout_timestamp_ms,
                sequence,
            });
            // `buffer_len`, then `buffer_read` of the 8-byte sequence.
            s.charge(100 + 100 + 8);
            Ok(Ok(sequence))
        })
    }

    /// Balance of `addr` in `asset`.
    pub fn bank_balance(addr: &[u8; 20], asset: &[u8]) -> u128 {
        in_frame(|s| {
            s.charge(100 + 1000);
            let asset = String::from_utf8_lossy(asset).into_owned();
            Ok(s.world
                .bank
                .get(&(Address(*addr), asset))
                .copied()
                .unwrap_or(0))
        })
    }

    /// The encoded `NotaryRecord` of the document hash, if any.
    pub fn notary_get(hash: &[u8; 32]) -> Option<Vec<u8>> {
        in_frame(|s| {
            s.charge(100 + 1000);
            let r = s.notary.get(hash).map(enc::encode_notary_record);
            if let Some(b) = &r {
                s.charge(100 + len64(b.len()));
            }
            Ok(r)
        })
    }

    /// Traps with `msg` (→ `contract.trap`).
    pub fn abort(msg: &str) -> ! {
        host_fail("contract.trap", msg)
    }
}

/// A native chain stand-in for contract unit tests. Creating one installs a fresh mock host
/// on the current thread (each `#[test]` runs on its own thread); dropping it removes it.
///
/// The contract under test is registered under `name` with its
/// [`ENTRY_POINTS`](crate::entry!); [`register_contract`](MockHost::register_contract) adds
/// others for nested calls. Calls run with the caller, org, roles and block set here.
pub struct MockHost {
    name: String,
    generation: u64,
}

impl MockHost {
    /// A host with contract `name` (must be a valid contract name, §1) and no state.
    /// Defaults: chain id `meridian-test`, height 1, time 1,700,000,000,000 ms, caller
    /// `addr("caller")` with no org, cert or roles, SHA-256 suite.
    ///
    /// # Panics
    /// If `name` is not a valid contract name.
    pub fn new(name: &str, entry: EntryPoints) -> Self {
        install_panic_hook();
        assert!(
            is_valid_contract_name(name),
            "invalid contract name {name:?}"
        );
        let generation = GENERATION.with(|g| {
            g.set(g.get() + 1);
            g.get()
        });
        let mut world = World::default();
        world.contracts.insert(
            name.to_string(),
            Contract {
                entry,
                allow_reentry: false,
                storage: BTreeMap::new(),
            },
        );
        let state = State {
            generation,
            world,
            suite: HashSuite::Sha256,
            chain_id: "meridian-test".into(),
            height: 1,
            time_ms: 1_700_000_000_000,
            tx_hash: [0; 32],
            caller: addr("caller"),
            caller_org: String::new(),
            caller_cert_id: None,
            caller_roles: Vec::new(),
            notary: BTreeMap::new(),
            signatures: BTreeSet::new(),
            frames: Vec::new(),
            tx_event_base: 0,
            host_fuel: 0,
        };
        STATE.with(|s| *s.borrow_mut() = Some(state));
        MockHost {
            name: name.to_string(),
            generation,
        }
    }

    fn state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        with_state(|s| {
            assert_eq!(
                s.generation, self.generation,
                "another MockHost replaced this one on this thread"
            );
            f(s)
        })
    }

    /// The contract under test.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its account address.
    pub fn address(&self) -> Address {
        self.contract_address(&self.name)
    }

    /// The account address of contract `name` under the current suite.
    pub fn contract_address(&self, name: &str) -> Address {
        self.state(|s| s.suite.contract_address(name))
    }

    /// Switches the hash suite (changes contract addresses and `Ctx::hash`).
    pub fn set_hash_suite(&mut self, suite: HashSuite) {
        self.state(|s| s.suite = suite)
    }

    /// Sets the chain id.
    pub fn set_chain_id(&mut self, chain_id: &str) {
        self.state(|s| s.chain_id = chain_id.to_string())
    }

    /// Sets block height and time.
    pub fn set_block(&mut self, height: u64, time_ms: u64) {
        self.state(|s| {
            s.height = height;
            s.time_ms = time_ms;
        })
    }

    /// Sets the transaction hash of the next calls.
    pub fn set_tx_hash(&mut self, tx_hash: [u8; 32]) {
        self.state(|s| s.tx_hash = tx_hash)
    }

    /// Sets the signer of the next calls (keeps org, cert and roles).
    pub fn set_caller(&mut self, caller: Address) {
        self.state(|s| s.caller = caller)
    }

    /// Sets the signer's org, certificate id and roles.
    pub fn set_caller_identity(&mut self, org: &str, cert_id: Option<[u8; 32]>, roles: &[&str]) {
        self.state(|s| {
            s.caller_org = org.to_string();
            s.caller_cert_id = cert_id;
            s.caller_roles = roles.iter().map(|r| r.to_string()).collect();
        })
    }

    /// Registers another contract (for nested calls) with empty storage.
    ///
    /// # Panics
    /// If `name` is invalid or taken.
    pub fn register_contract(
        &mut self,
        name: &str,
        entry: EntryPoints,
        allow_reentry: bool,
    ) -> Address {
        assert!(
            is_valid_contract_name(name),
            "invalid contract name {name:?}"
        );
        self.state(|s| {
            assert!(
                !s.world.contracts.contains_key(name),
                "contract {name} exists"
            );
            s.world.contracts.insert(
                name.to_string(),
                Contract {
                    entry,
                    allow_reentry,
                    storage: BTreeMap::new(),
                },
            );
        });
        self.contract_address(name)
    }

    /// Sets whether contract `name` may be re-entered.
    pub fn set_allow_reentry(&mut self, name: &str, allow: bool) {
        self.state(|s| {
            s.world
                .contracts
                .get_mut(name)
                .expect("unknown contract")
                .allow_reentry = allow
        })
    }

    /// Runs entry point `kind` of `contract` with raw `input`, as a top-level call by the
    /// current caller. Queries are read-only.
    pub fn call(
        &mut self,
        contract: &str,
        kind: EntryKind,
        input: &[u8],
    ) -> Result<Response, CallError> {
        self.run(contract, kind, input.to_vec())
    }

    fn run(&self, contract: &str, kind: EntryKind, input: Vec<u8>) -> Result<Response, CallError> {
        let caller = self.state(|s| {
            assert!(s.frames.is_empty(), "MockHost call during another call");
            s.tx_event_base = s.world.events.len();
            s.caller
        });
        run_frame(
            contract,
            kind,
            input,
            caller,
            false,
            kind == EntryKind::Query,
        )
        .map(|data| Response { data })
    }

    fn json(msg: &(impl Serialize + ?Sized)) -> Vec<u8> {
        serde_json::to_vec(msg).expect("message serializes")
    }

    /// Runs `instantiate` with `msg` as JSON.
    pub fn instantiate(&mut self, msg: &(impl Serialize + ?Sized)) -> Result<Response, CallError> {
        self.run(&self.name, EntryKind::Instantiate, Self::json(msg))
    }

    /// Runs `execute` with `msg` as JSON.
    pub fn execute(&mut self, msg: &(impl Serialize + ?Sized)) -> Result<Response, CallError> {
        self.run(&self.name, EntryKind::Execute, Self::json(msg))
    }

    /// Runs `migrate` with `msg` as JSON.
    pub fn migrate(&mut self, msg: &(impl Serialize + ?Sized)) -> Result<Response, CallError> {
        self.run(&self.name, EntryKind::Migrate, Self::json(msg))
    }

    /// Runs `query` (read-only) with `msg` as JSON and decodes the JSON response.
    ///
    /// # Panics
    /// If a successful response does not decode as `R`.
    #[track_caller]
    pub fn query<R: DeserializeOwned>(
        &self,
        msg: &(impl Serialize + ?Sized),
    ) -> Result<R, CallError> {
        self.run(&self.name, EntryKind::Query, Self::json(msg))
            .map(|r| r.json())
    }

    /// Runs `f` with a `Ctx` of the contract under test, outside any entry point: for
    /// setting up or inspecting state through `Item`/`Map`. Writes are kept; host errors and
    /// panics propagate to the test.
    pub fn with_ctx<T>(&mut self, f: impl FnOnce(&mut Ctx) -> T) -> T {
        self.ctx_frame(false, |ctx| f(ctx))
    }

    /// [`MockHost::with_ctx`], read-only (writes fail with `contract.read_only`).
    pub fn with_query_ctx<T>(&self, f: impl FnOnce(&Ctx) -> T) -> T {
        self.ctx_frame(true, |ctx| f(ctx))
    }

    fn ctx_frame<T>(&self, read_only: bool, f: impl FnOnce(&mut Ctx) -> T) -> T {
        struct Pop;
        impl Drop for Pop {
            fn drop(&mut self) {
                STATE.with(|s| {
                    if let Ok(mut s) = s.try_borrow_mut() {
                        if let Some(s) = s.as_mut() {
                            s.frames.pop();
                        }
                    }
                });
            }
        }
        self.state(|s| {
            assert!(s.frames.is_empty(), "with_ctx during another call");
            s.tx_event_base = s.world.events.len();
            let caller = s.caller;
            s.frames.push(Frame {
                contract: self.name.clone(),
                caller,
                caller_is_contract: false,
                read_only,
                input: Vec::new(),
                ret: Vec::new(),
                error: None,
            });
        });
        let _pop = Pop;
        f(&mut Ctx::__new())
    }

    /// The env a top-level call of the contract under test sees.
    pub fn env(&self) -> Env {
        let name = self.name.clone();
        self.with_query_ctx(|ctx| {
            let e = ctx.env().clone();
            debug_assert_eq!(e.contract, name);
            e
        })
    }

    /// Raw storage of the contract under test: `key`'s value.
    pub fn storage_get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.contract_storage(&self.name)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Pre-loads raw storage of the contract under test (no size checks).
    pub fn storage_set(&mut self, key: &[u8], value: &[u8]) {
        let name = self.name.clone();
        self.state(|s| {
            s.world
                .contracts
                .get_mut(&name)
                .expect("contract")
                .storage
                .insert(key.to_vec(), value.to_vec());
        })
    }

    /// All storage entries of the contract under test, in key order.
    pub fn storage(&self) -> Vec<RawEntry> {
        self.contract_storage(&self.name)
    }

    /// All storage entries of contract `name`, in key order.
    pub fn contract_storage(&self, name: &str) -> Vec<RawEntry> {
        self.state(|s| {
            s.world
                .contracts
                .get(name)
                .map(|c| {
                    c.storage
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Every event emitted so far (by successful calls), oldest first.
    pub fn events(&self) -> Vec<MockEvent> {
        self.state(|s| s.world.events.clone())
    }

    /// Returns and clears the events.
    pub fn take_events(&mut self) -> Vec<MockEvent> {
        self.state(|s| std::mem::take(&mut s.world.events))
    }

    /// Sets `addr`'s balance of `asset` (and makes `asset` a known asset).
    pub fn set_balance(&mut self, addr: Address, asset: &str, amount: u128) {
        self.state(|s| {
            s.world.assets.insert(asset.to_string());
            s.world.bank.insert((addr, asset.to_string()), amount);
        })
    }

    /// `addr`'s balance of `asset`.
    pub fn balance(&self, addr: Address, asset: &str) -> u128 {
        self.state(|s| {
            s.world
                .bank
                .get(&(addr, asset.to_string()))
                .copied()
                .unwrap_or(0)
        })
    }

    /// Bank transfers made by contracts so far (by successful calls).
    pub fn transfers(&self) -> Vec<BankTransfer> {
        self.state(|s| s.world.transfers.clone())
    }

    /// Cross-chain calls sent by contracts so far (by successful calls).
    pub fn interop_sent(&self) -> Vec<InteropSent> {
        self.state(|s| s.world.interop_sent.clone())
    }

    /// Delivers the outcome of a cross-chain call to the contract under test's `interop_ack`
    /// entry point, as the chain's interop module does (the caller is `addr("interop")`).
    pub fn interop_ack(&mut self, ack: &InteropAck) -> Result<Response, CallError> {
        let caller = self.state(|s| {
            assert!(s.frames.is_empty(), "MockHost call during another call");
            s.tx_event_base = s.world.events.len();
            addr("interop")
        });
        run_frame(
            &self.name,
            EntryKind::InteropAck,
            enc::encode_interop_ack(ack),
            caller,
            false,
            false,
        )
        .map(|data| Response { data })
    }

    /// Registers a notary record for a document hash.
    pub fn set_notary(&mut self, hash: [u8; 32], record: NotaryRecord) {
        self.state(|s| {
            s.notary.insert(hash, record);
        })
    }

    /// Makes `verify_signature(pk, msg, sig)` return true.
    pub fn accept_signature(&mut self, pk: &[u8], msg: &[u8], sig: &[u8]) {
        self.state(|s| {
            s.signatures
                .insert((pk.to_vec(), msg.to_vec(), sig.to_vec()));
        })
    }

    /// Host-call fuel charged so far per the §5 table (base + per-call costs, including the
    /// `buffer_len`/`buffer_read`/`input_read` calls the wasm SDK makes). Excludes wasm instruction fuel.
    pub fn host_fuel(&self) -> u64 {
        self.state(|s| s.host_fuel)
    }
}

impl Drop for MockHost {
    fn drop(&mut self) {
        let _ = STATE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.as_ref().is_some_and(|s| s.generation == self.generation) {
                    *s = None;
                }
            }
        });
    }
}
