//! A cluster of validators on the deterministic runtime and simulated network.

use crate::app::{fixed, HashChain, Schedule, TestApp};
use commonware_codec::Decode as _;
use commonware_consensus::simplex::{scheme::Scheme as SimplexScheme, types::Finalization};
use commonware_cryptography::{sha256::Digest, Signer as _};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_parallel::Sequential;
use commonware_runtime::{deterministic, Clock as _, Quota, Supervisor as _};
use commonware_utils::{ordered::Set, probability, NZUsize, NZU32};
use meridian_consensus::{
    channel, consensus_namespace, start_validator, Channels, ConsensusScheme, TrackKeys, Validator,
    ValidatorConfig,
};
use meridian_crypto::Digest32;
use std::time::Duration;

pub const CHAIN_ID: &str = "meridian-test-1";
pub const QUOTA: Quota = Quota::per_second(NZU32!(10_000));
pub const LINK: Link = Link {
    latency: Duration::from_millis(10),
    jitter: Duration::from_millis(3),
    success_rate: probability!(1.0),
};

/// A crypto suite under test: its scheme and how to make deterministic keys.
pub trait Suite: 'static {
    type Scheme: ConsensusScheme + SimplexScheme<Digest> + SimplexScheme<Digest32>;
    fn signers(n: usize) -> Vec<<Self::Scheme as ConsensusScheme>::Signer>;
}

pub struct Sm2;

impl Suite for Sm2 {
    type Scheme = meridian_consensus::Sm2Scheme;

    fn signers(n: usize) -> Vec<meridian_crypto::sm2dsa::PrivateKey> {
        (0..n)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
                meridian_crypto::sm2dsa::PrivateKey::derive_from_seed(&seed)
            })
            .collect()
    }
}

pub struct Ed25519;

impl Suite for Ed25519 {
    type Scheme = meridian_consensus::Ed25519Scheme;

    fn signers(n: usize) -> Vec<commonware_cryptography::ed25519::PrivateKey> {
        (0..n)
            .map(|i| commonware_cryptography::ed25519::PrivateKey::from_seed(i as u64))
            .collect()
    }
}

type Pk<T> = <<T as Suite>::Scheme as commonware_cryptography::certificate::Verifier>::PublicKey;

pub struct Cluster<T: Suite, B: HashChain> {
    pub context: deterministic::Context,
    pub oracle: Oracle<Pk<T>, deterministic::Context>,
    pub signers: Vec<<T::Scheme as ConsensusScheme>::Signer>,
    pub participants: Vec<Pk<T>>,
    pub apps: Vec<TestApp<B, Pk<T>>>,
    pub validators: Vec<Option<Validator<T::Scheme, B>>>,
    /// The validator sets the apps' "chain state" records, by height.
    pub schedule: Schedule<Pk<T>>,
    /// Blocks per consensus epoch (`u64::MAX`: one epoch).
    pub epoch_blocks: u64,
}

