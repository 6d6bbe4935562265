//! `/v1/txs/batch` (binary and JSON) and the connection-level limits of the server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use meridian_api::{ApiOptions, RateLimit};
use meridian_bank::BankCall;
use meridian_crypto::{PrivateKey, Suite};
use meridian_types::{Encode, SignedTx};
use serde_json::{json, Value};

use crate::harness::{Node, Opts};

fn create(node: &Node, key: &PrivateKey, nonce: u64) -> SignedTx {
    node.sign(
        key,
        nonce,
        BankCall::CreateAsset {
            symbol: format!("B{nonce}"),
            decimals: 0,
            max_supply: 10,
        }
        .into_call(),
    )
}

/// The binary batch encoding: u16 count, then each transaction length-prefixed.
fn binary(txs: &[Vec<u8>]) -> Vec<u8> {
    meridian_node::gossip::encode_batch(txs)
}

/// Sends `request` on a fresh connection and returns the status and JSON body of the answer.
pub fn raw_exchange(url: &str, request: &[u8]) -> (u16, Value) {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the body (after the blank line) parses as JSON or the server closes.
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out);
        if let Some((_, body)) = text.split_once("\r\n\r\n") {
            if serde_json::from_str::<Value>(body).is_ok() {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).expect("JSON body"))
}

#[test]
fn binary_and_json_batches_give_one_outcome_per_tx_in_order() {
    for suite in Suite::ALL {
        let node = Node::start(Opts {
            suite,
            auto_produce: false,
            ..Opts::default()
        });
        let alice = PrivateKey::from_seed(suite, &[1; 32]);
        let bob = PrivateKey::from_seed(suite, &[2; 32]);
        let mut txs: Vec<Vec<u8>> = (0..5).map(|i| create(&node, &alice, i).encode()).collect();
        let mut bad = create(&node, &bob, 0);
        bad.signature[9] ^= 1;
        txs.insert(2, bad.encode());
        txs.push(vec![7, 7, 7]);
        let (st, v) = node.post_raw("/v1/txs/batch", "application/octet-stream", &binary(&txs));
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["accepted"], 5);
        assert_eq!(v["rejected"], 2);
        let codes: Vec<&str> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "ok",
                "ok",
                "tx.bad_signature",
                "ok",
                "ok",
                "ok",
                "tx.malformed"
            ]
        );
        let h0 = hex::encode(create(&node, &alice, 0).hash(&node.ledger.hasher()));
        assert_eq!(v["results"][0]["hash"], h0);
        assert!(v["results"][2]["hash"].is_null());
        assert_eq!(node.ledger.mempool_len(), 5);

        // JSON form; the same transactions again are replays, a new one is accepted.
        let again =
            json!({"txs": [hex::encode(&txs[0]), hex::encode(create(&node, &alice, 5).encode())]});
        let (st, v) = node.post_json("/v1/txs/batch", &again);
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["results"][0]["code"], "tx.replayed");
        assert_eq!(v["results"][1]["code"], "ok");
        // Pooled, then final after a block.
        let (st, v) = node.get(&format!("/v1/txs/{h0}"));
        assert_eq!((st, v["code"].as_str()), (404, Some("api.tx_pending")));
        let nobody = hex::encode([9u8; 32]);
        let ask = json!({"hashes": [h0, nobody]});
        let (st, v) = node.post_json("/v1/txs/outcomes", &ask);
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["outcomes"][0]["status"], "pending", "{v}");
        assert_eq!(v["outcomes"][1]["status"], "unknown", "{v}");
        node.produce();
        let (st, v) = node.get(&format!("/v1/txs/{h0}"));
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["receipt"]["code"], "ok");
        // Outcomes of many at once, in order: final with the receipt's code and height.
        let (st, v) = node.post_json("/v1/txs/outcomes", &ask);
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["outcomes"][0]["status"], "final", "{v}");
        assert_eq!(v["outcomes"][0]["code"], "ok", "{v}");
        assert_eq!(v["outcomes"][0]["hash"], h0, "{v}");
        assert!(v["outcomes"][0]["height"].as_u64().is_some(), "{v}");
        assert_eq!(v["outcomes"][1]["status"], "unknown", "{v}");
        let too_many = json!({"hashes": vec![nobody.clone(); 513]});
        let (st, v) = node.post_json("/v1/txs/outcomes", &too_many);
        assert_eq!(
            (st, v["code"].as_str()),
            (413, Some("api.batch_too_large")),
            "{v}"
        );
        let (st, v) = node.post_json("/v1/txs/outcomes", &json!({"hashes": ["zz"]}));
        assert_eq!((st, v["code"].as_str()), (400, Some("api.bad_hash")), "{v}");
        // An empty batch is fine and does nothing.
        let (st, v) = node.post_raw("/v1/txs/batch", "application/octet-stream", &binary(&[]));
        assert_eq!((st, v["accepted"].as_u64()), (200, Some(0)));
    }
}

#[test]
fn a_batch_pays_the_rate_limit_per_transaction() {
    let node = Node::start(Opts {
        auto_produce: false,
        api: ApiOptions {
            rate_limit: RateLimit {
                per_second: 1,
                burst: 10,
            },
            ..ApiOptions::default()
        },
        ..Opts::default()
    });
    let alice = PrivateKey::from_seed(Suite::Intl, &[1; 32]);
    let eight: Vec<Vec<u8>> = (0..8).map(|i| create(&node, &alice, i).encode()).collect();
    let (st, v) = node.post_raw("/v1/txs/batch", "application/octet-stream", &binary(&eight));
    assert_eq!((st, v["accepted"].as_u64()), (200, Some(8)), "{v}");
    // 10 tokens - 8 = 2 left: a batch of 3 is refused as a whole, nothing admitted.
    let three: Vec<Vec<u8>> = (8..11).map(|i| create(&node, &alice, i).encode()).collect();
    let (st, v) = node.post_raw("/v1/txs/batch", "application/octet-stream", &binary(&three));
    assert_eq!(
        (st, v["code"].as_str()),
        (429, Some("api.rate_limited")),
        "{v}"
    );
    assert_eq!(node.ledger.mempool_len(), 8);
    // A batch larger than the burst can never pass, and says so.
    let (st, v) = node.post_raw(
        "/v1/txs/batch",
        "application/octet-stream",
        &binary(&vec![vec![0u8; 4]; 11]),
    );
    assert_eq!(st, 429, "{v}");
    assert!(v["message"].as_str().unwrap().contains("burst"), "{v}");
}

#[test]
fn slow_headers_are_cut_off() {
    let node = Node::start(Opts {
        api: ApiOptions {
            header_read_timeout: Duration::from_millis(500),
            ..ApiOptions::default()
        },
        ..Opts::default()
    });
    let addr = node.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let t0 = Instant::now();
    s.write_all(b"GET /v1/status HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    // Never finish the headers: the server closes the connection.
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap_or(0);
    let waited = t0.elapsed();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(waited < Duration::from_secs(15), "closed after {waited:?}");
    // A complete request on a new connection is served.
    assert_eq!(node.get("/v1/status").0, 200);
}
