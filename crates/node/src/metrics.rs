//! The node's metrics, rendered in the Prometheus text format (version 0.0.4).
//!
//! Plain atomics updated on the ledger's hot paths (admission, finalization) — no registry
//! crate, no locks except around the cached storage size. The API serves
//! [`Metrics::render`] at `GET /metrics` and appends its own `meridian_api_*` and
//! `meridian_peers_*` series. Every name starts with `meridian_`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use meridian_mempool::MempoolError;

/// Upper bounds (ms) of the finalization latency buckets.
const LATENCY_BOUNDS_MS: &[u64] = &[
    25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000,
];
/// Upper bounds (ms) of the block work buckets (execution on propose/verify, commit).
const WORK_BOUNDS_MS: &[u64] = &[1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000];
/// Upper bounds of the block size buckets, in transactions.
const BLOCK_TXS_BOUNDS: &[u64] = &[0, 1, 10, 100, 1_000, 5_000, 10_000, 50_000];
/// Upper bounds of the block size buckets, in encoded bytes.
const BLOCK_BYTES_BOUNDS: &[u64] = &[
    1 << 10,
    16 << 10,
    128 << 10,
    1 << 20,
    4 << 20,
    16 << 20,
    64 << 20,
];
/// Walking the data directory costs a syscall per file: refresh at most this often.
pub const STORAGE_SIZE_REFRESH: Duration = Duration::from_secs(15);

/// A cumulative histogram with fixed bounds.
pub struct Histogram {
    bounds: &'static [u64],
    /// Non-cumulative counts; the last slot is `+Inf`.
    buckets: Vec<AtomicU64>,
    sum: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [u64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, v: u64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum.fetch_add(v, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Writes the series; `scale` divides bounds and sum (1000 turns ms into seconds).
    fn render(&self, out: &mut String, name: &str, help: &str, scale: u64) {
        header(out, name, help, "histogram");
        let fmt = |v: u64| {
            if scale == 1 {
                v.to_string()
            } else {
                (v as f64 / scale as f64).to_string()
            }
        };
        let mut acc = 0;
        for (i, b) in self.bounds.iter().enumerate() {
            acc += self.buckets[i].load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {acc}", fmt(*b));
        }
        acc += self.buckets[self.bounds.len()].load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {acc}");
        let _ = writeln!(out, "{name}_sum {}", fmt(self.sum.load(Relaxed)));
        let _ = writeln!(out, "{name}_count {}", self.count.load(Relaxed));
    }
}

/// Writes the `# HELP` and `# TYPE` lines of a metric family.
pub fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes a single-sample family.
pub fn single(out: &mut String, name: &str, help: &str, kind: &str, value: u64) {
    header(out, name, help, kind);
    let _ = writeln!(out, "{name} {value}");
}

/// Escapes a Prometheus label value.
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Size on disk of a directory tree, recomputed at most every [`STORAGE_SIZE_REFRESH`].
struct DirSize {
    dir: Option<PathBuf>,
    cached: Option<(Instant, u64)>,
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            // symlink_metadata: never follow links out of the data directory.
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if m.is_file() {
                total += m.len();
            }
        }
    }
    total
}

/// A piece of per-block work timed by [`Metrics::record_work`].
#[derive(Clone, Copy, Debug)]
pub enum BlockWork {
    Propose,
    Verify,
    Commit,
}

/// Counters and histograms of one node. Owned by the [`crate::Ledger`].
pub struct Metrics {
    finalize_latency_ms: Histogram,
    propose_ms: Histogram,
    verify_ms: Histogram,
    commit_ms: Histogram,
    block_txs: Histogram,
    block_bytes: Histogram,
    last_block_txs: AtomicU64,
    last_block_bytes: AtomicU64,
    txs_finalized: AtomicU64,
    admitted: AtomicU64,
    rejected: [AtomicU64; MempoolError::ALL_CODES.len()],
    storage: Mutex<DirSize>,
}

