//! Starting one validator: simplex + marshal + buffered broadcast + backfill resolver.

use crate::{
    adapter::Adapter,
    application::Application,
    block::ChainBlock,
    delivery::{self, MarshalReporter, Tip},
    error::Error,
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
    types::{Epoch, FixedEpocher, Height, ViewDelta},
};
use commonware_cryptography::{
    certificate::ConstantProvider, sha256::Sha256, Digested, Digestible as _, Signer as _,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, Clock, Handle, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::{
    channel::oneshot, ordered::Set, sync::Mutex, NZDuration, NZUsize, NZU16, NZU64,
};
use futures::future::{select, select_all, Either};
use rand_core::CryptoRng;
use std::{
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
    /// The validator set from genesis, in any order (sorted internally; all nodes agree).
    pub participants: Vec<S::PublicKey>,
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
            participants: self.participants.clone(),
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
    /// A config with default timing and buffer sizes.
    pub fn new(
        chain_id: impl Into<String>,
        signer: S::Signer,
        participants: Vec<S::PublicKey>,
        partition_prefix: impl Into<String>,
        block_codec_config: B::Cfg,
    ) -> Self {
        Self {
            chain_id: chain_id.into(),
            signer,
            participants,
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
        if self.participants.is_empty() {
            return bad("participants must not be empty");
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
/// that send invalid data. All tasks run under one supervised task, so [`Validator::abort`]
/// stops everything.
pub async fn start_validator<E, S, B, A, Snd, Rcv, M, X>(
    context: E,
    config: ValidatorConfig<S, B>,
    app: A,
    channels: Channels<Snd, Rcv>,
    peers: M,
    blocker: X,
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
{
    config.validate()?;
    let namespace = consensus_namespace(&config.chain_id)?;
    let public_key = config.signer.public_key();
    let participants = Set::from_iter_dedup(config.participants.iter().cloned());
    let scheme = <S as ConsensusScheme>::signer(&namespace, participants, config.signer.clone())
        .ok_or(Error::NotAParticipant)?;

    let tip: Tip<B::Digest> = Arc::new(Mutex::new(None));
    let processed = Arc::new(Mutex::new(None));
    let (ready_tx, ready_rx) = oneshot::channel();
    let handle = {
        let tip = tip.clone();
        let processed = processed.clone();
        let public_key = public_key.clone();
        context.child("validator").spawn(move |context| async move {
            let parts = Parts {
                public_key,
                scheme,
                config,
                app,
                channels,
                peers,
                blocker,
                tip,
                processed,
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
            namespace,
        }),
        // Setup failed: the task's own result says why.
        Err(_) => match handle.await {
            Ok(Err(err)) => Err(err),
            _ => Err(Error::Stopped),
        },
    }
}

struct Parts<S: ConsensusScheme, B: ChainBlock, A, Snd, Rcv, M, X> {
    public_key: S::PublicKey,
    scheme: S,
    config: ValidatorConfig<S, B>,
    app: A,
    channels: Channels<Snd, Rcv>,
    peers: M,
    blocker: X,
    tip: Tip<B::Digest>,
    processed: Arc<Mutex<Option<u64>>>,
}

const PAGE_SIZE: u16 = 4096;
const PAGE_CACHE_PAGES: usize = 256;
const ITEMS_PER_SECTION: NonZeroU64 = NZU64!(4096);
const WRITE_BUFFER: NonZeroUsize = NZUsize!(1 << 16);
const REPLAY_BUFFER: NonZeroUsize = NZUsize!(1 << 20);
/// One epoch for the whole chain: the validator set is fixed at genesis. (`Inline` re-proposes the
/// last block of an epoch, so a finite epoch would stall the chain at its boundary.)
const EPOCH_LENGTH: NonZeroU64 = NZU64!(u64::MAX);

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

async fn run<E, S, B, A, Snd, Rcv, M, X>(
    context: E,
    parts: Parts<S, B, A, Snd, Rcv, M, X>,
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
{
    let Parts {
        public_key,
        scheme,
        config,
        app,
        channels,
        peers,
        blocker,
        tip,
        processed,
    } = parts;
    let prefix = config.partition_prefix.clone();
    let page_cache = CacheRef::new(NZU16!(PAGE_SIZE), NZUsize!(PAGE_CACHE_PAGES));

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

    // Marshal: orders finalized blocks, stores them with their certificates, repairs gaps.
    let app_for_genesis = app.clone();
    let genesis = Digested::compute(app_for_genesis.genesis(), &Sequential).await;
    let genesis_digest = genesis.digest();
    let provider = ConstantProvider::new(scheme.clone());
    let (actor, marshal_mailbox, _floor) = marshal::core::Actor::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider,
            epocher: FixedEpocher::new(EPOCH_LENGTH),
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

    // Simplex: votes on digests; Inline verifies through the application before voting.
    let inline = Inline::new(
        context.child("inline"),
        Adapter::<A, B, S>::new(app.clone()),
        marshal_mailbox.clone(),
        FixedEpocher::new(EPOCH_LENGTH),
    );
    let t = &config.timeouts;
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: inline,
            strategy: Sequential,
            partition: format!("{prefix}-simplex"),
            mailbox_size: config.mailbox_size,
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: REPLAY_BUFFER,
            write_buffer: WRITE_BUFFER,
            page_cache,
            leader_timeout: t.leader,
            certification_timeout: t.certification,
            timeout_retry: t.timeout_retry,
            view_retention: ViewDelta::new(config.view_retention),
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
    let simplex_handle = engine.start(channels.votes, channels.certificates, channels.resolver);
    info!(validator = ?public_key, "validator started");

    let delivery = delivery::run(app, marshal_mailbox.clone(), queue, processed);
    if ready.send(marshal_mailbox).is_err() {
        return Err(Error::Stopped);
    }
    let engines = select_all([marshal_handle, simplex_handle, broadcast_handle]);
    match select(Box::pin(delivery), engines).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(Error::Stopped),
    }
}
