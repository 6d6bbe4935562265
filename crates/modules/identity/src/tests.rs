//! Certificate mode end to end through the executor: membership, roles and policies,
//! registration and rotation, revocation, expiry, unknown CAs, and governance of organisations,
//! validators and chain parameters.

use std::collections::BTreeMap;
use std::sync::Arc;

use meridian_crypto::{PrivateKey, Suite};
use meridian_execution::{
    AdmissionError, BlockEnv, ExecMode, Executor, Module, ModuleError, StateRead, TxAuthenticator,
    TxContext,
};
use meridian_identity::{CaParams, Certificate, IssueRequest, OrgCa, Role, Serial};
use meridian_types::{
    Address, Call, ChainConfig, ChainId, Encode, Hash32, HashFn, SignedTx, SignerId, TxBody,
    ValidatorEntry, ValidatorSet, CHAIN_CONFIG_KEY, VALIDATORS_KEY,
};

use super::*;

struct H;
impl HashFn for H {
    fn hash(&self, d: &[u8]) -> Hash32 {
        Suite::Intl.hash(d).0
    }
}

/// Signatures are the subject of other tests; here every transaction is authentic.
struct Yes;
impl TxAuthenticator for Yes {
    fn authenticate(&self, _: &SignedTx, _: &Hash32) -> bool {
        true
    }
}

/// `echo.write` writes a key; anything callable by the default roles.
struct Echo;
impl Module for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }
    fn execute(&self, ctx: &mut TxContext<'_>, _: &str, args: &[u8]) -> Result<(), ModuleError> {
        let mut k = b"echo/".to_vec();
        k.extend_from_slice(args);
        ctx.set(k, vec![1])
    }
}

#[derive(Default)]
struct Mem(BTreeMap<Vec<u8>, Vec<u8>>);
impl StateRead for Mem {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
    fn range(&self, start: &[u8], end: &[u8], limit: usize, desc: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        StateRead::range(&self.0, start, end, limit, desc)
    }
}

const T0: u64 = 1_800_000_000; // genesis time, unix secs
const YEAR: u64 = 365 * 86_400;

struct World {
    state: Mem,
    exec: Executor,
    ca1: OrgCa,
    ca2: OrgCa,
    nonces: BTreeMap<Vec<u8>, u64>,
    /// Transactions signed for the next block, per sender.
    pending: BTreeMap<Vec<u8>, u64>,
    height: u64,
    /// Identity events of the last block, decoded.
    events: Vec<IdentityEvent>,
    /// Receipt messages of the last block, in transaction order.
    messages: Vec<String>,
}

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_seed(Suite::Intl, &[i; 32])
}

fn ca(org: &str, seed: u8) -> OrgCa {
    let params = CaParams {
        org: org.into(),
        common_name: None,
        not_before: T0 - 10,
        not_after: T0 + 10 * YEAR,
        serial: Serial::from_u64(1).unwrap(),
    };
    let signing = meridian_identity::SigningKey::try_from(&key(seed)).unwrap();
    OrgCa::create(&params, signing).unwrap()
}

fn issue(
    ca: &OrgCa,
    k: &PrivateKey,
    name: &str,
    role: Role,
    serial: u64,
    days: u64,
) -> Certificate {
    ca.issue(&IssueRequest {
        name: name.into(),
        role,
        public_key: k.public_key().into(),
        not_before: T0 - 10,
        not_after: T0 + days * 86_400,
        serial: Serial::from_u64(serial).unwrap(),
    })
    .unwrap()
}

/// Key of validator `i` (as listed by [`World::with_validators`]).
fn vkey(i: u8) -> PrivateKey {
    key(20 + i)
}

fn pk(k: &PrivateKey) -> Vec<u8> {
    k.public_key().as_bytes().to_vec()
}

impl World {
    /// org1 (admin 1, client 2, short-lived client 5) and org2 (regulator 3, admin 4).
    fn new() -> World {
        World::with_validators(0)
    }

    /// As [`World::new`], plus `n` validators `v0..` (keys [`vkey`], serials 100.., orgs
    /// alternating org1/org2) whose consensus certificates genesis registers and lists in
    /// `chain/validators`, as the node's genesis does (without `chain/config`, like a store
    /// from before it existed).
    fn with_validators(n: u8) -> World {
        let (ca1, ca2) = (ca("org1", 100), ca("org2", 101));
        let mut members = vec![
            issue(&ca1, &key(1), "alice-admin", Role::Admin, 10, 365),
            issue(&ca1, &key(2), "bob-client", Role::Client, 11, 365),
            issue(&ca2, &key(3), "reg", Role::Regulator, 12, 365),
            issue(&ca2, &key(4), "org2-admin", Role::Admin, 13, 365),
            issue(&ca1, &key(5), "brief", Role::Client, 14, 1),
        ];
        let mut set = ValidatorSet::default();
        for i in 0..n {
            let org_ca = if i % 2 == 0 { &ca1 } else { &ca2 };
            let name = format!("v{i}");
            members.push(issue(
                org_ca,
                &vkey(i),
                &name,
                Role::Consensus,
                100 + u64::from(i),
                365,
            ));
            set.0.push(ValidatorEntry {
                name,
                public_key: pk(&vkey(i)),
            });
        }
        let ders: Vec<Vec<u8>> = members.iter().map(|c| c.to_der()).collect();
        let der_refs: Vec<&[u8]> = ders.iter().map(|d| d.as_slice()).collect();
        let (c1, c2) = (ca1.certificate().to_der(), ca2.certificate().to_der());
        let writes = genesis_writes(
            Suite::Intl,
            T0,
            &[
                GenesisOrg {
                    id: "org1",
                    ca_cert: &c1,
                },
                GenesisOrg {
                    id: "org2",
                    ca_cert: &c2,
                },
            ],
            &der_refs,
            &default_policies(),
            &|k| Address::from_public_key(&H, k),
        )
        .unwrap();
        let exec = Executor::new(vec![
            Arc::new(IdentityModule::new(Suite::Intl)),
            Arc::new(Echo),
        ])
        .with_access(Arc::new(IdentityAccess::new(Suite::Intl)));
        let mut state = Mem(writes.into_iter().collect());
        if n > 0 {
            state.0.insert(VALIDATORS_KEY.to_vec(), set.encode());
        }
        World {
            state,
            exec,
            ca1,
            ca2,
            nonces: BTreeMap::new(),
            pending: BTreeMap::new(),
            height: 0,
            events: Vec::new(),
            messages: Vec::new(),
        }
    }

    fn tx(&mut self, k: &PrivateKey, call: Call) -> SignedTx {
        let pk = k.public_key().as_bytes().to_vec();
        let signed = self.pending.entry(pk.clone()).or_default();
        let n = self.nonces.get(&pk).copied().unwrap_or(0) + *signed;
        *signed += 1;
        SignedTx {
            body: TxBody {
                chain_id: ChainId::new("id-test").unwrap(),
                sender: pk,
                nonce: n,
                expiry_height: 1_000,
                call,
            },
            signature: vec![0; 64],
        }
    }