impl Metrics {
    pub fn new(storage_dir: Option<PathBuf>) -> Self {
        Self {
            finalize_latency_ms: Histogram::new(LATENCY_BOUNDS_MS),
            propose_ms: Histogram::new(WORK_BOUNDS_MS),
            verify_ms: Histogram::new(WORK_BOUNDS_MS),
            commit_ms: Histogram::new(WORK_BOUNDS_MS),
            block_txs: Histogram::new(BLOCK_TXS_BOUNDS),
            block_bytes: Histogram::new(BLOCK_BYTES_BOUNDS),
            last_block_txs: AtomicU64::new(0),
            last_block_bytes: AtomicU64::new(0),
            txs_finalized: AtomicU64::new(0),
            admitted: AtomicU64::new(0),
            rejected: std::array::from_fn(|_| AtomicU64::new(0)),
            storage: Mutex::new(DirSize {
                dir: storage_dir,
                cached: None,
            }),
        }
    }

    /// Measures `dir` (the node's whole data directory) instead of the ledger's own directory.
    pub fn set_storage_dir(&self, dir: PathBuf) {
        let mut s = self.storage.lock().unwrap_or_else(|p| p.into_inner());
        s.dir = Some(dir);
        s.cached = None;
    }

    /// Records one admission attempt.
    pub fn record_submit(&self, result: &Result<meridian_types::Hash32, MempoolError>) {
        match result {
            Ok(_) => {
                self.admitted.fetch_add(1, Relaxed);
            }
            Err(e) => {
                if let Some(i) = MempoolError::ALL_CODES.iter().position(|c| *c == e.code()) {
                    self.rejected[i].fetch_add(1, Relaxed);
                }
            }
        }
    }

