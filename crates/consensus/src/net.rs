//! Running a validator on real sockets with authenticated, encrypted p2p.
//!
//! Only the configured peers (public key + address) may connect; each connection is
//! authenticated with the node's suite key (SAKE handshake under a namespace bound to the chain
//! id) and encrypted (ChaCha20-Poly1305).

use crate::{
    application::Application,
    block::ChainBlock,
    error::Error,
    peers::TrackAddresses,
    scheme::{p2p_namespace, ConsensusScheme},
    validator::{channel, start_validator, Channels, Validator, ValidatorConfig},
};
use commonware_consensus::{
    marshal::{self, standard::Standard},
    simplex::{self, scheme::Scheme as SimplexScheme},
    BoundedBlock,
};
use commonware_cryptography::ChaCha20Poly1305;
use commonware_p2p::{authenticated::lookup, Address};
use commonware_runtime::{
    Clock, Metrics, Network as RNetwork, Quota, Resolver, Runner as _, Spawner, Storage,
};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{ordered::Map, NZUsize, NZU32};
use rand_core::CryptoRng;
use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};

/// Network settings of one node.
#[derive(Clone, Debug)]
pub struct NetConfig<P> {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The address book: every node this one may talk to (validators and followers, including
    /// itself) and the address it listens on. Which of them may connect in an epoch is decided
    /// by the epoch's members ([`crate::EpochMembers`]); a member missing here is unreachable.
    pub peers: Vec<(P, SocketAddr)>,
    /// Largest p2p message in bytes; must admit the largest block plus a certificate, and be the
    /// same on every node. Use [`max_message_size`].
    pub max_message_size: u32,
    /// Permit private/loopback addresses and dial eagerly (devnets, tests). Production: `false`.
    pub local: bool,
    /// Per-peer, per-channel message rate.
    pub messages_per_second: NonZeroU32,
}

impl<P> NetConfig<P> {
    /// Defaults: 8 MiB messages, 1024 messages/s per peer and channel.
    pub fn new(listen: SocketAddr, peers: Vec<(P, SocketAddr)>, local: bool) -> Self {
        Self {
            listen,
            peers,
            max_message_size: 8 << 20,
            local,
            messages_per_second: NZU32!(1024),
        }
    }
}

/// The smallest p2p `max_message_size` that carries every consensus message (votes, certificates,
/// whole blocks under `block_cfg`, backfill responses) for `participants` validators. Every node of
/// a chain must use the same value.
pub fn max_message_size<S, B>(participants: u32, block_cfg: &B::Cfg) -> u32
where
    S: SimplexScheme<B::Digest>,
    B: ChainBlock + BoundedBlock,
{
    commonware_p2p::max_message_size(&[
        simplex::max_payload_size::<S, B::Digest>(participants),
        marshal::max_payload_size::<Standard<B>, S>(participants, block_cfg),
    ])
}

/// Starts the p2p network and a validator on it, on any runtime that has real (or simulated)
/// sockets. Returns once the validator is running.
pub async fn run_validator<E, S, B, A>(
    context: E,
    config: ValidatorConfig<S, B>,
    net: NetConfig<S::PublicKey>,
    app: A,
) -> Result<Validator<S, B>, Error>
where
    E: Spawner + Clock + Storage + Metrics + CryptoRng + RNetwork + Resolver,
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
    A: Application<B, S::PublicKey>,
{
    run_validator_with_channels(context, config, net, app, &[])
        .await
        .map(|(validator, _)| validator)
}

/// An application channel on the same authenticated network (e.g. transaction gossip).
pub struct ExtraChannel<P: commonware_cryptography::PublicKey, E: Clock> {
    /// The channel id that was registered.
    pub id: u64,
    /// Sends to peers on this channel.
    pub sender: lookup::Sender<P, E>,
    /// Receives from peers on this channel.
    pub receiver: lookup::Receiver<P>,
}

/// Like [`run_validator`], and also registers `extra` channel ids (which must not collide with
/// [`channel::ALL`]) on the same network, handing their endpoints back in the same order.
pub async fn run_validator_with_channels<E, S, B, A>(
    context: E,
    config: ValidatorConfig<S, B>,
    net: NetConfig<S::PublicKey>,
    app: A,
    extra: &[u64],
) -> Result<(Validator<S, B>, Vec<ExtraChannel<S::PublicKey, E>>), Error>
where
    E: Spawner + Clock + Storage + Metrics + CryptoRng + RNetwork + Resolver,
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
    A: Application<B, S::PublicKey>,
{
    config.validate()?;
    for (i, id) in extra.iter().enumerate() {
        if channel::ALL.contains(id) || extra[..i].contains(id) {
            return Err(Error::InvalidConfig(format!(
                "extra channel {id} collides with another channel"
            )));
        }
    }
    let peers: Map<S::PublicKey, Address> = Map::try_from(
        net.peers
            .iter()
            .map(|(key, addr)| (key.clone(), Address::from(*addr)))
            .collect::<Vec<_>>(),
    )
    .map_err(|_| Error::InvalidConfig("duplicate peer public key".into()))?;
    let max_peers = NZUsize!(peers.len().max(1));
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer: config.signer.clone(),
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let namespace = p2p_namespace(&config.chain_id)?;
    let p2p_config = if net.local {
        lookup::Config::local(
            handshake,
            &namespace,
            net.listen,
            max_peers,
            net.max_message_size,
            NZUsize!(1024),
        )
    } else {
        lookup::Config::recommended(
            handshake,
            &namespace,
            net.listen,
            max_peers,
            net.max_message_size,
            NZUsize!(1024),
        )
    };
    let (mut network, oracle) = lookup::Network::new(context.child("p2p"), p2p_config);
    let tracker = TrackAddresses::new(oracle.clone(), peers.into_iter().collect());
    let quota = Quota::per_second(net.messages_per_second);
    let mut register = |ch| network.register(ch, quota);
    let channels = Channels {
        votes: register(channel::VOTES),
        certificates: register(channel::CERTIFICATES),
        resolver: register(channel::RESOLVER),
        backfill: register(channel::BACKFILL),
        blocks: register(channel::BLOCKS),
    };
    let extra = extra
        .iter()
        .map(|&id| {
            let (sender, receiver) = register(id);
            ExtraChannel {
                id,
                sender,
                receiver,
            }
        })
        .collect();
    // The network task is a sibling of the validator; both live as long as the runtime.
    let _network = network.start();
    let validator = start_validator(
        context.child("node"),
        config,
        app,
        channels,
        oracle.clone(),
        oracle,
        tracker,
    )
    .await?;
    Ok((validator, extra))
}

/// Runs a validator on the tokio runtime, with storage under `storage_dir`, until it stops.
/// This is what `meridian node` calls.
pub fn run_tokio<S, B, A>(
    storage_dir: PathBuf,
    config: ValidatorConfig<S, B>,
    net: NetConfig<S::PublicKey>,
    app: A,
) -> Result<(), Error>
where
    S: ConsensusScheme + SimplexScheme<B::Digest>,
    B: ChainBlock,
    A: Application<B, S::PublicKey>,
{
    let runner = commonware_runtime::tokio::Runner::new(
        commonware_runtime::tokio::Config::new().with_storage_directory(storage_dir),
    );
    runner.start(|context| async move {
        let validator = run_validator(context, config, net, app).await?;
        validator.stopped().await
    })
}
