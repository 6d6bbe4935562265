//! State commit time per block: 10,000 balance updates over a 100,000-account state, per hash
//! suite.
//!
//! * `prepare/<suite>`: computing the new root in memory (what every validator does before it
//!   votes);
//! * `prepare+commit/<suite>`: that plus the atomic, fsynced write of the block (what happens on
//!   finalization). Each iteration commits a new height on the same store, so the tree keeps
//!   growing in versions like a real chain.
//!
//! Run: `cargo bench -p meridian-storage --bench commit`. Figures and conditions are recorded in
//! `docs/benchmarks/storage.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use meridian_storage::{BlockCommit, HashKind, Store};

const ACCOUNTS: u64 = 100_000;
const UPDATES: u64 = 10_000;

fn balance_key(account: u64) -> Vec<u8> {
    format!("bank/balance/{account:08}").into_bytes()
}

fn balance(height: u64, account: u64) -> Vec<u8> {
    // 16-byte amount, as a u128 balance would be encoded.
    (u128::from(height) * 1_000_003 + u128::from(account))
        .to_be_bytes()
        .to_vec()
}

/// 10,000 distinct accounts per block, a different subset at each height.
fn block_writes(height: u64) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let stride = ACCOUNTS / UPDATES;
    (0..UPDATES)
        .map(|j| {
            let account = j * stride + height % stride;
            (balance_key(account), Some(balance(height, account)))
        })
        .collect()
}

fn genesis(store: &Store) {
    let writes = (0..ACCOUNTS)
        .map(|a| (balance_key(a), Some(balance(0, a))))
        .collect();
    let state = store.prepare(None, 0, writes).expect("prepare genesis");
    store.commit(commit_of(0, state)).expect("commit genesis");
}

fn commit_of(height: u64, state: std::sync::Arc<meridian_storage::PreparedState>) -> BlockCommit {
    BlockCommit {
        height,
        block_hash: {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&height.to_be_bytes());
            h
        },
        block: vec![0; 256],
        certificate: vec![0; 128],
        txs: vec![],
        receipts: vec![],
        state,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_commit_10k_updates");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(15));

    for kind in [HashKind::Sm3, HashKind::Sha256] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), kind).expect("open");
        genesis(&store);

        group.bench_function(BenchmarkId::new("prepare", kind.name()), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let h = store.latest_height().map_or(0, |h| h + 1);
                    let writes = block_writes(h);
                    let start = Instant::now();
                    let state = store.prepare(None, h, writes).expect("prepare");
                    total += start.elapsed();
                    black_box(state.root());
                }
                total
            });
        });

        group.bench_function(BenchmarkId::new("prepare+commit", kind.name()), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let h = store.latest_height().map_or(0, |h| h + 1);
                    let writes = block_writes(h);
                    let start = Instant::now();
                    let state = store.prepare(None, h, writes).expect("prepare");
                    store.commit(commit_of(h, state)).expect("commit");
                    total += start.elapsed();
                }
                total
            });
        });
    }
    group.finish();
}

fn print_conditions() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "conditions: cpu={cpu}; cores={cores}; profile={}; state={ACCOUNTS} accounts; \
         block={UPDATES} balance updates (16-byte values); store in {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::env::temp_dir().display()
    );
}

fn main() {
    print_conditions();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
