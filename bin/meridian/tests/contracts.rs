//! WebAssembly contracts end to end through the real binary against a real devnet:
//!
//! 1. `meridian contract new` scaffolds a crate that `meridian contract build` compiles to
//!    wasm (path, size and SM3 code hash printed) and whose unit test passes natively
//!    (`cargo test --manifest-path`); `contract build` also builds the example token.
//! 2. `meridian devnet --certs` (four organisations, four `meridian node` processes): the token
//!    is deployed (uploaded in parts; a second deployment of the same code skips the upload),
//!    a transfer's receipt carries gas_used and the decoded `mrc.transfer` event, balances are
//!    queried; a call with too little fuel fails with `contract.out_of_fuel`, reports its
//!    gas_used and changes nothing; `contract info` is verified.
//! 3. The scaffolded counter is deployed, called and queried; its upgrade is refused with
//!    `contract.not_approved` (code hash and `gov propose approve-upgrade` command in the
//!    error) until three organisations approve it, then succeeds and keeps the state;
//!    governance freezes the token and its calls and queries are refused (`contract.frozen`).
//!
//! Cargo runs against target directories of their own under `target/` (shared between runs, so
//! only the first run compiles the SDK for wasm). Every wait is bounded; the devnet is stopped
//! with SIGINT when the test ends and its process group killed if it does not stop in time (also
//! on panic).

mod support;
use support::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meridian_crypto::Suite;
use serde_json::{json, Value};

const PASS: &str = "correct horse battery staple";

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A cargo target directory of this test's own under `target/` (kept between runs).
fn target_dir(name: &str) -> String {
    workspace()
        .join("target")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

impl Cli {
    fn refused(&self, args: &[&str], code: &str, exit: i32) -> Value {
        let (v, status) = self.refused_with(args, code);
        assert_eq!(status, Some(exit), "meridian {args:?}: {v}");
        v
    }

    /// `contract build` of `manifest` with cargo's target directory `target`.
    fn build(&self, manifest: &Path, target: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "contract",
            "build",
            "--manifest-path",
            manifest.to_str().unwrap(),
        ];
        args.extend(extra);
        let v = self.ok_env(&args, &[("CARGO_TARGET_DIR", target)]);
        // The printed hash is the chain suite's hash of the printed file.
        let wasm = std::fs::read(v["wasm"].as_str().unwrap()).unwrap();
        assert_eq!(v["size"], wasm.len(), "{v}");
        let suite: Suite = v["suite"].as_str().unwrap().parse().unwrap();
        assert_eq!(v["code_hash"], hex::encode(suite.hash(&wasm).0), "{v}");
        v
    }

    fn query(&self, name: &str, msg: Value) -> Value {
        self.ok(&["contract", "query", name, &msg.to_string()])["result"].clone()
    }

    /// Proposes `action ARGS` as org0's admin and has org1 and org2 approve (3 of 4: a
    /// majority); returns the last vote's document.
    fn decide(&self, action: &[&str]) -> Value {
        let mut args = vec!["gov", "propose"];
        args.extend(action);
        args.extend(["--key", "org0-admin"]);
        let opened = self.ok(&args);
        assert_eq!(opened["code"], "ok", "{opened}");
        let id = opened["proposal_id"].as_u64().unwrap().to_string();
        self.ok(&["gov", "vote", &id, "yes", "--key", "org1-admin"]);
        let last = self.ok(&["gov", "vote", &id, "yes", "--key", "org2-admin"]);
        assert_eq!(last["status"], "executed", "{last}");
        last
    }
}

