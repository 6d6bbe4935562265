//! What the adapter requires of a chain's block type.

use commonware_codec::Codec;

/// A block the commonware engines can carry.
///
/// `commonware_consensus::Block` asks for a height, a digest (the block's identity, which is what
/// validators vote on) and the parent's digest; `Codec` is how marshal stores blocks and how
/// buffered broadcast and backfill ship them. The encoding must be canonical
/// (`encode(decode(b)) == b`) and bounded by the codec config, because blocks arrive from peers.
///
/// The digest must commit to the whole block (header and transactions), otherwise two different
/// blocks could collect votes under one digest.
pub trait ChainBlock: commonware_consensus::Block + Codec {}

impl<T: commonware_consensus::Block + Codec> ChainBlock for T {}
