//! Certificate mode end to end through the real binary: `meridian init --certs` (one CA per
//! org, consensus and admin certificates in the genesis), four `meridian node` processes, then
//! refusals of unregistered, unauthorised and revoked signers, `meridian ca issue` + `tx
//! register-cert`, `tx revoke-cert`, `query member` / `query policy`, and the identity routes'
//! answers validated against the served OpenAPI document. Every wait is bounded; the nodes are
//! killed when the test ends (also on panic).

#[path = "../../../crates/api/tests/it/schema.rs"]
mod schema;
mod support;
use support::*;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const PASS: &str = "correct horse battery staple";

struct Net {
    children: Vec<Child>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Cli {
    /// Runs expecting failure with error `code`; returns the error document.
    fn refused(&self, args: &[&str], code: &str) -> Value {
        self.refused_with(args, code).0
    }
}

/// Waits (at most 30 s) until every node finalized the highest height any of them reported.
fn wait_caught_up(apis: &[String]) {
    let height = |api: &String| http_json(&format!("{api}/v1/status")).1["height"].as_u64();
    let target = apis.iter().filter_map(height).max().unwrap_or(0);
    let start = Instant::now();
    while !apis.iter().all(|a| height(a).is_some_and(|h| h >= target)) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nodes did not catch up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_ready(api: &str, dir: &Path, i: usize) {
    let start = Instant::now();
    loop {
        if let Ok(mut r) = ureq::get(format!("{api}/v1/status")).call() {
            let v: Value = r.body_mut().read_json().unwrap_or_default();
            if v["height"].as_u64().unwrap_or(0) >= 1 {
                return;
            }
        }
        if start.elapsed() > Duration::from_secs(90) {
            let log = std::fs::read_to_string(dir.join(format!("org{i}.log"))).unwrap_or_default();
            let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
            panic!("node {i} not ready in 90 s; log (last lines first):\n{tail}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn certificate_mode_end_to_end_sm() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("net");
    let pass = root.path().join("pass.txt");
    std::fs::write(&pass, format!("{PASS}\n")).unwrap();

    // init --certs: passphrase required (none given, no terminal).
    let o = Command::new(BIN)
        .args(["init", "--orgs", "4", "--certs", "--suite", "sm", "--out"])
        .arg(root.path().join("nopass"))
        .env_remove("MERIDIAN_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success(), "init --certs without a passphrase");

    let (p2p, api) = (free_port_base(4), free_port_base(4));
    let o = Command::new(BIN)
        .args(["init", "--orgs", "4", "--certs", "--suite", "sm"])
        .args(["--chain-id", "certs-test"])
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
    let genesis = std::fs::read_to_string(out.join("genesis.toml")).unwrap();
    assert!(genesis.contains("[[orgs]]"), "{genesis}");
    assert!(genesis.contains("[[policies]]"), "{genesis}");
    assert!(!genesis.contains(PASS));
    for i in 0..4 {
        let org = out.join(format!("org{i}"));
        for f in ["ca/ca.pem", "ca/ca.key", "ca/issued.json", "admin.key"] {
            assert!(org.join(f).exists(), "{}", org.join(f).display());
        }
        let key = std::fs::read_to_string(org.join("ca/ca.key")).unwrap();
        assert!(!key.contains(PASS));
    }
    let apis: Vec<String> = (0..4)
        .map(|i| format!("http://127.0.0.1:{}", api + i))
        .collect();
    let _net = Net {
        children: (0..4).map(|i| spawn_node(&out, i, "warn")).collect(),
    };
    for (i, a) in apis.iter().enumerate() {
        wait_ready(a, &out, i);
    }
    let cli = Cli {
        keys: out.join("keys"),
        pass: pass.clone(),
        node: apis[0].clone(),
    };
    let doc = http_json(&format!("{}/openapi.json", apis[1])).1;

    // An unregistered key is refused at admission: 403 auth.unknown_member.
    cli.ok(&["keys", "new", "stranger", "--suite", "sm"]);
    let e = cli.refused(
        &[
            "tx",
            "notarize",
            pass.to_str().unwrap(),
            "--from",
            "stranger",
        ],
        "auth.unknown_member",
    );
    assert!(e["message"].as_str().unwrap().contains("403"), "{e}");

    // org0's admin (from init --certs, in OUT/keys) creates an asset; the receipt names org0
    // and the admin's certificate.
    let admin = cli.ok(&["query", "member", "org0-admin"]);
    assert_eq!(admin["registered"], true, "{admin}");
    assert_eq!(admin["member"]["org"], "org0");
    assert_eq!(admin["member"]["role"], "admin");
    assert_eq!(admin["proof"]["verified"], true);
    let created = cli.ok(&[
        "tx",
        "asset-create",
        "GOLD",
        "--max-supply",
        "1000000",
        "--from",
        "org0-admin",
    ]);
    assert_eq!(created["code"], "ok", "{created}");
    assert_eq!(created["signer_org"], "org0", "{created}");
    assert_eq!(created["signer_cert_id"], admin["member"]["cert_id"]);
    cli.ok(&[
        "tx",
        "mint",
        "GOLD",
        "1000",
        "--to",
        "org0-admin",
        "--from",
        "org0-admin",
    ]);

    // A client certificate from org0's CA, registered by the client itself.
    let carol = cli.ok(&["keys", "new", "carol", "--suite", "sm"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let pem = root.path().join("carol.pem");
    let ca_dir = out.join("org0").join("ca");
    let issued = cli.ok(&[
        "ca",
        "issue",
        "--dir",
        ca_dir.to_str().unwrap(),
        "--name",
        "carol",
        "--role",
        "client",
        "--key",
        "carol",
        "--out",
        pem.to_str().unwrap(),
    ]);
    let serial = issued["serial"].as_str().unwrap().to_string();
    cli.ok(&[
        "tx",
        "mint",
        "GOLD",
        "100",
        "--to",
        &carol,
        "--from",
        "org0-admin",
    ]);
    let reg = cli.ok(&[
        "tx",
        "register-cert",
        pem.to_str().unwrap(),
        "--from",
        "carol",
    ]);
    assert_eq!(reg["code"], "ok", "{reg}");
    assert_eq!(reg["events"][0]["kind"], "member_registered", "{reg}");
    let sent = cli.ok(&[
        "tx",
        "transfer",
        "GOLD",
        "10",
        "--to",
        "org0-admin",
        "--from",
        "carol",
    ]);
    assert_eq!(sent["code"], "ok");
    assert_eq!(sent["signer_org"], "org0");
    assert_eq!(sent["signer_cert_id"], issued["cert_id"]);
    let m = cli.ok(&["query", "member", "carol"]);
    assert_eq!(m["member"]["name"], "carol", "{m}");
    assert_eq!(m["member"]["role"], "client");
    assert_eq!(m["member"]["cert_id"], issued["cert_id"]);
    assert_eq!(m["member"]["serial"], serial);
    assert_eq!(m["member"]["revoked"], false);

    // The HTTP answer matches its documented schema. (Another node may be a block behind the
    // one that committed: wait until it has caught up.)
    wait_caught_up(&apis);
    let (status, v) = http_json(&format!("{}/v1/identity/members/{carol}", apis[2]));
    assert_eq!(status, 200, "{v}");
    schema::check(&doc, "Member", &v);
    assert_eq!(v["member"]["org"], "org0");
    let (status, absent) = http_json(&format!(
        "{}/v1/identity/members/0x{}",
        apis[2],
        "00".repeat(20)
    ));
    assert_eq!(status, 200, "{absent}");
    schema::check(&doc, "Member", &absent);
    assert_eq!(absent["member"], Value::Null);

    // A client may not create assets.
    cli.refused(
        &[
            "tx",
            "asset-create",
            "SILVER",
            "--max-supply",
            "10",
            "--from",
            "carol",
        ],
        "auth.denied",
    );

    // The admin revokes carol's certificate on chain; carol is refused from then on.
    let ca_pem = ca_dir.join("ca.pem");
    let rev = cli.ok(&[
        "tx",
        "revoke-cert",
        "--ca",
        ca_pem.to_str().unwrap(),
        "--serial",
        &serial,
        "--from",
        "org0-admin",
    ]);
    assert_eq!(rev["code"], "ok", "{rev}");
    assert_eq!(rev["events"][0]["kind"], "cert_revoked", "{rev}");
    cli.refused(
        &[
            "tx",
            "transfer",
            "GOLD",
            "1",
            "--to",
            "org0-admin",
            "--from",
            "carol",
        ],
        "cert.revoked",
    );
    let m = cli.ok(&["query", "member", "carol"]);
    assert_eq!(m["member"]["revoked"], true, "{m}");

    // Policies: the call's own rule, the module-wide one, the default.
    let p = cli.ok(&["query", "policy", "bank.create_asset"]);
    assert_eq!(p["mode"], "certificate", "{p}");
    assert_eq!(p["rule"], "call");
    assert_eq!(p["roles"], serde_json::json!(["admin", "member"]));
    assert_eq!(p["proof"]["verified"], true);
    let p = cli.ok(&["query", "policy", "bank.transfer"]);
    assert_eq!(p["rule"], "module", "{p}");
    assert_eq!(p["policy"], "bank.*");
    let (status, v) = http_json(&format!("{}/v1/identity/policies/nosuch.call", apis[3]));
    assert_eq!(status, 200, "{v}");
    schema::check(&doc, "Policy", &v);
    assert_eq!(v["rule"], "default");
    assert_eq!(v["mode"], "certificate");
}
