//! The host API (§6) as safe functions.
//!
//! On `wasm32` every function wraps one to three imports of module `"meridian"` (the
//! return-buffer protocol is handled here: a host call that fills the buffer returns its length
//! — or, for the status-returning `call_contract` and `bank_transfer`, the length is asked with
//! `buffer_len` — and the data is copied with `buffer_read`). On other targets the same
//! functions are served by the thread-local mock host in [`crate::testing`]; calling them with
//! no [`MockHost`](crate::testing::MockHost) call in progress panics.
//!
//! Host-side failures (bad pointer, write in a read-only query, over-long key, out of fuel …)
//! never return here: the host aborts the whole call (§2).

#[cfg(not(target_arch = "wasm32"))]
pub use crate::testing::host::{
    abort, bank_balance, bank_transfer, call_contract, emit_event, env, hash, input, interop_send,
    notary_get, set_error, set_return, storage_get, storage_range, storage_remove, storage_set,
    verify_signature,
};

#[cfg(target_arch = "wasm32")]
pub use wasm::*;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod wasm {
    //! The only module of the SDK with `unsafe`: the import declarations and the calls into
    //! them. Every pointer passed is derived from a live Rust slice/array of the stated length,
    //! and every output pointer addresses a buffer of the length the host will write.

    mod ffi {
        #[link(wasm_import_module = "meridian")]
        extern "C" {
            pub fn input_len() -> i32;
            pub fn input_read(ptr: i32);
            pub fn set_return(ptr: i32, len: i32);
            pub fn set_error(code_ptr: i32, code_len: i32, msg_ptr: i32, msg_len: i32);
            pub fn buffer_read(ptr: i32);
            pub fn buffer_len() -> i32;
            pub fn env() -> i32;
            pub fn storage_get(key_ptr: i32, key_len: i32) -> i32;
            pub fn storage_set(key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32);
            pub fn storage_remove(key_ptr: i32, key_len: i32);
            pub fn storage_range(
                start_ptr: i32,
                start_len: i32,
                end_ptr: i32,
                end_len: i32,
                limit: i32,
                descending: i32,
            ) -> i32;
            pub fn emit_event(kind_ptr: i32, kind_len: i32, data_ptr: i32, data_len: i32);
            pub fn hash(ptr: i32, len: i32, out_ptr: i32);
            pub fn verify_signature(
                pk_ptr: i32,
                pk_len: i32,
                msg_ptr: i32,
                msg_len: i32,
                sig_ptr: i32,
                sig_len: i32,
            ) -> i32;
            pub fn call_contract(
                name_ptr: i32,
                name_len: i32,
                msg_ptr: i32,
                msg_len: i32,
                fuel: i64,
            ) -> i32;
            pub fn bank_transfer(
                to_ptr: i32,
                asset_ptr: i32,
                asset_len: i32,
                amount_ptr: i32,
            ) -> i32;
            pub fn bank_balance(addr_ptr: i32, asset_ptr: i32, asset_len: i32, out_ptr: i32);
            pub fn notary_get(hash_ptr: i32) -> i32;
            #[allow(clippy::too_many_arguments)]
            pub fn interop_send(
                channel_ptr: i32,
                channel_len: i32,
                target_ptr: i32,
                target_len: i32,
                msg_ptr: i32,
                msg_len: i32,
                timeout_height: i64,
                timeout_timestamp_ms: i64,
            ) -> i32;
            pub fn abort(msg_ptr: i32, msg_len: i32);
        }
    }

    // wasm32 pointers and lengths are 32-bit; the ABI passes them as i32.
    fn ptr(p: *const u8) -> i32 {
        p as usize as i32
    }
    fn len(s: &[u8]) -> i32 {
        s.len() as i32
    }

    /// Copies the whole return buffer of a call that returned a status instead of its length
    /// (`call_contract`, `bank_transfer`): the length comes from `buffer_len`.
    fn read_pending_buffer() -> Vec<u8> {
        // SAFETY: no pointers.
        let n = unsafe { ffi::buffer_len() };
        read_buffer(n)
    }

    /// Copies `n` bytes of the return buffer.
    fn read_buffer(n: i32) -> Vec<u8> {
        let n = usize::try_from(n).unwrap_or(0);
        let mut v = vec![0u8; n];
        // SAFETY: `v` has exactly the buffer's length, which the host just reported.
        unsafe { ffi::buffer_read(ptr(v.as_mut_ptr())) };
        v
    }

    /// The entry point's input message.
    pub fn input() -> Vec<u8> {
        // SAFETY: no pointers.
        let n = unsafe { ffi::input_len() };
        let mut v = vec![0u8; usize::try_from(n).unwrap_or(0)];
        // SAFETY: `v` has the input's length.
        unsafe { ffi::input_read(ptr(v.as_mut_ptr())) };
        v
    }

    /// Result data of a successful call.
    pub fn set_return(data: &[u8]) {
        // SAFETY: pointer/length of a live slice.
        unsafe { ffi::set_return(ptr(data.as_ptr()), len(data)) }
    }

    /// Typed error; the entry point then returns 1.
    pub fn set_error(code: &[u8], message: &[u8]) {
        // SAFETY: pointers/lengths of live slices.
        unsafe {
            ffi::set_error(
                ptr(code.as_ptr()),
                len(code),
                ptr(message.as_ptr()),
                len(message),
            )
        }
    }

    /// The encoded `Env` (§7).
    pub fn env() -> Vec<u8> {
        // SAFETY: no pointers.
        let n = unsafe { ffi::env() };
        read_buffer(n)
    }

    /// The value under `key`, if any.
    pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
        // SAFETY: pointer/length of a live slice.
        let n = unsafe { ffi::storage_get(ptr(key.as_ptr()), len(key)) };
        (n >= 0).then(|| read_buffer(n))
    }

    /// Writes `key` = `value`.
    pub fn storage_set(key: &[u8], value: &[u8]) {
        // SAFETY: pointers/lengths of live slices.
        unsafe { ffi::storage_set(ptr(key.as_ptr()), len(key), ptr(value.as_ptr()), len(value)) }
    }

    /// Deletes `key`.
    pub fn storage_remove(key: &[u8]) {
        // SAFETY: pointer/length of a live slice.
        unsafe { ffi::storage_remove(ptr(key.as_ptr()), len(key)) }
    }

    /// Encoded `Entries` (§7) with `start <= key < end` (`end` empty: unbounded).
    pub fn storage_range(start: &[u8], end: &[u8], limit: u32, descending: bool) -> Vec<u8> {
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        // SAFETY: pointers/lengths of live slices.
        let n = unsafe {
            ffi::storage_range(
                ptr(start.as_ptr()),
                len(start),
                ptr(end.as_ptr()),
                len(end),
                limit,
                i32::from(descending),
            )
        };
        read_buffer(n)
    }

    /// Emits event `kind` with `data`.
    pub fn emit_event(kind: &[u8], data: &[u8]) {
        // SAFETY: pointers/lengths of live slices.
        unsafe { ffi::emit_event(ptr(kind.as_ptr()), len(kind), ptr(data.as_ptr()), len(data)) }
    }

    /// The suite hash of `data`.
    pub fn hash(data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        // SAFETY: `out` is 32 writable bytes, as the host writes.
        unsafe { ffi::hash(ptr(data.as_ptr()), len(data), ptr(out.as_mut_ptr())) };
        out
    }

    /// `true` if `sig` is a suite signature by `pk` over `msg` (contract-message domain).
    pub fn verify_signature(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        // SAFETY: pointers/lengths of live slices.
        let r = unsafe {
            ffi::verify_signature(
                ptr(pk.as_ptr()),
                len(pk),
                ptr(msg.as_ptr()),
                len(msg),
                ptr(sig.as_ptr()),
                len(sig),
            )
        };
        r == 1
    }

    /// Runs contract `name`'s `execute` with `msg`: `Ok(return data)` or `Err(encoded
    /// CallError)`.
    pub fn call_contract(name: &[u8], msg: &[u8], fuel: u64) -> Result<Vec<u8>, Vec<u8>> {
        let fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
        // SAFETY: pointers/lengths of live slices.
        let r = unsafe {
            ffi::call_contract(
                ptr(name.as_ptr()),
                len(name),
                ptr(msg.as_ptr()),
                len(msg),
                fuel,
            )
        };
        // The buffer holds the callee's return data (0) or an encoded CallError (1).
        let data = read_pending_buffer();
        if r == 0 {
            Ok(data)
        } else {
            Err(data)
        }
    }

    /// Transfers `amount` of `asset` from this contract's account to `to`.
    pub fn bank_transfer(to: &[u8; 20], asset: &[u8], amount: u128) -> Result<(), Vec<u8>> {
        let amount = amount.to_be_bytes();
        // SAFETY: `to` is 20 bytes and `amount` 16 bytes, as the host reads.
        let r = unsafe {
            ffi::bank_transfer(
                ptr(to.as_ptr()),
                ptr(asset.as_ptr()),
                len(asset),
                ptr(amount.as_ptr()),
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(read_pending_buffer())
        }
    }

    /// Balance of `addr` in `asset`.
    pub fn bank_balance(addr: &[u8; 20], asset: &[u8]) -> u128 {
        let mut out = [0u8; 16];
        // SAFETY: `addr` is 20 bytes; `out` is 16 writable bytes.
        unsafe {
            ffi::bank_balance(
                ptr(addr.as_ptr()),
                ptr(asset.as_ptr()),
                len(asset),
                ptr(out.as_mut_ptr()),
            )
        };
        u128::from_be_bytes(out)
    }

    /// The encoded `NotaryRecord` (§7) of the document hash, if any.
    pub fn notary_get(hash: &[u8; 32]) -> Option<Vec<u8>> {
        // SAFETY: `hash` is 32 bytes.
        let n = unsafe { ffi::notary_get(ptr(hash.as_ptr())) };
        (n >= 0).then(|| read_buffer(n))
    }

    /// Sends `msg` to contract `target` over interop channel `channel`: `Ok(sequence)` or
    /// `Err(encoded CallError)`.
    pub fn interop_send(
        channel: &[u8],
        target: &[u8],
        msg: &[u8],
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    ) -> Result<u64, Vec<u8>> {
        let height = i64::try_from(timeout_height).unwrap_or(i64::MAX);
        let time = i64::try_from(timeout_timestamp_ms).unwrap_or(i64::MAX);
        // SAFETY: pointers/lengths of live slices.
        let r = unsafe {
            ffi::interop_send(
                ptr(channel.as_ptr()),
                len(channel),
                ptr(target.as_ptr()),
                len(target),
                ptr(msg.as_ptr()),
                len(msg),
                height,
                time,
            )
        };
        // The buffer holds the u64le sequence (0) or an encoded CallError (1).
        let data = read_pending_buffer();
        if r != 0 {
            return Err(data);
        }
        let mut seq = [0u8; 8];
        if data.len() == 8 {
            seq.copy_from_slice(&data);
        }
        Ok(u64::from_le_bytes(seq))
    }

    /// Traps with `msg` (→ `contract.trap`).
    pub fn abort(msg: &str) -> ! {
        // SAFETY: pointer/length of a live slice.
        unsafe { ffi::abort(ptr(msg.as_ptr()), len(msg.as_bytes())) };
        core::arch::wasm32::unreachable()
    }
}