    /// Proposes a block at `time` secs; returns per-tx `Ok(receipt code, signer)` or the drop
    /// code, and applies the block.
    fn block(
        &mut self,
        time: u64,
        txs: Vec<SignedTx>,
    ) -> Vec<Result<(String, Option<SignerId>), &'static str>> {
        self.height += 1;
        let env = BlockEnv {
            chain_id: ChainId::new("id-test").unwrap(),
            height: self.height,
            time_ms: time * 1000,
        };
        let hashes: Vec<Hash32> = txs.iter().map(|t| t.hash(&H)).collect();
        let out = self
            .exec
            .execute_block(&H, &Yes, &self.state, &env, txs.clone(), ExecMode::Propose)
            .unwrap();
        // A verifier rejects a block carrying a transaction a proposer had to drop.
        if !out.dropped.is_empty() {
            let v =
                self.exec
                    .execute_block(&H, &Yes, &self.state, &env, txs.clone(), ExecMode::Verify);
            assert!(v.is_err());
        }
        self.pending.clear();
        for (k, v) in &out.writes {
            match v {
                Some(v) => self.state.0.insert(k.clone(), v.clone()),
                None => self.state.0.remove(k),
            };
        }
        for t in &out.txs {
            *self.nonces.entry(t.body.sender.clone()).or_default() += 1;
        }
        self.events = out
            .receipts
            .iter()
            .flat_map(|r| &r.events)
            .filter(|e| e.module == MODULE)
            .map(|e| decode_event(&e.kind, &e.data).expect("every identity event decodes"))
            .collect();
        self.messages = out.receipts.iter().map(|r| r.message.clone()).collect();
        hashes
            .iter()
            .map(|h| {
                if let Some((_, e)) = out.dropped.iter().find(|(d, _)| d == h) {
                    return Err(match e {
                        AdmissionError::Denied(d) => d.code,
                        other => other.code(),
                    });
                }
                let r = out.receipts.iter().find(|r| &r.tx_hash == h).unwrap();
                Ok((r.code.clone(), r.signer.clone()))
            })
            .collect()
    }
}

fn echo(tag: &str) -> Call {
    Call {
        module: "echo".into(),
        method: "write".into(),
        args: tag.as_bytes().to_vec(),
    }
}

#[test]
fn members_transact_with_their_identity_in_the_receipt_and_others_are_refused() {
    let mut w = World::new();
    let (alice, bob, reg, stranger) = (key(1), key(2), key(3), key(9));
    let txs = vec![
        w.tx(&bob, echo("b")),
        w.tx(&reg, echo("r")),
        w.tx(&stranger, echo("s")),
        w.tx(&alice, echo("a")),
    ];
    let got = w.block(T0 + 100, txs);
    let bob_cert = issue(&w.ca1, &bob, "bob-client", Role::Client, 11, 365);
    assert_eq!(
        got[0],
        Ok((
            "ok".into(),
            Some(SignerId {
                org: "org1".into(),
                cert_id: *bob_cert.cert_id(Suite::Intl).as_bytes()
            })
        ))
    );
    assert_eq!(
        got[1],
        Err("auth.denied"),
        "a regulator reads but does not write"
    );
    assert_eq!(got[2], Err("auth.unknown_member"));
    assert!(got[3].is_ok());
    assert!(w.state.get(b"echo/b").is_some() && w.state.get(b"echo/r").is_none());
}

#[test]
fn register_rotate_and_refuse_foreign_or_mismatched_certificates() {
    let mut w = World::new();
    let carol = key(6);
    // Carol gets an org1 member certificate and registers it herself.
    let cert = issue(&w.ca1, &carol, "carol", Role::Member, 20, 365);
    let reg = w.tx(
        &carol,
        IdentityCall::Register {
            cert: cert.to_der(),
        }
        .into_call(),
    );
    let before = w.tx(&carol, echo("c0"));
    // The echo was signed before registration landed: it is in the same block, after it.
    let got = w.block(T0 + 100, vec![reg, before]);
    assert_eq!(got[0].as_ref().unwrap().0, "ok");
    assert_eq!(got[1].as_ref().unwrap().0, "ok");
    // Rotation: a new certificate for the same identity (same org and name), no downtime.
    let rotated = issue(&w.ca1, &carol, "carol", Role::Member, 21, 730);
    let t = w.tx(
        &carol,
        IdentityCall::Register {
            cert: rotated.to_der(),
        }
        .into_call(),
    );
    let e = w.tx(&carol, echo("c1"));
    let got = w.block(T0 + 200, vec![t, e]);
    assert_eq!(got[0].as_ref().unwrap().0, "ok");
    assert_eq!(
        got[1].as_ref().unwrap().1.as_ref().unwrap().cert_id,
        *rotated.cert_id(Suite::Intl).as_bytes()
    );
    // Someone else's certificate: refused, with the module's code in the receipt.
    let dave = key(7);
    let t = w.tx(
        &dave,
        IdentityCall::Register {
            cert: cert.to_der(),
        }
        .into_call(),
    );
    assert_eq!(
        w.block(T0 + 300, vec![t])[0].as_ref().unwrap().0,
        "identity.key_mismatch"
    );
    // A certificate from a CA the chain does not trust.
    let rogue = ca("org1", 102);
    let fake = issue(&rogue, &dave, "dave", Role::Admin, 30, 365);
    let t = w.tx(
        &dave,
        IdentityCall::Register {
            cert: fake.to_der(),
        }
        .into_call(),
    );
    assert_eq!(
        w.block(T0 + 400, vec![t])[0].as_ref().unwrap().0,
        "cert.unknown_ca"
    );
    // Dave is still not a member.
    let t = w.tx(&dave, echo("d"));
    assert_eq!(w.block(T0 + 500, vec![t])[0], Err("auth.unknown_member"));
}

#[test]
fn revoked_and_expired_certificates_can_no_longer_transact() {
    let mut w = World::new();
    let (alice, bob, org2_admin, brief) = (key(1), key(2), key(4), key(5));
    let ca1_id = *w.ca1.certificate().cert_id(Suite::Intl).as_bytes();
    let bob_serial = Serial::from_u64(11).unwrap().as_bytes().to_vec();
    let revoke = |ca_id, serial: &Vec<u8>| {
        IdentityCall::Revoke {
            ca_id,
            serial: serial.clone(),
        }
        .into_call()
    };
    // Only an admin, and only of the issuing CA's organisation.
    let by_client = w.tx(&bob, revoke(ca1_id, &bob_serial));
    let by_other_org = w.tx(&org2_admin, revoke(ca1_id, &bob_serial));
    let got = w.block(T0 + 100, vec![by_client, by_other_org]);
    assert_eq!(got[0], Err("auth.denied"));
    assert_eq!(got[1].as_ref().unwrap().0, "identity.not_admin");
    // Alice revokes Bob; Bob's transaction later in the same block is refused.
    let r = w.tx(&alice, revoke(ca1_id, &bob_serial));
    let b = w.tx(&bob, echo("after"));
    let got = w.block(T0 + 200, vec![r, b]);
    assert_eq!(got[0].as_ref().unwrap().0, "ok");
    assert_eq!(got[1], Err("cert.revoked"));
    let again = w.tx(&alice, revoke(ca1_id, &bob_serial));
    assert_eq!(
        w.block(T0 + 300, vec![again])[0].as_ref().unwrap().0,
        "identity.already_revoked"
    );
    // The one-day certificate works on day one and is refused after it.
    let t = w.tx(&brief, echo("day1"));
    assert!(w.block(T0 + 3_600, vec![t])[0].is_ok());
    let t = w.tx(&brief, echo("day2"));
    assert_eq!(w.block(T0 + 2 * 86_400, vec![t])[0], Err("cert.expired"));
    let _ = &w.ca2;
}

