//! A fifth organisation joins a running alliance and becomes a validator, through the real
//! binary on real sockets: `meridian init --certs` (four organisations, 4-block epochs) and four
//! `meridian node` processes; org4's CA (`ca init`) admitted by vote (`gov propose add-org`,
//! `gov vote`); its node set up with `init --join` for the same genesis, its consensus
//! certificate issued by org4's CA (`ca issue`) and registered by the node key (`keys import`,
//! `tx register-cert`); the founders' address books extended and their nodes restarted one at a
//! time (no downtime); the fifth `meridian node` syncs as a follower; `gov propose
//! add-validator` passes and from the next epoch boundary the chain finalizes with 5 — checked
//! by verifying finalization certificates against the validator sets a client follows from
//! genesis (`query block --genesis`), including blocks finalized while one founder was down,
//! which a 5-validator quorum (4) could only certify with the new node's votes; then `gov
//! propose remove-validator` passes and from the next boundary the chain finalizes with 4.
//!
//! Bounded: every wait has a limit and the whole test a deadline; the nodes are killed when the
//! test ends (also on panic), and by a watchdog process if this test binary dies first.

mod support;
use support::*;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const PASS: &str = "correct horse battery staple";
/// Blocks per consensus epoch: short, so the test crosses many boundaries quickly.
const EPOCH: u64 = 4;
/// The whole test; every wait is cut at this deadline.
const TEST_LIMIT: Duration = Duration::from_secs(240);
const RUST_LOG: &str = "warn,meridian=info,meridian_node=info";

/// Founders 0..4 (from `init --certs`) and the joining node 4, as OS processes.
struct Net {
    /// Config file of node i.
    configs: Vec<PathBuf>,
    apis: Vec<String>,
    children: Vec<Option<Child>>,
    /// Leader of the process group every node joins; kills the group when this process is gone.
    watchdog: Child,
    deadline: Instant,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// GET `url` as JSON; `None` if the node does not answer (yet) or answers with an error.
fn get(url: &str) -> Option<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    agent.get(url).call().ok()?.body_mut().read_json().ok()
}

