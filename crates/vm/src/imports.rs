//! Host functions of spec §6, registered on a per-run [`Linker`].
//!
//! Every function follows the same order so fuel is a pure function of the arguments:
//! 1. charge [`fuel::BASE`];
//! 2. refuse writes in read-only runs;
//! 3. bounds-check every pointer/length (negative or outside memory ⇒ `bad_pointer`);
//! 4. check size limits;
//! 5. charge the call's own cost (spec §5), before doing the work; costs that depend on the
//!    host's answer (value bytes, range entries) are charged before the answer is handed to
//!    the contract;
//! 6. do the work.
//!
//! A failure is stashed in [`Data::failure`] and the function returns a wasmi error, which
//! unwinds the wasm stack; [`Vm::run`](crate::Vm::run) then reports the stashed error rather
//! than wasmi's.

use std::ops::Range;

use wasmi::{Caller, Linker, Memory, StoreLimits};

use crate::{
    abi::{encode_entries, CallError, IMPORT_MODULE},
    error::bounded,
    fuel, Host, HostError, Vm, VmError, VmLimits,
};

/// Store data of one run.
pub(crate) struct Data<'a> {
    pub host: &'a mut dyn Host,
    pub vm: &'a Vm,
    pub input: &'a [u8],
    pub read_only: bool,
    /// The instance's `memory` export; set right after instantiation.
    pub memory: Option<Memory>,
    /// The host-side return buffer read by `buffer_read`.
    pub buffer: Vec<u8>,
    /// Data passed to `set_return`.
    pub ret: Vec<u8>,
    /// Raw (code, message) passed to `set_error`; validated when the entry returns 1.
    pub error: Option<(Vec<u8>, Vec<u8>)>,
    /// Why a host function aborted the run.
    pub failure: Option<VmError>,
    pub store_limits: StoreLimits,
}

type HostResult<T> = Result<T, wasmi::Error>;
type Ctx<'c, 'a> = Caller<'c, Data<'a>>;

fn limits<'v>(caller: &Ctx<'_, 'v>) -> &'v VmLimits {
    caller.data().vm.limits()
}

/// Runs `body`, turning a [`VmError`] into a stashed failure plus a wasmi error.
fn guard<T>(
    caller: &mut Ctx<'_, '_>,
    body: impl FnOnce(&mut Ctx<'_, '_>) -> Result<T, VmError>,
) -> HostResult<T> {
    match body(caller) {
        Ok(v) => Ok(v),
        Err(e) => {
            let code = e.code().into_owned();
            caller.data_mut().failure = Some(e);
            Err(wasmi::Error::new(code))
        }
    }
}

/// Takes `amount` fuel; out of fuel empties the tank and fails the run.
fn charge(caller: &mut Ctx<'_, '_>, amount: u64) -> Result<(), VmError> {
    // Fuel metering is always on for the VM's engine, so get/set cannot fail.
    let available = caller.get_fuel().map_err(|_| VmError::OutOfFuel)?;
    match available.checked_sub(amount) {
        Some(left) => caller.set_fuel(left).map_err(|_| VmError::OutOfFuel),
        None => {
            let _ = caller.set_fuel(0);
            Err(VmError::OutOfFuel)
        }
    }
}

fn base(caller: &mut Ctx<'_, '_>) -> Result<(), VmError> {
    charge(caller, fuel::BASE)
}

fn writable(caller: &Ctx<'_, '_>, function: &'static str) -> Result<(), VmError> {
    if caller.data().read_only {
        return Err(VmError::ReadOnly(function));
    }
    Ok(())
}

fn memory(caller: &Ctx<'_, '_>) -> Result<Memory, VmError> {
    caller
        .data()
        .memory
        .ok_or_else(|| VmError::Trap("host call before the instance's memory is set".into()))
}

/// `[ptr, ptr+len)` if both are non-negative and it lies inside `mem_len` bytes.
pub(crate) fn checked_range(ptr: i32, len: i32, mem_len: usize) -> Result<Range<usize>, VmError> {
    let (Ok(start), Ok(n)) = (usize::try_from(ptr), usize::try_from(len)) else {
        return Err(VmError::BadPointer(format!(
            "negative pointer or length ({ptr}, {len})"
        )));
    };
    match start.checked_add(n) {
        Some(end) if end <= mem_len => Ok(start..end),
        _ => Err(VmError::BadPointer(format!(
            "[{start}, {start}+{n}) is outside memory of {mem_len} bytes"
        ))),
    }
}

