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

pub fn run(args: &DevnetArgs) -> Result<()> {
    if args.reset && args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("cannot delete {}", args.data_dir.display()))?;
        println!("reset: deleted {}", args.data_dir.display());
    }
    let mut configs = node_configs(&args.data_dir)?;
    if configs.is_empty() {
        println!(
            "creating a {}-validator `{}` devnet in {}{}",
            args.validators,
            args.suite,
            args.data_dir.display(),
            if args.certs {
                " (certificate mode; admin keys in <data-dir>/keys)"
            } else {
                ""
            }
        );
        configs = init::run(&InitArgs {
            orgs: args.validators,
            suite: args.suite.clone(),
            out: args.data_dir.clone(),
            chain_id: "meridian-devnet".into(),
            host: [127, 0, 0, 1].into(),
            p2p_port: args.p2p_port,
            api_port: args.api_port,
            certs: args.certs,
            passphrase_file: args.passphrase_file.clone(),
            epoch_blocks: None,
            join: None,
            name: None,
            peers_from: None,
        })?;
    } else {
        println!(
            "resuming the devnet in {} ({} validators; --reset starts over)",
            args.data_dir.display(),
            configs.len()
        );
    }
    let mut apis = Vec::new();
    for c in &configs {
        let cfg = NodeConfig::load(c)?;
        apis.push((cfg.name.clone(), format!("http://{}", cfg.api.listen)));
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the signal watcher")?;
    watch_signals(&rt, stop.clone())?;
    let mut children = Vec::new();
    for (c, (name, api)) in configs.iter().zip(&apis) {
        children.push((name.clone(), spawn_node(c)?));
        println!(
            "{name}: API {api}  log {}",
            c.with_file_name("node.log").display()
        );
    }
    let started = Instant::now();
    let mut ready = false;
    let mut result = Ok(());
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        for (name, c) in children.iter_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                result = Err(anyhow::anyhow!(
                    "{name} exited ({status}); see {}/{name}/node.log",
                    args.data_dir.display()
                ));
            }
        }
        if result.is_err() {
            break;
        }
        if !ready {
            let heights: Vec<Option<u64>> = apis.iter().map(|(_, a)| height_of(a)).collect();
            if heights.iter().all(|h| h.is_some_and(|h| h >= 1)) {
                let h = heights.iter().flatten().min().copied().unwrap_or(0);
                println!(
                    "ready: {} validators, finalized height {h}, API {}",
                    apis.len(),
                    apis[0].1
                );
                ready = true;
            } else if started.elapsed() > Duration::from_secs(args.ready_timeout_secs) {
                result = Err(anyhow::anyhow!(
                    "no finalized block after {} s; see the node logs",
                    args.ready_timeout_secs
                ));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("stopping {} validators", children.len());
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