fn tail(path: &Path, n: usize) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Net {
    fn new(deadline: Instant) -> Net {
        // A process-group leader that outlives nothing: once this test process is gone it kills
        // its group, i.e. every node (they join it when spawned, restarts included).
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill -9 0",
            std::process::id()
        );
        let watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn the watchdog");
        Net {
            configs: Vec::new(),
            apis: Vec::new(),
            children: Vec::new(),
            watchdog,
            deadline,
        }
    }

    fn add(&mut self, config: PathBuf, api: String) {
        self.configs.push(config);
        self.apis.push(api);
        self.children.push(None);
    }

    fn log(&self, i: usize) -> PathBuf {
        self.configs[i].with_file_name("node.log")
    }

    fn start(&mut self, i: usize) {
        assert!(self.children[i].is_none(), "node {i} already runs");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .expect("log file");
        let child = Command::new(BIN)
            .args(["node", "--config"])
            .arg(&self.configs[i])
            .env("RUST_LOG", RUST_LOG)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .process_group(self.watchdog.id() as i32)
            .spawn()
            .expect("spawn meridian node");
        self.children[i] = Some(child);
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 s; asserts a clean exit.
    fn stop(&mut self, i: usize) {
        let mut c = self.children[i].take().expect("node runs");
        let pid = nix::unistd::Pid::from_raw(c.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "node {i} exited with {status} on SIGTERM; log:\n{}",
                    tail(&self.log(i), 30)
                );
                return;
            }
            if Instant::now() > until {
                let _ = c.kill();
                let _ = c.wait();
                panic!("node {i} did not stop within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn status(&self, i: usize) -> Option<Value> {
        get(&format!("{}/v1/status", self.apis[i]))
    }

    fn height(&self, i: usize) -> Option<u64> {
        self.status(i)?["height"].as_u64()
    }

    /// The highest height any of `who` reports.
    fn top(&self, who: &[usize]) -> u64 {
        who.iter()
            .filter_map(|&i| self.height(i))
            .max()
            .unwrap_or(0)
    }

    /// Polls `done` until it holds; panics after `limit` (or the test deadline) with `what`
    /// and the tails of the node logs.
    fn wait(&self, what: &str, limit: Duration, mut done: impl FnMut(&Net) -> bool) {
        let until = (Instant::now() + limit).min(self.deadline);
        loop {
            if done(self) {
                return;
            }
            if Instant::now() > until {
                let heights: Vec<Option<u64>> =
                    (0..self.apis.len()).map(|i| self.height(i)).collect();
                let logs: Vec<String> = (0..self.configs.len())
                    .map(|i| format!("--- node {i} ---\n{}", tail(&self.log(i), 15)))
                    .collect();
                panic!(
                    "timed out ({limit:?} or the test deadline): {what}; heights {heights:?}\n{}",
                    logs.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until every node of `who` has finalized height `h`.
    fn wait_height(&self, who: &[usize], h: u64, limit: Duration) {
        self.wait(&format!("nodes {who:?} reach height {h}"), limit, |n| {
            who.iter().all(|&i| n.height(i).is_some_and(|x| x >= h))
        });
    }

    /// Waits until node `i` has caught up with the highest height of `others` (as it is now).
    fn wait_caught_up(&self, i: usize, others: &[usize], limit: Duration) {
        let target = self.top(others);
        self.wait_height(&[i], target, limit);
    }

    /// Public keys of the validator set in force in node `i`'s finalized state.
    fn validators(&self, i: usize) -> Vec<(String, String)> {
        let v = get(&format!("{}/v1/validators", self.apis[i])).expect("GET /v1/validators");
        v["validators"]
            .as_array()
            .expect("validators")
            .iter()
            .map(|x| {
                (
                    x["name"].as_str().unwrap().to_string(),
                    x["public_key"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

impl Cli {
    /// `gov propose ...` by `proposer`, then `gov vote ID yes` by each of `voters`; asserts it
    /// executed with the last vote and returns that vote's answer.
    fn pass(&self, propose: &[&str], proposer: &str, voters: &[&str]) -> Value {
        let mut args = vec!["gov", "propose"];
        args.extend_from_slice(propose);
        args.extend(["--key", proposer]);
        let opened = self.ok(&args);
        assert_eq!(opened["code"], "ok", "{opened}");
        assert_eq!(opened["status"], "open", "{opened}");
        let id = opened["proposal_id"]
            .as_u64()
            .expect("proposal id")
            .to_string();
        let mut last = opened;
        for (n, voter) in voters.iter().enumerate() {
            last = self.ok(&["gov", "vote", &id, "yes", "--key", voter]);
            assert_eq!(last["code"], "ok", "{last}");
            let expected = if n + 1 == voters.len() {
                "executed"
            } else {
                "open"
            };
            assert_eq!(last["status"], expected, "{last}");
        }
        last
    }

    /// `query block H --genesis GENESIS`: the block's finalization certificate verified against
    /// the validator set of its epoch, which the client follows from genesis (every epoch's
    /// boundary block certified by that epoch's set, the next set proven in its state).
    fn certified(&self, genesis: &Path, h: u64) -> Value {
        let b = self.ok(&[
            "query",
            "block",
            &h.to_string(),
            "--genesis",
            genesis.to_str().unwrap(),
        ]);
        assert_eq!(b["finality"]["kind"], "certified", "block {h}: {b}");
        b["finality"].clone()
    }
}

/// A block of `from..=to` that carries its own finalization certificate (others are finalized
/// through a descendant's), as node `api` stores it.
fn own_certificate(api: &str, from: u64, to: u64) -> Option<u64> {
    (from..=to).find(|h| {
        get(&format!("{api}/v1/blocks/{h}"))
            .is_some_and(|b| b["certificate"].as_str().is_some_and(|c| !c.is_empty()))
    })
}

/// Adds `peer` to the `[[p2p.peers]]` of the config file at `path`.
fn add_peer(path: &Path, peer: &toml::Value) {
    let mut cfg: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    cfg["p2p"]["peers"]
        .as_array_mut()
        .expect("p2p.peers")
        .push(peer.clone());
    std::fs::write(path, toml::to_string(&cfg).unwrap()).unwrap();
}

fn epoch_of(h: u64) -> u64 {
    h / EPOCH
}

#[test]
fn fifth_org_joins_validates_then_one_validator_is_voted_out_sm() {
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("net");
    let pass = root.path().join("pass.txt");
    std::fs::write(&pass, format!("{PASS}\n")).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // Ports base..base+3 for the founders, base+4 for the joining node.
    let (p2p, api) = (free_port_base(5), free_port_base(5));

    // 1. Four organisations in certificate mode, 4-block epochs.
    let o = Command::new(BIN)
        .args(["init", "--orgs", "4", "--certs", "--suite", "sm"])
        .args([
            "--chain-id",
            "alliance-join",
            "--epoch-blocks",
            &EPOCH.to_string(),
        ])
        .args([
            "--p2p-port",
            &p2p.to_string(),
            "--api-port",
            &api.to_string(),
        ])
        .arg("--out")
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&pass)
        .env_remove("MERIDIAN_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "init --certs: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let genesis = out.join("genesis.toml");
    let mut net = Net::new(started + TEST_LIMIT);
    for i in 0..4 {
        net.add(
            out.join(format!("org{i}/config.toml")),
            format!("http://127.0.0.1:{}", api + i as u16),
        );
        net.start(i);
    }
    let founders = [0, 1, 2, 3];
    net.wait_height(&founders, 1, Duration::from_secs(90));
    let cli = Cli {
        keys: out.join("keys"),
        pass: pass.clone(),
        node: net.apis[0].clone(),
    };
    let genesis_set = net.validators(0);
    assert_eq!(genesis_set.len(), 4, "{genesis_set:?}");

    // 2. org4 makes its CA on its own machine (here: its own directory and key store); the
    // founders admit it by vote (majority of 4: org1 proposes, org2 and org3 approve).
    let org4 = root.path().join("org4");
    let ca4 = org4.join("ca");
    cli.ok(&[
        "ca",
        "init",
        "--org",
        "org4",
        "--alg",
        "sm2",
        "--dir",
        &s(&ca4),
    ]);
    cli.pass(
        &[
            "add-org",
            "--org",
            "org4",
            "--ca-cert",
            &s(&ca4.join("ca.pem")),
        ],
        "org1-admin",
        &["org2-admin", "org3-admin"],
    );

    // 3. org4's node: key and config for the same genesis, address book from a founder's.
    let o = Command::new(BIN)
        .arg("init")
        .arg("--join")
        .arg(&genesis)
        .args(["--name", "org4"])
        .arg("--peers-from")
        .arg(out.join("org0/config.toml"))
        .args(["--p2p-port", &(p2p + 4).to_string()])
        .args(["--api-port", &(api + 4).to_string()])
        .arg("--out")
        .arg(&org4)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "init --join: {printed}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read(org4.join("genesis.toml")).unwrap(),
        std::fs::read(&genesis).unwrap()
    );
    let config4 = org4.join("org4/config.toml");
    let cfg4: toml::Table = std::fs::read_to_string(&config4).unwrap().parse().unwrap();
    let peers4 = cfg4["p2p"]["peers"].as_array().unwrap();
    assert_eq!(peers4.len(), 5, "{cfg4}");
    let me = peers4
        .iter()
        .find(|p| p["name"].as_str() == Some("org4"))
        .expect("its own entry")
        .clone();
    assert_eq!(
        me["address"].as_str().unwrap(),
        format!("127.0.0.1:{}", p2p + 4)
    );
    let key4 = me["public_key"].as_str().unwrap().to_string();
    assert!(printed.contains(&key4), "{printed}");
    // Joining twice into the same place is refused.
    let again = Command::new(BIN)
        .arg("init")
        .arg("--join")
        .arg(&genesis)
        .args(["--name", "org4", "--peers-from"])
        .arg(out.join("org0/config.toml"))
        .arg("--out")
        .arg(&org4)
        .output()
        .unwrap();
    assert!(!again.status.success(), "second init --join succeeded");

    // 4. org4's CA certifies the node key for consensus; the node key registers it.
    let cli4 = Cli {
        keys: org4.join("keys"),
        pass: pass.clone(),
        node: net.apis[1].clone(),
    };
    let node_pem = org4.join("node.pem");
    cli4.ok(&[
        "ca",
        "issue",
        "--dir",
        &s(&ca4),
        "--name",
        "org4-node",
        "--role",
        "consensus",
        "--public-key",
        &key4,
        "--out",
        &s(&node_pem),
    ]);
    cli4.ok(&[
        "keys",
        "import",
        "org4-node",
        "--file",
        &s(&org4.join("org4/node.key")),
    ]);
    let reg = cli4.ok(&["tx", "register-cert", &s(&node_pem), "--from", "org4-node"]);
    assert_eq!(reg["code"], "ok", "{reg}");
    let m = cli4.ok(&["query", "member", "org4-node"]);
    assert_eq!(m["member"]["role"], "consensus", "{m}");
    assert_eq!(m["member"]["org"], "org4", "{m}");

    // 5. Every founder lists the new node in its address book: one restart at a time, each
    // node back and caught up before the next goes down (3 of 4 keep finalizing meanwhile).
    for i in founders {
        add_peer(&net.configs[i], &me);
        net.stop(i);
        let others: Vec<usize> = founders.iter().copied().filter(|&j| j != i).collect();
        let h = net.top(&others);
        net.wait_height(&others, h + 2, Duration::from_secs(30));
        net.start(i);
        net.wait_caught_up(i, &others, Duration::from_secs(60));
    }

    // 6. The fifth node starts and syncs as a follower, connected to the founders.
    net.add(config4.clone(), format!("http://127.0.0.1:{}", api + 4));
    net.start(4);
    net.wait_caught_up(4, &founders, Duration::from_secs(60));
    net.wait(
        "node 0 is connected to org4",
        Duration::from_secs(30),
        |n| {
            get(&format!("{}/v1/peers", n.apis[0])).is_some_and(|v| {
                v["peers"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["name"] == "org4" && p["connected"] == true)
                })
            })
        },
    );
    let follower = net.status(4).unwrap();
    assert_eq!(follower["validators"], 4, "{follower}");
    let all = [0, 1, 2, 3, 4];

    // 7. It becomes a validator by vote (majority of 5: org0 proposes, org1 and org2 approve),
    // in force from the next epoch boundary.
    let done = cli.pass(
        &["add-validator", "--name", "org4", "--cert", &s(&node_pem)],
        "org0-admin",
        &["org1-admin", "org2-admin"],
    );
    let added_at = done["height"].as_u64().unwrap();
    let five = epoch_of(added_at) + 1;
    net.wait_height(&all, (five + 2) * EPOCH, Duration::from_secs(60));
    for i in all {
        let st = net.status(i).unwrap();
        assert_eq!(st["validators"], 5, "node {i}: {st}");
        assert!(st["epoch"].as_u64().unwrap() > five, "node {i}: {st}");
        let set = net.validators(i);
        assert_eq!(set.len(), 5, "node {i}: {set:?}");
        assert!(set.contains(&("org4".to_string(), key4.clone())), "{set:?}");
    }
    // The last block before the boundary is certified by the 4 founders, the last of the
    // 5-validator epoch by a quorum of the 5: the engines switched (a certificate of the old
    // set does not verify against the new one).
    let f = cli.certified(&genesis, five * EPOCH - 1);
    assert_eq!(
        (f["validators"].as_u64(), f["epoch"].as_u64()),
        (Some(4), Some(five - 1)),
        "{f}"
    );
    let boundary = (five + 1) * EPOCH - 1;
    let f = cli.certified(&genesis, boundary);
    assert_eq!(
        (f["validators"].as_u64(), f["epoch"].as_u64()),
        (Some(5), Some(five)),
        "{f}"
    );

    // 8. The new validator votes: with a founder down, 4 of 5 are left — exactly a quorum, so
    // every block certified meanwhile carries org4's signature.
    net.stop(3);
    let down_from = net.top(&[0, 1, 2, 4]);
    net.wait_height(
        &[0, 1, 2, 4],
        down_from + 2 * EPOCH,
        Duration::from_secs(60),
    );
    let down_to = net.top(&[0, 1, 2, 4]);
    let h = own_certificate(&net.apis[2], down_from + 1, down_to)
        .expect("a block certified while org3 was down");
    let f = cli.certified(&genesis, h);
    assert_eq!(f["validators"], 5, "{f}");
    net.start(3);
    net.wait_caught_up(3, &[0, 1, 2, 4], Duration::from_secs(60));

    // 9. org1's validator is voted out (majority of 5: org0, org2, org3); from the next
    // boundary the chain finalizes with 4, and every node, org4's included, keeps up.
    let org1_key = genesis_set
        .iter()
        .find(|(n, _)| n == "org1")
        .expect("org1 in the genesis set")
        .1
        .clone();
    let done = cli.pass(
        &["remove-validator", "--public-key", &org1_key],
        "org0-admin",
        &["org2-admin", "org3-admin"],
    );
    let removed_at = done["height"].as_u64().unwrap();
    let four = epoch_of(removed_at) + 1;
    net.wait_height(&all, (four + 2) * EPOCH, Duration::from_secs(60));
    for i in all {
        let st = net.status(i).unwrap();
        assert_eq!(st["validators"], 4, "node {i}: {st}");
        let set = net.validators(i);
        assert_eq!(set.len(), 4, "node {i}: {set:?}");
        assert!(!set.iter().any(|(_, k)| k == &org1_key), "{set:?}");
    }
    let f = cli.certified(&genesis, four * EPOCH - 1);
    assert_eq!(
        (f["validators"].as_u64(), f["epoch"].as_u64()),
        (Some(5), Some(four - 1)),
        "{f}"
    );
    let boundary = (four + 1) * EPOCH - 1;
    let f = cli.certified(&genesis, boundary);
    assert_eq!(
        (f["validators"].as_u64(), f["epoch"].as_u64()),
        (Some(4), Some(four)),
        "{f}"
    );
    // The same from org4's node and its copy of the genesis.
    let latest = net.top(&all);
    let h = own_certificate(&net.apis[4], boundary + 1, latest).expect("a certified block");
    let f = cli4.certified(&org4.join("genesis.toml"), h);
    assert_eq!(f["validators"], 4, "{f}");
    // Blocks keep finalizing with 4 on every node, the removed validator now a follower.
    net.wait_height(&all, latest + EPOCH, Duration::from_secs(60));

    for i in all {
        net.stop(i);
    }
    eprintln!("alliance join took {:?}", started.elapsed());
}