#[test]
fn a_policy_change_applies_from_the_next_block() {
    let mut w = World::new();
    let bob = key(2);
    let t = w.tx(&bob, echo("1"));
    assert!(w.block(T0 + 100, vec![t])[0].is_ok());
    // Governance would write this; the access layer reads it from state.
    w.state.0.insert(
        policy_key("echo.*"),
        meridian_types::Encode::encode(&Policy {
            roles: vec!["admin".into()],
        }),
    );
    let t = w.tx(&bob, echo("2"));
    assert_eq!(w.block(T0 + 200, vec![t])[0], Err("auth.denied"));
}

#[test]
fn genesis_refuses_bad_members_and_an_open_chain_needs_no_certificates() {
    let ca1 = ca("org1", 100);
    let other = ca("org9", 103);
    let stray = issue(&other, &key(1), "x", Role::Admin, 5, 365);
    let c1 = ca1.certificate().to_der();
    let err = genesis_writes(
        Suite::Intl,
        T0,
        &[GenesisOrg {
            id: "org1",
            ca_cert: &c1,
        }],
        &[&stray.to_der()],
        &[],
        &|k| Address::from_public_key(&H, k),
    )
    .unwrap_err();
    assert!(err.contains("cert.unknown_ca"), "{err}");
    let bad_policy = genesis_writes(
        Suite::Intl,
        T0,
        &[GenesisOrg {
            id: "org1",
            ca_cert: &c1,
        }],
        &[],
        &[("echo.*".into(), vec![])],
        &|k| Address::from_public_key(&H, k),
    );
    assert!(bad_policy.is_err());
    // Without identity/mode every signer may transact and receipts carry no signer.
    let exec =
        Executor::new(vec![Arc::new(Echo)]).with_access(Arc::new(IdentityAccess::new(Suite::Intl)));
    let env = BlockEnv {
        chain_id: ChainId::new("id-test").unwrap(),
        height: 1,
        time_ms: T0 * 1000,
    };
    let mut w = World::new();
    let t = w.tx(&key(9), echo("open"));
    let out = exec
        .execute_block(&H, &Yes, &Mem::default(), &env, vec![t], ExecMode::Verify)
        .unwrap();
    assert_eq!(out.receipts[0].code, "ok");
    assert_eq!(out.receipts[0].signer, None);
}

fn propose(action: Action, threshold: Threshold, deadline_blocks: u64) -> Call {
    IdentityCall::Propose {
        action,
        threshold,
        deadline_blocks,
    }
    .into_call()
}

fn vote(id: u64, approve: bool) -> Call {
    IdentityCall::Vote { id, approve }.into_call()
}

fn proposal(w: &World, id: u64) -> Proposal {
    meridian_types::decode_exact(&w.state.get(&governance::proposal_key(id)).unwrap()).unwrap()
}

#[test]
fn an_organisation_joins_by_vote_and_its_members_can_then_register() {
    let mut w = World::new();
    let (admin1, bob, admin2) = (key(1), key(2), key(4));
    let ca3 = ca("org3", 104);
    let add = Action::AddOrg {
        org: "org3".into(),
        ca_der: ca3.certificate().to_der(),
    };
    // Only admins propose (policy) ...
    let t = w.tx(&bob, propose(add.clone(), Threshold::AnyN(1), 10));
    assert_eq!(w.block(T0 + 10, vec![t])[0], Err("auth.denied"));
    // ... and a membership change needs a majority even if the proposal asks for less.
    let t = w.tx(&admin1, propose(add.clone(), Threshold::AnyN(1), 10));
    assert_eq!(w.block(T0 + 20, vec![t])[0].as_ref().unwrap().0, "ok");
    assert_eq!(proposal(&w, 1).status, Status::Open);
    let erin = key(8);
    let erin_cert = issue(&ca3, &erin, "erin", Role::Admin, 40, 365);
    let reg = |w: &mut World| {
        let t = w.tx(
            &erin,
            IdentityCall::Register {
                cert: erin_cert.to_der(),
            }
            .into_call(),
        );
        w.block(T0 + 30, vec![t])[0].as_ref().unwrap().0.clone()
    };
    assert_eq!(
        reg(&mut w),
        "cert.unknown_ca",
        "org3's CA is not trusted yet"
    );
    let t = w.tx(&bob, vote(1, true));
    assert_eq!(
        w.block(T0 + 35, vec![t])[0],
        Err("auth.denied"),
        "non-admins cannot vote"
    );
    let t = w.tx(&admin2, vote(1, true));
    assert_eq!(w.block(T0 + 40, vec![t])[0].as_ref().unwrap().0, "ok");
    assert_eq!(proposal(&w, 1).status, Status::Executed);
    assert_eq!(reg(&mut w), "ok");
    // org3's admin now votes: three organisations, two thirds = 2.
    let p = Action::SetPolicy {
        call: "echo.*".into(),
        roles: vec!["admin".into()],
    };
    let t = w.tx(&erin, propose(p, Threshold::TwoThirds, 10));
    assert_eq!(w.block(T0 + 50, vec![t])[0].as_ref().unwrap().0, "ok");
    // Bob (client) may still write until the policy passes ...
    let t = w.tx(&bob, echo("before"));
    assert!(w.block(T0 + 60, vec![t])[0].is_ok());
    let t = w.tx(&admin1, vote(2, true));
    assert_eq!(w.block(T0 + 70, vec![t])[0].as_ref().unwrap().0, "ok");
    assert_eq!(proposal(&w, 2).status, Status::Executed);
    // ... and is refused from the next block on.
    let t = w.tx(&bob, echo("after"));
    assert_eq!(w.block(T0 + 80, vec![t])[0], Err("auth.denied"));
}