/// Bounds-checks `(ptr, len)` against the instance's current memory.
fn region(caller: &Ctx<'_, '_>, ptr: i32, len: i32) -> Result<Range<usize>, VmError> {
    let size = memory(caller)?.data_size(caller);
    checked_range(ptr, len, size)
}

/// Bounds-checks a fixed-size region.
fn fixed_region(caller: &Ctx<'_, '_>, ptr: i32, len: usize) -> Result<Range<usize>, VmError> {
    let len = i32::try_from(len).map_err(|_| VmError::BadPointer("length overflow".into()))?;
    region(caller, ptr, len)
}

/// The memory bytes and the store data, borrowed together (host calls need both).
fn split<'c, 'a>(caller: &'c mut Ctx<'_, 'a>) -> Result<(&'c mut [u8], &'c mut Data<'a>), VmError> {
    let memory = memory(caller)?;
    Ok(memory.data_and_store_mut(caller))
}

fn read(caller: &Ctx<'_, '_>, range: Range<usize>) -> Result<Vec<u8>, VmError> {
    let memory = memory(caller)?;
    Ok(memory.data(caller)[range].to_vec())
}

fn len_i32(len: usize) -> Result<i32, VmError> {
    i32::try_from(len).map_err(|_| VmError::Trap("host data longer than i32::MAX".into()))
}

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, VmError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| VmError::Trap(format!("{what} is not UTF-8")))
}

fn key_limit(caller: &Ctx<'_, '_>, key: &Range<usize>) -> Result<(), VmError> {
    let max = limits(caller).max_key_size;
    if key.len() > max {
        return Err(VmError::Trap(format!(
            "storage key is {} bytes, limit {max}",
            key.len()
        )));
    }
    Ok(())
}

fn host_failure(error: HostError) -> VmError {
    VmError::Host(HostError {
        code: bounded(error.code),
        message: bounded(error.message),
    })
}

/// The encoded [`CallError`] for the return buffer, truncated so the encoding never exceeds
/// `max` bytes. A status-returning call reports no length for its buffer: contracts ask
/// `buffer_len`, and code built before that import existed reads the buffer into a fixed area
/// sized by the return-data limit, which this bound keeps safe.
fn call_error(error: HostError, max: usize) -> Vec<u8> {
    let code = bounded(error.code);
    let room = max.saturating_sub(8 + code.len());
    let mut message = error.message;
    if message.len() > room {
        let mut cut = room;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    CallError { code, message }.encode()
}

fn input_len(mut caller: Ctx<'_, '_>) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        len_i32(c.data().input.len())
    })
}

fn input_read(mut caller: Ctx<'_, '_>, ptr: i32) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        let r = fixed_region(c, ptr, c.data().input.len())?;
        charge(c, len_u64(r.len()))?;
        let (mem, data) = split(c)?;
        mem[r].copy_from_slice(data.input);
        Ok(())
    })
}

fn set_return(mut caller: Ctx<'_, '_>, ptr: i32, len: i32) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        let r = region(c, ptr, len)?;
        let limit = limits(c).max_return_size;
        if r.len() > limit {
            return Err(VmError::ReturnTooLarge {
                what: "return",
                len: r.len(),
                limit,
            });
        }
        charge(c, len_u64(r.len()))?;
        let bytes = read(c, r)?;
        c.data_mut().ret = bytes;
        Ok(())
    })
}

fn set_error(
    mut caller: Ctx<'_, '_>,
    code_ptr: i32,
    code_len: i32,
    msg_ptr: i32,
    msg_len: i32,
) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        let code = region(c, code_ptr, code_len)?;
        let msg = region(c, msg_ptr, msg_len)?;
        let total = code.len() + msg.len();
        let limit = limits(c).max_return_size;
        if total > limit {
            return Err(VmError::ReturnTooLarge {
                what: "error",
                len: total,
                limit,
            });
        }
        charge(c, len_u64(total))?;
        let error = (read(c, code)?, read(c, msg)?);
        c.data_mut().error = Some(error);
        Ok(())
    })
}

fn buffer_read(mut caller: Ctx<'_, '_>, ptr: i32) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        let r = fixed_region(c, ptr, c.data().buffer.len())?;
        charge(c, len_u64(r.len()))?;
        let (mem, data) = split(c)?;
        mem[r].copy_from_slice(&data.buffer);
        Ok(())
    })
}

fn buffer_len(mut caller: Ctx<'_, '_>) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        len_i32(c.data().buffer.len())
    })
}

fn env(mut caller: Ctx<'_, '_>) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        let encoded = c.data().host.env().encode();
        let len = len_i32(encoded.len())?;
        c.data_mut().buffer = encoded;
        Ok(len)
    })
}

