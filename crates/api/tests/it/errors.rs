//! Walks every error code of `ERROR_CODES` through real HTTP requests (the two that cannot be
//! provoked from outside, `api.bad_request` and `api.internal`, are walked by unit tests of
//! the catch-all), plus oversized and malformed bodies. Refused requests change nothing.

use std::collections::BTreeMap;

use meridian_api::{status_of, ApiOptions, RateLimit, ERROR_CODES};
use meridian_bank::BankCall;
use meridian_crypto::PrivateKey;
use meridian_mempool::MempoolConfig;
use meridian_types::{ChainId, Encode, SignedTx};
use serde_json::{json, Value};

use crate::harness::{Node, Opts};

/// Codes seen so far, with the request that produced each.
struct Walk {
    seen: BTreeMap<String, String>,
}

impl Walk {
    fn expect(&mut self, what: &str, (status, v): (u16, Value), code: &str) {
        assert_eq!(v["code"], code, "{what}: {v}");
        assert_eq!(status, status_of(code).as_u16(), "{what}: {v}");
        assert!(
            !v["message"].as_str().unwrap_or("").is_empty(),
            "{what}: empty message"
        );
        assert_eq!(
            v.as_object().unwrap().len(),
            2,
            "{what}: body is exactly {{code, message}}"
        );
        self.seen
            .entry(code.to_string())
            .or_insert(what.to_string());
    }
}

fn call(i: u64) -> meridian_types::Call {
    BankCall::CreateAsset {
        symbol: format!("A{i}"),
        decimals: 0,
        max_supply: 10,
    }
    .into_call()
}

fn submit_body(tx: &SignedTx) -> Value {
    json!({"tx": hex::encode(tx.encode())})
}

