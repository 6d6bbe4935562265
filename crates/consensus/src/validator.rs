//! Starting one validator: simplex + marshal + buffered broadcast + backfill resolver.

use crate::{
    adapter::Adapter,
    application::{Application, EpochMembers},
    block::ChainBlock,
    delivery::{self, MarshalReporter, Tip},
    error::Error,
    peers::PeerTracker,
    scheme::{consensus_namespace, ConsensusScheme},
};
use bytes::Bytes;
use commonware_broadcast::buffered;
use commonware_codec::Encode as _;
use commonware_consensus::{
    marshal::{
        self,
        core::Mailbox,
        resolver::p2p as marshal_resolver,
        standard::{Inline, Standard},
    },
    simplex::{self, elector::RoundRobin, scheme::Scheme as SimplexScheme},
    types::{Epoch, Epocher as _, FixedEpocher, Height, ViewDelta},
    Heightable as _,
};
use commonware_cryptography::{
    certificate, sha256::Sha256, Digested, Digestible as _, Signer as _,
};
use commonware_p2p::{
    utils::mux::{Builder as _, MuxHandle, Muxer},
    Blocker, Provider, Receiver, Sender,
};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, Clock, Handle, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::{
    acknowledgement::Exact,
    channel::{mpsc, oneshot},
    ordered::Set,
    sync::Mutex,
    vec::NonEmptyVec,
    Acknowledgement as _, NZDuration, NZUsize, NZU16, NZU64,
};
use futures::future::{select, select_all, Either};
use rand_core::CryptoRng;
use std::{
    collections::BTreeMap,
    num::{NonZeroU64, NonZeroUsize},
    sync::Arc,
    time::Duration,
};
use tracing::info;

/// p2p channel numbers. Every validator of a chain must use the same numbers.
pub mod channel {
    /// Simplex votes.
    pub const VOTES: u64 = 0;
    /// Simplex certificates (notarizations, nullifications, finalizations).
    pub const CERTIFICATES: u64 = 1;
    /// Simplex certificate fetches for missed views.
    pub const RESOLVER: u64 = 2;
    /// Marshal backfill of finalized/notarized blocks from peers (sync).
    pub const BACKFILL: u64 = 3;
    /// Full-block dissemination (buffered broadcast).
    pub const BLOCKS: u64 = 4;
    /// All channels, for registration loops.
    pub const ALL: [u64; 5] = [VOTES, CERTIFICATES, RESOLVER, BACKFILL, BLOCKS];
}

/// The five p2p channels one validator runs on, as `(sender, receiver)` pairs.
pub struct Channels<Snd, Rcv> {
    /// [`channel::VOTES`].
    pub votes: (Snd, Rcv),
    /// [`channel::CERTIFICATES`].
    pub certificates: (Snd, Rcv),
    /// [`channel::RESOLVER`].
    pub resolver: (Snd, Rcv),
    /// [`channel::BACKFILL`].
    pub backfill: (Snd, Rcv),
    /// [`channel::BLOCKS`].
    pub blocks: (Snd, Rcv),
}

/// Consensus timing. Defaults suit a LAN or a simulated network with tens of milliseconds latency.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// How long to wait for the leader's proposal before voting to skip the view.
    pub leader: Duration,
    /// How long to wait for a notarized view to certify before voting to skip it (> `leader`).
    pub certification: Duration,
    /// How often to rebroadcast a skip vote while stuck in a view.
    pub timeout_retry: Duration,
    /// Early skip of inactive leaders (`> certification` and `> timeout_retry`); `None` disables.
    pub skip: Option<Duration>,
    /// Timeout of one fetch from a peer (certificates and blocks).
    pub fetch: Duration,
    /// Delay before retrying a fetch that found nothing.
    pub fetch_retry: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            leader: Duration::from_secs(1),
            certification: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(10),
            skip: Some(Duration::from_secs(11)),
            fetch: Duration::from_secs(1),
            fetch_retry: Duration::from_millis(100),
        }
    }
}

