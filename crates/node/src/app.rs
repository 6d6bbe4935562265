//! The ledger behind the consensus seam ([`meridian_consensus::Application`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use commonware_codec::DecodeExt as _;
use commonware_cryptography::{Digestible, Hasher, PublicKey};
use commonware_runtime::Clock;
use meridian_consensus::{Ancestors, Application, BlockContext, Digested, EpochMembers};
use meridian_crypto::Digest32;

use crate::ledger::{Ledger, LedgerError};
use crate::NodeBlock;

/// Adapts [`Ledger`] to consensus. Cheap to clone.
///
/// `C` is the runtime clock: with an empty mempool a leader waits up to `empty_block_wait` for
/// transactions before proposing, so an idle chain makes a few blocks a second instead of as
/// many as the network allows (each one fsynced). Keep the wait well below the leader timeout.
pub struct LedgerApp<C> {
    ledger: Arc<Ledger>,
    clock: Arc<C>,
    empty_block_wait: Duration,
    /// Nodes this one knows how to reach (its address book); those the chain admits follow
    /// the chain as non-voting peers (see [`Ledger::members_at`]).
    known_peers: Arc<Vec<meridian_crypto::PublicKey>>,
}

impl<C> Clone for LedgerApp<C> {
    fn clone(&self) -> Self {
        Self {
            ledger: self.ledger.clone(),
            clock: self.clock.clone(),
            empty_block_wait: self.empty_block_wait,
            known_peers: self.known_peers.clone(),
        }
    }
}

/// Default idle wait of a leader with nothing to propose.
pub const DEFAULT_EMPTY_BLOCK_WAIT: Duration = Duration::from_millis(300);

impl<C: Clock + Send + Sync + 'static> LedgerApp<C> {
    pub fn new(ledger: Arc<Ledger>, clock: C, empty_block_wait: Duration) -> Self {
        Self {
            ledger,
            clock: Arc::new(clock),
            empty_block_wait,
            known_peers: Arc::new(Vec::new()),
        }
    }

    /// The address book's keys (see the field doc).
    pub fn with_known_peers(mut self, peers: Vec<meridian_crypto::PublicKey>) -> Self {
        self.known_peers = Arc::new(peers);
        self
    }
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Makes sure every not-yet-executed ancestor of `parent` is executed, oldest first, so a
    /// node that restarted (empty speculative cache) or fell behind can still vote. Returns
    /// `Err` only for a permanently invalid chain.
    async fn catch_up<H: Hasher<Digest = Digest32>>(
        &self,
        parent: &Digested<NodeBlock<H>>,
        mut ancestors: Ancestors<NodeBlock<H>>,
    ) -> Result<(), LedgerError> {
        let mut missing = Vec::new();
        let mut cursor = parent.inner().block().clone();
        let finalized = self.ledger.finalized_height();
        loop {
            match self.ledger.verify(&cursor) {
                Ok(()) => break,
                Err(LedgerError::UnknownParent(_)) if cursor.header.height > finalized + 1 => {
                    missing.push(cursor);
                    match ancestors.next().await {
                        Some(b) => cursor = b.inner().block().clone(),
                        None => return Err(LedgerError::UnknownParent("ancestry ended".into())),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        for b in missing.into_iter().rev() {
            self.ledger.verify(&b)?;
        }
        Ok(())
    }
}

fn is_known<H: Hasher<Digest = Digest32>>(ledger: &Ledger, d: &Digested<NodeBlock<H>>) -> bool {
    let h = d.inner().block().header.height;
    h <= ledger.finalized_height()
        && ledger.store().block_hash(h).ok().flatten() == Some(d.digest().0)
}

/// `H` must be the chain suite's hash (SM3 for `sm`, SHA-256 for `intl`), so the block ids
/// consensus votes on equal the ledger's block hashes.
impl<H, P, C> Application<NodeBlock<H>, P> for LedgerApp<C>
where
    H: Hasher<Digest = Digest32>,
    P: PublicKey,
    C: Clock + Send + Sync + 'static,
{
    type Error = LedgerError;

    fn genesis(&self) -> NodeBlock<H> {
        NodeBlock::new(self.ledger.genesis_block().clone())
    }

    async fn propose(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<NodeBlock<H>>,
        ancestors: Ancestors<NodeBlock<H>>,
    ) -> Option<NodeBlock<H>> {
        let parent_hash = parent.digest().0;
        if !is_known(&self.ledger, &parent) {
            if let Err(e) = self.catch_up(&parent, ancestors).await {
                tracing::warn!(code = e.code(), error = %e, "cannot build on parent");
                return None;
            }
        }
        let mut waited = Duration::ZERO;
        let step = Duration::from_millis(10);
        while self.ledger.mempool_len() == 0 && waited < self.empty_block_wait {
            self.clock.sleep(step).await;
            waited += step;
        }
        let now_ms = self
            .clock
            .current()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(context.now_ms, |d| d.as_millis() as u64);
        let proposer = context.leader.encode().to_vec();
        match self
            .ledger
            .propose(&parent_hash, context.view, &proposer, now_ms)
        {
            Ok(block) => Some(NodeBlock::new(block)),
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "proposal failed");
                None
            }
        }
    }

    async fn verify(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<NodeBlock<H>>,
        block: Digested<NodeBlock<H>>,
        ancestors: Ancestors<NodeBlock<H>>,
    ) -> bool {
        let header = &block.inner().block().header;
        if header.proposer != context.leader.encode().as_ref() || header.view != context.view {
            tracing::warn!(
                height = header.height,
                "block names the wrong proposer or view"
            );
            return false;
        }
        if !is_known(&self.ledger, &parent) {
            match self.catch_up(&parent, ancestors).await {
                Ok(()) => {}
                Err(LedgerError::InvalidBlock(m)) => {
                    tracing::warn!(reason = %m, "invalid ancestor");
                    return false;
                }
                Err(e) => {
                    // Not provably invalid: stay undecided; consensus times the view out.
                    tracing::warn!(code = e.code(), error = %e, "cannot verify yet");
                    return futures::future::pending().await;
                }
            }
        }
        match self.ledger.verify(block.inner().block()) {
            Ok(()) => true,
            Err(LedgerError::InvalidBlock(m)) => {
                tracing::warn!(height = header.height, reason = %m, "rejecting block");
                false
            }
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "cannot verify block");
                futures::future::pending().await
            }
        }
    }

    fn members_at(&self, height: u64) -> Result<EpochMembers<P>, LedgerError> {
        let (validators, followers) = self.ledger.members_at(height, &self.known_peers)?;
        let convert = |keys: Vec<meridian_crypto::PublicKey>| {
            keys.iter()
                .map(|k| {
                    P::decode(bytes::Bytes::copy_from_slice(k.as_bytes())).map_err(|e| {
                        LedgerError::Corrupt(format!("validator key does not decode: {e}"))
                    })
                })
                .collect::<Result<Vec<P>, _>>()
        };
        Ok(EpochMembers {
            validators: convert(validators)?,
            followers: convert(followers)?,
        })
    }

    async fn finalized(
        &mut self,
        block: Digested<NodeBlock<H>>,
        finalization: Option<Bytes>,
    ) -> Result<(), LedgerError> {
        let cert = finalization.map(|b| b.to_vec()).unwrap_or_default();
        let b = block.inner().block();
        if b.header.height == 0 {
            return Ok(()); // genesis is committed when the ledger opens
        }
        self.ledger.finalize(b, cert)?;
        Ok(())
    }
}
