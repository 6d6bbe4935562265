//! The contract routes over HTTP against a real ledger with the `contract` module:
//! `GET /v1/contracts/{name}` (record, governance flags, proofs) and
//! `POST /v1/contracts/{name}/query` (results, fuel), and a walk that provokes every code both
//! routes document — every [`CONTRACT_CODES`] entry among them — on the route that documents
//! it, with the status the table gives it. A probe contract written in WAT fails on demand; the
//! counter example (built from `contracts/examples/counter` with the SDK) answers real JSON.

use std::collections::{BTreeMap, BTreeSet};

use meridian_api::{status_of, CONTRACT_CODES, CONTRACT_OWN_ERROR, MAX_QUERY_FUEL};
use meridian_contract::{contract_address, meta_key, ContractCall, MAX_PART_LEN};
use meridian_crypto::{PrivateKey, Suite};
use meridian_identity_module::{Action, IdentityCall, Threshold};
use meridian_types::Hash32;
use serde_json::{json, Value};

use crate::endpoints::verify_state;
use crate::harness::{Node, Opts};
use crate::schema::check;

/// A contract whose `query` does what its message (a JSON string) starts with: `"echo…"` (and
/// anything that is not one of these strings) returns the message, `"binary"` returns two
/// bytes that are not JSON, `"loop"` never ends, `"unreachable"` traps, `"deep"` recurses
/// without end, `"xl"` returns 70,000 bytes, `"pointer"` passes a negative pointer, `"write"`
/// writes storage, `"failure"` fails without an error code, `"complain"` fails with its own
/// code `bad_msg`, `"status"` returns an entry status that is neither 0 nor 1.
const PROBE: &str = r#"
(module
  (import "meridian" "input_len" (func $input_len (result i32)))
  (import "meridian" "input_read" (func $input_read (param i32)))
  (import "meridian" "set_return" (func $set_return (param i32 i32)))
  (import "meridian" "set_error" (func $set_error (param i32 i32 i32 i32)))
  (import "meridian" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 100000) "bad_msg")
  (data (i32.const 100016) "not what I expected")
  (data (i32.const 100048) "\ff\00")
  (func $deep (param i32) (result i32)
    (call $deep (i32.add (local.get 0) (i32.const 1))))
  (func (export "instantiate") (result i32) (i32.const 0))
  (func (export "query") (result i32)
    (local $n i32) (local $op i32)
    (local.set $n (call $input_len))
    (call $input_read (i32.const 0))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 34))
      (then (local.set $op (i32.load8_u (i32.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 98)) ;; b
      (then (call $set_return (i32.const 100048) (i32.const 2)) (return (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 108)) ;; l
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $op) (i32.const 117)) ;; u
      (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 100)) ;; d
      (then (return (call $deep (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 120)) ;; x
      (then (call $set_return (i32.const 0) (i32.const 70000)) (return (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 112)) ;; p
      (then (call $set_return (i32.const -1) (i32.const 4)) (return (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 119)) ;; w
      (then (call $storage_set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
            (return (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 102)) ;; f
      (then (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 99)) ;; c
      (then (call $set_error (i32.const 100000) (i32.const 7) (i32.const 100016) (i32.const 19))
            (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 115)) ;; s
      (then (return (i32.const 7))))
    (call $set_return (i32.const 0) (local.get $n))
    (i32.const 0)))
"#;

/// Valid code without a `query` entry point.
const SILENT: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "execute") (result i32) (i32.const 0)))
"#;

/// Signs with `key` at successive nonces.
struct Signer<'a> {
    node: &'a Node,
    key: &'a PrivateKey,
    nonce: u64,
}

