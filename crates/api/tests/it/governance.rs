//! Governance proposals over HTTP on a certificate-mode chain: `GET
//! /v1/identity/proposals/{id}` and the listing, their proofs, their past-height answers, the
//! decoded governance events of receipts, and their refusals.

use meridian_identity_module::{Action, IdentityCall, Threshold};
use meridian_storage::verify_state_proof;
use meridian_types::{decode_exact, Header};
use serde_json::{json, Value};

use crate::endpoints::verify_state;
use crate::harness::{org_ca, Node, Opts};
use crate::schema::check;

fn propose(node: &Node, admin: usize, nonce: u64, action: Action, t: Threshold) -> Value {
    let call = IdentityCall::Propose {
        action,
        threshold: t,
        deadline_blocks: 1000,
    };
    let v = node.commit(&node.sign(&node.admins[admin], nonce, call.into_call()));
    assert_eq!(v["receipt"]["code"], "ok", "{v}");
    v
}

fn vote(node: &Node, admin: usize, nonce: u64, id: u64, approve: bool) -> Value {
    let call = IdentityCall::Vote { id, approve };
    let v = node.commit(&node.sign(&node.admins[admin], nonce, call.into_call()));
    assert_eq!(v["receipt"]["code"], "ok", "{v}");
    v
}

/// Checks the answer's proof also against the proposal's canonical encoding.
fn proven_proposal(node: &Node, v: &Value) -> meridian_identity_module::Proposal {
    verify_state(node, v);
    let raw = hex::decode(v["value"].as_str().unwrap()).unwrap();
    let p: meridian_identity_module::Proposal = decode_exact(&raw).unwrap();
    assert_eq!(
        meridian_api::ProposalInfo::from(&p),
        serde_json::from_value(v["proposal"].clone()).unwrap(),
        "the JSON is the proven record"
    );
    p
}