/// Configuration of one validator.
pub struct ValidatorConfig<S: ConsensusScheme, B: ChainBlock> {
    /// The chain id (1..=64 bytes, as in genesis). Bound into every vote (see
    /// [`consensus_namespace`]).
    pub chain_id: String,
    /// This validator's identity key (votes and p2p).
    pub signer: S::Signer,
    /// Blocks per epoch (at least 2; `u64::MAX` = one epoch forever). The validator set of each
    /// epoch comes from [`Application::members_at`] at the previous epoch's last block; a change
    /// made in epoch `e` signs votes from the first height of epoch `e + 1`. Same on every node.
    pub epoch_blocks: u64,
    /// Prefix for every storage partition this validator opens. Reusing the prefix after a crash
    /// resumes from what was stored. Letters, digits, `-` and `_` only.
    pub partition_prefix: String,
    /// Codec config (size limits) for decoding blocks from peers and storage.
    pub block_codec_config: B::Cfg,
    /// Consensus timing.
    pub timeouts: Timeouts,
    /// Capacity of each internal actor mailbox.
    pub mailbox_size: NonZeroUsize,
    /// Finalized blocks handed to the application but not yet acknowledged.
    pub max_pending_acks: NonZeroUsize,
    /// Views of recent activity kept behind the finalized tip (for lagging peers).
    pub view_retention: u64,
    /// Missing finalized heights fetched from peers concurrently while catching up.
    pub max_repair: NonZeroUsize,
}

impl<S: ConsensusScheme, B: ChainBlock> Clone for ValidatorConfig<S, B> {
    fn clone(&self) -> Self {
        Self {
            chain_id: self.chain_id.clone(),
            signer: self.signer.clone(),
            epoch_blocks: self.epoch_blocks,
            partition_prefix: self.partition_prefix.clone(),
            block_codec_config: self.block_codec_config.clone(),
            timeouts: self.timeouts.clone(),
            mailbox_size: self.mailbox_size,
            max_pending_acks: self.max_pending_acks,
            view_retention: self.view_retention,
            max_repair: self.max_repair,
        }
    }
}

impl<S: ConsensusScheme, B: ChainBlock> ValidatorConfig<S, B> {
    /// A config with default timing and buffer sizes and a single epoch.
    pub fn new(
        chain_id: impl Into<String>,
        signer: S::Signer,
        partition_prefix: impl Into<String>,
        block_codec_config: B::Cfg,
    ) -> Self {
        Self {
            chain_id: chain_id.into(),
            signer,
            epoch_blocks: u64::MAX,
            partition_prefix: partition_prefix.into(),
            block_codec_config,
            timeouts: Timeouts::default(),
            mailbox_size: NZUsize!(1024),
            max_pending_acks: NZUsize!(16),
            view_retention: 16,
            max_repair: NZUsize!(16),
        }
    }

    /// Checks what the engines would otherwise assert on (they panic).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: &str| Err(Error::InvalidConfig(msg.to_string()));
        consensus_namespace(&self.chain_id)?;
        if self.epoch_blocks < 2 {
            return bad("epoch_blocks must be at least 2");
        }
        if self.partition_prefix.is_empty()
            || !self
                .partition_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad("partition_prefix must be non-empty [A-Za-z0-9_-]");
        }
        let t = &self.timeouts;
        if t.leader.is_zero() || t.timeout_retry.is_zero() || t.fetch.is_zero() {
            return bad("timeouts must be positive");
        }
        if t.certification <= t.leader {
            return bad("timeouts.certification must exceed timeouts.leader");
        }
        if let Some(skip) = t.skip {
            if skip <= t.certification || skip <= t.timeout_retry {
                return bad("timeouts.skip must exceed certification and timeout_retry");
            }
        }
        if self.view_retention == 0 {
            return bad("view_retention must be positive");
        }
        Ok(())
    }
}

/// A running validator. Dropping it does not stop it; call [`Validator::abort`].
pub struct Validator<S: ConsensusScheme, B: ChainBlock> {
    public_key: S::PublicKey,
    handle: Handle<Result<(), Error>>,
    marshal: Mailbox<S, Standard<B>>,
    tip: Tip<B::Digest>,
    processed: Arc<Mutex<Option<u64>>>,
    epoch: Arc<Mutex<u64>>,
    namespace: Vec<u8>,
}

