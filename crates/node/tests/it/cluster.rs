//! Four real Meridian validators (ledger + storage + mempool + gossip + commonware consensus)
//! on the deterministic runtime and simulated network.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use commonware_consensus::simplex::scheme::Scheme as SimplexScheme;
use commonware_cryptography::Signer as _;
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{deterministic, Clock as _, Quota, Spawner as _, Supervisor as _};
use commonware_utils::{probability, NZUsize, NZU32};
use meridian_consensus::{
    channel, start_validator, Channels, ConsensusScheme, TrackKeys, Validator, ValidatorConfig,
};
use meridian_crypto::{Digest32, PrivateKey, Suite as CryptoSuite};
use meridian_node::{
    run_gossip, submitter, Genesis, GenesisValidator, Ledger, LedgerApp, LedgerConfig, NodeBlock,
    Submitter, DEFAULT_EMPTY_BLOCK_WAIT,
};
use meridian_types::Hash32;

pub const CHAIN_ID: &str = "meridian-it";
/// Channel for transaction gossip (consensus uses 0..=4).
pub const GOSSIP: u64 = 16;
const QUOTA: Quota = Quota::per_second(NZU32!(100_000));
const LINK: Link = Link {
    latency: Duration::from_millis(10),
    jitter: Duration::from_millis(3),
    success_rate: probability!(1.0),
};

/// A crypto suite under test.
pub trait Suite: 'static {
    type Scheme: ConsensusScheme + SimplexScheme<Digest32>;
    type Hasher: commonware_cryptography::Hasher<Digest = Digest32>;
    const SUITE: CryptoSuite;
    fn signer(key: &PrivateKey) -> <Self::Scheme as ConsensusScheme>::Signer;
}

pub struct Sm;
impl Suite for Sm {
    type Scheme = meridian_consensus::Sm2Scheme;
    type Hasher = meridian_crypto::Sm3Hasher;
    const SUITE: CryptoSuite = CryptoSuite::Sm;
    fn signer(key: &PrivateKey) -> meridian_crypto::sm2dsa::PrivateKey {
        match key {
            PrivateKey::Sm2(k) => k.clone(),
            _ => unreachable!("sm suite: node keys are SM2"),
        }
    }
}

pub struct Intl;
impl Suite for Intl {
    type Scheme = meridian_consensus::Ed25519Scheme;
    type Hasher = meridian_crypto::Sha256Hasher;
    const SUITE: CryptoSuite = CryptoSuite::Intl;
    fn signer(key: &PrivateKey) -> commonware_cryptography::ed25519::PrivateKey {
        match key {
            PrivateKey::Ed25519(k) => k.clone(),
            _ => unreachable!("intl suite: node keys are Ed25519"),
        }
    }
}

type Pk<T> = <<T as Suite>::Scheme as commonware_cryptography::certificate::Verifier>::PublicKey;

pub struct Node<T: Suite> {
    pub dir: PathBuf,
    pub ledger: Option<Arc<Ledger>>,
    pub submitter: Option<Submitter>,
    pub validator: Option<Validator<T::Scheme, NodeBlock<T::Hasher>>>,
}

pub struct Cluster<T: Suite> {
    pub context: deterministic::Context,
    pub oracle: Oracle<Pk<T>, deterministic::Context>,
    pub keys: Vec<PrivateKey>,
    pub participants: Vec<Pk<T>>,
    pub genesis: Genesis,
    pub nodes: Vec<Node<T>>,
    _tmp: tempfile::TempDir,
}

impl<T: Suite> Cluster<T> {
    /// The node keys a cluster of `n` uses (node `i`: seed `i + 1`).
    pub fn node_keys(n: usize) -> Vec<PrivateKey> {
        (0..n)
            .map(|i| PrivateKey::from_seed(T::SUITE, &[i as u8 + 1; 32]))
            .collect()
    }

    /// `n` validators, all in genesis, on an open chain.
    pub async fn new(context: deterministic::Context, n: usize) -> Self {
        let keys = Self::node_keys(n);
        let genesis = Genesis {
            chain_id: CHAIN_ID.into(),
            suite: T::SUITE.to_string(),
            timestamp_ms: 0,
            validators: keys
                .iter()
                .enumerate()
                .map(|(i, k)| GenesisValidator {
                    name: format!("org{i}"),
                    public_key: hex::encode(k.public_key().as_bytes()),
                })
                .collect(),
            orgs: Vec::new(),
            members: Vec::new(),
            policies: Vec::new(),
            epoch_blocks: None,
            fault_tolerance: None,
        };
        Self::with_genesis(context, keys, genesis).await
    }

