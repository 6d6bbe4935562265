//! The seam between consensus and a Meridian application (executor + storage).

use crate::block::ChainBlock;
use bytes::Bytes;
use commonware_consensus::marshal::ancestry::{Ancestry, BoxedAncestry};
use commonware_cryptography::{Digested, PublicKey};
use futures::StreamExt as _;
use std::future::Future;

/// What consensus tells the application about the block it must build or check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext<P: PublicKey> {
    /// Height of the block being built or verified (parent height + 1).
    pub height: u64,
    /// Consensus view (round number) of the proposal; views skip when leaders time out.
    pub view: u64,
    /// The leader of this view, i.e. the proposer. A verified block must name this proposer
    /// if the block format records one.
    pub leader: P,
    /// The local clock, milliseconds since the Unix epoch, when consensus asked. Comes from the
    /// runtime clock so deterministic simulations stay reproducible.
    pub now_ms: u64,
}

/// Who takes part in one consensus epoch.
///
/// `validators` sign votes; `followers` may connect and sync finalized blocks but do not vote
/// (e.g. a node whose certificate is registered and that waits to be voted in). A node that is in
/// neither list is not admitted to the p2p network for that epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochMembers<P> {
    pub validators: Vec<P>,
    pub followers: Vec<P>,
}

/// Older ancestors of a parent block, newest first, fetched from peers on demand.
///
/// An application that keeps state only for finalized blocks walks this back until it reaches a
/// block whose post-state it knows, then re-executes forward. Each `next` may wait on the network;
/// the walk ends (returns `None`) at genesis.
pub struct Ancestors<B: ChainBlock> {
    inner: BoxedAncestry<B>,
}

impl<B: ChainBlock> Ancestors<B> {
    pub(crate) fn new(inner: impl Ancestry<B>) -> Self {
        Self {
            inner: BoxedAncestry::new(inner),
        }
    }

    /// The next older block (the parent of the block returned last).
    pub async fn next(&mut self) -> Option<Digested<B>> {
        self.inner.next().await
    }
}

/// A chain application driven by consensus.
///
/// # Contract
///
/// - **Determinism.** `verify` must return the same verdict on every honest validator for the same
///   `(parent, block)`: it re-executes the block on the parent's post-state and accepts only if
///   the resulting state root (and everything else the header commits to) matches. Validators vote
///   only for blocks they verified.
/// - **Speculation.** `propose` and `verify` run on blocks that are *not final*: the parent may be
///   only notarized and may later be abandoned. Keep speculative state keyed by block digest and
///   never persist it as final from these calls.
/// - **Pending, not false.** Return `false` from `verify` only when the block is invalid forever.
///   If something is missing (e.g. the parent's state is being rebuilt), keep the future pending;
///   consensus cancels it when the view moves on. All futures must be cancellation-safe.
/// - **Finality.** `finalized` is called in height order from genesis (height 0) onward,
///   **at least once** per block: after a restart, blocks whose processing was not acknowledged are
///   delivered again, so applying a block twice must be a no-op. Return only after the block and
///   its effects are durable; returning an error stops the validator (a failed storage write is
///   fatal, never skipped).
pub trait Application<B: ChainBlock, P: PublicKey>: Clone + Send + Sync + 'static {
    /// Error the application reports when it cannot persist a finalized block.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The genesis block (height 0). Must be identical on every validator; its digest anchors the
    /// chain in consensus.
    fn genesis(&self) -> B;

    /// Build a child of `parent` for `context` (we are the leader). Return `None` to skip the slot.
    /// The returned block must name `parent.digest()` as parent and have height `context.height`.
    fn propose(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<B>,
        ancestors: Ancestors<B>,
    ) -> impl Future<Output = Option<B>> + Send;

    /// Decide whether `block` is a valid child of `parent` under `context`. The adapter has already
    /// checked that `block.parent() == parent.digest()` and the heights are consecutive.
    fn verify(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<B>,
        block: Digested<B>,
        ancestors: Ancestors<B>,
    ) -> impl Future<Output = bool> + Send;

    /// The members of the epoch that starts right after block `height`, as the application's
    /// state after that block says. Consensus asks for height 0 (genesis: epoch 0) and for the
    /// last block of every epoch, only after that block was handed to
    /// [`finalized`](Self::finalized), so the answer is the same on every honest validator.
    /// An error stops the validator (without it, consensus cannot go on safely).
    fn members_at(&self, height: u64) -> Result<EpochMembers<P>, Self::Error>;

    /// `block` is final. `finalization` is the encoded
    /// `simplex::types::Finalization<S, B::Digest>` for this block, to be stored with it; it is
    /// `None` for genesis and for a block finalized only through a descendant's certificate
    /// (its own finalize quorum never formed), whose finality is proven by the next stored
    /// certificate plus the parent-hash chain.
    fn finalized(
        &mut self,
        block: Digested<B>,
        finalization: Option<Bytes>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}
