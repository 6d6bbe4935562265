//! Contract errors (§3) and nested-call errors (§7 `CallError`).

use std::fmt;

use crate::types::is_valid_error_code;

/// A contract's typed error. The chain reports it as `<contract name>.<code>`; the code is
/// checked on construction (1..=48 bytes of `[a-z0-9_]`, §3), so a `ContractError` never turns
/// into `contract.bad_error`.
#[derive(Clone, PartialEq, Eq)]
pub struct ContractError {
    code: String,
    message: String,
}

/// A string that is not a valid error code (§3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidErrorCode(pub String);

impl fmt::Display for InvalidErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid contract error code {:?}: need 1..=48 bytes of [a-z0-9_]",
            self.0
        )
    }
}

impl std::error::Error for InvalidErrorCode {}

impl ContractError {
    /// The error `code` with `message`.
    ///
    /// # Panics
    /// If `code` is not 1..=48 bytes of `[a-z0-9_]`. Codes are normally literals; use
    /// [`ContractError::try_new`] for computed ones.
    #[track_caller]
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        match Self::try_new(code, message) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        }
    }

    /// The error `code` with `message`, or why `code` is invalid.
    pub fn try_new(
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<Self, InvalidErrorCode> {
        let code = code.into();
        if !is_valid_error_code(&code) {
            return Err(InvalidErrorCode(code));
        }
        Ok(ContractError {
            code,
            message: message.into(),
        })
    }

    /// The code (without the `<contract>.` prefix the chain adds).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// SDK error: the entry point's input is not the expected JSON message.
    pub fn bad_msg(message: impl Into<String>) -> Self {
        Self::new(codes::BAD_MSG, message)
    }

    /// SDK error: a value absent from storage.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(codes::NOT_FOUND, message)
    }
}

/// Codes the SDK itself uses.
pub mod codes {
    /// The input message did not deserialize.
    pub const BAD_MSG: &str = "bad_msg";
    /// `Item::load` / `Map::load` of an absent value.
    pub const NOT_FOUND: &str = "not_found";
    /// A stored value or a storage key did not decode (corrupt state or a type change).
    pub const BAD_STATE: &str = "bad_state";
    /// A value did not serialize, or is over a host size limit.
    pub const SERIALIZE: &str = "serialize";
    /// A nested call failed (`?` on a [`CallError`](crate::CallError)).
    pub const CALL_FAILED: &str = "call_failed";
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl fmt::Debug for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContractError({}: {:?})", self.code, self.message)
    }
}

impl std::error::Error for ContractError {}

/// A failed nested call, bank transfer, or (in the mock host) a failed top-level call:
/// `code` is the chain's full code, e.g. `contract.reentrancy`, `bank.insufficient_balance`,
/// `token.insufficient_funds`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    /// Full error code.
    pub code: String,
    /// Message.
    pub message: String,
}

impl CallError {
    /// A call error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        CallError {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for CallError {}

/// `?` on a failed nested call reports `call_failed` with `"<code>: <message>"`.
impl From<CallError> for ContractError {
    fn from(e: CallError) -> Self {
        ContractError::new(codes::CALL_FAILED, e.to_string())
    }
}

/// Returns early with an error: `fail!("code", "format {}", args)` builds a [`ContractError`];
/// `fail!(err)` returns any error value. The error is converted with `From` into the
/// function's error type.
#[macro_export]
macro_rules! fail {
    ($code:expr, $($fmt:tt)+) => {
        return ::core::result::Result::Err(::core::convert::From::from(
            $crate::ContractError::new($code, ::std::format!($($fmt)+)),
        ))
    };
    ($err:expr $(,)?) => {
        return ::core::result::Result::Err(::core::convert::From::from($err))
    };
}

/// `ensure!(cond, "code", "format {}", args)`: [`fail!`] unless `cond` holds.
/// `ensure!(cond, err)` returns `err` instead.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $code:expr, $($fmt:tt)+) => {
        if !$cond {
            $crate::fail!($code, $($fmt)+);
        }
    };
    ($cond:expr, $err:expr $(,)?) => {
        if !$cond {
            $crate::fail!($err);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(n: u32) -> Result<u32, ContractError> {
        crate::ensure!(n > 0, "zero", "n must be positive, got {}", n);
        crate::ensure!(n < 100, ContractError::new("too_big", "n"));
        if n == 42 {
            crate::fail!("forbidden_42", "no {n}");
        }
        Ok(n)
    }

    #[test]
    fn codes_are_validated() {
        for ok in ["a", "bad_msg", "x9", &"z".repeat(48)] {
            assert!(ContractError::try_new(ok, "").is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Upper",
            "dot.ted",
            "sp ace",
            "dash-x",
            &"z".repeat(49),
            "é",
        ] {
            assert_eq!(
                ContractError::try_new(bad, "m"),
                Err(InvalidErrorCode(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "invalid contract error code")]
    fn new_panics_on_bad_code() {
        let _ = ContractError::new("Bad", "m");
    }

    #[test]
    fn ensure_and_fail() {
        assert_eq!(checked(5), Ok(5));
        let e = checked(0).unwrap_err();
        assert_eq!(
            (e.code(), e.message()),
            ("zero", "n must be positive, got 0")
        );
        assert_eq!(checked(100).unwrap_err().code(), "too_big");
        assert_eq!(checked(42).unwrap_err().message(), "no 42");
        let from_call: ContractError = CallError::new("contract.reentrancy", "again").into();
        assert_eq!(from_call.code(), "call_failed");
        assert_eq!(from_call.message(), "contract.reentrancy: again");
    }
}
