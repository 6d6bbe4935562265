//! `notary` (存证): proof that a document existed at a time and who registered it.
//!
//! A client registers the hash of a document (computed off-chain with the chain's hash) plus
//! bounded metadata. The record's timestamp is the block time and its owner is the signer, so
//! neither can be forged by the caller. Registering a hash twice is refused: the first
//! registration is the proof of priority. Because records live in the authenticated state, a
//! record's existence, owner and time — or its absence — are shown with a JMT proof against a
//! finalized header.
//!
//! State layout: `notary/doc/<32-byte document hash>` → [`Record`].

use meridian_execution::{codes, Module, ModuleError, TxContext};
use meridian_types::{
    decode_exact, Address, Call, CodecError, Decode, Encode, Hash32, Reader, Writer,
};

pub const NAME: &str = "notary";
/// Largest metadata blob (e.g. a file name and a content type, as UTF-8 or JSON).
pub const MAX_METADATA_LEN: usize = 1024;

pub mod errors {
    pub const ALREADY_REGISTERED: &str = "notary.already_registered";
    pub const METADATA_TOO_LARGE: &str = "notary.metadata_too_large";
    pub const CORRUPT_STATE: &str = "notary.corrupt_state";
}

/// A notarisation record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub doc_hash: Hash32,
    pub owner: Address,
    pub timestamp_ms: u64,
    pub height: u64,
    pub tx_hash: Hash32,
    pub metadata: Vec<u8>,
}

impl Encode for Record {
    fn encode_to(&self, w: &mut Writer) {
        w.fixed(&self.doc_hash);
        self.owner.encode_to(w);
        w.u64(self.timestamp_ms);
        w.u64(self.height);
        w.fixed(&self.tx_hash);
        w.bytes(&self.metadata);
    }
}

impl Decode for Record {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Record {
            doc_hash: r.array("record.doc_hash")?,
            owner: Address::decode_from(r)?,
            timestamp_ms: r.u64("record.timestamp_ms")?,
            height: r.u64("record.height")?,
            tx_hash: r.array("record.tx_hash")?,
            metadata: r.bytes(MAX_METADATA_LEN, "record.metadata")?,
        })
    }
}

/// Decodes a stored record.
pub fn decode_record(v: &[u8]) -> Result<Record, CodecError> {
    decode_exact(v)
}

/// State key of a document's record.
pub fn record_key(doc_hash: &Hash32) -> Vec<u8> {
    let mut k = format!("{NAME}/doc/").into_bytes();
    k.extend_from_slice(doc_hash);
    k
}

/// The notary's one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    pub doc_hash: Hash32,
    pub metadata: Vec<u8>,
}

impl Register {
    pub fn into_call(self) -> Call {
        let mut w = Writer::new();
        w.fixed(&self.doc_hash);
        w.bytes(&self.metadata);
        Call {
            module: NAME.into(),
            method: "register".into(),
            args: w.into_bytes(),
        }
    }

    pub fn decode(args: &[u8]) -> Result<Self, ModuleError> {
        let mut r = Reader::new(args);
        let parse = |r: &mut Reader<'_>| -> Result<Self, CodecError> {
            Ok(Register {
                doc_hash: r.array("doc_hash")?,
                metadata: r.bytes(MAX_METADATA_LEN, "metadata")?,
            })
        };
        let reg = parse(&mut r).map_err(|e| match e {
            CodecError::TooLong { .. } => {
                ModuleError::new(errors::METADATA_TOO_LARGE, e.to_string())
            }
            _ => ModuleError::new(codes::BAD_ARGS, e.to_string()),
        })?;
        r.finish()
            .map_err(|e| ModuleError::new(codes::BAD_ARGS, e.to_string()))?;
        Ok(reg)
    }
}

/// The typed event: `notarized` with data = encoded [`Notarized`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notarized {
    pub doc_hash: Hash32,
    pub owner: Address,
    pub timestamp_ms: u64,
}

impl Notarized {
    pub const KIND: &'static str = "notarized";

    pub fn decode(data: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(data);
        let ev = Notarized {
            doc_hash: r.array("doc_hash")?,
            owner: Address::decode_from(&mut r)?,
            timestamp_ms: r.u64("timestamp_ms")?,
        };
        r.finish()?;
        Ok(ev)
    }

    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.fixed(&self.doc_hash);
        self.owner.encode_to(&mut w);
        w.u64(self.timestamp_ms);
        w.into_bytes()
    }
}

/// The notary module.
#[derive(Default, Clone, Copy)]
pub struct Notary;

