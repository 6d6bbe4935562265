//! Stable error codes (spec §3).

use std::borrow::Cow;

/// Every stable `contract.*` code of spec §3, so the VM, the `contract` module and the API
/// spell them identically. Codes the VM itself never produces (`not_found`, `exists`, …) are
/// here for the module's use.
pub mod codes {
    /// Contract name not deployed.
    pub const NOT_FOUND: &str = "contract.not_found";
    /// Contract name already taken.
    pub const EXISTS: &str = "contract.exists";
    /// Contract name does not follow spec §1.
    pub const BAD_NAME: &str = "contract.bad_name";
    /// Not wasm, fails validation, forbidden import, missing export.
    pub const BAD_CODE: &str = "contract.bad_code";
    /// Module larger than the size limit.
    pub const CODE_TOO_LARGE: &str = "contract.code_too_large";
    /// Fuel exhausted in wasm or in a host call.
    pub const OUT_OF_FUEL: &str = "contract.out_of_fuel";
    /// Wasm trap, `abort`, or an entry point returning neither 0 nor 1.
    pub const TRAP: &str = "contract.trap";
    /// Memory or table beyond the sandbox limits.
    pub const MEMORY_LIMIT: &str = "contract.memory_limit";
    /// wasm recursion deeper than the engine's limit.
    pub const STACK_OVERFLOW: &str = "contract.stack_overflow";
    /// Contract→contract calls nested too deeply.
    pub const CALL_DEPTH: &str = "contract.call_depth";
    /// Call into a contract already on the call stack that does not allow reentry.
    pub const REENTRANCY: &str = "contract.reentrancy";
    /// Return or error data larger than the limit.
    pub const RETURN_TOO_LARGE: &str = "contract.return_too_large";
    /// Negative or out-of-memory pointer/length passed to a host function.
    pub const BAD_POINTER: &str = "contract.bad_pointer";
    /// Contract frozen by governance.
    pub const FROZEN: &str = "contract.frozen";
    /// Upgrade code hash not approved by governance.
    pub const NOT_APPROVED: &str = "contract.not_approved";
    /// Write attempted in a read-only query.
    pub const READ_ONLY: &str = "contract.read_only";
    /// Module-call arguments do not decode.
    pub const BAD_ARGS: &str = "contract.bad_args";
    /// A contract's own error code is not 1..=48 bytes of `[a-z0-9_]` (or none was set).
    pub const BAD_ERROR: &str = "contract.bad_error";
    /// `interop_send` on a host without the `interop` module.
    pub const NO_INTEROP: &str = "contract.no_interop";
}

/// Longest diagnostic message the VM produces; messages end up in receipts, so a contract must
/// not be able to inflate them (a contract's own error message is bounded by
/// [`VmLimits::max_return_size`](crate::VmLimits::max_return_size) instead).
pub(crate) const MAX_MESSAGE_LEN: usize = 256;

/// Truncates `message` to [`MAX_MESSAGE_LEN`] bytes on a char boundary.
pub(crate) fn bounded(message: impl Into<String>) -> String {
    let mut message = message.into();
    if message.len() > MAX_MESSAGE_LEN {
        let mut cut = MAX_MESSAGE_LEN - 3;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push_str("...");
    }
    message
}

/// An error reported by a [`Host`](crate::Host) implementation.
///
/// Returned from `call_contract` / `bank_transfer` it reaches the contract as an encoded
/// [`CallError`](crate::CallError) (the contract may recover); from any other host function it
/// fails the whole run with `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct HostError {
    /// Stable error code (e.g. `bank.insufficient_funds`, `contract.reentrancy`).
    pub code: String,
    /// Human-readable detail.
    pub message: String,
}

impl HostError {
    /// Builds a host error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<&VmError> for HostError {
    /// How a failed nested run is reported to the calling contract.
    fn from(error: &VmError) -> Self {
        Self {
            code: error.code().into_owned(),
            message: error.to_string(),
        }
    }
}

