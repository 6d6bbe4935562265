//! Blocks and headers.

use crate::codec::{decode_seq, encode_seq, CodecError, Decode, Encode, Reader, Writer};
use crate::limits::*;
use crate::merkle::merkle_root;
use crate::tx::{ChainId, SignedTx};
use crate::{Hash32, HashFn};

/// A block header. `state_root` is the authenticated-state root *after* this block executed, so
/// a finalized header is immediately a light-client anchor for proofs about the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub chain_id: ChainId,
    pub height: u64,
    /// Hash of the parent header (all zeros for genesis).
    pub parent: Hash32,
    /// Proposer's clock, milliseconds since the Unix epoch; never below the parent's.
    pub timestamp_ms: u64,
    /// Consensus view (round) in which the block was proposed.
    pub view: u64,
    /// Proposer's public key in the suite's encoding (empty for genesis).
    pub proposer: Vec<u8>,
    /// Merkle root of the hashes of the full signed transactions (signature included), in order.
    pub tx_root: Hash32,
    /// Merkle root of the receipt hashes, in block order.
    pub receipts_root: Hash32,
    /// Authenticated (JMT) state root after executing this block.
    pub state_root: Hash32,
}

impl Header {
    pub fn hash(&self, h: &(impl HashFn + ?Sized)) -> Hash32 {
        h.hash(&self.encode())
    }
}

impl Encode for Header {
    fn encode_to(&self, w: &mut Writer) {
        self.chain_id.encode_to(w);
        w.u64(self.height);
        w.fixed(&self.parent);
        w.u64(self.timestamp_ms);
        w.u64(self.view);
        w.bytes(&self.proposer);
        w.fixed(&self.tx_root);
        w.fixed(&self.receipts_root);
        w.fixed(&self.state_root);
    }
}

impl Decode for Header {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Header {
            chain_id: ChainId::decode_from(r)?,
            height: r.u64("header.height")?,
            parent: r.array("header.parent")?,
            timestamp_ms: r.u64("header.timestamp_ms")?,
            view: r.u64("header.view")?,
            proposer: r.bytes(MAX_PUBLIC_KEY_LEN, "header.proposer")?,
            tx_root: r.array("header.tx_root")?,
            receipts_root: r.array("header.receipts_root")?,
            state_root: r.array("header.state_root")?,
        })
    }
}

/// A header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub txs: Vec<SignedTx>,
}

impl Block {
    /// The block id is the hash of its header (which commits to the transactions via `tx_root`).
    pub fn hash(&self, h: &(impl HashFn + ?Sized)) -> Hash32 {
        self.header.hash(h)
    }

    /// Decodes an untrusted block, enforcing [`MAX_BLOCK_BYTES`] first.
    pub fn decode_untrusted(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MAX_BLOCK_BYTES {
            return Err(CodecError::TooLong {
                what: "block",
                len: bytes.len(),
                max: MAX_BLOCK_BYTES,
            });
        }
        crate::codec::decode_exact(bytes)
    }
}

impl Encode for Block {
    fn encode_to(&self, w: &mut Writer) {
        self.header.encode_to(w);
        encode_seq(w, &self.txs);
    }
}

impl Decode for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Block {
            header: Header::decode_from(r)?,
            txs: decode_seq(r, MAX_BLOCK_TXS, "block.txs")?,
        })
    }
}

/// The `tx_root` a header must carry for `txs`: a Merkle root over the suite hashes of the
/// *full* signed encodings (signature included), so a block id pins every transaction byte.
pub fn tx_root(h: &(impl HashFn + ?Sized), txs: &[SignedTx]) -> Hash32 {
    let leaves: Vec<Hash32> = txs.iter().map(|t| h.hash(&t.encode())).collect();
    merkle_root(h, &leaves)
}
