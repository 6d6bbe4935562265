//! Chain types as contracts see them.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::MAX_NAME_LEN;

/// `true` if `code` is a valid contract error code / contract name charset: 1..=48 bytes of
/// `[a-z0-9_]` (§3).
pub fn is_valid_error_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_NAME_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A 20-byte account address. Displayed and serialized like the chain's own addresses:
/// `0x` followed by 40 lowercase hex digits; parsing also accepts no `0x` and upper case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address from raw bytes.
    pub const fn new(bytes: [u8; 20]) -> Self {
        Address(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

impl From<[u8; 20]> for Address {
    fn from(b: [u8; 20]) -> Self {
        Address(b)
    }
}

impl From<Address> for [u8; 20] {
    fn from(a: Address) -> Self {
        a.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex_encode(&self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a string is not an [`Address`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseAddressError;

impl fmt::Display for ParseAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("address must be 40 hex digits, optionally prefixed by 0x")
    }
}

impl std::error::Error for ParseAddressError {}

impl FromStr for Address {
    type Err = ParseAddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("0x").unwrap_or(s).as_bytes();
        if s.len() != 40 {
            return Err(ParseAddressError);
        }
        let mut out = [0u8; 20];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            let hi = hex_nibble(pair[0]).ok_or(ParseAddressError)?;
            let lo = hex_nibble(pair[1]).ok_or(ParseAddressError)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Address(out))
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Address;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hex address string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Address, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// `#[serde(with = "meridian_contract_sdk::u128_dec")]` for a `u128` field: a JSON string of
/// decimal digits, so the value stays exact in every JSON implementation. Deserializing accepts
/// only such strings (never JSON numbers, which some parsers round).
pub mod u128_dec {
    use super::*;

    /// Serializes as a decimal string.
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Deserializes from a decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = u128;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string of an unsigned 128-bit integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u128, E> {
                parse_u128(v).ok_or_else(|| E::custom(format!("invalid amount {v:?}")))
            }
        }
        d.deserialize_str(V)
    }

    /// Digits only (no sign, no spaces), at least one, no overflow.
    pub(crate) fn parse_u128(v: &str) -> Option<u128> {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        v.parse().ok()
    }
}

/// An amount: `u128` that is a decimal string in JSON (see [`u128_dec`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Uint128(#[serde(with = "u128_dec")] pub u128);

impl Uint128 {
    /// Zero.
    pub const ZERO: Uint128 = Uint128(0);
    /// The largest amount.
    pub const MAX: Uint128 = Uint128(u128::MAX);

    /// Wraps a raw value.
    pub const fn new(v: u128) -> Self {
        Uint128(v)
    }
    /// The raw value.
    pub const fn u128(self) -> u128 {
        self.0
    }
    /// `true` if zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// `self + rhs`, `None` on overflow.
    pub fn checked_add(self, rhs: Uint128) -> Option<Uint128> {
        self.0.checked_add(rhs.0).map(Uint128)
    }
    /// `self - rhs`, `None` on underflow.
    pub fn checked_sub(self, rhs: Uint128) -> Option<Uint128> {
        self.0.checked_sub(rhs.0).map(Uint128)
    }
    /// `self - rhs`, clamped at zero.
    pub fn saturating_sub(self, rhs: Uint128) -> Uint128 {
        Uint128(self.0.saturating_sub(rhs.0))
    }
}

impl From<u128> for Uint128 {
    fn from(v: u128) -> Self {
        Uint128(v)
    }
}

impl From<u64> for Uint128 {
    fn from(v: u64) -> Self {
        Uint128(u128::from(v))
    }
}

impl From<Uint128> for u128 {
    fn from(v: Uint128) -> Self {
        v.0
    }
}

impl fmt::Display for Uint128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Uint128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Uint128 {
    type Err = ParseAmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u128_dec::parse_u128(s).map(Uint128).ok_or(ParseAmountError)
    }
}

/// Why a string is not a [`Uint128`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseAmountError;

impl fmt::Display for ParseAmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("amount must be decimal digits and fit in 128 bits")
    }
}

impl std::error::Error for ParseAmountError {}

/// Iteration order of a storage range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Smallest key first.
    #[default]
    Ascending,
    /// Largest key first.
    Descending,
}

