//! Cluster tests of the consensus adapter, named by fault model. Each runs 4 validators on
//! commonware's deterministic runtime (seeded, simulated time) and simulated network.

mod app;
mod harness;

use app::{HashChain, TestBlock};
use commonware_consensus::simplex::scheme::Scheme as SimplexScheme;
use commonware_cryptography::Digestible as _;
use commonware_runtime::{deterministic, Clock as _, Runner as _};
use harness::{Cluster, Ed25519, Sm2, Suite};
use meridian_consensus::{EpochMembers, MeridianBlock};
use meridian_crypto::{Sha256Hasher, Sm3Hasher};
use std::time::Duration;

const N: usize = 4;
const ALL: [usize; 4] = [0, 1, 2, 3];
const GOSSIP: u64 = 100;

fn runner(seed: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            // Simulated time: a hung cluster fails the test instead of hanging it.
            .with_timeout(Some(Duration::from_secs(900))),
    )
}

fn n4_finalizes<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    runner(1).start(|context| async move {
        let mut cluster = Cluster::<T, B>::new(context, N).await;
        for i in 0..N {
            cluster.start(i).await;
        }
        cluster.wait_for(&ALL, 20).await;
        cluster.assert_no_fork();
        for i in 0..N {
            let checked = cluster.verify_certificates(i);
            assert!(checked >= 10, "validator {i}: only {checked} certificates");
            let tip = cluster.validators[i].as_ref().unwrap().finalized_tip();
            assert!(tip.is_some_and(|(h, _)| h >= 20));
        }
        // Blocks and certificates are also served by consensus storage.
        let v0 = cluster.validators[0].as_ref().unwrap();
        let stored = v0.block(10).await.expect("block 10 stored");
        assert_eq!(Some(stored.digest()), cluster.apps[0].digest_at(10));
    });
}

fn n4_f1_crash<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    runner(2).start(|context| async move {
        let mut cluster = Cluster::<T, B>::new(context, N).await;
        for i in 0..N {
            cluster.start(i).await;
        }
        cluster.wait_for(&ALL, 5).await;
        cluster.crash(3).await;
        let at_crash = cluster.height(0);
        cluster.wait_for(&[0, 1, 2], at_crash + 20).await;
        cluster.assert_no_fork();
    });
}

fn n4_crash_restart_catches_up<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    runner(3).start(|context| async move {
        let mut cluster = Cluster::<T, B>::new(context, N).await;
        for i in 0..N {
            cluster.start(i).await;
        }
        cluster.wait_for(&ALL, 10).await;
        cluster.crash(3).await;
        let before = cluster.height(3);
        cluster.wait_for(&[0, 1, 2], before + 25).await;
        // Restart over the same storage partitions and the same (durable) app store.
        cluster.start(3).await;
        let target = cluster.height(0);
        cluster.wait_for(&ALL, target).await;
        assert_eq!(
            cluster.apps[3].digest_at(target),
            cluster.apps[0].digest_at(target)
        );
        let tip = cluster.validators[3].as_ref().unwrap().finalized_tip();
        assert!(tip.is_some_and(|(h, _)| h >= target));
        cluster.assert_no_fork();
        // It keeps participating afterwards.
        cluster.wait_for(&ALL, target + 5).await;
    });
}

fn n4_late_joiner_syncs<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    runner(4).start(|context| async move {
        let mut cluster = Cluster::<T, B>::new(context, N).await;
        for i in 0..3 {
            cluster.start(i).await;
        }
        cluster.wait_for(&[0, 1, 2], 20).await;
        cluster.start(3).await;
        let target = cluster.height(0);
        cluster.wait_for(&[3], target).await;
        assert_eq!(
            cluster.apps[3].digest_at(target),
            cluster.apps[0].digest_at(target)
        );
        assert_eq!(cluster.apps[3].digest_at(1), cluster.apps[1].digest_at(1));
        cluster.assert_no_fork();
        cluster.wait_for(&ALL, target + 5).await;
    });
}

fn n4_partition_2_2_halts_then_heals<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    runner(5).start(|context| async move {
        let mut cluster = Cluster::<T, B>::new(context, N).await;
        for i in 0..N {
            cluster.start(i).await;
        }
        cluster.wait_for(&ALL, 10).await;
        cluster.cut(&[0, 1], &[2, 3]).await;
        // Let in-flight messages land, then watch: no side has a quorum, nothing may finalize.
        cluster.context.sleep(Duration::from_secs(2)).await;
        let frozen: Vec<u64> = (0..N).map(|i| cluster.height(i)).collect();
        cluster.context.sleep(Duration::from_secs(30)).await;
        let after: Vec<u64> = (0..N).map(|i| cluster.height(i)).collect();
        assert_eq!(frozen, after, "finality must stop during a 2|2 partition");
        cluster.assert_no_fork();
        cluster.link(&[0, 1], &[2, 3]).await;
        let top = *after.iter().max().unwrap();
        cluster.wait_for(&ALL, top + 10).await;
        cluster.assert_no_fork();
    });
}

