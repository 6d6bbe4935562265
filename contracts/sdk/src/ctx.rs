//! [`Ctx`]: the handle a contract handler works through.

use std::cell::OnceCell;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec;

/// A raw storage entry: (key, value).
pub type RawEntry = (Vec<u8>, Vec<u8>);
use crate::error::{codes, CallError, ContractError};
use crate::limits::MAX_RANGE_LIMIT;
use crate::sys;
use crate::types::{Address, Env, NotaryRecord, Order};

/// The current call's context. Instantiate, execute and migrate handlers get `&mut Ctx`;
/// query handlers get `&Ctx`, so everything that writes (storage writes, events, nested
/// calls, bank transfers) takes `&mut self`. (The host refuses writes in queries anyway.)
pub struct Ctx {
    env: OnceCell<Env>,
}

/// Host data failed to decode: a host bug; trap.
fn host_bug(what: &str, e: codec::DecodeError) -> ! {
    sys::abort(&format!(
        "meridian sdk: undecodable host data ({what}: {})",
        e.0
    ))
}

impl Ctx {
    /// For the generated entry points and the mock host only.
    #[doc(hidden)]
    pub fn __new() -> Self {
        Ctx {
            env: OnceCell::new(),
        }
    }

    /// The call's environment (§7), fetched from the host on first use.
    pub fn env(&self) -> &Env {
        self.env
            .get_or_init(|| codec::decode_env(&sys::env()).unwrap_or_else(|e| host_bug("env", e)))
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        sys::storage_get(key)
    }

    /// Stores `value` under `key` (key ≤ 256 bytes, value ≤ 64 KiB, else the host fails the
    /// call).
    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        sys::storage_set(key, value)
    }

    /// Deletes `key`.
    pub fn remove(&mut self, key: &[u8]) {
        sys::storage_remove(key)
    }

    /// One host range call: entries with `start <= key < end` (`end = None`: no upper bound),
    /// at most `limit` of them (clamped to 100, the host's cap).
    pub fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: u32,
        order: Order,
    ) -> Vec<RawEntry> {
        let limit = limit.min(MAX_RANGE_LIMIT);
        if limit == 0 || end.is_some_and(|e| e <= start) {
            return Vec::new();
        }
        let raw = sys::storage_range(start, end.unwrap_or(&[]), limit, order == Order::Descending);
        codec::decode_entries(&raw).unwrap_or_else(|e| host_bug("range", e))
    }

    /// Every entry with `start <= key < end`, fetched lazily in pages of `page` (≤ 100)
    /// entries. Each page is one host call (§5 `storage_range` fuel).
    pub fn range_iter(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        order: Order,
        page: u32,
    ) -> RangeIter<'_> {
        RangeIter {
            ctx: self,
            start: start.to_vec(),
            end: end.map(<[u8]>::to_vec),
            order,
            page: page.clamp(1, MAX_RANGE_LIMIT),
            buf: Vec::new().into_iter(),
            done: false,
        }
    }

    /// Emits event `kind` (the chain names it `<contract>.<kind>`) with `data` as JSON.
    pub fn emit(&mut self, kind: &str, data: &impl Serialize) -> Result<(), ContractError> {
        let data = serde_json::to_vec(data)
            .map_err(|e| ContractError::new(codes::SERIALIZE, format!("event {kind}: {e}")))?;
        self.emit_raw(kind, &data);
        Ok(())
    }

    /// Emits event `kind` with raw `data`.
    pub fn emit_raw(&mut self, kind: &str, data: &[u8]) {
        sys::emit_event(kind.as_bytes(), data)
    }

    /// The chain suite's hash (SM3 or SHA-256) of `data`.
    pub fn hash(&self, data: &[u8]) -> [u8; 32] {
        sys::hash(data)
    }

    /// `true` if `sig` is a suite signature by public key `pk` over `msg` in the contract
    /// message domain.
    pub fn verify_signature(&self, pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        sys::verify_signature(pk, msg, sig)
    }

    /// The account address of contract `name`: the first 20 bytes of
    /// `H("meridian/contract/" || name)` (§1).
    pub fn contract_address(&self, name: &str) -> Address {
        let mut pre = b"meridian/contract/".to_vec();
        pre.extend_from_slice(name.as_bytes());
        let h = self.hash(&pre);
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[..20]);
        Address(a)
    }

    /// Runs contract `name`'s `execute` with `msg` as JSON and at most `fuel` (0 = all that
    /// remains), decoding its JSON return data. A failure of the callee reverts only the
    /// callee's writes; the caller decides what to do with the [`CallError`] (`?` turns it into
    /// a `call_failed` error). A response that does not decode as `Resp` is a `CallError` with
    /// code `sdk.bad_response` (the callee's writes stand: it succeeded).
    pub fn call_contract<Req: Serialize + ?Sized, Resp: DeserializeOwned>(
        &mut self,
        name: &str,
        msg: &Req,
        fuel: u64,
    ) -> Result<Resp, CallError> {
        let msg = serde_json::to_vec(msg)
            .map_err(|e| CallError::new("sdk.bad_request", e.to_string()))?;
        let data = self.call_contract_raw(name, &msg, fuel)?;
        let data: &[u8] = if data.is_empty() { b"null" } else { &data };
        serde_json::from_slice(data).map_err(|e| CallError::new("sdk.bad_response", e.to_string()))
    }

    /// [`Ctx::call_contract`] with raw message and return bytes.
    pub fn call_contract_raw(
        &mut self,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<Vec<u8>, CallError> {
        sys::call_contract(name.as_bytes(), msg, fuel).map_err(|raw| decode_call_error(&raw))
    }

    /// Transfers `amount` of bank asset `asset` from this contract's account to `to`.
    pub fn bank_transfer(
        &mut self,
        to: Address,
        asset: &str,
        amount: u128,
    ) -> Result<(), CallError> {
        sys::bank_transfer(&to.0, asset.as_bytes(), amount).map_err(|raw| decode_call_error(&raw))
    }

    /// Bank balance of `addr` in `asset`.
    pub fn bank_balance(&self, addr: Address, asset: &str) -> u128 {
        sys::bank_balance(&addr.0, asset.as_bytes())
    }

    /// Sends `msg` (as JSON) to contract `target` on the chain at the other end of interop
    /// channel `channel` (port `contract`), as this contract; returns the packet's sequence.
    /// The target must be allowlisted there by its governance. The outcome comes back later,
    /// in another transaction, to this contract's `interop_ack` entry point
    /// ([`entry!`](crate::entry!)`(interop_ack = …)`) as an [`InteropAck`](crate::InteropAck) with this
    /// sequence. At least one timeout must be set (a counterparty height, or a time in ms);
    /// the call is refused if the channel, its connection or its client cannot be used.
    pub fn interop_send<M: Serialize + ?Sized>(
        &mut self,
        channel: &str,
        target: &str,
        msg: &M,
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    ) -> Result<u64, CallError> {
        let msg = serde_json::to_vec(msg)
            .map_err(|e| CallError::new("sdk.bad_request", e.to_string()))?;
        self.interop_send_raw(channel, target, &msg, timeout_height, timeout_timestamp_ms)
    }

    /// [`Ctx::interop_send`] with a raw message.
    pub fn interop_send_raw(
        &mut self,
        channel: &str,
        target: &str,
        msg: &[u8],
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    ) -> Result<u64, CallError> {
        sys::interop_send(
            channel.as_bytes(),
            target.as_bytes(),
            msg,
            timeout_height,
            timeout_timestamp_ms,
        )
        .map_err(|raw| decode_call_error(&raw))
    }

    /// The notary record of a 32-byte document hash.
    pub fn notary_get(&self, hash: &[u8; 32]) -> Option<NotaryRecord> {
        sys::notary_get(hash)
            .map(|raw| codec::decode_notary_record(&raw).unwrap_or_else(|e| host_bug("notary", e)))
    }
}

