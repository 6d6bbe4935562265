//! The client CLI end to end through the real binary: `meridian init`, four `meridian node`
//! processes on loopback, then `meridian keys`, `tx`, `query` and `status` as a user would run
//! them — checking output, `--json` documents and exit codes. Every wait is bounded; the nodes
//! are killed when the test ends (also on panic).

mod support;
use support::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Net {
    dir: tempfile::TempDir,
    children: Vec<Child>,
    api: Vec<String>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Net {
    fn start(suite: &str) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let api = init_net(&out, suite, "cli-test");
        let children = (0..4).map(|i| spawn_node(&out, i, "warn")).collect();
        Net { dir, children, api }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("net")
    }
}

/// Runs the binary with a clean client environment (keys dir and passphrase file given).
struct Cli {
    keys: PathBuf,
    pass: PathBuf,
}

impl Cli {
    fn new(root: &Path) -> Cli {
        let pass = root.join("pass.txt");
        std::fs::write(&pass, "correct horse battery staple\n").unwrap();
        Cli {
            keys: root.join("keys"),
            pass,
        }
    }

    fn raw(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("MERIDIAN_PASSPHRASE")
            .env_remove("MERIDIAN_NODE")
            .env_remove("MERIDIAN_GENESIS")
            .env("MERIDIAN_KEYS_DIR", &self.keys)
            .stdin(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// Runs with the passphrase file; asserts success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let mut all = args.to_vec();
        let pass = self.pass.to_str().unwrap().to_string();
        if matches!(args.first(), Some(&"keys" | &"tx")) {
            all.extend(["--passphrase-file", &pass]);
        }
        let o = self.raw(&all, &[]);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "meridian {args:?} failed ({:?}):\n{stdout}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    /// Runs expecting failure with exit code `code`; returns the `--json` error document.
    fn fails(&self, args: &[&str], envs: &[(&str, &str)], code: i32) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let o = self.raw(&all, envs);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(
            o.status.code(),
            Some(code),
            "meridian {args:?}: {stdout} {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }
}

/// Waits (at most 30 s) until every node finalized the highest height any of them reported.
fn wait_caught_up(cli: &Cli, nodes: &[String]) {
    let height = |node: &String| {
        let o = cli.raw(&["status", "--node", node, "--json"], &[]);
        serde_json::from_slice::<Value>(&o.stdout).ok()?["height"].as_u64()
    };
    let target = nodes.iter().filter_map(height).max().unwrap_or(0);
    let start = Instant::now();
    while !nodes.iter().all(|x| height(x).is_some_and(|h| h >= target)) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nodes did not catch up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_ready(cli: &Cli, node: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let o = cli.raw(&["status", "--node", node, "--json"], &[]);
        if o.status.success() {
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            if v["height"].as_u64().unwrap_or(0) >= 1 {
                return;
            }
        }
        assert!(start.elapsed() < limit, "{node} not ready in {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn help_is_complete() {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    let top = String::from_utf8_lossy(&o.stdout);
    for cmd in ["init", "node", "keys", "tx", "query", "gov", "status"] {
        assert!(top.contains(cmd), "meridian --help lacks {cmd}:\n{top}");
    }
    let expect: [(&[&str], &[&str]); 9] = [
        (
            &["keys"],
            &["new", "list", "show", "import", "export", "passphrase"],
        ),
        (
            &["tx"],
            &[
                "asset-create",
                "mint",
                "transfer",
                "burn",
                "notarize",
                "--from",
                "--node",
                "Exit codes",
            ],
        ),
        (
            &["query"],
            &[
                "balance",
                "asset",
                "notary",
                "tx",
                "block",
                "--genesis",
                "--json",
            ],
        ),
        (&["status"], &["--node", "--json"]),
        (
            &["gov"],
            &[
                "propose",
                "vote",
                "show",
                "list",
                "--key",
                "--node",
                "--json",
                "Examples",
                "Exit codes",
            ],
        ),
        (
            &["gov", "propose"],
            &[
                "add-org",
                "remove-org",
                "trust-ca",
                "set-policy",
                "revoke-cert",
                "add-validator",
                "remove-validator",
                "replace-validator",
                "set-param",
                "--threshold",
                "--deadline",
            ],
        ),
        (&["gov", "vote"], &["yes", "no", "--key"]),
        (&["gov", "show"], &["--height", "--json"]),
        (&["gov", "list"], &["--from", "--limit", "--height"]),
    ];
    for (cmd, words) in expect {
        let o = Command::new(BIN).args(cmd).arg("--help").output().unwrap();
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        for w in words {
            assert!(
                text.contains(w),
                "meridian {cmd:?} --help lacks {w}:\n{text}"
            );
        }
    }
    for sub in ["asset-create", "mint", "transfer", "burn", "notarize"] {
        let o = Command::new(BIN)
            .args(["tx", sub, "--help"])
            .output()
            .unwrap();
        assert!(o.status.success(), "tx {sub} --help");
    }
    for (sub, words) in [
        ("add-org", &["--org", "--ca-cert"][..]),
        ("remove-org", &["--org"]),
        ("trust-ca", &["--org", "--ca-cert"]),
        ("set-policy", &["--call", "--roles"]),
        ("revoke-cert", &["--cert", "--ca", "--serial"]),
        ("add-validator", &["--name", "--public-key", "--cert"]),
        ("remove-validator", &["--public-key", "--cert"]),
        (
            "replace-validator",
            &["--old-key", "--name", "--new-key", "--new-cert"],
        ),
        ("set-param", &["--name", "--value"]),
    ] {
        let o = Command::new(BIN)
            .args(["gov", "propose", sub, "--help"])
            .output()
            .unwrap();
        assert!(o.status.success(), "gov propose {sub} --help");
        let text = String::from_utf8_lossy(&o.stdout);
        for w in words.iter().chain(&["--threshold", "--deadline", "--key"]) {
            assert!(
                text.contains(w),
                "gov propose {sub} --help lacks {w}:\n{text}"
            );
        }
    }
}

#[test]
fn keys_offline() {
    let root = tempfile::tempdir().unwrap();
    let cli = Cli::new(root.path());
    let a = cli.json(&["keys", "new", "alice", "--suite", "intl"]);
    assert_eq!(a["suite"], "intl");
    let addr = a["address"].as_str().unwrap().to_string();
    let file = cli.keys.join("alice.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The plaintext export never appears in the file on disk.
    let secret = cli.ok(&["keys", "export", "alice", "--unsafe-plaintext"]);
    let secret = secret.trim();
    assert_eq!(secret.len(), 66, "suite-tagged 33-byte key");
    let on_disk = std::fs::read_to_string(&file).unwrap();
    assert!(!on_disk.contains(secret) && !on_disk.contains(&secret[2..]));

    // Wrong passphrase: exit 4, stable code, both from the environment and a file.
    let e = cli.fails(
        &["keys", "show", "alice", "--check"],
        &[("MERIDIAN_PASSPHRASE", "wrong")],
        4,
    );
    assert_eq!(e["code"], "keystore.wrong_passphrase");
    // No passphrase and no terminal: a clear error instead of a hang.
    let e = cli.fails(&["keys", "new", "bob"], &[], 4);
    assert_eq!(e["code"], "keystore.no_passphrase");
    let e = cli.fails(&["keys", "show", "nobody"], &[], 4);
    assert_eq!(e["code"], "keystore.not_found");

    // Export the encrypted file, import it under another name: same address, same passphrase.
    let copy = root.path().join("alice-backup.json");
    cli.ok(&["keys", "export", "alice", "--out", copy.to_str().unwrap()]);
    let b = cli.json(&["keys", "import", "alice2", "--file", copy.to_str().unwrap()]);
    assert_eq!(b["address"], addr.as_str());
    // Import the plaintext hex (as `meridian init` writes node keys): encrypted on import.
    let hexfile = root.path().join("hex.key");
    std::fs::write(&hexfile, secret).unwrap();
    let c = cli.json(&[
        "keys",
        "import",
        "alice3",
        "--file",
        hexfile.to_str().unwrap(),
    ]);
    assert_eq!(c["address"], addr.as_str());
    let e = cli.fails(
        &["keys", "new", "alice"],
        &[("MERIDIAN_PASSPHRASE", "x")],
        4,
    );
    assert_eq!(e["code"], "keystore.exists");
    let list = cli.json(&["keys", "list"]);
    let names: Vec<_> = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["alice", "alice2", "alice3"]);
    let human = cli.ok(&["keys", "list"]);
    assert!(human.contains(&addr), "{human}");
}

#[test]
fn n4_cli_end_to_end_sm() {
    scenario("sm");
}

#[test]
fn n4_cli_end_to_end_intl() {
    scenario("intl");
}

/// Runs the binary with a deadline (for commands that follow a stream).
fn bounded(cli: &Cli, args: &[&str], limit: Duration) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .env("MERIDIAN_KEYS_DIR", &cli.keys)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let o = child.wait_with_output().unwrap();
            assert!(
                st.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return String::from_utf8_lossy(&o.stdout).into_owned();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("meridian {args:?} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn scenario(suite: &str) {
    let net = Net::start(suite);
    let root = tempfile::tempdir().unwrap();
    let cli = Cli::new(root.path());
    let genesis = net.out().join("genesis.toml");
    let genesis = genesis.to_str().unwrap();
    let n = |i: usize| net.api[i].clone();

    let alice = cli.json(&["keys", "new", "alice", "--suite", suite])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = cli.json(&["keys", "new", "bob", "--suite", suite])["address"]
        .as_str()
        .unwrap()
        .to_string();
    // A node key from `meridian init` imports as an account key.
    let node_key = net.out().join("org0").join("node.key");
    cli.ok(&[
        "keys",
        "import",
        "org0",
        "--file",
        node_key.to_str().unwrap(),
    ]);

    for i in 0..4 {
        wait_ready(&cli, &n(i), Duration::from_secs(90));
    }
    let status = cli.ok(&["status", "--node", &n(0), "--genesis", genesis]);
    assert!(
        status.contains(&format!("chain       cli-test (suite {suite})")),
        "{status}"
    );
    assert!(
        status.contains("finalization certificate verified"),
        "{status}"
    );

    // Transactions, each through a different node, each waiting for finality.
    let out = cli.ok(&[
        "tx",
        "asset-create",
        "CNY",
        "--decimals",
        "2",
        "--max-supply",
        "1000000",
        "--from",
        "alice",
        "--node",
        &n(0),
    ]);
    assert!(out.contains("committed: tx"), "{out}");
    assert!(
        out.contains("event bank.asset_created: CNY issuer"),
        "{out}"
    );
    let minted = cli.json(&[
        "tx",
        "mint",
        "CNY",
        "1000",
        "--from",
        "alice",
        "--node",
        &n(1),
    ]);
    assert_eq!(minted["code"], "ok");
    let sent = cli.json(&[
        "tx",
        "transfer",
        "CNY",
        "250",
        "--to",
        "bob",
        "--from",
        "alice",
        "--node",
        &n(2),
    ]);
    assert_eq!(sent["status"], "committed");
    assert_eq!(sent["events"][0]["kind"], "transferred");
    cli.ok(&[
        "tx",
        "burn",
        "CNY",
        "50",
        "--from",
        "alice",
        "--node",
        &n(3),
    ]);
    let doc = root.path().join("bill-of-lading-0042.pdf");
    std::fs::write(&doc, b"%PDF-1.7 bill of lading 0042").unwrap();
    let notarized = cli.json(&[
        "tx",
        "notarize",
        doc.to_str().unwrap(),
        "--from",
        "bob",
        "--node",
        &n(1),
    ]);
    assert_eq!(notarized["events"][0]["kind"], "notarized");
    let tx_hash = notarized["hash"].as_str().unwrap().to_string();

    // Queries: proofs verified, certificates checked against genesis. The txs were committed
    // through different nodes; let every node reach the newest block first.
    wait_caught_up(&cli, &(0..4).map(n).collect::<Vec<_>>());
    let q = cli.ok(&[
        "query",
        "balance",
        "CNY",
        "bob",
        "--node",
        &n(3),
        "--genesis",
        genesis,
    ]);
    assert!(q.contains(&format!("CNY balance of {bob}: 250")), "{q}");
    assert!(
        q.contains("proof verified against finalized header at height"),
        "{q}"
    );
    assert!(
        q.contains("finalization certificate verified: quorum of the 4 validators of epoch"),
        "{q}"
    );
    let q = cli.json(&["query", "balance", "CNY", &alice, "--node", &n(0)]);
    assert_eq!(q["balance"], "700");
    assert_eq!(q["proof"]["verified"], true);
    assert_eq!(q["proof"]["finality"]["kind"], "reported_by_node");
    let q = cli.json(&[
        "query",
        "asset",
        "CNY",
        "--node",
        &n(2),
        "--genesis",
        genesis,
    ]);
    assert_eq!(q["asset"]["supply"], "950");
    assert_eq!(q["asset"]["issuer"], alice.as_str());
    assert_eq!(q["proof"]["finality"]["kind"], "certified");
    let q = cli.ok(&[
        "query",
        "notary",
        doc.to_str().unwrap(),
        "--node",
        &n(0),
        "--genesis",
        genesis,
    ]);
    assert!(q.contains(&format!("notarized by {bob}")), "{q}");
    assert!(q.contains("bill-of-lading-0042.pdf"), "{q}");
    assert!(q.contains("finalization certificate verified"), "{q}");
    let other = root.path().join("never.txt");
    std::fs::write(&other, b"never notarized").unwrap();
    let q = cli.ok(&["query", "notary", other.to_str().unwrap(), "--node", &n(0)]);
    assert!(q.contains("not notarized (absence proven)"), "{q}");
    let q = cli.ok(&[
        "query",
        "tx",
        &tx_hash,
        "--node",
        &n(2),
        "--genesis",
        genesis,
    ]);
    assert!(q.contains("call     notary.register"), "{q}");
    assert!(q.contains("result   ok"), "{q}");
    assert!(q.contains("finalization certificate verified"), "{q}");
    let q = cli.json(&[
        "query",
        "block",
        "latest",
        "--node",
        &n(1),
        "--genesis",
        genesis,
    ]);
    assert_eq!(q["finality"]["kind"], "certified");
    let q = cli.json(&["query", "nonce", "alice", "--node", &n(1)]);
    assert_eq!(q["next_nonce"], 4);
    let q = cli.json(&[
        "query",
        "balance",
        "CNY",
        "bob",
        "--height",
        "1",
        "--node",
        &n(1),
    ]);
    assert_eq!(q["balance"], "0", "nothing at height 1");
    assert_eq!(q["proof"]["height"], 1);

    // --async returns at admission; the transaction is then found final.
    let pending = cli.json(&[
        "tx",
        "transfer",
        "CNY",
        "5",
        "--to",
        &alice,
        "--from",
        "bob",
        "--async",
        "--node",
        &n(0),
    ]);
    assert_eq!(pending["status"], "accepted");
    let h = pending["hash"].as_str().unwrap().to_string();
    let start = Instant::now();
    loop {
        let o = cli.raw(&["query", "tx", &h, "--node", &n(3), "--json"], &[]);
        if o.status.success() {
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v["code"], "ok");
            assert_eq!(v["inclusion_verified"], true);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "async tx never final"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Events: replayed from history, filtered, bounded by --limit.
    let ev = bounded(
        &cli,
        &[
            "query",
            "events",
            "--from-height",
            "1",
            "--module",
            "notary",
            "--limit",
            "1",
            "--json",
            "--node",
            &n(2),
        ],
        Duration::from_secs(30),
    );
    let ev: Value = serde_json::from_str(ev.trim()).unwrap();
    assert_eq!(ev["type"], "event");
    assert_eq!(ev["event"]["kind"], "notarized");
    assert_eq!(ev["event"]["tx_hash"], tx_hash.as_str());
    let ev = bounded(
        &cli,
        &[
            "query",
            "events",
            "--from-height",
            "1",
            "--kind",
            "transferred",
            "--address",
            "bob",
            "--limit",
            "2",
            "--node",
            &n(1),
        ],
        Duration::from_secs(30),
    );
    let lines: Vec<&str> = ev.lines().collect();
    assert_eq!(lines.len(), 2, "{ev}");
    assert!(
        lines[0].contains(&format!("250 CNY from {alice} to {bob}")),
        "{ev}"
    );
    assert!(
        lines[1].contains(&format!("5 CNY from {bob} to {alice}")),
        "{ev}"
    );

    // Failures: stable codes and exit codes.
    let pass = cli.pass.to_str().unwrap().to_string();
    let e = cli.fails(
        &[
            "tx",
            "transfer",
            "CNY",
            "999999",
            "--to",
            &alice,
            "--from",
            "bob",
            "--node",
            &n(0),
            "--passphrase-file",
            &pass,
        ],
        &[],
        6,
    );
    assert_eq!(e["code"], "bank.insufficient_balance");
    let e = cli.fails(
        &["tx", "burn", "CNY", "1", "--from", "alice", "--node", &n(0)],
        &[("MERIDIAN_PASSPHRASE", "not it")],
        4,
    );
    assert_eq!(e["code"], "keystore.wrong_passphrase");
    let e = cli.fails(
        &[
            "tx",
            "transfer",
            "cny",
            "1",
            "--to",
            &bob,
            "--from",
            "alice",
            "--node",
            &n(0),
        ],
        &[("MERIDIAN_PASSPHRASE", "correct horse battery staple")],
        1,
    );
    assert_eq!(e["code"], "client.bad_input");
    let dead = format!("http://127.0.0.1:{}", free_ports(1)[0]);
    let e = cli.fails(&["status", "--node", &dead], &[], 3);
    assert_eq!(e["code"], "client.unreachable");
    // A genesis of another chain: the node is refused (exit 5).
    let fake = root.path().join("other-genesis.toml");
    std::fs::write(
        &fake,
        std::fs::read_to_string(genesis)
            .unwrap()
            .replace("cli-test", "other-chain"),
    )
    .unwrap();
    let e = cli.fails(
        &[
            "query",
            "balance",
            "CNY",
            &bob,
            "--node",
            &n(0),
            "--genesis",
            fake.to_str().unwrap(),
        ],
        &[],
        5,
    );
    assert_eq!(e["code"], "client.certificate_invalid");
    let e = cli.fails(&["query", "tx", &"ab".repeat(32), "--node", &n(0)], &[], 1);
    assert_eq!(e["code"], "api.not_found");
}
