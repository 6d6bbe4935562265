//! HTTP API contract tests against a real 4-validator network: four `meridian node` OS
//! processes (suite `sm`) on loopback, consensus and transaction gossip over real sockets.
//!
//! * `every_endpoint`: every operation of the served `/openapi.json` is exercised (the test
//!   fails if one was missed) and every successful JSON answer is validated against the schema
//!   the document gives for that operation. Writes go to one node and are read back, with
//!   proofs checked client-side, from another: transaction inclusion (Merkle proof, `tx_root`
//!   of the header, header = node 3's block at that height), raw state, bank balance and
//!   asset, notary record and validator set (JMT proofs against the header's state root),
//!   binary and JSON batches, blocks, headers, status, peers (all connected), Prometheus
//!   metrics and `/v1/events` (live block and receipt events, resumed by `Last-Event-ID` and
//!   replayed by `from_height`), and a contract (the counter example, uploaded in parts,
//!   deployed, its record proven, queried).
//! * `every_error_code`: every code of `meridian_api::ERROR_CODES` provoked by real requests,
//!   except those in [`NOT_PROVOKED`] (each with its reason): the status is
//!   `status_of(code)`, the body exactly `{code, message}`, and the code is one the
//!   document lists for that operation (`x-error-codes`).
//! * `bad_bodies_change_nothing`: oversized, malformed, wrongly typed and truncated bodies
//!   (most hiding a valid transaction) and invalid transactions are refused with their codes
//!   on nodes 0-2, and the chain is unchanged: the owned key's value and proof, the state
//!   roots and the mempool sizes.
//!
//! One network serves the whole test binary, since starting one is slow: the first test starts
//! it, the last one to finish stops it (`Drop`), and a watchdog process kills the nodes if the
//! test binary dies first. Node 3 has a tiny mempool (3 transactions, 2 per sender) and a low
//! rate limit (2/s, burst 4), so `mempool.full`, `mempool.sender_full` and `api.rate_limited`
//! are provoked there only; requests to it wait out 429s, except those meant to be refused.
//! Node 2's event-stream slots are exhausted once (`api.too_many_streams`), so the other
//! streams are opened on nodes 0 and 1. Tests run in parallel with fresh random keys; the one
//! that checks that refused bodies change nothing holds [`POOL`] exclusively, so no other test
//! has transactions in flight meanwhile. Every wait is bounded by [`WAIT`].

#[path = "../../../crates/api/tests/it/schema.rs"]
mod schema;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use meridian_api::{
    status_of, ERROR_CODES, MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES, MAX_EVENT_STREAMS,
};
use meridian_bank::{balance_key, BankCall};
use meridian_crypto::{PrivateKey, Suite};
use meridian_node::{gossip::encode_batch, sign_tx, ChainHash};
use meridian_notary::Register;
use meridian_storage::verify_state_proof;
use meridian_types::{
    decode_exact, verify_merkle_proof, Address, Call, ChainId, Encode, HashFn, Header, MerkleProof,
    SignedTx, MAX_TX_BYTES,
};
use serde_json::{json, Value};
use support::{init_net, spawn_node};

const SUITE: Suite = Suite::Sm;
const CHAIN: &str = "api-net";
/// Longest single wait (node start, a transaction becoming final, a stream read...).
const WAIT: Duration = Duration::from_secs(60);
/// The node with a tiny mempool and a low rate limit.
const LIMITED: usize = 3;
/// Number of `#[test]`s sharing the network: the last one to finish stops it.
const TESTS: usize = 3;
const EXPIRY: u64 = 1_000_000;

/// Codes of `ERROR_CODES` that no request from outside can provoke here, and why.
const NOT_PROVOKED: &[(&str, &str)] = &[
    (
        "api.bad_request",
        "the catch-all for rejections the API does not map to a code; unreachable from \
         outside (unit tests of the catch-all cover it)",
    ),
    (
        "api.internal",
        "a fault of the node (storage), never the caller's input",
    ),
    (
        "api.request_timeout",
        "the request deadline is 30 s and the node config has no field to shorten it; \
         crates/api/tests/it/errors.rs provokes it with ApiOptions::request_timeout",
    ),
];

/// Codes an operation raises that its `x-error-codes` in `/openapi.json` does not list
/// (method, path template, code). Each is a documentation bug; the walk fails when an entry
/// is no longer needed, so fixed ones are removed.
const KNOWN_UNDOCUMENTED: &[(&str, &str, &str)] = &[];

/// GETs refused for their path or query: (code, path), with `{random}` a random 32-byte hex,
/// `{zeros}` 32 zero bytes, `{address}` 20 zero bytes, `{long}` a 1025-byte key and `{17}`
/// 17 comma-separated names.
#[rustfmt::skip]
const BAD_GETS: &[(&str, &str)] = &[
    ("api.no_route",     "/v1/nope"),
    ("api.no_route",     "/"),
    ("api.no_route",     "/v1/state/"),
    ("api.not_found",    "/v1/blocks/999999999"),
    ("api.not_found",    "/v1/txs/{random}"),
    ("api.not_found",    "/v1/blocks/by-hash/{random}"),
    ("api.not_found",    "/v1/state/00?height=999999999"),
    ("api.not_found",    "/v1/bank/balance/CNY/{address}?height=999999999"),
    ("api.not_found",    "/v1/bank/assets/CNY?height=999999999"),
    ("api.not_found",    "/v1/notary/{zeros}?height=999999999"),
    ("api.not_found",    "/v1/validators?height=999999999"),
    ("api.not_found",    "/v1/identity/members/{address}"),
    ("api.not_found",    "/v1/identity/policies/bank.mint?height=999999999"),
    ("api.bad_address",  "/v1/identity/members/0x12"),
    ("api.bad_path",     "/v1/identity/policies/nodot"),
    ("identity.no_proposal", "/v1/identity/proposals/1"),
    ("api.bad_path",     "/v1/identity/proposals/first"),
    ("api.bad_query",    "/v1/identity/proposals?limit=0"),
    ("api.not_found",    "/v1/identity/proposals?height=999999999"),
    ("api.bad_hash",     "/v1/txs/xyz"),
    ("api.bad_hash",     "/v1/txs/abcd"),
    ("api.bad_hash",     "/v1/blocks/by-hash/12"),
    ("api.bad_hash",     "/v1/notary/zz"),
    ("api.bad_height",   "/v1/blocks/abc"),
    ("api.bad_height",   "/v1/blocks/-1"),
    ("api.bad_height",   "/v1/blocks/99999999999999999999999"),
    ("api.bad_key",      "/v1/state/zz"),
    ("api.bad_key",      "/v1/state/{long}"),
    ("api.bad_address",  "/v1/bank/balance/CNY/0x12"),
    ("api.bad_address",  "/v1/events?address=0xzz"),
    ("api.bad_symbol",   "/v1/bank/assets/cny"),
    ("api.bad_symbol",   "/v1/bank/balance/ABCDEFGHIJKLMNOPQ/{address}"),
    ("api.bad_path",     "/v1/txs/%FF%FE"),
    ("api.bad_query",    "/v1/state/00?height=abc"),
    ("api.bad_query",    "/v1/validators?height=-1"),
    ("api.bad_query",    "/v1/events?from_height=x"),
    ("api.bad_query",    "/v1/events?blocks=maybe"),
    ("api.bad_filter",   "/v1/events?module=Bank!"),
    ("api.bad_filter",   "/v1/events?kind={17}"),
    ("contract.not_found", "/v1/contracts/nobody"),
    ("contract.bad_name",  "/v1/contracts/No-Name"),
    ("api.not_found",    "/v1/contracts/nobody?height=999999999"),
];

// ---------------------------------------------------------------------------------------------
// HTTP

/// One HTTP answer, with the request it answers.
struct Answer {
    method: String,
    path: String,
    status: u16,
    content_type: String,
    allow: Option<String>,
    retry_after: Option<u64>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| {
            panic!(
                "{} {}: not JSON (status {}): {}",
                self.method, self.path, self.status, self.text
            )
        })
    }
}

/// The API of one validator.
struct Node {
    i: usize,
    url: String,
    agent: ureq::Agent,
    /// Rate-limited: [`Node::send`] waits out 429s.
    limited: bool,
}

impl Node {
    fn new(i: usize, url: &str) -> Node {
        Node {
            i,
            url: url.to_string(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(WAIT))
                .build()
                .into(),
            limited: i == LIMITED,
        }
    }

    fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, ureq::Error> {
        let url = format!("{}{path}", self.url);
        let mut r = match method {
            "GET" | "DELETE" => {
                let mut b = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                for (k, v) in headers {
                    b = b.header(*k, *v);
                }
                b.call()?
            }
            _ => {
                let mut b = if method == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                };
                for (k, v) in headers {
                    b = b.header(*k, *v);
                }
                b.send(body)?
            }
        };
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (content_type, allow) = (header("content-type").unwrap_or_default(), header("allow"));
        let retry_after = header("retry-after").and_then(|v| v.parse().ok());
        Ok(Answer {
            method: method.to_string(),
            path: path.to_string(),
            status: r.status().as_u16(),
            content_type,
            allow,
            retry_after,
            text: r.body_mut().read_to_string()?,
        })
    }

    /// One request, as is (a 429 is returned).
    fn once(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        self.exchange(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} on node {}: {e}", self.i))
    }

    /// One request; on the rate-limited node a 429 is waited out and the request repeated
    /// (the limiter refuses before any handler runs, so a repeat is safe).
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let deadline = Instant::now() + WAIT;
        loop {
            let a = self.once(method, path, headers, body);
            if !(self.limited && a.status == 429) {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "node {} refused {method} {path} with 429 for {WAIT:?}",
                self.i
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[], &[])
    }

    fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Answer {
        self.send("POST", path, &[("content-type", content_type)], body)
    }

    fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.post(path, "application/json", body.to_string().as_bytes())
    }

    fn submit(&self, tx: &SignedTx) -> Answer {
        self.post_json("/v1/txs", &submit_body(tx))
    }

    fn get_ok(&self, path: &str) -> Value {
        let a = self.get(path);
        assert_eq!(a.status, 200, "GET {path} on node {}: {}", self.i, a.text);
        a.json()
    }

    fn status(&self) -> Value {
        self.get_ok("/v1/status")
    }

    /// Waits until this node has finalized `height`; returns its height.
    fn wait_height(&self, height: u64) -> u64 {
        until(&format!("node {} to reach height {height}", self.i), || {
            let h = self.status()["height"].as_u64().unwrap();
            (h >= height).then_some(h)
        })
    }

    /// Finalized block `height`, once this node has it.
    fn block(&self, height: u64) -> Value {
        self.wait_height(height);
        self.get_ok(&format!("/v1/blocks/{height}"))
    }

    /// Submits in commit mode; returns the answer, checked to be a successful receipt.
    fn commit(&self, tx: &SignedTx) -> Value {
        let a = self.post_json("/v1/txs?mode=commit&timeout_ms=30000", &submit_body(tx));
        check_committed(&a, tx)
    }

    /// `/v1/txs/{hash}` once the transaction is final on this node.
    fn final_tx(&self, hash: &str) -> Answer {
        until(&format!("tx {hash} to be final on node {}", self.i), || {
            let a = self.get(&format!("/v1/txs/{hash}"));
            if a.status == 404 {
                let code = a.json()["code"].clone();
                assert!(
                    code == "api.not_found" || code == "api.tx_pending",
                    "{}",
                    a.text
                );
                return None;
            }
            Some(a)
        })
    }

    /// Opens `/v1/events` and returns only the status (the stream is dropped).
    fn stream_status(&self) -> u16 {
        self.agent
            .get(format!("{}/v1/events", self.url))
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// Opens `/v1/events` on a raw socket and reads the status line only, holding a slot.
    fn raw_stream(&self) -> TcpStream {
        let mut s = TcpStream::connect(self.url.trim_start_matches("http://")).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.write_all(b"GET /v1/events HTTP/1.1\r\nhost: meridian\r\n\r\n")
            .unwrap();
        let mut status = [0u8; 12];
        s.read_exact(&mut status).expect("event stream status line");
        assert_eq!(&status, b"HTTP/1.1 200", "raw event stream refused");
        s
    }
}

fn check_committed(a: &Answer, tx: &SignedTx) -> Value {
    assert_eq!(a.status, 200, "commit: {}", a.text);
    let v = a.json();
    assert_eq!(v["status"], "committed", "{v}");
    assert_eq!(v["hash"], tx_hash(tx));
    assert_eq!(v["receipt"]["code"], "ok", "{v}");
    v
}

/// Polls `probe` until it returns a value, for at most [`WAIT`].
fn until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One Server-Sent Event.
struct Message {
    event: String,
    id: String,
    data: Value,
}

/// A `/v1/events` stream; reads end with the request's [`WAIT`] deadline.
struct Sse {
    reader: BufReader<Box<dyn Read + Send>>,
}

