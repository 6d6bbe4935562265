//! Cluster tests of the real node (ledger + storage + mempool + gossip + consensus), named by
//! fault model, for both crypto suites, on commonware's deterministic runtime: seeded,
//! simulated time and network, so every run of a seed is the same run.

mod cluster;

use std::time::Duration;

use cluster::{Cluster, Intl, Sm, Suite};
use commonware_runtime::{deterministic, Clock as _, Runner as _};
use meridian_bank::{balance_key, decode_balance, BankCall};
use meridian_crypto::PrivateKey;
use meridian_node::sign_tx;
use meridian_notary::{record_key, Register};
use meridian_types::{Address, ChainId, Encode, Hash32};

const ALL: [usize; 4] = [0, 1, 2, 3];

fn runner(seed: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(1200))),
    )
}

/// A deterministic random workload of asset operations and notarisations.
struct Workload {
    suite: meridian_crypto::Suite,
    chain: ChainId,
    accounts: Vec<PrivateKey>,
    nonces: Vec<u64>,
    rng: u64,
    minted: u128,
    docs: Vec<Hash32>,
}

impl Workload {
    fn new(suite: meridian_crypto::Suite, seed: u64) -> Self {
        let accounts = (0..6u8)
            .map(|i| PrivateKey::from_seed(suite, &[100 + i; 32]))
            .collect();
        Self {
            suite,
            chain: ChainId::new(cluster::CHAIN_ID).unwrap(),
            accounts,
            nonces: vec![0; 6],
            rng: seed | 1,
            minted: 0,
            docs: Vec::new(),
        }
    }
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
    fn addr(&self, i: usize) -> Address {
        Address::from_public_key(
            &meridian_node::ChainHash(self.suite),
            self.accounts[i].public_key().as_bytes(),
        )
    }
    fn tx(&mut self, who: usize, call: meridian_types::Call) -> Vec<u8> {
        let n = self.nonces[who];
        self.nonces[who] += 1;
        sign_tx(&self.accounts[who], &self.chain, n, 1_000_000, call).encode()
    }
    /// Asset creation and a mint to every account (issuer = account 0).
    fn setup(&mut self) -> Vec<Vec<u8>> {
        let mut out = vec![self.tx(
            0,
            BankCall::CreateAsset {
                symbol: "CNY".into(),
                decimals: 2,
                max_supply: 1 << 40,
            }
            .into_call(),
        )];
        for i in 0..self.accounts.len() {
            let to = self.addr(i);
            out.push(
                self.tx(
                    0,
                    BankCall::Mint {
                        symbol: "CNY".into(),
                        to,
                        amount: 10_000,
                    }
                    .into_call(),
                ),
            );
            self.minted += 10_000;
        }
        out
    }
    /// `n` random transfers (some overdrawing, which fail cleanly) and notarisations.
    fn random(&mut self, n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| {
                let who = (self.next() % 6) as usize;
                if self.next().is_multiple_of(4) {
                    let doc = meridian_node::ChainHash(self.suite);
                    let d = meridian_types::HashFn::hash(&doc, &self.next().to_be_bytes());
                    self.docs.push(d);
                    self.tx(
                        who,
                        Register {
                            doc_hash: d,
                            metadata: b"doc".to_vec(),
                        }
                        .into_call(),
                    )
                } else {
                    let to_idx = (self.next() % 6) as usize;
                    let to = self.addr(to_idx);
                    let amount = u128::from(self.next() % 12_000) + 1;
                    self.tx(
                        who,
                        BankCall::Transfer {
                            symbol: "CNY".into(),
                            to,
                            amount,
                        }
                        .into_call(),
                    )
                }
            })
            .collect()
    }
}

fn hash_of<T: Suite>(raw: &[u8]) -> Hash32 {
    let tx = meridian_types::SignedTx::decode_untrusted(raw).unwrap();
    tx.hash(&meridian_node::ChainHash(T::SUITE))
}

/// Submits each transaction to a validator in `to` (round robin), then waits until all of
/// `who` committed them all.
async fn run_batch<T: Suite>(c: &Cluster<T>, txs: Vec<Vec<u8>>, to: &[usize], who: &[usize]) {
    let mut hashes = Vec::new();
    for (k, raw) in txs.into_iter().enumerate() {
        hashes.push(hash_of::<T>(&raw));
        c.submit(to[k % to.len()], raw).expect("admitted");
        if k % 8 == 7 {
            c.context.sleep(Duration::from_millis(20)).await;
        }
    }
    c.wait_committed(who, &hashes).await;
}

/// Supply is conserved and every notarised document has a verifying proof on every node.
fn check_state<T: Suite>(c: &Cluster<T>, w: &Workload, who: &[usize]) {
    for &i in who {
        let l = c.ledger(i);
        let mut total = 0u128;
        for a in 0..w.accounts.len() {
            let q = l.query(&balance_key("CNY", &w.addr(a)), None).unwrap();
            q.proof
                .verify(q.header.state_root, &q.key, q.value.as_deref())
                .unwrap();
            total += decode_balance(q.value.as_deref()).unwrap();
        }
        assert_eq!(total, w.minted, "supply conserved on validator {i}");
        for d in &w.docs {
            let q = l.query(&record_key(d), None).unwrap();
            assert!(q.value.is_some(), "document notarised on validator {i}");
            q.proof
                .verify(q.header.state_root, &q.key, q.value.as_deref())
                .unwrap();
        }
    }
}

