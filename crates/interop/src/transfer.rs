//! Token transfer packet data and denomination traces (ICS-20 semantics).
//!
//! A denomination on the wire is a *trace*: the base symbol prefixed by one
//! `{port}/{channel}/` hop for every chain it entered as a voucher, e.g.
//! `transfer/channel-0/GOLD`. Sending over `(port, channel)` a denomination that starts with
//! `{port}/{channel}/` means it came in over that channel: it goes home (burn here, unescrow
//! there). Anything else leaves its source (escrow here, mint a voucher there with the
//! destination's `{port}/{channel}/` prepended).
//!
//! Vouchers are bank assets whose symbol is derived from the full trace
//! ([`voucher_symbol`]); the chain records symbol ↔ trace and refuses a clash.

use meridian_crypto::Suite;
use meridian_types::{Address, CodecError, Decode, Encode, Reader, Writer};

use crate::error::{codes, InteropError};
use crate::paths::check_id;

/// Longest denomination trace.
pub const MAX_DENOM_LEN: usize = 512;
/// Most hops a trace may record.
pub const MAX_HOPS: usize = 8;
/// Longest memo.
pub const MAX_MEMO_LEN: usize = 256;
/// Application version of transfer channels.
pub const VERSION: &str = "meridian-transfer-1";
/// The transfer application's port.
pub const PORT: &str = "transfer";

/// The packet data of one transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferData {
    /// The trace as the *sending* chain knows it.
    pub denom: String,
    pub amount: u128,
    /// Decimals of the base asset (carried so vouchers display like the original).
    pub decimals: u8,
    pub sender: Address,
    pub receiver: Address,
    pub memo: String,
}

impl TransferData {
    pub fn validate(&self) -> Result<(), InteropError> {
        check_denom(&self.denom)?;
        if self.amount == 0 {
            return Err(InteropError::new(
                codes::BAD_ARGS,
                "amount must be positive",
            ));
        }
        if self.memo.len() > MAX_MEMO_LEN {
            return Err(InteropError::new(codes::BAD_ARGS, "memo too long"));
        }
        Ok(())
    }
}

impl Encode for TransferData {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.denom);
        w.u128(self.amount);
        w.u8(self.decimals);
        self.sender.encode_to(w);
        self.receiver.encode_to(w);
        w.str(&self.memo);
    }
}

impl Decode for TransferData {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            denom: r.string(MAX_DENOM_LEN, "transfer.denom")?,
            amount: r.u128("transfer.amount")?,
            decimals: r.u8("transfer.decimals")?,
            sender: Address::decode_from(r)?,
            receiver: Address::decode_from(r)?,
            memo: r.string(MAX_MEMO_LEN, "transfer.memo")?,
        })
    }
}

/// A trace is `({port}/{channel}/)*BASE` with at most [`MAX_HOPS`] hops, valid identifiers and
/// a bank symbol as base.
pub fn check_denom(denom: &str) -> Result<(), InteropError> {
    let bad = |m: &str| InteropError::new(codes::BAD_DENOM, format!("denomination {denom:?}: {m}"));
    if denom.is_empty() || denom.len() > MAX_DENOM_LEN {
        return Err(bad("length"));
    }
    let parts: Vec<&str> = denom.split('/').collect();
    if parts.len().is_multiple_of(2) {
        return Err(bad(
            "expected {port}/{channel}/ pairs before the base symbol",
        ));
    }
    if (parts.len() - 1) / 2 > MAX_HOPS {
        return Err(bad("too many hops"));
    }
    let base = parts[parts.len() - 1];
    let symbol_ok = (1..=16).contains(&base.len())
        && base
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !symbol_ok {
        return Err(bad("base must be a bank symbol (1..=16 of [A-Z0-9])"));
    }
    for id in &parts[..parts.len() - 1] {
        check_id("trace hop", id).map_err(|e| bad(&e.message))?;
    }
    Ok(())
}

/// `{port}/{channel}/`: the prefix a chain adds to what it receives on that channel.
pub fn hop_prefix(port: &str, channel: &str) -> String {
    format!("{port}/{channel}/")
}

/// Whether `denom`, sent over `(port, channel)`, is going back to where it came from.
pub fn is_returning(denom: &str, port: &str, channel: &str) -> bool {
    denom.starts_with(&hop_prefix(port, channel))
}

/// The bank symbol of the voucher for trace `trace` on a chain of suite `suite`: `X` and the
/// first 15 hex digits (upper case) of the suite hash of the trace.
pub fn voucher_symbol(suite: Suite, trace: &str) -> String {
    let mut w = Writer::new();
    w.fixed(b"meridian/interop/voucher/v1");
    w.str(trace);
    let h = suite.hash(&w.into_bytes()).0;
    let hex = hex::encode_upper(h);
    format!("X{}", &hex[..15])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces() {
        check_denom("GOLD").unwrap();
        check_denom("transfer/channel-0/GOLD").unwrap();
        for bad in [
            "",
            "gold",
            "transfer/GOLD",
            "transfer/channel-0/",
            "Transfer/channel-0/GOLD",
            &"transfer/channel-0/".repeat(9).to_string(),
        ] {
            assert_eq!(
                check_denom(bad).unwrap_err().code,
                codes::BAD_DENOM,
                "{bad}"
            );
        }
        assert!(is_returning(
            "transfer/channel-0/GOLD",
            "transfer",
            "channel-0"
        ));
        assert!(!is_returning(
            "transfer/channel-01/GOLD",
            "transfer",
            "channel-0"
        ));
        assert!(!is_returning("GOLD", "transfer", "channel-0"));
        let s = voucher_symbol(Suite::Sm, "transfer/channel-0/GOLD");
        assert_eq!(s.len(), 16);
        assert!(s.starts_with('X'));
        assert_ne!(s, voucher_symbol(Suite::Sm, "transfer/channel-1/GOLD"));
        let d = TransferData {
            denom: "GOLD".into(),
            amount: 5,
            decimals: 2,
            sender: Address([1; 20]),
            receiver: Address([2; 20]),
            memo: String::new(),
        };
        d.validate().unwrap();
        let back: TransferData = crate::channel::decode_stored(&d.encode()).unwrap();
        assert_eq!(back, d);
    }
}