impl Signer<'_> {
    /// Commits `call` and returns the receipt, which must be `ok`.
    fn ok(&mut self, call: meridian_types::Call) -> Value {
        let v = self
            .node
            .commit(&self.node.sign(self.key, self.nonce, call));
        self.nonce += 1;
        assert_eq!(v["receipt"]["code"], "ok", "{v}");
        v["receipt"].clone()
    }

    /// Uploads `code` in parts; returns its hash.
    fn upload(&mut self, code: &[u8]) -> Hash32 {
        let code_hash = self.node.ledger.hash(code);
        for (i, part) in code.chunks(MAX_PART_LEN).enumerate() {
            self.ok(ContractCall::Upload {
                code_hash,
                total: code.len() as u32,
                offset: (i * MAX_PART_LEN) as u32,
                bytes: part.to_vec(),
            }
            .into_call());
        }
        code_hash
    }

    /// Uploads and deploys `code` as `name` with `init`; returns the deploy receipt.
    fn deploy(&mut self, name: &str, code: &[u8], init: &[u8]) -> Value {
        let code_hash = self.upload(code);
        self.ok(ContractCall::Deploy {
            name: name.into(),
            code_hash,
            msg: init.to_vec(),
            fuel: 100_000_000,
            allow_reentry: false,
        }
        .into_call())
    }
}

/// Codes seen per route, with the request that produced each.
#[derive(Default)]
struct Walk {
    seen: BTreeMap<&'static str, BTreeMap<String, String>>,
}

impl Walk {
    /// Checks a refusal: `code`, the status its table gives it, `{code, message}` only. A
    /// contract's own code is recorded as [`CONTRACT_OWN_ERROR`].
    fn expect(&mut self, route: &'static str, what: &str, (status, v): (u16, Value), code: &str) {
        assert_eq!(v["code"], code, "{what}: {v}");
        let documented = if code.starts_with("contract.") || code.starts_with("api.") {
            code.to_string()
        } else {
            CONTRACT_OWN_ERROR.to_string()
        };
        assert_eq!(status, status_of(&documented).as_u16(), "{what}: {v}");
        assert_ne!(status, 500, "{what}");
        assert!(
            !v["message"].as_str().unwrap_or("").is_empty(),
            "{what}: empty message"
        );
        assert_eq!(v.as_object().unwrap().len(), 2, "{what}: {{code, message}}");
        self.seen
            .entry(route)
            .or_default()
            .entry(documented)
            .or_insert(what.to_string());
    }
}

fn query(node: &Node, name: &str, body: &Value) -> (u16, Value) {
    node.post_json(&format!("/v1/contracts/{name}/query"), body)
}

const INFO: &str = "contract_info";
const QUERY: &str = "contract_query";