fn n4_workload_finalizes<T: Suite>() {
    runner(11).start(|context| async move {
        let mut c = Cluster::<T>::new(context, 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        let mut w = Workload::new(T::SUITE, 11);
        run_batch(&c, w.setup(), &[0], &ALL).await;
        run_batch(&c, w.random(60), &ALL, &ALL).await;
        let h = c.assert_same_chain(&ALL);
        assert!(h >= 2);
        check_state(&c, &w, &ALL);
        // Finalization certificates are stored with the blocks.
        let l = c.ledger(1);
        let with_cert = (1..=l.finalized_height())
            .filter(|h| l.certificate(*h).unwrap().is_some_and(|b| !b.is_empty()))
            .count();
        assert!(with_cert > 0, "certificates stored");
    });
}

fn n4_f1_crash_restart_catches_up<T: Suite>() {
    runner(12).start(|context| async move {
        let mut c = Cluster::<T>::new(context, 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        let mut w = Workload::new(T::SUITE, 12);
        run_batch(&c, w.setup(), &[0], &ALL).await;
        c.crash(3).await;
        let at_crash = c.height(0);
        // f = 1: the other three keep finalizing, with transactions.
        run_batch(&c, w.random(40), &[0, 1, 2], &[0, 1, 2]).await;
        assert!(c.height(0) > at_crash);
        c.wait_for(&[0, 1, 2], at_crash + 10).await;
        // Restart from disk and catch up to the same state root.
        c.start(3).await;
        let target = c.height(0);
        c.wait_for(&ALL, target).await;
        c.assert_same_chain(&ALL);
        check_state(&c, &w, &ALL);
        // It votes again: the chain keeps going with all four.
        run_batch(&c, w.random(10), &[3], &ALL).await;
        c.assert_same_chain(&ALL);
    });
}

fn n4_partition_2_2_halts_then_heals<T: Suite>() {
    runner(13).start(|context| async move {
        let mut c = Cluster::<T>::new(context, 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        let mut w = Workload::new(T::SUITE, 13);
        run_batch(&c, w.setup(), &[0], &ALL).await;
        c.cut(&[0, 1], &[2, 3]).await;
        // Let in-flight certificates settle, then nothing may finalize for a long while.
        c.context.sleep(Duration::from_secs(2)).await;
        let frozen: Vec<u64> = ALL.iter().map(|&i| c.height(i)).collect();
        let pending = w.random(10);
        for (k, raw) in pending.iter().enumerate() {
            c.submit(k % 4, raw.clone()).expect("admitted");
        }
        c.context.sleep(Duration::from_secs(20)).await;
        let during: Vec<u64> = ALL.iter().map(|&i| c.height(i)).collect();
        assert_eq!(frozen, during, "no finality without a quorum");
        c.assert_same_chain(&ALL);
        c.link(&[0, 1], &[2, 3]).await;
        let hashes: Vec<Hash32> = pending.iter().map(|r| hash_of::<T>(r)).collect();
        c.wait_committed(&ALL, &hashes).await;
        c.assert_same_chain(&ALL);
        check_state(&c, &w, &ALL);
    });
}

/// The finalized history (block hashes) of a seeded run.
fn history<T: Suite>(seed: u64) -> Vec<Hash32> {
    runner(seed).start(|context| async move {
        let mut c = Cluster::<T>::new(context, 4).await;
        for i in 0..4 {
            c.start(i).await;
        }
        let mut w = Workload::new(T::SUITE, seed);
        run_batch(&c, w.setup(), &[0], &ALL).await;
        run_batch(&c, w.random(20), &ALL, &ALL).await;
        let l = c.ledger(0);
        (0..=l.finalized_height())
            .map(|h| l.block(h).unwrap().unwrap().hash(&l.hasher()))
            .collect()
    })
}

fn same_seed_same_history<T: Suite>() {
    let a = history::<T>(21);
    let b = history::<T>(21);
    assert!(a.len() > 2);
    assert_eq!(a, b);
}

#[test]
fn n4_workload_finalizes_sm() {
    n4_workload_finalizes::<Sm>();
}
#[test]
fn n4_workload_finalizes_intl() {
    n4_workload_finalizes::<Intl>();
}
#[test]
fn n4_f1_crash_restart_catches_up_sm() {
    n4_f1_crash_restart_catches_up::<Sm>();
}
#[test]
fn n4_f1_crash_restart_catches_up_intl() {
    n4_f1_crash_restart_catches_up::<Intl>();
}
#[test]
fn n4_partition_2_2_halts_then_heals_sm() {
    n4_partition_2_2_halts_then_heals::<Sm>();
}
#[test]
fn n4_partition_2_2_halts_then_heals_intl() {
    n4_partition_2_2_halts_then_heals::<Intl>();
}
#[test]
fn same_seed_same_history_sm() {
    same_seed_same_history::<Sm>();
}
#[test]
fn same_seed_same_history_intl() {
    same_seed_same_history::<Intl>();
}

mod alliance;

#[test]
fn four_orgs_add_a_fifth_validator_then_remove_one_intl() {
    alliance::four_orgs_add_a_fifth_validator_then_remove_one::<Intl>();
}

#[test]
fn four_orgs_add_a_fifth_validator_then_remove_one_sm() {
    alliance::four_orgs_add_a_fifth_validator_then_remove_one::<Sm>();
}
