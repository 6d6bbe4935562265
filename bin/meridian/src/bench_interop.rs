//! `meridian bench --workload interop`: packet latency and relayed packets per second between
//! two regions (issue 6's benchmarks), against a running `devnet --regions 2` (or any two
//! chains with a relayer on a transfer channel).
//!
//! 1. Latency: `--probes` transfers, one at a time, from a fresh account on region A. For each:
//!    *one-way* = from the send being final on A (the commit answer) until B holds the
//!    packet's receipt; *round trip* = until A has deleted the packet's commitment (the
//!    acknowledgement was proven back). Both are watched by polling the nodes' state every
//!    10 ms from this machine, and also expressed in region B's block times.
//! 2. Throughput: `--packets` transfers pre-signed from several accounts, submitted to A at
//!    once; the voucher supply on B counts the packets received. Reports packets per second
//!    from the first to the last arrival, and for the whole run from the first submission.
//!
//! The relayer is whatever runs on the path (the devnet's: `poll_ms` 300, `batch` 100 unless
//! its relayer.toml says otherwise); `devnet --link-rtt-ms 100` puts a 100 ms round trip
//! between the relayer and region B. The report records the conditions given.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use meridian_client::Client;
use meridian_crypto::{PrivateKey, Suite};
use meridian_interop::{paths, ChannelEnd};
use meridian_interop_module::{InteropCall, InteropEvent};
use meridian_node::{sign_tx, ChainHash};
use meridian_types::{decode_exact, Address, ChainId, Encode};
use serde::Serialize;

use crate::bench::{fund, percentile, post_batch, BenchArgs};

/// Most transfers one sender signs for the throughput phase (inside the pool's per-sender
/// window).
const PER_SENDER: usize = 200;
const POLL: Duration = Duration::from_millis(10);

#[derive(Serialize, Debug)]
pub struct InteropReport {
    pub commit: String,
    pub workload: String,
    pub cores: usize,
    pub cpu: String,
    pub suite: String,
    pub chain_a: String,
    pub chain_b: String,
    pub validators_a: u64,
    pub validators_b: u64,
    pub node_a: String,
    pub node_b: String,
    pub channel_a: String,
    pub channel_b: String,
    /// Round trip between the relayer and region B, as given by `--link-rtt-ms`.
    pub link_rtt_ms: u64,
    /// Mean block interval of region B over its last 50 blocks before the run.
    pub block_time_ms_b: f64,
    pub probes: usize,
    pub one_way_ms_p50: f64,
    pub one_way_ms_p95: f64,
    pub one_way_ms_max: f64,
    pub one_way_block_times_p50: f64,
    pub round_trip_ms_p50: f64,
    pub round_trip_ms_p95: f64,
    pub round_trip_ms_max: f64,
    pub packets: usize,
    pub packets_received: u128,
    /// From the first to the last packet seen received on B.
    pub relay_window_s: f64,
    pub relayed_per_sec: f64,
    /// From the first submission on A to the last packet received on B.
    pub end_to_end_s: f64,
    pub end_to_end_per_sec: f64,
}

fn status(node: &str) -> Result<(Client, serde_json::Value)> {
    let client = Client::new(node.to_string());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let v: serde_json::Value = agent
        .get(format!("{node}/v1/status"))
        .call()
        .with_context(|| format!("cannot reach {node}"))?
        .body_mut()
        .read_json()?;
    Ok((client, v))
}

fn present(client: &Client, key: &[u8]) -> Result<bool> {
    Ok(client.state_view(key, None)?.value.is_some())
}

/// Mean block interval over the chain's last `n` blocks.
fn block_time_ms(client: &Client, n: u64) -> Result<f64> {
    let tip = client.latest_block()?;
    let from = tip.height.saturating_sub(n).max(1);
    if from >= tip.height {
        return Ok(0.0);
    }
    let first = client.block(from)?;
    Ok((tip.timestamp_ms.saturating_sub(first.timestamp_ms)) as f64 / (tip.height - from) as f64)
}

fn sent_sequence(events: &[meridian_client::EventView]) -> Option<u64> {
    events.iter().find_map(|e| {
        if e.module != meridian_interop_module::NAME {
            return None;
        }
        let data = hex::decode(&e.data).ok()?;
        match InteropEvent::decode(&e.kind, &data).ok()? {
            InteropEvent::SendPacket(p) => Some(p.sequence),
            _ => None,
        }
    })
}

