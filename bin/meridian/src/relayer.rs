//! `meridian relayer --config FILE`: relays between two chains until SIGINT/SIGTERM.
//!
//! ```toml
//! state_file = "relayer-state.json"   # relative to this file; the relayer's resumable cache
//! poll_ms = 500
//! metrics = "127.0.0.1:9700"          # optional: Prometheus text at /metrics
//! trusting_period_hours = 336         # for clients the relayer creates (--open)
//!
//! [a]
//! name = "region-a"
//! node = "http://127.0.0.1:8600"
//! key_file = "relayer-a.key"          # the relayer's own fee-payer key on chain A (encrypted)
//! client_id = "client-0"              # A's client of B (empty: created by --open)
//! channel = "channel-0"               # A's end of the transfer channel (empty: --open)
//!
//! [b]
//! name = "region-b"
//! node = "http://127.0.0.1:8700"
//! key_file = "relayer-b.key"
//! client_id = "client-0"
//! channel = "channel-0"
//! ```
//!
//! The key passphrase comes from `--passphrase-file`, else `$MERIDIAN_PASSPHRASE`. The relayer
//! holds no other secret.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use meridian_client::{Client, KeyFile, TrustAnchor, Wallet};
use meridian_relayer::{open_transfer_path, Endpoint, Relayer};
use serde::{Deserialize, Serialize};

#[derive(Args, Debug)]
pub struct RelayerArgs {
    /// The relayer config (TOML; see `meridian relayer --help` and README "Cross-region").
    #[arg(long)]
    pub config: PathBuf,
    /// Read the key passphrase from this file (first line); otherwise $MERIDIAN_PASSPHRASE.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// First create clients (where `client_id` is empty), a connection and an unordered
    /// transfer channel between the two chains; the identifiers go to the state file's
    /// `path` section (chains without organisations, or with the approvals already voted).
    #[arg(long)]
    pub open: bool,
    /// Run one relay pass and exit (for scripts and tests).
    #[arg(long)]
    pub once: bool,
    /// Sign with fresh in-memory keys instead of `key_file`s (chains without organisations,
    /// where any account may relay; nothing secret is ever written). The devnet uses this.
    #[arg(long)]
    pub ephemeral_keys: bool,
}

#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct EndConfig {
    pub name: String,
    pub node: String,
    /// The relayer's encrypted key file on this chain (not needed with --ephemeral-keys).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The chain's genesis.toml: also verify finalization certificates of what is read.
    #[serde(default)]
    pub genesis: Option<PathBuf>,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub channel: String,
}

fn default_poll() -> u64 {
    500
}
fn default_trust_hours() -> u64 {
    336
}
fn default_batch() -> usize {
    100
}

#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RelayerConfig {
    pub state_file: PathBuf,
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
    #[serde(default)]
    pub metrics: Option<SocketAddr>,
    #[serde(default = "default_trust_hours")]
    pub trusting_period_hours: u64,
    #[serde(default = "default_batch")]
    pub batch: usize,
    pub a: EndConfig,
    pub b: EndConfig,
}

impl RelayerConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let c: RelayerConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if c.a.name == c.b.name {
            bail!("{}: a.name and b.name must differ", path.display());
        }
        if c.poll_ms == 0 || c.batch == 0 {
            bail!("{}: poll_ms and batch must be at least 1", path.display());
        }
        Ok(c)
    }
}

/// The identifiers `--open` created, kept beside the relayer's cache.
#[derive(Deserialize, Serialize, Debug, Clone, Default)]
struct PathIds {
    a_client: String,
    b_client: String,
    a_channel: String,
    b_channel: String,
}

fn path_file(state_file: &Path) -> PathBuf {
    state_file.with_extension("path.json")
}

fn passphrase(file: Option<&Path>) -> Result<zeroize::Zeroizing<String>> {
    if let Some(p) = file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        );
        return Ok(zeroize::Zeroizing::new(
            text.lines().next().unwrap_or("").to_string(),
        ));
    }
    std::env::var(meridian_client::keystore::PASSPHRASE_ENV)
        .map(zeroize::Zeroizing::new)
        .context(
            "the relayer key passphrase: pass --passphrase-file FILE or set MERIDIAN_PASSPHRASE",
        )
}

/// Where the relayer's signing keys come from.
pub enum Keys<'a> {
    /// `key_file`s, opened with this passphrase.
    Files(&'a str),
    /// Fresh in-memory keys (chains without organisations).
    Ephemeral,
}

fn endpoint(base: &Path, c: &EndConfig, keys: &Keys<'_>) -> Result<Endpoint> {
    let mut client = Client::new(c.node.clone());
    if let Some(g) = &c.genesis {
        client = client.with_trust_anchor(TrustAnchor::from_genesis_file(&base.join(g))?);
    }
    let key = match keys {
        Keys::Files(pass) => {
            let Some(file) = &c.key_file else {
                bail!(
                    "{}: key_file is needed (or run with --ephemeral-keys)",
                    c.name
                );
            };
            let key_path = base.join(file);
            KeyFile::read(&key_path)?.open(&key_path, pass.as_bytes())?
        }
        Keys::Ephemeral => {
            let suite = client
                .chain()
                .with_context(|| format!("{}: cannot reach {}", c.name, c.node))?
                .suite;
            meridian_crypto::PrivateKey::generate(suite, &mut rand::rng())
        }
    };
    let wallet = Wallet::connect(&client, key)
        .with_context(|| format!("{}: cannot reach {}", c.name, c.node))?;
    Ok(Endpoint {
        name: c.name.clone(),
        client,
        wallet: Some(wallet),
        client_id: c.client_id.clone(),
        port: meridian_interop::transfer::PORT.to_string(),
        channel: c.channel.clone(),
    })
}

