//! Meridian's [`meridian_types::Block`] as a commonware block.

use bytes::{BufMut, Bytes};
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, Write};
use commonware_consensus::{types::Height, BoundedBlock, Heightable};
use commonware_cryptography::{Digestible, Hasher};
use meridian_crypto::Digest32;
use meridian_types::{Block, Encode as _, HashFn};
use std::{marker::PhantomData, sync::Arc};

/// A [`Block`] as consensus sees it. `H` is the chain's suite hash as a commonware hasher
/// (`meridian_crypto::Sm3Hasher` or `Sha256Hasher`).
///
/// The digest (what validators vote on) is `H(header encoding)` — the same block id as
/// `Block::hash` — and the header commits to the transactions through `tx_root`. It is computed
/// once, when the block is built or decoded. On the wire and in consensus storage a block is its
/// canonical `meridian-types` encoding behind a length prefix bounded by the codec config
/// (maximum block bytes).
pub struct MeridianBlock<H> {
    block: Arc<Block>,
    encoded: Bytes,
    id: Digest32,
    _hasher: PhantomData<fn() -> H>,
}

impl<H: Hasher<Digest = Digest32>> MeridianBlock<H> {
    /// Wraps `block`, computing its encoding and id.
    pub fn new(block: Block) -> Self {
        let encoded = Bytes::from(block.encode());
        let id = H::hash(&[&block.header.encode()]);
        Self {
            block: Arc::new(block),
            encoded,
            id,
            _hasher: PhantomData,
        }
    }

    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// Shared handle to the block (no copy).
    pub fn shared(&self) -> Arc<Block> {
        self.block.clone()
    }

    /// The block id (`Block::hash` under the suite hash).
    pub const fn id(&self) -> Digest32 {
        self.id
    }

    /// The canonical encoding of the block.
    pub fn encoded(&self) -> &Bytes {
        &self.encoded
    }
}

impl<H> Clone for MeridianBlock<H> {
    fn clone(&self) -> Self {
        Self {
            block: self.block.clone(),
            encoded: self.encoded.clone(),
            id: self.id,
            _hasher: PhantomData,
        }
    }
}

impl<H> std::fmt::Debug for MeridianBlock<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeridianBlock")
            .field("height", &self.block.header.height)
            .field("id", &self.id)
            .field("txs", &self.block.txs.len())
            .finish()
    }
}

impl<H> PartialEq for MeridianBlock<H> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<H> Eq for MeridianBlock<H> {}

impl<H: Hasher<Digest = Digest32>> Digestible for MeridianBlock<H> {
    type Digest = Digest32;

    fn digest(&self) -> Digest32 {
        self.id
    }
}

impl<H: Hasher<Digest = Digest32>> Heightable for MeridianBlock<H> {
    fn height(&self) -> Height {
        Height::new(self.block.header.height)
    }
}

impl<H: Hasher<Digest = Digest32>> commonware_consensus::Block for MeridianBlock<H> {
    fn parent(&self) -> Digest32 {
        Digest32(self.block.header.parent)
    }
}

impl<H> Write for MeridianBlock<H> {
    fn write(&self, buf: &mut impl BufMut) {
        self.encoded.write(buf);
    }
}

impl<H> EncodeSize for MeridianBlock<H> {
    fn encode_size(&self) -> usize {
        self.encoded.encode_size()
    }
}

impl<H: Hasher<Digest = Digest32>> Read for MeridianBlock<H> {
    /// Maximum encoded block size in bytes (e.g. `meridian_types::MAX_BLOCK_BYTES`).
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_bytes: &usize) -> Result<Self, CodecError> {
        let bytes = Bytes::read_cfg(buf, &RangeCfg::from(..=*max_bytes))?;
        let block = meridian_types::decode_exact::<Block>(&bytes)
            .map_err(|e| CodecError::Wrapped("MeridianBlock", Box::new(e)))?;
        // Bytes are stored and relayed as received, so they must be the one encoding.
        if block.encode() != bytes.as_ref() {
            return Err(CodecError::Invalid(
                "MeridianBlock",
                "non-canonical encoding",
            ));
        }
        // The id covers only the header; a peer must not be able to swap the transactions under
        // a finalized header, so the body is checked against `tx_root` before anyone sees it.
        if tx_root::<H>(&block) != block.header.tx_root {
            return Err(CodecError::Invalid(
                "MeridianBlock",
                "tx_root does not match txs",
            ));
        }
        let id = H::hash(&[&block.header.encode()]);
        Ok(Self {
            block: Arc::new(block),
            encoded: bytes,
            id,
            _hasher: PhantomData,
        })
    }
}