    /// One node per key (not all need to be genesis validators: the others follow until
    /// governance makes them validators), fully linked, none started.
    pub async fn with_genesis(
        context: deterministic::Context,
        keys: Vec<PrivateKey>,
        genesis: Genesis,
    ) -> Self {
        let n = keys.len();
        let participants: Vec<Pk<T>> = keys.iter().map(|k| T::signer(k).public_key()).collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: 16 << 20,
                max_peers_per_set: NZUsize!(n),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            participants.clone(),
        )
        .await;
        network.start();
        let tmp = tempfile::tempdir().expect("tempdir");
        let nodes = (0..n)
            .map(|i| Node {
                dir: tmp.path().join(format!("node{i}")),
                ledger: None,
                submitter: None,
                validator: None,
            })
            .collect();
        let cluster = Self {
            context,
            oracle,
            keys,
            participants,
            genesis,
            nodes,
            _tmp: tmp,
        };
        let all: Vec<usize> = (0..n).collect();
        cluster.link(&all, &all).await;
        cluster
    }

    /// Opens validator `i`'s ledger from its directory and starts consensus and gossip.
    pub async fn start(&mut self, i: usize) {
        assert!(self.nodes[i].validator.is_none(), "validator {i} running");
        let ledger = Arc::new(
            Ledger::open(&self.nodes[i].dir, &self.genesis, LedgerConfig::default())
                .expect("ledger opens"),
        );
        let me = self.participants[i].clone();
        let control = self.oracle.control(me);
        let mut pairs = Vec::new();
        for ch in channel::ALL {
            pairs.push(control.register(ch, QUOTA).await.expect("register"));
        }
        let (gossip_tx, gossip_rx) = control.register(GOSSIP, QUOTA).await.expect("register");
        let mut pairs = pairs.into_iter();
        let mut next = || pairs.next().expect("five channels");
        let channels = Channels {
            votes: next(),
            certificates: next(),
            resolver: next(),
            backfill: next(),
            blocks: next(),
        };
        let (sub, local) = submitter(ledger.clone());
        let mut config = ValidatorConfig::<T::Scheme, NodeBlock<T::Hasher>>::new(
            CHAIN_ID,
            T::signer(&self.keys[i]),
            format!("validator-{i}"),
            meridian_types::MAX_BLOCK_BYTES,
        );
        config.epoch_blocks = ledger.epoch_blocks();
        let known: Vec<_> = self.keys.iter().map(|k| k.public_key()).collect();
        let node_ctx = self.context.child("node").with_attribute("index", i);
        let validator = start_validator(
            node_ctx.child("consensus"),
            config,
            LedgerApp::new(
                ledger.clone(),
                node_ctx.child("app"),
                DEFAULT_EMPTY_BLOCK_WAIT,
            )
            .with_known_peers(known),
            channels,
            self.oracle.manager(),
            control,
            TrackKeys(self.oracle.manager()),
        )
        .await
        .expect("validator starts");
        let gossip_ledger = ledger.clone();
        node_ctx.child("gossip").spawn(move |_| async move {
            run_gossip(gossip_ledger, gossip_tx, gossip_rx, local).await;
        });
        let node = &mut self.nodes[i];
        node.ledger = Some(ledger);
        node.submitter = Some(sub);
        node.validator = Some(validator);
    }

    /// Kills validator `i` and drops its ledger (in-memory state is lost, disk stays).
    pub async fn crash(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let v = node.validator.take().expect("running");
        v.abort();
        let _ = v.stopped().await;
        node.submitter = None;
        let ledger = node.ledger.take().expect("running");
        // Tasks holding clones are aborted; wait until the store is released.
        let weak = Arc::downgrade(&ledger);
        drop(ledger);
        while weak.strong_count() > 0 {
            self.context.sleep(Duration::from_millis(10)).await;
        }
    }

    async fn set_links(&self, from: &[usize], to: &[usize], up: bool) {
        for &a in from {
            for &b in to {
                if a == b {
                    continue;
                }
                let (pa, pb) = (self.participants[a].clone(), self.participants[b].clone());
                if up {
                    let _ = self.oracle.add_link(pa, pb, LINK).await;
                } else {
                    let _ = self.oracle.remove_link(pa, pb).await;
                }
            }
        }
    }

    pub async fn link(&self, a: &[usize], b: &[usize]) {
        self.set_links(a, b, true).await;
        self.set_links(b, a, true).await;
    }

    pub async fn cut(&self, a: &[usize], b: &[usize]) {
        self.set_links(a, b, false).await;
        self.set_links(b, a, false).await;
    }

    pub fn ledger(&self, i: usize) -> &Arc<Ledger> {
        self.nodes[i].ledger.as_ref().expect("running")
    }

    pub fn height(&self, i: usize) -> u64 {
        self.nodes[i]
            .ledger
            .as_ref()
            .map_or(0, |l| l.finalized_height())
    }

    /// Submits to validator `i`; refusals (e.g. a full pool) are returned.
    pub fn submit(&self, i: usize, raw: Vec<u8>) -> Result<Hash32, String> {
        self.nodes[i]
            .submitter
            .as_ref()
            .expect("running")
            .submit(raw)
            .map_err(|e| e.code().to_string())
    }

    pub async fn wait_for(&self, who: &[usize], height: u64) {
        while !who.iter().all(|&i| self.height(i) >= height) {
            self.context.sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every listed validator has a receipt for every hash.
    pub async fn wait_committed(&self, who: &[usize], hashes: &[Hash32]) {
        loop {
            let done = who.iter().all(|&i| {
                hashes
                    .iter()
                    .all(|h| self.ledger(i).receipt(h).ok().flatten().is_some())
            });
            if done {
                return;
            }
            self.context.sleep(Duration::from_millis(50)).await;
        }
    }

    /// Block hashes and state roots agree at every height all running validators finalized.
    pub fn assert_same_chain(&self, who: &[usize]) -> u64 {
        let common = who.iter().map(|&i| self.height(i)).min().unwrap_or(0);
        for h in 0..=common {
            let first = self.ledger(who[0]).block(h).unwrap().expect("block");
            for &i in &who[1..] {
                let b = self.ledger(i).block(h).unwrap().expect("block");
                assert_eq!(
                    b, first,
                    "validators {} and {i} differ at height {h}",
                    who[0]
                );
            }
        }
        common
    }
}