#[test]
fn contracts_end_to_end() {
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let pass = root.path().join("pass.txt");
    std::fs::write(&pass, format!("{PASS}\n")).unwrap();
    let dir = root.path().join("devnet");
    let (p2p, api) = (free_port_base(4), free_port_base(4));
    let cli = Cli {
        keys: dir.join("keys"),
        pass: pass.clone(),
        node: format!("http://127.0.0.1:{api}"),
    };

    // 1. Scaffold, build to wasm, unit-test natively.
    let tally = root.path().join("tally");
    let made = cli.ok(&["contract", "new", "tally", "--dir", &s(&tally)]);
    assert_eq!(made["name"], "tally", "{made}");
    let manifest = tally.join("Cargo.toml");
    let toml_text = std::fs::read_to_string(&manifest).unwrap();
    assert!(toml_text.contains(r#"crate-type = ["cdylib", "rlib"]"#));
    assert!(toml_text.contains("[workspace]"));
    let sdk = workspace().join("contracts/sdk").canonicalize().unwrap();
    assert!(toml_text.contains(&format!("path = \"{}\"", sdk.display())));
    // A second `new` into the same directory is refused; bad names are refused.
    cli.refused(
        &["contract", "new", "tally", "--dir", &s(&tally)],
        "client.bad_input",
        1,
    );
    for bad in ["Tally", "2x", "bank", "fn"] {
        let d = root.path().join(format!("bad-{bad}"));
        cli.refused(
            &["contract", "new", bad, "--dir", &s(&d)],
            "client.bad_input",
            1,
        );
        assert!(!d.exists());
    }
    let scaffold_target = target_dir("contract-scaffold");
    let v1 = cli.build(&manifest, &scaffold_target, &["--suite", "sm"]);
    assert_eq!(v1["package"], "tally");
    assert_eq!(
        v1["entry_points"],
        json!(["instantiate", "execute", "query"])
    );
    let tally_v1 = root.path().join("tally-v1.wasm");
    std::fs::copy(v1["wasm"].as_str().unwrap(), &tally_v1).unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let unit = Command::new(cargo)
        .args(["test", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &scaffold_target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let unit_out = String::from_utf8_lossy(&unit.stdout);
    assert!(
        unit.status.success() && unit_out.contains("counts_and_refuses_overflow ... ok"),
        "cargo test of the scaffold:\n{unit_out}\n{}",
        String::from_utf8_lossy(&unit.stderr)
    );
    // The example token, built from the workspace.
    let token = cli.build(
        &workspace().join("contracts/examples/token/Cargo.toml"),
        &target_dir("contracts"),
        &["--suite", "sm"],
    );
    let token_wasm = token["wasm"].as_str().unwrap().to_string();
    let token_size = token["size"].as_u64().unwrap() as usize;
    eprintln!("contracts built in {:?}", started.elapsed());

    // 2. A certificate-mode devnet; org0's admin deploys the token.
    let mut devnet = Devnet::start(&dir, &pass, p2p, api);
    devnet.wait_line("ready:", Duration::from_secs(180));
    let admin = cli.ok(&["keys", "show", "org0-admin"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = cli.ok(&["keys", "new", "bob", "--suite", "sm"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let init = json!({
        "name": "Meridian Coin", "symbol": "MRC", "decimals": 2,
        "initial_balances": [{"address": admin, "amount": "1000"}],
    })
    .to_string();
    let deployed = cli.ok(&[
        "contract",
        "deploy",
        "mrc",
        &token_wasm,
        "--init",
        &init,
        "--from",
        "org0-admin",
    ]);
    assert_eq!(deployed["code"], "ok", "{deployed}");
    assert_eq!(deployed["uploaded"], true);
    assert_eq!(
        deployed["upload_txs"].as_array().unwrap().len(),
        token_size.div_ceil(meridian_client::MAX_PART_LEN)
    );
    assert_eq!(deployed["code_hash"], token["code_hash"]);
    assert!(deployed["gas_used"].as_u64().unwrap() > 0, "{deployed}");
    // The same code again: the upload is skipped.
    let again = cli.ok(&[
        "contract",
        "deploy",
        "mrc_two",
        &token_wasm,
        "--init",
        &init,
        "--from",
        "org0-admin",
    ]);
    assert_eq!(again["uploaded"], false, "{again}");
    assert_eq!(again["upload_txs"], json!([]));
    cli.refused(
        &[
            "contract",
            "deploy",
            "mrc",
            &token_wasm,
            "--init",
            &init,
            "--from",
            "org0-admin",
        ],
        "contract.exists",
        6,
    );

    // A transfer: receipt with gas_used and the contract's event.
    let sent = cli.ok(&[
        "contract",
        "call",
        "mrc",
        &json!({"transfer": {"recipient": bob, "amount": "250"}}).to_string(),
        "--from",
        "org0-admin",
    ]);
    assert_eq!(sent["code"], "ok", "{sent}");
    let gas = sent["gas_used"].as_u64().unwrap();
    assert!(gas > 0 && gas < 100_000_000, "{sent}");
    let ev = sent["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "mrc.transfer")
        .unwrap_or_else(|| panic!("no mrc.transfer event: {sent}"));
    assert_eq!(ev["module"], "contract");
    assert_eq!(ev["decoded"]["to"], bob);
    assert_eq!(ev["decoded"]["amount"], "250");
    let balance =
        |who: &str| cli.query("mrc", json!({"balance": {"address": who}}))["balance"].clone();
    assert_eq!(balance(&admin), "750");
    assert_eq!(balance(&bob), "250");
    assert_eq!(
        cli.query("mrc", json!({"token_info": {}}))["total_supply"],
        "1000"
    );
    let q = cli.ok(&["contract", "query", "mrc", r#"{"token_info": {}}"#]);
    assert!(q["gas_used"].as_u64().unwrap() > 0 && q["height"].as_u64().is_some());
    cli.refused(
        &["contract", "query", "mrc", r#"{"no_such": {}}"#],
        "mrc.bad_msg",
        1,
    );
    cli.refused(
        &["contract", "query", "nobody", "{}"],
        "contract.not_found",
        1,
    );
    cli.refused(
        &["contract", "query", "mrc", "{not json"],
        "client.bad_input",
        1,
    );

    // Too little fuel: fails on chain with its gas_used, changes nothing.
    let height_before = cli.ok(&["status"])["height"].as_u64().unwrap();
    let starved = cli.refused(
        &[
            "contract",
            "call",
            "mrc",
            &json!({"transfer": {"recipient": bob, "amount": "100"}}).to_string(),
            "--fuel",
            "1000",
            "--from",
            "org0-admin",
        ],
        "contract.out_of_fuel",
        6,
    );
    assert_eq!(starved["gas_used"], 1000, "{starved}");
    assert!(starved["height"].as_u64().unwrap() > height_before);
    assert_eq!(balance(&admin), "750");
    assert_eq!(balance(&bob), "250");

    // The record, verified.
    let info = cli.ok(&["contract", "info", "mrc"]);
    assert_eq!(info["code_hash"], token["code_hash"], "{info}");
    assert_eq!(info["creator"], admin);
    assert_eq!(info["version"], 1);
    assert_eq!(info["frozen"], false);
    assert_eq!(info["proof"]["verified"], true);
    cli.refused(&["contract", "info", "nobody"], "contract.not_found", 1);
    let human = Command::new(BIN)
        .args(["contract", "info", "mrc", "--node", &cli.node])
        .env_remove("MERIDIAN_GENESIS")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(human.status.success(), "{text}");
    assert!(text.contains("contract mrc (version 1)"), "{text}");
    assert!(
        text.contains("proof verified against finalized header"),
        "{text}"
    );

    // 3. The scaffolded counter on chain.
    let deployed = cli.ok(&[
        "contract",
        "deploy",
        "tally",
        &s(&tally_v1),
        "--init",
        r#"{"start": 5}"#,
        "--from",
        "org0-admin",
    ]);
    assert_eq!(deployed["code"], "ok", "{deployed}");
    let called = cli.ok(&[
        "contract",
        "call",
        "tally",
        r#"{"increment": {"by": 2}}"#,
        "--from",
        "org0-admin",
    ]);
    assert_eq!(called["events"][0]["kind"], "tally.incremented", "{called}");
    assert_eq!(called["events"][0]["decoded"], json!({"count": 7}));
    assert_eq!(cli.query("tally", json!({"get": {}})), json!({"count": 7}));
    cli.refused(
        &[
            "contract",
            "call",
            "tally",
            &json!({"increment": {"by": u64::MAX}}).to_string(),
            "--from",
            "org0-admin",
        ],
        "tally.overflow",
        6,
    );

    // Version 2 keeps the count in `migrate`; built with the node's suite.
    let lib = tally.join("src/lib.rs");
    let src = std::fs::read_to_string(&lib).unwrap().replace(
        "meridian_contract_sdk::entry!(instantiate = instantiate, execute = execute, query = query);",
        "/// Migrate handler: keeps the count.\n\
         pub fn migrate(ctx: &mut Ctx, _msg: ()) -> Result<CountResponse, ContractError> {\n\
         \x20   Ok(CountResponse { count: COUNT.load(ctx)? })\n\
         }\n\n\
         meridian_contract_sdk::entry!(\n\
         \x20   instantiate = instantiate,\n\
         \x20   execute = execute,\n\
         \x20   query = query,\n\
         \x20   migrate = migrate,\n\
         );",
    );
    assert!(src.contains("migrate = migrate"));
    std::fs::write(&lib, src).unwrap();
    let v2 = cli.build(&manifest, &scaffold_target, &[]);
    assert_eq!(v2["suite"], "sm", "the node's suite");
    assert_ne!(v2["code_hash"], v1["code_hash"]);
    let v2_hash = v2["code_hash"].as_str().unwrap().to_string();
    let upgrade = [
        "contract",
        "upgrade",
        "tally",
        v2["wasm"].as_str().unwrap(),
        "--msg",
        "null",
        "--from",
        "org0-admin",
    ];
    let refused = cli.refused(&upgrade, "contract.not_approved", 6);
    assert_eq!(refused["code_hash"], v2_hash, "{refused}");
    let msg = refused["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!(
            "meridian gov propose approve-upgrade --name tally --code-hash {v2_hash}"
        )),
        "{msg}"
    );
    cli.decide(&[
        "approve-upgrade",
        "--name",
        "tally",
        "--code-hash",
        &v2_hash,
    ]);
    let info = cli.ok(&["contract", "info", "tally"]);
    assert_eq!(info["approved_upgrade"], v2_hash, "{info}");
    let upgraded = cli.ok(&upgrade);
    assert_eq!(upgraded["code"], "ok", "{upgraded}");
    assert_eq!(upgraded["version"], 2);
    assert_eq!(
        upgraded["upload_txs"],
        json!([]),
        "uploaded by the refused attempt"
    );
    let info = cli.ok(&["contract", "info", "tally"]);
    assert_eq!(
        (info["version"].clone(), info["code_hash"].clone()),
        (json!(2), json!(v2_hash))
    );
    assert_eq!(cli.query("tally", json!({"get": {}})), json!({"count": 7}));

    // Governance freezes the token: calls and queries are refused.
    cli.decide(&["freeze-contract", "--name", "mrc"]);
    assert_eq!(cli.ok(&["contract", "info", "mrc"])["frozen"], true);
    cli.refused(
        &[
            "contract",
            "call",
            "mrc",
            &json!({"transfer": {"recipient": bob, "amount": "1"}}).to_string(),
            "--from",
            "org0-admin",
        ],
        "contract.frozen",
        6,
    );
    cli.refused(
        &["contract", "query", "mrc", r#"{"token_info": {}}"#],
        "contract.frozen",
        1,
    );
    // The other deployment of the same code is not frozen.
    assert_eq!(
        cli.query("mrc_two", json!({"balance": {"address": admin}}))["balance"],
        "1000"
    );

    assert!(
        devnet.stop(Duration::from_secs(30)),
        "devnet stops on SIGINT"
    );
    eprintln!("contracts end to end in {:?}", started.elapsed());
}

#[test]
fn contract_help_is_complete() {
    let help = |args: &[&str]| {
        let o = Command::new(BIN).args(args).arg("--help").output().unwrap();
        assert!(o.status.success(), "meridian {args:?} --help");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(help(&[]).contains("contract"));
    let top = help(&["contract"]);
    for w in [
        "new",
        "build",
        "deploy",
        "call",
        "query",
        "info",
        "upgrade",
        "--from",
        "--node",
        "--json",
        "gas_used",
        "contract.out_of_fuel",
        "approve-upgrade",
        "Exit codes",
    ] {
        assert!(top.contains(w), "contract --help lacks {w}:\n{top}");
    }
    for (sub, words) in [
        ("new", &["--dir", "--sdk-path"][..]),
        ("build", &["--manifest-path", "--suite", "--target-dir"]),
        ("deploy", &["--init", "--fuel", "--allow-reentry", "--from"]),
        ("call", &["--fuel", "--from"]),
        ("query", &["--fuel", "--node"]),
        ("info", &["--height", "--genesis"]),
        ("upgrade", &["--msg", "--fuel", "--from"]),
    ] {
        let text = help(&["contract", sub]);
        for w in words {
            assert!(text.contains(w), "contract {sub} --help lacks {w}:\n{text}");
        }
    }
}
