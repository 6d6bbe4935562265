//! `meridian bench`: an open-loop load generator against a running network.
//!
//! It funds `--accounts` senders from a fresh issuer, pre-signs `rate × duration` transfers,
//! submits them at the target rate (open loop: the schedule does not wait for answers) spread
//! over the nodes (each sender sticks to one node), follows finalized blocks to time every
//! transaction from submit to finalized, and measures this machine's single-core signature
//! verification rate for the chain's suite to put the result against the verify ceiling
//! (`cores × verify rate ÷ validators`: every validator verifies every signature once).
//! Prints a summary and writes a JSON report with the full conditions.
//!
//! `--workload counter|token` loads a contract instead (issue 5's "contract calls per
//! second"): the bench deploys the example contract (built from the workspace, or `--wasm`),
//! then every pre-signed transaction is a contract call — `counter`: everyone increments one
//! counter (every call conflicts with every other); `token`: each sender transfers 1 token to
//! the next (no conflicts but the sender's own). After the run it reads a sample of receipts
//! and reports how many calls failed.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use meridian_bank::BankCall;
use meridian_crypto::{Domain, PrivateKey, SigningKind, Suite};
use meridian_node::{sign_tx, ChainHash};
use meridian_types::{Address, ChainId, Encode, Hash32};
use serde::Serialize;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// API URLs of the nodes to load (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "http://127.0.0.1:8600,http://127.0.0.1:8601,http://127.0.0.1:8602,http://127.0.0.1:8603"
    )]
    pub nodes: Vec<String>,
    /// Target submission rate, transactions per second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Submission window in seconds.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Number of sending accounts.
    #[arg(long, default_value_t = 256)]
    pub accounts: usize,
    /// HTTP submitter threads.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Transactions per request: 1 uses `POST /v1/txs` (JSON, one per request), more uses
    /// `POST /v1/txs/batch` with binary bodies (at most 512), as an SDK batching its sends.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=512))]
    pub batch: u64,
    /// Where to write the JSON report.
    #[arg(long, default_value = "bench-report.json")]
    pub out: PathBuf,
    /// Seconds to wait for stragglers after the window.
    #[arg(long, default_value_t = 30)]
    pub drain: u64,
    /// Seconds at the start of the window left out of the steady-state latency figures (the
    /// chain goes from idle to loaded then); the whole-window figures keep them.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// What to send: `transfer` (bank transfers), `counter` or `token` (contract calls), or
    /// `interop`: packet latency and relayed packets/s from region A (`--nodes`, first URL)
    /// to region B (`--peer-node`) over a transfer channel.
    #[arg(long, default_value = "transfer", value_parser = ["transfer", "counter", "token", "interop"])]
    pub workload: String,
    /// Contract code for the contract workloads [default: build the workspace example].
    #[arg(long, value_name = "FILE.wasm")]
    pub wasm: Option<PathBuf>,
    /// Fuel limit of each contract call.
    #[arg(long, default_value_t = 10_000_000)]
    pub fuel: u64,
    /// interop: region B's API.
    #[arg(long, default_value = "http://127.0.0.1:8700")]
    pub peer_node: String,
    /// interop: region A's end of the transfer channel.
    #[arg(long, default_value = "channel-0")]
    pub channel: String,
    /// interop: packets sent one at a time to measure latency.
    #[arg(long, default_value_t = 20)]
    pub probes: usize,
    /// interop: packets sent at once to measure relayed packets per second.
    #[arg(long, default_value_t = 2000)]
    pub packets: usize,
    /// interop: the round trip between the relayer and region B, for the report (the devnet
    /// sets it with `devnet --regions 2 --link-rtt-ms`).
    #[arg(long, default_value_t = 0)]
    pub link_rtt_ms: u64,
}

/// Latency of the transactions submitted in `[from_s, to_s)` of the window.
#[derive(Serialize, Debug)]
pub struct IntervalLatency {
    pub from_s: u64,
    pub to_s: u64,
    pub committed: usize,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
}

