//! `meridian node`: one validator — ledger, consensus over authenticated p2p, tx gossip and the
//! HTTP API — on the tokio runtime, until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use commonware_cryptography::Hasher;
use commonware_runtime::{Metrics as _, Runner as _, Spawner as _, Supervisor as _};
use meridian_consensus::net::{max_message_size, run_validator_with_channels, NetConfig};
use meridian_consensus::{ConsensusScheme, Ed25519Scheme, Sm2Scheme, Timeouts, ValidatorConfig};
use meridian_crypto::{Digest32, PrivateKey, PublicKey};
use meridian_mempool::MempoolConfig;
use meridian_node::{
    run_gossip, submitter, Genesis, Ledger, LedgerApp, LedgerConfig, NodeBlock,
    DEFAULT_EMPTY_BLOCK_WAIT,
};

use crate::config::NodeConfig;

/// p2p channel of transaction gossip (consensus uses 0..=4).
pub const GOSSIP_CHANNEL: u64 = 16;

pub fn run(path: &Path) -> Result<()> {
    let cfg = NodeConfig::load(path)?;
    init_logging(&cfg.log.level);
    let genesis_text = std::fs::read_to_string(&cfg.genesis)
        .with_context(|| format!("cannot read genesis file {}", cfg.genesis.display()))?;
    let genesis: Genesis = toml::from_str(&genesis_text)
        .with_context(|| format!("genesis file {} is not valid", cfg.genesis.display()))?;
    let (_, suite, validators) = genesis.parse().map_err(|e| anyhow!("{e}"))?;
    let key = crate::init::read_key(&cfg.key_file)?;
    if key.suite() != suite {
        bail!(
            "key_file holds a {} key but the chain suite is {suite}",
            key.suite()
        );
    }
    let mut peers = Vec::new();
    for p in &cfg.p2p.peers {
        let raw = hex::decode(&p.public_key)
            .with_context(|| format!("p2p.peers[{}].public_key is not hex", p.name))?;
        let pk = PublicKey::from_bytes(suite, &raw)
            .map_err(|e| anyhow!("p2p.peers[{}].public_key: {e}", p.name))?;
        if peers.iter().any(|(k, _)| k == &pk) {
            bail!("p2p.peers[{}] lists a public key twice", p.name);
        }
        peers.push((pk, p.address));
    }
    if !peers.iter().any(|(k, _)| k == &key.public_key()) {
        bail!("p2p.peers must list this node's own key (key_file) with its listen address");
    }
    if !validators.contains(&key.public_key()) {
        // A node voted in later (governance `add-validator`) starts as a follower: it syncs
        // and starts voting at the epoch that makes it a validator.
        tracing::info!("this node's key is not a genesis validator: starting as a follower");
    }
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data_dir {}", cfg.data_dir.display()))?;
    let ledger_cfg = LedgerConfig {
        max_block_txs: cfg.limits.max_block_txs,
        max_block_bytes: cfg.limits.max_block_bytes,
        mempool: MempoolConfig {
            max_txs: cfg.limits.mempool_max_txs,
            max_per_sender: cfg.limits.mempool_max_per_sender,
            ..MempoolConfig::default()
        },
        ..LedgerConfig::default()
    };
    let ledger = Arc::new(
        Ledger::open(&cfg.data_dir.join("ledger"), &genesis, ledger_cfg)
            .map_err(|e| anyhow!("cannot open the ledger ({}): {e}", e.code()))?,
    );
    // /metrics reports the whole data directory (ledger and consensus journals).
    ledger.metrics().set_storage_dir(cfg.data_dir.clone());
    tracing::info!(
        node = %cfg.name,
        chain = %ledger.chain_id(),
        %suite,
        height = ledger.finalized_height(),
        "ledger open"
    );
    let known: Vec<PublicKey> = peers.iter().map(|(k, _)| k.clone()).collect();
    match key {
        PrivateKey::Sm2(k) => {
            let to = |pk: &PublicKey| match pk {
                PublicKey::Sm2(p) => Ok(p.clone()),
                _ => Err(anyhow!("a peer's key is not an SM2 key")),
            };
            let converted = peers
                .iter()
                .map(|(pk, a)| Ok((to(pk)?, *a)))
                .collect::<Result<Vec<_>>>()?;
            start::<Sm2Scheme, meridian_crypto::Sm3Hasher>(&cfg, ledger, k, converted, known)
        }
        PrivateKey::Ed25519(k) => {
            let to = |pk: &PublicKey| match pk {
                PublicKey::Ed25519(p) => Ok(p.clone()),
                _ => Err(anyhow!("a peer's key is not an Ed25519 key")),
            };
            let converted = peers
                .iter()
                .map(|(pk, a)| Ok((to(pk)?, *a)))
                .collect::<Result<Vec<_>>>()?;
            start::<Ed25519Scheme, meridian_crypto::Sha256Hasher>(&cfg, ledger, k, converted, known)
        }
        // Consensus and p2p sign with the suite's main algorithm only.
        PrivateKey::P256(_) => Err(anyhow!(
            "a node key must be SM2 (sm) or Ed25519 (intl); P-256 keys only sign transactions"
        )),
    }
}

