//! `meridian devnet`: a local N-validator network as separate OS processes under one supervisor.
//!
//! First run: `meridian init` into the data dir. Every run: start one `meridian node` process per
//! validator (logs in `<data-dir>/org<i>/node.log`), print the API URLs, print one `ready` line
//! when every validator has a finalized block, and on Ctrl-C (or SIGTERM) stop every node with
//! SIGTERM (graceful) and wait for it. Rerunning resumes from disk; `--reset` starts over.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::config::NodeConfig;
use crate::init::{self, InitArgs};

#[derive(Args, Debug, Clone)]
pub struct DevnetArgs {
    /// Crypto suite of a new devnet: `sm` or `intl`.
    #[arg(long, default_value = "sm")]
    pub suite: String,
    /// Number of validators of a new devnet.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Where keys, configs and chain data live.
    #[arg(long, default_value = "devnet")]
    pub data_dir: PathBuf,
    /// Chain id of a new single-chain devnet (the regions of `--regions 2` are `meridian-a`
    /// and `meridian-b`).
    #[arg(long, default_value = "meridian-devnet")]
    pub chain_id: String,
    /// `2`: two regional chains (under <data-dir>/region-a and region-b; the second one's
    /// ports are the first's + 100) and a relayer between them, with light clients, a
    /// connection and transfer, contract and sidechain channels opened on first run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=2))]
    pub regions: u16,
    /// Delete the data dir first and start a new chain.
    #[arg(long)]
    pub reset: bool,
    /// First p2p port (node i uses base + i) of a new devnet.
    #[arg(long, default_value_t = 30300)]
    pub p2p_port: u16,
    /// First API port (node i uses base + i) of a new devnet.
    #[arg(long, default_value_t = 8600)]
    pub api_port: u16,
    /// Give up if the network has not finalized a block within this many seconds.
    #[arg(long, default_value_t = 120)]
    pub ready_timeout_secs: u64,
    /// A new devnet runs in certificate mode (`meridian init --certs`): one CA per org under
    /// <data-dir>/org<i>/ca/, consensus and admin certificates in the genesis, the admin keys
    /// in the key store <data-dir>/keys/ (`--keys-dir devnet/keys --from org0-admin`). The
    /// passphrase of the CA and admin keys: --passphrase-file FILE, else $MERIDIAN_PASSPHRASE,
    /// else a terminal prompt; it is never written to disk. Ignored when resuming.
    #[arg(long)]
    pub certs: bool,
    /// With --certs: read the passphrase from this file (first line).
    #[arg(long, value_name = "FILE", requires = "certs")]
    pub passphrase_file: Option<PathBuf>,
    /// With --regions 2: put a link with this round-trip time between the relayer and
    /// region B (a delaying TCP relay on region B's first API port + 99), to measure the
    /// regions as if far apart (`meridian bench --workload interop --link-rtt-ms N`).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub link_rtt_ms: u64,
}

fn node_configs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for i in 0.. {
        let p = dir.join(format!("org{i}")).join("config.toml");
        if !p.exists() {
            break;
        }
        out.push(p);
    }
    Ok(out)
}