/// Width of the slices of [`Report::latency_by_interval`].
const INTERVAL_S: u64 = 5;

#[derive(Serialize, Debug)]
pub struct Report {
    pub commit: String,
    pub workload: String,
    /// Contract calls among a sample of committed transactions that failed (0 for transfers).
    pub sampled_receipts: usize,
    pub sampled_failures: usize,
    pub gas_used_p50: u64,
    pub cores: usize,
    pub cpu: String,
    pub suite: String,
    pub chain_id: String,
    pub validators: usize,
    pub nodes: Vec<String>,
    pub target_rate: u64,
    pub batch: u64,
    pub max_block_txs: u64,
    pub max_block_bytes: u64,
    pub duration_s: u64,
    pub accounts: usize,
    pub submitted: usize,
    pub rejected: usize,
    pub committed: usize,
    pub committed_tps: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p95: f64,
    pub latency_ms_p99: f64,
    /// Transactions submitted after the warm-up, and their latency.
    pub warmup_s: u64,
    pub steady_committed: usize,
    pub steady_latency_ms_p50: f64,
    pub steady_latency_ms_p95: f64,
    pub steady_latency_ms_p99: f64,
    /// Latency of the transactions submitted in each 5-second slice of the window.
    pub latency_by_interval: Vec<IntervalLatency>,
    pub verify_per_sec_one_core: f64,
    pub verify_ceiling_tps: f64,
    pub fraction_of_ceiling: f64,
    pub first_height: u64,
    pub last_height: u64,
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<serde_json::Value> {
    Ok(agent.get(url).call()?.body_mut().read_json()?)
}

/// Sends a binary batch; counts the transactions the node refused.
pub(crate) fn post_batch(agent: &ureq::Agent, node: &str, raws: &[Vec<u8>]) -> Result<usize> {
    let v: serde_json::Value = agent
        .post(format!("{node}/v1/txs/batch"))
        .header("content-type", "application/octet-stream")
        .send(&meridian_node::gossip::encode_batch(raws)[..])
        .map_err(|e| anyhow!("{e}"))?
        .body_mut()
        .read_json()?;
    v["rejected"]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| anyhow!("batch answer without a rejected count: {v}"))
}

pub(crate) fn post_tx(agent: &ureq::Agent, node: &str, raw: &[u8], commit: bool) -> Result<()> {
    let mode = if commit { "commit" } else { "async" };
    agent
        .post(format!("{node}/v1/txs?mode={mode}&timeout_ms=30000"))
        .send_json(serde_json::json!({"tx": hex::encode(raw)}))
        .map(|_| ())
        .map_err(|e| anyhow!("{e}"))
}

/// Submits `raws` (one sender's consecutive nonces) in rounds that stay inside the pool's
/// per-sender window: a batch, then the round's last transaction in commit mode.
pub(crate) fn submit_in_rounds(
    agent: &ureq::Agent,
    node: &str,
    raws: &[Vec<u8>],
    what: &str,
) -> Result<()> {
    for round in raws.chunks(256) {
        let (last, rest) = round.split_last().ok_or_else(|| anyhow!("no accounts"))?;
        let refused = post_batch(agent, node, rest)?;
        if refused > 0 {
            bail!("{refused} {what} transactions refused");
        }
        post_tx(agent, node, last, true)?;
    }
    Ok(())
}

