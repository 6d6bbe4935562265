//! Sequential vs parallel (Block-STM) execution of a 1,000-transaction block.
//!
//! Contention:
//! * `low`: every transaction moves funds between two accounts of its own (distinct senders,
//!   distinct keys: no conflicts);
//! * `high`: every transaction also adds to one of 10 hot counters, so each depends on the
//!   transaction ten places before it.
//!
//! Work per transaction, besides admission (address derivation, nonce read), 3 reads, 3 writes
//! and an event:
//! * `light`: 16 SHA-256 hashes, about a native bank transfer (~5 µs per transaction here);
//! * `heavy`: 256 SHA-256 hashes, about a small contract call (~60 µs).
//!
//! `cargo bench -p meridian-execution --bench parallel` prints a table (best and median of 15
//! rounds that interleave the configurations), then criterion's figures for sequential vs one
//! thread per core. Under `cargo test` (no `--bench` argument) every configuration runs once
//! and is checked against the sequential result.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use meridian_execution::{
    BlockEnv, BlockOutcome, ExecMode, Executor, Module, ModuleError, StateRead, TxAuthenticator,
    TxContext,
};
use meridian_types::{Call, ChainId, Hash32, HashFn, SignedTx, TxBody};
use sha2::Digest;

const TXS: u32 = 1_000;
const HOT_KEYS: u32 = 10;

struct Sha;
impl HashFn for Sha {
    fn hash(&self, d: &[u8]) -> Hash32 {
        sha2::Sha256::digest(d).into()
    }
}

struct AcceptAll;
impl TxAuthenticator for AcceptAll {
    fn authenticate(&self, _: &SignedTx, _: &Hash32) -> bool {
        true
    }
}

fn balance_key(account: u32) -> Vec<u8> {
    format!("bench/balance/{account:08}").into_bytes()
}

fn hot_key(k: u32) -> Vec<u8> {
    format!("bench/hot/{k:02}").into_bytes()
}

fn read_u64(ctx: &TxContext<'_>, key: &[u8]) -> u64 {
    ctx.get(key)
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map_or(0, u64::from_be_bytes)
}

/// `transfer(from, to, hot, rounds)`: moves 1 from `from` to `to`, hashes `rounds` times, and
/// (if `hot` < `HOT_KEYS`) adds 1 to hot counter `hot`.
struct Bench;
impl Module for Bench {
    fn name(&self) -> &'static str {
        "bench"
    }

    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        _method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        let arg = |i: usize| u32::from_be_bytes(args[i * 4..i * 4 + 4].try_into().unwrap());
        let (from, to, hot, rounds) = (arg(0), arg(1), arg(2), arg(3));
        let a = read_u64(ctx, &balance_key(from));
        let b = read_u64(ctx, &balance_key(to));
        if a == 0 {
            return Err(ModuleError::new("bench.empty", "no funds"));
        }
        let mut h = ctx.hash(args);
        for _ in 0..rounds {
            h = ctx.hash(&[h.as_slice(), args].concat());
        }
        ctx.set(balance_key(from), (a - 1).to_be_bytes().to_vec())?;
        ctx.set(balance_key(to), (b + 1).to_be_bytes().to_vec())?;
        if hot < HOT_KEYS {
            let c = read_u64(ctx, &hot_key(hot));
            ctx.set(hot_key(hot), (c + 1).to_be_bytes().to_vec())?;
        }
        ctx.emit("transfer", h.to_vec())
    }
}

fn env() -> BlockEnv {
    BlockEnv {
        chain_id: ChainId::new("bench").unwrap(),
        height: 1,
        time_ms: 0,
    }
}

/// One transaction per distinct sender.
fn block(high_contention: bool, rounds: u32) -> Vec<SignedTx> {
    (0..TXS)
        .map(|i| {
            let mut sender = vec![2u8; 33];
            sender[1..5].copy_from_slice(&i.to_be_bytes());
            let hot = if high_contention {
                i % HOT_KEYS
            } else {
                u32::MAX
            };
            let args = [i, TXS + i, hot, rounds]
                .iter()
                .flat_map(|x| x.to_be_bytes())
                .collect();
            SignedTx {
                body: TxBody {
                    chain_id: env().chain_id,
                    sender,
                    nonce: 0,
                    expiry_height: 10,
                    call: Call {
                        module: "bench".into(),
                        method: "transfer".into(),
                        args,
                    },
                },
                signature: vec![0; 64],
            }
        })
        .collect()
}

fn base() -> BTreeMap<Vec<u8>, Vec<u8>> {
    (0..2 * TXS)
        .map(|a| (balance_key(a), 1_000u64.to_be_bytes().to_vec()))
        .collect()
}

/// `threads == 0` runs the sequential executor.
fn run(
    exec: &Executor,
    base: &(dyn StateRead + Sync),
    txs: &[SignedTx],
    threads: usize,
) -> BlockOutcome {
    let txs = txs.to_vec();
    let out = if threads == 0 {
        exec.execute_block(&Sha, &AcceptAll, base, &env(), txs, ExecMode::Verify)
    } else {
        exec.execute_block_parallel(
            &Sha,
            &AcceptAll,
            base,
            &env(),
            txs,
            ExecMode::Verify,
            threads,
        )
    };
    out.expect("valid block")
}

fn label(threads: usize) -> String {
    match threads {
        0 => "sequential".into(),
        t => format!("parallel x{t}"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let exec = Executor::new(vec![Arc::new(Bench) as Arc<dyn Module>]);
    let base = base();
    let mut configs = vec![0, 1, 2, 4, 8];
    if !configs.contains(&cores) {
        configs.push(cores);
    }
    let workloads = [
        ("low/light", block(false, 16)),
        ("high/light", block(true, 16)),
        ("low/heavy", block(false, 256)),
        ("high/heavy", block(true, 256)),
    ];
    println!(
        "parallel execution: {TXS} txs/block, {cores} cores available, \
         high contention = {HOT_KEYS} hot keys"
    );
    for (name, txs) in &workloads {
        let expected = run(&exec, &base, txs, 0);
        let rounds = if bench_mode { 15 } else { 1 };
        // Rounds interleave the configurations, so load from elsewhere hits them alike.
        let mut times = vec![Vec::new(); configs.len()];
        for _ in 0..rounds {
            for (c, &threads) in configs.iter().enumerate() {
                let t = Instant::now();
                let out = run(&exec, &base, txs, threads);
                times[c].push(t.elapsed());
                assert!(out == expected, "{name}/{threads}: differs from sequential");
            }
        }
        for (c, &threads) in configs.iter().enumerate() {
            times[c].sort();
            println!(
                "  {name:<10}  {:<13} best {:>8.3} ms  median {:>8.3} ms",
                label(threads),
                ms(times[c][0]),
                ms(times[c][times[c].len() / 2]),
            );
        }
    }

    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group("block_1000_txs");
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        for (name, txs) in &workloads {
            for threads in [0, cores] {
                let id = BenchmarkId::new(*name, label(threads));
                group.bench_function(id, |b| {
                    b.iter(|| black_box(run(&exec, &base, txs, threads)))
                });
            }
        }
        group.finish();
    }
    c.final_summary();
}