fn storage_get(mut caller: Ctx<'_, '_>, key_ptr: i32, key_len: i32) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        let key = region(c, key_ptr, key_len)?;
        key_limit(c, &key)?;
        charge(c, fuel::STORAGE_GET + len_u64(key.len()))?;
        let value = {
            let (mem, data) = split(c)?;
            data.host.storage_get(&mem[key]).map_err(host_failure)?
        };
        match value {
            Some(value) => {
                charge(c, len_u64(value.len()))?;
                let len = len_i32(value.len())?;
                c.data_mut().buffer = value;
                Ok(len)
            }
            None => {
                c.data_mut().buffer.clear();
                Ok(-1)
            }
        }
    })
}

fn storage_set(
    mut caller: Ctx<'_, '_>,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        writable(c, "storage_set")?;
        let key = region(c, key_ptr, key_len)?;
        let value = region(c, val_ptr, val_len)?;
        key_limit(c, &key)?;
        let max = limits(c).max_value_size;
        if value.len() > max {
            return Err(VmError::Trap(format!(
                "storage value is {} bytes, limit {max}",
                value.len()
            )));
        }
        let bytes = len_u64(key.len() + value.len());
        charge(c, fuel::STORAGE_SET + fuel::STORAGE_SET_PER_BYTE * bytes)?;
        let (mem, data) = split(c)?;
        data.host
            .storage_set(&mem[key], &mem[value])
            .map_err(host_failure)
    })
}

fn storage_remove(mut caller: Ctx<'_, '_>, key_ptr: i32, key_len: i32) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        writable(c, "storage_remove")?;
        let key = region(c, key_ptr, key_len)?;
        key_limit(c, &key)?;
        charge(c, fuel::STORAGE_REMOVE + len_u64(key.len()))?;
        let (mem, data) = split(c)?;
        data.host.storage_remove(&mem[key]).map_err(host_failure)
    })
}

fn storage_range(
    mut caller: Ctx<'_, '_>,
    start_ptr: i32,
    start_len: i32,
    end_ptr: i32,
    end_len: i32,
    limit: i32,
    descending: i32,
) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        let start = region(c, start_ptr, start_len)?;
        let end = region(c, end_ptr, end_len)?;
        key_limit(c, &start)?;
        key_limit(c, &end)?;
        let Ok(limit) = u32::try_from(limit) else {
            return Err(VmError::Trap(format!("negative range limit {limit}")));
        };
        let limit = limit.min(limits(c).max_range_limit);
        charge(c, fuel::STORAGE_RANGE)?;
        let mut entries = {
            let (mem, data) = split(c)?;
            let end = (!end.is_empty()).then(|| &mem[end]);
            data.host
                .storage_range(&mem[start], end, limit, descending != 0)
                .map_err(host_failure)?
        };
        entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let encoded = encode_entries(&entries);
        charge(
            c,
            fuel::RANGE_PER_ENTRY * len_u64(entries.len()) + len_u64(encoded.len()),
        )?;
        let len = len_i32(encoded.len())?;
        c.data_mut().buffer = encoded;
        Ok(len)
    })
}

fn emit_event(
    mut caller: Ctx<'_, '_>,
    kind_ptr: i32,
    kind_len: i32,
    data_ptr: i32,
    data_len: i32,
) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        writable(c, "emit_event")?;
        let kind = region(c, kind_ptr, kind_len)?;
        let payload = region(c, data_ptr, data_len)?;
        let bytes = len_u64(kind.len() + payload.len());
        charge(c, fuel::EMIT_EVENT + fuel::EMIT_EVENT_PER_BYTE * bytes)?;
        let (mem, data) = split(c)?;
        let kind = utf8(&mem[kind], "event kind")?;
        data.host
            .emit_event(&kind, &mem[payload])
            .map_err(host_failure)
    })
}

fn hash(mut caller: Ctx<'_, '_>, ptr: i32, len: i32, out_ptr: i32) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        let input = region(c, ptr, len)?;
        let out = fixed_region(c, out_ptr, 32)?;
        charge(c, fuel::HASH + len_u64(input.len()))?;
        let (mem, data) = split(c)?;
        let digest = data.host.hash(&mem[input]);
        mem[out].copy_from_slice(&digest);
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn verify_signature(
    mut caller: Ctx<'_, '_>,
    pk_ptr: i32,
    pk_len: i32,
    msg_ptr: i32,
    msg_len: i32,
    sig_ptr: i32,
    sig_len: i32,
) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        let pk = region(c, pk_ptr, pk_len)?;
        let msg = region(c, msg_ptr, msg_len)?;
        let sig = region(c, sig_ptr, sig_len)?;
        charge(c, fuel::VERIFY_SIGNATURE)?;
        let (mem, data) = split(c)?;
        Ok(i32::from(
            data.host.verify_signature(&mem[pk], &mem[msg], &mem[sig]),
        ))
    })
}