/// Finalized digests of validator 0 up to `height`, plus the runtime's audit fingerprint.
fn history<T: Suite, B: HashChain>(seed: u64, height: u64) -> (Vec<String>, String)
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    runner(seed).start(|context| async move {
        let mut cluster = Cluster::<T, B>::new(context, N).await;
        for i in 0..N {
            cluster.start(i).await;
        }
        cluster.wait_for(&ALL, height).await;
        let digests = cluster.apps[0]
            .history()
            .range(..=height)
            .map(|(h, f)| format!("{h}:{:?}", f.digest))
            .collect();
        (digests, cluster.context.auditor().state())
    })
}

fn same_seed_same_history<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    let first = history::<T, B>(42, 15);
    let second = history::<T, B>(42, 15);
    assert_eq!(first.0.len(), 16);
    assert_eq!(first, second);
}

#[test]
fn n4_finalizes_ed25519() {
    n4_finalizes::<Ed25519, TestBlock>();
}

#[test]
fn n4_f1_crash_ed25519() {
    n4_f1_crash::<Ed25519, TestBlock>();
}

#[test]
fn n4_crash_restart_catches_up_ed25519() {
    n4_crash_restart_catches_up::<Ed25519, TestBlock>();
}

#[test]
fn n4_late_joiner_syncs_ed25519() {
    n4_late_joiner_syncs::<Ed25519, TestBlock>();
}

#[test]
fn n4_partition_2_2_halts_then_heals_ed25519() {
    n4_partition_2_2_halts_then_heals::<Ed25519, TestBlock>();
}

#[test]
fn same_seed_same_history_ed25519() {
    same_seed_same_history::<Ed25519, TestBlock>();
}

/// The production p2p path (`net::run_validator`: authenticated, encrypted lookup network with a
/// fixed peer list) on the deterministic runtime's in-memory sockets.
fn n4_authenticated_p2p_finalizes<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    use commonware_cryptography::Signer as _;
    use commonware_runtime::Supervisor as _;
    use meridian_consensus::{
        net::{run_validator_with_channels, NetConfig},
        ValidatorConfig,
    };
    use std::net::{Ipv4Addr, SocketAddr};

    runner(6).start(|context| async move {
        let signers = T::signers(N);
        let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let addr = |i: usize| SocketAddr::from((Ipv4Addr::LOCALHOST, 4000 + i as u16));
        let peers: Vec<_> = keys
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, k)| (k, addr(i)))
            .collect();
        let apps: Vec<app::TestApp<B, _>> = (0..N)
            .map(|_| app::TestApp::new(app::fixed(keys.clone())))
            .collect();
        let mut validators = Vec::new();
        let mut gossip = Vec::new();
        for (i, signer) in signers.into_iter().enumerate() {
            let config = ValidatorConfig::<T::Scheme, B>::new(
                harness::CHAIN_ID,
                signer,
                format!("node-{i}"),
                B::codec_config(),
            );
            let mut net = NetConfig::new(addr(i), peers.clone(), true);
            net.max_message_size = meridian_consensus::net::max_message_size::<T::Scheme, B>(
                N as u32,
                &B::codec_config(),
            );
            let node = context.child("node").with_attribute("index", i);
            let (validator, extra) =
                run_validator_with_channels(node, config, net, apps[i].clone(), &[GOSSIP])
                    .await
                    .unwrap();
            validators.push(validator);
            gossip.push(extra.into_iter().next().unwrap());
        }
        while !apps.iter().all(|a| a.height().unwrap_or(0) >= 10) {
            context.sleep(Duration::from_millis(100)).await;
        }
        for h in 0..=10 {
            let d = apps[0].digest_at(h);
            assert!(apps.iter().all(|a| a.digest_at(h) == d), "fork at {h}");
        }
        // An application channel rides the same authenticated network.
        use commonware_p2p::{Receiver as _, Recipients, Sender as _};
        let sent = gossip[0]
            .sender
            .send(Recipients::All, b"tx".to_vec(), false);
        assert_eq!(sent.len(), N - 1);
        let (from, message) = gossip[1].receiver.recv().await.unwrap();
        assert_eq!(from, keys[0]);
        assert_eq!(message.as_ref(), b"tx");
        assert!(run_validator_with_channels(
            context.child("bad"),
            ValidatorConfig::<T::Scheme, B>::new(
                harness::CHAIN_ID,
                T::signers(1).remove(0),
                "bad",
                B::codec_config(),
            ),
            NetConfig::new(addr(9), peers.clone(), true),
            apps[0].clone(),
            &[meridian_consensus::channel::VOTES],
        )
        .await
        .is_err());
    });
}