/// `meridian_types::HashFn` over a commonware hasher.
struct SuiteHash<H>(PhantomData<fn() -> H>);

impl<H: Hasher<Digest = Digest32>> HashFn for SuiteHash<H> {
    fn hash(&self, data: &[u8]) -> [u8; 32] {
        H::hash(&[data]).0
    }
}

/// The transaction root a header must carry for `block.txs` (see [`meridian_types::tx_root`]).
pub fn tx_root<H: Hasher<Digest = Digest32>>(block: &Block) -> [u8; 32] {
    meridian_types::tx_root(&SuiteHash::<H>(PhantomData), &block.txs)
}

impl<H: Hasher<Digest = Digest32>> BoundedBlock for MeridianBlock<H> {
    fn max_encode_size(max_bytes: &usize) -> usize {
        // Length prefix (varint, at most 10 bytes) plus the body.
        max_bytes.saturating_add(10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode as _, Encode as _};
    use meridian_crypto::{Sha256Hasher, Sm3Hasher};
    use meridian_types::{ChainId, Header};

    fn block<H: Hasher<Digest = Digest32>>(height: u64) -> Block {
        let mut block = Block {
            header: Header {
                chain_id: ChainId::new("test-chain").unwrap(),
                height,
                parent: [7; 32],
                timestamp_ms: 1_000,
                view: 3,
                proposer: vec![1; 32],
                tx_root: [0; 32],
                receipts_root: [0; 32],
                state_root: [9; 32],
            },
            txs: Vec::new(),
        };
        block.header.tx_root = tx_root::<H>(&block);
        block
    }

    fn roundtrip<H: Hasher<Digest = Digest32>>() {
        let original = MeridianBlock::<H>::new(block::<H>(5));
        let bytes = original.encode();
        let decoded = MeridianBlock::<H>::decode_cfg(bytes.clone(), &1024).unwrap();
        assert_eq!(decoded, original);
        assert_eq!(decoded.encode(), bytes);
        assert_eq!(decoded.height(), Height::new(5));
        assert_eq!(
            commonware_consensus::Block::parent(&decoded),
            Digest32([7; 32])
        );
        assert_eq!(
            decoded.digest(),
            H::hash(&[&original.block().header.encode()])
        );
        // The size bound is enforced before decoding the body.
        assert!(MeridianBlock::<H>::decode_cfg(bytes, &16).is_err());
    }

    #[test]
    fn roundtrip_both_suites() {
        roundtrip::<Sha256Hasher>();
        roundtrip::<Sm3Hasher>();
        assert_ne!(
            MeridianBlock::<Sha256Hasher>::new(block::<Sha256Hasher>(1)).id(),
            MeridianBlock::<Sm3Hasher>::new(block::<Sm3Hasher>(1)).id()
        );
    }

    #[test]
    fn rejects_body_not_matching_tx_root() {
        let mut forged = block::<Sha256Hasher>(1);
        forged.header.tx_root = [1; 32];
        let bytes = MeridianBlock::<Sha256Hasher>::new(forged).encode();
        assert!(MeridianBlock::<Sha256Hasher>::decode_cfg(bytes, &1024).is_err());
    }

    #[test]
    fn rejects_trailing_garbage() {
        let mut bytes = MeridianBlock::<Sha256Hasher>::new(block::<Sha256Hasher>(1))
            .encode()
            .to_vec();
        bytes.push(0);
        assert!(MeridianBlock::<Sha256Hasher>::decode_cfg(Bytes::from(bytes), &1024).is_err());
    }
}
