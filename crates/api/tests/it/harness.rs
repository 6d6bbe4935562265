//! A real one-validator node behind the real router on 127.0.0.1:0: ledger with storage,
//! mempool and modules, blocks made by `propose` + `finalize` (as consensus would drive them,
//! minus the network), and a blocking HTTP client.

use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meridian_api::{ApiContext, ApiOptions, PeerInfo, RuntimeMetrics};
use meridian_crypto::{PrivateKey, Suite};
use meridian_identity::{CaParams, Certificate, IssueRequest, OrgCa, Role, Serial, SigningKey};
use meridian_mempool::MempoolConfig;
use meridian_node::{
    sign_tx, submitter, Genesis, GenesisOrg, GenesisValidator, Ledger, LedgerConfig,
};
use meridian_types::{Address, Block, Call, Encode, SignedTx};
use serde_json::Value;

pub struct Opts {
    pub suite: Suite,
    pub mempool: MempoolConfig,
    pub api: ApiOptions,
    /// Make a block whenever the mempool is not empty.
    pub auto_produce: bool,
    pub peers: Vec<PeerInfo>,
    pub runtime_metrics: Option<RuntimeMetrics>,
    /// Certificate mode: organisations org0 and org1, each with a CA and an admin
    /// ([`Node::admins`]); the validator holds an org0 `consensus` certificate.
    pub certs: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            suite: Suite::Intl,
            mempool: MempoolConfig::default(),
            api: ApiOptions::default(),
            auto_produce: true,
            peers: Vec::new(),
            runtime_metrics: None,
            certs: false,
        }
    }
}

