//! Alliance governance through real validators: a 4-organisation chain votes in a 5th
//! organisation and its validator, finalizes with 5, votes one validator out and finalizes
//! with 4 — validator-set changes take effect at consensus epoch boundaries, and a removed
//! validator's votes no longer count.

use std::time::Duration;

use commonware_runtime::{Clock as _, Runner as _, Supervisor as _};
use meridian_crypto::PrivateKey;
use meridian_identity::{CaParams, Certificate, IssueRequest, OrgCa, Role, Serial, SigningKey};
use meridian_identity_module::{
    governance::{next_proposal_key, proposal_key},
    member_key, Action, IdentityCall, MemberRecord, Proposal, Status, Threshold,
};
use meridian_node::{sign_tx, Genesis, GenesisOrg, GenesisValidator};
use meridian_types::{decode_exact, ChainId, Encode, ValidatorSet, VALIDATORS_KEY};

use crate::cluster::{Cluster, Suite, CHAIN_ID};

/// Genesis time, seconds (certificates are valid around it; the simulated clock starts at 0,
/// so block times are the genesis time plus a little).
const T0: u64 = 1_700_000_000;
const EPOCH: u64 = 10;

struct Org {
    ca: OrgCa,
    admin: PrivateKey,
    nonce: u64,
}

fn org_ca<T: Suite>(i: usize) -> OrgCa {
    let key = PrivateKey::from_seed(T::SUITE, &[0xC0 + i as u8; 32]);
    OrgCa::create(
        &CaParams {
            org: format!("org{i}"),
            common_name: None,
            not_before: 0,
            not_after: T0 + 3_650 * 86_400,
            serial: Serial::from_u64(1).unwrap(),
        },
        SigningKey::try_from(&key).unwrap(),
    )
    .unwrap()
}

fn issue(ca: &OrgCa, key: &PrivateKey, name: &str, role: Role, serial: u64) -> Certificate {
    ca.issue(&IssueRequest {
        name: name.into(),
        role,
        public_key: key.public_key().into(),
        not_before: 0,
        not_after: T0 + 365 * 86_400,
        serial: Serial::from_u64(serial).unwrap(),
    })
    .unwrap()
}

fn validators<T: Suite>(c: &Cluster<T>, i: usize) -> Vec<Vec<u8>> {
    let raw = c
        .ledger(i)
        .store()
        .get_latest(VALIDATORS_KEY)
        .unwrap()
        .unwrap();
    ValidatorSet::decode_exact(&raw)
        .unwrap()
        .0
        .into_iter()
        .map(|v| v.public_key)
        .collect()
}

fn proposal<T: Suite>(c: &Cluster<T>, id: u64) -> Option<Proposal> {
    let raw = c.ledger(0).store().get_latest(&proposal_key(id)).unwrap()?;
    Some(decode_exact(&raw).unwrap())
}

/// Sends `call` signed by `key` to node 0 and waits until nodes `who` committed it.
async fn send<T: Suite>(
    c: &Cluster<T>,
    key: &PrivateKey,
    nonce: &mut u64,
    call: meridian_types::Call,
    who: &[usize],
) {
    let chain = ChainId::new(CHAIN_ID).unwrap();
    let tx = sign_tx(key, &chain, *nonce, 10_000, call);
    *nonce += 1;
    let hash = c.submit(0, tx.encode()).expect("admitted");
    c.wait_committed(who, &[hash]).await;
    let receipt = c.ledger(0).receipt(&hash).unwrap().unwrap();
    assert_eq!(receipt.code, "ok", "{receipt:?}");
}