impl<T: Suite, B: HashChain> Cluster<T, B>
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    /// `n` validators, fully linked, none started.
    pub async fn new(context: deterministic::Context, n: usize) -> Self {
        let signers = T::signers(n);
        let participants: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: meridian_consensus::net::max_message_size::<T::Scheme, B>(
                    n as u32,
                    &B::codec_config(),
                ),
                max_peers_per_set: NZUsize!(n),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            participants.clone(),
        )
        .await;
        network.start();
        let schedule = fixed(participants.clone());
        let cluster = Self {
            context,
            oracle,
            signers,
            participants,
            apps: (0..n).map(|_| TestApp::new(schedule.clone())).collect(),
            validators: (0..n).map(|_| None).collect(),
            schedule,
            epoch_blocks: u64::MAX,
        };
        let all: Vec<usize> = (0..n).collect();
        cluster.link(&all, &all).await;
        cluster
    }

    /// Starts (or restarts, over the same storage and app store) validator `i`.
    pub async fn start(&mut self, i: usize) {
        assert!(
            self.validators[i].is_none(),
            "validator {i} already running"
        );
        let me = self.participants[i].clone();
        let control = self.oracle.control(me.clone());
        let mut pairs = Vec::new();
        for ch in channel::ALL {
            pairs.push(control.register(ch, QUOTA).await.expect("register channel"));
        }
        let mut pairs = pairs.into_iter();
        let mut next = || pairs.next().expect("five channels");
        let channels = Channels {
            votes: next(),
            certificates: next(),
            resolver: next(),
            backfill: next(),
            blocks: next(),
        };
        let mut config = ValidatorConfig::<T::Scheme, B>::new(
            CHAIN_ID,
            self.signers[i].clone(),
            format!("validator-{i}"),
            B::codec_config(),
        );
        config.epoch_blocks = self.epoch_blocks;
        let validator = start_validator(
            self.context.child("validator").with_attribute("index", i),
            config,
            self.apps[i].clone(),
            channels,
            self.oracle.manager(),
            control,
            TrackKeys(self.oracle.manager()),
        )
        .await
        .expect("validator starts");
        self.validators[i] = Some(validator);
    }

    /// Kills validator `i` (all its tasks); its storage stays as written.
    pub async fn crash(&mut self, i: usize) {
        let validator = self.validators[i].take().expect("validator running");
        validator.abort();
        let _ = validator.stopped().await;
    }

    async fn set_links(&self, from: &[usize], to: &[usize], up: bool) {
        for &a in from {
            for &b in to {
                if a == b {
                    continue;
                }
                let (pa, pb) = (self.participants[a].clone(), self.participants[b].clone());
                if up {
                    // Linking twice (e.g. all-to-all) reports LinkExists; the link is up either way.
                    let _ = self.oracle.add_link(pa, pb, LINK).await;
                } else {
                    // A link may already be gone; that is fine for a partition.
                    let _ = self.oracle.remove_link(pa, pb).await;
                }
            }
        }
    }

    pub async fn link(&self, from: &[usize], to: &[usize]) {
        self.set_links(from, to, true).await;
        self.set_links(to, from, true).await;
    }

    pub async fn cut(&self, a: &[usize], b: &[usize]) {
        self.set_links(a, b, false).await;
        self.set_links(b, a, false).await;
    }

    pub fn height(&self, i: usize) -> u64 {
        self.apps[i].height().unwrap_or(0)
    }

    /// Waits (in simulated time) until every validator in `who` finalized `height`.
    pub async fn wait_for(&self, who: &[usize], height: u64) {
        while !who.iter().all(|&i| self.height(i) >= height) {
            self.context.sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every pair of validators agrees on every height both finalized.
    pub fn assert_no_fork(&self) {
        let histories: Vec<_> = self.apps.iter().map(|a| a.history()).collect();
        for (i, a) in histories.iter().enumerate() {
            for b in histories.iter().skip(i + 1) {
                for (h, fa) in a {
                    if let Some(fb) = b.get(h) {
                        assert_eq!(fa.digest, fb.digest, "fork at height {h}");
                        assert_eq!(fa.state_root, fb.state_root, "state root differs at {h}");
                    }
                }
            }
        }
    }

    /// Every stored certificate decodes, names its block and verifies under this chain's
    /// namespace only. Returns how many were checked.
    pub fn verify_certificates(&mut self, i: usize) -> usize {
        let set = Set::from_iter_dedup(self.participants.iter().cloned());
        let verifier = <T::Scheme as ConsensusScheme>::verifier(
            &consensus_namespace(CHAIN_ID).unwrap(),
            set.clone(),
        );
        let other_chain = <T::Scheme as ConsensusScheme>::verifier(
            &consensus_namespace("other-chain").unwrap(),
            set,
        );
        let cfg = <T::Scheme as commonware_cryptography::certificate::Verifier>::certificate_codec_config_unbounded();
        let mut checked = 0;
        for (height, entry) in self.apps[i].history() {
            let Some(bytes) = entry.certificate else {
                continue;
            };
            let bytes_copy = bytes.clone();
            let finalization = Finalization::<T::Scheme, B::Digest>::decode_cfg(bytes, &cfg)
                .expect("certificate decodes");
            assert_eq!(
                finalization.proposal.payload, entry.digest,
                "certificate names block {height}"
            );
            assert!(
                finalization.verify(&mut self.context, &verifier, &Sequential),
                "certificate at {height} verifies"
            );
            assert!(
                !finalization.verify(&mut self.context, &other_chain, &Sequential),
                "certificate at {height} must not verify for another chain"
            );
            // The same check through the public helper the API/light clients use.
            let view = meridian_consensus::verify_finalization::<T::Scheme, B::Digest, _>(
                &mut self.context,
                CHAIN_ID,
                &self.participants,
                &bytes_copy,
                &entry.digest,
            )
            .expect("helper verifies certificate");
            assert_eq!(view, finalization.proposal.round.view().get());
            assert!(
                meridian_consensus::verify_finalization::<T::Scheme, B::Digest, _>(
                    &mut self.context,
                    "other-chain",
                    &self.participants,
                    &bytes_copy,
                    &entry.digest,
                )
                .is_err()
            );
            checked += 1;
        }
        checked
    }
}
