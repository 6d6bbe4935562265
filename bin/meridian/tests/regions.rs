//! `meridian devnet --regions 2` end to end through the real binary: two regional chains (4
//! validator processes each), the devnet's relayer, plus a second independent relayer process
//! that is killed and restarted. Tokens go to region B and back, a region-A notarisation is
//! proven on region B, and no transfer is delivered twice by the two relayers. Then a contract
//! on A calls an allowlisted contract on B and gets the ack, and B, as a side chain, sends
//! records that A receives in order.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::{free_port_base, Cli, Devnet, BIN};

/// The devnet relayer's log, shown when a wait times out.
static RELAYER_LOG: OnceLock<PathBuf> = OnceLock::new();

fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            let log = RELAYER_LOG
                .get()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "timed out waiting for {what}; relayer log tail:\n{}",
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A second relayer, independent of the devnet's: its own config and state file.
fn spawn_relayer(dir: &Path) -> Child {
    Command::new(BIN)
        .args(["relayer", "--ephemeral-keys", "--config"])
        .arg(dir.join("relayer.toml"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn relayer")
}

struct Killer(Option<Child>);
impl Drop for Killer {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn balance(cli: &Cli, symbol: &str, who: &str) -> u128 {
    let v = cli.ok(&["query", "balance", symbol, who]);
    v["balance"]
        .as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| v["balance"].as_u64().map(u128::from))
        .unwrap_or_else(|| panic!("balance in {v}"))
}

#[test]
fn two_regions_transfer_there_and_back_prove_and_survive_a_relayer_restart() {
    let tmp = tempfile::tempdir().unwrap();
    // Built before the chains start (a cold contract build would starve them of CPU).
    let wasm = tmp.path().join("counter.wasm");
    std::fs::write(&wasm, meridian_wasm_build::example("contract-counter")).unwrap();
    let data = tmp.path().join("devnet");
    let api = free_port_base(104);
    let p2p = free_port_base(104);
    let mut devnet = Devnet::start_regions(&data, p2p, api);
    devnet.wait_line("ready:", Duration::from_secs(240));
    let _ = RELAYER_LOG.set(data.join("relayer.log"));
    let (node_a, node_b) = (
        format!("http://127.0.0.1:{api}"),
        format!("http://127.0.0.1:{}", api + 100),
    );
    let pass = tmp.path().join("pass");
    std::fs::write(&pass, "relay-test-pass\n").unwrap();
    let keys = tmp.path().join("keys");
    let a = Cli {
        keys: keys.clone(),
        pass: pass.clone(),
        node: node_a.clone(),
    };
    let b = Cli {
        keys,
        pass,
        node: node_b.clone(),
    };
    // A second relayer on the same path (ids from the devnet's --open).
    let metrics_port = support::free_ports(1)[0];
    let second = tmp.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(
        second.join("relayer.toml"),
        format!(
            "state_file = \"state.json\"\npoll_ms = 200\nmetrics = \"127.0.0.1:{metrics_port}\"\n\n\
             [a]\nname = \"meridian-a\"\n\
             node = \"{node_a}\"\nclient_id = \"client-0\"\nchannel = \"channel-0\"\n\n\
             [b]\nname = \"meridian-b\"\nnode = \"{node_b}\"\nclient_id = \"client-0\"\n\
             channel = \"channel-0\"\n"
        ),
    )
    .unwrap();
    let mut relayer2 = Killer(Some(spawn_relayer(&second)));

    a.ok(&["keys", "new", "alice", "--suite", "sm"]);
    b.ok(&["keys", "new", "bob", "--suite", "sm"]);
    let alice = a.ok(&["keys", "show", "alice"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = b.ok(&["keys", "show", "bob"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    a.ok(&[
        "tx",
        "asset-create",
        "GOLD",
        "--decimals",
        "2",
        "--max-supply",
        "1000000",
        "--from",
        "alice",
    ]);
    a.ok(&[
        "tx", "mint", "GOLD", "1000", "--to", &alice, "--from", "alice",
    ]);

    // A → B: escrowed on A, minted as a voucher on B.
    a.ok(&[
        "interop", "transfer", "--from", "alice", "--symbol", "GOLD", "--amount", "100", "--to",
        &bob,
    ]);
    let voucher = b.ok(&["interop", "voucher", "--trace", "transfer/channel-0/GOLD"])["symbol"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for("the voucher on B", Duration::from_secs(90), || {
        (balance(&b, &voucher, &bob) == 100).then_some(())
    });
    assert_eq!(balance(&a, "GOLD", &alice), 900);

    // Kill the second relayer hard; it restarts from its state file.
    if let Some(mut c) = relayer2.0.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let state = std::fs::read_to_string(second.join("state.json")).expect("state persisted");
    assert!(state.contains("meridian-a"), "{state}");
    relayer2.0 = Some(spawn_relayer(&second));

    // B → A: the voucher burns on B, the escrow releases on A.
    b.ok(&[
        "interop", "transfer", "--from", "bob", "--symbol", &voucher, "--amount", "40", "--to",
        &alice,
    ]);
    wait_for("GOLD back on A", Duration::from_secs(90), || {
        (balance(&a, "GOLD", &alice) == 940).then_some(())
    });
    assert_eq!(balance(&b, &voucher, &bob), 60);
    // The second relayer's counters (Prometheus text).
    let metrics = wait_for("relayer metrics", Duration::from_secs(30), || {
        let mut res = ureq::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .call()
            .ok()?;
        res.body_mut().read_to_string().ok()
    });
    assert!(
        metrics.contains("meridian_relayer_steps_total"),
        "{metrics}"
    );
    // Two relayers, each packet once: the voucher supply on B is exactly what is escrowed.
    let supply = b.ok(&["interop", "voucher", "--trace", "transfer/channel-0/GOLD"]);
    assert_eq!(supply["supply"], "60", "{supply}");

    // Is this document notarised in region A? Proven on region B.
    let doc = tmp.path().join("contract.pdf");
    std::fs::write(&doc, b"bill of lading 42").unwrap();
    a.ok(&["tx", "notarize", doc.to_str().unwrap(), "--from", "alice"]);
    let proven = b.ok(&[
        "interop",
        "prove",
        "--from",
        "bob",
        "--source-node",
        &node_a,
        "--doc",
        doc.to_str().unwrap(),
    ]);
    assert_eq!(proven["present"], true, "{proven}");
    let other = tmp.path().join("other.pdf");
    std::fs::write(&other, b"never notarised").unwrap();
    let absent = b.ok(&[
        "interop",
        "prove",
        "--from",
        "bob",
        "--source-node",
        &node_a,
        "--doc",
        other.to_str().unwrap(),
    ]);
    assert_eq!(absent["present"], false, "{absent}");
    let client = b.ok(&["interop", "client", "client-0"]);
    assert_eq!(client["chain_id"], "meridian-a", "{client}");
    assert_eq!(client["frozen_height"], 0);

    // A cross-chain contract call over the devnet's contract channel (channel-1): A's counter
    // asks B's (allowlisted) counter to add 5, and learns the outcome through its ack.
    let w = wasm.to_str().unwrap();
    a.ok(&[
        "contract",
        "deploy",
        "counter",
        w,
        "--init",
        r#"{"start":0}"#,
        "--from",
        "alice",
    ]);
    b.ok(&[
        "contract",
        "deploy",
        "counter",
        w,
        "--init",
        r#"{"start":10}"#,
        "--from",
        "bob",
    ]);
    let allowed = b.ok(&["interop", "allow-contract", "counter", "--from", "bob"]);
    assert!(allowed["height"].as_u64().is_some(), "{allowed}");
    let far = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 600_000;
    let msg = serde_json::json!({"remote_increment": {
        "channel": "channel-1", "target": "counter", "by": 5,
        "timeout_height": 0, "timeout_timestamp_ms": far,
    }});
    let sent = a.ok(&[
        "contract",
        "call",
        "counter",
        &msg.to_string(),
        "--from",
        "alice",
    ]);
    assert_eq!(sent["code"], "ok", "{sent}");
    wait_for("B's counter at 15", Duration::from_secs(90), || {
        let q = b.ok(&["contract", "query", "counter", r#"{"get":{}}"#]);
        (q["result"]["count"] == 15).then_some(())
    });
    let remote = r#"{"remote":{"channel":"channel-1","sequence":1}}"#;
    let outcome = wait_for("the ack back on A", Duration::from_secs(90), || {
        let q = a.ok(&["contract", "query", "counter", remote]);
        (q["result"]["status"] != "pending").then_some(q)
    });
    assert_eq!(outcome["result"]["status"], "ok", "{outcome}");
    assert_eq!(outcome["result"]["remote_count"], 15, "{outcome}");

    // Side chain B → main chain A over the ordered sidechain channel (channel-2): records
    // arrive in the order they were sent, each proven on A.
    for (k, v) in [("batch-1", "hash 0xaa"), ("batch-2", "hash 0xbb")] {
        b.ok(&[
            "interop",
            "send-data",
            "--from",
            "bob",
            "--key",
            k,
            "--value",
            v,
        ]);
    }
    let records = wait_for(
        "two side-chain records on A",
        Duration::from_secs(90),
        || {
            let r = a.ok(&["interop", "side-data", "channel-2"]);
            (r["records"].as_array().map(Vec::len) == Some(2)).then_some(r)
        },
    );
    assert_eq!(records["records"][0]["key"], "batch-1", "{records}");
    assert_eq!(records["records"][1]["value"], "hash 0xbb", "{records}");
    assert_eq!(records["records"][1]["sequence"], 2, "{records}");
    assert_eq!(
        records["records"][0]["sender"],
        bob.to_lowercase(),
        "{records}"
    );

    // The interop bench against the running regions: a few packets, a well-formed report
    // (figures are not asserted).
    let report = tmp.path().join("bench-interop.json");
    let out = Command::new(BIN)
        .args([
            "bench",
            "--workload",
            "interop",
            "--probes",
            "2",
            "--packets",
            "40",
        ])
        .args(["--nodes", &node_a, "--peer-node", &node_b, "--out"])
        .arg(&report)
        .output()
        .expect("run the interop bench");
    assert!(
        out.status.success(),
        "bench: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["workload"], "interop", "{r}");
    assert_eq!(
        (r["chain_a"].as_str(), r["chain_b"].as_str()),
        (Some("meridian-a"), Some("meridian-b"))
    );
    assert_eq!(r["packets_received"], 40, "{r}");
    assert!(r["one_way_ms_p50"].as_f64().unwrap() > 0.0, "{r}");
    assert!(
        r["round_trip_ms_p50"].as_f64().unwrap() >= r["one_way_ms_p50"].as_f64().unwrap(),
        "{r}"
    );

    drop(relayer2);
    assert!(
        devnet.stop(Duration::from_secs(60)),
        "devnet stops on SIGINT"
    );
}