/// Why a contract run failed. [`VmError::code`] is the stable code that goes into receipts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// `contract.bad_code`: not wasm, invalid, forbidden import, bad or missing export.
    #[error("invalid contract code: {0}")]
    BadCode(String),
    /// `contract.code_too_large`.
    #[error("contract code is {size} bytes, limit {limit}")]
    CodeTooLarge {
        /// Size of the rejected module.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// `contract.out_of_fuel`: the run's `fuel_used` is then the whole limit.
    #[error("out of fuel")]
    OutOfFuel,
    /// `contract.trap`.
    #[error("trap: {0}")]
    Trap(String),
    /// `contract.memory_limit`: declared memory/table larger than the sandbox allows.
    #[error("memory limit: {0}")]
    MemoryLimit(String),
    /// `contract.stack_overflow`.
    #[error("wasm call stack exhausted")]
    StackOverflow,
    /// `contract.call_depth` (raised by hosts, which own the call stack).
    #[error("contract call depth exceeds {limit}")]
    CallDepth {
        /// The depth limit.
        limit: u32,
    },
    /// `contract.reentrancy` (raised by hosts, which own the call stack).
    #[error("reentrant call into contract {contract}")]
    Reentrancy {
        /// The contract that was re-entered.
        contract: String,
    },
    /// `contract.return_too_large`.
    #[error("{what} data is {len} bytes, limit {limit}")]
    ReturnTooLarge {
        /// `return` or `error`.
        what: &'static str,
        /// Requested length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// `contract.bad_pointer`.
    #[error("bad pointer: {0}")]
    BadPointer(String),
    /// `contract.read_only`: the named host function writes and the run is a query.
    #[error("{0} is not allowed in a read-only query")]
    ReadOnly(&'static str),
    /// `contract.bad_error`.
    #[error("bad contract error: {0}")]
    BadError(String),
    /// The contract's own typed error; its stable code is `<contract>.<code>`.
    #[error("{contract}.{code}: {message}")]
    Contract {
        /// Contract name (from [`Env::contract`](crate::Env::contract)).
        contract: String,
        /// The contract's code, validated `[a-z0-9_]{1,48}`.
        code: String,
        /// The contract's message (UTF-8, lossy), at most `max_return_size` bytes.
        message: String,
    },
    /// A host function failed; the run fails with the host's code.
    #[error("{}: {}", .0.code, .0.message)]
    Host(HostError),
}

impl VmError {
    /// The stable code of spec §3 (`contract.out_of_fuel`, …); `<contract>.<code>` for a
    /// contract's own error, the host's code for a host failure.
    pub fn code(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Self::BadCode(_) => codes::BAD_CODE,
            Self::CodeTooLarge { .. } => codes::CODE_TOO_LARGE,
            Self::OutOfFuel => codes::OUT_OF_FUEL,
            Self::Trap(_) => codes::TRAP,
            Self::MemoryLimit(_) => codes::MEMORY_LIMIT,
            Self::StackOverflow => codes::STACK_OVERFLOW,
            Self::CallDepth { .. } => codes::CALL_DEPTH,
            Self::Reentrancy { .. } => codes::REENTRANCY,
            Self::ReturnTooLarge { .. } => codes::RETURN_TOO_LARGE,
            Self::BadPointer(_) => codes::BAD_POINTER,
            Self::ReadOnly(_) => codes::READ_ONLY,
            Self::BadError(_) => codes::BAD_ERROR,
            Self::Contract { contract, code, .. } => {
                return Cow::Owned(format!("{contract}.{code}"))
            }
            Self::Host(error) => &error.code,
        })
    }
}

/// Whether `code` is a valid contract error code: 1..=48 bytes of `[a-z0-9_]`.
pub(crate) fn is_valid_error_code(code: &[u8]) -> bool {
    (1..=48).contains(&code.len())
        && code
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_truncates_on_char_boundary() {
        let long = "é".repeat(400);
        let cut = bounded(long);
        assert!(cut.len() <= MAX_MESSAGE_LEN);
        assert!(cut.ends_with("..."));
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn error_codes_are_validated() {
        assert!(is_valid_error_code(b"not_owner_2"));
        assert!(!is_valid_error_code(b""));
        assert!(!is_valid_error_code(b"Bad"));
        assert!(!is_valid_error_code(b"a.b"));
        assert!(!is_valid_error_code(&[b'a'; 49]));
        assert!(is_valid_error_code(&[b'a'; 48]));
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(VmError::OutOfFuel.code(), "contract.out_of_fuel");
        assert_eq!(
            VmError::Contract {
                contract: "token".into(),
                code: "not_owner".into(),
                message: String::new()
            }
            .code(),
            "token.not_owner"
        );
        assert_eq!(
            VmError::Host(HostError::new("bank.insufficient_funds", "x")).code(),
            "bank.insufficient_funds"
        );
    }
}
