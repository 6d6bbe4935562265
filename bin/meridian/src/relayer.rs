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
//!
//! [[channels]]                        # more channels on the same path (any number)
//! port = "contract"                   # contract | sidechain (ordered) | transfer
//! a_channel = "channel-1"             # empty: opened by --open over the path's connection
//! b_channel = "channel-1"
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
use meridian_relayer::{
    create_clients, open_channel, open_connection, ChannelPair, Endpoint, Relayer,
};
use serde::{Deserialize, Serialize};

#[derive(Args, Debug)]
pub struct RelayerArgs {
    /// The relayer config (TOML; see `meridian relayer --help` and README "Cross-region").
    #[arg(long)]
    pub config: PathBuf,
    /// Read the key passphrase from this file (first line); otherwise $MERIDIAN_PASSPHRASE.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// First open what is missing: clients (where `client_id` is empty), a connection, an
    /// unordered transfer channel and each `[[channels]]` entry without ids; the identifiers
    /// go to `<state_file>.path.json` (chains without organisations, or with the approvals
    /// already voted). With everything open it does nothing.
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
    meridian_relayer::DEFAULT_BATCH
}

/// A further channel to relay (besides the transfer channel of `[a]`/`[b]`).
#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// `contract`, `sidechain` or `transfer` (the same port on both chains).
    pub port: String,
    /// `ordered` or `unordered` for channels --open creates (default: ordered for
    /// `sidechain`, which only allows ordered channels; unordered otherwise).
    #[serde(default)]
    pub ordering: Option<String>,
    #[serde(default)]
    pub a_channel: String,
    #[serde(default)]
    pub b_channel: String,
}

impl ChannelConfig {
    fn ordering(&self) -> Result<meridian_interop::Ordering> {
        match self.ordering.as_deref() {
            None if self.port == meridian_interop_module::sidechain::PORT => {
                Ok(meridian_interop::Ordering::Ordered)
            }
            None | Some("unordered") => Ok(meridian_interop::Ordering::Unordered),
            Some("ordered") => Ok(meridian_interop::Ordering::Ordered),
            Some(other) => bail!(
                "channels: ordering {other:?} of port {} must be ordered or unordered",
                self.port
            ),
        }
    }

    fn version(&self) -> Result<&'static str> {
        Ok(match self.port.as_str() {
            meridian_interop::transfer::PORT => meridian_interop::transfer::VERSION,
            meridian_interop_module::contract_call::PORT => {
                meridian_interop_module::contract_call::VERSION
            }
            meridian_interop_module::sidechain::PORT => meridian_interop_module::sidechain::VERSION,
            other => bail!("channels: unknown port {other:?} (transfer, contract or sidechain)"),
        })
    }
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
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
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
        for ch in &c.channels {
            ch.ordering()
                .and_then(|_| ch.version())
                .with_context(|| path.display().to_string())?;
        }
        Ok(c)
    }
}

/// The identifiers `--open` created, kept beside the relayer's cache.
#[derive(Deserialize, Serialize, Debug, Clone, Default)]
struct PathIds {
    a_client: String,
    b_client: String,
    /// The transfer channel.
    a_channel: String,
    b_channel: String,
    #[serde(default)]
    a_connection: String,
    #[serde(default)]
    b_connection: String,
    /// Channels of `[[channels]]` entries.
    #[serde(default)]
    channels: Vec<ChannelPair>,
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
    })
}

/// A channel the config asks for, with the ids known so far (empty: not opened yet).
struct Wanted {
    config: ChannelConfig,
    pair: ChannelPair,
}

/// The two ends and the channels described by `config` (ids from the config, else from
/// `--open`'s path file).
struct Setup {
    cfg: RelayerConfig,
    a: Endpoint,
    b: Endpoint,
    ids: PathIds,
    wanted: Vec<Wanted>,
    state_file: PathBuf,
}