impl<S, B> Validator<S, B>
where
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
{
    /// This validator's identity.
    pub const fn public_key(&self) -> &S::PublicKey {
        &self.public_key
    }

    /// The consensus namespace votes are signed under (derived from the chain id). Needed to
    /// build a verifier for stored finalization certificates.
    pub fn namespace(&self) -> &[u8] {
        &self.namespace
    }

    /// Highest finalized `(height, digest)` known to this node (may be ahead of what the
    /// application has processed while it catches up).
    pub fn finalized_tip(&self) -> Option<(u64, B::Digest)> {
        *self.tip.lock()
    }

    /// Highest height the application acknowledged in this run.
    pub fn processed_height(&self) -> Option<u64> {
        *self.processed.lock()
    }

    /// The epoch whose consensus engine runs now.
    pub fn epoch(&self) -> u64 {
        *self.epoch.lock()
    }

    /// A finalized block stored by consensus, by height.
    pub async fn block(&self, height: u64) -> Option<Digested<B>> {
        self.marshal.get_block(Height::new(height)).await
    }

    /// The encoded finalization certificate stored for the block at `height`, if any.
    pub async fn finalization(&self, height: u64) -> Option<Bytes> {
        self.marshal
            .get_finalization(Height::new(height))
            .await
            .map(|f| f.encode())
    }

    /// Stops every task of this validator (as a crash would: storage stays as written).
    pub fn abort(&self) {
        self.handle.abort();
    }

    /// Waits until the validator stops and reports why.
    pub async fn stopped(self) -> Result<(), Error> {
        match self.handle.await {
            Ok(result) => result,
            Err(_) => Err(Error::Stopped),
        }
    }
}

/// Starts a validator: opens its archives, wires simplex, marshal, block broadcast and backfill
/// onto `channels`, and hands finalized blocks to `app`.
///
/// `peers` tells broadcast and backfill whom to talk to; `blocker` lets the engines block peers
/// that send invalid data; `tracker` is told the members of every epoch (see [`PeerTracker`]).
/// All tasks run under one supervised task, so [`Validator::abort`] stops everything.
///
/// A node that is not a validator of the current epoch runs as a follower: it verifies and
/// stores finalized blocks and starts voting when an epoch makes it a validator.
#[allow(clippy::too_many_arguments)]
pub async fn start_validator<E, S, B, A, Snd, Rcv, M, X, T>(
    context: E,
    config: ValidatorConfig<S, B>,
    app: A,
    channels: Channels<Snd, Rcv>,
    peers: M,
    blocker: X,
    tracker: T,
) -> Result<Validator<S, B>, Error>
where
    E: Spawner + Clock + Storage + Metrics + CryptoRng,
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
    A: Application<B, S::PublicKey>,
    Snd: Sender<PublicKey = S::PublicKey>,
    Rcv: Receiver<PublicKey = S::PublicKey>,
    M: Provider<PublicKey = S::PublicKey>,
    X: Blocker<PublicKey = S::PublicKey>,
    T: PeerTracker<S::PublicKey>,
{
    config.validate()?;
    let namespace = consensus_namespace(&config.chain_id)?;
    let public_key = config.signer.public_key();

    let tip: Tip<B::Digest> = Arc::new(Mutex::new(None));
    let processed = Arc::new(Mutex::new(None));
    let epoch = Arc::new(Mutex::new(0));
    let (ready_tx, ready_rx) = oneshot::channel();
    let handle = {
        let tip = tip.clone();
        let processed = processed.clone();
        let epoch = epoch.clone();
        let public_key = public_key.clone();
        let namespace = namespace.clone();
        context.child("validator").spawn(move |context| async move {
            let parts = Parts {
                public_key,
                namespace,
                config,
                app,
                channels,
                peers,
                blocker,
                tracker,
                tip,
                processed,
                epoch,
            };
            run(context, parts, ready_tx).await
        })
    };
    match ready_rx.await {
        Ok(marshal) => Ok(Validator {
            public_key,
            handle,
            marshal,
            tip,
            processed,
            epoch,
            namespace,
        }),
        // Setup failed: the task's own result says why.
        Err(_) => match handle.await {
            Ok(Err(err)) => Err(err),
            _ => Err(Error::Stopped),
        },
    }
}

struct Parts<S: ConsensusScheme, B: ChainBlock, A, Snd, Rcv, M, X, T> {
    public_key: S::PublicKey,
    namespace: Vec<u8>,
    config: ValidatorConfig<S, B>,
    app: A,
    channels: Channels<Snd, Rcv>,
    peers: M,
    blocker: X,
    tracker: T,
    tip: Tip<B::Digest>,
    processed: Arc<Mutex<Option<u64>>>,
    epoch: Arc<Mutex<u64>>,
}