    /// Records a block this node just committed. Latency is local wall clock minus the block's
    /// timestamp (the proposer's clock), clamped at zero for skew.
    pub fn record_finalized(&self, timestamp_ms: u64, txs: usize, bytes: usize) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.finalize_latency_ms
            .observe(now_ms.saturating_sub(timestamp_ms));
        self.block_txs.observe(txs as u64);
        self.block_bytes.observe(bytes as u64);
        self.last_block_txs.store(txs as u64, Relaxed);
        self.last_block_bytes.store(bytes as u64, Relaxed);
        self.txs_finalized.fetch_add(txs as u64, Relaxed);
    }

    /// Records the time one block's work took on this node: building a proposal, re-executing
    /// a peer's block, or committing a finalized one. These are on consensus' critical path.
    pub fn record_work(&self, work: BlockWork, took: Duration) {
        self.work(work).observe(took.as_millis() as u64);
    }

    fn work(&self, work: BlockWork) -> &Histogram {
        match work {
            BlockWork::Propose => &self.propose_ms,
            BlockWork::Verify => &self.verify_ms,
            BlockWork::Commit => &self.commit_ms,
        }
    }

    /// How many times `work` was recorded.
    pub fn work_count(&self, work: BlockWork) -> u64 {
        self.work(work).count()
    }

    /// Rejections so far with `code` (a [`MempoolError`] code).
    pub fn rejected(&self, code: &str) -> u64 {
        MempoolError::ALL_CODES
            .iter()
            .position(|c| *c == code)
            .map_or(0, |i| self.rejected[i].load(Relaxed))
    }

    /// Blocks committed by this process since it started.
    pub fn blocks_committed(&self) -> u64 {
        self.block_txs.count()
    }

    /// Bytes under the storage directory (cached; walks the tree when stale). Blocking I/O.
    pub fn storage_bytes(&self) -> u64 {
        let mut s = self.storage.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, v)) = s.cached {
            if at.elapsed() < STORAGE_SIZE_REFRESH {
                return v;
            }
        }
        let v = s.dir.as_deref().map_or(0, dir_size);
        s.cached = Some((Instant::now(), v));
        v
    }

    /// Renders every node series. `height` and `mempool` are read by the caller from the
    /// ledger. Blocking (may walk the data directory).
    pub fn render(&self, height: u64, mempool: usize) -> String {
        let mut out = String::with_capacity(4096);
        single(
            &mut out,
            "meridian_finalized_height",
            "Height of the latest finalized block.",
            "gauge",
            height,
        );
        self.finalize_latency_ms.render(
            &mut out,
            "meridian_finalization_latency_seconds",
            "Time from a block's timestamp to its local commit.",
            1000,
        );
        self.propose_ms.render(
            &mut out,
            "meridian_block_propose_seconds",
            "Time this node spent building a proposal (selection, execution, state root).",
            1000,
        );
        self.verify_ms.render(
            &mut out,
            "meridian_block_verify_seconds",
            "Time this node spent re-executing a peer's proposed block.",
            1000,
        );
        self.commit_ms.render(
            &mut out,
            "meridian_block_commit_seconds",
            "Time this node spent committing a finalized block durably.",
            1000,
        );
        self.block_txs.render(
            &mut out,
            "meridian_block_txs",
            "Transactions per committed block.",
            1,
        );
        self.block_bytes.render(
            &mut out,
            "meridian_block_bytes",
            "Encoded size of committed blocks.",
            1,
        );
        single(
            &mut out,
            "meridian_last_block_txs",
            "Transactions in the last block committed by this process.",
            "gauge",
            self.last_block_txs.load(Relaxed),
        );
        single(
            &mut out,
            "meridian_last_block_bytes",
            "Encoded size of the last block committed by this process.",
            "gauge",
            self.last_block_bytes.load(Relaxed),
        );
        single(
            &mut out,
            "meridian_txs_finalized_total",
            "Transactions committed by this process.",
            "counter",
            self.txs_finalized.load(Relaxed),
        );
        single(
            &mut out,
            "meridian_mempool_txs",
            "Transactions waiting in the mempool.",
            "gauge",
            mempool as u64,
        );
        single(
            &mut out,
            "meridian_txs_admitted_total",
            "Transactions admitted into the mempool (client and gossip).",
            "counter",
            self.admitted.load(Relaxed),
        );
        header(
            &mut out,
            "meridian_txs_rejected_total",
            "Transactions refused at admission, by stable error code.",
            "counter",
        );
        for (i, code) in MempoolError::ALL_CODES.iter().enumerate() {
            let _ = writeln!(
                out,
                "meridian_txs_rejected_total{{code=\"{code}\"}} {}",
                self.rejected[i].load(Relaxed)
            );
        }
        single(
            &mut out,
            "meridian_storage_bytes",
            "Bytes on disk under the node's data directory (refreshed every 15 s).",
            "gauge",
            self.storage_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::new(&[1, 10]);
        for v in [0, 1, 5, 50] {
            h.observe(v);
        }
        let mut s = String::new();
        h.render(&mut s, "x", "help", 1);
        assert!(s.contains("x_bucket{le=\"1\"} 2\n"));
        assert!(s.contains("x_bucket{le=\"10\"} 3\n"));
        assert!(s.contains("x_bucket{le=\"+Inf\"} 4\n"));
        assert!(s.contains("x_sum 56\n"));
        assert!(s.contains("x_count 4\n"));
    }

    #[test]
    fn renders_every_series_and_rejections() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/f"), [0u8; 1000]).unwrap();
        let m = Metrics::new(Some(dir.path().to_path_buf()));
        m.record_submit(&Err(MempoolError::BadSignature));
        m.record_submit(&Ok([0; 32]));
        m.record_finalized(0, 3, 700);
        m.record_work(BlockWork::Verify, Duration::from_millis(30));
        let text = m.render(7, 2);
        assert!(text.contains("meridian_finalized_height 7\n"));
        assert!(text.contains("meridian_mempool_txs 2\n"));
        assert!(text.contains("meridian_txs_rejected_total{code=\"tx.bad_signature\"} 1\n"));
        assert!(text.contains("meridian_txs_rejected_total{code=\"mempool.full\"} 0\n"));
        assert!(text.contains("meridian_txs_admitted_total 1\n"));
        assert!(text.contains("meridian_last_block_txs 3\n"));
        assert!(text.contains("meridian_block_bytes_bucket{le=\"1024\"} 1\n"));
        assert!(text.contains("meridian_finalization_latency_seconds_bucket{le=\"+Inf\"} 1\n"));
        assert!(text.contains("meridian_storage_bytes 1000\n"));
        assert!(text.contains("meridian_block_verify_seconds_bucket{le=\"0.025\"} 0\n"));
        assert!(text.contains("meridian_block_verify_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(text.contains("meridian_block_propose_seconds_count 0\n"));
        assert_eq!(m.rejected("tx.bad_signature"), 1);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("meridian_"), "{line}");
        }
    }
}