fn call_contract(
    mut caller: Ctx<'_, '_>,
    name_ptr: i32,
    name_len: i32,
    msg_ptr: i32,
    msg_len: i32,
    fuel_req: i64,
) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        writable(c, "call_contract")?;
        let name = region(c, name_ptr, name_len)?;
        let msg = region(c, msg_ptr, msg_len)?;
        let Ok(requested) = u64::try_from(fuel_req) else {
            return Err(VmError::Trap(format!("negative call fuel {fuel_req}")));
        };
        charge(c, fuel::CALL_CONTRACT + len_u64(msg.len()))?;
        let remaining = c.get_fuel().map_err(|_| VmError::OutOfFuel)?;
        let granted = if requested == 0 {
            remaining
        } else {
            requested.min(remaining)
        };
        let outcome = {
            let (mem, data) = split(c)?;
            let name = utf8(&mem[name], "contract name")?;
            data.host.call_contract(data.vm, &name, &mem[msg], granted)
        };
        let used = match &outcome {
            Ok((_, used)) | Err((_, used)) => (*used).min(granted),
        };
        c.set_fuel(remaining - used)
            .map_err(|_| VmError::OutOfFuel)?;
        let max = limits(c).max_return_size;
        match outcome {
            // The callee's `set_return` is bounded by the VM; a host handing back more is
            // broken, and the contract must not receive an oversized unsized buffer.
            Ok((ret, _)) if ret.len() > max => Err(VmError::ReturnTooLarge {
                what: "callee return",
                len: ret.len(),
                limit: max,
            }),
            Ok((ret, _)) => {
                c.data_mut().buffer = ret;
                Ok(0)
            }
            Err((error, _)) => {
                c.data_mut().buffer = call_error(error, max);
                Ok(1)
            }
        }
    })
}

fn bank_transfer(
    mut caller: Ctx<'_, '_>,
    to_ptr: i32,
    asset_ptr: i32,
    asset_len: i32,
    amount_ptr: i32,
) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        writable(c, "bank_transfer")?;
        let to = fixed_region(c, to_ptr, 20)?;
        let asset = region(c, asset_ptr, asset_len)?;
        let amount = fixed_region(c, amount_ptr, 16)?;
        charge(c, fuel::BANK_TRANSFER)?;
        let max = limits(c).max_return_size;
        let (mem, data) = split(c)?;
        let asset = utf8(&mem[asset], "asset")?;
        let mut to_addr = [0u8; 20];
        to_addr.copy_from_slice(&mem[to]);
        let mut amount_be = [0u8; 16];
        amount_be.copy_from_slice(&mem[amount]);
        match data
            .host
            .bank_transfer(to_addr, &asset, u128::from_be_bytes(amount_be))
        {
            Ok(()) => {
                data.buffer.clear();
                Ok(0)
            }
            Err(error) => {
                data.buffer = call_error(error, max);
                Ok(1)
            }
        }
    })
}

fn bank_balance(
    mut caller: Ctx<'_, '_>,
    addr_ptr: i32,
    asset_ptr: i32,
    asset_len: i32,
    out_ptr: i32,
) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        let addr = fixed_region(c, addr_ptr, 20)?;
        let asset = region(c, asset_ptr, asset_len)?;
        let out = fixed_region(c, out_ptr, 16)?;
        charge(c, fuel::BANK_BALANCE)?;
        let (mem, data) = split(c)?;
        let asset = utf8(&mem[asset], "asset")?;
        let mut address = [0u8; 20];
        address.copy_from_slice(&mem[addr]);
        let balance = data
            .host
            .bank_balance(address, &asset)
            .map_err(host_failure)?;
        mem[out].copy_from_slice(&balance.to_be_bytes());
        Ok(())
    })
}