/// Proposes `action` from org 0 and has orgs 1 and 2 approve; returns once it executed.
async fn pass<T: Suite>(c: &Cluster<T>, orgs: &mut [Org], action: Action, who: &[usize]) {
    let id = c
        .ledger(0)
        .store()
        .get_latest(&next_proposal_key())
        .unwrap()
        .map_or(1, |v| u64::from_be_bytes(v.try_into().unwrap()));
    let propose = IdentityCall::Propose {
        action,
        threshold: Threshold::Majority,
        deadline_blocks: 1_000,
    };
    let admin = orgs[0].admin.clone();
    send(c, &admin, &mut orgs[0].nonce, propose.into_call(), who).await;
    assert_eq!(
        proposal(c, id).expect("proposal stored").status,
        Status::Open
    );
    for org in orgs.iter_mut().skip(1).take(2) {
        let admin = org.admin.clone();
        let vote = IdentityCall::Vote { id, approve: true };
        send(c, &admin, &mut org.nonce, vote.into_call(), who).await;
    }
    assert_eq!(proposal(c, id).unwrap().status, Status::Executed);
}

/// Waits until node `i` runs consensus in an epoch at least `epoch`.
async fn wait_epoch<T: Suite>(c: &Cluster<T>, who: &[usize], epoch: u64) {
    loop {
        let done = who.iter().all(|&i| {
            c.nodes[i]
                .validator
                .as_ref()
                .is_some_and(|v| v.epoch() >= epoch)
        });
        if done {
            return;
        }
        c.context.sleep(Duration::from_millis(50)).await;
    }
}

fn epoch_of(height: u64) -> u64 {
    height / EPOCH
}