#[test]
fn proposals_with_proofs() {
    let node = Node::start(Opts {
        certs: true,
        ..Opts::default()
    });
    let (st, doc) = node.get("/openapi.json");
    assert_eq!(st, 200);

    // No proposal yet: 404 with the stable code; the listing is empty with next_id 1 proven
    // absent.
    let (st, e) = node.get("/v1/identity/proposals/1");
    assert_eq!(
        (st, e["code"].as_str()),
        (404, Some("identity.no_proposal"))
    );
    let (st, page) = node.get("/v1/identity/proposals");
    assert_eq!(st, 200, "{page}");
    check(&doc, "Proposals", &page);
    assert_eq!(page["next_id"], 1);
    assert_eq!(page["proposals"], json!([]));
    assert_eq!(page["value"], Value::Null);
    verify_state(&node, &page);

    // org0 proposes a policy change that needs both organisations; its receipt's events are
    // decoded.
    let opened = propose(
        &node,
        0,
        0,
        Action::SetPolicy {
            call: "notary.register".into(),
            roles: vec!["admin".into(), "member".into()],
        },
        Threshold::All,
    );
    let events = &opened["receipt"]["events"];
    assert_eq!(events[0]["kind"], "proposal_created", "{events}");
    assert_eq!(events[0]["decoded"]["id"], 1);
    assert_eq!(events[0]["decoded"]["org"], "org0");
    assert_eq!(events[1]["kind"], "voted");
    assert_eq!(
        events[1]["decoded"],
        json!({"id": 1, "org": "org0", "approve": true})
    );
    let opened_at = opened["receipt"]["height"].as_u64().unwrap();

    let (st, v) = node.get("/v1/identity/proposals/1");
    assert_eq!(st, 200, "{v}");
    check(&doc, "Proposal", &v);
    let p = proven_proposal(&node, &v);
    assert_eq!(p.id, 1);
    let info = &v["proposal"];
    assert_eq!(info["id"], 1);
    assert_eq!(info["proposer_org"], "org0");
    assert_eq!(info["threshold"], "all");
    assert_eq!(info["status"], "open");
    assert_eq!(info["deadline_height"], opened_at + 1000);
    assert_eq!(info["votes"], json!([{"org": "org0", "approve": true}]));
    assert_eq!(
        info["action"],
        json!({"kind": "set_policy", "call": "notary.register", "roles": ["admin", "member"]})
    );

    // org1 approves: executed in that block.
    let voted = vote(&node, 1, 0, 1, true);
    let kinds: Vec<&str> = voted["receipt"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["voted", "proposal_executed"]);
    assert_eq!(voted["receipt"]["events"][1]["decoded"], json!({"id": 1}));
    let v = node.get("/v1/identity/proposals/1").1;
    check(&doc, "Proposal", &v);
    proven_proposal(&node, &v);
    assert_eq!(v["proposal"]["status"], "executed");
    assert_eq!(
        v["proposal"]["votes"][1],
        json!({"org": "org1", "approve": true})
    );
    // At the proposal's height it was still open.
    let past = node
        .get(&format!("/v1/identity/proposals/1?height={opened_at}"))
        .1;
    check(&doc, "Proposal", &past);
    proven_proposal(&node, &past);
    assert_eq!(past["height"], opened_at);
    assert_eq!(past["proposal"]["status"], "open");
    // Before it, there was none.
    let (st, e) = node.get(&format!(
        "/v1/identity/proposals/1?height={}",
        opened_at - 1
    ));
    assert_eq!(
        (st, e["code"].as_str()),
        (404, Some("identity.no_proposal"))
    );

    // A membership change: the CA's DER in hex; a membership change needs a majority (2 of
    // 2) whatever the threshold, so any:1 stays open.
    let ca2 = org_ca(node.ledger.suite(), "org2", 230);
    let der = ca2.certificate().to_der();
    propose(
        &node,
        1,
        1,
        Action::AddOrg {
            org: "org2".into(),
            ca_der: der.clone(),
        },
        Threshold::AnyN(1),
    );
    let v = node.get("/v1/identity/proposals/2").1;
    check(&doc, "Proposal", &v);
    proven_proposal(&node, &v);
    assert_eq!(
        v["proposal"]["action"],
        json!({"kind": "add_org", "org": "org2", "ca_der": hex::encode(&der)})
    );
    assert_eq!(v["proposal"]["threshold"], "any:1");
    assert_eq!(v["proposal"]["status"], "open");
    assert_eq!(v["proposal"]["proposer_org"], "org1");

    // org0 rejects it: 1 yes and 1 no of 2, the majority is out of reach.
    let voted = vote(&node, 0, 1, 2, false);
    assert_eq!(voted["receipt"]["events"][1]["kind"], "proposal_rejected");
    let v = node.get("/v1/identity/proposals/2").1;
    assert_eq!(v["proposal"]["status"], "rejected");

    // The listing: both, one height, each proven; paging.
    let page = node.get("/v1/identity/proposals").1;
    check(&doc, "Proposals", &page);
    assert_eq!(page["next_id"], 3);
    verify_state(&node, &page);
    let items = page["proposals"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["proposal"]["id"], i as u64 + 1);
        assert_eq!(item["height"], page["height"]);
        proven_proposal(&node, item);
    }
    let one = node.get("/v1/identity/proposals?from=2&limit=1").1;
    check(&doc, "Proposals", &one);
    assert_eq!(one["proposals"].as_array().unwrap().len(), 1);
    assert_eq!(one["proposals"][0]["proposal"]["id"], 2);
    let none = node.get("/v1/identity/proposals?from=9").1;
    assert_eq!(none["proposals"], json!([]));
    let before = node
        .get(&format!("/v1/identity/proposals?height={opened_at}"))
        .1;
    assert_eq!(before["next_id"], 2);
    assert_eq!(before["proposals"].as_array().unwrap().len(), 1);

    // A forged value does not verify against the header.
    let header: Header =
        decode_exact(&hex::decode(v["header"].as_str().unwrap()).unwrap()).unwrap();
    let mut forged = hex::decode(v["value"].as_str().unwrap()).unwrap();
    let last = forged.len() - 1;
    forged[last] = 0; // status: open
    assert!(verify_state_proof(
        node.ledger.hasher().state_hash_kind(),
        header.state_root,
        &hex::decode(v["key"].as_str().unwrap()).unwrap(),
        Some(&forged),
        &hex::decode(v["proof"].as_str().unwrap()).unwrap(),
    )
    .is_err());

    // Refusals.
    for (path, status, code) in [
        ("/v1/identity/proposals/3", 404, "identity.no_proposal"),
        ("/v1/identity/proposals/abc", 400, "api.bad_path"),
        ("/v1/identity/proposals/-1", 400, "api.bad_path"),
        (
            "/v1/identity/proposals/1?height=999999",
            404,
            "api.not_found",
        ),
        ("/v1/identity/proposals/1?height=x", 400, "api.bad_query"),
        ("/v1/identity/proposals?limit=0", 400, "api.bad_query"),
        ("/v1/identity/proposals?limit=101", 400, "api.bad_query"),
        ("/v1/identity/proposals?from=x", 400, "api.bad_query"),
        ("/v1/identity/proposals?height=999999", 404, "api.not_found"),
    ] {
        let (st, e) = node.get(path);
        assert_eq!(
            (st, e["code"].as_str()),
            (status, Some(code)),
            "{path}: {e}"
        );
        assert_eq!(e.as_object().unwrap().len(), 2, "{path}: {e}");
    }
}
