//! Block pipeline benchmark: a 10,000-transfer block through admission (signature checks),
//! proposal (execution + JMT root), re-execution by a second validator (cold signature cache),
//! and the fsynced commit — per suite, single-threaded. Prints one table with its conditions.
//!
//! Run: `cargo bench -p meridian-node --bench block` (optional args: `<txs> <senders>`).

use std::time::Instant;

use meridian_bank::BankCall;
use meridian_crypto::{PrivateKey, Suite};
use meridian_node::{sign_tx, Genesis, GenesisValidator, Ledger, LedgerConfig};
use meridian_types::{Encode, SignedTx};

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn finalize_new_block(l: &Ledger, t: u64) -> meridian_types::Block {
    let parent = l.finalized_block().unwrap().hash(&l.hasher());
    let b = l.propose(&parent, t, b"bench", t).unwrap();
    l.finalize(&b, vec![]).unwrap();
    b
}

fn run(suite: Suite, txs: usize, senders: usize) {
    let validator = PrivateKey::from_seed(suite, &[9; 32]);
    let genesis = Genesis {
        chain_id: "bench".into(),
        suite: suite.to_string(),
        timestamp_ms: 1,
        validators: vec![GenesisValidator {
            name: "v".into(),
            public_key: hex::encode(validator.public_key().as_bytes()),
        }],
        orgs: Vec::new(),
        members: Vec::new(),
        policies: Vec::new(),
        epoch_blocks: None,
        fault_tolerance: None,
    };
    let cfg = LedgerConfig {
        max_block_txs: txs.max(senders + 1),
        max_block_bytes: 32 << 20,
        ..LedgerConfig::default()
    };
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Ledger::open(da.path(), &genesis, cfg.clone()).unwrap();
    let b = Ledger::open(db.path(), &genesis, cfg).unwrap();
    let chain = a.chain_id().clone();
    let issuer = PrivateKey::from_seed(suite, &[1; 32]);
    let accounts: Vec<PrivateKey> = (0..senders)
        .map(|i| {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
            PrivateKey::from_seed(suite, &seed)
        })
        .collect();
    let addrs: Vec<_> = accounts
        .iter()
        .map(|k| a.address_of(k.public_key().as_bytes()))
        .collect();
    // Setup block: create the asset and fund every sender.
    let mut setup = vec![sign_tx(
        &issuer,
        &chain,
        0,
        u64::MAX,
        BankCall::CreateAsset {
            symbol: "CNY".into(),
            decimals: 2,
            max_supply: u128::MAX,
        }
        .into_call(),
    )];
    for (i, to) in addrs.iter().enumerate() {
        setup.push(sign_tx(
            &issuer,
            &chain,
            1 + i as u64,
            u64::MAX,
            BankCall::Mint {
                symbol: "CNY".into(),
                to: *to,
                amount: 1_000_000,
            }
            .into_call(),
        ));
    }
    for t in &setup {
        a.submit(&t.encode()).unwrap();
        b.submit(&t.encode()).unwrap();
    }
    let s1 = finalize_new_block(&a, 2);
    b.verify(&s1).unwrap();
    b.finalize(&s1, vec![]).unwrap();

    // The measured block: `txs` transfers, round-robin over senders.
    let per = txs.div_ceil(senders);
    let mut block_txs: Vec<SignedTx> = Vec::with_capacity(txs);
    let t0 = Instant::now();
    'outer: for n in 0..per {
        for (i, k) in accounts.iter().enumerate() {
            if block_txs.len() == txs {
                break 'outer;
            }
            let to = addrs[(i + 1) % senders];
            block_txs.push(sign_tx(
                k,
                &chain,
                n as u64,
                u64::MAX,
                BankCall::Transfer {
                    symbol: "CNY".into(),
                    to,
                    amount: 1,
                }
                .into_call(),
            ));
        }
    }
    let sign = t0.elapsed();
    let raw: Vec<Vec<u8>> = block_txs.iter().map(|t| t.encode()).collect();
    let t0 = Instant::now();
    for r in &raw {
        a.submit(r).unwrap();
    }
    let admit = t0.elapsed();
    let parent = a.finalized_block().unwrap().hash(&a.hasher());
    let t0 = Instant::now();
    let block = a.propose(&parent, 3, b"bench", 3).unwrap();
    let propose = t0.elapsed();
    assert_eq!(block.txs.len(), txs, "every transfer included");
    let t0 = Instant::now();
    b.verify(&block).unwrap();
    let verify = t0.elapsed();
    let t0 = Instant::now();
    b.finalize(&block, vec![]).unwrap();
    let commit = t0.elapsed();
    let tps = |d: std::time::Duration| txs as f64 / d.as_secs_f64();
    println!(
        "| {suite:4} | {txs} | {:8.1} | {:8.1} ({:7.0} tx/s) | {:8.1} ({:7.0} tx/s) | {:8.1} ({:7.0} tx/s) | {:7.1} |",
        ms(sign),
        ms(admit),
        tps(admit),
        ms(propose),
        tps(propose),
        ms(verify),
        tps(verify),
        ms(commit),
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let txs = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let senders = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("block pipeline: {txs} transfers from {senders} senders, one thread, profile={}, cpu={cpu}, cores={}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    println!("| suite | txs | sign ms | admit ms (sig verify + pool) | propose ms (execute + JMT root) | verify ms (cold sigs + re-execute + root) | commit ms (fsync) |");
    println!("|---|---|---|---|---|---|---|");
    for suite in Suite::ALL {
        run(suite, txs, senders);
    }
}
