//! Four validators as real OS processes (`meridian node`) on loopback, p2p over real sockets,
//! for both suites: commit a transfer and a notarisation through the HTTP API, verify their
//! proofs against a finalized header, survive a `kill -9` of one validator and a restart.
//! Every wait is bounded; the processes are killed when the test ends.

mod support;
use support::*;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use meridian_api::{BlockView, StateView, StatusView, SubmitView};
use meridian_bank::{balance_key, decode_balance, BankCall};
use meridian_crypto::{PrivateKey, Suite};
use meridian_node::{sign_tx, ChainHash};
use meridian_notary::{decode_record, record_key, Register};
use meridian_storage::verify_state_proof;
use meridian_types::{decode_exact, Address, ChainId, Encode, HashFn, Header};

struct Net {
    dir: tempfile::TempDir,
    children: Vec<Option<Child>>,
    api: Vec<String>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(dir: &Path, i: usize) -> Child {
    spawn_node(dir, i, "warn,meridian_node=info")
}

impl Net {
    fn start(suite: Suite) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let api = init_net(&out, suite.as_str(), "proc-test");
        let children = (0..4).map(|i| Some(spawn(&out, i))).collect();
        Net { dir, children, api }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("net")
    }

    fn status(&self, i: usize) -> Option<StatusView> {
        ureq::get(format!("{}/v1/status", self.api[i]))
            .call()
            .ok()?
            .body_mut()
            .read_json()
            .ok()
    }