const PAGE_SIZE: u16 = 4096;
const PAGE_CACHE_PAGES: usize = 256;
const ITEMS_PER_SECTION: NonZeroU64 = NZU64!(4096);
const WRITE_BUFFER: NonZeroUsize = NZUsize!(1 << 16);
const REPLAY_BUFFER: NonZeroUsize = NZUsize!(1 << 20);

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 1 << 16,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 1 << 16,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 1 << 30,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: ITEMS_PER_SECTION,
        codec_config,
        replay_buffer: REPLAY_BUFFER,
        freezer_key_write_buffer: WRITE_BUFFER,
        freezer_value_write_buffer: WRITE_BUFFER,
        ordinal_write_buffer: WRITE_BUFFER,
    }
}

/// The simplex journal of one epoch. Epoch 0 keeps the name single-epoch chains always used.
fn simplex_partition(prefix: &str, epoch: u64) -> String {
    if epoch == 0 {
        format!("{prefix}-simplex")
    } else {
        format!("{prefix}-simplex-e{epoch}")
    }
}

async fn run<E, S, B, A, Snd, Rcv, M, X, T>(
    context: E,
    parts: Parts<S, B, A, Snd, Rcv, M, X, T>,
    ready: oneshot::Sender<Mailbox<S, Standard<B>>>,
) -> Result<(), Error>
where
    E: Spawner + Clock + Storage + Metrics + CryptoRng,
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
    A: Application<B, S::PublicKey>,
    Snd: Sender<PublicKey = S::PublicKey>,
    Rcv: Receiver<PublicKey = S::PublicKey>,
    M: Provider<PublicKey = S::PublicKey>,
    X: Blocker<PublicKey = S::PublicKey>,
    T: PeerTracker<S::PublicKey>,
{
    let Parts {
        public_key,
        namespace,
        config,
        app,
        channels,
        peers,
        blocker,
        tracker,
        tip,
        processed,
        epoch: current_epoch,
    } = parts;
    let prefix = config.partition_prefix.clone();
    let page_cache = CacheRef::new(NZU16!(PAGE_SIZE), NZUsize!(PAGE_CACHE_PAGES));
    let epoch_blocks = NonZeroU64::new(config.epoch_blocks).unwrap_or(NZU64!(u64::MAX));
    let epocher = FixedEpocher::new(epoch_blocks);

    // Finalized blocks and their certificates, by height. Marshal writes both before it hands a
    // block to the application, so a restart never loses a finalized block.
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(
            &prefix,
            "finalizations",
            &page_cache,
            S::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .map_err(|e| Error::Storage(e.to_string()))?;
    let blocks = immutable::Archive::init(
        context.child("blocks"),
        archive_config(
            &prefix,
            "blocks",
            &page_cache,
            config.block_codec_config.clone(),
        ),
    )
    .await
    .map_err(|e| Error::Storage(e.to_string()))?;

    // Backfill: fetch blocks/finalizations we are missing from peers.
    let resolver = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: public_key.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size: config.mailbox_size,
            fetch_timeout: commonware_utils::NonZeroDuration::new(config.timeouts.fetch)
                .unwrap_or(NZDuration!(Duration::from_secs(1))),
            fetch_retry_delay: config.timeouts.fetch_retry,
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );

    // Block dissemination: the proposer pushes full blocks; validators cache them by digest.
    let (broadcast, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: public_key.clone(),
            mailbox_size: config.mailbox_size,
            deque_size: 16,
            priority: false,
            codec_config: config.block_codec_config.clone(),
            peer_provider: peers.clone(),
            strategy: Sequential,
        },
    );
    let broadcast_handle = broadcast.start(channels.blocks);

    // Marshal: orders finalized blocks, stores them with their certificates, repairs gaps. It
    // verifies each certificate with the scheme of the certificate's epoch.
    let genesis = Digested::compute(app.genesis(), &Sequential).await;
    let genesis_digest = genesis.digest();
    let schemes = EpochSchemes::<S>::default();
    let (actor, marshal_mailbox, _floor) = marshal::core::Actor::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: schemes.clone(),
            epocher: epocher.clone(),
            start: marshal::Start::Genesis(genesis),
            partition_prefix: format!("{prefix}-marshal"),
            mailbox_size: config.mailbox_size,
            view_retention: ViewDelta::new(config.view_retention),
            prunable_items_per_section: NZU64!(64),
            page_cache: page_cache.clone(),
            replay_buffer: REPLAY_BUFFER,
            key_write_buffer: WRITE_BUFFER,
            value_write_buffer: WRITE_BUFFER,
            block_codec_config: config.block_codec_config.clone(),
            max_repair: config.max_repair,
            max_pending_acks: config.max_pending_acks,
            strategy: Sequential,
        },
    )
    .await;
    let (reporter, queue) = MarshalReporter::<B>::new(tip);
    let marshal_handle = actor.start(reporter, buffer, resolver);

    // Votes, certificates and simplex fetches are multiplexed by epoch: one simplex engine runs
    // per epoch, on its own subchannels. Traffic for an epoch we have not entered yet lands in
    // the backup receivers and tells us to fetch the boundary we are missing.
    let (mux, votes, vote_backup) = Muxer::builder(
        context.child("vote_mux"),
        channels.votes.0,
        channels.votes.1,
    )
    .with_backup()
    .build();
    let vote_mux = mux.start();
    let (mux, certificates, certificate_backup) = Muxer::builder(
        context.child("certificate_mux"),
        channels.certificates.0,
        channels.certificates.1,
    )
    .with_backup()
    .build();
    let certificate_mux = mux.start();
    let (mux, resolvers) = Muxer::new(
        context.child("resolver_mux"),
        channels.resolver.0,
        channels.resolver.1,
    );
    let resolver_mux = mux.start();

    // Simplex: votes on digests; Inline verifies through the application before voting.
    let inline = Inline::new(
        context.child("inline"),
        Adapter::<A, B, S>::new(app.clone()),
        marshal_mailbox.clone(),
        epocher.clone(),
    );
    let mut epochs: Epochs<_, _, _, _, _, Rcv, _, _> = Epochs {
        context: context.child("epochs"),
        config,
        namespace,
        prefix,
        page_cache,
        blocker,
        tracker,
        inline,
        schemes,
        votes,
        certificates,
        resolvers,
        current: current_epoch,
        _app: std::marker::PhantomData,
    };

    // Resume in the epoch of the next block marshal will deliver.
    let next_height = marshal_mailbox
        .get_processed()
        .await
        .map_or(0, |p| p.height().get().saturating_add(1));
    let epoch = epocher
        .containing(Height::new(next_height))
        .map(|info| info.epoch().get())
        .ok_or_else(|| Error::InvalidConfig("height beyond the last epoch".into()))?;
    let (boundary, floor) = if epoch == 0 {
        (0, genesis_digest)
    } else {
        let boundary = last_height(&epocher, epoch - 1)?;
        let block = marshal_mailbox
            .get_block(Height::new(boundary))
            .await
            .ok_or_else(|| Error::Storage(format!("boundary block {boundary} is missing")))?;
        (boundary, block.digest())
    };
    if epoch > 0 {
        // Certificates of the previous epoch may still arrive (late boundary finalization).
        let previous = if epoch == 1 {
            0
        } else {
            last_height(&epocher, epoch - 2)?
        };
        let members = members_of(&app, previous)?;
        epochs.install_scheme(epoch - 1, &members);
    }
    let members = members_of(&app, boundary)?;
    let mut engine = epochs.enter(epoch, &members, floor).await?;
    info!(validator = ?public_key, epoch, "validator started");

    if ready.send(marshal_mailbox.clone()).is_err() {
        return Err(Error::Stopped);
    }
    let orchestrate = orchestrate(
        app,
        marshal_mailbox,
        queue,
        processed,
        epocher,
        &mut epochs,
        &mut engine,
        vote_backup,
        certificate_backup,
    );
    let engines = select_all([marshal_handle, broadcast_handle]);
    let muxes = select_all([vote_mux, certificate_mux, resolver_mux]);
    let result = match select(Box::pin(orchestrate), select(engines, muxes)).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(Error::Stopped),
    };
    engine.abort();
    result
}