#[test]
fn n4_authenticated_p2p_finalizes_ed25519() {
    n4_authenticated_p2p_finalizes::<Ed25519, TestBlock>();
}

#[test]
fn n4_finalizes_sm2() {
    n4_finalizes::<Sm2, TestBlock>();
}

#[test]
fn n4_f1_crash_sm2() {
    n4_f1_crash::<Sm2, TestBlock>();
}

#[test]
fn n4_crash_restart_catches_up_sm2() {
    n4_crash_restart_catches_up::<Sm2, TestBlock>();
}

#[test]
fn n4_late_joiner_syncs_sm2() {
    n4_late_joiner_syncs::<Sm2, TestBlock>();
}

#[test]
fn n4_partition_2_2_halts_then_heals_sm2() {
    n4_partition_2_2_halts_then_heals::<Sm2, TestBlock>();
}

#[test]
fn same_seed_same_history_sm2() {
    same_seed_same_history::<Sm2, TestBlock>();
}

#[test]
fn n4_authenticated_p2p_finalizes_sm2() {
    n4_authenticated_p2p_finalizes::<Sm2, TestBlock>();
}

// The real `meridian-types` block through the whole stack, with each suite's own hash.

#[test]
fn n4_finalizes_meridian_block_intl() {
    n4_finalizes::<Ed25519, MeridianBlock<Sha256Hasher>>();
}

#[test]
fn n4_finalizes_meridian_block_sm() {
    n4_finalizes::<Sm2, MeridianBlock<Sm3Hasher>>();
}

#[test]
fn n4_crash_restart_catches_up_meridian_block_sm() {
    n4_crash_restart_catches_up::<Sm2, MeridianBlock<Sm3Hasher>>();
}

#[test]
fn n4_authenticated_p2p_finalizes_meridian_block_sm() {
    n4_authenticated_p2p_finalizes::<Sm2, MeridianBlock<Sm3Hasher>>();
}

/// A validator whose application cannot persist a finalized block stops (reporting the height)
/// instead of acknowledging it; the others keep finalizing.
#[test]
fn n4_app_storage_failure_stops_validator() {
    runner(7).start(|context| async move {
        let mut cluster = Cluster::<Ed25519, TestBlock>::new(context, N).await;
        cluster.apps[3].store.lock().unwrap().fail_at = Some(6);
        for i in 0..N {
            cluster.start(i).await;
        }
        let failed = cluster.validators[3].take().unwrap();
        match failed.stopped().await {
            Err(meridian_consensus::Error::Application { height, .. }) => assert_eq!(height, 6),
            other => panic!("expected application error, got {other:?}"),
        }
        assert_eq!(
            cluster.height(3),
            5,
            "nothing past the failed height is applied"
        );
        cluster.wait_for(&[0, 1, 2], 20).await;
        cluster.assert_no_fork();
    });
}

/// Four validators on the tokio runtime over real loopback TCP sockets (the production runtime),
/// storage in a temporary directory.
fn n4_tokio_loopback_finalizes<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    use commonware_cryptography::Signer as _;
    use commonware_runtime::{tokio, Supervisor as _};
    use meridian_consensus::{
        net::{max_message_size, run_validator, NetConfig},
        ValidatorConfig,
    };
    use std::net::{Ipv4Addr, SocketAddr, TcpListener};

    let dir = tempfile::tempdir().unwrap();
    let runner = tokio::Runner::new(tokio::Config::new().with_storage_directory(dir.path()));
    runner.start(|context| async move {
        let signers = T::signers(N);
        let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        // Ask the OS for free ports, then release them for the nodes.
        let addrs: Vec<SocketAddr> = (0..N)
            .map(|_| {
                let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
                l.local_addr().unwrap()
            })
            .collect();
        let peers: Vec<_> = keys.iter().cloned().zip(addrs.iter().copied()).collect();
        let apps: Vec<app::TestApp<B, _>> = (0..N)
            .map(|_| app::TestApp::new(app::fixed(keys.clone())))
            .collect();
        let mut validators = Vec::new();
        for (i, signer) in signers.into_iter().enumerate() {
            let config = ValidatorConfig::<T::Scheme, B>::new(
                harness::CHAIN_ID,
                signer,
                format!("node-{i}"),
                B::codec_config(),
            );
            let mut net = NetConfig::new(addrs[i], peers.clone(), true);
            net.max_message_size = max_message_size::<T::Scheme, B>(N as u32, &B::codec_config());
            let node = context.child("node").with_attribute("index", i);
            validators.push(
                run_validator(node, config, net, apps[i].clone())
                    .await
                    .unwrap(),
            );
        }
        let deadline = context.current() + Duration::from_secs(120);
        while !apps.iter().all(|a| a.height().unwrap_or(0) >= 5) {
            assert!(context.current() < deadline, "no progress on loopback");
            context.sleep(Duration::from_millis(100)).await;
        }
        for h in 0..=5 {
            let d = apps[0].digest_at(h);
            assert!(apps.iter().all(|a| a.digest_at(h) == d), "fork at {h}");
        }
    });
}