#[test]
fn deadlines_rejections_and_invariants() {
    let mut w = World::new();
    let (admin1, admin2) = (key(1), key(4));
    let revoke_bob = Action::RevokeCert {
        ca_id: *w.ca1.certificate().cert_id(Suite::Intl).as_bytes(),
        serial: Serial::from_u64(11).unwrap().as_bytes().to_vec(),
    };
    // A proposal past its deadline cannot be voted on, so it never executes.
    let t = w.tx(&admin1, propose(revoke_bob.clone(), Threshold::All, 1));
    assert_eq!(w.block(T0 + 10, vec![t])[0].as_ref().unwrap().0, "ok");
    w.block(T0 + 20, vec![]);
    let t = w.tx(&admin2, vote(1, true));
    assert_eq!(
        w.block(T0 + 30, vec![t])[0].as_ref().unwrap().0,
        "identity.proposal_expired"
    );
    assert_eq!(proposal(&w, 1).status, Status::Open);
    let bob_revoked = revoked_key(
        w.ca1.certificate().cert_id(Suite::Intl).as_bytes(),
        Serial::from_u64(11).unwrap().as_bytes(),
    );
    assert!(w.state.get(&bob_revoked).is_none());
    // A "no" that makes the threshold unreachable rejects it; later votes are refused.
    let t = w.tx(&admin1, propose(revoke_bob.clone(), Threshold::All, 10));
    w.block(T0 + 40, vec![t]);
    let t = w.tx(&admin2, vote(2, false));
    assert_eq!(w.block(T0 + 50, vec![t])[0].as_ref().unwrap().0, "ok");
    assert_eq!(proposal(&w, 2).status, Status::Rejected);
    let t = w.tx(&admin2, vote(2, true));
    assert_eq!(
        w.block(T0 + 60, vec![t])[0].as_ref().unwrap().0,
        "identity.proposal_closed"
    );
    // Changes that would break an invariant are refused when proposed.
    let cases = [
        (
            propose(revoke_bob.clone(), Threshold::AnyN(0), 10),
            "identity.invariant",
        ),
        (
            propose(
                Action::SetPolicy {
                    call: "identity.*".into(),
                    roles: vec!["client".into()],
                },
                Threshold::Majority,
                10,
            ),
            "identity.invariant",
        ),
        (
            propose(
                Action::SetPolicy {
                    call: "echo.*".into(),
                    roles: vec![],
                },
                Threshold::Majority,
                10,
            ),
            "identity.invariant",
        ),
        (
            propose(
                Action::RemoveOrg { org: "org9".into() },
                Threshold::Majority,
                10,
            ),
            "identity.no_org",
        ),
        (
            propose(
                Action::AddOrg {
                    org: "org1".into(),
                    ca_der: w.ca1.certificate().to_der(),
                },
                Threshold::Majority,
                10,
            ),
            "identity.org_exists",
        ),
        (vote(99, true), "identity.no_proposal"),
    ];
    for (call, code) in cases {
        let t = w.tx(&admin1, call);
        assert_eq!(w.block(T0 + 70, vec![t])[0].as_ref().unwrap().0, code);
    }
    // Removing an organisation by vote distrusts its CA: its members can no longer transact.
    let t = w.tx(
        &admin1,
        propose(
            Action::RemoveOrg { org: "org2".into() },
            Threshold::Majority,
            10,
        ),
    );
    w.block(T0 + 80, vec![t]);
    let t = w.tx(&admin2, vote(3, true));
    assert_eq!(w.block(T0 + 90, vec![t])[0].as_ref().unwrap().0, "ok");
    assert_eq!(proposal(&w, 3).status, Status::Executed);
    let t = w.tx(&admin2, echo("gone"));
    assert_eq!(w.block(T0 + 100, vec![t])[0], Err("cert.unknown_ca"));
    // The last organisation cannot leave.
    let t = w.tx(
        &admin1,
        propose(
            Action::RemoveOrg { org: "org1".into() },
            Threshold::Majority,
            10,
        ),
    );
    assert_eq!(
        w.block(T0 + 110, vec![t])[0].as_ref().unwrap().0,
        "identity.invariant"
    );
}

// Validators and chain parameters.

fn validators(w: &World) -> ValidatorSet {
    ValidatorSet::decode_exact(&w.state.get(VALIDATORS_KEY).unwrap()).unwrap()
}

fn stored_config(w: &World) -> Option<ChainConfig> {
    w.state
        .get(CHAIN_CONFIG_KEY)
        .map(|raw| ChainConfig::decode_exact(&raw).unwrap())
}

fn keys_of(set: &ValidatorSet) -> Vec<Vec<u8>> {
    set.0.iter().map(|v| v.public_key.clone()).collect()
}

fn add_validator(name: &str, k: &PrivateKey) -> Action {
    Action::AddValidator {
        name: name.into(),
        public_key: pk(k),
    }
}

fn remove_validator(k: &PrivateKey) -> Action {
    Action::RemoveValidator { public_key: pk(k) }
}

fn set_param(name: &str, value: u64) -> Action {
    Action::SetParam {
        name: name.into(),
        value,
    }
}

fn serial(n: u64) -> Vec<u8> {
    Serial::from_u64(n).unwrap().as_bytes().to_vec()
}

impl World {
    /// One transaction in its own block at `time`: its receipt code, or the code it was
    /// dropped with.
    fn send(&mut self, k: &PrivateKey, call: Call, time: u64) -> String {
        let t = self.tx(k, call);
        match self.block(time, vec![t]).remove(0) {
            Ok((code, _)) => code,
            Err(code) => code.to_string(),
        }
    }

    /// org1's admin proposes `action` (majority, 10 blocks): the receipt code and the id of
    /// the newest proposal (this one's if the code is `ok`).
    fn open(&mut self, action: Action, time: u64) -> (String, u64) {
        let code = self.send(&key(1), propose(action, Threshold::Majority, 10), time);
        let next = self
            .state
            .get(&governance::next_proposal_key())
            .map_or(1, |v| u64::from_be_bytes(v.try_into().unwrap()));
        (code, next - 1)
    }

    /// org2's admin approves proposal `id` (with org1's, a majority of two organisations).
    fn approve(&mut self, id: u64, time: u64) -> String {
        self.send(&key(4), vote(id, true), time)
    }

    /// Proposes `action` and has both organisations approve it; the proposal's id.
    fn pass(&mut self, action: Action, time: u64) -> u64 {
        let (code, id) = self.open(action, time);
        assert_eq!(code, "ok", "{:?}", self.messages);
        assert_eq!(self.approve(id, time + 1), "ok", "{:?}", self.messages);
        id
    }

    fn register(&mut self, k: &PrivateKey, cert: &Certificate, time: u64) -> String {
        let call = IdentityCall::Register {
            cert: cert.to_der(),
        }
        .into_call();
        self.send(k, call, time)
    }

    fn revoke(&mut self, admin: &PrivateKey, ca: &OrgCa, serial_no: u64, time: u64) -> String {
        let call = IdentityCall::Revoke {
            ca_id: *ca.certificate().cert_id(Suite::Intl).as_bytes(),
            serial: serial(serial_no),
        }
        .into_call();
        self.send(admin, call, time)
    }
}

