//! Contracts through the SDK against a served ledger: `Wallet::upload_code` (parts, sequential
//! nonces, skipping what the chain has, resuming an interrupted upload), `deploy_contract`,
//! `call_contract` (gas_used in the receipt), `upgrade_contract` refused without governance,
//! `Client::contract_query`, and `Client::contract_info` verified — forged answers refused.

use std::time::Duration;

use meridian_client::{code_hash, Client, ClientError, Wallet, MAX_PART_LEN};
use meridian_crypto::{PrivateKey, Suite};
use serde_json::json;

use crate::net::{FakeNode, LocalNet};

const WAIT: Duration = Duration::from_secs(20);

fn commit_all(client: &Client, txs: &[meridian_types::SignedTx]) {
    for tx in txs {
        client.commit(tx, WAIT).unwrap();
    }
}

#[test]
fn counter_through_the_sdk() {
    let suite = Suite::Intl;
    let net = LocalNet::start(suite);
    let client = Client::new(&net.url);
    client.wait_for_height(1, WAIT).unwrap();
    let mut alice = Wallet::connect(&client, PrivateKey::from_seed(suite, &[1; 32])).unwrap();
    let mut bob = Wallet::connect(&client, PrivateKey::from_seed(suite, &[2; 32])).unwrap();
    let code = meridian_wasm_build::example("contract-counter");
    let hash = code_hash(suite, &code);

    // An interrupted upload: only the first part went through.
    let parts = alice.upload_code(&client, &code).unwrap();
    let n = code.len().div_ceil(MAX_PART_LEN);
    assert!(n >= 2, "the counter needs several parts");
    assert_eq!(parts.len(), n);
    let nonces: Vec<u64> = parts.iter().map(|t| t.body.nonce).collect();
    assert_eq!(nonces, (0..n as u64).collect::<Vec<_>>());
    assert!(parts
        .iter()
        .all(|t| meridian_types::Encode::encode(t).len() <= meridian_types::MAX_TX_BYTES));
    client.commit(&parts[0], WAIT).unwrap();
    assert!(!client.code_stored(&hash).unwrap().value);
    // A new upload resumes after the stored part (at nonce 1).
    alice.reset_nonce();
    let rest = alice.upload_code(&client, &code).unwrap();
    assert_eq!(rest.len(), n - 1);
    assert_eq!(rest[0].body.nonce, 1);
    commit_all(&client, &rest);
    let stored = client.code_stored(&hash).unwrap();
    assert!(stored.value);
    // Stored: nothing left to upload, for anyone.
    assert!(bob.upload_code(&client, &code).unwrap().is_empty());

    let deploy = alice
        .deploy_contract(
            &client,
            "counter",
            hash,
            br#"{"start": 5}"#,
            100_000_000,
            false,
        )
        .unwrap();
    let deployed = client.commit(&deploy, WAIT).unwrap();
    assert!(deployed.receipt.gas_used > 0);
    let call = bob
        .call_contract(
            &client,
            "counter",
            br#"{"increment": {"by": 2}}"#,
            10_000_000,
        )
        .unwrap();
    let called = client.commit(&call, WAIT).unwrap();
    assert!(called.receipt.gas_used > 0);
    assert_eq!(called.receipt.events[0].kind, "counter.incremented");

    let q = client
        .contract_query("counter", &json!({"get": {}}), None)
        .unwrap();
    assert_eq!(q.result["count"], 7);
    assert_eq!(q.result["creator"], alice.address().to_string());
    assert!(q.gas_used > 0);
    let q2 = client
        .contract_query("counter", &json!({"get": {}}), Some(q.gas_used))
        .unwrap();
    assert_eq!(q2.result, q.result);
    match client.contract_query("counter", &json!({"get": {}}), Some(q.gas_used - 1)) {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (422, "contract.out_of_fuel"))
        }
        other => panic!("{other:?}"),
    }
    let e = client
        .contract_query("counter", &json!("nonsense"), None)
        .unwrap_err();
    assert_eq!(e.code(), "counter.bad_msg");
    let e = client
        .contract_query("nobody", &json!({}), None)
        .unwrap_err();
    assert_eq!(e.code(), "contract.not_found");

    // A call that runs out of fuel fails on chain and changes nothing.
    let starved = bob
        .call_contract(&client, "counter", br#"{"increment": {"by": 1}}"#, 1_000)
        .unwrap();
    match client.commit(&starved, WAIT) {
        Err(ClientError::TxFailed { code, .. }) => assert_eq!(code, "contract.out_of_fuel"),
        other => panic!("{other:?}"),
    }
    let receipt = client
        .tx(&starved.hash(&meridian_node::ChainHash(suite)))
        .unwrap()
        .view
        .receipt;
    assert_eq!(receipt.gas_used, 1_000);
    let q = client
        .contract_query("counter", &json!({"get": {}}), None)
        .unwrap();
    assert_eq!(q.result["count"], 7);

    // The record, verified.
    let info = client.contract_info("counter").unwrap();
    let c = info.value.clone().unwrap();
    assert_eq!(c.code_hash, hex::encode(hash));
    assert_eq!(c.creator, alice.address().to_string());
    assert_eq!(c.version, 1);
    assert!(!c.frozen && c.approved_upgrade.is_none());
    assert_eq!(c.deployed_height, deployed.receipt.height);
    let none = client.contract_info("nobody").unwrap();
    assert!(none.value.is_none());
    let e = client.contract_info("Not-A-Name").unwrap_err();
    assert_eq!(e.code(), "client.bad_input");

    // Upgrades need governance's approval.
    let up = alice
        .upgrade_contract(&client, "counter", hash, b"null", 10_000_000)
        .unwrap();
    match client.commit(&up, WAIT) {
        Err(ClientError::TxFailed { code, .. }) => assert_eq!(code, "contract.not_approved"),
        other => panic!("{other:?}"),
    }
    // Builders refuse what the chain would.
    for e in [
        alice.call_contract(&client, "bank", b"{}", 1).unwrap_err(),
        alice
            .call_contract(&client, "counter", b"{}", 0)
            .unwrap_err(),
        alice
            .call_contract(
                &client,
                "counter",
                b"{}",
                meridian_client::MAX_FUEL_PER_TX + 1,
            )
            .unwrap_err(),
        alice.upload_code(&client, &[]).unwrap_err(),
    ] {
        assert_eq!(e.code(), "client.bad_input", "{e}");
    }

    // Forged contract answers are refused: decoded fields that are not the proven record, and
    // a record that does not match its proof.
    let status = serde_json::to_string(&client.status().unwrap()).unwrap();
    let view: serde_json::Value = {
        let url = format!("{}/v1/contracts/counter?height={}", net.url, info.height);
        ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    let state_route = |key: &str| {
        let v = client
            .state_view(&hex::decode(key).unwrap(), Some(info.height))
            .unwrap();
        (
            format!("/v1/state/{key}"),
            serde_json::to_string(&v).unwrap(),
        )
    };
    let serve = |v: &serde_json::Value| {
        FakeNode::start(vec![
            ("/v1/status".into(), status.clone()),
            ("/v1/contracts/".into(), v.to_string()),
            state_route(view["contract"]["frozen_key"].as_str().unwrap()),
            state_route(view["contract"]["upgrade_key"].as_str().unwrap()),
        ])
    };
    let honest = serve(&view);
    assert_eq!(
        Client::new(&honest.url)
            .contract_info("counter")
            .unwrap()
            .value,
        Some(c.clone())
    );
    let mut lie = view.clone();
    lie["contract"]["version"] = json!(9);
    let liar = serve(&lie);
    let e = Client::new(&liar.url).contract_info("counter").unwrap_err();
    assert_eq!(e.code(), "client.bad_response", "{e}");
    let mut lie = view.clone();
    lie["contract"]["frozen"] = json!(true);
    let liar = serve(&lie);
    let e = Client::new(&liar.url).contract_info("counter").unwrap_err();
    assert_eq!(e.code(), "client.bad_response", "{e}");
    let mut lie = view.clone();
    lie["value"] = json!(hex::encode(b"forged"));
    let liar = serve(&lie);
    let e = Client::new(&liar.url).contract_info("counter").unwrap_err();
    assert_eq!(e.code(), "client.proof_invalid", "{e}");
}
