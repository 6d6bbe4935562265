//! Hands finalized blocks from marshal to the application, with their certificates.

use crate::{application::Application, block::ChainBlock, error::Error};
use bytes::Bytes;
use commonware_actor::Feedback;
use commonware_codec::Encode as _;
use commonware_consensus::{
    marshal::{core::Mailbox, standard::Standard, Update},
    simplex::scheme::Scheme as SimplexScheme,
    types::Height,
    Heightable as _, Reporter,
};
use commonware_cryptography::{Digested, Digestible as _};
use commonware_utils::{acknowledgement::Exact, channel::mpsc, sync::Mutex};
use std::sync::Arc;
use tracing::{debug, error};

/// The latest finalized tip marshal has announced, shared with the validator handle.
pub(crate) type Tip<D> = Arc<Mutex<Option<(u64, D)>>>;

/// Marshal's reporter: records tips, queues blocks for the delivery task.
///
/// The queue is unbounded as a channel but bounded in practice: marshal never has more than
/// `max_pending_acks` blocks dispatched and unacknowledged, and each queued block holds one ack.
pub(crate) struct MarshalReporter<B: ChainBlock> {
    blocks: mpsc::UnboundedSender<(Digested<B>, Exact)>,
    tip: Tip<B::Digest>,
}

impl<B: ChainBlock> Clone for MarshalReporter<B> {
    fn clone(&self) -> Self {
        Self {
            blocks: self.blocks.clone(),
            tip: self.tip.clone(),
        }
    }
}

impl<B: ChainBlock> MarshalReporter<B> {
    pub(crate) fn new(
        tip: Tip<B::Digest>,
    ) -> (Self, mpsc::UnboundedReceiver<(Digested<B>, Exact)>) {
        let (blocks, receiver) = mpsc::unbounded_channel();
        (Self { blocks, tip }, receiver)
    }
}

impl<B: ChainBlock> Reporter for MarshalReporter<B> {
    type Activity = Update<B>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Update::Tip(_, height, digest) => {
                *self.tip.lock() = Some((height.get(), digest));
                Feedback::Ok
            }
            Update::Block(block, ack) => match self.blocks.send((block, ack)) {
                Ok(()) => Feedback::Ok,
                // The delivery task is gone (validator stopping): dropping the ack stops marshal.
                Err(_) => Feedback::Closed,
            },
        }
    }
}

/// Hands one finalized block (with its certificate, if marshal holds one) to the application.
/// The caller acknowledges the block only after this returned `Ok`, so an unacknowledged block
/// is redelivered after a restart; an error stops the validator.
pub(crate) async fn deliver<A, B, S>(
    app: &mut A,
    marshal: &Mailbox<S, Standard<B>>,
    block: &Digested<B>,
) -> Result<(), Error>
where
    B: ChainBlock,
    S: SimplexScheme<B::Digest>,
    A: Application<B, S::PublicKey>,
{
    let height = block.height();
    let finalization = certificate_for(marshal, height, block).await;
    debug!(
        height = height.get(),
        with_certificate = finalization.is_some(),
        "delivering finalized block"
    );
    if let Err(err) = app.finalized(block.clone(), finalization).await {
        error!(height = height.get(), %err, "application failed to apply finalized block; stopping");
        return Err(Error::Application {
            height: height.get(),
            reason: err.to_string(),
        });
    }
    Ok(())
}

/// The encoded finalization for `block`, if marshal holds one for exactly this block.
async fn certificate_for<B, S>(
    marshal: &Mailbox<S, Standard<B>>,
    height: Height,
    block: &Digested<B>,
) -> Option<Bytes>
where
    B: ChainBlock,
    S: SimplexScheme<B::Digest>,
{
    let finalization = marshal.get_finalization(height).await?;
    (finalization.proposal.payload == block.digest()).then(|| finalization.encode())
}
