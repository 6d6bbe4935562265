//! `meridian devnet` through the real binary: start → ready → stop (SIGINT) → resume from disk →
//! stop → `--reset` starts a new chain. Every wait is bounded; processes are killed on failure.

mod support;
use support::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Devnet {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, ports: (u16, u16), extra: &[&str]) -> Devnet {
    let mut child = Command::new(BIN)
        .args([
            "devnet",
            "--validators",
            "4",
            "--suite",
            "intl",
            "--data-dir",
        ])
        .arg(dir)
        .args([
            "--p2p-port",
            &ports.0.to_string(),
            "--api-port",
            &ports.1.to_string(),
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Devnet {
        child,
        lines: rx,
        seen: Vec::new(),
    }
}

impl Devnet {
    fn wait_line(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.starts_with(prefix) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "no `{prefix}` line in {limit:?}; output so far: {:#?}",
                    self.seen
                ),
            }
        }
    }

    fn interrupt_and_wait(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        self.wait_line("stopped", Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "devnet did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn height(api_port: u16) -> Option<u64> {
    let v: serde_json::Value = ureq::get(format!("http://127.0.0.1:{api_port}/v1/status"))
        .call()
        .ok()?
        .body_mut()
        .read_json()
        .ok()?;
    v["height"].as_u64()
}

#[test]
fn devnet_start_ready_stop_resume_reset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let ports = (free_port_base(4), free_port_base(4));
    assert_ne!(ports.0, ports.1);

    let mut d = start(&dir, ports, &[]);
    d.wait_line("creating", Duration::from_secs(30));
    d.wait_line("ready:", Duration::from_secs(120));
    // Let it finalize a few blocks, remember how far it got.
    std::thread::sleep(Duration::from_secs(2));
    let before = height(ports.1).expect("API answers while running");
    assert!(before >= 1);
    bench_smoke(tmp.path(), ports.1);
    d.interrupt_and_wait();
    assert!(
        height(ports.1).is_none(),
        "nodes stopped with the supervisor"
    );
    drop(d);

    let mut d = start(&dir, ports, &[]);
    d.wait_line("resuming", Duration::from_secs(30));
    d.wait_line("ready:", Duration::from_secs(120));
    let after = height(ports.1).unwrap();
    assert!(after >= before, "resumed from disk: {after} >= {before}");
    d.interrupt_and_wait();
    drop(d);

    let mut d = start(&dir, ports, &["--reset"]);
    d.wait_line("reset:", Duration::from_secs(30));
    d.wait_line("creating", Duration::from_secs(30));
    d.wait_line("ready:", Duration::from_secs(120));
    d.interrupt_and_wait();
}

/// A few seconds of `meridian bench` against the running devnet: the report is well formed
/// (no speed assertion — speed is measured by the bench command, not by tests).
fn bench_smoke(dir: &Path, api_base: u16) {
    let out = dir.join("bench.json");
    let nodes: Vec<String> = (0..4)
        .map(|i| format!("http://127.0.0.1:{}", api_base + i))
        .collect();
    let status = Command::new(BIN)
        .args([
            "bench",
            "--rate",
            "50",
            "--duration",
            "2",
            "--accounts",
            "8",
            "--workers",
            "4",
            "--drain",
            "30",
            "--warmup",
            "1",
        ])
        .arg("--nodes")
        .arg(nodes.join(","))
        .arg("--out")
        .arg(&out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "bench exits 0");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(r["suite"], "intl");
    assert_eq!(r["validators"], 4);
    assert_eq!(r["submitted"], 100);
    assert_eq!(r["committed"], 100, "every transfer finalized: {r}");
    for k in [
        "committed_tps",
        "latency_ms_p50",
        "latency_ms_p99",
        "verify_per_sec_one_core",
        "verify_ceiling_tps",
        "cores",
    ] {
        assert!(
            r[k].as_f64().is_some_and(|v| v > 0.0),
            "{k} present and positive: {r}"
        );
    }
    assert!(r["latency_ms_p50"].as_f64() <= r["latency_ms_p99"].as_f64());
    // Steady state: the transactions submitted after the 1 s warm-up (about half of them).
    assert_eq!(r["warmup_s"], 1);
    let steady = r["steady_committed"].as_u64().unwrap();
    assert!(steady > 0 && steady < 100, "steady-state share: {r}");
    assert!(r["steady_latency_ms_p50"].as_f64().is_some_and(|v| v > 0.0));
    assert!(r["steady_latency_ms_p50"].as_f64() <= r["steady_latency_ms_p99"].as_f64());
    // One 5-second slice covers the 2 s window and holds every transaction.
    let slices = r["latency_by_interval"].as_array().unwrap();
    assert_eq!(slices.len(), 1, "{r}");
    assert_eq!(slices[0]["from_s"], 0);
    assert_eq!(slices[0]["to_s"], 2);
    assert_eq!(slices[0]["committed"], 100);
}