    fn wait_height(&self, i: usize, h: u64, limit: Duration) -> StatusView {
        let start = Instant::now();
        loop {
            if let Some(s) = self.status(i) {
                if s.height >= h {
                    return s;
                }
            }
            if start.elapsed() > limit {
                let log = std::fs::read_to_string(self.out().join(format!("org{i}.log")))
                    .unwrap_or_default();
                panic!(
                    "node {i} did not reach height {h} in {limit:?}; log tail:\n{}",
                    tail(&log)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn submit(&self, i: usize, raw: &[u8]) -> SubmitView {
        ureq::post(format!(
            "{}/v1/txs?mode=commit&timeout_ms=30000",
            self.api[i]
        ))
        .send_json(serde_json::json!({"tx": hex::encode(raw)}))
        .expect("submit")
        .body_mut()
        .read_json()
        .unwrap()
    }

    fn state(&self, i: usize, key: &[u8]) -> StateView {
        ureq::get(format!("{}/v1/state/{}", self.api[i], hex::encode(key)))
            .call()
            .expect("state query")
            .body_mut()
            .read_json()
            .unwrap()
    }

    fn block(&self, i: usize, h: u64) -> BlockView {
        ureq::get(format!("{}/v1/blocks/{h}", self.api[i]))
            .call()
            .expect("block query")
            .body_mut()
            .read_json()
            .unwrap()
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Checks a state answer: the header decodes, the proof verifies against its state root, and
/// the header is the finalized block `height` of another node.
fn verified_value(
    net: &Net,
    suite: Suite,
    node: usize,
    other: usize,
    key: &[u8],
) -> Option<Vec<u8>> {
    let v = net.state(node, key);
    let header: Header = decode_exact(&hex::decode(&v.header).unwrap()).unwrap();
    let value = v.value.as_ref().map(|x| hex::decode(x).unwrap());
    let proof = hex::decode(&v.proof).unwrap();
    let kind = ChainHash(suite).state_hash_kind();
    verify_state_proof(kind, header.state_root, key, value.as_deref(), &proof)
        .expect("proof verifies");
    // A forged value must not verify.
    assert!(verify_state_proof(kind, header.state_root, key, Some(b"forged"), &proof).is_err());
    // The header is the one the other validator finalized at that height.
    net.wait_height(other, header.height, Duration::from_secs(30));
    let b = net.block(other, header.height);
    assert_eq!(b.hash, hex::encode(ChainHash(suite).hash(&header.encode())));
    assert!(!b.certificate.is_empty() || header.height == 0);
    value
}

fn scenario(suite: Suite) {
    let mut net = Net::start(suite);
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let chain = ChainId::new("proc-test").unwrap();
    let alice = PrivateKey::from_seed(suite, &[1; 32]);
    let bob = PrivateKey::from_seed(suite, &[2; 32]);
    let hash = ChainHash(suite);
    let alice_addr = Address::from_public_key(&hash, alice.public_key().as_bytes());
    let bob_addr = Address::from_public_key(&hash, bob.public_key().as_bytes());
    let txs = [
        (
            0,
            sign_tx(
                &alice,
                &chain,
                0,
                1_000_000,
                BankCall::CreateAsset {
                    symbol: "CNY".into(),
                    decimals: 2,
                    max_supply: 1_000_000,
                }
                .into_call(),
            ),
        ),
        (
            1,
            sign_tx(
                &alice,
                &chain,
                1,
                1_000_000,
                BankCall::Mint {
                    symbol: "CNY".into(),
                    to: alice_addr,
                    amount: 1000,
                }
                .into_call(),
            ),
        ),
        (
            2,
            sign_tx(
                &alice,
                &chain,
                2,
                1_000_000,
                BankCall::Transfer {
                    symbol: "CNY".into(),
                    to: bob_addr,
                    amount: 250,
                }
                .into_call(),
            ),
        ),
    ];
    for (node, tx) in &txs {
        let r = net.submit(*node, &tx.encode());
        assert_eq!(r.status, "committed");
        assert_eq!(r.receipt.as_ref().unwrap().code, "ok", "{r:?}");
    }
    let doc = hash.hash(b"bill-of-lading-0042.pdf");
    let notarize = sign_tx(
        &bob,
        &chain,
        0,
        1_000_000,
        Register {
            doc_hash: doc,
            metadata: b"bill-of-lading-0042.pdf".to_vec(),
        }
        .into_call(),
    );
    let r = net.submit(3, &notarize.encode());
    assert_eq!(r.receipt.as_ref().unwrap().code, "ok");
    assert_eq!(r.receipt.as_ref().unwrap().events[0].kind, "notarized");

    // Proofs served by one node verify against headers finalized by another. "committed"
    // means final on the node that took the tx; the others may be a block behind (an epoch
    // hand-over takes a view), so wait until every node has that block.
    let committed = net.status(3).unwrap().height;
    for i in 0..4 {
        net.wait_height(i, committed, Duration::from_secs(30));
    }
    let bal = verified_value(&net, suite, 1, 2, &balance_key("CNY", &bob_addr));
    assert_eq!(decode_balance(bal.as_deref()).unwrap(), 250);
    let rec = verified_value(&net, suite, 2, 0, &record_key(&doc)).expect("record present");
    assert_eq!(decode_record(&rec).unwrap().owner, bob_addr);
    let absent = verified_value(&net, suite, 0, 3, &record_key(&hash.hash(b"never")));
    assert!(absent.is_none(), "non-membership proof");

    // kill -9 one validator; the rest keep finalizing; it restarts and catches up.
    let mut victim = net.children[3].take().unwrap();
    victim.kill().unwrap();
    victim.wait().unwrap();
    let before = net.status(0).unwrap().height;
    let more = sign_tx(
        &bob,
        &chain,
        1,
        1_000_000,
        BankCall::Transfer {
            symbol: "CNY".into(),
            to: alice_addr,
            amount: 50,
        }
        .into_call(),
    );
    assert_eq!(net.submit(0, &more.encode()).receipt.unwrap().code, "ok");
    let progressed = net
        .wait_height(0, before + 3, Duration::from_secs(60))
        .height;
    net.children[3] = Some(spawn(&net.out(), 3));
    let caught_up = net.wait_height(3, progressed, Duration::from_secs(120));
    let reference = net.block(0, progressed);
    assert_eq!(net.block(3, progressed).hash, reference.hash);
    assert!(caught_up.height >= progressed);
    let bal = verified_value(&net, suite, 3, 0, &balance_key("CNY", &bob_addr));
    assert_eq!(decode_balance(bal.as_deref()).unwrap(), 200);

    // Bad input over the API: clear 4xx codes, nothing changes.
    let err = ureq::post(format!("{}/v1/txs", net.api[0]))
        .send_json(serde_json::json!({"tx": "zz"}))
        .unwrap_err();
    assert!(matches!(err, ureq::Error::StatusCode(400)));
    let mut replay = more.clone();
    replay.signature[3] ^= 1;
    let err = ureq::post(format!("{}/v1/txs", net.api[0]))
        .send_json(serde_json::json!({"tx": hex::encode(replay.encode())}))
        .unwrap_err();
    assert!(matches!(err, ureq::Error::StatusCode(400)));
}

#[test]
fn n4_processes_sm() {
    scenario(Suite::Sm);
}

#[test]
fn n4_processes_intl() {
    scenario(Suite::Intl);
}
