//! Certificate mode end to end through the executor: membership, roles and policies,
//! registration and rotation, revocation, expiry, unknown CAs.

use std::collections::BTreeMap;
use std::sync::Arc;

use meridian_crypto::{PrivateKey, Suite};
use meridian_execution::{
    AdmissionError, BlockEnv, ExecMode, Executor, Module, ModuleError, StateRead, TxAuthenticator,
    TxContext,
};
use meridian_identity::{CaParams, Certificate, IssueRequest, OrgCa, Role, Serial};
use meridian_types::{Address, Call, ChainId, Hash32, HashFn, SignedTx, SignerId, TxBody};

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

impl World {
    /// org1 (admin 1, client 2, short-lived client 5) and org2 (regulator 3, admin 4).
    fn new() -> World {
        let (ca1, ca2) = (ca("org1", 100), ca("org2", 101));
        let members = [
            issue(&ca1, &key(1), "alice-admin", Role::Admin, 10, 365),
            issue(&ca1, &key(2), "bob-client", Role::Client, 11, 365),
            issue(&ca2, &key(3), "reg", Role::Regulator, 12, 365),
            issue(&ca2, &key(4), "org2-admin", Role::Admin, 13, 365),
            issue(&ca1, &key(5), "brief", Role::Client, 14, 1),
        ];
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
        World {
            state: Mem(writes.into_iter().collect()),
            exec,
            ca1,
            ca2,
            nonces: BTreeMap::new(),
            pending: BTreeMap::new(),
            height: 0,
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