/// Builds the relayer described by `config` (ids from the config, else from `--open`'s file).
pub fn build(config_path: &Path, keys: &Keys<'_>) -> Result<(Relayer, RelayerConfig)> {
    let cfg = RelayerConfig::load(config_path)?;
    let base = config_path.parent().unwrap_or(Path::new("."));
    let mut a = endpoint(base, &cfg.a, keys)?;
    let mut b = endpoint(base, &cfg.b, keys)?;
    let state_file = base.join(&cfg.state_file);
    if let Ok(text) = std::fs::read_to_string(path_file(&state_file)) {
        let ids: PathIds = serde_json::from_str(&text).context("relayer path file")?;
        for (end, client, channel) in [
            (&mut a, ids.a_client, ids.a_channel),
            (&mut b, ids.b_client, ids.b_channel),
        ] {
            if end.client_id.is_empty() {
                end.client_id = client;
            }
            if end.channel.is_empty() {
                end.channel = channel;
            }
        }
    }
    let mut r = Relayer::new(a, b, Some(state_file))?;
    r.batch = cfg.batch;
    Ok((r, cfg))
}

fn serve_metrics(addr: SocketAddr, relayer_metrics: Arc<meridian_relayer::Metrics>) -> Result<()> {
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("metrics listen {addr}"))?;
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let body = relayer_metrics.render();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(())
}

pub fn run(args: &RelayerArgs) -> Result<()> {
    crate::node::init_logging("info");
    let pass;
    let keys = if args.ephemeral_keys {
        Keys::Ephemeral
    } else {
        pass = passphrase(args.passphrase_file.as_deref())?;
        Keys::Files(&pass)
    };
    let (mut relayer, cfg) = build(&args.config, &keys)?;
    let base = args.config.parent().unwrap_or(Path::new("."));
    let state_file = base.join(&cfg.state_file);
    if args.open {
        let opened = open_transfer_path(
            &mut relayer.a,
            &mut relayer.b,
            meridian_interop::Ordering::Unordered,
            cfg.trusting_period_hours * 3_600_000,
        )?;
        let ids = PathIds {
            a_client: opened.a_client.clone(),
            b_client: opened.b_client.clone(),
            a_channel: opened.a_channel.clone(),
            b_channel: opened.b_channel.clone(),
        };
        std::fs::write(path_file(&state_file), serde_json::to_string_pretty(&ids)?)?;
        println!(
            "opened: {} {} ({} {}) <-> {} {} ({} {})",
            relayer.a.name,
            opened.a_channel,
            opened.a_client,
            opened.a_connection,
            relayer.b.name,
            opened.b_channel,
            opened.b_client,
            opened.b_connection
        );
    }
    for end in [&relayer.a, &relayer.b] {
        if end.client_id.is_empty() || end.channel.is_empty() {
            bail!(
                "{}: client_id and channel are needed (set them in the config, or run with --open)",
                end.name
            );
        }
    }
    if args.once {
        let r = relayer.step()?;
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    let metrics = Arc::new(std::mem::take(&mut relayer.metrics));
    if let Some(addr) = cfg.metrics {
        serve_metrics(addr, metrics.clone())?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    // A worker thread runs the signal task (a current-thread runtime would never poll it).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    crate::devnet::watch_signals(&rt, stop.clone())?;
    tracing::info!(
        a = %relayer.a.name,
        b = %relayer.b.name,
        "relaying {}/{} <-> {}/{}",
        relayer.a.port,
        relayer.a.channel,
        relayer.b.port,
        relayer.b.channel
    );
    println!("relayer ready: {} <-> {}", relayer.a.name, relayer.b.name);
    let poll = Duration::from_millis(cfg.poll_ms);
    while !stop.load(Ordering::SeqCst) {
        match relayer.step() {
            Ok(r) => {
                metrics_add(&metrics, &relayer.metrics);
                if !r.is_idle() {
                    tracing::info!(?r, "relayed");
                }
            }
            Err(e) => {
                metrics
                    .errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!("relay pass failed: {e}");
            }
        }
        std::thread::sleep(poll);
    }
    println!("relayer stopped");
    Ok(())
}

/// Moves the counts of the last pass into the shared (served) metrics.
fn metrics_add(shared: &meridian_relayer::Metrics, last: &meridian_relayer::Metrics) {
    let pairs = [
        (&shared.steps, &last.steps),
        (&shared.client_updates, &last.client_updates),
        (&shared.packets_received, &last.packets_received),
        (&shared.acks_relayed, &last.acks_relayed),
        (&shared.timeouts_relayed, &last.timeouts_relayed),
        (&shared.duplicates, &last.duplicates),
        (&shared.refused, &last.refused),
    ];
    for (s, l) in pairs {
        s.fetch_add(l.swap(0, Ordering::Relaxed), Ordering::Relaxed);
    }
}