pub fn four_orgs_add_a_fifth_validator_then_remove_one<T: Suite>() {
    crate::runner(21).start(|context| async move {
        let keys = Cluster::<T>::node_keys(5);
        let mut orgs: Vec<Org> = (0..5)
            .map(|i| Org {
                ca: org_ca::<T>(i),
                admin: PrivateKey::from_seed(T::SUITE, &[0xA0 + i as u8; 32]),
                nonce: 0,
            })
            .collect();
        let mut members = Vec::new();
        for i in 0..4 {
            let node = issue(
                &orgs[i].ca,
                &keys[i],
                &format!("node{i}"),
                Role::Consensus,
                10,
            );
            let admin = issue(&orgs[i].ca, &orgs[i].admin, "admin", Role::Admin, 11);
            members.push(node.to_pem().unwrap());
            members.push(admin.to_pem().unwrap());
        }
        let genesis = Genesis {
            chain_id: CHAIN_ID.into(),
            suite: T::SUITE.to_string(),
            timestamp_ms: T0 * 1000,
            validators: (0..4)
                .map(|i| GenesisValidator {
                    name: format!("org{i}"),
                    public_key: hex::encode(keys[i].public_key().as_bytes()),
                })
                .collect(),
            orgs: (0..4)
                .map(|i| GenesisOrg {
                    id: format!("org{i}"),
                    ca_cert: orgs[i].ca.certificate().to_pem().unwrap(),
                })
                .collect(),
            members,
            policies: Vec::new(),
            epoch_blocks: Some(EPOCH),
            fault_tolerance: None,
        };
        let mut c = Cluster::<T>::with_genesis(context, keys.clone(), genesis).await;
        for i in 0..5 {
            c.start(i).await;
        }
        c.wait_for(&[0, 1, 2, 3], 3).await;
        let genesis_set = validators(&c, 0);
        assert_eq!(genesis_set.len(), 4);

        // The 5th organisation joins by vote; its node registers its consensus certificate.
        let four = [0, 1, 2, 3];
        let add_org = Action::AddOrg {
            org: "org4".into(),
            ca_der: orgs[4].ca.certificate().to_der(),
        };
        pass(&c, &mut orgs, add_org, &four).await;
        let node4_cert = issue(&orgs[4].ca, &keys[4], "node4", Role::Consensus, 10);
        let mut node4_nonce = 0;
        send(
            &c,
            &keys[4],
            &mut node4_nonce,
            IdentityCall::Register {
                cert: node4_cert.to_der(),
            }
            .into_call(),
            &four,
        )
        .await;
        // ... and its node becomes a validator by vote, from the next epoch boundary.
        pass(
            &c,
            &mut orgs,
            Action::AddValidator {
                name: "org4".into(),
                public_key: keys[4].public_key().as_bytes().to_vec(),
            },
            &four,
        )
        .await;
        let added_at = c.height(0);
        assert_eq!(validators(&c, 0).len(), 5);
        let five_epoch = epoch_of(added_at) + 1;
        wait_epoch(&c, &[0, 1, 2, 3, 4], five_epoch).await;
        // The follower kept up with the chain all along.
        let h = c.height(0);
        c.wait_for(&[4], h).await;
        c.assert_same_chain(&[0, 1, 2, 3, 4]);

        // Certificates of the 5-validator epoch verify against the 5 keys only.
        let in_five = (five_epoch * EPOCH..=c.height(0))
            .find(|&h| {
                c.ledger(0)
                    .certificate(h)
                    .unwrap()
                    .is_some_and(|x| !x.is_empty())
            })
            .expect("a certified block in the 5-validator epoch");
        let cert = c.ledger(0).certificate(in_five).unwrap().unwrap();
        let digest = meridian_crypto::Digest32(
            c.ledger(0)
                .block(in_five)
                .unwrap()
                .unwrap()
                .hash(&c.ledger(0).hasher()),
        );
        let keys_of =
            |idx: &[usize]| -> Vec<_> { idx.iter().map(|&i| c.participants[i].clone()).collect() };
        let mut rng = c.context.child("rng");
        let check = |who: &[usize], rng: &mut _| {
            meridian_consensus::verify_finalization::<T::Scheme, meridian_crypto::Digest32, _>(
                rng,
                CHAIN_ID,
                &keys_of(who),
                &cert,
                &digest,
            )
        };
        assert!(check(&[0, 1, 2, 3, 4], &mut rng).is_ok());
        assert!(check(&[0, 1, 2, 3], &mut rng).is_err());

        // Node 0 rotates its certificate (same key, new serial) with no downtime ...
        let rotated = issue(&orgs[0].ca, &keys[0], "node0", Role::Consensus, 20);
        let mut node0_nonce = 0;
        let register = IdentityCall::Register {
            cert: rotated.to_der(),
        };
        send(
            &c,
            &keys[0],
            &mut node0_nonce,
            register.into_call(),
            &[0, 1, 2, 3, 4],
        )
        .await;
        let addr = c.ledger(0).address_of(keys[0].public_key().as_bytes());
        let raw = c
            .ledger(0)
            .store()
            .get_latest(&member_key(&addr))
            .unwrap()
            .unwrap();
        assert_eq!(
            MemberRecord::decode_exact(&raw).unwrap().der,
            rotated.to_der()
        );

        // ... and stays in consensus: finalizes with 5 across the next boundary with one of the
        // old four down, which needs node 0's and node 4's votes (quorum 4 of 5).
        c.crash(3).await;
        let before = c.height(0);
        c.wait_for(&[0, 1, 2, 4], before + 2 * EPOCH).await;
        c.start(3).await;
        c.wait_for(&[3], c.height(0)).await;

        // Org 1's validator is voted out; from the next boundary it no longer counts.
        pass(
            &c,
            &mut orgs,
            Action::RemoveValidator {
                public_key: keys[1].public_key().as_bytes().to_vec(),
            },
            &[0, 1, 2, 3, 4],
        )
        .await;
        let removed_at = c.height(0);
        assert_eq!(validators(&c, 0).len(), 4);
        let four_epoch = epoch_of(removed_at) + 1;
        wait_epoch(&c, &[0, 2, 3, 4], four_epoch).await;
        let h = c.height(0);
        c.wait_for(&[0, 2, 3, 4], h + EPOCH).await;
        c.assert_same_chain(&[0, 2, 3, 4]);

        // With two of {0, 2, 3, 4} down, validator 1 (still running) cannot restore a quorum.
        c.crash(2).await;
        c.crash(3).await;
        let stalled = c.height(0);
        c.context.sleep(Duration::from_secs(20)).await;
        assert!(
            c.height(0) <= stalled + 1,
            "finalized without a quorum of the current set: {stalled} -> {}",
            c.height(0)
        );
        c.start(2).await;
        c.wait_for(&[0, 2, 4], stalled + 5).await;
        c.assert_same_chain(&[0, 1, 2, 4]);
    });
}
