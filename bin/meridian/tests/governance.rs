//! Alliance governance end to end through the real binary: `meridian devnet --certs` (four
//! organisations, each with a CA, a consensus certificate and an admin; four `meridian node`
//! processes), then a fifth organisation's CA from `meridian ca init`, admitted by vote (`gov
//! propose add-org` from org1's admin, `gov show` pending, `gov vote` from org2 and org3,
//! executed), a member certificate of the new organisation registered and transacting; a
//! regulator who can read with proofs but not write (`auth.denied`); a non-admin's proposal
//! refused at admission (`auth.denied`); a vote after the deadline refused on chain
//! (`identity.proposal_expired`); a validator removal that would break `3f+1` refused
//! (`identity.invariant`). The proposal routes' answers are validated against the
//! served OpenAPI document.
//!
//! This is also the automated test of `devnet --certs` (tests/certs.rs covers `init --certs`).
//! Every wait is bounded; the devnet is stopped with SIGINT when the test ends, and its process
//! group killed if it does not stop in time (also on panic).

#[path = "../../../crates/api/tests/it/schema.rs"]
mod schema;
mod support;
use support::*;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PASS: &str = "correct horse battery staple";

impl Cli {
    /// Runs expecting failure with error `code` and exit code `exit`; returns the document.
    fn refused(&self, args: &[&str], code: &str, exit: i32) -> Value {
        let (v, status) = self.refused_with(args, code);
        assert_eq!(status, Some(exit), "meridian {args:?}: {v}");
        v
    }

    fn height(&self) -> u64 {
        self.ok(&["status"])["height"].as_u64().unwrap()
    }
}