#[test]
fn contract_routes_and_every_code() {
    // Certificate mode: governance (two organisations) can freeze a contract.
    let node = Node::start(Opts {
        certs: true,
        ..Opts::default()
    });
    let (st, doc) = node.get("/openapi.json");
    assert_eq!(st, 200);
    let (admin0, admin1) = (&node.admins[0], &node.admins[1]);
    let mut a0 = Signer {
        node: &node,
        key: admin0,
        nonce: 0,
    };
    let mut a1 = Signer {
        node: &node,
        key: admin1,
        nonce: 0,
    };
    let mut w = Walk::default();

    let before = node.ledger.finalized_height();
    let probe = wat::parse_str(PROBE).unwrap();
    let receipt = a0.deploy("probe", &probe, b"{}");
    check(&doc, "Receipt", &receipt);
    let kinds: Vec<&str> = receipt["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["deployed"]);
    assert_eq!(receipt["events"][0]["decoded"], json!({"name": "probe"}));
    a0.deploy("silent", &wat::parse_str(SILENT).unwrap(), b"");

    // The record, proven; decoded fields are the proven value's.
    let (st, v) = node.get("/v1/contracts/probe");
    assert_eq!(st, 200, "{v}");
    check(&doc, "Contract", &v);
    verify_state(&node, &v);
    assert_eq!(v["key"], hex::encode(meta_key("probe")));
    let meta: meridian_contract::ContractMeta =
        meridian_types::decode_exact(&hex::decode(v["value"].as_str().unwrap()).unwrap()).unwrap();
    let c = &v["contract"];
    assert_eq!(c["name"], "probe");
    assert_eq!(c["code_hash"], hex::encode(node.ledger.hash(&probe)));
    assert_eq!(c["code_hash"], hex::encode(meta.code_hash));
    assert_eq!(c["creator"], node.address(admin0).to_string());
    assert_eq!(c["deployed_height"], meta.deployed_height);
    assert!(meta.deployed_height > before);
    assert_eq!(c["version"], 1);
    assert_eq!(c["allow_reentry"], false);
    assert_eq!(c["frozen"], false);
    assert_eq!(c["approved_upgrade"], Value::Null);
    assert_eq!(
        c["address"],
        contract_address(&node.ledger.hasher(), "probe").to_string()
    );
    // The flags' keys prove their absence at the same height.
    for k in ["frozen_key", "upgrade_key"] {
        let (_, s) = node.get(&format!(
            "/v1/state/{}?height={}",
            c[k].as_str().unwrap(),
            v["height"]
        ));
        assert_eq!(s["value"], Value::Null, "{k}");
        verify_state(&node, &s);
    }
    // Before the deployment there was none; the state route proves it.
    w.expect(
        INFO,
        "before deployment",
        node.get(&format!("/v1/contracts/probe?height={before}")),
        "contract.not_found",
    );
    let (_, absent) = node.get(&format!(
        "/v1/state/{}?height={before}",
        hex::encode(meta_key("probe"))
    ));
    assert_eq!(absent["value"], Value::Null);
    verify_state(&node, &absent);

    // Queries: the JSON text of msg in, the return bytes as JSON (or hex) out.
    let height = node.ledger.finalized_height();
    let msg = json!({"a": [1, 2, {"b": null}], "c": "ü"});
    let (st, v) = query(&node, "probe", &json!({ "msg": msg }));
    assert_eq!(st, 200, "{v}");
    check(&doc, "ContractQuery", &v);
    assert_eq!(v["result"], msg);
    assert_eq!(v["contract"], "probe");
    assert_eq!(v["height"], height);
    let gas = v["gas_used"].as_u64().unwrap();
    assert!(gas > 0);
    // the same query costs the same fuel; a null message is the text `null`
    let (_, again) = query(&node, "probe", &json!({ "msg": msg, "fuel": 1_000_000 }));
    assert_eq!(again["gas_used"], gas);
    let (_, null) = query(&node, "probe", &json!({ "msg": null }));
    assert_eq!(null["result"], Value::Null);
    check(&doc, "ContractQuery", &null);
    let (_, bin) = query(&node, "probe", &json!({"msg": "binary"}));
    assert_eq!(bin["result"], json!({"hex": "ff00"}));
    // the whole cap is allowed
    let (st, _) = query(&node, "probe", &json!({"msg": 1, "fuel": MAX_QUERY_FUEL}));
    assert_eq!(st, 200);

    // Every failure of a run, with the contract's stable code.
    let run = |m: &str| query(&node, "probe", &json!({ "msg": m, "fuel": 200_000 }));
    let (st, oof) = run("loop");
    assert!(
        oof["message"].as_str().unwrap().contains("gas_used 200000"),
        "{oof}"
    );
    w.expect(QUERY, "endless loop", (st, oof), "contract.out_of_fuel");
    w.expect(QUERY, "unreachable", run("unreachable"), "contract.trap");
    w.expect(QUERY, "entry status 7", run("status"), "contract.trap");
    w.expect(QUERY, "recursion", run("deep"), "contract.stack_overflow");
    w.expect(
        QUERY,
        "70,000 bytes",
        run("xl"),
        "contract.return_too_large",
    );
    w.expect(QUERY, "pointer -1", run("pointer"), "contract.bad_pointer");
    w.expect(QUERY, "storage_set", run("write"), "contract.read_only");
    w.expect(QUERY, "no error code", run("failure"), "contract.bad_error");
    let (st, own) = run("complain");
    assert!(
        own["message"]
            .as_str()
            .unwrap()
            .starts_with("not what I expected"),
        "{own}"
    );
    w.expect(QUERY, "own error", (st, own), "probe.bad_msg");
    w.expect(
        QUERY,
        "no query entry point",
        query(&node, "silent", &json!({"msg": {}})),
        "contract.bad_code",
    );
    w.expect(
        QUERY,
        "nobody",
        query(&node, "nobody", &json!({"msg": {}})),
        "contract.not_found",
    );

    // Caller mistakes.
    for (what, fuel) in [
        ("fuel 0", json!(0)),
        ("fuel above cap", json!(MAX_QUERY_FUEL + 1)),
    ] {
        w.expect(
            QUERY,
            what,
            query(&node, "probe", &json!({"msg": {}, "fuel": fuel})),
            "contract.bad_fuel",
        );
    }
    let long = "a".repeat(49);
    for (what, name) in [
        ("capital", "Probe"),
        ("dash", "pro-be"),
        ("reserved", "bank"),
        ("digit first", "1probe"),
        ("49 bytes", long.as_str()),
    ] {
        w.expect(
            INFO,
            what,
            node.get(&format!("/v1/contracts/{name}")),
            "contract.bad_name",
        );
        w.expect(
            QUERY,
            what,
            query(&node, name, &json!({"msg": {}})),
            "contract.bad_name",
        );
    }
    w.expect(
        INFO,
        "nobody",
        node.get("/v1/contracts/nobody"),
        "contract.not_found",
    );
    w.expect(
        INFO,
        "future height",
        node.get("/v1/contracts/probe?height=999999"),
        "api.not_found",
    );
    w.expect(
        INFO,
        "height=x",
        node.get("/v1/contracts/probe?height=x"),
        "api.bad_query",
    );
    w.expect(
        INFO,
        "invalid utf-8",
        node.get("/v1/contracts/%FF"),
        "api.bad_path",
    );
    w.expect(
        QUERY,
        "invalid utf-8",
        query(&node, "%FF", &json!({"msg": {}})),
        "api.bad_path",
    );
    let path = "/v1/contracts/probe/query";
    for (what, body) in [
        ("no msg", json!({"fuel": 5})),
        ("fuel typo", json!({"msg": 1, "fule": 5})),
        ("fuel negative", json!({"msg": 1, "fuel": -1})),
        ("fuel text", json!({"msg": 1, "fuel": "lots"})),
        ("array", json!([1])),
    ] {
        w.expect(QUERY, what, node.post_json(path, &body), "api.bad_body");
    }
    w.expect(
        QUERY,
        "truncated",
        node.post_raw(path, "application/json", b"{\"msg\":"),
        "api.bad_json",
    );
    w.expect(
        QUERY,
        "text/plain",
        node.post_raw(path, "text/plain", b"{\"msg\":1}"),
        "api.unsupported_media_type",
    );
    let huge = json!({"msg": "a".repeat(70 * 1024)}).to_string();
    w.expect(
        QUERY,
        "70 KiB body",
        node.post_raw(path, "application/json", huge.as_bytes()),
        "api.body_too_large",
    );

    // Governance approves an upgrade and freezes the contract: both flags show, proven, and a
    // frozen contract refuses queries.
    let new_code: Hash32 = node.ledger.hash(b"probe v2");
    let mut decide = |action: Action, proposal: u64| {
        let call = IdentityCall::Propose {
            action,
            threshold: Threshold::Majority,
            deadline_blocks: 1000,
        };
        a0.ok(call.into_call());
        a1.ok(IdentityCall::Vote {
            id: proposal,
            approve: true,
        }
        .into_call())
    };
    decide(
        Action::ApproveContractUpgrade {
            name: "probe".into(),
            code_hash: new_code,
        },
        1,
    );
    let voted = decide(
        Action::FreezeContract {
            name: "probe".into(),
            frozen: true,
        },
        2,
    );
    let frozen_event = voted["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "contract_frozen")
        .expect("contract_frozen event")
        .clone();
    assert_eq!(
        frozen_event["decoded"],
        json!({"name": "probe", "frozen": true})
    );
    let (st, v) = node.get("/v1/contracts/probe");
    assert_eq!(st, 200);
    check(&doc, "Contract", &v);
    let c = &v["contract"];
    assert_eq!(c["frozen"], true);
    assert_eq!(c["approved_upgrade"], hex::encode(new_code));
    for k in ["frozen_key", "upgrade_key"] {
        let (_, s) = node.get(&format!(
            "/v1/state/{}?height={}",
            c[k].as_str().unwrap(),
            v["height"]
        ));
        assert!(s["value"].is_string(), "{k} present");
        verify_state(&node, &s);
    }
    assert_eq!(
        hex::decode(
            node.get(&format!("/v1/state/{}", c["upgrade_key"].as_str().unwrap()))
                .1["value"]
                .as_str()
                .unwrap()
        )
        .unwrap(),
        new_code
    );
    w.expect(
        QUERY,
        "frozen",
        query(&node, "probe", &json!({"msg": {}})),
        "contract.frozen",
    );
    // The proposals' JSON validates with the new action kinds.
    let (_, p) = node.get("/v1/identity/proposals/2");
    check(&doc, "Proposal", &p);
    assert_eq!(
        p["proposal"]["action"],
        json!({"kind": "freeze_contract", "name": "probe", "frozen": true})
    );
    let (_, p) = node.get("/v1/identity/proposals/1");
    check(&doc, "Proposal", &p);
    assert_eq!(p["proposal"]["action"]["code_hash"], hex::encode(new_code));

    // Every code each contract route documents was provoked on that route, and every
    // contract code on some route.
    let mut all_seen = BTreeSet::new();
    for r in meridian_api::routes()
        .iter()
        .filter(|r| r.path.starts_with("/v1/contracts"))
    {
        let seen = w.seen.get(r.id).cloned().unwrap_or_default();
        let mut expected: Vec<&str> = r.errors.to_vec();
        if r.body.is_some() {
            expected.extend([
                "api.bad_json",
                "api.bad_body",
                "api.unsupported_media_type",
                "api.body_too_large",
            ]);
        }
        let missing: Vec<&&str> = expected
            .iter()
            .filter(|c| !seen.contains_key(**c))
            .collect();
        assert!(missing.is_empty(), "{}: never provoked: {missing:?}", r.id);
        all_seen.extend(seen.into_keys());
    }
    for c in CONTRACT_CODES {
        assert!(all_seen.contains(c.code), "{} never provoked", c.code);
    }
}

#[test]
fn counter_example_over_http() {
    let suite = Suite::Sm;
    let node = Node::start(Opts {
        suite,
        ..Opts::default()
    });
    let (_, doc) = node.get("/openapi.json");
    let alice = PrivateKey::from_seed(suite, &[1; 32]);
    let bob = PrivateKey::from_seed(suite, &[2; 32]);
    let code = meridian_wasm_build::example("contract-counter");
    assert!(code.len() > MAX_PART_LEN, "uploaded in several parts");
    let mut a = Signer {
        node: &node,
        key: &alice,
        nonce: 0,
    };
    a.deploy("counter", &code, br#"{"start": 5}"#);
    let mut b = Signer {
        node: &node,
        key: &bob,
        nonce: 0,
    };
    let receipt = b.ok(ContractCall::Call {
        name: "counter".into(),
        msg: br#"{"increment": {"by": 2}}"#.to_vec(),
        fuel: 50_000_000,
    }
    .into_call());
    check(&doc, "Receipt", &receipt);
    let gas = receipt["gas_used"].as_u64().unwrap();
    assert!(gas > 0 && gas < 50_000_000, "{receipt}");
    let ev = &receipt["events"][0];
    assert_eq!(ev["module"], "contract");
    assert_eq!(ev["kind"], "counter.incremented");
    let bob_addr = node.address(&bob).to_string();
    assert_eq!(
        ev["decoded"],
        json!({"by_caller": bob_addr, "from": 5, "to": 7})
    );
    // the event stream filters on contract event kinds
    let mut sse = node.events("?from_height=1&kind=counter.incremented&blocks=false", None);
    let m = sse.next_event();
    assert_eq!(m.data["kind"], "counter.incremented");
    assert_eq!(m.data["decoded"]["to"], 7);

    let (st, v) = query(&node, "counter", &json!({"msg": {"get": {}}}));
    assert_eq!(st, 200, "{v}");
    check(&doc, "ContractQuery", &v);
    assert_eq!(
        v["result"],
        json!({"count": 7, "creator": node.address(&alice).to_string()})
    );
    let (st, e) = query(&node, "counter", &json!({"msg": {"explode": {}}}));
    assert_eq!(
        (st, e["code"].as_str()),
        (422, Some("counter.bad_msg")),
        "{e}"
    );
    // too little fuel for the SDK's JSON decoding
    let (st, e) = query(&node, "counter", &json!({"msg": {"get": {}}, "fuel": 1000}));
    assert_eq!(
        (st, e["code"].as_str()),
        (422, Some("contract.out_of_fuel"))
    );

    let (st, info) = node.get("/v1/contracts/counter");
    assert_eq!(st, 200);
    assert_eq!(
        info["contract"]["code_hash"],
        hex::encode(node.ledger.hash(&code))
    );
    verify_state(&node, &info);
}

/// `ApiOptions::max_query_fuel` (the node's `[api] max_query_fuel`) caps every query and is the
/// fuel of one that names none.
#[test]
fn the_node_query_fuel_cap_bounds_queries() {
    const CAP: u64 = 100_000;
    let node = Node::start(Opts {
        api: meridian_api::ApiOptions {
            max_query_fuel: CAP,
            ..meridian_api::ApiOptions::default()
        },
        ..Opts::default()
    });
    let key = PrivateKey::from_seed(Suite::Intl, &[3; 32]);
    let mut s = Signer {
        node: &node,
        key: &key,
        nonce: 0,
    };
    s.deploy("probe", &wat::parse_str(PROBE).unwrap(), b"{}");
    let mut w = Walk::default();

    // Within the cap: answered.
    let (st, v) = query(&node, "probe", &json!({"msg": "echo"}));
    assert_eq!(st, 200, "{v}");
    assert!(v["gas_used"].as_u64().unwrap() <= CAP);
    let (st, _) = query(&node, "probe", &json!({"msg": "echo", "fuel": CAP}));
    assert_eq!(st, 200);
    // A query naming no fuel runs with the cap, and stops there.
    let (st, oof) = query(&node, "probe", &json!({"msg": "loop"}));
    assert!(
        oof["message"]
            .as_str()
            .unwrap()
            .contains(&format!("gas_used {CAP}")),
        "{oof}"
    );
    w.expect(
        QUERY,
        "loop under the cap",
        (st, oof),
        "contract.out_of_fuel",
    );
    // Asking for more than this node's cap (though far below the built-in default) is refused
    // before anything runs, naming the cap.
    let (st, e) = query(&node, "probe", &json!({"msg": "echo", "fuel": CAP + 1}));
    assert!(
        e["message"].as_str().unwrap().contains(&CAP.to_string()),
        "{e}"
    );
    w.expect(
        QUERY,
        "fuel above this node's cap",
        (st, e),
        "contract.bad_fuel",
    );
}
