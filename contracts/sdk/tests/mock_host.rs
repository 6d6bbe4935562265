//! The SDK end to end through the native mock host: entry points, errors, reverts, read-only
//! queries, host limits, nested calls, bank, notary, hash, signatures.

use meridian_contract_sdk::testing::{addr, EntryKind, HashSuite, MockHost};
use meridian_contract_sdk::{Address, CallError, NotaryRecord, Uint128};
use serde_json::{json, Value};

/// A contract that does whatever its message says.
mod probe {
    use meridian_contract_sdk::{ensure, fail, Address, ContractError, Ctx, Item, Uint128};
    use serde::{Deserialize, Serialize};
    use serde_json::{json, Value};

    pub const NOTE: Item<String> = Item::new("note");

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Exec {
        Set {
            value: String,
        },
        RawSet {
            key_len: usize,
            value_len: usize,
        },
        Emit {
            kind: String,
            count: u32,
            size: usize,
        },
        Fail {
            code: String,
        },
        FailAfterWrite {
            value: String,
        },
        Panic {},
        ReturnLen {
            len: usize,
        },
        Env {},
        Call {
            name: String,
            msg: Value,
            swallow: bool,
            then_set: Option<String>,
        },
        CallTyped {
            name: String,
            msg: Value,
        },
        Recurse {
            depth: u32,
        },
        Transfer {
            to: Address,
            asset: String,
            amount: Uint128,
            then_fail: bool,
        },
        Balance {
            of: Address,
            asset: String,
        },
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub struct EnvView {
        pub contract: String,
        pub contract_address: Address,
        pub caller: Address,
        pub caller_is_contract: bool,
        pub caller_org: String,
        pub caller_roles: Vec<String>,
    }

    fn env_view(ctx: &Ctx) -> EnvView {
        let e = ctx.env();
        EnvView {
            contract: e.contract.clone(),
            contract_address: e.contract_address,
            caller: e.caller,
            caller_is_contract: e.caller_is_contract,
            caller_org: e.caller_org.clone(),
            caller_roles: e.caller_roles.clone(),
        }
    }

    pub fn instantiate(ctx: &mut Ctx, note: String) -> Result<(), ContractError> {
        NOTE.save(ctx, &note)
    }

    pub fn execute(ctx: &mut Ctx, msg: Exec) -> Result<Value, ContractError> {
        match msg {
            Exec::Set { value } => NOTE.save(ctx, &value)?,
            Exec::RawSet { key_len, value_len } => {
                ctx.set(&vec![b'k'; key_len], &vec![b'v'; value_len])
            }
            Exec::Emit { kind, count, size } => {
                for _ in 0..count {
                    ctx.emit_raw(&kind, &vec![b'x'; size]);
                }
            }
            Exec::Fail { code } => fail!(ContractError::try_new(code, "asked to fail")
                .unwrap_or_else(|e| ContractError::new("bad_code", e.to_string()))),
            Exec::FailAfterWrite { value } => {
                NOTE.save(ctx, &value)?;
                ctx.emit("wrote", &value)?;
                fail!("boom", "failed after writing {value}");
            }
            Exec::Panic {} => {
                NOTE.save(ctx, &"before panic".to_string())?;
                panic!("probe panicked");
            }
            Exec::ReturnLen { len } => return Ok(Value::String("r".repeat(len))),
            Exec::Env {} => return Ok(serde_json::to_value(env_view(ctx)).unwrap_or_default()),
            Exec::Call {
                name,
                msg,
                swallow,
                then_set,
            } => {
                let r = ctx.call_contract_raw(&name, msg.to_string().as_bytes(), 0);
                if let Some(v) = then_set {
                    NOTE.save(ctx, &v)?;
                }
                return match r {
                    Ok(data) => Ok(json!({ "ok": String::from_utf8_lossy(&data) })),
                    Err(e) if swallow => Ok(json!({ "err": e.code, "message": e.message })),
                    Err(e) => Err(e.into()),
                };
            }
            Exec::CallTyped { name, msg } => {
                let view: EnvView = ctx.call_contract(&name, &msg, 0)?;
                return Ok(serde_json::to_value(view).unwrap_or_default());
            }
            Exec::Recurse { depth } => {
                ensure!(depth < 1000, "too_deep", "depth {depth}");
                let me = ctx.env().contract.clone();
                let r: Value = ctx
                    .call_contract(&me, &json!({ "recurse": { "depth": depth + 1 } }), 0)
                    .unwrap_or_else(|e| json!({ "stopped_at": depth + 1, "code": e.code }));
                return Ok(r);
            }
            Exec::Transfer {
                to,
                asset,
                amount,
                then_fail,
            } => {
                ctx.bank_transfer(to, &asset, amount.u128())?;
                ensure!(!then_fail, "after_transfer", "failing after the transfer");
            }
            Exec::Balance { of, asset } => {
                return Ok(json!(Uint128(ctx.bank_balance(of, &asset))));
            }
        }
        Ok(Value::Null)
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Query {
        Note {},
        TryWrite {},
        TryEmit {},
        TryTransfer {
            to: Address,
        },
        Hash {
            data: String,
        },
        AddressOf {
            name: String,
        },
        Verify {
            pk: String,
            msg: String,
            sig: String,
        },
        Notary {
            hash: [u8; 32],
        },
        CallOther {
            name: String,
            msg: Value,
        },
    }

    pub fn query(ctx: &Ctx, q: Query) -> Result<Value, ContractError> {
        Ok(match q {
            Query::Note {} => json!(NOTE.may_load(ctx)?),
            Query::TryWrite {} => {
                // A query only has `&Ctx`; a contract could still reach the host through
                // `sys` directly. The host refuses.
                meridian_contract_sdk::sys::storage_set(b"note", b"\"x\"");
                Value::Null
            }
            Query::TryEmit {} => {
                meridian_contract_sdk::sys::emit_event(b"sneaky", b"{}");
                Value::Null
            }
            Query::TryTransfer { to } => {
                let r = meridian_contract_sdk::sys::bank_transfer(&to.0, b"MRD", 1);
                json!(r.is_ok())
            }
            Query::Hash { data } => json!(ctx.hash(data.as_bytes())),
            Query::AddressOf { name } => json!(ctx.contract_address(&name)),
            Query::Verify { pk, msg, sig } => {
                json!(ctx.verify_signature(pk.as_bytes(), msg.as_bytes(), sig.as_bytes()))
            }
            Query::Notary { hash } => json!(ctx.notary_get(&hash)),
            Query::CallOther { name, msg } => {
                let r = meridian_contract_sdk::sys::call_contract(
                    name.as_bytes(),
                    msg.to_string().as_bytes(),
                    0,
                );
                json!(r.is_ok())
            }
        })
    }

    pub fn migrate(ctx: &mut Ctx, _msg: ()) -> Result<String, ContractError> {
        NOTE.save(ctx, &"migrated".to_string())?;
        Ok("done".into())
    }

    meridian_contract_sdk::entry!(
        instantiate = instantiate,
        execute = execute,
        query = query,
        migrate = migrate,
    );
}

/// Only `execute`: for missing-export checks.
mod exec_only {
    use meridian_contract_sdk::{ContractError, Ctx};

    fn run(_ctx: &mut Ctx, _msg: ()) -> Result<u8, ContractError> {
        Ok(7)
    }

    meridian_contract_sdk::entry!(execute = run);
}

fn host() -> MockHost {
    let mut h = MockHost::new("probe", probe::ENTRY_POINTS);
    h.instantiate(&"hello").expect("instantiate");
    h
}

fn note(h: &MockHost) -> Option<String> {
    h.query(&json!({ "note": {} })).unwrap()
}

fn exec(h: &mut MockHost, msg: Value) -> Result<Value, CallError> {
    h.execute(&msg).map(|r| r.json())
}

#[test]
fn instantiate_execute_query_migrate_roundtrip() {
    let mut h = host();
    assert_eq!(note(&h).as_deref(), Some("hello"));
    exec(&mut h, json!({ "set": { "value": "v2" } })).unwrap();
    assert_eq!(note(&h).as_deref(), Some("v2"));
    // Raw storage holds the JSON under the item key.
    assert_eq!(h.storage_get(b"note"), Some(b"\"v2\"".to_vec()));
    assert_eq!(h.migrate(&()).unwrap().json::<String>(), "done");
    assert_eq!(note(&h).as_deref(), Some("migrated"));
}

#[test]
fn bad_json_is_bad_msg_and_empty_input_is_null() {
    let mut h = host();
    let e = h
        .call("probe", EntryKind::Execute, b"{not json")
        .unwrap_err();
    assert_eq!(e.code, "probe.bad_msg");
    let e = h
        .call("probe", EntryKind::Execute, br#"{"nope":{}}"#)
        .unwrap_err();
    assert_eq!(e.code, "probe.bad_msg");
    // migrate takes `()`: an empty input reads as `null`.
    h.call("probe", EntryKind::Migrate, b"").unwrap();
}

#[test]
fn contract_errors_are_prefixed_and_revert_everything() {
    let mut h = host();
    let e = exec(&mut h, json!({ "fail_after_write": { "value": "lost" } })).unwrap_err();
    assert_eq!(e.code, "probe.boom");
    assert_eq!(e.message, "failed after writing lost");
    assert_eq!(note(&h).as_deref(), Some("hello"), "write reverted");
    assert!(h.events().is_empty(), "event reverted");
    let e = exec(&mut h, json!({ "fail": { "code": "insufficient_funds" } })).unwrap_err();
    assert_eq!(e.code, "probe.insufficient_funds");
}

#[test]
fn panics_are_traps_and_revert() {
    let mut h = host();
    let e = exec(&mut h, json!({ "panic": {} })).unwrap_err();
    assert_eq!(e.code, "contract.trap");
    assert!(e.message.contains("probe panicked"), "{}", e.message);
    assert_eq!(note(&h).as_deref(), Some("hello"));
}

#[test]
fn queries_are_read_only() {
    let mut h = host();
    for q in [json!({ "try_write": {} }), json!({ "try_emit": {} })] {
        let e = h.query::<Value>(&q).unwrap_err();
        assert_eq!(e.code, "contract.read_only", "{q}");
    }
    h.set_balance(h.address(), "MRD", 10);
    let e = h
        .query::<Value>(&json!({ "try_transfer": { "to": addr("x") } }))
        .unwrap_err();
    assert_eq!(e.code, "contract.read_only");
    assert_eq!(h.balance(h.address(), "MRD"), 10);
    assert_eq!(note(&h).as_deref(), Some("hello"));
    // Nested calls are refused in queries (the callee's execute could write).
    h.register_contract("other", probe::ENTRY_POINTS, false);
    let e = h
        .query::<Value>(&json!({ "call_other": { "name": "other", "msg": { "env": {} } } }))
        .unwrap_err();
    assert_eq!(e.code, "contract.read_only");
}

#[test]
fn storage_size_limits() {
    let mut h = host();
    exec(
        &mut h,
        json!({ "raw_set": { "key_len": 256, "value_len": 65536 } }),
    )
    .unwrap();
    let e = exec(
        &mut h,
        json!({ "raw_set": { "key_len": 257, "value_len": 1 } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "contract.trap");
    let e = exec(
        &mut h,
        json!({ "raw_set": { "key_len": 1, "value_len": 65537 } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "contract.trap");
    // A typed value over 64 KiB is refused by the SDK before reaching the host.
    let e = exec(&mut h, json!({ "set": { "value": "x".repeat(65536) } })).unwrap_err();
    assert_eq!(e.code, "probe.serialize");
}

#[test]
fn return_data_limit() {
    let mut h = host();
    // JSON string = 2 quotes + len.
    let r = exec(&mut h, json!({ "return_len": { "len": 65534 } })).unwrap();
    assert_eq!(r.as_str().map(str::len), Some(65534));
    let e = exec(&mut h, json!({ "return_len": { "len": 65535 } })).unwrap_err();
    assert_eq!(e.code, "contract.return_too_large");
}

#[test]
fn events_are_recorded_and_bounded() {
    let mut h = host();
    exec(
        &mut h,
        json!({ "emit": { "kind": "ping", "count": 2, "size": 3 } }),
    )
    .unwrap();
    let ev = h.take_events();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[0].module.as_str(), ev[0].kind.as_str()),
        ("contract", "probe.ping")
    );
    assert_eq!(ev[0].data, b"xxx");
    // 64 per transaction, 4 KiB each.
    exec(
        &mut h,
        json!({ "emit": { "kind": "k", "count": 64, "size": 4096 } }),
    )
    .unwrap();
    assert_eq!(h.take_events().len(), 64);
    let e = exec(
        &mut h,
        json!({ "emit": { "kind": "k", "count": 65, "size": 0 } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "tx.too_many_events");
    let e = exec(
        &mut h,
        json!({ "emit": { "kind": "k", "count": 1, "size": 4097 } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "tx.too_many_events");
    // Kind: 1..=32 bytes of [a-z0-9_] (the receipt carries `probe.<kind>`).
    for bad in ["", "Ping", "a.b", &"k".repeat(33)] {
        let e = exec(
            &mut h,
            json!({ "emit": { "kind": bad, "count": 1, "size": 0 } }),
        )
        .unwrap_err();
        assert_eq!(e.code, "contract.bad_event", "{bad:?}");
    }
    exec(
        &mut h,
        json!({ "emit": { "kind": "k".repeat(32), "count": 1, "size": 0 } }),
    )
    .unwrap();
    assert_eq!(h.take_events()[0].kind, format!("probe.{}", "k".repeat(32)));
}

#[test]
fn env_of_top_level_and_nested_calls() {
    let mut h = host();
    let alice = addr("alice");
    h.set_caller(alice);
    h.set_caller_identity("org1", Some([7; 32]), &["admin", "member"]);
    h.set_block(42, 1_234_567);
    h.set_chain_id("meridian-x");
    h.set_tx_hash([5; 32]);
    let env = h.env();
    assert_eq!(
        (env.chain_id.as_str(), env.height, env.time_ms, env.tx_hash),
        ("meridian-x", 42, 1_234_567, [5; 32])
    );
    assert_eq!(
        (env.contract.as_str(), env.contract_address),
        ("probe", h.address())
    );
    assert_eq!(env.caller, alice);
    assert!(!env.caller_is_contract);
    assert_eq!(env.caller_cert_id, Some([7; 32]));
    assert!(env.caller_has_role("admin") && !env.caller_has_role("root"));
    let top: probe::EnvView = h.execute(&json!({ "env": {} })).unwrap().json();
    assert_eq!(top.caller_org, "org1");
    assert_eq!(top.caller_roles, ["admin", "member"]);

    let other = h.register_contract("other", probe::ENTRY_POINTS, false);
    let nested: probe::EnvView = h
        .execute(&json!({ "call_typed": { "name": "other", "msg": { "env": {} } } }))
        .unwrap()
        .json();
    assert_eq!(
        nested,
        probe::EnvView {
            contract: "other".into(),
            contract_address: other,
            caller: h.address(),
            caller_is_contract: true,
            caller_org: String::new(),
            caller_roles: vec![],
        }
    );
}

#[test]
fn nested_call_failure_reverts_only_the_callee() {
    let mut h = host();
    h.register_contract("other", probe::ENTRY_POINTS, false);
    let r = exec(
        &mut h,
        json!({ "call": { "name": "other",
            "msg": { "fail_after_write": { "value": "callee" } },
            "swallow": true, "then_set": "caller kept" } }),
    )
    .unwrap();
    assert_eq!(r["err"], "other.boom");
    assert!(
        h.contract_storage("other").is_empty(),
        "callee write reverted"
    );
    assert_eq!(note(&h).as_deref(), Some("caller kept"));
    assert!(h.events().is_empty(), "callee event reverted");

    // Success: the callee's write and return data.
    let r = exec(
        &mut h,
        json!({ "call": { "name": "other", "msg": { "set": { "value": "set by probe" } },
            "swallow": false, "then_set": null } }),
    )
    .unwrap();
    assert_eq!(r["ok"], "null");
    assert_eq!(
        h.contract_storage("other"),
        vec![(b"note".to_vec(), b"\"set by probe\"".to_vec())]
    );

    // Not swallowed: the whole call fails and every write is gone, the callee's included.
    let e = exec(
        &mut h,
        json!({ "call": { "name": "other", "msg": { "fail": { "code": "nope" } },
            "swallow": false, "then_set": "lost" } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "probe.call_failed");
    assert_eq!(e.message, "other.nope: asked to fail");
    assert_eq!(note(&h).as_deref(), Some("caller kept"));

    // Unknown callee, missing export, bad response type.
    let r = exec(
        &mut h,
        json!({ "call": { "name": "ghost", "msg": {}, "swallow": true, "then_set": null } }),
    )
    .unwrap();
    assert_eq!(r["err"], "contract.not_found");
    h.register_contract("only_exec", exec_only::ENTRY_POINTS, false);
    let e = h.call("only_exec", EntryKind::Query, b"null").unwrap_err();
    assert_eq!(e.code, "contract.bad_code");
    let e = exec(
        &mut h,
        json!({ "call_typed": { "name": "only_exec", "msg": null } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "probe.call_failed");
    assert!(e.message.starts_with("sdk.bad_response"), "{}", e.message);
}

#[test]
fn reentrancy_and_call_depth() {
    let mut h = host();
    // probe -> probe is re-entry: refused unless allowed.
    let r = exec(&mut h, json!({ "recurse": { "depth": 1 } })).unwrap();
    assert_eq!(r, json!({ "stopped_at": 2, "code": "contract.reentrancy" }));
    h.set_allow_reentry("probe", true);
    let r = exec(&mut h, json!({ "recurse": { "depth": 1 } })).unwrap();
    // Frames 1..=8 run; the call that would make frame 9 fails.
    assert_eq!(r, json!({ "stopped_at": 9, "code": "contract.call_depth" }));
}

#[test]
fn bank_transfers_and_balances() {
    let mut h = host();
    let me = h.address();
    let bob = addr("bob");
    h.set_balance(me, "MRD", 100);
    let t = |to: Address, amount: u128, then_fail: bool| json!({ "transfer": { "to": to, "asset": "MRD", "amount": Uint128(amount), "then_fail": then_fail } });
    exec(&mut h, t(bob, 30, false)).unwrap();
    assert_eq!((h.balance(me, "MRD"), h.balance(bob, "MRD")), (70, 30));
    assert_eq!(h.transfers().len(), 1);
    assert_eq!(h.transfers()[0].amount, 30);
    let bal: Uint128 = exec(&mut h, json!({ "balance": { "of": bob, "asset": "MRD" } }))
        .map(|v| serde_json::from_value(v).unwrap())
        .unwrap();
    assert_eq!(bal, Uint128(30));
    let e = exec(&mut h, t(bob, 71, false)).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "probe.call_failed",
            "bank.insufficient_balance: balance 70 is below 71"
        )
    );
    assert_eq!(
        exec(&mut h, t(bob, 0, false)).unwrap_err().message,
        "bank.invalid_amount: amount must be positive"
    );
    let e = exec(
        &mut h,
        json!({ "transfer": { "to": bob, "asset": "XYZ", "amount": "1", "then_fail": false } }),
    )
    .unwrap_err();
    assert!(e.message.starts_with("bank.unknown_asset"), "{}", e.message);
    // The contract fails after a successful transfer: the transfer is reverted.
    let e = exec(&mut h, t(bob, 10, true)).unwrap_err();
    assert_eq!(e.code, "probe.after_transfer");
    assert_eq!((h.balance(me, "MRD"), h.balance(bob, "MRD")), (70, 30));
    assert_eq!(h.transfers().len(), 1);
}

#[test]
fn hash_addresses_signatures_notary() {
    let mut h = host();
    let sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let hex = |v: &Value| -> String {
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| format!("{:02x}", b.as_u64().unwrap()))
            .collect()
    };
    let hq = json!({ "hash": { "data": "abc" } });
    assert_eq!(hex(&h.query::<Value>(&hq).unwrap()), sha_abc);
    let me: Address = h
        .query(&json!({ "address_of": { "name": "probe" } }))
        .unwrap();
    assert_eq!(me, h.address());
    assert_eq!(me, h.env().contract_address);
    h.set_hash_suite(HashSuite::Sm3);
    assert_eq!(
        hex(&h.query::<Value>(&hq).unwrap()),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    assert_ne!(h.address(), me, "addresses follow the suite");

    let v = |sig: &str| json!({ "verify": { "pk": "pk", "msg": "m", "sig": sig } });
    assert!(!h.query::<bool>(&v("s")).unwrap());
    h.accept_signature(b"pk", b"m", b"s");
    assert!(h.query::<bool>(&v("s")).unwrap());
    assert!(!h.query::<bool>(&v("t")).unwrap());

    let rec = NotaryRecord {
        owner: addr("notary owner"),
        height: 9,
        time_ms: 99,
        meta: b"contract.pdf".to_vec(),
    };
    h.set_notary([1; 32], rec.clone());
    let got: Option<NotaryRecord> = h
        .query(&json!({ "notary": { "hash": vec![1u8; 32] } }))
        .unwrap();
    assert_eq!(got, Some(rec));
    let none: Option<NotaryRecord> = h
        .query(&json!({ "notary": { "hash": vec![2u8; 32] } }))
        .unwrap();
    assert_eq!(none, None);
}

#[test]
fn host_fuel_follows_the_fee_table() {
    let mut h = host();
    let before = h.host_fuel();
    h.with_ctx(|ctx| ctx.set(b"ab", b"xyz"));
    // storage_set: base 100 + 1000 + 10 per key+value byte.
    assert_eq!(h.host_fuel() - before, 100 + 1000 + 10 * 5);
    let before = h.host_fuel();
    h.with_query_ctx(|ctx| assert_eq!(ctx.get(b"ab").as_deref(), Some(&b"xyz"[..])));
    // storage_get 100 + 200 + key + value, then buffer_read 100 + value.
    assert_eq!(h.host_fuel() - before, 100 + 200 + 2 + 3 + 100 + 3);
    let before = h.host_fuel();
    h.with_ctx(|ctx| {
        let e = ctx.bank_transfer(addr("bob"), "NOPE", 1).unwrap_err();
        assert_eq!(e.code, "bank.unknown_asset");
    });
    // bank_transfer 100 + 5000, then buffer_len 100 and buffer_read 100 + the CallError
    // (u32 length + code, u32 length + message).
    let call_error = 4 + "bank.unknown_asset".len() + 4 + r#"unknown asset "NOPE""#.len();
    assert_eq!(
        h.host_fuel() - before,
        100 + 5000 + 100 + 100 + call_error as u64
    );
}

#[test]
fn mock_host_rejects_invalid_names_and_outside_calls() {
    for bad in ["bank", "9lives", "", "Upper", "a.b"] {
        let r = std::panic::catch_unwind(|| MockHost::new(bad, probe::ENTRY_POINTS));
        assert!(r.is_err(), "{bad}");
    }
    // Host functions need a call in progress.
    let _h = host();
    let r = std::panic::catch_unwind(|| meridian_contract_sdk::sys::storage_get(b"k"));
    assert!(r.is_err());
}