impl Module for Notary {
    fn name(&self) -> &'static str {
        NAME
    }

    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        if method != "register" {
            return Err(ModuleError::new(
                codes::UNKNOWN_METHOD,
                format!("notary has no method {method}"),
            ));
        }
        let reg = Register::decode(args)?;
        let key = record_key(&reg.doc_hash);
        if let Some(existing) = ctx.get(&key) {
            let rec = decode_record(&existing)
                .map_err(|e| ModuleError::new(errors::CORRUPT_STATE, e.to_string()))?;
            return Err(ModuleError::new(
                errors::ALREADY_REGISTERED,
                format!(
                    "document already registered at height {} by {}",
                    rec.height, rec.owner
                ),
            ));
        }
        let record = Record {
            doc_hash: reg.doc_hash,
            owner: ctx.sender,
            timestamp_ms: ctx.time_ms,
            height: ctx.height,
            tx_hash: ctx.tx_hash,
            metadata: reg.metadata,
        };
        ctx.set(key, record.encode())?;
        let ev = Notarized {
            doc_hash: record.doc_hash,
            owner: record.owner,
            timestamp_ms: record.timestamp_ms,
        };
        ctx.emit(Notarized::KIND, ev.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_execution::{BlockEnv, ExecMode, Executor, StateRead, TxAuthenticator};
    use meridian_types::{ChainId, HashFn, SignedTx, TxBody};
    use sha2::Digest;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    struct Sha;
    impl HashFn for Sha {
        fn hash(&self, d: &[u8]) -> Hash32 {
            sha2::Sha256::digest(d).into()
        }
    }
    /// Signatures are checked by the node (tested there); this isolates the notary's rules.
    struct AcceptAll;
    impl TxAuthenticator for AcceptAll {
        fn authenticate(&self, _: &SignedTx, _: &Hash32) -> bool {
            true
        }
    }

    fn tx(who: u8, nonce: u64, reg: Register) -> SignedTx {
        SignedTx {
            body: TxBody {
                chain_id: ChainId::new("n").unwrap(),
                sender: vec![who; 33],
                nonce,
                expiry_height: 100,
                call: reg.into_call(),
            },
            signature: vec![],
        }
    }

    #[test]
    fn register_once_with_block_time_and_sender() {
        let exec = Executor::new(vec![Arc::new(Notary)]);
        let env = BlockEnv {
            chain_id: ChainId::new("n").unwrap(),
            height: 5,
            time_ms: 1_700_000_000_000,
        };
        let doc = Sha.hash(b"contract.pdf");
        let reg = Register {
            doc_hash: doc,
            metadata: b"contract.pdf".to_vec(),
        };
        let txs = vec![tx(1, 0, reg.clone()), tx(2, 0, reg)];
        let base = BTreeMap::new();
        let out = exec
            .execute_block(&Sha, &AcceptAll, &base, &env, txs, ExecMode::Verify)
            .unwrap();
        assert_eq!(out.receipts[0].code, "ok");
        assert_eq!(out.receipts[1].code, errors::ALREADY_REGISTERED);
        let mut state = BTreeMap::new();
        for (k, v) in out.writes {
            if let Some(v) = v {
                state.insert(k, v);
            }
        }
        let rec = decode_record(&StateRead::get(&state, &record_key(&doc)).unwrap()).unwrap();
        assert_eq!(rec.owner, Address::from_public_key(&Sha, &[1; 33]));
        assert_eq!((rec.timestamp_ms, rec.height), (1_700_000_000_000, 5));
        let ev = &out.receipts[0].events[0];
        assert_eq!(Notarized::decode(&ev.data).unwrap().doc_hash, doc);
        assert_eq!(decode_record(&rec.encode()).unwrap(), rec);
    }

    proptest::proptest! {
        /// Records, call arguments and events roundtrip; garbage never panics.
        #[test]
        fn encodings_roundtrip(
            doc in proptest::prelude::any::<[u8; 32]>(),
            owner in proptest::prelude::any::<[u8; 20]>(),
            t in proptest::prelude::any::<u64>(),
            meta in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..MAX_METADATA_LEN),
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
        ) {
            let rec = Record { doc_hash: doc, owner: Address(owner), timestamp_ms: t, height: t / 2, tx_hash: doc, metadata: meta.clone() };
            proptest::prop_assert_eq!(decode_record(&rec.encode()).unwrap(), rec);
            let reg = Register { doc_hash: doc, metadata: meta };
            proptest::prop_assert_eq!(Register::decode(&reg.clone().into_call().args).unwrap(), reg);
            let ev = Notarized { doc_hash: doc, owner: Address(owner), timestamp_ms: t };
            proptest::prop_assert_eq!(Notarized::decode(&ev.encode()).unwrap(), ev);
            let _ = decode_record(&junk);
            let _ = Register::decode(&junk);
            let _ = Notarized::decode(&junk);
        }
    }

    #[test]
    fn oversized_metadata_and_bad_method() {
        let big = Register {
            doc_hash: [0; 32],
            metadata: vec![0; MAX_METADATA_LEN + 1],
        };
        assert_eq!(
            Register::decode(&big.into_call().args).unwrap_err().code,
            errors::METADATA_TOO_LARGE
        );
        assert_eq!(Register::decode(&[1, 2]).unwrap_err().code, codes::BAD_ARGS);
    }
}
