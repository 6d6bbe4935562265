//! Bridges our [`Application`] onto commonware marshal's `Application` (driven by `Inline`).

use crate::{
    application::{Ancestors, Application, BlockContext},
    block::ChainBlock,
};
use commonware_consensus::{
    marshal::ancestry::Ancestry, simplex::types::Context, Heightable as _, Viewable as _,
};
use commonware_cryptography::{certificate::Scheme, Digested, Digestible as _};
use commonware_parallel::Sequential;
use commonware_runtime::Clock;
use futures::StreamExt as _;
use std::{marker::PhantomData, time::UNIX_EPOCH};
use tracing::warn;

/// Wraps the application so marshal's `Inline` wrapper can drive it.
pub(crate) struct Adapter<A, B, S> {
    app: A,
    _marker: PhantomData<fn() -> (B, S)>,
}

impl<A: Clone, B, S> Clone for Adapter<A, B, S> {
    fn clone(&self) -> Self {
        Self {
            app: self.app.clone(),
            _marker: PhantomData,
        }
    }
}

impl<A, B, S> Adapter<A, B, S> {
    pub(crate) const fn new(app: A) -> Self {
        Self {
            app,
            _marker: PhantomData,
        }
    }
}

fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl<E, A, B, S> commonware_consensus::Application<E> for Adapter<A, B, S>
where
    E: Clock + Send + Sync + 'static,
    B: ChainBlock,
    S: Scheme,
    A: Application<B, S::PublicKey>,
{
    type SigningScheme = S;
    type Context = Context<B::Digest, S::PublicKey>;
    type Block = B;
    type Input = ();

    async fn propose(
        &mut self,
        (clock, context): (E, Self::Context),
        mut ancestry: impl Ancestry<B>,
        _input: (),
    ) -> Option<Digested<B>> {
        // Marshal's ancestry starts at the parent we are to build on.
        let parent = ancestry.next().await?;
        let height = parent.height().get().checked_add(1)?;
        let block_context = BlockContext {
            height,
            view: context.view().get(),
            leader: context.leader,
            now_ms: now_ms(&clock),
        };
        let parent_digest = parent.digest();
        let block = self
            .app
            .propose(block_context, parent, Ancestors::new(ancestry))
            .await?;
        if block.parent() != parent_digest || block.height().get() != height {
            // A malformed proposal would only be rejected by every peer; skip the slot instead.
            warn!(
                height,
                "application proposed a block that does not extend the parent"
            );
            return None;
        }
        Some(Digested::compute(block, &Sequential).await)
    }

    async fn verify(
        &mut self,
        (clock, context): (E, Self::Context),
        mut ancestry: impl Ancestry<B>,
    ) -> bool {
        // Marshal's ancestry starts at the block under test, then its parent. If either cannot be
        // produced we have no verdict: stay pending (consensus cancels on view change).
        let Some(block) = ancestry.next().await else {
            return std::future::pending().await;
        };
        let Some(parent) = ancestry.next().await else {
            return std::future::pending().await;
        };
        let block_context = BlockContext {
            height: block.height().get(),
            view: context.view().get(),
            leader: context.leader,
            now_ms: now_ms(&clock),
        };
        self.app
            .verify(block_context, parent, block, Ancestors::new(ancestry))
            .await
    }
}