#[test]
fn a_validator_joins_by_majority_vote_with_a_registered_consensus_certificate() {
    let mut w = World::with_validators(4);
    let node = key(40);
    let cert = issue(&w.ca1, &node, "node-e", Role::Consensus, 300, 365);
    assert_eq!(w.register(&node, &cert, T0 + 10), "ok");
    let add = add_validator("v4", &node);
    // Only admins propose and vote: not clients, not validators.
    for k in [key(2), vkey(0)] {
        let call = propose(add.clone(), Threshold::AnyN(1), 10);
        assert_eq!(w.send(&k, call, T0 + 20), "auth.denied");
    }
    // A validator-set change needs a majority even when the proposal asks for one approval.
    let call = propose(add.clone(), Threshold::AnyN(1), 10);
    assert_eq!(w.send(&key(1), call, T0 + 30), "ok");
    assert_eq!(proposal(&w, 1).status, Status::Open);
    assert_eq!(validators(&w).len(), 4);
    assert_eq!(w.send(&vkey(1), vote(1, true), T0 + 35), "auth.denied");
    assert_eq!(w.approve(1, T0 + 40), "ok");
    assert_eq!(proposal(&w, 1).status, Status::Executed);
    let set = validators(&w);
    assert_eq!(set.len(), 5);
    assert_eq!(
        set.0[4],
        ValidatorEntry {
            name: "v4".into(),
            public_key: pk(&node)
        }
    );
    assert_eq!(
        w.events,
        vec![
            IdentityEvent::Voted {
                id: 1,
                org: "org2".into(),
                approve: true
            },
            IdentityEvent::ValidatorAdded {
                name: "v4".into(),
                public_key: pk(&node)
            },
            IdentityEvent::ProposalExecuted { id: 1 },
        ]
    );
    // The store had no chain/config: the parameters the change was checked against are
    // written with it, so the fault tolerance stays put as the set grows.
    assert_eq!(stored_config(&w), Some(ChainConfig::defaults(4)));
    // The new validator's certificate is now protected like the others.
    let ca1 = w.ca1.clone();
    assert_eq!(w.revoke(&key(1), &ca1, 300, T0 + 50), "identity.invariant");
}

#[test]
fn validator_candidates_without_a_valid_consensus_certificate_are_refused() {
    let mut w = World::with_validators(4);
    let (expiring, revoked, fresh) = (key(41), key(42), key(44));
    let ca1 = w.ca1.clone();
    let c = issue(&ca1, &expiring, "expiring", Role::Consensus, 301, 1);
    assert_eq!(w.register(&expiring, &c, T0 + 10), "ok");
    let c = issue(&ca1, &revoked, "revoked", Role::Consensus, 302, 365);
    assert_eq!(w.register(&revoked, &c, T0 + 10), "ok");
    assert_eq!(w.revoke(&key(1), &ca1, 302, T0 + 20), "ok");
    let c = issue(&ca1, &fresh, "fresh", Role::Consensus, 303, 365);
    assert_eq!(w.register(&fresh, &c, T0 + 30), "ok");
    let day2 = T0 + 2 * 86_400;
    let cases = [
        (
            add_validator("bob", &key(2)),
            "identity.invariant",
            "role is client",
        ),
        (
            add_validator("stranger", &key(9)),
            "identity.invariant",
            "no member certificate",
        ),
        (add_validator("expiring", &expiring), "cert.expired", ""),
        (add_validator("revoked", &revoked), "cert.revoked", ""),
        (
            add_validator("again", &vkey(2)),
            "identity.invariant",
            "already a validator",
        ),
        (
            add_validator("v1", &fresh),
            "identity.invariant",
            "already named",
        ),
        (add_validator("", &fresh), "identity.bad_args", "name"),
    ];
    for (action, code, says) in cases {
        let (got, _) = w.open(action.clone(), day2);
        assert_eq!(got, code, "{action:?}: {:?}", w.messages);
        assert!(w.messages[0].contains(says), "{action:?}: {:?}", w.messages);
    }
    assert_eq!(validators(&w).len(), 4);
    // The same vote for a qualified key is accepted: the refusals were about the candidates.
    let id = w.pass(add_validator("fresh", &fresh), day2);
    assert_eq!(proposal(&w, id).status, Status::Executed);
    assert!(validators(&w).contains_key(&pk(&fresh)));
    // Defence in depth: a certificate whose organisation is not (any longer) a member does not
    // qualify even if its CA were still trusted (governance removes both together today).
    let outsider = key(45);
    let c = issue(
        &w.ca2.clone(),
        &outsider,
        "org2-node",
        Role::Consensus,
        304,
        365,
    );
    assert_eq!(w.register(&outsider, &c, day2), "ok");
    let only_org1 = OrgList {
        orgs: vec!["org1".into()],
    };
    w.state
        .0
        .insert(ORGS_KEY.as_bytes().to_vec(), only_org1.encode());
    assert_eq!(
        w.open(add_validator("outsider", &outsider), day2).0,
        "identity.no_org"
    );
}

#[test]
fn a_validator_leaves_only_while_3f_plus_1_remain_unless_fault_tolerance_is_lowered() {
    let mut w = World::with_validators(4);
    let org2 = w.ca2.clone();
    // v3 (org2) validates: its certificate cannot be revoked, its organisation cannot leave.
    assert_eq!(w.revoke(&key(4), &org2, 103, T0 + 5), "identity.invariant");
    let leave = Action::RemoveOrg { org: "org2".into() };
    assert_eq!(w.open(leave.clone(), T0 + 6).0, "identity.invariant");
    // Four validators tolerating one fault cannot lose one.
    assert_eq!(
        w.open(remove_validator(&vkey(3)), T0 + 10).0,
        "identity.invariant"
    );
    assert!(
        w.messages[0].contains("need at least 4"),
        "{:?}",
        w.messages
    );
    assert_eq!(
        w.open(remove_validator(&key(9)), T0 + 15).0,
        "identity.invariant",
        "not a validator"
    );
    // Lowering the fault tolerance is a parameter change: it needs a majority too.
    let call = propose(set_param("fault_tolerance", 0), Threshold::AnyN(1), 10);
    assert_eq!(w.send(&key(1), call, T0 + 20), "ok");
    assert_eq!(proposal(&w, 1).status, Status::Open);
    assert_eq!(stored_config(&w), None);
    assert_eq!(w.approve(1, T0 + 30), "ok");
    assert_eq!(proposal(&w, 1).status, Status::Executed);
    assert!(w.events.contains(&IdentityEvent::ParamSet {
        name: "fault_tolerance".into(),
        value: 0
    }));
    assert_eq!(
        stored_config(&w),
        Some(ChainConfig {
            fault_tolerance: 0,
            ..ChainConfig::defaults(4)
        })
    );
    // Now v3 may leave, and then its certificate may be revoked.
    let id = w.pass(remove_validator(&vkey(3)), T0 + 40);
    assert_eq!(proposal(&w, id).status, Status::Executed);
    assert!(w.events.contains(&IdentityEvent::ValidatorRemoved {
        public_key: pk(&vkey(3))
    }));
    assert_eq!(
        keys_of(&validators(&w)),
        vec![pk(&vkey(0)), pk(&vkey(1)), pk(&vkey(2))]
    );
    assert_eq!(w.revoke(&key(4), &org2, 103, T0 + 50), "ok");
    // org2 still runs v1.
    assert_eq!(w.open(leave, T0 + 60).0, "identity.invariant");
}