pub(crate) fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Validator count p2p message limits are sized for (see `start`).
const MAX_MESSAGE_VALIDATORS: u32 = 256;

/// Runs until a signal arrives or the validator stops on its own (an error).
fn start<S, H>(
    cfg: &NodeConfig,
    ledger: Arc<Ledger>,
    signer: S::Signer,
    peers: Vec<(S::PublicKey, SocketAddr)>,
    known_peers: Vec<PublicKey>,
) -> Result<()>
where
    S: ConsensusScheme + commonware_consensus::simplex::scheme::Scheme<Digest32>,
    H: Hasher<Digest = Digest32>,
{
    let mut vcfg = ValidatorConfig::<S, NodeBlock<H>>::new(
        ledger.chain_id().as_str(),
        signer,
        "meridian",
        cfg.limits.max_block_bytes,
    );
    vcfg.epoch_blocks = ledger.epoch_blocks();
    vcfg.timeouts = Timeouts {
        leader: Duration::from_millis(cfg.consensus.leader_timeout_ms),
        certification: Duration::from_millis(cfg.consensus.certification_timeout_ms),
        ..Timeouts::default()
    };
    vcfg.validate()
        .map_err(|e| anyhow!("consensus config: {e}"))?;
    // Certificates grow with the validator set, which governance may enlarge: size messages for
    // the largest set we support rather than today's. Same value on every node.
    let n = MAX_MESSAGE_VALIDATORS;
    let mut net = NetConfig::new(cfg.p2p.listen, peers, cfg.p2p.local);
    net.max_message_size = max_message_size::<S, NodeBlock<H>>(n, &vcfg.block_codec_config);
    let storage = cfg.data_dir.join("consensus");
    let api_listen = cfg.api.listen;
    let api_peers: Vec<meridian_api::PeerInfo> = cfg
        .p2p
        .peers
        .iter()
        .map(|p| meridian_api::PeerInfo {
            name: p.name.clone(),
            public_key: p.public_key.to_ascii_lowercase(),
            address: p.address.to_string(),
            is_self: p.address == cfg.p2p.listen,
        })
        .collect();
    let api_options = meridian_api::ApiOptions {
        rate_limit: cfg.api.rate_limit,
        max_query_fuel: cfg.api.max_query_fuel,
        ..meridian_api::ApiOptions::default()
    };
    let name = cfg.name.clone();
    let runner = commonware_runtime::tokio::Runner::new(
        commonware_runtime::tokio::Config::new().with_storage_directory(storage),
    );
    runner.start(|context| async move {
        let app = LedgerApp::new(
            ledger.clone(),
            context.child("app"),
            DEFAULT_EMPTY_BLOCK_WAIT,
        )
        .with_known_peers(known_peers);
        let (validator, mut extra) =
            run_validator_with_channels(context.child("node"), vcfg, net, app, &[GOSSIP_CHANNEL])
                .await
                .map_err(|e| anyhow!("consensus did not start: {e}"))?;
        let gossip = extra
            .pop()
            .ok_or_else(|| anyhow!("gossip channel missing"))?;
        let (sub, local) = submitter(ledger.clone());
        let gossip_ledger = ledger.clone();
        context.child("gossip").spawn(move |_| async move {
            run_gossip(gossip_ledger, gossip.sender, gossip.receiver, local).await;
        });
        let listener = tokio::net::TcpListener::bind(api_listen)
            .await
            .with_context(|| format!("cannot listen on api.listen {api_listen}"))?;
        // The runtime's registry says which p2p peers are connected (`/v1/peers`, /metrics).
        let runtime = context.child("api");
        let api = meridian_api::ApiContext::new(sub)
            .with_peers(api_peers)
            .with_options(api_options)
            .with_runtime_metrics(Arc::new(move || runtime.encode()));
        tokio::spawn(async move {
            if let Err(e) = meridian_api::serve(listener, api).await {
                tracing::error!(error = %e, "api server stopped");
            }
        });
        tracing::info!(node = %name, api = %api_listen, "node running");
        let outcome = tokio::select! {
            r = validator_stopped(validator) => r,
            s = shutdown_signal() => {
                tracing::info!(signal = s, "shutting down");
                Ok(())
            }
        };
        outcome
    })
}

async fn validator_stopped<S, B>(v: meridian_consensus::Validator<S, B>) -> Result<()>
where
    S: ConsensusScheme + commonware_consensus::simplex::scheme::Scheme<B::Digest>,
    B: meridian_consensus::ChainBlock,
{
    v.stopped()
        .await
        .map_err(|e| anyhow!("validator stopped: {e}"))
}

async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