#[test]
fn every_error_code() {
    let mut w = Walk {
        seen: BTreeMap::new(),
    };
    // A node that only makes blocks when told to, with a tiny pool.
    let node = Node::start(Opts {
        auto_produce: false,
        mempool: MempoolConfig {
            max_txs: 3,
            max_per_sender: 2,
            ..MempoolConfig::default()
        },
        ..Opts::default()
    });
    let suite = meridian_crypto::Suite::Intl;
    let key = |i: u8| PrivateKey::from_seed(suite, &[i; 32]);
    let (alice, bob, carol, dave, erin) = (key(1), key(2), key(3), key(4), key(5));
    let n = &node;
    let before = n.get("/v1/status").1;

    // Routing.
    w.expect("unknown path", n.get("/v1/nope"), "api.no_route");
    w.expect("root", n.get("/"), "api.no_route");
    w.expect("empty key segment", n.get("/v1/state/"), "api.no_route");
    let wrong_method = |m: &str, path: &str| {
        let url = format!("{}{path}", n.url);
        let r = match m {
            "DELETE" => n.agent().delete(&url).call(),
            "PUT" => n.agent().put(&url).send("x"),
            "POST" => n.agent().post(&url).send("x"),
            _ => n.agent().get(&url).call(),
        };
        let mut r = r.unwrap();
        let allow = r
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string());
        let st = r.status().as_u16();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        assert!(allow.is_some(), "405 carries Allow");
        (st, v)
    };
    w.expect(
        "DELETE status",
        wrong_method("DELETE", "/v1/status"),
        "api.method_not_allowed",
    );
    w.expect(
        "GET /v1/txs",
        wrong_method("GET", "/v1/txs"),
        "api.method_not_allowed",
    );
    w.expect(
        "POST status",
        wrong_method("POST", "/v1/status"),
        "api.method_not_allowed",
    );
    w.expect(
        "PUT tx",
        wrong_method("PUT", "/v1/txs"),
        "api.method_not_allowed",
    );

    // Path and query parameters.
    w.expect("missing block", n.get("/v1/blocks/999"), "api.not_found");
    w.expect(
        "missing tx",
        n.get(&format!("/v1/txs/{}", "00".repeat(32))),
        "api.not_found",
    );
    w.expect(
        "missing block hash",
        n.get(&format!("/v1/blocks/by-hash/{}", "11".repeat(32))),
        "api.not_found",
    );
    w.expect(
        "future state height",
        n.get("/v1/state/00?height=999"),
        "api.not_found",
    );
    w.expect(
        "future balance height",
        n.get(&format!(
            "/v1/bank/balance/CNY/{}?height=77",
            "00".repeat(20)
        )),
        "api.not_found",
    );
    w.expect(
        "no proposal yet",
        n.get("/v1/identity/proposals/1"),
        "identity.no_proposal",
    );
    w.expect(
        "proposal id not a number",
        n.get("/v1/identity/proposals/one"),
        "api.bad_path",
    );
    w.expect("tx hash not hex", n.get("/v1/txs/xyz"), "api.bad_hash");
    w.expect("tx hash short", n.get("/v1/txs/abcd"), "api.bad_hash");
    w.expect(
        "block hash short",
        n.get("/v1/blocks/by-hash/12"),
        "api.bad_hash",
    );
    w.expect("doc hash", n.get("/v1/notary/zz"), "api.bad_hash");
    w.expect("height word", n.get("/v1/blocks/abc"), "api.bad_height");
    w.expect("height negative", n.get("/v1/blocks/-1"), "api.bad_height");
    w.expect(
        "height overflow",
        n.get("/v1/blocks/99999999999999999999999"),
        "api.bad_height",
    );
    w.expect("key not hex", n.get("/v1/state/zz"), "api.bad_key");
    w.expect(
        "key too long",
        n.get(&format!("/v1/state/{}", "ab".repeat(1025))),
        "api.bad_key",
    );
    w.expect(
        "address",
        n.get("/v1/bank/balance/CNY/0x12"),
        "api.bad_address",
    );
    w.expect(
        "symbol case",
        n.get("/v1/bank/assets/cny"),
        "api.bad_symbol",
    );
    w.expect(
        "symbol long",
        n.get(&format!(
            "/v1/bank/balance/ABCDEFGHIJKLMNOPQ/{}",
            "00".repeat(20)
        )),
        "api.bad_symbol",
    );
    w.expect(
        "invalid utf-8 in path",
        n.get("/v1/txs/%FF%FE"),
        "api.bad_path",
    );
    w.expect(
        "height=abc",
        n.get("/v1/state/00?height=abc"),
        "api.bad_query",
    );
    w.expect(
        "height=-1",
        n.get("/v1/validators?height=-1"),
        "api.bad_query",
    );
    w.expect(
        "from_height=x",
        n.get("/v1/events?from_height=x"),
        "api.bad_query",
    );
    w.expect(
        "blocks=maybe",
        n.get("/v1/events?blocks=maybe"),
        "api.bad_query",
    );
    let tx0 = n.sign(&alice, 0, call(0));
    w.expect(
        "timeout_ms=-5",
        n.post_json("/v1/txs?timeout_ms=-5", &submit_body(&tx0)),
        "api.bad_query",
    );
    w.expect(
        "mode=sync",
        n.post_json("/v1/txs?mode=sync", &submit_body(&tx0)),
        "api.bad_mode",
    );
    w.expect(
        "module filter",
        n.get("/v1/events?module=Bank!"),
        "api.bad_filter",
    );
    w.expect(
        "to_height below from_height",
        n.get("/v1/events?from_height=5&to_height=4"),
        "api.bad_filter",
    );
    w.expect(
        "too many kinds",
        n.get(&format!("/v1/events?kind={}", vec!["a"; 17].join(","))),
        "api.bad_filter",
    );
    w.expect(
        "event address",
        n.get("/v1/events?address=0xzz"),
        "api.bad_address",
    );
    {
        let mut r = n
            .agent()
            .get(format!("{}/v1/events", n.url))
            .header("last-event-id", "7/x")
            .call()
            .unwrap();
        let st = r.status().as_u16();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        w.expect("Last-Event-ID", (st, v), "api.bad_filter");
    }

    // Bodies.
    w.expect(
        "truncated JSON",
        n.post_raw("/v1/txs", "application/json", b"{\"tx\":"),
        "api.bad_json",
    );
    w.expect(
        "not JSON",
        n.post_raw("/v1/txs", "application/json", b"tx=00"),
        "api.bad_json",
    );
    w.expect(
        "empty body",
        n.post_raw("/v1/txs", "application/json", b""),
        "api.bad_json",
    );
    w.expect(
        "wrong field",
        n.post_json("/v1/txs", &json!({"nope": 1})),
        "api.bad_body",
    );
    w.expect(
        "wrong type",
        n.post_json("/v1/txs", &json!({"tx": 5})),
        "api.bad_body",
    );
    w.expect(
        "array body",
        n.post_json("/v1/txs", &json!([])),
        "api.bad_body",
    );
    w.expect(
        "text/plain",
        n.post_raw(
            "/v1/txs",
            "text/plain",
            submit_body(&tx0).to_string().as_bytes(),
        ),
        "api.unsupported_media_type",
    );
    let huge = json!({"tx": "00".repeat(50 * 1024)}).to_string();
    w.expect(
        "100 KiB body",
        n.post_raw("/v1/txs", "application/json", huge.as_bytes()),
        "api.body_too_large",
    );

    // Transactions refused at admission.
    w.expect(
        "tx not hex",
        n.post_json("/v1/txs", &json!({"tx": "zz"})),
        "tx.malformed",
    );
    w.expect(
        "tx garbage",
        n.post_json("/v1/txs", &json!({"tx": "010203"})),
        "tx.malformed",
    );
    w.expect(
        "tx 21 KiB",
        n.post_json("/v1/txs", &json!({"tx": "00".repeat(21 * 1024)})),
        "tx.oversized",
    );
    let other = ChainId::new("other-chain").unwrap();
    let wrong_chain = meridian_node::sign_tx(&alice, &other, 0, 1_000, call(0));
    w.expect(
        "wrong chain",
        n.post_json("/v1/txs", &submit_body(&wrong_chain)),
        "tx.wrong_chain",
    );
    let mut bad_sig = tx0.clone();
    bad_sig.signature[3] ^= 1;
    w.expect(
        "bad signature",
        n.post_json("/v1/txs", &submit_body(&bad_sig)),
        "tx.bad_signature",
    );
    let expired = meridian_node::sign_tx(&alice, n.ledger.chain_id(), 0, 0, call(0));
    w.expect(
        "expired",
        n.post_json("/v1/txs", &submit_body(&expired)),
        "tx.expired",
    );
    // Nothing was admitted or changed by any of the above.
    let mid = n.get("/v1/status").1;
    assert_eq!(mid, before);

    // commit mode without a block: accepted, then times out.
    w.expect(
        "commit timeout",
        n.post_json("/v1/txs?mode=commit&timeout_ms=150", &submit_body(&tx0)),
        "api.commit_timeout",
    );
    w.expect(
        "same tx again",
        n.post_json("/v1/txs", &submit_body(&tx0)),
        "tx.replayed",
    );
    let same_nonce = n.sign(&alice, 0, call(99));
    w.expect(
        "nonce taken",
        n.post_json("/v1/txs", &submit_body(&same_nonce)),
        "tx.nonce_taken",
    );
    let far = n.sign(&alice, 5, call(5));
    w.expect(
        "nonce window",
        n.post_json("/v1/txs", &submit_body(&far)),
        "mempool.sender_full",
    );
    n.produce();
    w.expect(
        "committed replay",
        n.post_json("/v1/txs", &submit_body(&tx0)),
        "tx.stale_nonce",
    );
    for k in [&bob, &carol, &dave] {
        let (st, v) = n.post_json("/v1/txs", &submit_body(&n.sign(k, 0, call(1))));
        assert_eq!(st, 200, "{v}");
    }
    w.expect(
        "pool full",
        n.post_json("/v1/txs", &submit_body(&n.sign(&erin, 0, call(1)))),
        "mempool.full",
    );

    // A pooled transaction is not final yet.
    let pooled = n.sign(&bob, 0, call(1));
    w.expect(
        "pooled tx",
        n.get(&format!(
            "/v1/txs/{}",
            hex::encode(pooled.hash(&n.ledger.hasher()))
        )),
        "api.tx_pending",
    );

    // Batches.
    let too_many: Vec<String> = (0..513).map(|_| "00".to_string()).collect();
    w.expect(
        "513 txs as JSON",
        n.post_json("/v1/txs/batch", &json!({ "txs": too_many })),
        "api.batch_too_large",
    );
    w.expect(
        "count 600 binary",
        n.post_raw(
            "/v1/txs/batch",
            "application/octet-stream",
            &600u16.to_be_bytes(),
        ),
        "api.batch_too_large",
    );
    w.expect(
        "truncated binary batch",
        n.post_raw(
            "/v1/txs/batch",
            "application/octet-stream",
            &[0, 2, 0, 0, 0, 9, 1],
        ),
        "api.bad_body",
    );
    w.expect(
        "batch as text",
        n.post_raw("/v1/txs/batch", "text/plain", b"hello"),
        "api.unsupported_media_type",
    );
    w.expect(
        "batch JSON not an object of txs",
        n.post_json("/v1/txs/batch", &json!({"txs": 5})),
        "api.bad_body",
    );
    w.expect(
        "batch over 4 MiB",
        n.post_raw(
            "/v1/txs/batch",
            "application/octet-stream",
            &vec![0u8; 4 * 1024 * 1024 + 1],
        ),
        "api.body_too_large",
    );
    w.expect(
        "batch with a non-hex tx",
        n.post_json("/v1/txs/batch", &json!({"txs": ["zz"]})),
        "tx.malformed",
    );

    // Request deadline: a body that never completes.
    {
        let slow = Node::start(Opts {
            api: ApiOptions {
                request_timeout: std::time::Duration::from_millis(400),
                ..ApiOptions::default()
            },
            ..Opts::default()
        });
        let (st, v) = crate::batch::raw_exchange(
            &slow.url,
            b"POST /v1/txs/batch HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"txs\": [",
        );
        w.expect("body never completes", (st, v), "api.request_timeout");
    }

    // Stream limit.
    {
        let limited = Node::start(Opts {
            api: ApiOptions {
                max_event_streams: 1,
                ..ApiOptions::default()
            },
            ..Opts::default()
        });
        let _open = limited.events("", None);
        w.expect(
            "second stream",
            limited.get("/v1/events"),
            "api.too_many_streams",
        );
    }

    // Rate limit, with Retry-After.
    {
        let limited = Node::start(Opts {
            api: ApiOptions {
                rate_limit: RateLimit {
                    per_second: 1,
                    burst: 2,
                },
                ..ApiOptions::default()
            },
            ..Opts::default()
        });
        assert_eq!(limited.get("/v1/status").0, 200);
        assert_eq!(limited.get("/v1/status").0, 200);
        let mut r = limited
            .agent()
            .get(format!("{}/v1/status", limited.url))
            .call()
            .unwrap();
        let retry = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        assert!(retry >= 1);
        let st = r.status().as_u16();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        w.expect("over rate", (st, v), "api.rate_limited");
        // unknown routes count too
        w.expect(
            "over rate, any path",
            limited.get("/nope"),
            "api.rate_limited",
        );
    }

    // Every code was walked (the two defensive ones are covered by unit tests).
    let missing: Vec<&str> = ERROR_CODES
        .iter()
        .map(|e| e.code)
        .filter(|c| !w.seen.contains_key(*c) && *c != "api.bad_request" && *c != "api.internal")
        .collect();
    assert!(missing.is_empty(), "codes never provoked: {missing:?}");
}