pub struct Node {
    pub ledger: Arc<Ledger>,
    pub url: String,
    pub validator: PrivateKey,
    /// Certificate mode: the admin of org<i> (empty on an open chain).
    pub admins: Vec<PrivateKey>,
    produce_lock: Arc<Mutex<()>>,
    stop: Arc<AtomicBool>,
    producer: Option<JoinHandle<()>>,
    rt: Option<tokio::runtime::Runtime>,
    agent: ureq::Agent,
    _gossip: futures::channel::mpsc::Receiver<Vec<u8>>,
    _dir: tempfile::TempDir,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub const CERT: &[u8] = &[0xce, 0x27];

/// Certificate validity used by the certificate-mode harness (unix seconds).
const NOT_BEFORE: u64 = 1_600_000_000;
const NOT_AFTER: u64 = 4_000_000_000;

/// An organisation CA whose key comes from `seed`.
pub fn org_ca(suite: Suite, org: &str, seed: u8) -> OrgCa {
    let params = CaParams {
        org: org.into(),
        common_name: None,
        not_before: NOT_BEFORE,
        not_after: NOT_AFTER,
        serial: Serial::from_u64(1).unwrap(),
    };
    let key = PrivateKey::from_seed(suite, &[seed; 32]);
    OrgCa::create(&params, SigningKey::try_from(&key).unwrap()).unwrap()
}

/// A member certificate for `key`.
pub fn issue(ca: &OrgCa, key: &PrivateKey, name: &str, role: Role, serial: u64) -> Certificate {
    ca.issue(&IssueRequest {
        name: name.into(),
        role,
        public_key: key.public_key().into(),
        not_before: NOT_BEFORE,
        not_after: NOT_AFTER,
        serial: Serial::from_u64(serial).unwrap(),
    })
    .unwrap()
}

fn produce_on(ledger: &Ledger, proposer: &[u8], lock: &Mutex<()>) -> Block {
    let _g = lock.lock().unwrap();
    let tip = ledger.finalized_block().unwrap();
    let parent = tip.hash(&ledger.hasher());
    let view = tip.header.view + 1;
    let block = ledger
        .propose(&parent, view, proposer, now_ms())
        .expect("propose");
    ledger.finalize(&block, CERT.to_vec()).expect("finalize");
    block
}

impl Node {
    pub fn start(opts: Opts) -> Node {
        let validator = PrivateKey::from_seed(opts.suite, &[200; 32]);
        let mut genesis = Genesis {
            chain_id: format!("api-test-{}", opts.suite),
            suite: opts.suite.to_string(),
            timestamp_ms: 1_700_000_000_000,
            validators: vec![GenesisValidator {
                name: "org0".into(),
                public_key: hex::encode(validator.public_key().as_bytes()),
            }],
            orgs: Vec::new(),
            members: Vec::new(),
            policies: Vec::new(),
            epoch_blocks: None,
            fault_tolerance: None,
        };
        let mut admins = Vec::new();
        if opts.certs {
            for i in 0..2u8 {
                let ca = org_ca(opts.suite, &format!("org{i}"), 210 + i);
                let admin = PrivateKey::from_seed(opts.suite, &[220 + i; 32]);
                let pem = |c: Certificate| c.to_pem().unwrap();
                genesis.orgs.push(GenesisOrg {
                    id: format!("org{i}"),
                    ca_cert: pem(ca.certificate().clone()),
                });
                genesis.members.push(pem(issue(
                    &ca,
                    &admin,
                    &format!("org{i}-admin"),
                    Role::Admin,
                    10 + u64::from(i),
                )));
                if i == 0 {
                    genesis
                        .members
                        .push(pem(issue(&ca, &validator, "node0", Role::Consensus, 9)));
                }
                admins.push(admin);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let cfg = LedgerConfig {
            mempool: opts.mempool,
            ..LedgerConfig::default()
        };
        let ledger = Arc::new(Ledger::open(dir.path(), &genesis, cfg).unwrap());
        let (sub, gossip) = submitter(ledger.clone());
        let mut ctx = ApiContext::new(sub)
            .with_options(opts.api)
            .with_peers(opts.peers);
        if let Some(f) = opts.runtime_metrics {
            ctx = ctx.with_runtime_metrics(f);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move {
            let _ = meridian_api::serve(listener, ctx).await;
        });
        let stop = Arc::new(AtomicBool::new(false));
        let produce_lock = Arc::new(Mutex::new(()));
        let producer = opts.auto_produce.then(|| {
            let (l, stop, lock) = (ledger.clone(), stop.clone(), produce_lock.clone());
            let proposer = validator.public_key().as_bytes().to_vec();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if l.mempool_len() > 0 {
                        produce_on(&l, &proposer, &lock);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Node {
            ledger,
            url,
            validator,
            admins,
            produce_lock,
            stop,
            producer,
            rt: Some(rt),
            agent,
            _gossip: gossip,
            _dir: dir,
        }
    }

    /// Makes one block now (empty if the pool is).
    pub fn produce(&self) -> Block {
        produce_on(
            &self.ledger,
            self.validator.public_key().as_bytes(),
            &self.produce_lock,
        )
    }

    pub fn address(&self, key: &PrivateKey) -> Address {
        self.ledger.address_of(key.public_key().as_bytes())
    }

    pub fn sign(&self, key: &PrivateKey, nonce: u64, call: Call) -> SignedTx {
        sign_tx(key, self.ledger.chain_id(), nonce, 1_000_000, call)
    }

    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
        let mut r = r.expect("http request");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        let v = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("not JSON (status {status}): {text}"));
        (status, v)
    }

    /// GET returning status and JSON body (the body must be JSON, errors included).
    pub fn get(&self, path: &str) -> (u16, Value) {
        Self::finish(self.agent.get(format!("{}{path}", self.url)).call())
    }

    /// GET returning status, content type and raw text.
    pub fn get_text(&self, path: &str) -> (u16, String, String) {
        let mut r = self
            .agent
            .get(format!("{}{path}", self.url))
            .call()
            .unwrap();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (
            r.status().as_u16(),
            ct,
            r.body_mut().read_to_string().unwrap(),
        )
    }

    pub fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, "application/json", body.to_string().as_bytes())
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        Self::finish(
            self.agent
                .post(format!("{}{path}", self.url))
                .header("content-type", content_type)
                .send(body),
        )
    }

    /// Submits in commit mode and returns the receipt JSON.
    pub fn commit(&self, tx: &SignedTx) -> Value {
        let (st, v) = self.post_json(
            "/v1/txs?mode=commit&timeout_ms=20000",
            &serde_json::json!({"tx": hex::encode(tx.encode())}),
        );
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["status"], "committed");
        v
    }

    /// Opens `/v1/events` and returns a reader of SSE messages.
    pub fn events(&self, query: &str, last_event_id: Option<&str>) -> Sse {
        let mut req = self.agent.get(format!("{}/v1/events{query}", self.url));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let r = req.call().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Sse {
            reader: BufReader::new(Box::new(r.into_body().into_reader())),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(p) = self.producer.take() {
            let _ = p.join();
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// One SSE message.
#[derive(Debug, Clone)]
pub struct Message {
    pub event: String,
    pub id: String,
    pub data: Value,
}

pub struct Sse {
    reader: BufReader<Box<dyn Read + Send>>,
}

impl Sse {
    /// The next message (comments skipped).
    pub fn next(&mut self) -> Message {
        let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read event stream");
            assert!(n > 0, "event stream ended");
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !data.is_empty() {
                    return Message {
                        event,
                        id,
                        data: serde_json::from_str(&data).unwrap(),
                    };
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

    /// The next message that is not a `block` event.
    pub fn next_event(&mut self) -> Message {
        loop {
            let m = self.next();
            if m.event != "block" {
                return m;
            }
        }
    }
}
