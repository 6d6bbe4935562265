//! Port selection shared by the process-level tests.
//!
//! Ports come from 20000..32000, below Linux's ephemeral range (32768-60999): a port picked from
//! the ephemeral range can be taken by an outgoing connection (the nodes dial each other) between
//! the check and the node's bind. A per-process cursor keeps tests in one binary apart.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

static CURSOR: AtomicU32 = AtomicU32::new(0);

fn candidate() -> u16 {
    let seed = std::process::id().wrapping_mul(2_654_435_761);
    let n = CURSOR.fetch_add(1, Ordering::SeqCst);
    20_000 + ((seed.wrapping_add(n.wrapping_mul(7))) % 12_000) as u16
}

/// `n` distinct free loopback ports.
pub fn free_ports(n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    while out.len() < n {
        let p = candidate();
        if !out.contains(&p) && TcpListener::bind(("127.0.0.1", p)).is_ok() {
            out.push(p);
        }
    }
    out
}

/// A base port such that `base..base + n` are all free.
pub fn free_port_base(n: u16) -> u16 {
    loop {
        let base = candidate();
        if base > 32_000 - n {
            continue;
        }
        if (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            // Move the cursor past the range so the next caller does not overlap it.
            CURSOR.fetch_add(u32::from(n) * 2, Ordering::SeqCst);
            return base;
        }
    }
}

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_meridian");

/// `meridian init` of a 4-validator chain in `out` on free loopback ports; returns the API URLs.
pub fn init_net(out: &std::path::Path, suite: &str, chain_id: &str) -> Vec<String> {
    let (p2p, api) = (free_port_base(4), free_port_base(4));
    let status = std::process::Command::new(BIN)
        .args([
            "init",
            "--orgs",
            "4",
            "--suite",
            suite,
            "--chain-id",
            chain_id,
            // Short epochs: every process test crosses several consensus epoch boundaries
            // (engine hand-over, p2p re-tracking, clients following the validator sets).
            "--epoch-blocks",
            "8",
        ])
        .args([
            "--p2p-port",
            &p2p.to_string(),
            "--api-port",
            &api.to_string(),
        ])
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run meridian init");
    assert!(status.success(), "meridian init");
    (0..4)
        .map(|i| format!("http://127.0.0.1:{}", api + i))
        .collect()
}

/// Starts validator `i` of a network made by [`init_net`], logging to `out/org<i>.log`.
pub fn spawn_node(out: &std::path::Path, i: usize, rust_log: &str) -> std::process::Child {
    let log = std::fs::File::create(out.join(format!("org{i}.log"))).expect("log file");
    std::process::Command::new(BIN)
        .args(["node", "--config"])
        .arg(out.join(format!("org{i}")).join("config.toml"))
        .env("RUST_LOG", rust_log)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn meridian node")
}

/// The binary with a clean client environment: the key store `keys`, the passphrase file
/// `pass`, the node `node` (used by the certificate-mode tests).
pub struct Cli {
    pub keys: std::path::PathBuf,
    pub pass: std::path::PathBuf,
    pub node: String,
}

impl Cli {
    /// Runs `meridian ARGS --json`, adding the passphrase file and `--node` where they apply.
    pub fn raw(&self, args: &[&str]) -> std::process::Output {
        self.raw_env(args, &[])
    }

    /// [`Cli::raw`] with extra environment variables.
    pub fn raw_env(&self, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
        let mut all: Vec<&str> = args.to_vec();
        let pass = self.pass.to_str().unwrap();
        if matches!(
            args.first(),
            Some(&"keys" | &"tx" | &"ca" | &"gov" | &"contract" | &"interop")
        ) {
            all.extend(["--passphrase-file", pass]);
        }
        if matches!(
            args.first(),
            Some(&"tx" | &"query" | &"status" | &"gov" | &"contract" | &"interop")
        ) {
            all.extend(["--node", &self.node]);
        }
        all.push("--json");
        std::process::Command::new(BIN)
            .args(&all)
            .env_remove("MERIDIAN_PASSPHRASE")
            .env_remove("MERIDIAN_NODE")
            .env_remove("MERIDIAN_GENESIS")
            .env("MERIDIAN_KEYS_DIR", &self.keys)
            .envs(envs.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs with `--json`; asserts success; returns the document.
    pub fn ok(&self, args: &[&str]) -> serde_json::Value {
        self.ok_env(args, &[])
    }

    /// [`Cli::ok`] with extra environment variables.
    pub fn ok_env(&self, args: &[&str], envs: &[(&str, &str)]) -> serde_json::Value {
        let o = self.raw_env(args, envs);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "meridian {args:?} failed ({:?}):\n{stdout}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }

    /// Runs expecting failure with error `code`; returns the error document and exit code.
    pub fn refused_with(&self, args: &[&str], code: &str) -> (serde_json::Value, Option<i32>) {
        let o = self.raw(args);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(!o.status.success(), "meridian {args:?} succeeded: {stdout}");
        let v: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"));
        assert_eq!(v["code"], code, "meridian {args:?}: {stdout}");
        (v, o.status.code())
    }
}

/// GET `url`; (status, JSON body), whatever the status.
pub fn http_json(url: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut r = agent.get(url).call().expect("HTTP GET");
    let status = r.status().as_u16();
    (status, r.body_mut().read_json().expect("JSON body"))
}

/// `meridian devnet --certs` (4 sm validators, passphrase from a file) in its own process
/// group, so its nodes inherit it and a drop kills what is left. Shared by the certificate-mode
/// process tests (governance, contracts).
pub struct Devnet {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Devnet {
    pub fn start(dir: &std::path::Path, pass: &std::path::Path, p2p: u16, api: u16) -> Devnet {
        let pass = pass.to_str().unwrap();
        Self::spawn(dir, &["--certs", "--passphrase-file", pass], p2p, api)
    }

    /// `meridian devnet --regions 2`: two open regions (API ports `api..` and `api+100..`) and
    /// the devnet's relayer.
    pub fn start_regions(dir: &std::path::Path, p2p: u16, api: u16) -> Devnet {
        Self::spawn(dir, &["--regions", "2"], p2p, api)
    }

    fn spawn(dir: &std::path::Path, extra: &[&str], p2p: u16, api: u16) -> Devnet {
        use std::os::unix::process::CommandExt as _;
        let mut child = std::process::Command::new(BIN)
            .args(["devnet", "--validators", "4", "--suite", "sm"])
            .args(extra)
            .arg("--data-dir")
            .arg(dir)
            .args(["--p2p-port", &p2p.to_string()])
            .args(["--api-port", &api.to_string()])
            .env_remove("MERIDIAN_PASSPHRASE")
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("spawn meridian devnet");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(out)).map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        Devnet {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    pub fn wait_line(&mut self, prefix: &str, limit: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.starts_with(prefix) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "no `{prefix}` line from devnet in {limit:?}; output so far: {:#?}",
                    self.seen
                ),
            }
        }
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, sig);
    }

    /// SIGINT, then wait for the supervisor (which stops its nodes) to exit.
    pub fn stop(&mut self, limit: std::time::Duration) -> bool {
        self.signal(nix::sys::signal::Signal::SIGINT);
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let stopped = self.stop(std::time::Duration::from_secs(20));
        // Whatever is left of the group (the supervisor, nodes it did not stop).
        let pgid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        if !stopped {
            let _ = self.child.wait();
        }
    }
}