fn last_height(epocher: &FixedEpocher, epoch: u64) -> Result<u64, Error> {
    epocher
        .last(Epoch::new(epoch))
        .map(|h| h.get())
        .ok_or_else(|| Error::InvalidConfig(format!("epoch {epoch} is beyond the epoch range")))
}

fn members_of<A, B, P>(app: &A, height: u64) -> Result<EpochMembers<P>, Error>
where
    B: ChainBlock,
    P: commonware_cryptography::PublicKey,
    A: Application<B, P>,
{
    let members = app.members_at(height).map_err(|e| Error::Application {
        height,
        reason: format!("validator set: {e}"),
    })?;
    if members.validators.is_empty() {
        return Err(Error::Application {
            height,
            reason: "the validator set is empty".into(),
        });
    }
    Ok(members)
}

/// Hands finalized blocks to the application in order and switches epochs at boundaries.
///
/// A boundary block (the last of its epoch) is acknowledged only after the next epoch's engine
/// runs, so a crash in between redelivers it and the switch happens again on restart.
#[allow(clippy::too_many_arguments)]
async fn orchestrate<E, S, B, A, Snd, Rcv, X, T>(
    mut app: A,
    marshal: Mailbox<S, Standard<B>>,
    mut blocks: mpsc::UnboundedReceiver<(Digested<B>, Exact)>,
    processed: Arc<Mutex<Option<u64>>>,
    epocher: FixedEpocher,
    epochs: &mut Epochs<E, S, B, A, Snd, Rcv, X, T>,
    engine: &mut Handle<()>,
    mut vote_backup: mpsc::Receiver<(u64, commonware_p2p::Message<S::PublicKey>)>,
    mut certificate_backup: mpsc::Receiver<(u64, commonware_p2p::Message<S::PublicKey>)>,
) -> Result<(), Error>
where
    E: Spawner + Clock + Storage + Metrics + CryptoRng,
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
    A: Application<B, S::PublicKey>,
    Snd: Sender<PublicKey = S::PublicKey>,
    Rcv: Receiver<PublicKey = S::PublicKey>,
    X: Blocker<PublicKey = S::PublicKey>,
    T: PeerTracker<S::PublicKey>,
{
    loop {
        let current = epochs.epoch();
        let hint = |marshal: &Mailbox<S, Standard<B>>, their: u64, from: S::PublicKey| {
            // A peer is in a later epoch: fetch the finalization of our epoch's last block.
            if their > current {
                if let Some(last) = epocher.last(Epoch::new(current)) {
                    marshal.hint_finalized(last, NonEmptyVec::new(from));
                }
            }
        };
        commonware_macros::select! {
            next = blocks.recv() => {
                let Some((block, ack)) = next else {
                    return Ok(());
                };
                let height = block.height().get();
                delivery::deliver(&mut app, &marshal, &block).await?;
                if epocher.last(Epoch::new(current)).map(|h| h.get()) == Some(height) {
                    let members = members_of(&app, height)?;
                    let next_engine = epochs.enter(current + 1, &members, block.digest()).await?;
                    let old = std::mem::replace(engine, next_engine);
                    old.abort();
                    epochs.forget(current);
                }
                ack.acknowledge();
                *processed.lock() = Some(height);
            },
            message = vote_backup.recv() => {
                if let Some((their, (from, _))) = message {
                    hint(&marshal, their, from);
                }
            },
            message = certificate_backup.recv() => {
                if let Some((their, (from, _))) = message {
                    hint(&marshal, their, from);
                }
            },
            _ = &mut *engine => {
                return Err(Error::Stopped);
            },
        }
    }
}