#[test]
fn a_validator_is_replaced_in_place_by_a_qualified_key() {
    let mut w = World::with_validators(4);
    let org2 = w.ca2.clone();
    let node = key(40);
    let c = issue(&org2, &node, "org2-node-b", Role::Consensus, 300, 365);
    assert_eq!(w.register(&node, &c, T0 + 10), "ok");
    let replace = |old: &PrivateKey, name: &str, new: &PrivateKey| Action::ReplaceValidator {
        old_key: pk(old),
        name: name.into(),
        new_key: pk(new),
    };
    let cases = [
        (replace(&key(9), "v1", &node), "not a current validator"),
        (replace(&vkey(1), "v1", &key(2)), "role is client"),
        (replace(&vkey(1), "v1", &vkey(2)), "already a validator"),
        (replace(&vkey(1), "v2", &node), "already named"),
    ];
    for (action, says) in cases {
        assert_eq!(w.open(action.clone(), T0 + 20).0, "identity.invariant");
        assert!(w.messages[0].contains(says), "{action:?}: {:?}", w.messages);
    }
    // Four stay four, so even a set at its 3f+1 floor can swap a node; the name may stay.
    let id = w.pass(replace(&vkey(1), "v1", &node), T0 + 30);
    assert_eq!(proposal(&w, id).status, Status::Executed);
    assert!(w.events.contains(&IdentityEvent::ValidatorReplaced {
        old_key: pk(&vkey(1)),
        new_key: pk(&node)
    }));
    let set = validators(&w);
    assert_eq!(
        keys_of(&set),
        vec![pk(&vkey(0)), pk(&node), pk(&vkey(2)), pk(&vkey(3))]
    );
    assert_eq!(set.0[1].name, "v1");
    // The retired node's certificate may be revoked; the new validator's may not.
    assert_eq!(w.revoke(&key(4), &org2, 101, T0 + 40), "ok");
    assert_eq!(w.revoke(&key(4), &org2, 300, T0 + 50), "identity.invariant");
}

#[test]
fn chain_parameters_change_by_vote_within_their_rules() {
    let mut w = World::with_validators(4);
    let cases = [
        (
            set_param("epoch_blocks", 512),
            "identity.invariant",
            "fixed at genesis",
        ),
        (
            set_param("nope", 1),
            "identity.bad_args",
            "unknown parameter",
        ),
        (
            set_param("max_block_txs", 0),
            "identity.invariant",
            "max_block_txs",
        ),
        (
            set_param("max_block_bytes", 1),
            "identity.invariant",
            "max_block_bytes",
        ),
        (
            set_param("fault_tolerance", 2),
            "identity.invariant",
            "need at least 7",
        ),
    ];
    for (action, code, says) in cases {
        assert_eq!(w.open(action.clone(), T0 + 10).0, code, "{action:?}");
        assert!(w.messages[0].contains(says), "{action:?}: {:?}", w.messages);
    }
    assert_eq!(stored_config(&w), None);
    let id = w.pass(set_param("max_block_txs", 500), T0 + 20);
    assert_eq!(proposal(&w, id).status, Status::Executed);
    assert!(w.events.contains(&IdentityEvent::ParamSet {
        name: "max_block_txs".into(),
        value: 500
    }));
    let expected = ChainConfig {
        max_block_txs: 500,
        ..ChainConfig::defaults(4)
    };
    assert_eq!(stored_config(&w), Some(expected));
    // A stored configuration (as genesis now writes) is the one checked and changed.
    let genesis = ChainConfig {
        fault_tolerance: 0,
        epoch_blocks: 16,
        ..ChainConfig::defaults(4)
    };
    w.state
        .0
        .insert(CHAIN_CONFIG_KEY.to_vec(), genesis.encode());
    w.pass(set_param("max_block_bytes", 1 << 20), T0 + 30);
    assert_eq!(
        stored_config(&w),
        Some(ChainConfig {
            max_block_bytes: 1 << 20,
            ..genesis
        })
    );
    assert_eq!(validators(&w).len(), 4, "parameters leave the set alone");
}

