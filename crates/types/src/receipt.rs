//! Receipts and events: the outcome of each transaction.

use crate::codec::{decode_seq, encode_seq, CodecError, Decode, Encode, Reader, Writer};
use crate::limits::*;
use crate::{Address, Hash32};

/// A typed event envelope. `module` + `kind` name the event; `data` is the module's canonical
/// encoding of the typed event (each module crate exports the typed enum and its decoder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub module: String,
    pub kind: String,
    pub data: Vec<u8>,
}

impl Encode for Event {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.module);
        w.str(&self.kind);
        w.bytes(&self.data);
    }
}

impl Decode for Event {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Event {
            module: r.string(MAX_NAME_LEN, "event.module")?,
            kind: r.string(MAX_EVENT_KIND_LEN, "event.kind")?,
            data: r.bytes(MAX_EVENT_DATA_LEN, "event.data")?,
        })
    }
}

/// Who signed a transaction on a certificate-permissioned chain: the signer's organisation and
/// the id (suite hash of the DER) of the certificate that authorised it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerId {
    pub org: String,
    pub cert_id: Hash32,
}

/// The outcome of one transaction. A failed transaction carries its stable error `code`, emits
/// no events, and changes nothing but the sender's nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub tx_hash: Hash32,
    pub height: u64,
    pub index: u32,
    pub sender: Address,
    /// `"ok"` on success, otherwise a stable error code such as `"bank.insufficient_balance"`.
    pub code: String,
    pub message: String,
    pub events: Vec<Event>,
    /// The signer's certificate identity (`None` on a chain without certificates).
    pub signer: Option<SignerId>,
    /// Fuel a contract call consumed, on success and on failure (0 for native modules).
    pub gas_used: u64,
}

impl Receipt {
    pub fn is_success(&self) -> bool {
        self.code == "ok"
    }
}

impl Encode for Receipt {
    fn encode_to(&self, w: &mut Writer) {
        w.fixed(&self.tx_hash);
        w.u64(self.height);
        w.u32(self.index);
        self.sender.encode_to(w);
        w.str(&self.code);
        w.str(&self.message);
        encode_seq(w, &self.events);
        match &self.signer {
            None => w.u8(0),
            Some(s) => {
                w.u8(1);
                w.str(&s.org);
                w.fixed(&s.cert_id);
            }
        }
        w.u64(self.gas_used);
    }
}

impl Decode for Receipt {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Receipt {
            tx_hash: r.array("receipt.tx_hash")?,
            height: r.u64("receipt.height")?,
            index: r.u32("receipt.index")?,
            sender: Address::decode_from(r)?,
            code: r.string(MAX_RECEIPT_CODE_LEN, "receipt.code")?,
            message: r.string(MAX_ERROR_MESSAGE_LEN, "receipt.message")?,
            events: decode_seq(r, MAX_EVENTS_PER_TX, "receipt.events")?,
            signer: match r.u8("receipt.signer")? {
                0 => None,
                1 => Some(SignerId {
                    org: r.string(MAX_NAME_LEN * 2, "receipt.signer.org")?,
                    cert_id: r.array("receipt.signer.cert_id")?,
                }),
                _ => return Err(CodecError::Invalid("receipt.signer tag")),
            },
            gas_used: r.u64("receipt.gas_used")?,
        })
    }
}