fn spawn_node(config: &Path) -> Result<Child> {
    let exe = std::env::current_exe().context("cannot find the meridian executable")?;
    let log_path = config.with_file_name("node.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    Command::new(exe)
        .arg("node")
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start node for {}", config.display()))
}

fn height_of(api: &str) -> Option<u64> {
    let v: serde_json::Value = ureq::get(format!("{api}/v1/status"))
        .call()
        .ok()?
        .body_mut()
        .read_json()
        .ok()?;
    v.get("height")?.as_u64()
}

/// Stops every child: SIGTERM first, SIGKILL after a grace period.
fn stop_all(children: &mut [(String, Child)]) {
    for (_, c) in children.iter() {
        let pid = nix::unistd::Pid::from_raw(c.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for (name, c) in children.iter_mut() {
        loop {
            match c.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    eprintln!("{name} did not stop in time; killing it");
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
            }
        }
    }
}

/// One chain of the devnet.
struct Region {
    /// `""` for a single-chain devnet, else `region-a`, `region-b`.
    label: String,
    dir: PathBuf,
    chain_id: String,
    api_port: u16,
    p2p_port: u16,
}

fn regions(args: &DevnetArgs) -> Vec<Region> {
    if args.regions <= 1 {
        return vec![Region {
            label: String::new(),
            dir: args.data_dir.clone(),
            chain_id: args.chain_id.clone(),
            api_port: args.api_port,
            p2p_port: args.p2p_port,
        }];
    }
    (0..args.regions)
        .map(|i| {
            let letter = char::from(b'a' + i as u8);
            let step = 100 * i;
            Region {
                label: format!("region-{letter}"),
                dir: args.data_dir.join(format!("region-{letter}")),
                chain_id: format!("meridian-{letter}"),
                api_port: args.api_port + step,
                p2p_port: args.p2p_port + step,
            }
        })
        .collect()
}

/// The node configs of `region`, creating the chain on first run.
fn prepare(args: &DevnetArgs, region: &Region) -> Result<Vec<PathBuf>> {
    let configs = node_configs(&region.dir)?;
    if !configs.is_empty() {
        println!(
            "resuming {} in {} ({} validators; --reset starts over)",
            region.chain_id,
            region.dir.display(),
            configs.len()
        );
        return Ok(configs);
    }
    println!(
        "creating {}: a {}-validator `{}` chain in {}{}",
        region.chain_id,
        args.validators,
        args.suite,
        region.dir.display(),
        if args.certs {
            " (certificate mode; admin keys in <data-dir>/keys)"
        } else {
            ""
        }
    );
    init::run(&InitArgs {
        orgs: args.validators,
        suite: args.suite.clone(),
        out: region.dir.clone(),
        chain_id: region.chain_id.clone(),
        host: [127, 0, 0, 1].into(),
        p2p_port: region.p2p_port,
        api_port: region.api_port,
        certs: args.certs,
        passphrase_file: args.passphrase_file.clone(),
        epoch_blocks: None,
        join: None,
        name: None,
        peers_from: None,
    })
}

/// The relayer of a two-region devnet: config written once, then `meridian relayer` as a child
/// process with in-memory keys (the regions have no organisations, so any account relays).
/// On first run it opens the clients, a connection, and transfer, contract and sidechain
/// channels (`--open`).
fn spawn_relayer(
    data_dir: &Path,
    a: &(String, String),
    b: &(String, String),
    b_linked: Option<&str>,
) -> Result<Child> {
    let mut config = data_dir.join("relayer.toml");
    if !config.exists() {
        let text = format!(
            "# The devnet's relayer (meridian relayer --config {cfg} --ephemeral-keys)\n\
             state_file = \"relayer-state.json\"\npoll_ms = 300\n\n\
             [a]\nname = \"{an}\"\nnode = \"{au}\"\n\n[b]\nname = \"{bn}\"\nnode = \"{bu}\"\n\n\
             # cross-chain contract calls (unordered) and side-chain data (ordered)\n\
             [[channels]]\nport = \"contract\"\n\n[[channels]]\nport = \"sidechain\"\n",
            cfg = config.display(),
            an = a.0,
            au = a.1,
            bn = b.0,
            bu = b.1
        );
        std::fs::write(&config, text)
            .with_context(|| format!("cannot write {}", config.display()))?;
    }
    if let Some(url) = b_linked {
        // The same relayer (same state file), reaching region B through the delayed link.
        let mut doc: toml::Table = toml::from_str(
            &std::fs::read_to_string(&config)
                .with_context(|| format!("cannot read {}", config.display()))?,
        )
        .with_context(|| format!("cannot parse {}", config.display()))?;
        if let Some(toml::Value::Table(end)) = doc.get_mut("b") {
            end.insert("node".into(), toml::Value::String(url.to_string()));
        }
        config = data_dir.join("relayer-linked.toml");
        std::fs::write(&config, toml::to_string(&doc)?)
            .with_context(|| format!("cannot write {}", config.display()))?;
    }
    let exe = std::env::current_exe().context("cannot find the meridian executable")?;
    let log_path = data_dir.join("relayer.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let mut cmd = Command::new(exe);
    cmd.arg("relayer")
        .arg("--config")
        .arg(&config)
        .arg("--ephemeral-keys")
        // Opens whatever is not open yet (on the first run: everything); else a no-op.
        .arg("--open");
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start the relayer")
}

/// The channels in the relayer's path file, as `port channel-x <-> channel-y, …`.
fn opened_channels(path_file: &Path) -> String {
    let Ok(v) = std::fs::read_to_string(path_file)
        .map_err(|_| ())
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|_| ()))
    else {
        return "the opened channels".into();
    };
    let mut out = vec![format!(
        "transfer {} <-> {}",
        v["a_channel"].as_str().unwrap_or("?"),
        v["b_channel"].as_str().unwrap_or("?")
    )];
    for c in v["channels"].as_array().into_iter().flatten() {
        out.push(format!(
            "{} {} <-> {}",
            c["port"].as_str().unwrap_or("?"),
            c["a_channel"].as_str().unwrap_or("?"),
            c["b_channel"].as_str().unwrap_or("?")
        ));
    }
    out.join(", ")
}

pub fn run(args: &DevnetArgs) -> Result<()> {
    if args.regions > 1 && args.certs {
        bail!(
            "--regions 2 runs open (certificate-free) regions: in certificate mode the relayer \
             needs a member certificate and governance approvals for the clients and the \
             connection (see README \"Cross-region\" for the manual steps)"
        );
    }
    if args.reset && args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("cannot delete {}", args.data_dir.display()))?;
        println!("reset: deleted {}", args.data_dir.display());
    }
    let regions = regions(args);
    // (region index, node config, node name, API URL)
    let mut nodes = Vec::new();
    for (r, region) in regions.iter().enumerate() {
        for c in prepare(args, region)? {
            let cfg = NodeConfig::load(&c)?;
            let name = if region.label.is_empty() {
                cfg.name.clone()
            } else {
                format!("{}/{}", region.label, cfg.name)
            };
            nodes.push((r, c, name, format!("http://{}", cfg.api.listen)));
        }
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the signal watcher")?;
    watch_signals(&rt, stop.clone())?;
    let mut children = Vec::new();
    for (_, c, name, api) in &nodes {
        children.push((name.clone(), spawn_node(c)?));
        println!(
            "{name}: API {api}  log {}",
            c.with_file_name("node.log").display()
        );
    }
    // The first API of each region.
    let entry: Vec<(String, String)> = regions
        .iter()
        .enumerate()
        .filter_map(|(r, region)| {
            nodes
                .iter()
                .find(|n| n.0 == r)
                .map(|n| (region.chain_id.clone(), n.3.clone()))
        })
        .collect();
    let path_file = args.data_dir.join("relayer-state.path.json");
    let started = Instant::now();
    let mut chains_ready = false;
    let mut ready = false;
    let mut result = Ok(());
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        for (name, c) in children.iter_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                result = Err(anyhow::anyhow!(
                    "{name} exited ({status}); see its log under {}",
                    args.data_dir.display()
                ));
            }
        }
        if result.is_err() {
            break;
        }
        if !chains_ready {
            let heights: Vec<Option<u64>> = nodes.iter().map(|n| height_of(&n.3)).collect();
            if heights.iter().all(|h| h.is_some_and(|h| h >= 1)) {
                chains_ready = true;
                if regions.len() == 2 {
                    let linked = if args.link_rtt_ms > 0 {
                        let port = regions[1].api_port + 99;
                        let listen: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
                        let target = entry[1]
                            .1
                            .trim_start_matches("http://")
                            .parse()
                            .context("region B's API address")?;
                        crate::link::spawn_delay_link(
                            &rt,
                            listen,
                            target,
                            Duration::from_millis(args.link_rtt_ms),
                        )?;
                        println!(
                            "link: relayer -> region B through 127.0.0.1:{port}, {} ms round trip",
                            args.link_rtt_ms
                        );
                        Some(format!("http://{listen}"))
                    } else {
                        None
                    };
                    children.push((
                        "relayer".into(),
                        spawn_relayer(&args.data_dir, &entry[0], &entry[1], linked.as_deref())?,
                    ));
                    println!(
                        "relayer: log {}",
                        args.data_dir.join("relayer.log").display()
                    );
                }
            }
        }
        if chains_ready && !ready && (regions.len() == 1 || path_file.exists()) {
            let h = nodes
                .iter()
                .filter_map(|n| height_of(&n.3))
                .min()
                .unwrap_or(0);
            if regions.len() == 1 {
                println!(
                    "ready: {} validators, finalized height {h}, API {}",
                    nodes.len(),
                    entry[0].1
                );
            } else {
                println!(
                    "ready: {} ({}) and {} ({}), {} validators each, relaying {}",
                    entry[0].0,
                    entry[0].1,
                    entry[1].0,
                    entry[1].1,
                    args.validators,
                    opened_channels(&path_file)
                );
            }
            ready = true;
        }
        if !ready && started.elapsed() > Duration::from_secs(args.ready_timeout_secs) {
            result = Err(anyhow::anyhow!(
                "not ready after {} s; see the node{} logs",
                args.ready_timeout_secs,
                if regions.len() > 1 {
                    " and relayer"
                } else {
                    ""
                }
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("stopping {} processes", children.len());
    stop_all(&mut children);
    println!("stopped");
    if result.is_err() && !ready {
        bail!(
            "{}",
            result.err().map(|e| e.to_string()).unwrap_or_default()
        );
    }
    result
}

/// Sets `flag` on SIGINT or SIGTERM. Uses tokio's handlers (not a blocked signal mask, which
/// child processes would inherit and then never see SIGTERM).
pub(crate) fn watch_signals(
    rt: &tokio::runtime::Runtime,
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let _guard = rt.enter();
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    rt.spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    Ok(())
}
