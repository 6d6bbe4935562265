//! Every endpoint against a real ledger: values, proofs verified client-side, and every JSON
//! response checked against the served OpenAPI schema.

use std::sync::Arc;

use meridian_api::{PeerInfo, RuntimeMetrics};
use meridian_bank::{balance_key, BankCall};
use meridian_crypto::{PrivateKey, Suite};
use meridian_notary::Register;
use meridian_storage::verify_state_proof;
use meridian_types::{decode_exact, verify_merkle_proof, Encode, Hash32, Header, MerkleProof};
use serde_json::{json, Value};

use crate::harness::{Node, Opts, CERT};
use crate::schema::check;

/// Checks a state answer: the header decodes to the advertised root and the proof proves
/// `value` (or absence) for `key` against it.
pub fn verify_state(node: &Node, v: &Value) {
    let header: Header =
        decode_exact(&hex::decode(v["header"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(hex::encode(header.state_root), v["state_root"]);
    assert_eq!(header.height, v["height"].as_u64().unwrap());
    let key = hex::decode(v["key"].as_str().unwrap()).unwrap();
    let value = v["value"].as_str().map(|s| hex::decode(s).unwrap());
    verify_state_proof(
        node.ledger.hasher().state_hash_kind(),
        header.state_root,
        &key,
        value.as_deref(),
        &hex::decode(v["proof"].as_str().unwrap()).unwrap(),
    )
    .expect("state proof verifies");
    // the header is the finalized one at that height
    let stored = node.ledger.block(header.height).unwrap().unwrap();
    assert_eq!(stored.header, header);
}

fn peers() -> (Vec<PeerInfo>, RuntimeMetrics) {
    let peer = |name: &str, key: &str, is_self| PeerInfo {
        name: name.into(),
        public_key: key.into(),
        address: "127.0.0.1:30300".into(),
        is_self,
    };
    let peers = vec![
        peer("org0", "02aa", true),
        peer("org1", "02bb", false),
        peer("org2", "02cc", false),
    ];
    let text: RuntimeMetrics = Arc::new(|| {
        "node_net_tracker_directory_connected{peer=\"02bb\"} 1700000000000\n".to_string()
    });
    (peers, text)
}

fn walkthrough(suite: Suite) {
    let (peers, runtime) = peers();
    let node = Node::start(Opts {
        suite,
        peers,
        runtime_metrics: Some(runtime),
        ..Opts::default()
    });
    let (st, doc) = node.get("/openapi.json");
    assert_eq!(st, 200);
    let alice = PrivateKey::from_seed(suite, &[1; 32]);
    let bob = PrivateKey::from_seed(suite, &[2; 32]);
    let (alice_addr, bob_addr) = (node.address(&alice), node.address(&bob));

    // Writes: async submit (then wait), and commit-mode submits.
    let create = node.sign(
        &alice,
        0,
        BankCall::CreateAsset {
            symbol: "CNY".into(),
            decimals: 2,
            max_supply: 1_000_000,
        }
        .into_call(),
    );
    let (st, v) = node.post_json("/v1/txs", &json!({"tx": hex::encode(create.encode())}));
    assert_eq!(st, 200, "{v}");
    check(&doc, "Submit", &v);
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["hash"], hex::encode(create.hash(&node.ledger.hasher())));
    let mint = node.sign(
        &alice,
        1,
        BankCall::Mint {
            symbol: "CNY".into(),
            to: alice_addr,
            amount: 500,
        }
        .into_call(),
    );
    let v = node.commit(&mint);
    check(&doc, "Submit", &v);
    let before_transfer = node.ledger.finalized_height();
    let transfer = node.sign(
        &alice,
        2,
        BankCall::Transfer {
            symbol: "CNY".into(),
            to: bob_addr,
            amount: 120,
        }
        .into_call(),
    );
    let v = node.commit(&transfer);
    assert_eq!(v["receipt"]["code"], "ok");
    let ev = &v["receipt"]["events"][0];
    assert_eq!(ev["kind"], "transferred");
    assert_eq!(ev["decoded"]["amount"], "120");
    assert_eq!(ev["decoded"]["to"], bob_addr.to_string());
    let doc_hash: Hash32 = node.ledger.hash(b"contract-7.pdf");
    let notarize = node.sign(
        &bob,
        0,
        Register {
            doc_hash,
            metadata: b"contract-7.pdf".to_vec(),
        }
        .into_call(),
    );
    node.commit(&notarize);

    // Status
    let (st, status) = node.get("/v1/status");
    assert_eq!(st, 200);
    check(&doc, "Status", &status);
    assert_eq!(status["suite"], suite.to_string());
    assert_eq!(status["height"], node.ledger.finalized_height());
    assert_eq!(status["validators"], 1);
    assert_eq!(status["epoch_blocks"], 256);

    // Transaction with its inclusion proof, verified against the header.
    let th = hex::encode(transfer.hash(&node.ledger.hasher()));
    let (st, tx) = node.get(&format!("/v1/txs/{th}"));
    assert_eq!(st, 200, "{tx}");
    check(&doc, "Tx", &tx);
    assert_eq!(tx["tx"], hex::encode(transfer.encode()));
    let inc = &tx["inclusion"];
    let header: Header =
        decode_exact(&hex::decode(inc["header"].as_str().unwrap()).unwrap()).unwrap();
    let h = node.ledger.hasher();
    assert_eq!(hex::encode(header.hash(&h)), inc["block_hash"]);
    assert_eq!(hex::encode(header.tx_root), inc["tx_root"]);
    let leaf = node.ledger.hash(&transfer.encode());
    assert_eq!(hex::encode(leaf), inc["leaf"]);
    let proof: MerkleProof =
        decode_exact(&hex::decode(inc["proof"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(
        proof.siblings.len(),
        inc["siblings"].as_array().unwrap().len()
    );
    assert!(verify_merkle_proof(&h, &header.tx_root, &leaf, &proof));
    let mut wrong = leaf;
    wrong[0] ^= 1;
    assert!(!verify_merkle_proof(&h, &header.tx_root, &wrong, &proof));
    assert_eq!(inc["certificate"], hex::encode(CERT));
    // same via the 0x-prefixed hash
    assert_eq!(node.get(&format!("/v1/txs/0x{th}")).1["hash"], th);

    // Blocks by height, by hash, latest; the latest header.
    let height = tx["height"].as_u64().unwrap();
    let (st, b) = node.get(&format!("/v1/blocks/{height}"));
    assert_eq!(st, 200);
    check(&doc, "Block", &b);
    assert!(b["tx_hashes"].as_array().unwrap().contains(&json!(th)));
    assert_eq!(b["certificate"], hex::encode(CERT));
    let (st, by_hash) = node.get(&format!(
        "/v1/blocks/by-hash/{}",
        b["hash"].as_str().unwrap()
    ));
    assert_eq!(st, 200);
    assert_eq!(by_hash, b);
    let (_, latest) = node.get("/v1/blocks/latest");
    check(&doc, "Block", &latest);
    let (st, hdr) = node.get("/v1/headers/latest");
    assert_eq!(st, 200);
    check(&doc, "Header", &hdr);
    assert_eq!(hdr["hash"], latest["hash"]);
    assert_eq!(
        hdr["tx_count"],
        latest["tx_hashes"].as_array().unwrap().len()
    );
    let (_, genesis) = node.get("/v1/blocks/0");
    check(&doc, "Block", &genesis);
    assert_eq!(genesis["certificate"], "");

    // Raw state and the bank/notary conveniences, each with a verifying proof.
    let key = balance_key("CNY", &bob_addr);
    let (st, raw) = node.get(&format!("/v1/state/{}", hex::encode(&key)));
    assert_eq!(st, 200);
    check(&doc, "State", &raw);
    verify_state(&node, &raw);
    let (st, bal) = node.get(&format!("/v1/bank/balance/CNY/{bob_addr}"));
    assert_eq!(st, 200, "{bal}");
    check(&doc, "Balance", &bal);
    assert_eq!(bal["balance"], "120");
    assert_eq!(bal["value"], raw["value"]);
    verify_state(&node, &bal);
    let (_, old) = node.get(&format!(
        "/v1/bank/balance/CNY/{}?height={before_transfer}",
        hex::encode(bob_addr.0)
    ));
    assert_eq!(old["balance"], "0");
    assert_eq!(old["value"], Value::Null);
    verify_state(&node, &old);
    let (_, asset) = node.get("/v1/bank/assets/CNY");
    check(&doc, "Asset", &asset);
    assert_eq!(asset["asset"]["supply"], "500");
    assert_eq!(asset["asset"]["max_supply"], "1000000");
    assert_eq!(asset["asset"]["issuer"], alice_addr.to_string());
    verify_state(&node, &asset);
    let (st, none) = node.get("/v1/bank/assets/USD");
    assert_eq!(st, 200);
    check(&doc, "Asset", &none);
    assert_eq!(none["asset"], Value::Null);
    verify_state(&node, &none);
    let (_, rec) = node.get(&format!("/v1/notary/{}", hex::encode(doc_hash)));
    check(&doc, "Notary", &rec);
    assert_eq!(rec["record"]["owner"], bob_addr.to_string());
    assert_eq!(rec["record"]["metadata_text"], "contract-7.pdf");
    assert_eq!(
        rec["record"]["tx_hash"],
        hex::encode(notarize.hash(&node.ledger.hasher()))
    );
    verify_state(&node, &rec);
    let (_, absent) = node.get(&format!("/v1/notary/{}", hex::encode([7u8; 32])));
    check(&doc, "Notary", &absent);
    assert_eq!(absent["record"], Value::Null);
    verify_state(&node, &absent);

    // Validators (proven) and peers (configured + connected from runtime metrics).
    let (st, vals) = node.get("/v1/validators");
    assert_eq!(st, 200);
    check(&doc, "Validators", &vals);
    let v0 = &vals["validators"][0];
    assert_eq!(v0["name"], "org0");
    assert_eq!(
        v0["public_key"],
        hex::encode(node.validator.public_key().as_bytes())
    );
    assert_eq!(v0["address"], node.address(&node.validator).to_string());
    verify_state(&node, &vals);
    let (st, peers) = node.get("/v1/peers");
    assert_eq!(st, 200);
    check(&doc, "Peers", &peers);
    assert_eq!(peers["configured"], 2);
    assert_eq!(peers["connected"], 1);
    assert_eq!(peers["peers"][0]["connected"], Value::Null);
    assert_eq!(peers["peers"][1]["connected"], true);
    assert_eq!(peers["peers"][2]["connected"], false);

    // Metrics.
    let (st, ct, text) = node.get_text("/metrics");
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let sample = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
    };
    let h = node.ledger.finalized_height() as f64;
    assert_eq!(sample("meridian_finalized_height"), h);
    assert_eq!(sample("meridian_finalization_latency_seconds_count"), h);
    assert_eq!(sample("meridian_block_txs_count"), h);
    assert_eq!(sample("meridian_txs_finalized_total"), 4.0);
    assert_eq!(sample("meridian_txs_admitted_total"), 4.0);
    assert_eq!(sample("meridian_mempool_txs"), 0.0);
    assert_eq!(sample("meridian_peers_configured"), 2.0);
    assert_eq!(sample("meridian_peers_connected"), 1.0);
    assert_eq!(
        sample("meridian_txs_rejected_total{code=\"tx.bad_signature\"}"),
        0.0
    );
    assert!(sample("meridian_storage_bytes") > 0.0);
    assert!(sample("meridian_block_bytes_sum") > 0.0);
    assert!(sample("meridian_api_responses_total{class=\"2xx\"}") > 10.0);
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(rest.starts_with("HELP meridian_") || rest.starts_with("TYPE meridian_"));
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(name.starts_with("meridian_"), "{line}");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

#[test]
fn every_endpoint_sm() {
    walkthrough(Suite::Sm);
}

#[test]
fn every_endpoint_intl() {
    walkthrough(Suite::Intl);
}

#[test]
fn openapi_lists_every_served_route() {
    let node = Node::start(Opts::default());
    let (st, doc) = node.get("/openapi.json");
    assert_eq!(st, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    let routes = meridian_api::routes();
    assert!(routes.len() >= 18);
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, routes.len(), "one operation per route");
    for r in &routes {
        let m = r.method.as_str().to_ascii_lowercase();
        assert!(
            doc["paths"][r.path][&m].is_object(),
            "{} {} undocumented",
            r.method.as_str(),
            r.path
        );
        // The router serves the documented path: fill parameters and make sure the answer is
        // not "no route" / "wrong method".
        let concrete = r
            .path
            .replace("{hash}", &"00".repeat(32))
            .replace("{doc_hash}", &"00".repeat(32))
            .replace("{height}", "0")
            .replace("{key}", "00")
            .replace("{symbol}", "CNY")
            .replace("{address}", &"00".repeat(20))
            .replace("{call}", "bank.transfer")
            .replace("{id}", "1")
            .replace("{name}", "counter");
        let url = format!("{}{concrete}", node.url);
        let resp = match r.method {
            meridian_api::Method::Get if r.path == "/v1/events" => {
                // a stream: only look at the status line
                let resp = node
                    .agent()
                    .get(format!("{url}?from_height=0"))
                    .call()
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 200);
                continue;
            }
            meridian_api::Method::Get => node.agent().get(&url).call().unwrap(),
            meridian_api::Method::Post => node
                .agent()
                .post(&url)
                .header("content-type", "application/json")
                .send("{}")
                .unwrap(),
        };
        let status = resp.status().as_u16();
        assert_ne!(status, 405, "{concrete}");
        if status == 404 {
            let mut resp = resp;
            let v: Value =
                serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
            assert_ne!(
                v["code"], "api.no_route",
                "{concrete} is documented but not routed"
            );
        }
    }
}