fn notary_get(mut caller: Ctx<'_, '_>, hash_ptr: i32) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        let doc = fixed_region(c, hash_ptr, 32)?;
        charge(c, fuel::NOTARY_GET)?;
        let (mem, data) = split(c)?;
        let mut doc_hash = [0u8; 32];
        doc_hash.copy_from_slice(&mem[doc]);
        match data.host.notary_get(doc_hash).map_err(host_failure)? {
            Some(record) => {
                let len = len_i32(record.len())?;
                data.buffer = record;
                Ok(len)
            }
            None => {
                data.buffer.clear();
                Ok(-1)
            }
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn interop_send(
    mut caller: Ctx<'_, '_>,
    channel_ptr: i32,
    channel_len: i32,
    target_ptr: i32,
    target_len: i32,
    msg_ptr: i32,
    msg_len: i32,
    timeout_height: i64,
    timeout_timestamp_ms: i64,
) -> HostResult<i32> {
    guard(&mut caller, |c| {
        base(c)?;
        writable(c, "interop_send")?;
        let channel = region(c, channel_ptr, channel_len)?;
        let target = region(c, target_ptr, target_len)?;
        let msg = region(c, msg_ptr, msg_len)?;
        let (Ok(height), Ok(time)) = (
            u64::try_from(timeout_height),
            u64::try_from(timeout_timestamp_ms),
        ) else {
            return Err(VmError::Trap(format!(
                "negative timeout ({timeout_height}, {timeout_timestamp_ms})"
            )));
        };
        charge(c, fuel::INTEROP_SEND + len_u64(msg.len()))?;
        let max = limits(c).max_return_size;
        let (mem, data) = split(c)?;
        let channel = utf8(&mem[channel], "channel")?;
        let target = utf8(&mem[target], "target contract")?;
        match data
            .host
            .interop_send(&channel, &target, &mem[msg], height, time)
        {
            Ok(sequence) => {
                data.buffer = sequence.to_le_bytes().to_vec();
                Ok(0)
            }
            Err(error) => {
                data.buffer = call_error(error, max);
                Ok(1)
            }
        }
    })
}

fn abort(mut caller: Ctx<'_, '_>, msg_ptr: i32, msg_len: i32) -> HostResult<()> {
    guard(&mut caller, |c| {
        base(c)?;
        let msg = region(c, msg_ptr, msg_len)?;
        let (mem, _) = split(c)?;
        // Only the first bytes can survive `bounded` anyway.
        let head = &mem[msg.start..msg.end.min(msg.start + 4 * crate::error::MAX_MESSAGE_LEN)];
        Err(VmError::Trap(bounded(format!(
            "abort: {}",
            String::from_utf8_lossy(head)
        ))))
    })
}

/// A linker defining every host function of [`HOST_IMPORTS`](crate::abi::HOST_IMPORTS).
pub(crate) fn linker<'a>(engine: &wasmi::Engine) -> Result<Linker<Data<'a>>, wasmi::Error> {
    let mut l = Linker::<Data<'a>>::new(engine);
    let m = IMPORT_MODULE;
    l.func_wrap(m, "input_len", input_len)?
        .func_wrap(m, "input_read", input_read)?
        .func_wrap(m, "set_return", set_return)?
        .func_wrap(m, "set_error", set_error)?
        .func_wrap(m, "buffer_read", buffer_read)?
        .func_wrap(m, "buffer_len", buffer_len)?
        .func_wrap(m, "env", env)?
        .func_wrap(m, "storage_get", storage_get)?
        .func_wrap(m, "storage_set", storage_set)?
        .func_wrap(m, "storage_remove", storage_remove)?
        .func_wrap(m, "storage_range", storage_range)?
        .func_wrap(m, "emit_event", emit_event)?
        .func_wrap(m, "hash", hash)?
        .func_wrap(m, "verify_signature", verify_signature)?
        .func_wrap(m, "call_contract", call_contract)?
        .func_wrap(m, "bank_transfer", bank_transfer)?
        .func_wrap(m, "bank_balance", bank_balance)?
        .func_wrap(m, "notary_get", notary_get)?
        .func_wrap(m, "interop_send", interop_send)?
        .func_wrap(m, "abort", abort)?;
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::{call_error, checked_range};
    use crate::{CallError, HostError, VmError};

    #[test]
    fn call_errors_fit_the_return_limit() {
        let long = HostError::new("token.failed", "é".repeat(40_000));
        let encoded = call_error(long, 65_536);
        assert!(encoded.len() <= 65_536);
        let decoded = CallError::decode(&encoded).unwrap();
        assert_eq!(decoded.code, "token.failed");
        assert!(decoded.message.len() > 65_000);
        let short = call_error(HostError::new("a.b", "m"), 65_536);
        assert_eq!(CallError::decode(&short).unwrap().message, "m");
    }

    #[test]
    fn pointer_checks() {
        assert_eq!(checked_range(0, 10, 10), Ok(0..10));
        assert_eq!(checked_range(10, 0, 10), Ok(10..10));
        for (p, l) in [(-1, 1), (0, -1), (11, 0), (5, 6), (i32::MAX, i32::MAX)] {
            assert!(matches!(
                checked_range(p, l, 10),
                Err(VmError::BadPointer(_))
            ));
        }
    }
}