pub fn run(args: &BenchArgs) -> Result<InteropReport> {
    let node_a = args
        .nodes
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("--nodes: region A's API"))?;
    let node_b = args.peer_node.clone();
    let (a, sa) = status(&node_a)?;
    let (b, sb) = status(&node_b)?;
    let suite: Suite = sa["suite"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|_| anyhow!("region A reports an unknown suite"))?;
    let suite_b: Suite = sb["suite"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|_| anyhow!("region B reports an unknown suite"))?;
    let chain_a = sa["chain_id"].as_str().unwrap_or_default().to_string();
    let chain_b = sb["chain_id"].as_str().unwrap_or_default().to_string();
    if chain_a == chain_b {
        bail!("--nodes and --peer-node serve the same chain {chain_a}");
    }
    let chain = ChainId::new(chain_a.clone()).map_err(|e| anyhow!("{e}"))?;
    let hash = ChainHash(suite);
    let port = meridian_interop::transfer::PORT;
    let end: ChannelEnd = {
        let raw = a
            .state(&paths::channel(port, &args.channel), None)?
            .value
            .ok_or_else(|| anyhow!("region A has no channel {port}/{}", args.channel))?;
        decode_exact(&raw).map_err(|e| anyhow!("channel end: {e}"))?
    };
    let channel_b = end.counterparty_channel.clone();
    let block_time_b = block_time_ms(&b, 50)?;
    eprintln!(
        "bench interop: {chain_a} {port}/{} -> {chain_b} {port}/{channel_b}; B's block time {block_time_b:.0} ms",
        args.channel
    );

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(40)))
        .build()
        .into();
    let mut rng = rand::rng();
    let issuer = PrivateKey::generate(suite, &mut rng);
    let n_senders = args.packets.div_ceil(PER_SENDER).max(1);
    let senders: Vec<PrivateKey> = (0..n_senders)
        .map(|_| PrivateKey::generate(suite, &mut rng))
        .collect();
    let addr = |k: &PrivateKey| Address::from_public_key(&hash, k.public_key().as_bytes());
    let receiver = addr(&PrivateKey::generate(suite_b, &mut rng));
    let symbol = format!("P{}", rand::random::<u32>() % 1_000_000_000);
    let voucher = meridian_interop::transfer::voucher_symbol(
        suite_b,
        &format!("{port}/{channel_b}/{symbol}"),
    );
    let expiry = u64::MAX;
    let addrs: Vec<Address> = senders.iter().map(addr).collect();
    fund(&agent, &node_a, &chain, &issuer, &symbol, &addrs, 1 << 40)?;
    let transfer = |k: &PrivateKey, nonce: u64| {
        sign_tx(
            k,
            &chain,
            nonce,
            expiry,
            InteropCall::Transfer {
                channel: args.channel.clone(),
                symbol: symbol.clone(),
                amount: 1,
                receiver,
                timeout_height: 0,
                timeout_timestamp_ms: now_ms() + 3_600_000,
                memo: String::new(),
            }
            .into_call(),
        )
    };

    // 1. Latency, one packet at a time.
    let mut one_way = Vec::new();
    let mut round_trip = Vec::new();
    let probe_sender = &senders[0];
    for i in 0..args.probes {
        let tx = transfer(probe_sender, i as u64);
        let done = a.commit(&tx, Duration::from_secs(60))?;
        let sent = Instant::now();
        let seq = sent_sequence(&done.receipt.events)
            .ok_or_else(|| anyhow!("the transfer sent no packet"))?;
        let receipt = paths::receipt(port, &channel_b, seq);
        let commitment = paths::commitment(port, &args.channel, seq);
        let deadline = sent + Duration::from_secs(120);
        let mut received = None;
        loop {
            if received.is_none() && present(&b, &receipt)? {
                received = Some(sent.elapsed());
            }
            if received.is_some() && !present(&a, &commitment)? {
                break;
            }
            if Instant::now() > deadline {
                bail!("probe {i}: packet {seq} not settled within 120 s (is a relayer running?)");
            }
            std::thread::sleep(POLL);
        }
        let rt = sent.elapsed();
        let ow = received.unwrap_or(rt);
        one_way.push(ow.as_secs_f64() * 1000.0);
        round_trip.push(rt.as_secs_f64() * 1000.0);
        eprint!(
            "\rbench interop: probe {}/{}: one-way {:.0} ms, round trip {:.0} ms   ",
            i + 1,
            args.probes,
            ow.as_secs_f64() * 1000.0,
            rt.as_secs_f64() * 1000.0
        );
    }
    eprintln!();

    // 2. Throughput: everything at once, counted by the voucher supply on B.
    let supply = |b: &Client| -> Result<u128> {
        Ok(b.asset(&voucher)?.value.map(|a| a.supply).unwrap_or(0))
    };
    let base = supply(&b)?;
    let mut raws = Vec::with_capacity(args.packets);
    'fill: for n in 0..PER_SENDER {
        for (i, k) in senders.iter().enumerate() {
            if raws.len() == args.packets {
                break 'fill;
            }
            let nonce = n as u64 + if i == 0 { args.probes as u64 } else { 0 };
            raws.push(transfer(k, nonce).encode());
        }
    }
    eprintln!(
        "bench interop: submitting {} transfers from {n_senders} accounts",
        raws.len()
    );
    let start = Instant::now();
    // Submitting thousands of transfers takes seconds and the relayer starts meanwhile: post
    // on another thread so that arrivals are timed from the first one.
    let posting = {
        let (agent, node_a, raws, batch) = (
            agent.clone(),
            node_a.clone(),
            raws.clone(),
            args.batch.max(1) as usize,
        );
        std::thread::spawn(move || -> Result<usize> {
            let mut refused = 0;
            for chunk in raws.chunks(batch) {
                refused += post_batch(&agent, &node_a, chunk)?;
            }
            Ok(refused)
        })
    };
    let target = base + raws.len() as u128;
    let deadline = start + Duration::from_secs(args.drain.max(60) + raws.len() as u64 / 10);
    let mut first_seen = None;
    let mut last = base;
    let mut last_at = start;
    while last < target {
        if Instant::now() > deadline {
            eprintln!(
                "bench interop: stopped waiting with {} of {} received",
                last - base,
                raws.len()
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        let s = supply(&b)?;
        if s > last {
            let now = Instant::now();
            first_seen.get_or_insert((now, s - base));
            last = s;
            last_at = now;
            eprint!(
                "\rbench interop: {} / {} received on B after {:.1} s   ",
                s - base,
                raws.len(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!();
    let refused = posting
        .join()
        .map_err(|_| anyhow!("the submitting thread panicked"))??;
    if refused > 0 {
        bail!("region A refused {refused} of the transfers");
    }
    let received = last - base;
    let (relay_window, relayed_per_sec) = match first_seen {
        Some((t, first_batch)) if last_at > t => {
            let w = last_at.duration_since(t).as_secs_f64();
            (w, (received - first_batch) as f64 / w)
        }
        _ => (0.0, 0.0),
    };
    let end_to_end = last_at.duration_since(start).as_secs_f64();

    let mut ow = one_way.clone();
    ow.sort_by(f64::total_cmp);
    let mut rt = round_trip.clone();
    rt.sort_by(f64::total_cmp);
    Ok(InteropReport {
        commit: crate::bench::git_commit(),
        workload: "interop".into(),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu: crate::bench::cpu_model(),
        suite: suite.to_string(),
        chain_a,
        chain_b,
        validators_a: sa["validators"].as_u64().unwrap_or(0),
        validators_b: sb["validators"].as_u64().unwrap_or(0),
        node_a,
        node_b,
        channel_a: args.channel.clone(),
        channel_b,
        link_rtt_ms: args.link_rtt_ms,
        block_time_ms_b: block_time_b,
        probes: args.probes,
        one_way_ms_p50: percentile(&ow, 0.5),
        one_way_ms_p95: percentile(&ow, 0.95),
        one_way_ms_max: ow.last().copied().unwrap_or(0.0),
        one_way_block_times_p50: if block_time_b > 0.0 {
            percentile(&ow, 0.5) / block_time_b
        } else {
            0.0
        },
        round_trip_ms_p50: percentile(&rt, 0.5),
        round_trip_ms_p95: percentile(&rt, 0.95),
        round_trip_ms_max: rt.last().copied().unwrap_or(0.0),
        packets: raws.len(),
        packets_received: received,
        relay_window_s: relay_window,
        relayed_per_sec,
        end_to_end_s: end_to_end,
        end_to_end_per_sec: if end_to_end > 0.0 {
            received as f64 / end_to_end
        } else {
            0.0
        },
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs the interop bench, prints the summary and writes the report.
pub fn run_and_report(args: &BenchArgs) -> Result<()> {
    let r = run(args)?;
    println!(
        "one-way (final on A -> received on B): p50 {:.0} ms ({:.1} of B's {:.0} ms block times), p95 {:.0} ms, max {:.0} ms over {} probes",
        r.one_way_ms_p50, r.one_way_block_times_p50, r.block_time_ms_b, r.one_way_ms_p95, r.one_way_ms_max, r.probes
    );
    println!(
        "round trip (final on A -> ack proven on A): p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        r.round_trip_ms_p50, r.round_trip_ms_p95, r.round_trip_ms_max
    );
    println!(
        "relayed {} of {} packets: {:.0} packets/s from first to last arrival ({:.1} s); {:.0} packets/s from first submission ({:.1} s); link RTT {} ms",
        r.packets_received, r.packets, r.relayed_per_sec, r.relay_window_s, r.end_to_end_per_sec, r.end_to_end_s, r.link_rtt_ms
    );
    std::fs::write(&args.out, serde_json::to_string_pretty(&r)?)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("report: {}", args.out.display());
    Ok(())
}