impl Sse {
    /// The next message (keep-alive comments skipped).
    fn next(&mut self) -> Message {
        let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read event stream");
            assert!(n > 0, "event stream ended");
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !data.is_empty() {
                    let data = serde_json::from_str(&data).expect("event data is JSON");
                    return Message { event, id, data };
                }
                continue;
            }
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The network

/// Four validators as OS processes, killed on drop.
struct Net {
    nodes: Vec<Node>,
    children: Vec<Child>,
    watchdog: Option<Child>,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(w) = &mut self.watchdog {
            let _ = w.kill();
            let _ = w.wait();
        }
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Net {
    fn start() -> Net {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let urls = init_net(&out, SUITE.as_str(), CHAIN);
        limit(&out.join(format!("org{LIMITED}")).join("config.toml"));
        let mut net = Net {
            nodes: urls
                .iter()
                .enumerate()
                .map(|(i, u)| Node::new(i, u))
                .collect(),
            children: Vec::new(),
            watchdog: None,
            out,
            _dir: dir,
        };
        for i in 0..4 {
            let child = spawn_node(&net.out, i, "warn,meridian_node=info");
            net.children.push(child);
        }
        net.watchdog = Some(watchdog(&net.children, net._dir.path()));
        for i in 0..4 {
            net.wait_ready(i);
        }
        net
    }

    /// Waits until node `i` answers and has finalized block 2.
    fn wait_ready(&self, i: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let height = self.nodes[i]
                .exchange("GET", "/v1/status", &[], &[])
                .ok()
                .filter(|a| a.status == 200)
                .and_then(|a| a.json()["height"].as_u64());
            if height.is_some_and(|h| h >= 2) {
                return;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.out.join(format!("org{i}.log")))
                    .unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                panic!(
                    "node {i} did not finalize block 2 in {WAIT:?}; log tail:\n{}",
                    lines[lines.len().saturating_sub(30)..].join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn four(&self) -> [&Node; 4] {
        [
            &self.nodes[0],
            &self.nodes[1],
            &self.nodes[2],
            &self.nodes[3],
        ]
    }
}

/// Gives a node a 3-transaction pool (2 per sender) and a 2/s, burst-4 rate limit.
fn limit(config: &Path) {
    let text = std::fs::read_to_string(config).unwrap();
    let mut cfg: toml::Table = text.parse().expect("config written by meridian init");
    let limits: toml::Table = "mempool_max_txs = 3\nmempool_max_per_sender = 2"
        .parse()
        .unwrap();
    let rate: toml::Table = "per_second = 2\nburst = 4".parse().unwrap();
    let section = cfg
        .entry("limits")
        .or_insert(toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .expect("[limits] is a table");
    for (k, v) in limits {
        section.insert(k, v);
    }
    cfg.get_mut("api")
        .and_then(toml::Value::as_table_mut)
        .expect("[api] section")
        .insert("rate_limit".into(), toml::Value::Table(rate));
    std::fs::write(config, toml::to_string(&cfg).unwrap()).unwrap();
}

/// A process that kills the nodes (and removes their directory) once this test binary is
/// gone, in case it dies before the network's `Drop` runs.
fn watchdog(children: &[Child], dir: &Path) -> Child {
    let pids: Vec<String> = children.iter().map(|c| c.id().to_string()).collect();
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -9 {pids} 2>/dev/null; \
         sleep 1; rm -rf '{dir}'",
        me = std::process::id(),
        pids = pids.join(" "),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the watchdog")
}

enum Shared {
    Idle,
    Up(Arc<Net>),
    Failed(String),
}

static SHARED: Mutex<Shared> = Mutex::new(Shared::Idle);
static FINISHED: AtomicUsize = AtomicUsize::new(0);
/// Tests that submit transactions hold it shared; the test that checks that refused requests
/// change nothing holds it exclusively.
static POOL: RwLock<()> = RwLock::new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A test's use of the shared network; the last test's lease stops it.
struct Lease(Arc<Net>);

impl std::ops::Deref for Lease {
    type Target = Net;
    fn deref(&self) -> &Net {
        &self.0
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if FINISHED.fetch_add(1, Ordering::SeqCst) + 1 == TESTS {
            // Dropping the last other reference; the network goes with this lease.
            let last = std::mem::replace(&mut *lock(&SHARED), Shared::Idle);
            drop(last);
        }
    }
}

/// The shared network, started by the first caller.
fn net() -> Lease {
    let mut shared = lock(&SHARED);
    match &*shared {
        Shared::Up(n) => return Lease(n.clone()),
        Shared::Failed(e) => panic!("the shared network did not start: {e}"),
        Shared::Idle => {}
    }
    match std::panic::catch_unwind(Net::start) {
        Ok(n) => {
            let n = Arc::new(n);
            *shared = Shared::Up(n.clone());
            Lease(n)
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            *shared = Shared::Failed(msg.clone());
            panic!("the shared network did not start: {msg}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions

fn fresh_key() -> PrivateKey {
    PrivateKey::from_seed(SUITE, &rand::random::<[u8; 32]>())
}

fn fresh_symbol() -> String {
    format!("S{}", rand::random::<u64>() % 1_000_000_000_000)
}

fn address(k: &PrivateKey) -> Address {
    Address::from_public_key(&ChainHash(SUITE), k.public_key().as_bytes())
}

fn chain() -> ChainId {
    ChainId::new(CHAIN).unwrap()
}

fn sign(k: &PrivateKey, nonce: u64, call: Call) -> SignedTx {
    sign_tx(k, &chain(), nonce, EXPIRY, call)
}

fn tx_hash(tx: &SignedTx) -> String {
    hex::encode(tx.hash(&ChainHash(SUITE)))
}

fn submit_body(tx: &SignedTx) -> Value {
    json!({"tx": hex::encode(tx.encode())})
}

fn create(symbol: &str) -> Call {
    BankCall::CreateAsset {
        symbol: symbol.into(),
        decimals: 2,
        max_supply: 1_000_000,
    }
    .into_call()
}

fn mint(symbol: &str, to: Address, amount: u128) -> Call {
    BankCall::Mint {
        symbol: symbol.into(),
        to,
        amount,
    }
    .into_call()
}

fn transfer(symbol: &str, to: Address, amount: u128) -> Call {
    BankCall::Transfer {
        symbol: symbol.into(),
        to,
        amount,
    }
    .into_call()
}

fn notarize(doc: [u8; 32], metadata: &str) -> Call {
    Register {
        doc_hash: doc,
        metadata: metadata.as_bytes().to_vec(),
    }
    .into_call()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("{v} is not a string"))).expect("hex")
}

// ---------------------------------------------------------------------------------------------
// Contract checks

/// The documented operation a request goes to: (path template, lowercase method). Path
/// parameters match non-empty segments; the template with most literal segments wins.
fn operation(doc: &Value, method: &str, path: &str) -> Option<(String, String)> {
    let path = path.split('?').next().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    let method = method.to_ascii_lowercase();
    let mut best: Option<(usize, &String)> = None;
    for t in doc["paths"].as_object().unwrap().keys() {
        let ts: Vec<&str> = t.split('/').collect();
        if ts.len() != segments.len() || !doc["paths"][t][&method].is_object() {
            continue;
        }
        let mut literal = 0;
        let fits = ts.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                !s.is_empty()
            } else {
                literal += 1;
                t == s
            }
        });
        if fits && best.is_none_or(|(l, _)| literal > l) {
            best = Some((literal, t));
        }
    }
    best.map(|(_, t)| (t.clone(), method))
}

/// The served OpenAPI document, and which of its operations answered successfully.
struct Contract {
    doc: Value,
    seen: BTreeSet<(String, String)>,
}

impl Contract {
    fn fetch(n: &Node) -> Contract {
        let mut c = Contract {
            doc: n.get_ok("/openapi.json"),
            seen: BTreeSet::new(),
        };
        assert!(c.doc["openapi"].as_str().unwrap().starts_with("3.0"));
        let a = n.get("/openapi.json");
        c.ok(&a);
        c
    }

    /// Checks a successful answer: status 200, the documented content type, and for JSON the
    /// documented schema. Returns the JSON (null for text).
    fn ok(&mut self, a: &Answer) -> Value {
        assert_eq!(a.status, 200, "{} {}: {}", a.method, a.path, a.text);
        let (t, m) = operation(&self.doc, &a.method, &a.path)
            .unwrap_or_else(|| panic!("{} {} is not documented", a.method, a.path));
        let content = &self.doc["paths"][&t][&m]["responses"]["200"]["content"];
        let media = content.as_object().unwrap().keys().next().unwrap().clone();
        assert!(
            a.content_type.starts_with(&media),
            "{} {}: content type {} but documented {media}",
            a.method,
            a.path,
            a.content_type
        );
        let v = if media == "application/json" {
            let v = a.json();
            schema::validate(&self.doc, &content[&media]["schema"], &v, &a.path);
            v
        } else {
            Value::Null
        };
        self.seen.insert((t, m));
        v
    }

    fn get(&mut self, n: &Node, path: &str) -> Value {
        let a = n.get(path);
        self.ok(&a)
    }

    fn post_json(&mut self, n: &Node, path: &str, body: &Value) -> Value {
        let a = n.post_json(path, body);
        self.ok(&a)
    }

    /// Opens `/v1/events` (200, `text/event-stream`).
    fn events(&mut self, n: &Node, query: &str, last_event_id: Option<&str>) -> Sse {
        let mut req = n.agent.get(format!("{}/v1/events{query}", n.url));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let r = req.call().expect("open the event stream");
        assert_eq!(r.status().as_u16(), 200, "events{query}");
        let ct = r.headers()["content-type"].to_str().unwrap();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        self.seen.insert(("/v1/events".into(), "get".into()));
        Sse {
            reader: BufReader::new(Box::new(r.into_body().into_reader())),
        }
    }

    fn check(&self, schema: &str, v: &Value) {
        schema::check(&self.doc, schema, v);
    }

    fn assert_all_seen(&self) {
        for (path, ops) in self.doc["paths"].as_object().unwrap() {
            for m in ops.as_object().unwrap().keys() {
                assert!(
                    self.seen.contains(&(path.clone(), m.clone())),
                    "{m} {path} was never exercised"
                );
            }
        }
    }
}

/// Asserts an error answer: the code's status, JSON `{code, message}` and nothing else.
fn assert_error(what: &str, a: &Answer, code: &str) {
    let v = a.json();
    assert_eq!(v["code"], code, "{what}: {}", a.text);
    assert_eq!(a.status, status_of(code).as_u16(), "{what}: {}", a.text);
    assert!(
        a.content_type.starts_with("application/json"),
        "{what}: content type {}",
        a.content_type
    );
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["code", "message"]), "{what}: {v}");
    assert!(
        !v["message"].as_str().unwrap().is_empty(),
        "{what}: empty message"
    );
}

/// Codes provoked so far, with the request that provoked each.
struct Walk {
    doc: Value,
    seen: BTreeMap<String, String>,
    undocumented: BTreeSet<(String, String, String)>,
}

impl Walk {
    fn expect(&mut self, what: &str, a: &Answer, code: &str) {
        assert_error(what, a, code);
        // The operation documents the code and its status.
        if let Some((t, m)) = operation(&self.doc, &a.method, &a.path) {
            let op = &self.doc["paths"][&t][&m];
            let listed = op["x-error-codes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == code);
            if !listed {
                assert!(
                    KNOWN_UNDOCUMENTED.contains(&(m.as_str(), t.as_str(), code)),
                    "{what}: {m} {t} answered {code}, which its x-error-codes do not list"
                );
                self.undocumented
                    .insert((m.clone(), t.clone(), code.to_string()));
            }
            assert!(
                op["responses"][a.status.to_string()].is_object(),
                "{what}: status {} is not documented for {m} {t}",
                a.status
            );
        }
        self.seen
            .entry(code.to_string())
            .or_insert_with(|| what.to_string());
    }
}

/// Checks a state answer: the header decodes to the advertised root and height, the proof
/// proves the value (or its absence) against it and rejects a forged value, and the header
/// is the one `other` finalized at that height. Returns the value.
fn verify_state(v: &Value, other: &Node) -> Option<Vec<u8>> {
    let header: Header = decode_exact(&unhex(&v["header"])).expect("header decodes");
    assert_eq!(hex::encode(header.state_root), v["state_root"]);
    assert_eq!(header.height, v["height"].as_u64().unwrap());
    let key = unhex(&v["key"]);
    let value = v["value"].as_str().map(|s| hex::decode(s).unwrap());
    let proof = unhex(&v["proof"]);
    let kind = ChainHash(SUITE).state_hash_kind();
    verify_state_proof(kind, header.state_root, &key, value.as_deref(), &proof)
        .expect("state proof verifies");
    assert!(verify_state_proof(kind, header.state_root, &key, Some(b"forged"), &proof).is_err());
    let b = other.block(header.height);
    assert_eq!(b["hash"], hex::encode(header.hash(&ChainHash(SUITE))));
    assert_eq!(b["header"], v["header"]);
    value
}

/// Checks a `/v1/txs/{hash}` answer for `tx`: the leaf, the Merkle proof against the
/// header's `tx_root`, and the header is the block `other` finalized at that height.
fn verify_inclusion(tx: &SignedTx, v: &Value, other: &Node) {
    let h = ChainHash(SUITE);
    let inc = &v["inclusion"];
    assert_eq!(v["hash"], tx_hash(tx));
    assert_eq!(v["tx"], hex::encode(tx.encode()));
    let header: Header = decode_exact(&unhex(&inc["header"])).expect("header decodes");
    assert_eq!(header.height, v["height"].as_u64().unwrap());
    assert_eq!(hex::encode(header.tx_root), inc["tx_root"]);
    assert_eq!(hex::encode(header.hash(&h)), inc["block_hash"]);
    let leaf = h.hash(&tx.encode());
    assert_eq!(hex::encode(leaf), inc["leaf"]);
    let proof: MerkleProof = decode_exact(&unhex(&inc["proof"])).expect("proof decodes");
    assert_eq!(u64::from(proof.index), inc["index"].as_u64().unwrap());
    assert_eq!(u64::from(proof.index), v["index"].as_u64().unwrap());
    assert_eq!(u64::from(proof.size), inc["size"].as_u64().unwrap());
    let siblings: Vec<String> = proof.siblings.iter().map(hex::encode).collect();
    assert_eq!(json!(siblings), inc["siblings"]);
    assert!(verify_merkle_proof(&h, &header.tx_root, &leaf, &proof));
    let mut wrong = leaf;
    wrong[0] ^= 1;
    assert!(!verify_merkle_proof(&h, &header.tx_root, &wrong, &proof));
    assert!(!inc["certificate"].as_str().unwrap().is_empty());
    let b = other.block(header.height);
    assert_eq!(b["hash"], inc["block_hash"]);
    assert_eq!(b["header"], inc["header"]);
    assert!(b["tx_hashes"]
        .as_array()
        .unwrap()
        .contains(&json!(tx_hash(tx))));
}

/// Waits until `n` reports its 3 peers connected, checks the list, returns the peers' keys.
fn connected_peers(c: &mut Contract, n: &Node) -> Vec<Value> {
    let peers = until(&format!("node {} to connect to its 3 peers", n.i), || {
        let p = c.get(n, "/v1/peers");
        (p["connected"] == 3).then_some(p)
    });
    assert_eq!(peers["configured"], 3);
    let list = peers["peers"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    for (i, p) in list.iter().enumerate() {
        assert_eq!(p["name"], format!("org{i}"));
        assert_eq!(p["is_self"], i == n.i);
        let connected = if i == n.i { Value::Null } else { json!(true) };
        assert_eq!(p["connected"], connected, "{p}");
    }
    list.iter().map(|p| p["public_key"].clone()).collect()
}

/// Checks a `/metrics` answer: Prometheus text 0.0.4, every name `meridian_`, and samples
/// that match a connected network at `height` or above.
fn check_metrics(a: &Answer, height: u64) {
    assert!(
        a.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        a.content_type
    );
    let text = &a.text;
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(
                rest.starts_with("HELP meridian_") || rest.starts_with("TYPE meridian_"),
                "{line}"
            );
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(name.starts_with("meridian_"), "{line}");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    assert!(sample(text, "meridian_finalized_height") >= height as f64);
    assert_eq!(sample(text, "meridian_peers_configured"), 3.0);
    assert_eq!(sample(text, "meridian_peers_connected"), 3.0);
    assert!(sample(text, "meridian_txs_finalized_total") >= 8.0);
    assert!(sample(text, "meridian_storage_bytes") > 0.0);
    assert!(sample(text, "meridian_api_responses_total{class=\"2xx\"}") > 0.0);
}

/// Value of a Prometheus sample (`name` includes its labels).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
}

// ---------------------------------------------------------------------------------------------
// Bad requests

/// Requests with bodies the API must refuse, with the code each must get. Where the shape
/// allows, the body carries `valid` (a transaction that would be admitted), so nothing may be
/// admitted from a refused body.
fn bad_bodies(n: &Node, valid: &SignedTx) -> Vec<(&'static str, Answer, &'static str)> {
    let raw = valid.encode();
    let hexed = hex::encode(&raw);
    let json_ct = "application/json";
    let octets = "application/octet-stream";
    // `{"tx":"<valid>","pad":"xx.."}` of exactly `len` bytes (unknown fields are ignored).
    let padded = |len: usize| {
        let bare = format!(r#"{{"tx":"{hexed}","pad":""}}"#);
        format!(
            r#"{{"tx":"{hexed}","pad":"{}"}}"#,
            "x".repeat(len - bare.len())
        )
    };
    // `{"tx":"0000.."}` of exactly MAX_BODY_BYTES: passes the body limit, too big as a tx.
    let at_limit = {
        let mut s = format!(r#"{{"tx":"{}"}}"#, "00".repeat((MAX_BODY_BYTES - 9) / 2));
        s.push_str(&" ".repeat(MAX_BODY_BYTES - s.len()));
        s
    };
    // A valid binary batch of `valid`, zero-padded to `len` bytes.
    let batch_of = |len: usize| {
        let mut b = encode_batch(std::slice::from_ref(&raw));
        b.resize(len, 0);
        b
    };
    let batch = encode_batch(std::slice::from_ref(&raw));
    let mut count_too_high = batch.clone();
    count_too_high[1] = 2;
    let post = |path: &str, ct: &str, body: &[u8]| n.post(path, ct, body);
    let submit = |body: &str| post("/v1/txs", json_ct, body.as_bytes());
    vec![
        (
            "submit body of exactly the limit (a 32 KiB tx)",
            submit(&at_limit),
            "tx.oversized",
        ),
        (
            "submit body one byte over the limit, holding a valid tx",
            submit(&padded(MAX_BODY_BYTES + 1)),
            "api.body_too_large",
        ),
        (
            "batch body one byte over the limit, holding a valid batch",
            post("/v1/txs/batch", octets, &batch_of(MAX_BATCH_BODY_BYTES + 1)),
            "api.body_too_large",
        ),
        (
            "batch body of exactly the limit: a valid batch and trailing bytes",
            post("/v1/txs/batch", octets, &batch_of(MAX_BATCH_BODY_BYTES)),
            "api.bad_body",
        ),
        (
            "truncated JSON",
            submit(&format!(r#"{{"tx":"{hexed}""#)),
            "api.bad_json",
        ),
        (
            "JSON with trailing garbage",
            submit(&format!(r#"{{"tx":"{hexed}"}} tx"#)),
            "api.bad_json",
        ),
        (
            "form encoding",
            submit(&format!("tx={hexed}")),
            "api.bad_json",
        ),
        ("empty body", submit(""), "api.bad_json"),
        // serde's derived structs also read positional arrays; the API accepts only objects.
        (
            "the tx in an array",
            submit(&format!(r#"["{hexed}"]"#)),
            "api.bad_body",
        ),
        (
            "a batch as nested arrays",
            post(
                "/v1/txs/batch",
                "application/json",
                format!(r#"[["{hexed}"]]"#).as_bytes(),
            ),
            "api.bad_body",
        ),
        ("empty JSON array", submit("[]"), "api.bad_body"),
        ("JSON array of a number", submit("[5]"), "api.bad_body"),
        ("tx is a number", submit(r#"{"tx": 5}"#), "api.bad_body"),
        (
            "tx field misnamed",
            submit(&format!(r#"{{"transaction":"{hexed}"}}"#)),
            "api.bad_body",
        ),
        (
            "submit as text/plain",
            post(
                "/v1/txs",
                "text/plain",
                submit_body(valid).to_string().as_bytes(),
            ),
            "api.unsupported_media_type",
        ),
        (
            "submit without a content type",
            n.send(
                "POST",
                "/v1/txs",
                &[],
                submit_body(valid).to_string().as_bytes(),
            ),
            "api.unsupported_media_type",
        ),
        (
            "batch as text/plain",
            post("/v1/txs/batch", "text/plain", &batch),
            "api.unsupported_media_type",
        ),
        (
            "truncated JSON batch",
            post(
                "/v1/txs/batch",
                json_ct,
                format!(r#"{{"txs":["{hexed}""#).as_bytes(),
            ),
            "api.bad_json",
        ),
        (
            "JSON batch whose txs is a string",
            post(
                "/v1/txs/batch",
                json_ct,
                json!({ "txs": hexed }).to_string().as_bytes(),
            ),
            "api.bad_body",
        ),
        (
            "binary batch truncated by one byte",
            post("/v1/txs/batch", octets, &batch[..batch.len() - 1]),
            "api.bad_body",
        ),
        (
            "binary batch counting more txs than it holds",
            post("/v1/txs/batch", octets, &count_too_high),
            "api.bad_body",
        ),
        (
            "binary batch without its count",
            post("/v1/txs/batch", octets, &[0]),
            "api.bad_body",
        ),
        (
            "non-hex tx",
            n.post_json("/v1/txs", &json!({"tx": format!("zz{hexed}")})),
            "tx.malformed",
        ),
        (
            "odd-length hex tx",
            n.post_json("/v1/txs", &json!({"tx": format!("{hexed}0")})),
            "tx.malformed",
        ),
        (
            "tx bytes that do not decode",
            n.post_json("/v1/txs", &json!({"tx": "010203"})),
            "tx.malformed",
        ),
        (
            "a valid tx with a trailing byte",
            n.post_json("/v1/txs", &json!({"tx": format!("{hexed}00")})),
            "tx.malformed",
        ),
        (
            "tx over 20 KiB",
            n.post_json("/v1/txs", &json!({"tx": "00".repeat(MAX_TX_BYTES + 1)})),
            "tx.oversized",
        ),
        (
            "JSON batch with a valid and a non-hex tx",
            n.post_json("/v1/txs/batch", &json!({"txs": [hexed, "zz"]})),
            "tx.malformed",
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn every_endpoint() {
    let _pool = POOL.read().unwrap_or_else(PoisonError::into_inner);
    let net = net();
    let [n0, n1, n2, n3] = net.four();
    let mut c = Contract::fetch(n0);
    assert_eq!(n1.get_ok("/openapi.json"), c.doc);
    assert_eq!(n2.get_ok("/openapi.json"), c.doc);

    // Status of every node; peers: each node is connected to the three others.
    for n in net.four() {
        let s = c.get(n, "/v1/status");
        assert_eq!(s["chain_id"], CHAIN);
        assert_eq!(s["suite"], "sm");
        assert_eq!(s["validators"], 4);
        assert!(s["height"].as_u64().unwrap() >= 2);
        // init_net makes 8-block epochs; `epoch` is that of the next block.
        assert_eq!(s["epoch_blocks"], 8);
        assert_eq!(
            s["epoch"].as_u64().unwrap(),
            (s["height"].as_u64().unwrap() + 1) / 8
        );
    }
    let keys: Vec<Vec<Value>> = net.four().map(|n| connected_peers(&mut c, n)).to_vec();
    assert!(
        keys.windows(2).all(|w| w[0] == w[1]),
        "same peers everywhere"
    );

    // The validator set, proven against node 0's header.
    let vals = c.get(n1, "/v1/validators");
    verify_state(&vals, n0);
    for (i, v) in vals["validators"].as_array().unwrap().iter().enumerate() {
        assert_eq!(v["name"], format!("org{i}"));
        assert_eq!(v["public_key"], keys[0][i]);
        let pk = unhex(&v["public_key"]);
        assert_eq!(
            v["address"],
            Address::from_public_key(&ChainHash(SUITE), &pk).to_string()
        );
    }
    assert_eq!(vals["validators"].as_array().unwrap().len(), 4);
    let at_genesis = c.get(n2, "/v1/validators?height=0");
    assert_eq!(at_genesis["validators"], vals["validators"]);
    verify_state(&at_genesis, n1);

    // Writes to one node in commit mode, read back from others.
    let (alice, bob, carol) = (fresh_key(), fresh_key(), fresh_key());
    let (alice_addr, bob_addr, carol_addr) = (address(&alice), address(&bob), address(&carol));
    let sym = fresh_symbol();
    let commit = "/v1/txs?mode=commit&timeout_ms=30000";
    let created = sign(&alice, 0, create(&sym));
    let r = c.post_json(n0, commit, &submit_body(&created));
    assert_eq!(r["receipt"]["events"][0]["kind"], "asset_created", "{r}");
    let minted = sign(&alice, 1, mint(&sym, alice_addr, 1000));
    let r = c.post_json(n1, commit, &submit_body(&minted));
    assert_eq!(r["receipt"]["code"], "ok", "{r}");

    // Subscribed before the transfer: its block event, then its receipt event, live.
    let mut live = c.events(n1, &format!("?address={alice_addr}"), None);
    let moved = sign(&alice, 2, transfer(&sym, bob_addr, 250));
    let r = c.post_json(n0, commit, &submit_body(&moved));
    assert_eq!(r["status"], "committed");
    assert_eq!(r["receipt"]["code"], "ok", "{r}");
    let ev = &r["receipt"]["events"][0];
    assert_eq!(ev["kind"], "transferred");
    assert_eq!(ev["decoded"]["amount"], "250");
    assert_eq!(ev["decoded"]["to"], bob_addr.to_string());
    let height = r["receipt"]["height"].as_u64().unwrap();
    let th = tx_hash(&moved);
    let mut last_block = Value::Null;
    let event = loop {
        let m = live.next();
        match m.event.as_str() {
            "block" => {
                c.check("BlockEvent", &m.data);
                assert_eq!(m.id, m.data["height"].to_string());
                last_block = m.data;
            }
            "event" => {
                c.check("ChainEvent", &m.data);
                if m.data["tx_hash"] == th {
                    break m;
                }
            }
            other => panic!("unexpected event type {other}"),
        }
    };
    drop(live);
    assert_eq!(last_block["height"], height, "the block event comes first");
    assert!(last_block["tx_count"].as_u64().unwrap() >= 1);
    assert_eq!(event.data["height"], height);
    assert_eq!(event.data["kind"], "transferred");
    assert_eq!(event.data["sender"], alice_addr.to_string());
    assert_eq!(event.data["decoded"]["amount"], "250");
    assert_eq!(
        event.id,
        format!("{height}/{}/0", event.data["tx_index"].as_u64().unwrap())
    );

    // The transaction from node 2, its inclusion proven against node 3's block.
    let a = n2.final_tx(&th);
    let tx = c.ok(&a);
    assert_eq!(tx["height"], height);
    assert_eq!(tx["receipt"]["code"], "ok");
    assert_eq!(tx["receipt"]["sender"], alice_addr.to_string());
    verify_inclusion(&moved, &tx, n3);
    assert_eq!(c.get(n2, &format!("/v1/txs/0x{th}"))["hash"], th);

    // Blocks by height, by hash, latest; the latest header; genesis.
    let b = c.get(n0, &format!("/v1/blocks/{height}"));
    assert_eq!(b["height"], height);
    assert_eq!(b["header"], tx["inclusion"]["header"]);
    assert_eq!(b["hash"], tx["inclusion"]["block_hash"]);
    assert!(b["tx_hashes"].as_array().unwrap().contains(&json!(th)));
    let same = c.get(
        n0,
        &format!("/v1/blocks/by-hash/{}", b["hash"].as_str().unwrap()),
    );
    assert_eq!(same, b);
    let mut elsewhere = c.get(
        n1,
        &format!("/v1/blocks/by-hash/{}", b["hash"].as_str().unwrap()),
    );
    // Each node stores the certificate it saw; everything else is the same block.
    elsewhere["certificate"] = b["certificate"].clone();
    assert_eq!(elsewhere, b);
    let latest = c.get(n2, "/v1/blocks/latest");
    assert!(latest["height"].as_u64().unwrap() >= height);
    assert!(!latest["certificate"].as_str().unwrap().is_empty());
    let hdr = c.get(n2, "/v1/headers/latest");
    assert!(hdr["height"].as_u64().unwrap() >= latest["height"].as_u64().unwrap());
    let hdr_block = c.get(n2, &format!("/v1/blocks/{}", hdr["height"]));
    assert_eq!(hdr["hash"], hdr_block["hash"]);
    assert_eq!(hdr["header"], hdr_block["header"]);
    assert_eq!(
        hdr["tx_count"],
        hdr_block["tx_hashes"].as_array().unwrap().len()
    );
    let genesis = c.get(n0, "/v1/blocks/0");
    assert_eq!(genesis["height"], 0);
    assert_eq!(genesis["certificate"], "");
    assert_eq!(c.get(n3, "/v1/blocks/0")["hash"], genesis["hash"]);

    // Raw state with proofs (and at an older height: absent), bank and notary conveniences.
    let key = balance_key(&sym, &bob_addr);
    let raw = c.get(n1, &format!("/v1/state/{}", hex::encode(&key)));
    assert_eq!(raw["key"], hex::encode(&key));
    assert!(verify_state(&raw, n3).is_some());
    let before = c.get(
        n1,
        &format!("/v1/state/{}?height={}", hex::encode(&key), height - 1),
    );
    assert_eq!(before["height"], height - 1);
    assert!(verify_state(&before, n0).is_none(), "non-membership proof");
    // Many keys at one height in one request: present and absent, each proof against the
    // one header; refusals of an empty, oversized or malformed key list.
    let absent_key = format!("bank/none/{}", hex::encode(rand::random::<[u8; 8]>()));
    let batch = c.post_json(
        n2,
        "/v1/state/batch",
        &json!({"keys": [hex::encode(&key), hex::encode(&absent_key)], "height": height}),
    );
    assert_eq!(batch["height"], height, "{batch}");
    let items = batch["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    for (item, present) in items.iter().zip([true, false]) {
        let mut view = item.clone();
        for field in ["header", "state_root", "height"] {
            view[field] = batch[field].clone();
        }
        assert_eq!(verify_state(&view, n0).is_some(), present, "{view}");
    }
    assert_eq!(items[0]["value"], raw["value"]);
    let values = c.post_json(
        n1,
        "/v1/state/batch",
        &json!({"keys": [hex::encode(&key), hex::encode(&absent_key)], "height": height, "proofs": false}),
    );
    assert_eq!(values["height"], height, "{values}");
    assert_eq!(values["items"][0]["value"], raw["value"], "{values}");
    assert_eq!(values["items"][0]["proof"], Value::Null, "{values}");
    assert_eq!(values["items"][1]["value"], Value::Null, "{values}");
    for (body, code) in [
        (json!({"keys": []}), "api.bad_key"),
        (json!({"keys": ["zz"]}), "api.bad_key"),
        (json!({"keys": vec!["00"; 257]}), "api.batch_too_large"),
        (json!({"keys": ["00"], "height": u64::MAX}), "api.not_found"),
    ] {
        let a = n2.post_json("/v1/state/batch", &body);
        assert_error("a bad state batch", &a, code);
    }
    let bal = c.get(n2, &format!("/v1/bank/balance/{sym}/{bob_addr}"));
    assert_eq!(bal["balance"], "250");
    assert_eq!(bal["symbol"], sym);
    assert_eq!(bal["address"], bob_addr.to_string());
    assert_eq!(bal["value"], raw["value"]);
    verify_state(&bal, n0);
    let asset = c.get(n0, &format!("/v1/bank/assets/{sym}"));
    assert_eq!(asset["asset"]["supply"], "1000");
    assert_eq!(asset["asset"]["max_supply"], "1000000");
    assert_eq!(asset["asset"]["decimals"], 2);
    assert_eq!(asset["asset"]["issuer"], alice_addr.to_string());
    verify_state(&asset, n1);
    let none = c.get(n0, &format!("/v1/bank/assets/{}", fresh_symbol()));
    assert_eq!(none["asset"], Value::Null);
    assert!(verify_state(&none, n2).is_none());

    // Notarisation, submitted async, final on another node, record with its proof.
    let doc: [u8; 32] = rand::random();
    let registered = sign(&bob, 0, notarize(doc, "bill-of-lading-0042.pdf"));
    let a = c.post_json(n2, "/v1/txs", &submit_body(&registered));
    assert_eq!(a["status"], "accepted");
    assert_eq!(a["hash"], tx_hash(&registered));
    assert_eq!(a["receipt"], Value::Null);
    let final_on_0 = n0.final_tx(&tx_hash(&registered));
    let rt = c.ok(&final_on_0);
    assert_eq!(rt["receipt"]["events"][0]["kind"], "notarized");
    n1.wait_height(rt["height"].as_u64().unwrap());
    let rec = c.get(n1, &format!("/v1/notary/{}", hex::encode(doc)));
    assert_eq!(rec["record"]["owner"], bob_addr.to_string());
    assert_eq!(rec["record"]["metadata_text"], "bill-of-lading-0042.pdf");
    assert_eq!(rec["record"]["tx_hash"], tx_hash(&registered));
    assert_eq!(rec["record"]["height"], rt["height"]);
    verify_state(&rec, n2);
    // Outcomes of several transactions in one request, in order.
    let unknown = hex::encode(rand::random::<[u8; 32]>());
    let out = c.post_json(
        n0,
        "/v1/txs/outcomes",
        &json!({"hashes": [tx_hash(&registered), unknown]}),
    );
    assert_eq!(out["outcomes"][0]["status"], "final", "{out}");
    assert_eq!(out["outcomes"][0]["code"], "ok", "{out}");
    assert_eq!(out["outcomes"][0]["height"], rt["height"], "{out}");
    assert_eq!(
        out["outcomes"][0]["events"][0]["kind"], "notarized",
        "{out}"
    );
    assert_eq!(out["outcomes"][1]["status"], "unknown", "{out}");
    assert_eq!(out["outcomes"][1]["events"], json!([]), "{out}");
    let absent = c.get(
        n1,
        &format!("/v1/notary/{}", hex::encode(rand::random::<[u8; 32]>())),
    );
    assert_eq!(absent["record"], Value::Null);
    assert!(verify_state(&absent, n0).is_none());

    // Identity on an open chain: a policy answers (every role, rule `open`, with the proof
    // that the chain has no certificate mode); members are 404 (see BAD_GETS; the 200 schema
    // is validated by tests/certs.rs on a certificate-mode chain).
    let pol = c.get(n2, "/v1/identity/policies/bank.create_asset");
    assert_eq!(pol["call"], "bank.create_asset");
    assert_eq!(pol["mode"], "open");
    assert_eq!(pol["rule"], "open");
    assert_eq!(pol["policy"], Value::Null);
    assert!(pol["roles"].as_array().unwrap().contains(&json!("client")));
    assert!(
        verify_state(&pol, n0).is_none(),
        "open: no identity/mode key"
    );
    let a = n1.get(&format!("/v1/identity/members/{alice_addr}"));
    assert_error("a member on an open chain", &a, "api.not_found");
    // Exercised: its 200 answer is validated against the schema by tests/certs.rs.
    c.seen
        .insert(("/v1/identity/members/{address}".into(), "get".into()));
    // Governance on an open chain: no proposal can exist (proposing needs an admin
    // certificate); the listing proves the next id's absence, a proposal is 404 (see
    // BAD_GETS; its 200 answer is validated against the schema by tests/governance.rs).
    let page = c.get(n2, "/v1/identity/proposals?from=1&limit=5");
    assert_eq!(page["next_id"], 1);
    assert_eq!(page["proposals"], json!([]));
    assert!(verify_state(&page, n1).is_none());
    let a = n0.get("/v1/identity/proposals/1");
    assert_error("a proposal on an open chain", &a, "identity.no_proposal");
    c.seen
        .insert(("/v1/identity/proposals/{id}".into(), "get".into()));

    // Batches: binary to node 1 (one bad signature among them), JSON to node 2 (one tx that
    // does not decode); one outcome per transaction, in order; then all final.
    let to_carol = [
        sign(&bob, 1, transfer(&sym, carol_addr, 10)),
        sign(&bob, 2, transfer(&sym, carol_addr, 20)),
    ];
    let mut forged = sign(&carol, 0, notarize(rand::random(), "forged"));
    forged.signature[5] ^= 1;
    let binary = encode_batch(&[to_carol[0].encode(), forged.encode(), to_carol[1].encode()]);
    let a = n1.post("/v1/txs/batch", "application/octet-stream", &binary);
    let v = c.ok(&a);
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(2), Some(1)),
        "{v}"
    );
    let codes: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ok", "tx.bad_signature", "ok"]);
    assert_eq!(v["results"][0]["hash"], tx_hash(&to_carol[0]));
    assert_eq!(v["results"][1]["hash"], Value::Null);
    let carol_doc = sign(&carol, 0, notarize(rand::random(), "carol"));
    let v = c.post_json(
        n2,
        "/v1/txs/batch",
        &json!({"txs": [hex::encode(carol_doc.encode()), "0102"]}),
    );
    assert_eq!(v["results"][0]["code"], "ok", "{v}");
    assert_eq!(v["results"][0]["hash"], tx_hash(&carol_doc));
    assert_eq!(v["results"][1]["code"], "tx.malformed");
    let mut last = 0;
    for tx in to_carol.iter().chain([&carol_doc]) {
        let v = c.ok(&n0.final_tx(&tx_hash(tx)));
        assert_eq!(v["receipt"]["code"], "ok", "{v}");
        last = last.max(v["height"].as_u64().unwrap());
    }
    n2.wait_height(last);
    let bal = c.get(n2, &format!("/v1/bank/balance/{sym}/{carol_addr}"));
    assert_eq!(bal["balance"], "30");
    verify_state(&bal, n1);

    // Resuming: after the transfer's block id (node 0), then exactly after its event id
    // (node 0, live), and replaying from its height (node 1).
    let mut after_block = c.events(
        n0,
        &format!("?address={alice_addr}"),
        Some(&height.to_string()),
    );
    let m = after_block.next();
    assert_eq!(
        (m.event.as_str(), m.id.as_str()),
        ("event", event.id.as_str())
    );
    assert_eq!(m.data["tx_hash"], th);
    drop(after_block);
    let mut after_event = c.events(
        n0,
        &format!("?address={alice_addr}&blocks=false"),
        Some(event.id.as_str()),
    );
    let again = sign(&alice, 3, transfer(&sym, bob_addr, 1));
    let a = n2.post_json(commit, &submit_body(&again));
    c.ok(&a);
    check_committed(&a, &again);
    let m = after_event.next();
    assert_eq!(
        m.data["tx_hash"],
        tx_hash(&again),
        "next after {}",
        event.id
    );
    drop(after_event);
    let mut replay = c.events(
        n1,
        &format!("?from_height={height}&kind=transferred&blocks=false&address={alice_addr}"),
        None,
    );
    let m = replay.next();
    assert_eq!(m.id, event.id);
    assert_eq!(m.data, event.data);
    drop(replay);

    // A contract: the counter example uploaded in parts (async, in nonce order) and deployed
    // through node 0; its record proven from node 1 against node 2's header; queried on
    // node 2.
    let code = meridian_wasm_build::example("contract-counter");
    let dave = fresh_key();
    let code_hash = ChainHash(SUITE).hash(&code);
    let part_len = meridian_contract::MAX_PART_LEN;
    let parts: Vec<&[u8]> = code.chunks(part_len).collect();
    for (i, part) in parts.iter().enumerate() {
        let call = meridian_contract::ContractCall::Upload {
            code_hash,
            total: code.len() as u32,
            offset: (i * part_len) as u32,
            bytes: part.to_vec(),
        };
        let a = n0.submit(&sign(&dave, i as u64, call.into_call()));
        assert_eq!(a.status, 200, "upload part {i}: {}", a.text);
    }
    let deploy = meridian_contract::ContractCall::Deploy {
        name: "counter".into(),
        code_hash,
        msg: br#"{"start": 5}"#.to_vec(),
        fuel: 100_000_000,
        allow_reentry: false,
    };
    let deploy = sign(&dave, parts.len() as u64, deploy.into_call());
    let r = c.post_json(n0, commit, &submit_body(&deploy));
    assert_eq!(r["receipt"]["code"], "ok", "{r}");
    assert!(r["receipt"]["gas_used"].as_u64().unwrap() > 0, "{r}");
    let deployed_at = r["receipt"]["height"].as_u64().unwrap();
    n1.wait_height(deployed_at);
    let info = c.get(n1, "/v1/contracts/counter");
    assert_eq!(info["contract"]["code_hash"], hex::encode(code_hash));
    assert_eq!(info["contract"]["creator"], address(&dave).to_string());
    assert_eq!(info["contract"]["deployed_height"], deployed_at);
    assert_eq!(info["contract"]["frozen"], false);
    assert!(verify_state(&info, n2).is_some());
    n2.wait_height(deployed_at);
    let q = c.post_json(
        n2,
        "/v1/contracts/counter/query",
        &json!({"msg": {"get": {}}}),
    );
    assert_eq!(q["result"]["count"], 5, "{q}");
    assert_eq!(q["result"]["creator"], address(&dave).to_string());
    assert!(q["height"].as_u64().unwrap() >= deployed_at);
    assert!(q["gas_used"].as_u64().unwrap() > 0);

    // Metrics: Prometheus text of every node but the rate-limited one.
    for n in [n0, n1, n2] {
        let a = n.get("/metrics");
        c.ok(&a);
        check_metrics(&a, height);
    }

    c.assert_all_seen();
}

#[test]
fn every_error_code() {
    let _pool = POOL.read().unwrap_or_else(PoisonError::into_inner);
    let net = net();
    let [n0, n1, n2, n3] = net.four();
    let mut w = Walk {
        doc: n0.get_ok("/openapi.json"),
        seen: BTreeMap::new(),
        undocumented: BTreeSet::new(),
    };
    let probe = sign(&fresh_key(), 0, create(&fresh_symbol()));

    // Node 3: a 3-transaction pool, 2 per sender. A transaction after a nonce gap stays
    // pooled (gossip may briefly fill the pool with others' transactions: wait for room).
    let s1 = fresh_key();
    let gap = sign(&s1, 1, create(&fresh_symbol()));
    until("node 3 to pool a transaction", || {
        let a = n3.submit(&gap);
        if a.status == 200 {
            return Some(());
        }
        assert_error("gap tx to node 3", &a, "mempool.full");
        None
    });
    w.expect(
        "a pooled tx",
        &n3.get(&format!("/v1/txs/{}", tx_hash(&gap))),
        "api.tx_pending",
    );
    w.expect("the same tx again", &n3.submit(&gap), "tx.replayed");
    w.expect(
        "another tx with a pooled nonce",
        &n3.submit(&sign(&s1, 1, create(&fresh_symbol()))),
        "tx.nonce_taken",
    );
    w.expect(
        "a nonce beyond the 2-tx window",
        &n3.submit(&sign(&s1, 2, create(&fresh_symbol()))),
        "mempool.sender_full",
    );
    let full = until("node 3's pool to fill", || {
        let a = n3.submit(&sign(&fresh_key(), 1, create(&fresh_symbol())));
        (a.status != 200).then_some(a)
    });
    w.expect("a tx into the full pool", &full, "mempool.full");

    // Node 3: 2 requests/s, burst 4.
    let refused = (0..20)
        .map(|_| n3.once("GET", "/v1/status", &[], &[]))
        .find(|a| a.status == 429)
        .expect("20 quick requests to node 3, none refused");
    assert!(refused.retry_after.is_some_and(|s| s >= 1), "Retry-After");
    w.expect("over the rate", &refused, "api.rate_limited");
    let junk = encode_batch(&vec![vec![0u8; 4]; 5]);
    let over = until("node 3 to judge a batch above its burst", || {
        let a = n3.once(
            "POST",
            "/v1/txs/batch",
            &[("content-type", "application/octet-stream")],
            &junk,
        );
        // Refused by the per-request limiter first? Wait for tokens.
        (a.status != 429 || a.text.contains("burst")).then_some(a)
    });
    w.expect(
        "a batch of 5 above the burst of 4",
        &over,
        "api.rate_limited",
    );
    assert!(over.text.contains("burst"), "{}", over.text);

    // Paths and queries of GETs, spread over nodes 0-2.
    for (i, (code, path)) in BAD_GETS.iter().enumerate() {
        let path = path
            .replace("{random}", &hex::encode(rand::random::<[u8; 32]>()))
            .replace("{zeros}", &"00".repeat(32))
            .replace("{address}", &"00".repeat(20))
            .replace("{long}", &"ab".repeat(1025))
            .replace("{17}", &vec!["a"; 17].join(","));
        w.expect(&format!("GET {path}"), &net.nodes[i % 3].get(&path), code);
    }
    w.expect(
        "Last-Event-ID 7/x",
        &n1.send("GET", "/v1/events", &[("last-event-id", "7/x")], &[]),
        "api.bad_filter",
    );
    for (m, path) in [
        ("DELETE", "/v1/status"),
        ("GET", "/v1/txs"),
        ("POST", "/v1/blocks/latest"),
        ("PUT", "/v1/txs/batch"),
    ] {
        let a = n1.send(m, path, &[], b"x");
        assert!(a.allow.is_some(), "405 carries Allow: {m} {path}");
        w.expect(&format!("{m} {path}"), &a, "api.method_not_allowed");
    }
    let body = submit_body(&probe);
    w.expect(
        "timeout_ms=-5",
        &n2.post_json("/v1/txs?timeout_ms=-5", &body),
        "api.bad_query",
    );
    w.expect(
        "mode=sync",
        &n0.post_json("/v1/txs?mode=sync", &body),
        "api.bad_mode",
    );

    // Bodies.
    for (what, a, code) in bad_bodies(n1, &probe) {
        w.expect(what, &a, code);
    }

    // Transactions refused at admission.
    let s2 = fresh_key();
    let other = ChainId::new("other-chain").unwrap();
    w.expect(
        "another chain's tx",
        &n0.submit(&sign_tx(&s2, &other, 0, EXPIRY, create(&fresh_symbol()))),
        "tx.wrong_chain",
    );
    let mut forged = sign(&s2, 0, create(&fresh_symbol()));
    forged.signature[3] ^= 1;
    w.expect("bad signature", &n1.submit(&forged), "tx.bad_signature");
    w.expect(
        "expired at height 1",
        &n2.submit(&sign_tx(&s2, &chain(), 0, 1, create(&fresh_symbol()))),
        "tx.expired",
    );
    // Final on node 0, then sent to node 1 (once it has the block and dropped it from its pool).
    let first = sign(&s2, 0, create(&fresh_symbol()));
    let h = n0.commit(&first)["receipt"]["height"].as_u64().unwrap();
    n1.wait_height(h);
    let stale = until("node 1 to drop the committed tx from its pool", || {
        let a = n1.submit(&first);
        (a.status != 400 || a.json()["code"] != "tx.replayed").then_some(a)
    });
    w.expect("a committed tx again", &stale, "tx.stale_nonce");
    // Accepted after a nonce gap, so never final within the wait.
    w.expect(
        "commit wait on a tx after a nonce gap",
        &n0.post_json(
            "/v1/txs?mode=commit&timeout_ms=300",
            &submit_body(&sign(&s2, 2, create(&fresh_symbol()))),
        ),
        "api.commit_timeout",
    );

    // Batches too large.
    w.expect(
        "513 txs as JSON",
        &n2.post_json("/v1/txs/batch", &json!({ "txs": vec!["00"; 513] })),
        "api.batch_too_large",
    );
    w.expect(
        "binary count of 600",
        &n0.post(
            "/v1/txs/batch",
            "application/octet-stream",
            &600u16.to_be_bytes(),
        ),
        "api.batch_too_large",
    );

    // Event streams: node 2 serves MAX_EVENT_STREAMS at once.
    {
        let open: Vec<TcpStream> = (0..MAX_EVENT_STREAMS).map(|_| n2.raw_stream()).collect();
        w.expect(
            "one stream more than the node serves",
            &n2.get("/v1/events"),
            "api.too_many_streams",
        );
        drop(open);
        // The server frees a slot when it next writes to the gone client (the next block).
        until("node 2 to free its event-stream slots", || {
            (n2.stream_status() == 200).then_some(())
        });
    }

    // Nothing was admitted from refused requests.
    for n in [n0, n1, n2] {
        w.expect(
            "a tx only sent in refused requests",
            &n.get(&format!("/v1/txs/{}", tx_hash(&probe))),
            "api.not_found",
        );
    }

    // Every code was provoked, except the documented few.
    for (code, why) in NOT_PROVOKED {
        assert!(ERROR_CODES.iter().any(|e| e.code == *code), "{code}: {why}");
        assert!(
            !w.seen.contains_key(*code),
            "{code} was provoked: drop it from NOT_PROVOKED"
        );
    }
    let missing: Vec<&str> = ERROR_CODES
        .iter()
        .map(|e| e.code)
        .filter(|c| !w.seen.contains_key(*c) && !NOT_PROVOKED.iter().any(|(n, _)| n == c))
        .collect();
    assert!(missing.is_empty(), "codes never provoked: {missing:?}");
    for (m, t, code) in KNOWN_UNDOCUMENTED {
        assert!(
            w.undocumented
                .contains(&(m.to_string(), t.to_string(), code.to_string())),
            "{m} {t} now documents {code}: drop it from KNOWN_UNDOCUMENTED"
        );
    }
}

#[test]
fn bad_bodies_change_nothing() {
    let _pool = POOL.write().unwrap_or_else(PoisonError::into_inner);
    let net = net();
    let [n0, n1, n2, _] = net.four();
    let nodes = [n0, n1, n2];

    // A key we own with a balance, and a valid transfer of all of it that must never land.
    let owner = fresh_key();
    let me = address(&owner);
    let sym = fresh_symbol();
    n0.commit(&sign(&owner, 0, create(&sym)));
    n1.commit(&sign(&owner, 1, mint(&sym, me, 500)));
    let valid = sign(&owner, 2, transfer(&sym, address(&fresh_key()), 500));
    let balance = format!("/v1/bank/balance/{sym}/{me}");

    let before = settle(&nodes);
    let value_before: Vec<Value> = nodes
        .iter()
        .map(|n| n.get_ok(&balance)["value"].clone())
        .collect();
    assert!(value_before
        .iter()
        .all(|v| *v == value_before[0] && !v.is_null()));

    let other = ChainId::new("other-chain").unwrap();
    let mut forged = valid.clone();
    forged.signature[7] ^= 1;
    let bad_txs = [
        (
            "another chain",
            sign_tx(&owner, &other, 2, EXPIRY, transfer(&sym, me, 1)),
            "tx.wrong_chain",
        ),
        ("forged signature", forged, "tx.bad_signature"),
        (
            "expired",
            sign_tx(&owner, &chain(), 2, 1, transfer(&sym, me, 1)),
            "tx.expired",
        ),
        (
            "a used nonce",
            sign(&owner, 1, transfer(&sym, me, 1)),
            "tx.stale_nonce",
        ),
    ];
    for n in nodes {
        for (what, a, code) in bad_bodies(n, &valid) {
            assert_error(&format!("node {}: {what}", n.i), &a, code);
        }
        for (what, tx, code) in &bad_txs {
            assert_error(&format!("node {}: {what}", n.i), &n.submit(tx), code);
        }
    }

    // A block later: same pools, same state roots, same value with a verifying proof, and the
    // hidden transaction known nowhere.
    let after = settle(&nodes);
    assert_eq!(after, before, "(mempool size, state root) of nodes 0-2");
    for (i, n) in nodes.iter().enumerate() {
        let v = n.get_ok(&balance);
        assert_eq!(v["balance"], "500");
        assert_eq!(v["value"], value_before[i]);
        verify_state(&v, nodes[(i + 1) % 3]);
        assert_error(
            "the hidden valid tx",
            &n.get(&format!("/v1/txs/{}", tx_hash(&valid))),
            "api.not_found",
        );
    }
}

/// (mempool size, state root) of each node, once stable across a block finalized on every
/// node after the call (so transactions in flight have landed).
fn settle(nodes: &[&Node]) -> Vec<(u64, String)> {
    let snapshot = || -> (u64, Vec<(u64, String)>) {
        let s: Vec<Value> = nodes.iter().map(|n| n.status()).collect();
        let top = s
            .iter()
            .map(|s| s["height"].as_u64().unwrap())
            .max()
            .unwrap();
        let v = s
            .iter()
            .map(|s| {
                (
                    s["mempool_size"].as_u64().unwrap(),
                    s["state_root"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        (top, v)
    };
    until(
        "the mempools and state roots of nodes 0-2 to settle",
        || {
            let (top, first) = snapshot();
            for n in nodes {
                n.wait_height(top + 1);
            }
            let (_, second) = snapshot();
            (first == second).then_some(second)
        },
    )
}