#[test]
fn alliance_governance_end_to_end_sm() {
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("devnet");
    let pass = root.path().join("pass.txt");
    std::fs::write(&pass, format!("{PASS}\n")).unwrap();
    let (p2p, api) = (free_port_base(4), free_port_base(4));

    // Four organisations in certificate mode, from one command.
    let mut devnet = Devnet::start(&dir, &pass, p2p, api);
    devnet.wait_line("creating", Duration::from_secs(30));
    devnet.wait_line("ready:", Duration::from_secs(180));
    let genesis = std::fs::read_to_string(dir.join("genesis.toml")).unwrap();
    assert_eq!(genesis.matches("[[orgs]]").count(), 4, "{genesis}");
    assert!(!genesis.contains(PASS));
    for i in 0..4 {
        assert!(dir.join(format!("org{i}/ca/ca.pem")).exists());
        assert!(dir.join(format!("keys/org{i}-admin.json")).exists());
    }
    let apis: Vec<String> = (0..4)
        .map(|i| format!("http://127.0.0.1:{}", api + i))
        .collect();
    let cli = Cli {
        keys: dir.join("keys"),
        pass: pass.clone(),
        node: apis[0].clone(),
    };
    let doc = http_json(&format!("{}/openapi.json", apis[1])).1;
    let s = |p: &Path| p.to_str().unwrap().to_string();

    // A fifth organisation creates its CA offline.
    let ca4 = root.path().join("ca-org4");
    let made = cli.ok(&[
        "ca",
        "init",
        "--org",
        "org4",
        "--alg",
        "sm2",
        "--dir",
        &s(&ca4),
    ]);
    assert_eq!(made["org"], "org4", "{made}");
    let ca4_pem = ca4.join("ca.pem");

    // org1's admin proposes to admit it (majority of 4: 3 organisations).
    let opened = cli.ok(&[
        "gov",
        "propose",
        "add-org",
        "--org",
        "org4",
        "--ca-cert",
        &s(&ca4_pem),
        "--key",
        "org1-admin",
    ]);
    assert_eq!(opened["code"], "ok", "{opened}");
    assert_eq!(opened["status"], "open", "{opened}");
    assert_eq!(opened["signer_org"], "org1");
    assert_eq!(opened["threshold"], "majority");
    assert_eq!(opened["action"]["kind"], "add_org");
    assert_eq!(opened["action"]["org"], "org4");
    let id = opened["proposal_id"].as_u64().expect("proposal id");
    let id_s = id.to_string();

    // Pending: one vote, verified; the HTTP answer matches its schema on another node.
    let shown = cli.ok(&["gov", "show", &id_s]);
    assert_eq!(shown["exists"], true, "{shown}");
    assert_eq!(shown["proposal"]["status"], "open");
    assert_eq!(
        shown["proposal"]["votes"],
        json!([{"org": "org1", "approve": true}])
    );
    assert_eq!(shown["proof"]["verified"], true);
    let h = opened["height"].as_u64().unwrap();
    // (node 2 may finalize that block a moment later)
    let wait = Instant::now();
    let v = loop {
        let (st, v) = http_json(&format!("{}/v1/identity/proposals/{id}", apis[2]));
        if st == 200 {
            break v;
        }
        assert_eq!(v["code"], "identity.no_proposal", "{v}");
        assert!(wait.elapsed() < Duration::from_secs(30), "{v}");
        std::thread::sleep(Duration::from_millis(200));
    };
    schema::check(&doc, "Proposal", &v);
    assert!(v["height"].as_u64().unwrap() >= h);

    // Before the vote, org4's certificates are not trusted: registering fails on chain.
    let dave = cli.ok(&["keys", "new", "dave", "--suite", "sm"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let dave_pem = root.path().join("dave.pem");
    cli.ok(&[
        "ca",
        "issue",
        "--dir",
        &s(&ca4),
        "--name",
        "dave",
        "--role",
        "member",
        "--key",
        "dave",
        "--out",
        &s(&dave_pem),
    ]);
    cli.refused(
        &["tx", "register-cert", &s(&dave_pem), "--from", "dave"],
        "cert.unknown_ca",
        6,
    );

    // org2 approves (2 of 3 needed), org3 approves: executed in that block.
    let v2 = cli.ok(&["gov", "vote", &id_s, "yes", "--key", "org2-admin"]);
    assert_eq!(v2["status"], "open", "{v2}");
    assert_eq!(v2["signer_org"], "org2");
    let v3 = cli.ok(&["gov", "vote", &id_s, "yes", "--key", "org3-admin"]);
    assert_eq!(v3["status"], "executed", "{v3}");
    let kinds: Vec<&str> = v3["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["voted", "proposal_executed"], "{v3}");
    let shown = cli.ok(&["gov", "show", &id_s]);
    assert_eq!(shown["proposal"]["status"], "executed", "{shown}");
    assert_eq!(shown["proposal"]["votes"].as_array().unwrap().len(), 3);
    let listed = cli.ok(&["gov", "list"]);
    assert_eq!(listed["next_id"], id + 1, "{listed}");
    assert_eq!(listed["proposals"][id as usize - 1]["status"], "executed");
    let (st, page) = http_json(&format!("{}/v1/identity/proposals", apis[0]));
    assert_eq!(st, 200, "{page}");
    schema::check(&doc, "Proposals", &page);

    // The new organisation's member registers and transacts.
    let reg = cli.ok(&["tx", "register-cert", &s(&dave_pem), "--from", "dave"]);
    assert_eq!(reg["code"], "ok", "{reg}");
    let bol = root.path().join("bol.txt");
    std::fs::write(&bol, "bill of lading 0042").unwrap();
    let sent = cli.ok(&["tx", "notarize", &s(&bol), "--from", "dave"]);
    assert_eq!(sent["code"], "ok", "{sent}");
    assert_eq!(sent["signer_org"], "org4", "{sent}");
    let m = cli.ok(&["query", "member", &dave]);
    assert_eq!(m["member"]["org"], "org4", "{m}");
    assert_eq!(m["member"]["role"], "member");

    // A regulator: certified by org0's CA, registered; reads with proofs, cannot write.
    cli.ok(&["keys", "new", "reggie", "--suite", "sm"]);
    let reg_pem = root.path().join("reggie.pem");
    cli.ok(&[
        "ca",
        "issue",
        "--dir",
        &s(&dir.join("org0/ca")),
        "--name",
        "reggie",
        "--role",
        "regulator",
        "--key",
        "reggie",
        "--out",
        &s(&reg_pem),
    ]);
    let r = cli.ok(&["tx", "register-cert", &s(&reg_pem), "--from", "reggie"]);
    assert_eq!(r["code"], "ok", "{r}");
    let m = cli.ok(&["query", "member", "reggie"]);
    assert_eq!(m["member"]["role"], "regulator", "{m}");
    assert_eq!(m["proof"]["verified"], true);
    let n = cli.ok(&["query", "notary", &s(&bol)]);
    assert_eq!(n["notarized"], true, "{n}");
    assert_eq!(n["record"]["owner"], dave);
    assert_eq!(n["proof"]["verified"], true);
    let g = cli.ok(&["gov", "show", &id_s]);
    assert_eq!(g["proof"]["verified"], true);
    let other = root.path().join("memo.txt");
    std::fs::write(&other, "regulator memo").unwrap();
    cli.refused(
        &["tx", "notarize", &s(&other), "--from", "reggie"],
        "auth.denied",
        1,
    );

    // Only admins propose: a member's proposal is refused at admission.
    cli.refused(
        &[
            "gov",
            "propose",
            "set-policy",
            "--call",
            "bank.mint",
            "--roles",
            "admin",
            "--key",
            "dave",
        ],
        "auth.denied",
        1,
    );

    // A vote after the deadline is refused on chain. Five organisations now: the majority is
    // 3, so org0's own yes leaves it open.
    let short = cli.ok(&[
        "gov",
        "propose",
        "set-policy",
        "--call",
        "notary.register",
        "--roles",
        "admin,member",
        "--deadline",
        "2",
        "--key",
        "org0-admin",
    ]);
    assert_eq!(short["status"], "open", "{short}");
    let short_id = short["proposal_id"].as_u64().unwrap();
    assert_eq!(short_id, id + 1);
    let deadline = short["deadline_height"].as_u64().unwrap();
    assert_eq!(deadline, short["height"].as_u64().unwrap() + 2);
    let wait = Instant::now();
    while cli.height() <= deadline {
        assert!(
            wait.elapsed() < Duration::from_secs(60),
            "height {deadline} not passed in 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    cli.refused(
        &[
            "gov",
            "vote",
            &short_id.to_string(),
            "yes",
            "--key",
            "org1-admin",
        ],
        "identity.proposal_expired",
        6,
    );
    let still = cli.ok(&["gov", "show", &short_id.to_string()]);
    assert_eq!(still["proposal"]["status"], "open", "{still}");
    assert_eq!(still["proposal"]["votes"].as_array().unwrap().len(), 1);

    // Validator-set changes go through the same commands; the chain keeps its invariants (4
    // validators tolerate 1 fault: removing one is refused when proposed).
    let (_, vals) = http_json(&format!("{}/v1/validators", apis[0]));
    let key = vals["validators"][3]["public_key"].as_str().unwrap();
    cli.refused(
        &[
            "gov",
            "propose",
            "remove-validator",
            "--public-key",
            key,
            "--key",
            "org0-admin",
        ],
        "identity.invariant",
        6,
    );
    cli.refused(
        &[
            "gov",
            "propose",
            "set-param",
            "--name",
            "epoch_length",
            "--value",
            "5",
            "--key",
            "org0-admin",
        ],
        "client.bad_input",
        1,
    );

    // An id that does not exist: absence proven, and 404 over HTTP.
    let none = cli.ok(&["gov", "show", "999"]);
    assert_eq!(none["exists"], false, "{none}");
    assert_eq!(none["proof"]["verified"], true);
    let (st, e) = http_json(&format!("{}/v1/identity/proposals/999", apis[3]));
    assert_eq!(
        (st, e["code"].as_str()),
        (404, Some("identity.no_proposal"))
    );

    assert!(devnet.stop(Duration::from_secs(30)), "devnet did not stop");
    eprintln!("governance end to end took {:?}", started.elapsed());
}