/// The execution environment of the current call (§7 `Env`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    /// Chain id.
    pub chain_id: String,
    /// Height of the block being executed (latest finalized height for queries).
    pub height: u64,
    /// Block time, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Hash of the transaction (zero for queries).
    pub tx_hash: [u8; 32],
    /// This contract's name.
    pub contract: String,
    /// This contract's account address.
    pub contract_address: Address,
    /// The transaction signer (top-level call) or the calling contract (nested call).
    pub caller: Address,
    /// `true` for a nested call.
    pub caller_is_contract: bool,
    /// The signer's organisation; empty if none or for a nested call.
    pub caller_org: String,
    /// Id of the signer's certificate; `None` if none or for a nested call.
    pub caller_cert_id: Option<[u8; 32]>,
    /// The signer's roles; empty for a nested call.
    pub caller_roles: Vec<String>,
}

impl Env {
    /// `true` if the caller holds `role`.
    pub fn caller_has_role(&self, role: &str) -> bool {
        self.caller_roles.iter().any(|r| r == role)
    }
}

/// A notary record (§7 `NotaryRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotaryRecord {
    /// Who notarised the document.
    pub owner: Address,
    /// Height of the notarising block.
    pub height: u64,
    /// Time of the notarising block, ms.
    pub time_ms: u64,
    /// Free-form metadata.
    pub meta: Vec<u8>,
}

/// How a cross-chain call sent with [`Ctx::interop_send`](crate::Ctx::interop_send) ended
/// (§7 `InteropAck` status and data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteropOutcome {
    /// The target contract ran; its return data (JSON, for an SDK contract).
    Success(Vec<u8>),
    /// The destination refused the call or the target failed: `"{code}: {message}"`.
    Error(String),
    /// The packet timed out; the target never ran.
    Timeout,
}

/// The input of the `interop_ack` entry point (§7 `InteropAck`): the acknowledgement or
/// timeout of a call this contract sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteropAck {
    /// The source channel (port `contract`) the call left on.
    pub channel: String,
    /// The packet sequence `interop_send` returned.
    pub sequence: u64,
    /// The target contract on the other chain.
    pub target: String,
    /// The message that was sent.
    pub msg: Vec<u8>,
    /// How it ended.
    pub outcome: InteropOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_hex_display_parse_and_json() {
        let a = Address([0xab; 20]);
        let s = format!("0x{}", "ab".repeat(20));
        assert_eq!(a.to_string(), s);
        assert_eq!(format!("{a:?}"), s);
        assert_eq!(s.parse::<Address>(), Ok(a));
        assert_eq!(
            "AB".repeat(20).parse::<Address>(),
            Ok(a),
            "no 0x, upper case"
        );
        for bad in [
            "",
            "0x",
            &"ab".repeat(19),
            &"ab".repeat(21),
            &format!("0x{}zz", "ab".repeat(19)),
        ] {
            assert_eq!(bad.parse::<Address>(), Err(ParseAddressError), "{bad}");
        }
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{s}\""));
        assert_eq!(
            serde_json::from_str::<Address>(&format!("\"{s}\"")).unwrap(),
            a
        );
        assert!(serde_json::from_str::<Address>("[1,2]").is_err());
    }

    #[test]
    fn amounts_are_exact_decimal_strings() {
        let max = Uint128::MAX;
        let json = serde_json::to_string(&max).unwrap();
        assert_eq!(json, "\"340282366920938463463374607431768211455\"");
        assert_eq!(serde_json::from_str::<Uint128>(&json).unwrap(), max);
        assert_eq!(
            serde_json::from_str::<Uint128>("\"007\"").unwrap(),
            Uint128(7)
        );
        for bad in [
            "1",
            "\"\"",
            "\"-1\"",
            "\"+1\"",
            "\"1.0\"",
            "\"1e3\"",
            "\" 1\"",
            "\"340282366920938463463374607431768211456\"",
            "null",
        ] {
            assert!(serde_json::from_str::<Uint128>(bad).is_err(), "{bad}");
        }
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct S {
            #[serde(with = "u128_dec")]
            raw: u128,
        }
        let s = S { raw: u128::MAX - 1 };
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(j, "{\"raw\":\"340282366920938463463374607431768211454\"}");
        assert_eq!(serde_json::from_str::<S>(&j).unwrap(), s);
        assert_eq!(Uint128(5).checked_sub(Uint128(6)), None);
        assert_eq!(Uint128::MAX.checked_add(Uint128(1)), None);
        assert_eq!(Uint128(5).saturating_sub(Uint128(6)), Uint128::ZERO);
        assert_eq!("12".parse::<Uint128>(), Ok(Uint128(12)));
    }
}
