//! The ledger behind the consensus seam ([`meridian_consensus::Application`]).

use std::sync::Arc;

use bytes::Bytes;
use commonware_cryptography::{Digestible, Hasher, PublicKey};
use meridian_consensus::{Ancestors, Application, BlockContext, Digested};
use meridian_crypto::Digest32;

use crate::ledger::{Ledger, LedgerError};
use crate::NodeBlock;

/// Adapts [`Ledger`] to consensus. Cheap to clone.
#[derive(Clone)]
pub struct LedgerApp {
    ledger: Arc<Ledger>,
}

impl LedgerApp {
    pub fn new(ledger: Arc<Ledger>) -> Self {
        Self { ledger }
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
impl<H: Hasher<Digest = Digest32>, P: PublicKey> Application<NodeBlock<H>, P> for LedgerApp {
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
        let proposer = context.leader.encode().to_vec();
        match self
            .ledger
            .propose(&parent_hash, context.view, &proposer, context.now_ms)
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
        tracing::debug!(height = b.header.height, txs = b.txs.len(), "finalized");
        Ok(())
    }
}