#[test]
fn validator_changes_are_rechecked_when_the_proposal_passes() {
    // Five validators tolerating one fault: either of two removals is fine alone.
    let mut w = World::with_validators(5);
    let (code, first) = w.open(remove_validator(&vkey(4)), T0 + 10);
    assert_eq!(code, "ok");
    let (code, second) = w.open(remove_validator(&vkey(3)), T0 + 20);
    assert_eq!(code, "ok");
    assert_eq!(w.approve(first, T0 + 30), "ok");
    assert_eq!(validators(&w).len(), 4);
    // The second would now leave three: it fails with the reason, the vote still lands.
    assert_eq!(w.approve(second, T0 + 40), "ok");
    let p = proposal(&w, second);
    assert_eq!(p.status, Status::Rejected);
    assert!(p.votes.contains(&("org2".into(), true)));
    assert_eq!(validators(&w).len(), 4);
    match &w.events[..] {
        [IdentityEvent::Voted { .. }, IdentityEvent::ProposalFailed { id, code, reason }] => {
            assert_eq!((*id, code.as_str()), (second, "identity.invariant"));
            assert!(reason.contains("need at least 4"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.approve(second, T0 + 50), "identity.proposal_closed");
    // A candidate whose certificate is revoked while the vote runs is not added.
    let node = key(40);
    let ca1 = w.ca1.clone();
    let c = issue(&ca1, &node, "node-e", Role::Consensus, 300, 365);
    assert_eq!(w.register(&node, &c, T0 + 60), "ok");
    let (code, third) = w.open(add_validator("v5", &node), T0 + 70);
    assert_eq!(code, "ok");
    assert_eq!(w.revoke(&key(1), &ca1, 300, T0 + 80), "ok");
    assert_eq!(w.approve(third, T0 + 90), "ok");
    assert_eq!(proposal(&w, third).status, Status::Rejected);
    assert!(matches!(
        &w.events[..],
        [_, IdentityEvent::ProposalFailed { code, .. }] if code == "cert.revoked"
    ));
    assert!(!validators(&w).contains_key(&pk(&node)));
}

#[test]
fn a_validator_rotates_its_certificate_and_only_the_old_one_becomes_revocable() {
    let mut w = World::with_validators(4);
    let (v0, ca1) = (vkey(0), w.ca1.clone());
    assert_eq!(w.revoke(&key(1), &ca1, 100, T0 + 10), "identity.invariant");
    // A validator keeps a consensus certificate: rotating to another role is refused.
    let demoted = issue(&ca1, &v0, "v0", Role::Member, 200, 365);
    assert_eq!(w.register(&v0, &demoted, T0 + 20), "identity.invariant");
    let renewed = issue(&ca1, &v0, "v0", Role::Consensus, 201, 730);
    assert_eq!(w.register(&v0, &renewed, T0 + 30), "ok");
    assert_eq!(
        w.events,
        vec![IdentityEvent::MemberRegistered {
            org: "org1".into(),
            role: "consensus".into(),
            name: "v0".into(),
            cert_id: *renewed.cert_id(Suite::Intl).as_bytes(),
            rotated: true,
        }]
    );
    assert_eq!(validators(&w).0[0].public_key, pk(&v0));
    // The protection moved to the new certificate.
    assert_eq!(w.revoke(&key(1), &ca1, 201, T0 + 40), "identity.invariant");
    assert_eq!(w.revoke(&key(1), &ca1, 100, T0 + 50), "ok");
    // With the old certificate revoked, v0 still qualifies on its new one: it can leave and
    // come back.
    w.pass(set_param("fault_tolerance", 0), T0 + 60);
    w.pass(remove_validator(&v0), T0 + 70);
    assert!(!validators(&w).contains_key(&pk(&v0)));
    let id = w.pass(add_validator("v0", &v0), T0 + 80);
    assert_eq!(proposal(&w, id).status, Status::Executed);
    assert!(validators(&w).contains_key(&pk(&v0)));
}

#[test]
fn validator_and_parameter_actions_have_frozen_wire_tags_and_bounded_decoding() {
    let vectors: [(Action, Vec<u8>); 4] = [
        (
            Action::AddValidator {
                name: "v9".into(),
                public_key: vec![0xaa, 0xbb],
            },
            vec![6, 0, 0, 0, 2, b'v', b'9', 0, 0, 0, 2, 0xaa, 0xbb],
        ),
        (
            Action::RemoveValidator {
                public_key: vec![1],
            },
            vec![7, 0, 0, 0, 1, 1],
        ),
        (
            Action::ReplaceValidator {
                old_key: vec![1],
                name: "n".into(),
                new_key: vec![2],
            },
            vec![8, 0, 0, 0, 1, 1, 0, 0, 0, 1, b'n', 0, 0, 0, 1, 2],
        ),
        (
            set_param("max_block_txs", 258),
            [
                &[9, 0, 0, 0, 13][..],
                b"max_block_txs",
                &[0, 0, 0, 0, 0, 0, 1, 2],
            ]
            .concat(),
        ),
    ];
    for (action, bytes) in vectors {
        assert_eq!(action.encode(), bytes, "{action:?}");
        assert_eq!(
            meridian_types::decode_exact::<Action>(&bytes).unwrap(),
            action
        );
        // Through the call: what the CLI and API send.
        let call = propose(action.clone(), Threshold::Majority, 7);
        assert_eq!(
            IdentityCall::decode(&call.method, &call.args).unwrap(),
            IdentityCall::Propose {
                action,
                threshold: Threshold::Majority,
                deadline_blocks: 7
            }
        );
    }
    // Round trips at every length up to the bounds, refusals just past them.
    let decodes = |a: &Action| meridian_types::decode_exact::<Action>(&a.encode());
    for n in 0..=66 {
        let name = "x".repeat(n);
        let key = vec![n as u8; n];
        for a in [
            Action::AddValidator {
                name: name.clone(),
                public_key: key.clone(),
            },
            Action::RemoveValidator {
                public_key: key.clone(),
            },
            Action::ReplaceValidator {
                old_key: key.clone(),
                name: name.clone(),
                new_key: key.clone(),
            },
            Action::SetParam {
                name: name.clone(),
                value: u64::MAX - n as u64,
            },
        ] {
            let limit = match &a {
                Action::AddValidator { .. } | Action::ReplaceValidator { .. } => 64,
                Action::SetParam { .. } => 32,
                _ => 65,
            };
            match decodes(&a) {
                Ok(back) => {
                    assert!(n <= limit, "{n} bytes accepted for {limit}");
                    assert_eq!(back, a);
                }
                Err(_) => assert!(n > limit, "{n} bytes refused for {limit}"),
            }
        }
    }
    assert!(meridian_types::decode_exact::<Action>(&[10]).is_err());
}

#[test]
fn every_event_kind_is_listed_and_round_trips() {
    let all = [
        IdentityEvent::MemberRegistered {
            org: "org1".into(),
            role: "consensus".into(),
            name: "v0".into(),
            cert_id: [1; 32],
            rotated: true,
        },
        IdentityEvent::CertRevoked {
            ca_id: [2; 32],
            serial: vec![3],
        },
        IdentityEvent::ProposalCreated {
            id: 1,
            org: "org1".into(),
            deadline_height: 9,
        },
        IdentityEvent::Voted {
            id: 1,
            org: "org2".into(),
            approve: false,
        },
        IdentityEvent::ProposalExecuted { id: 1 },
        IdentityEvent::ProposalRejected { id: 2 },
        IdentityEvent::ProposalFailed {
            id: 3,
            code: "identity.invariant".into(),
            reason: "3 validators cannot tolerate 1 faults".into(),
        },
        IdentityEvent::ValidatorAdded {
            name: "v4".into(),
            public_key: vec![4; 65],
        },
        IdentityEvent::ValidatorRemoved {
            public_key: vec![5; 32],
        },
        IdentityEvent::ValidatorReplaced {
            old_key: vec![6; 32],
            new_key: vec![7; 33],
        },
        IdentityEvent::ParamSet {
            name: "fault_tolerance".into(),
            value: 0,
        },
        IdentityEvent::ContractFrozen {
            name: "dcep".into(),
            frozen: true,
        },
        IdentityEvent::ContractUpgradeApproved {
            name: "dcep".into(),
            code_hash: [8; 32],
        },
        IdentityEvent::CallApproved {
            module: "interop".into(),
            method: "create_client".into(),
            args_hash: [9; 32],
        },
    ];
    let kinds: Vec<&str> = all.iter().map(IdentityEvent::kind).collect();
    assert_eq!(kinds, EVENT_KINDS);
    for ev in all {
        assert_eq!(decode_event(ev.kind(), &ev.encode()), Some(ev));
    }
    // A long failure reason is cut to the receipt-message bound (on a character boundary).
    let long = IdentityEvent::ProposalFailed {
        id: 4,
        code: "x".into(),
        reason: "é".repeat(200),
    };
    match decode_event("proposal_failed", &long.encode()) {
        Some(IdentityEvent::ProposalFailed { reason, .. }) => {
            assert_eq!(reason, "é".repeat(128))
        }
        other => panic!("{other:?}"),
    }
}

/// Certificates expire on their own: once a validator's consensus certificate has expired, any
/// member may retire it (effective at the next epoch boundary, like every set change) — but not
/// while the certificate is valid, and never below 3f+1.
#[test]
fn a_validator_whose_certificate_expired_is_retired_by_any_member() {
    let mut w = World::with_validators(5);
    let carol = key(6);
    let cert = issue(&w.ca1, &carol, "carol", Role::Member, 20, 3 * 365);
    let reg = IdentityCall::Register {
        cert: cert.to_der(),
    }
    .into_call();
    assert_eq!(w.send(&carol, reg, T0 + 5), "ok");
    let retire = |k: &PrivateKey| IdentityCall::RetireValidator { public_key: pk(k) }.into_call();
    assert_eq!(
        w.send(&carol, retire(&vkey(0)), T0 + 10),
        "identity.cert_still_valid"
    );
    assert_eq!(
        w.send(&carol, retire(&key(9)), T0 + 11),
        "identity.invariant",
        "not a validator"
    );
    assert_eq!(validators(&w).len(), 5);
    // A year and a day later every validator's one-year certificate has expired.
    let later = T0 + 366 * 86_400;
    assert_eq!(w.send(&carol, retire(&vkey(0)), later), "ok");
    assert!(w.events.contains(&IdentityEvent::ValidatorRemoved {
        public_key: pk(&vkey(0))
    }));
    assert_eq!(
        keys_of(&validators(&w)),
        vec![pk(&vkey(1)), pk(&vkey(2)), pk(&vkey(3)), pk(&vkey(4))]
    );
    // Four validators tolerating one fault cannot lose one, expired or not.
    assert_eq!(
        w.send(&carol, retire(&vkey(1)), later + 1),
        "identity.invariant"
    );
    assert_eq!(validators(&w).len(), 4);
    // The call decodes strictly.
    let mut call = retire(&vkey(1));
    call.args.push(0);
    assert!(IdentityCall::decode("retire_validator", &call.args).is_err());
}

/// Contracts are frozen, unfrozen and upgraded only by vote; the decisions land in the
/// identity module's own keys, which the contract module reads.
#[test]
fn contracts_are_frozen_and_upgrades_approved_by_vote() {
    let mut w = World::new();
    let freeze = |frozen| Action::FreezeContract {
        name: "dcep".into(),
        frozen,
    };
    assert_eq!(
        w.open(freeze(true), T0 + 1).0,
        "identity.no_contract",
        "only deployed contracts"
    );
    let bad = Action::FreezeContract {
        name: "Bad-Name".into(),
        frozen: true,
    };
    assert_eq!(w.open(bad, T0 + 2).0, "identity.bad_args");
    // What the contract module writes when `dcep` is deployed.
    w.state.0.insert(b"contract/meta/dcep".to_vec(), vec![0]);
    let id = w.pass(freeze(true), T0 + 10);
    assert_eq!(proposal(&w, id).status, Status::Executed);
    assert!(w.events.contains(&IdentityEvent::ContractFrozen {
        name: "dcep".into(),
        frozen: true
    }));
    assert!(w.state.get(&contract_frozen_key("dcep")).is_some());
    w.pass(freeze(false), T0 + 20);
    assert!(w.state.get(&contract_frozen_key("dcep")).is_none());
    let approve = Action::ApproveContractUpgrade {
        name: "dcep".into(),
        code_hash: [9; 32],
    };
    // A non-admin cannot propose it.
    assert_eq!(
        w.send(
            &key(2),
            propose(approve.clone(), Threshold::Majority, 10),
            T0 + 25
        ),
        "auth.denied"
    );
    w.pass(approve.clone(), T0 + 30);
    assert_eq!(
        w.state.get(&contract_upgrade_key("dcep")),
        Some(vec![9; 32])
    );
    // The wire tags are frozen.
    assert_eq!(freeze(true).encode()[0], 10);
    assert_eq!(approve.encode()[0], 11);
    assert_eq!(
        meridian_types::decode_exact::<Action>(&approve.encode()).unwrap(),
        approve
    );
}

/// A call another module gates on governance (e.g. `interop.create_client`) is approved by
/// vote over the exact arguments' hash; the approval lands in the identity module's key that
/// the gated module reads.
#[test]
fn module_calls_are_approved_by_vote_over_their_arguments_hash() {
    let mut w = World::new();
    let approve = |module: &str, method: &str| Action::ApproveCall {
        module: module.into(),
        method: method.into(),
        args_hash: [7; 32],
    };
    let key_of = approved_call_key("interop", "create_client", &[7; 32]);
    assert_eq!(
        key_of,
        format!(
            "identity/approved/interop/create_client/{}",
            "07".repeat(32)
        )
        .into_bytes()
    );
    // Open but not yet passed: nothing is approved.
    let (code, id) = w.open(approve("interop", "create_client"), T0 + 1);
    assert_eq!(code, "ok", "{:?}", w.messages);
    assert_eq!(proposal(&w, id).status, Status::Open);
    assert!(w.state.get(&key_of).is_none());
    assert_eq!(w.approve(id, T0 + 2), "ok", "{:?}", w.messages);
    assert_eq!(proposal(&w, id).status, Status::Executed);
    // The value names the approving proposal (a later proposal may approve the call again).
    assert_eq!(w.state.get(&key_of), Some(id.to_be_bytes().to_vec()));
    assert!(w.events.contains(&IdentityEvent::CallApproved {
        module: "interop".into(),
        method: "create_client".into(),
        args_hash: [7; 32],
    }));
    // Only that method with that hash.
    assert!(w
        .state
        .get(&approved_call_key("interop", "create_client", &[8; 32]))
        .is_none());
    assert!(w
        .state
        .get(&approved_call_key("interop", "conn_open_init", &[7; 32]))
        .is_none());
    // Identity calls are governed by proposals themselves.
    assert_eq!(
        w.open(approve("identity", "vote"), T0 + 10).0,
        "identity.bad_args"
    );
    // Names are lower-case words: no separators, upper case, spaces or empty names (which
    // could otherwise forge another module's or method's key path).
    for (module, method) in [
        ("Interop", "create_client"),
        ("interop", "Create_client"),
        ("interop", "create-client"),
        ("interop/x", "create_client"),
        ("interop", "create_client/ab"),
        ("interop", "create client"),
        ("", "create_client"),
        ("interop", ""),
        ("interop", "créer"),
    ] {
        assert_eq!(
            w.open(approve(module, method), T0 + 20).0,
            "identity.bad_args",
            "{module}.{method}"
        );
    }
    // A non-admin cannot propose an approval.
    assert_eq!(
        w.send(
            &key(2),
            propose(approve("interop", "create_client"), Threshold::Majority, 10),
            T0 + 30
        ),
        "auth.denied"
    );
    // The wire tag is frozen and the action round-trips.
    let a = approve("interop", "set_rate_limit");
    assert_eq!(a.encode()[0], 12);
    assert_eq!(
        meridian_types::decode_exact::<Action>(&a.encode()).unwrap(),
        a
    );
}
