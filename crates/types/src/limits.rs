//! Hard limits applied at decode time. Changing one is a protocol change.

/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;
/// Longest encoded public key (SM2 uncompressed SEC1 is 65 bytes).
pub const MAX_PUBLIC_KEY_LEN: usize = 65;
/// Longest encoded signature (DER-encoded ECDSA/SM2 is at most 72 bytes).
pub const MAX_SIGNATURE_LEN: usize = 72;
/// Longest module or method name.
pub const MAX_NAME_LEN: usize = 32;
/// Largest module-call argument payload.
pub const MAX_CALL_ARGS_LEN: usize = 16 * 1024;
/// Largest encoded signed transaction accepted anywhere.
pub const MAX_TX_BYTES: usize = 20 * 1024;
/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 50_000;
/// Largest encoded block.
pub const MAX_BLOCK_BYTES: usize = 64 * 1024 * 1024;
/// Most events one transaction may emit.
pub const MAX_EVENTS_PER_TX: usize = 64;
/// Longest event kind: a contract's events are `<contract name ≤ 48>.<kind ≤ 32>`.
pub const MAX_EVENT_KIND_LEN: usize = 96;
/// Longest receipt code: a contract's own errors are `<contract name ≤ 48>.<code ≤ 48>`.
pub const MAX_RECEIPT_CODE_LEN: usize = 128;
/// Largest event payload.
pub const MAX_EVENT_DATA_LEN: usize = 4 * 1024;
/// Longest error message carried in a receipt.
pub const MAX_ERROR_MESSAGE_LEN: usize = 256;