/// The signing scheme of every epoch marshal may still see certificates from.
pub(crate) struct EpochSchemes<S> {
    inner: Arc<Mutex<BTreeMap<u64, Arc<S>>>>,
}

impl<S> Default for EpochSchemes<S> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }
}

impl<S> Clone for EpochSchemes<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<S: certificate::Scheme> certificate::Provider for EpochSchemes<S> {
    type Scope = Epoch;
    type Scheme = S;

    fn scoped(&self, scope: Epoch) -> Option<certificate::Scoped<S>> {
        self.inner
            .lock()
            .get(&scope.get())
            .cloned()
            .map(certificate::Scoped::scheme)
    }
}

/// Starts the simplex engine of each epoch with that epoch's validator set.
struct Epochs<E, S: ConsensusScheme, B: ChainBlock, A, Snd: Sender, Rcv, X, T>
where
    E: Spawner + Clock + Storage + Metrics + CryptoRng,
    S: SimplexScheme<B::Digest>,
    A: Application<B, S::PublicKey>,
    Snd: Sender<PublicKey = S::PublicKey>,
{
    context: E,
    config: ValidatorConfig<S, B>,
    namespace: Vec<u8>,
    prefix: String,
    page_cache: CacheRef,
    blocker: X,
    tracker: T,
    inline: Inline<E, S, Adapter<A, B, S>, B, FixedEpocher>,
    schemes: EpochSchemes<S>,
    votes: MuxHandle<Snd>,
    certificates: MuxHandle<Snd>,
    resolvers: MuxHandle<Snd>,
    current: Arc<Mutex<u64>>,
    _app: std::marker::PhantomData<fn() -> Rcv>,
}