fn setup(config_path: &Path, keys: &Keys<'_>) -> Result<Setup> {
    let cfg = RelayerConfig::load(config_path)?;
    let base = config_path.parent().unwrap_or(Path::new("."));
    let mut a = endpoint(base, &cfg.a, keys)?;
    let mut b = endpoint(base, &cfg.b, keys)?;
    let state_file = base.join(&cfg.state_file);
    let ids: PathIds = match std::fs::read_to_string(path_file(&state_file)) {
        Ok(text) => serde_json::from_str(&text).context("relayer path file")?,
        Err(_) => PathIds::default(),
    };
    for (end, client) in [(&mut a, &ids.a_client), (&mut b, &ids.b_client)] {
        if end.client_id.is_empty() {
            end.client_id = client.clone();
        }
    }
    let or = |configured: &str, opened: &str| {
        if configured.is_empty() {
            opened.to_string()
        } else {
            configured.to_string()
        }
    };
    let transfer = ChannelConfig {
        port: meridian_interop::transfer::PORT.to_string(),
        ordering: None,
        a_channel: cfg.a.channel.clone(),
        b_channel: cfg.b.channel.clone(),
    };
    let mut wanted = vec![Wanted {
        pair: ChannelPair {
            port: transfer.port.clone(),
            a_channel: or(&cfg.a.channel, &ids.a_channel),
            b_channel: or(&cfg.b.channel, &ids.b_channel),
        },
        config: transfer,
    }];
    let mut opened_extra = ids.channels.iter();
    for c in &cfg.channels {
        let opened = if c.a_channel.is_empty() || c.b_channel.is_empty() {
            // Entries without ids take the opened channels of their port, in config order.
            opened_extra.find(|p| p.port == c.port)
        } else {
            None
        };
        wanted.push(Wanted {
            pair: ChannelPair {
                port: c.port.clone(),
                a_channel: or(&c.a_channel, opened.map_or("", |p| &p.a_channel)),
                b_channel: or(&c.b_channel, opened.map_or("", |p| &p.b_channel)),
            },
            config: c.clone(),
        });
    }
    Ok(Setup {
        cfg,
        a,
        b,
        ids,
        wanted,
        state_file,
    })
}

impl Setup {
    /// `--open`: creates what is missing and records every id in the path file.
    fn open(&mut self) -> Result<()> {
        let trusting_ms = self.cfg.trusting_period_hours * 3_600_000;
        create_clients(&mut self.a, &mut self.b, trusting_ms)?;
        self.ids.a_client = self.a.client_id.clone();
        self.ids.b_client = self.b.client_id.clone();
        let missing = self
            .wanted
            .iter()
            .any(|w| w.pair.a_channel.is_empty() || w.pair.b_channel.is_empty());
        if missing && (self.ids.a_connection.is_empty() || self.ids.b_connection.is_empty()) {
            let (ac, bc) = open_connection(&mut self.a, &mut self.b)?;
            println!(
                "opened: connection {} {ac} <-> {} {bc}",
                self.a.name, self.b.name
            );
            self.ids.a_connection = ac;
            self.ids.b_connection = bc;
        }
        for (i, w) in self.wanted.iter_mut().enumerate() {
            if !w.pair.a_channel.is_empty() && !w.pair.b_channel.is_empty() {
                continue;
            }
            let (ac, bc) = open_channel(
                &mut self.a,
                &mut self.b,
                (&self.ids.a_connection, &self.ids.b_connection),
                &w.config.port,
                w.config.ordering()?,
                w.config.version()?,
            )?;
            println!(
                "opened: {} {}/{ac} <-> {} {}/{bc}",
                self.a.name, w.config.port, self.b.name, w.config.port
            );
            w.pair.a_channel = ac;
            w.pair.b_channel = bc;
            if i == 0 {
                self.ids.a_channel = w.pair.a_channel.clone();
                self.ids.b_channel = w.pair.b_channel.clone();
            } else {
                self.ids.channels.push(w.pair.clone());
            }
        }
        let file = path_file(&self.state_file);
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&self.ids)?)?;
        std::fs::rename(&tmp, &file)?;
        Ok(())
    }

    fn into_relayer(self) -> Result<(Relayer, RelayerConfig)> {
        for end in [&self.a, &self.b] {
            if end.client_id.is_empty() {
                bail!(
                    "{}: client_id is needed (set it in the config, or run with --open)",
                    end.name
                );
            }
        }
        let mut channels = Vec::new();
        for w in self.wanted {
            if w.pair.a_channel.is_empty() || w.pair.b_channel.is_empty() {
                bail!(
                    "{} channel: a_channel and b_channel are needed (set them in the config, \
                     or run with --open)",
                    w.pair.port
                );
            }
            channels.push(w.pair);
        }
        let mut r = Relayer::new(self.a, self.b, channels, Some(self.state_file))?;
        r.batch = self.cfg.batch;
        Ok((r, self.cfg))
    }
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
    let mut setup = setup(&args.config, &keys)?;
    if args.open {
        setup.open()?;
    }
    let (mut relayer, cfg) = setup.into_relayer()?;
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
    for c in &relayer.channels {
        tracing::info!(
            a = %relayer.a.name,
            b = %relayer.b.name,
            "relaying {}/{} <-> {}/{}",
            c.port,
            c.a_channel,
            c.port,
            c.b_channel
        );
    }
    println!("relayer ready: {} <-> {}", relayer.a.name, relayer.b.name);
    let poll = Duration::from_millis(cfg.poll_ms);
    while !stop.load(Ordering::SeqCst) {
        match relayer.step() {
            Ok(r) => {
                metrics_add(&metrics, &relayer.metrics);
                if !r.is_idle() {
                    // More is likely waiting: the next pass at once, not after `poll`.
                    tracing::info!(?r, "relayed");
                    continue;
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
