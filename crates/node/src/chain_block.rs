//! Meridian blocks as the commonware engines carry them.

use bytes::{Buf as _, BufMut};
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, Write};
use commonware_consensus::{types::Height, Heightable};
use commonware_cryptography::Digestible;
use meridian_crypto::{Digest32, Suite};
use meridian_types::{Block, Encode, MAX_BLOCK_BYTES};

use crate::hash::ChainHash;

/// A [`Block`] plus its id, with the commonware block and codec traits.
///
/// The digest is the suite hash of the header, which commits to every signed transaction
/// through `tx_root`, so the id consensus votes on pins the whole block. On the wire a block is
/// a `u32` length followed by our canonical encoding; decoding is bounded by
/// [`MAX_BLOCK_BYTES`] and re-derives the digest (never trusted from the wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeBlock {
    block: Block,
    digest: Digest32,
}

impl NodeBlock {
    pub fn new(block: Block, suite: Suite) -> Self {
        let digest = Digest32(block.hash(&ChainHash(suite)));
        Self { block, digest }
    }
    pub fn block(&self) -> &Block {
        &self.block
    }
    pub fn into_block(self) -> Block {
        self.block
    }
}

impl Write for NodeBlock {
    fn write(&self, buf: &mut impl BufMut) {
        let bytes = self.block.encode();
        buf.put_u32(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
        buf.put_slice(&bytes);
    }
}

impl EncodeSize for NodeBlock {
    fn encode_size(&self) -> usize {
        4 + self.block.encode().len()
    }
}

impl Read for NodeBlock {
    /// The chain's suite: the digest is recomputed with its hash.
    type Cfg = Suite;

    fn read_cfg(buf: &mut impl Buf, suite: &Suite) -> Result<Self, CodecError> {
        if buf.remaining() < 4 {
            return Err(CodecError::EndOfBuffer);
        }
        let len = buf.get_u32() as usize;
        if len > MAX_BLOCK_BYTES {
            return Err(CodecError::InvalidLength(len));
        }
        if buf.remaining() < len {
            return Err(CodecError::EndOfBuffer);
        }
        let mut raw = vec![0u8; len];
        buf.copy_to_slice(&mut raw);
        let block = Block::decode_untrusted(&raw)
            .map_err(|_| CodecError::Invalid("NodeBlock", "malformed block"))?;
        Ok(NodeBlock::new(block, *suite))
    }
}

impl Digestible for NodeBlock {
    type Digest = Digest32;
    fn digest(&self) -> Digest32 {
        self.digest
    }
}

impl Heightable for NodeBlock {
    fn height(&self) -> Height {
        Height::new(self.block.header.height)
    }
}

impl commonware_consensus::Block for NodeBlock {
    fn parent(&self) -> Digest32 {
        Digest32(self.block.header.parent)
    }
}