/// The smallest valid key (≤ 256 bytes) greater than `key`, `None` if there is none.
pub(crate) fn key_successor(key: &[u8]) -> Option<Vec<u8>> {
    if key.len() < crate::limits::MAX_KEY_LEN {
        let mut next = key.to_vec();
        next.push(0);
        Some(next)
    } else {
        // Nothing extends a maximal key; the next candidate increments it.
        prefix_end(key)
    }
}

/// The smallest key greater than every key starting with `prefix` (`None`: unbounded).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn decode_call_error(raw: &[u8]) -> CallError {
    codec::decode_call_error(raw).unwrap_or_else(|e| host_bug("call error", e))
}

/// Lazily paged range over storage, from [`Ctx::range_iter`].
pub struct RangeIter<'a> {
    ctx: &'a Ctx,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    order: Order,
    page: u32,
    buf: std::vec::IntoIter<RawEntry>,
    done: bool,
}

impl Iterator for RangeIter<'_> {
    type Item = RawEntry;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.buf.next() {
            return Some(e);
        }
        if self.done {
            return None;
        }
        let page = self
            .ctx
            .range(&self.start, self.end.as_deref(), self.page, self.order);
        let full = page.len() == self.page as usize;
        match (page.last(), full) {
            (Some((last, _)), true) => match self.order {
                // Next page starts right after `last`: the smallest key greater than it.
                Order::Ascending => match key_successor(last) {
                    Some(next) => self.start = next,
                    None => self.done = true,
                },
                // Next page ends (exclusively) at `last`.
                Order::Descending => self.end = Some(last.clone()),
            },
            _ => self.done = true,
        }
        self.buf = page.into_iter();
        self.buf.next()
    }
}
