//! A one-validator network on loopback, and a lying node for negative tests.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meridian_crypto::{PrivateKey, Suite};
use meridian_identity::{CaParams, Certificate, IssueRequest, OrgCa, Role, Serial, SigningKey};
use meridian_node::{submitter, Genesis, GenesisOrg, GenesisValidator, Ledger, LedgerConfig};

pub struct LocalNet {
    pub url: String,
    pub genesis: Genesis,
    /// Certificate mode ([`LocalNet::start_certs`]): the admin of org<i>, and its CA.
    pub admins: Vec<(PrivateKey, OrgCa)>,
    stop: Arc<AtomicBool>,
    producer: Option<JoinHandle<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An organisation CA from a seed, valid 2020..2096.
pub fn org_ca(suite: Suite, org: &str, seed: u8) -> OrgCa {
    let params = CaParams {
        org: org.into(),
        common_name: None,
        not_before: 1_600_000_000,
        not_after: 4_000_000_000,
        serial: Serial::from_u64(1).unwrap(),
    };
    let key = PrivateKey::from_seed(suite, &[seed; 32]);
    OrgCa::create(&params, SigningKey::try_from(&key).unwrap()).unwrap()
}

/// A member certificate of `ca` for `key`.
pub fn issue(ca: &OrgCa, key: &PrivateKey, name: &str, role: Role, serial: u64) -> Certificate {
    ca.issue(&IssueRequest {
        name: name.into(),
        role,
        public_key: key.public_key().into(),
        not_before: 1_600_000_000,
        not_after: 4_000_000_000,
        serial: Serial::from_u64(serial).unwrap(),
    })
    .unwrap()
}

impl LocalNet {
    pub fn start(suite: Suite) -> LocalNet {
        Self::start_with(suite, false)
    }

    /// A certificate-mode chain of organisations org0 and org1, each with an admin; the
    /// validator holds an org0 `consensus` certificate.
    pub fn start_certs(suite: Suite) -> LocalNet {
        Self::start_with(suite, true)
    }

    fn start_with(suite: Suite, certs: bool) -> LocalNet {
        let dir = tempfile::tempdir().unwrap();
        let validator = PrivateKey::from_seed(suite, &[100; 32]);
        let mut genesis = Genesis {
            chain_id: format!("sdk-{suite}"),
            suite: suite.to_string(),
            timestamp_ms: now_ms(),
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
        if certs {
            for i in 0..2u8 {
                let ca = org_ca(suite, &format!("org{i}"), 110 + i);
                let admin = PrivateKey::from_seed(suite, &[120 + i; 32]);
                genesis.orgs.push(GenesisOrg {
                    id: format!("org{i}"),
                    ca_cert: ca.certificate().to_pem().unwrap(),
                });
                let cert = issue(&ca, &admin, &format!("org{i}-admin"), Role::Admin, 10);
                genesis.members.push(cert.to_pem().unwrap());
                if i == 0 {
                    let node = issue(&ca, &validator, "node0", Role::Consensus, 11);
                    genesis.members.push(node.to_pem().unwrap());
                }
                admins.push((admin, ca));
            }
        }
        let ledger = Arc::new(
            Ledger::open(
                &dir.path().join("ledger"),
                &genesis,
                LedgerConfig::default(),
            )
            .unwrap(),
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let std_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let (sub, relay) = submitter(ledger.clone());
        runtime.spawn(async move {
            // Keep the relay queue's receiver alive (no peers to gossip to).
            let _relay = relay;
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            meridian_api::serve(listener, meridian_api::ApiContext::new(sub))
                .await
                .unwrap();
        });
        // The block producer: a block every 50 ms, empty or not, like an idle leader.
        let stop = Arc::new(AtomicBool::new(false));
        let producer = {
            let (ledger, stop) = (ledger.clone(), stop.clone());
            let proposer = validator.public_key().as_bytes().to_vec();
            std::thread::spawn(move || {
                let mut view = 0;
                while !stop.load(Ordering::Relaxed) {
                    view += 1;
                    let parent = ledger.finalized_block().unwrap().hash(&ledger.hasher());
                    let block = ledger.propose(&parent, view, &proposer, now_ms()).unwrap();
                    ledger.finalize(&block, Vec::new()).unwrap();
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        LocalNet {
            url,
            genesis,
            admins,
            stop,
            producer: Some(producer),
            runtime: Some(runtime),
            _dir: dir,
        }
    }
}

impl Drop for LocalNet {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(p) = self.producer.take() {
            let _ = p.join();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// A node that answers every request from a fixed table (path → JSON), to show the client
/// rejects forged answers. Serves until dropped (connections are handled one at a time).
pub struct FakeNode {
    pub url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeNode {
    pub fn start(routes: Vec<(String, String)>) -> FakeNode {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                // Drain the headers.
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                }
                let body = routes
                    .iter()
                    .find(|(p, _)| path.starts_with(p.as_str()))
                    .map(|(_, b)| b.clone());
                let (status, body) = match body {
                    Some(b) => ("200 OK", b),
                    None => (
                        "404 Not Found",
                        r#"{"code":"api.not_found","message":"route not found"}"#.into(),
                    ),
                };
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeNode {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