impl<E, S, B, A, Snd, Rcv, X, T> Epochs<E, S, B, A, Snd, Rcv, X, T>
where
    E: Spawner + Clock + Storage + Metrics + CryptoRng,
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
    A: Application<B, S::PublicKey>,
    Snd: Sender<PublicKey = S::PublicKey>,
    Rcv: Receiver<PublicKey = S::PublicKey>,
    X: Blocker<PublicKey = S::PublicKey>,
    T: PeerTracker<S::PublicKey>,
{
    fn epoch(&self) -> u64 {
        *self.current.lock()
    }

    /// Registers the scheme of `epoch` (signing if we are one of its validators).
    fn install_scheme(&self, epoch: u64, members: &EpochMembers<S::PublicKey>) -> Arc<S> {
        let participants = Set::from_iter_dedup(members.validators.iter().cloned());
        let scheme = Arc::new(
            <S as ConsensusScheme>::signer(
                &self.namespace,
                participants.clone(),
                self.config.signer.clone(),
            )
            .unwrap_or_else(|| <S as ConsensusScheme>::verifier(&self.namespace, participants)),
        );
        self.schemes.inner.lock().insert(epoch, scheme.clone());
        scheme
    }

    /// Drops schemes and the journal of epochs before `epoch` (certificates of the epoch just
    /// left may still arrive late, so it stays).
    fn forget(&self, left: u64) {
        self.schemes.inner.lock().retain(|&e, _| e >= left);
        if left > 0 {
            let partition = simplex_partition(&self.prefix, left - 1);
            self.context
                .child("prune")
                .spawn(move |context| async move {
                    let _ = context.remove(&partition, None).await;
                });
        }
    }

    /// Starts the engine of `epoch`, whose first block's parent is `floor`.
    async fn enter(
        &mut self,
        epoch: u64,
        members: &EpochMembers<S::PublicKey>,
        floor: B::Digest,
    ) -> Result<Handle<()>, Error> {
        let scheme = self.install_scheme(epoch, members);
        self.tracker.track(epoch, members);
        let votes = self
            .votes
            .register(epoch)
            .await
            .map_err(|_| Error::Stopped)?;
        let certificates = self
            .certificates
            .register(epoch)
            .await
            .map_err(|_| Error::Stopped)?;
        let resolver = self
            .resolvers
            .register(epoch)
            .await
            .map_err(|_| Error::Stopped)?;
        let t = &self.config.timeouts;
        let engine = simplex::Engine::new(
            self.context.child("simplex"),
            simplex::Config {
                scheme: scheme.as_ref().clone(),
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.blocker.clone(),
                automaton: self.inline.clone(),
                relay: self.inline.clone(),
                reporter: self.inline.clone(),
                strategy: Sequential,
                partition: simplex_partition(&self.prefix, epoch),
                mailbox_size: self.config.mailbox_size,
                epoch: Epoch::new(epoch),
                floor: simplex::Floor::Genesis(floor),
                replay_buffer: REPLAY_BUFFER,
                write_buffer: WRITE_BUFFER,
                page_cache: self.page_cache.clone(),
                leader_timeout: t.leader,
                certification_timeout: t.certification,
                timeout_retry: t.timeout_retry,
                view_retention: ViewDelta::new(self.config.view_retention),
                skip: match t.skip {
                    Some(timeout) => simplex::SkipPolicy::Enabled {
                        timeout,
                        budget: simplex::SkipBudget::Participants,
                    },
                    None => simplex::SkipPolicy::Disabled,
                },
                fetch_timeout: commonware_utils::NonZeroDuration::new(t.fetch)
                    .unwrap_or(NZDuration!(Duration::from_secs(1))),
                fetch_retry_delay: t.fetch_retry,
                forward: simplex::ForwardPolicy::SilentLeader,
                track_historical_votes: false,
            },
        );
        let handle = engine.start(votes, certificates, resolver);
        *self.current.lock() = epoch;
        info!(
            epoch,
            validators = members.validators.len(),
            followers = members.followers.len(),
            "entered epoch"
        );
        Ok(handle)
    }
}