#[test]
fn n4_tokio_loopback_finalizes_ed25519() {
    n4_tokio_loopback_finalizes::<Ed25519, MeridianBlock<Sha256Hasher>>();
}

#[test]
fn n4_tokio_loopback_finalizes_sm2() {
    n4_tokio_loopback_finalizes::<Sm2, MeridianBlock<Sm3Hasher>>();
}

/// Validator-set changes take effect at epoch boundaries: a follower (4) becomes a validator in
/// epoch 2, validator 0 is removed in epoch 3. Certificates verify against their epoch's set
/// only, and once 0 is removed its votes no longer count: with 2 and 3 down, 0 + 1 + 4 cannot
/// finalize in a {1,2,3,4} epoch although three nodes are voting.
fn epochs_change_validator_set<T: Suite, B: HashChain>()
where
    T::Scheme: SimplexScheme<B::Digest>,
{
    runner(11).start(|context| async move {
        let mut cluster = Cluster::<T, B>::new(context, 5).await;
        cluster.epoch_blocks = 10;
        let keys = cluster.participants.clone();
        let members = |v: &[usize], f: &[usize]| EpochMembers {
            validators: v.iter().map(|&i| keys[i].clone()).collect(),
            followers: f.iter().map(|&i| keys[i].clone()).collect(),
        };
        let sets = [
            members(&[0, 1, 2, 3], &[4]),
            members(&[0, 1, 2, 3, 4], &[]),
            members(&[1, 2, 3, 4], &[0]),
        ];
        {
            let mut schedule = cluster.schedule.lock().unwrap();
            schedule.clear();
            // Recorded in epoch 1 (heights 10..19) -> effective from epoch 2 (height 20).
            schedule.insert(0, sets[0].clone());
            schedule.insert(12, sets[1].clone());
            // Recorded in epoch 2 -> effective from epoch 3 (height 30).
            schedule.insert(25, sets[2].clone());
        }
        for i in 0..5 {
            cluster.start(i).await;
        }
        cluster.wait_for(&[0, 1, 2, 3, 4], 34).await;
        cluster.assert_no_fork();
        for i in 0..5 {
            assert!(cluster.validators[i].as_ref().unwrap().epoch() >= 3);
        }
        // Each certificate verifies with the set of its block's epoch, and not with another.
        let set_of = |height: u64| match height {
            0..=19 => &sets[0],
            20..=29 => &sets[1],
            _ => &sets[2],
        };
        let mut checked = [0usize; 3];
        for (height, entry) in cluster.apps[1].history() {
            let Some(cert) = entry.certificate else {
                continue;
            };
            let own = set_of(height);
            let verify = |set: &EpochMembers<_>, context: &mut deterministic::Context| {
                meridian_consensus::verify_finalization::<T::Scheme, B::Digest, _>(
                    context,
                    harness::CHAIN_ID,
                    &set.validators,
                    &cert,
                    &entry.digest,
                )
            };
            let ctx = &mut cluster.context;
            assert!(verify(own, ctx).is_ok(), "certificate at {height}");
            // (Overlapping sets of equal size may legitimately both verify a certificate, so
            // the foreign set is one of the other size.)
            let other = if std::ptr::eq(own, &sets[1]) {
                &sets[0]
            } else {
                &sets[1]
            };
            assert!(verify(other, ctx).is_err(), "foreign set at {height}");
            checked[match height {
                0..=19 => 0,
                20..=29 => 1,
                _ => 2,
            }] += 1;
        }
        assert!(checked.iter().all(|&c| c >= 2), "checked {checked:?}");

        // Removed validator 0 keeps running but its votes do not count.
        cluster.crash(2).await;
        cluster.crash(3).await;
        let stalled = cluster.height(1);
        cluster.context.sleep(Duration::from_secs(20)).await;
        assert!(
            cluster.height(1) <= stalled + 1,
            "finalized without a quorum of the current set: {stalled} -> {}",
            cluster.height(1)
        );
        // Bringing 2 back restores a quorum of {1,2,3,4}.
        cluster.start(2).await;
        cluster.wait_for(&[0, 1, 2, 4], stalled + 10).await;
        cluster.assert_no_fork();
    });
}

#[test]
fn epochs_change_validator_set_ed25519() {
    epochs_change_validator_set::<Ed25519, TestBlock>();
}

#[test]
fn epochs_change_validator_set_sm2() {
    epochs_change_validator_set::<Sm2, TestBlock>();
}
