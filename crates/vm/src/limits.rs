//! Sandbox limits (spec §4) and host-call fuel costs (spec §5).

/// Sandbox limits of one VM.
///
/// The defaults are the consensus values of spec §4; every validator must run with them, so
/// anything else is only for tests and tooling. The engine is configured from these values when
/// the [`Vm`](crate::Vm) is built (the recursion limit cannot change afterwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmLimits {
    /// Largest accepted module, in bytes; checked before the module is parsed so oversized
    /// uploads cost no parsing work.
    pub max_code_size: usize,
    /// Largest linear memory, in 64 KiB pages: the declared minimum must fit and `memory.grow`
    /// beyond it returns `-1` (wasm semantics), so a growth bomb cannot exhaust the node.
    pub max_memory_pages: u32,
    /// Most tables a module may define (MVP already caps this at one).
    pub max_tables: u32,
    /// Most elements per table, declared or grown.
    pub max_table_elements: u32,
    /// wasmi recursion limit in frames; deeper recursion traps with `contract.stack_overflow`
    /// instead of exhausting the native stack.
    pub max_recursion_depth: usize,
    /// Most nested contract→contract calls. The [`Host`](crate::Host) enforces it (it owns the
    /// call stack); the value lives here so every host uses the same number.
    pub max_call_depth: u32,
    /// Largest `set_return` data and largest `set_error` code+message, in bytes.
    pub max_return_size: usize,
    /// Largest `limit` honoured by `storage_range` (larger requests are clamped).
    pub max_range_limit: u32,
    /// Largest storage key a contract may use.
    pub max_key_size: usize,
    /// Largest storage value a contract may write.
    pub max_value_size: usize,
}

impl Default for VmLimits {
    fn default() -> Self {
        Self {
            max_code_size: 512 * 1024,
            max_memory_pages: 256,
            max_tables: 1,
            max_table_elements: 4096,
            max_recursion_depth: 256,
            max_call_depth: 8,
            max_return_size: 64 * 1024,
            max_range_limit: 100,
            max_key_size: 256,
            max_value_size: 64 * 1024,
        }
    }
}

/// Host-call fuel costs of spec §5. They are part of consensus: changing one changes every
/// receipt's `gas_used`, so they are constants, not configuration.
pub mod fuel {
    /// Charged on every host call, before anything else; the whole cost of `input_len` and
    /// `buffer_len`.
    pub const BASE: u64 = 100;
    /// `storage_get` fixed part (plus 1 per key byte and 1 per value byte).
    pub const STORAGE_GET: u64 = 200;
    /// `storage_set` fixed part.
    pub const STORAGE_SET: u64 = 1_000;
    /// `storage_set` per key+value byte.
    pub const STORAGE_SET_PER_BYTE: u64 = 10;
    /// `storage_remove` fixed part (plus 1 per key byte).
    pub const STORAGE_REMOVE: u64 = 500;
    /// `storage_range` fixed part (plus [`RANGE_PER_ENTRY`] per entry and 1 per returned byte).
    pub const STORAGE_RANGE: u64 = 500;
    /// `storage_range` per returned entry.
    pub const RANGE_PER_ENTRY: u64 = 100;
    /// `emit_event` fixed part.
    pub const EMIT_EVENT: u64 = 200;
    /// `emit_event` per kind+data byte.
    pub const EMIT_EVENT_PER_BYTE: u64 = 2;
    /// `hash` fixed part (plus 1 per input byte).
    pub const HASH: u64 = 100;
    /// `verify_signature`.
    pub const VERIFY_SIGNATURE: u64 = 20_000;
    /// `call_contract` fixed part (plus 1 per message byte and the callee's fuel).
    pub const CALL_CONTRACT: u64 = 5_000;
    /// `bank_transfer`.
    pub const BANK_TRANSFER: u64 = 5_000;
    /// `bank_balance`.
    pub const BANK_BALANCE: u64 = 1_000;
    /// `notary_get`.
    pub const NOTARY_GET: u64 = 1_000;
    /// `interop_send` fixed part (plus 1 per message byte).
    pub const INTEROP_SEND: u64 = 10_000;
    /// `buffer_read`, `input_read`, `set_return`, `set_error`: per byte copied.
    pub const PER_COPIED_BYTE: u64 = 1;
}
