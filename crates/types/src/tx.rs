//! Transactions: what a client signs and submits.

use crate::codec::{decode_exact, CodecError, Decode, Encode, Reader, Writer};
use crate::limits::*;
use crate::{Hash32, HashFn};

/// A chain's identity. It is part of every signed message, so a transaction or a vote signed for
/// one chain never verifies on another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChainId(String);

impl ChainId {
    /// Accepts 1..=64 bytes of `[a-z0-9._-]`, which keeps ids safe in paths, URLs and logs.
    pub fn new(s: impl Into<String>) -> Result<Self, CodecError> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= MAX_CHAIN_ID_LEN
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(ChainId(s))
        } else {
            Err(CodecError::Invalid("chain_id"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ChainId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Encode for ChainId {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.0);
    }
}

impl Decode for ChainId {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        ChainId::new(r.string(MAX_CHAIN_ID_LEN, "chain_id")?)
    }
}

/// A call into a native module (later: a contract). Arguments are the module's own canonical
/// encoding, so new modules plug in without changing this type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub module: String,
    pub method: String,
    pub args: Vec<u8>,
}

impl Encode for Call {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.module);
        w.str(&self.method);
        w.bytes(&self.args);
    }
}

impl Decode for Call {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Call {
            module: r.string(MAX_NAME_LEN, "call.module")?,
            method: r.string(MAX_NAME_LEN, "call.method")?,
            args: r.bytes(MAX_CALL_ARGS_LEN, "call.args")?,
        })
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxBody {
    pub chain_id: ChainId,
    /// The sender's public key in the suite's canonical encoding.
    pub sender: Vec<u8>,
    /// Must equal the sender's next nonce when the transaction executes.
    pub nonce: u64,
    /// Last block height at which the transaction may be included.
    pub expiry_height: u64,
    pub call: Call,
}

impl Encode for TxBody {
    fn encode_to(&self, w: &mut Writer) {
        self.chain_id.encode_to(w);
        w.bytes(&self.sender);
        w.u64(self.nonce);
        w.u64(self.expiry_height);
        self.call.encode_to(w);
    }
}

impl Decode for TxBody {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(TxBody {
            chain_id: ChainId::decode_from(r)?,
            sender: r.bytes(MAX_PUBLIC_KEY_LEN, "tx.sender")?,
            nonce: r.u64("tx.nonce")?,
            expiry_height: r.u64("tx.expiry_height")?,
            call: Call::decode_from(r)?,
        })
    }
}

/// A transaction with the sender's signature over the encoded [`TxBody`] (under the
/// transaction signing domain of its chain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    pub body: TxBody,
    pub signature: Vec<u8>,
}

impl SignedTx {
    /// The transaction id: hash of the encoded body. Signatures are excluded so a re-signed
    /// body (SM2 signatures are randomised) is the same transaction and can execute only once.
    pub fn hash(&self, h: &(impl HashFn + ?Sized)) -> Hash32 {
        h.hash(&self.body.encode())
    }

    /// Decodes an untrusted transaction, enforcing [`MAX_TX_BYTES`] first.
    pub fn decode_untrusted(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(CodecError::TooLong {
                what: "transaction",
                len: bytes.len(),
                max: MAX_TX_BYTES,
            });
        }
        decode_exact(bytes)
    }
}

impl Encode for SignedTx {
    fn encode_to(&self, w: &mut Writer) {
        self.body.encode_to(w);
        w.bytes(&self.signature);
    }
}

impl Decode for SignedTx {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(SignedTx {
            body: TxBody::decode_from(r)?,
            signature: r.bytes(MAX_SIGNATURE_LEN, "tx.signature")?,
        })
    }
}