/// Creates asset `symbol` (issuer `issuer`, nonce 0) and mints `amount` to each of `to`
/// (nonces 1..), waiting until every mint is final.
pub(crate) fn fund(
    agent: &ureq::Agent,
    node: &str,
    chain: &ChainId,
    issuer: &PrivateKey,
    symbol: &str,
    to: &[Address],
    amount: u128,
) -> Result<()> {
    let create = sign_tx(
        issuer,
        chain,
        0,
        u64::MAX,
        BankCall::CreateAsset {
            symbol: symbol.to_string(),
            decimals: 0,
            max_supply: u128::MAX,
        }
        .into_call(),
    );
    post_tx(agent, node, &create.encode(), true)?;
    let mints: Vec<Vec<u8>> = to
        .iter()
        .enumerate()
        .map(|(i, a)| {
            sign_tx(
                issuer,
                chain,
                1 + i as u64,
                u64::MAX,
                BankCall::Mint {
                    symbol: symbol.to_string(),
                    to: *a,
                    amount,
                }
                .into_call(),
            )
            .encode()
        })
        .collect();
    submit_in_rounds(agent, node, &mints, "funding")
}

/// Single-core verifications per second of the suite's signatures on this machine.
pub fn measure_verify_rate(suite: Suite) -> f64 {
    let key = PrivateKey::from_seed(suite, &[3; 32]);
    let pk = key.public_key();
    let domain = match Domain::new("bench", SigningKind::Transaction) {
        Ok(d) => d,
        Err(_) => return 0.0,
    };
    let msg = [7u8; 200];
    let sig = key.sign(&domain, &msg);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(1500) {
        for _ in 0..32 {
            let _ = pk.verify(&domain, &msg, &sig);
        }
        n += 32;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

pub fn run(args: &BenchArgs) -> Result<Report> {
    if args.nodes.is_empty() || args.rate == 0 || args.duration == 0 || args.accounts == 0 {
        bail!("--nodes, --rate, --duration and --accounts must be non-empty/positive");
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(40)))
        .build()
        .into();
    let status = get_json(&agent, &format!("{}/v1/status", args.nodes[0]))
        .with_context(|| format!("cannot reach {}", args.nodes[0]))?;
    let suite: Suite = status["suite"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|_| anyhow!("node reports an unknown suite"))?;
    let chain_id = status["chain_id"].as_str().unwrap_or_default().to_string();
    let validators = status["validators"].as_u64().unwrap_or(1) as usize;
    let chain = ChainId::new(chain_id.clone()).map_err(|e| anyhow!("{e}"))?;
    let hash = ChainHash(suite);
    eprintln!(
        "bench: suite {suite}, chain {chain_id}, {validators} validators, {} nodes",
        args.nodes.len()
    );

    // Fresh issuer and senders per run (random keys), so reruns never collide on nonces.
    let mut rng = rand::rng();
    let issuer = PrivateKey::generate(suite, &mut rng);
    let senders: Vec<PrivateKey> = (0..args.accounts)
        .map(|_| PrivateKey::generate(suite, &mut rng))
        .collect();
    let addrs: Vec<Address> = senders
        .iter()
        .map(|k| Address::from_public_key(&hash, k.public_key().as_bytes()))
        .collect();
    let symbol = format!("B{}", rand::random::<u32>() % 1_000_000_000);
    let expiry = u64::MAX;
    eprintln!("bench: funding {} accounts with {symbol}", args.accounts);
    fund(
        &agent,
        &args.nodes[0],
        &chain,
        &issuer,
        &symbol,
        &addrs,
        1 << 60,
    )?;

    let total = (args.rate * args.duration) as usize;
    let contract = match args.workload.as_str() {
        "transfer" => None,
        w => Some(deploy_workload(
            &agent, args, w, &issuer, &chain, &hash, &senders, &addrs,
        )?),
    };
    eprintln!("bench: pre-signing {total} {} transactions", args.workload);
    let per_sender = total.div_ceil(args.accounts);
    let mut txs: Vec<(usize, Vec<u8>, Hash32)> = Vec::with_capacity(total);
    // Senders' first nonce: the token workload used nonce 0 for a warm-up in setup.
    let base_nonce = u64::from(args.workload == "token");
    'outer: for n in 0..per_sender {
        for (i, k) in senders.iter().enumerate() {
            if txs.len() == total {
                break 'outer;
            }
            let to = addrs[(i + 1) % addrs.len()];
            let call = match (&contract, args.workload.as_str()) {
                (Some(name), "counter") => {
                    contract_call(name, r#"{"increment":{"by":1}}"#, args.fuel)
                }
                (Some(name), _) => contract_call(
                    name,
                    &format!(r#"{{"transfer":{{"recipient":"{to}","amount":"1"}}}}"#),
                    args.fuel,
                ),
                (None, _) => BankCall::Transfer {
                    symbol: symbol.clone(),
                    to,
                    amount: 1,
                }
                .into_call(),
            };
            let tx = sign_tx(k, &chain, base_nonce + n as u64, expiry, call);
            let h = tx.hash(&hash);
            // Whole requests go to one node, round-robin over the nodes.
            let node = (txs.len() / args.batch.max(1) as usize) % args.nodes.len();
            txs.push((node, tx.encode(), h));
        }
    }
    let first_height = status["height"].as_u64().unwrap_or(0);
    let index: HashMap<Hash32, usize> = txs.iter().enumerate().map(|(i, t)| (t.2, i)).collect();
    let txs = Arc::new(txs);
    let submitted_at: Arc<Vec<AtomicU64>> =
        Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let committed_at: Arc<Mutex<Vec<Option<f64>>>> = Arc::new(Mutex::new(vec![None; total]));
    let sent = Arc::new(AtomicUsize::new(0));
    let rejected = Arc::new(AtomicUsize::new(0));
    let committed = Arc::new(AtomicUsize::new(0));
    let last_height = Arc::new(AtomicU64::new(first_height));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let t0 = Instant::now();

    // Follower: walks finalized blocks on the first node and stamps commit times.
    let follower = {
        let (agent, node) = (agent.clone(), args.nodes[0].clone());
        let (committed_at, committed, last_height, done) = (
            committed_at.clone(),
            committed.clone(),
            last_height.clone(),
            done.clone(),
        );
        std::thread::spawn(move || {
            let mut next = first_height + 1;
            while !done.load(Ordering::SeqCst) {
                match get_json(&agent, &format!("{node}/v1/blocks/{next}")) {
                    Ok(b) => {
                        let now = t0.elapsed().as_secs_f64();
                        let mut c = committed_at.lock().unwrap_or_else(|p| p.into_inner());
                        for h in b["tx_hashes"].as_array().into_iter().flatten() {
                            let Some(raw) = h.as_str().and_then(|s| hex::decode(s).ok()) else {
                                continue;
                            };
                            let Ok(h32) = <[u8; 32]>::try_from(raw.as_slice()) else {
                                continue;
                            };
                            if let Some(&i) = index.get(&h32) {
                                if c[i].is_none() {
                                    c[i] = Some(now);
                                    committed.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                        }
                        last_height.store(next, Ordering::SeqCst);
                        next += 1;
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
    };

    // Open-loop submitters: tx i is due at t0 + i / rate.
    let workers: Vec<_> = (0..args.workers.max(1))
        .map(|w| {
            let (agent, txs, submitted_at, sent, rejected) = (
                agent.clone(),
                txs.clone(),
                submitted_at.clone(),
                sent.clone(),
                rejected.clone(),
            );
            let (nodes, rate, n_workers) = (args.nodes.clone(), args.rate, args.workers.max(1));
            let batch = args.batch.max(1) as usize;
            std::thread::spawn(move || {
                // Request r carries txs [r*batch, (r+1)*batch) and is due with its first tx.
                let mut r = w;
                while r * batch < txs.len() {
                    let (lo, hi) = (r * batch, ((r + 1) * batch).min(txs.len()));
                    let due = Duration::from_secs_f64(lo as f64 / rate as f64);
                    let now = t0.elapsed();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let node = &nodes[txs[lo].0];
                    let stamp = t0.elapsed().as_micros() as u64;
                    for at in &submitted_at[lo..hi] {
                        at.store(stamp, Ordering::SeqCst);
                    }
                    let refused = if batch == 1 {
                        usize::from(post_tx(&agent, node, &txs[lo].1, false).is_err())
                    } else {
                        let raws: Vec<Vec<u8>> = txs[lo..hi].iter().map(|t| t.1.clone()).collect();
                        post_batch(&agent, node, &raws).unwrap_or(hi - lo)
                    };
                    rejected.fetch_add(refused, Ordering::SeqCst);
                    sent.fetch_add(hi - lo, Ordering::SeqCst);
                    r += n_workers;
                }
            })
        })
        .collect();

    let window_end = Duration::from_secs(args.duration);
    let hard_end = window_end + Duration::from_secs(args.drain);
    loop {
        let (s, c) = (
            sent.load(Ordering::SeqCst),
            committed.load(Ordering::SeqCst),
        );
        let elapsed = t0.elapsed();
        let pct = (s * 100 / total.max(1)).min(100);
        let bar = "=".repeat(pct / 4);
        eprint!(
            "\r[{bar:<25}] {pct:3}% sent {s}/{total} committed {c} ({:.0} tx/s) height {}   ",
            c as f64 / elapsed.as_secs_f64().max(0.001),
            last_height.load(Ordering::SeqCst)
        );
        let _ = std::io::stderr().flush();
        let all_sent = s >= total;
        let all_done = c + rejected.load(Ordering::SeqCst) >= total;
        if (all_sent && all_done) || elapsed > hard_end {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!();
    for w in workers {
        let _ = w.join();
    }
    done.store(true, Ordering::SeqCst);
    let _ = follower.join();

    let commits = committed_at
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    // (submitted at s, latency ms) of every committed transaction.
    let mut timed: Vec<(f64, f64)> = Vec::new();
    let mut last_commit = 0f64;
    for (i, c) in commits.iter().enumerate() {
        if let Some(c) = c {
            let s = submitted_at[i].load(Ordering::SeqCst) as f64 / 1e6;
            timed.push((s, (c - s).max(0.0) * 1e3));
            last_commit = last_commit.max(*c);
        }
    }
    // Sorted latencies of the transactions submitted in [from, to) seconds of the window.
    let submitted_in = |from: f64, to: f64| {
        let mut v: Vec<f64> = timed
            .iter()
            .filter(|(s, _)| *s >= from && *s < to)
            .map(|(_, l)| *l)
            .collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    };
    let lat = submitted_in(f64::NEG_INFINITY, f64::INFINITY);
    let steady = submitted_in(args.warmup as f64, f64::INFINITY);
    let latency_by_interval = (0..args.duration.div_ceil(INTERVAL_S))
        .map(|k| {
            let (from_s, to_s) = (k * INTERVAL_S, ((k + 1) * INTERVAL_S).min(args.duration));
            let v = submitted_in(from_s as f64, to_s as f64);
            IntervalLatency {
                from_s,
                to_s,
                committed: v.len(),
                latency_ms_p50: percentile(&v, 0.50),
                latency_ms_p99: percentile(&v, 0.99),
            }
        })
        .collect();
    let n_committed = lat.len();
    let committed_tps = if last_commit > 0.0 {
        n_committed as f64 / last_commit
    } else {
        0.0
    };
    eprintln!("bench: measuring single-core {suite} verify rate");
    let verify = measure_verify_rate(suite);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let ceiling = cores as f64 * verify / validators.max(1) as f64;
    let (sampled_receipts, sampled_failures, gas_used_p50) =
        sample_receipts(&agent, &args.nodes[0], &txs, &committed_at);
    Ok(Report {
        commit: git_commit(),
        workload: args.workload.clone(),
        sampled_receipts,
        sampled_failures,
        gas_used_p50,
        cores,
        cpu: cpu_model(),
        suite: suite.to_string(),
        chain_id,
        validators,
        nodes: args.nodes.clone(),
        target_rate: args.rate,
        batch: args.batch,
        max_block_txs: status["max_block_txs"].as_u64().unwrap_or(0),
        max_block_bytes: status["max_block_bytes"].as_u64().unwrap_or(0),
        duration_s: args.duration,
        accounts: args.accounts,
        submitted: sent.load(Ordering::SeqCst),
        rejected: rejected.load(Ordering::SeqCst),
        committed: n_committed,
        committed_tps,
        latency_ms_p50: percentile(&lat, 0.50),
        latency_ms_p95: percentile(&lat, 0.95),
        latency_ms_p99: percentile(&lat, 0.99),
        warmup_s: args.warmup,
        steady_committed: steady.len(),
        steady_latency_ms_p50: percentile(&steady, 0.50),
        steady_latency_ms_p95: percentile(&steady, 0.95),
        steady_latency_ms_p99: percentile(&steady, 0.99),
        latency_by_interval,
        verify_per_sec_one_core: verify,
        verify_ceiling_tps: ceiling,
        fraction_of_ceiling: if ceiling > 0.0 {
            committed_tps / ceiling
        } else {
            0.0
        },
        first_height,
        last_height: last_height.load(Ordering::SeqCst),
    })
}

fn contract_call(name: &str, msg: &str, fuel: u64) -> meridian_types::Call {
    meridian_contract::ContractCall::Call {
        name: name.to_string(),
        msg: msg.as_bytes().to_vec(),
        fuel,
    }
    .into_call()
}

/// Deploys the workload's contract under a fresh name (uploading its code in parts, signed by
/// the issuer after its funding nonces) and, for `token`, gives every sender tokens. Returns
/// the contract's name.
#[allow(clippy::too_many_arguments)]
fn deploy_workload(
    agent: &ureq::Agent,
    args: &BenchArgs,
    workload: &str,
    issuer: &PrivateKey,
    chain: &ChainId,
    hash: &ChainHash,
    senders: &[PrivateKey],
    addrs: &[Address],
) -> Result<String> {
    let code = match &args.wasm {
        Some(path) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        None => meridian_wasm_build::example(&format!("contract-{workload}")),
    };
    let node = &args.nodes[0];
    let mut nonce = 1 + args.accounts as u64;
    let mut send = |call: meridian_types::Call| -> Result<()> {
        let tx = sign_tx(issuer, chain, nonce, u64::MAX, call);
        nonce += 1;
        post_tx(agent, node, &tx.encode(), true)
    };
    let code_hash = meridian_types::HashFn::hash(hash, &code);
    for (i, part) in code.chunks(meridian_contract::MAX_PART_LEN).enumerate() {
        send(
            meridian_contract::ContractCall::Upload {
                code_hash,
                total: code.len() as u32,
                offset: (i * meridian_contract::MAX_PART_LEN) as u32,
                bytes: part.to_vec(),
            }
            .into_call(),
        )?;
    }
    let name = format!("bench_{workload}_{}", rand::random::<u32>());
    let issuer_addr = Address::from_public_key(hash, issuer.public_key().as_bytes());
    let init = match workload {
        "counter" => r#"{"start":0}"#.to_string(),
        _ => format!(
            r#"{{"name":"Bench Token","symbol":"BENCH","decimals":0,"initial_balances":[{{"address":"{issuer_addr}","amount":"{}"}}]}}"#,
            u64::MAX
        ),
    };
    send(
        meridian_contract::ContractCall::Deploy {
            name: name.clone(),
            code_hash,
            msg: init.into_bytes(),
            fuel: args.fuel.max(50_000_000),
            allow_reentry: false,
        }
        .into_call(),
    )?;
    if workload == "token" {
        // The issuer pays everyone in rounds (its own nonces).
        eprintln!("bench: giving {} accounts tokens", addrs.len());
        let raws: Vec<Vec<u8>> = addrs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                sign_tx(
                    issuer,
                    chain,
                    nonce + i as u64,
                    u64::MAX,
                    contract_call(
                        &name,
                        &format!(r#"{{"transfer":{{"recipient":"{a}","amount":"1000000000"}}}}"#),
                        args.fuel,
                    ),
                )
                .encode()
            })
            .collect();
        submit_in_rounds(agent, node, &raws, "token funding")?;
        // Every sender's nonce 0: one warm-up transfer to itself, so the timed calls all
        // find a funded, touched account.
        let warm: Vec<Vec<u8>> = senders
            .iter()
            .zip(addrs)
            .map(|(k, a)| {
                sign_tx(
                    k,
                    chain,
                    0,
                    u64::MAX,
                    contract_call(
                        &name,
                        &format!(r#"{{"transfer":{{"recipient":"{a}","amount":"1"}}}}"#),
                        args.fuel,
                    ),
                )
                .encode()
            })
            .collect();
        for round in warm.chunks(256) {
            let (last, rest) = round.split_last().ok_or_else(|| anyhow!("no accounts"))?;
            post_batch(agent, node, rest)?;
            post_tx(agent, node, last, true)?;
        }
    }
    eprintln!("bench: deployed contract {name} ({} bytes)", code.len());
    Ok(name)
}

/// Reads up to 64 receipts of committed transactions: how many failed, median gas.
fn sample_receipts(
    agent: &ureq::Agent,
    node: &str,
    txs: &[(usize, Vec<u8>, Hash32)],
    committed_at: &Mutex<Vec<Option<f64>>>,
) -> (usize, usize, u64) {
    let done: Vec<usize> = match committed_at.lock() {
        Ok(c) => c
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|_| i))
            .collect(),
        Err(_) => Vec::new(),
    };
    let step = (done.len() / 64).max(1);
    let (mut n, mut failed, mut gas) = (0, 0, Vec::new());
    for &i in done.iter().step_by(step).take(64) {
        let url = format!("{node}/v1/txs/{}", hex::encode(txs[i].2));
        if let Ok(v) = get_json(agent, &url) {
            n += 1;
            if v["receipt"]["code"] != "ok" {
                failed += 1;
            }
            gas.push(v["receipt"]["gas_used"].as_u64().unwrap_or(0));
        }
    }
    gas.sort_unstable();
    (n, failed, gas.get(gas.len() / 2).copied().unwrap_or(0))
}

/// Runs the bench, prints the summary and writes the report.
pub fn run_and_report(args: &BenchArgs) -> Result<()> {
    if args.workload == "interop" {
        return crate::bench_interop::run_and_report(args);
    }
    let r = run(args)?;
    println!(
        "committed {} of {} ({} rejected) in {} s window: {:.0} tx/s sustained; latency p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        r.committed, r.submitted, r.rejected, r.duration_s, r.committed_tps, r.latency_ms_p50, r.latency_ms_p95, r.latency_ms_p99
    );
    println!(
        "after the first {} s: {} committed, latency p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        r.warmup_s,
        r.steady_committed,
        r.steady_latency_ms_p50,
        r.steady_latency_ms_p95,
        r.steady_latency_ms_p99
    );
    if r.workload != "transfer" {
        println!(
            "workload {}: {} of {} sampled receipts failed; median gas_used {}",
            r.workload, r.sampled_failures, r.sampled_receipts, r.gas_used_p50
        );
    }
    println!(
        "verify ceiling on this machine: {} cores x {:.0} {} verifies/s / {} validators = {:.0} tx/s; reached {:.0}%",
        r.cores, r.verify_per_sec_one_core, r.suite, r.validators, r.verify_ceiling_tps, r.fraction_of_ceiling * 100.0
    );
    std::fs::write(&args.out, serde_json::to_string_pretty(&r)?)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("report: {}", args.out.display());
    Ok(())
}
