//! The module on the real executor with the bank: uploads, deployment, calls with fuel,
//! reverts (nested and whole-transaction), governance freezes and upgrades, queries. Contracts
//! are the SDK examples compiled to wasm32 (built by `meridian-wasm-build`) and small WAT
//! modules for host behaviour the examples do not exercise.

use std::collections::BTreeMap;
use std::sync::Arc;

use meridian_bank::{balance_key, decode_balance, Bank, BankCall};
use meridian_crypto::Suite;
use meridian_execution::{BlockEnv, ExecMode, Executor, Module, TxAuthenticator};
use meridian_types::{Address, Call, ChainId, Hash32, HashFn, Receipt, SignedTx, TxBody};
use meridian_vm::{Vm, VmLimits};

use super::*;

struct H;
impl HashFn for H {
    fn hash(&self, d: &[u8]) -> Hash32 {
        Suite::Intl.hash(d).0
    }
}

/// Signatures are the subject of other tests; here every transaction is authentic.
struct Yes;
impl TxAuthenticator for Yes {
    fn authenticate(&self, _: &SignedTx, _: &Hash32) -> bool {
        true
    }
}

struct Chain {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    exec: Executor,
    module: Arc<ContractModule>,
    nonces: BTreeMap<Vec<u8>, u64>,
    height: u64,
}

const ALICE: &[u8] = &[1; 32];
const BOB: &[u8] = &[2; 32];

fn addr(pk: &[u8]) -> Address {
    Address::from_public_key(&H, pk)
}

impl Chain {
    fn new() -> Chain {
        let bank: Arc<dyn Module> = Arc::new(Bank);
        let module = Arc::new(ContractModule::new(
            Arc::new(Vm::new(VmLimits::default())),
            Suite::Intl,
            Natives {
                bank: bank.clone(),
                interop: None,
            },
        ));
        let exec = Executor::new(vec![bank, module.clone()]);
        Chain {
            state: BTreeMap::new(),
            exec,
            module,
            nonces: BTreeMap::new(),
            height: 0,
        }
    }

    /// Runs one block of `calls` (each from `who`) and returns the receipts.
    fn block(&mut self, calls: Vec<(&[u8], Call)>) -> Vec<Receipt> {
        self.height += 1;
        let txs: Vec<SignedTx> = calls
            .into_iter()
            .map(|(who, call)| {
                let n = self.nonces.entry(who.to_vec()).or_default();
                let tx = SignedTx {
                    body: TxBody {
                        chain_id: ChainId::new("c-test").unwrap(),
                        sender: who.to_vec(),
                        nonce: *n,
                        expiry_height: 1_000,
                        call,
                    },
                    signature: vec![0; 64],
                };
                *n += 1;
                tx
            })
            .collect();
        let env = BlockEnv {
            chain_id: ChainId::new("c-test").unwrap(),
            height: self.height,
            time_ms: 1_800_000_000_000 + self.height,
        };
        let out = self
            .exec
            .execute_block(&H, &Yes, &self.state, &env, txs, ExecMode::Verify)
            .unwrap();
        for (k, v) in out.writes {
            match v {
                Some(v) => self.state.insert(k, v),
                None => self.state.remove(&k),
            };
        }
        out.receipts
    }

    fn one(&mut self, who: &[u8], call: Call) -> Receipt {
        self.block(vec![(who, call)]).remove(0)
    }

    /// Uploads `code` in parts of `part` bytes; returns its hash.
    fn upload(&mut self, who: &[u8], code: &[u8], part: usize) -> Hash32 {
        let code_hash = H.hash(code);
        for (i, chunk) in code.chunks(part).enumerate() {
            let r = self.one(
                who,
                ContractCall::Upload {
                    code_hash,
                    total: code.len() as u32,
                    offset: (i * part) as u32,
                    bytes: chunk.to_vec(),
                }
                .into_call(),
            );
            assert_eq!(r.code, "ok", "{}", r.message);
        }
        code_hash
    }

    fn deploy(&mut self, who: &[u8], name: &str, code_hash: Hash32, msg: &str) -> Receipt {
        self.one(
            who,
            ContractCall::Deploy {
                name: name.into(),
                code_hash,
                msg: msg.as_bytes().to_vec(),
                fuel: 50_000_000,
                allow_reentry: false,
            }
            .into_call(),
        )
    }

    fn call(&mut self, who: &[u8], name: &str, msg: &str, fuel: u64) -> Receipt {
        self.one(
            who,
            ContractCall::Call {
                name: name.into(),
                msg: msg.as_bytes().to_vec(),
                fuel,
            }
            .into_call(),
        )
    }

    fn query(&self, name: &str, msg: &str) -> Result<serde_json::Value, String> {
        let out = self.module.query(
            &self.state,
            &H,
            &ChainId::new("c-test").unwrap(),
            self.height,
            0,
            name,
            msg.as_bytes(),
            10_000_000,
        );
        out.result
            .map(|data| serde_json::from_slice(&data).unwrap())
            .map_err(|e| e.code().into_owned())
    }

    fn contract_keys(&self, name: &str) -> Vec<Vec<u8>> {
        let p = store_prefix(name);
        self.state
            .keys()
            .filter(|k| k.starts_with(&p))
            .cloned()
            .collect()
    }
}

fn wat(src: &str) -> Vec<u8> {
    wat::parse_str(src).unwrap()
}

#[test]
fn code_is_uploaded_in_order_checked_and_stored_once() {
    let mut c = Chain::new();
    let code = meridian_wasm_build::example("contract-counter");
    assert!(code.len() > MAX_PART_LEN, "uploads need several parts");
    let code_hash = H.hash(&code);
    // A part out of order is refused and changes nothing.
    let r = c.one(
        ALICE,
        ContractCall::Upload {
            code_hash,
            total: code.len() as u32,
            offset: 100,
            bytes: code[100..200].to_vec(),
        }
        .into_call(),
    );
    assert_eq!(r.code, codes::BAD_UPLOAD);
    assert_eq!(c.upload(ALICE, &code, MAX_PART_LEN), code_hash);
    assert_eq!(c.state.get(&code_key(&code_hash)), Some(&code));
    // No staging keys remain.
    assert!(!c.state.keys().any(|k| k.starts_with(b"contract/upload/")));
    // Bytes that do not hash to the announced hash are refused.
    let mut bad = wat("(module (memory (export \"memory\") 1))");
    let claimed = H.hash(b"something else");
    let r = c.one(
        BOB,
        ContractCall::Upload {
            code_hash: claimed,
            total: bad.len() as u32,
            offset: 0,
            bytes: std::mem::take(&mut bad),
        }
        .into_call(),
    );
    assert_eq!(r.code, codes::BAD_UPLOAD);
    // Not wasm at all: refused by validation.
    let junk = b"not a wasm module".to_vec();
    let r = c.one(
        BOB,
        ContractCall::Upload {
            code_hash: H.hash(&junk),
            total: junk.len() as u32,
            offset: 0,
            bytes: junk,
        }
        .into_call(),
    );
    assert_eq!(r.code, codes::BAD_CODE);
}

#[test]
fn interop_send_without_the_interop_module_is_a_recoverable_error() {
    // (With the interop module: crates/modules/interop/tests/contract_call.rs.)
    let mut c = Chain::new();
    let code = meridian_wasm_build::example("contract-counter");
    let h = c.upload(ALICE, &code, MAX_PART_LEN);
    assert_eq!(c.deploy(ALICE, "counter", h, r#"{"start":5}"#).code, "ok");
    let msg = r#"{"remote_increment":{"channel":"channel-1","target":"counter","by":1,"timeout_height":10}}"#;
    let r = c.call(BOB, "counter", msg, 10_000_000);
    // The host handed the contract a CallError; the counter turned it into its own error.
    assert_eq!(r.code, "counter.remote_failed");
    assert!(r.message.contains(codes::NO_INTEROP), "{}", r.message);
    assert_eq!(c.query("counter", r#"{"get":{}}"#).unwrap()["count"], 5);
}

#[test]
fn counter_deploys_runs_with_fuel_and_reverts_cleanly() {
    let mut c = Chain::new();
    let code = meridian_wasm_build::example("contract-counter");
    let h = c.upload(ALICE, &code, MAX_PART_LEN);
    let r = c.deploy(ALICE, "counter", h, r#"{"start":5}"#);
    assert_eq!(r.code, "ok", "{}", r.message);
    assert!(r.gas_used > 0);
    assert_eq!(c.deploy(BOB, "counter", h, "{}").code, codes::EXISTS);
    assert_eq!(c.deploy(BOB, "bank", h, "{}").code, codes::BAD_NAME);
    assert_eq!(c.query("counter", r#"{"get":{}}"#).unwrap()["count"], 5);

    let r = c.call(BOB, "counter", r#"{"increment":{"by":3}}"#, 10_000_000);
    assert_eq!(r.code, "ok", "{}", r.message);
    assert!(r.gas_used > 0 && r.gas_used < 10_000_000);
    assert!(r.events.iter().any(|e| e.kind.starts_with("counter.")));
    assert_eq!(c.query("counter", r#"{"get":{}}"#).unwrap()["count"], 8);

    // Out of fuel: the receipt reports the limit as used and nothing changes.
    let before = c.contract_keys("counter");
    let snapshot: Vec<_> = before.iter().map(|k| c.state.get(k).cloned()).collect();
    let r = c.call(BOB, "counter", r#"{"increment":{"by":1}}"#, 1_000);
    assert_eq!(r.code, codes::OUT_OF_FUEL);
    assert_eq!(r.gas_used, 1_000);
    assert!(r.events.is_empty());
    let after: Vec<_> = before.iter().map(|k| c.state.get(k).cloned()).collect();
    assert_eq!(snapshot, after);
    // Fuel limits are bounded; unknown contracts and bad messages have their codes.
    assert_eq!(c.call(BOB, "counter", "{}", 0).code, codes::BAD_FUEL);
    assert_eq!(
        c.call(BOB, "counter", "{}", MAX_FUEL_PER_TX + 1).code,
        codes::BAD_FUEL
    );
    assert_eq!(c.call(BOB, "nobody", "{}", 1_000).code, codes::NOT_FOUND);
    assert_eq!(
        c.call(BOB, "counter", "not json", 1_000_000).code,
        "counter.bad_msg"
    );
    // The same call on the same state costs the same fuel (determinism; the module cache is
    // warm the second time).
    let (state, nonces, height) = (c.state.clone(), c.nonces.clone(), c.height);
    let a = c.call(BOB, "counter", r#"{"increment":{"by":1}}"#, 10_000_000);
    (c.state, c.nonces, c.height) = (state, nonces, height);
    let b = c.call(BOB, "counter", r#"{"increment":{"by":1}}"#, 10_000_000);
    assert_eq!((a.code.as_str(), a.gas_used), ("ok", b.gas_used));
}

#[test]
fn token_transfers_and_lists_accounts_through_ordered_ranges() {
    let mut c = Chain::new();
    let code = meridian_wasm_build::example("contract-token");
    let h = c.upload(ALICE, &code, MAX_PART_LEN);
    let alice = addr(ALICE).to_string();
    let bob = addr(BOB).to_string();
    let init = format!(
        r#"{{"name":"Digital Yuan","symbol":"DCEP","decimals":2,"initial_balances":[{{"address":"{alice}","amount":"1000"}}]}}"#
    );
    let r = c.deploy(ALICE, "dcep", h, &init);
    assert_eq!(r.code, "ok", "{}", r.message);
    let r = c.call(
        ALICE,
        "dcep",
        &format!(r#"{{"transfer":{{"recipient":"{bob}","amount":"250"}}}}"#),
        50_000_000,
    );
    assert_eq!(r.code, "ok", "{}", r.message);
    let r = c.call(
        BOB,
        "dcep",
        &format!(r#"{{"transfer":{{"recipient":"{alice}","amount":"999"}}}}"#),
        50_000_000,
    );
    assert!(r.code.starts_with("dcep."), "{}", r.code);
    let bal = |c: &Chain, who: &str| {
        c.query("dcep", &format!(r#"{{"balance":{{"address":"{who}"}}}}"#))
            .unwrap()["balance"]
            .clone()
    };
    assert_eq!(bal(&c, &alice), "750");
    assert_eq!(bal(&c, &bob), "250");
    let all = c.query("dcep", r#"{"all_accounts":{"limit":10}}"#).unwrap();
    let listed = all.to_string();
    assert!(listed.contains(&alice) && listed.contains(&bob), "{listed}");
    // Queries cannot write.
    assert!(c
        .query(
            "dcep",
            &format!(r#"{{"transfer":{{"recipient":"{bob}","amount":"1"}}}}"#)
        )
        .is_err());
}

/// `B.execute` writes then traps; `A.execute` calls B, ignores the failure, writes, succeeds.
const CALLER: &str = r#"(module
  (import "meridian" "call_contract" (func $call (param i32 i32 i32 i32 i64) (result i32)))
  (import "meridian" "storage_set" (func $set (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "callee")
  (data (i32.const 16) "a")
  (func (export "execute") (result i32)
    (drop (call $call (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0) (i64.const 0)))
    (call $set (i32.const 16) (i32.const 1) (i32.const 16) (i32.const 1))
    (i32.const 0)))"#;
const CALLEE: &str = r#"(module
  (import "meridian" "storage_set" (func $set (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "b")
  (func (export "execute") (result i32)
    (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
    unreachable))"#;

#[test]
fn a_failed_nested_call_reverts_only_the_callee() {
    let mut c = Chain::new();
    let (a, b) = (wat(CALLER), wat(CALLEE));
    let ha = c.upload(ALICE, &a, MAX_PART_LEN);
    let hb = c.upload(ALICE, &b, MAX_PART_LEN);
    assert_eq!(c.deploy(ALICE, "caller", ha, "").code, "ok");
    assert_eq!(c.deploy(ALICE, "callee", hb, "").code, "ok");
    let r = c.call(BOB, "caller", "", 1_000_000);
    assert_eq!(r.code, "ok", "{}", r.message);
    assert_eq!(c.contract_keys("caller").len(), 1);
    assert!(
        c.contract_keys("callee").is_empty(),
        "callee's write reverted"
    );
    // Called directly, the callee fails the transaction.
    assert_eq!(c.call(BOB, "callee", "", 1_000_000).code, codes::TRAP);
}

/// Pays 5 GOLD from the contract's own account to the 20 bytes at 0, then traps if asked
/// (input non-empty) — the transfer must then be reverted too.
const PAYER: &str = r#"(module
  (import "meridian" "bank_transfer" (func $pay (param i32 i32 i32 i32) (result i32)))
  (import "meridian" "input_len" (func $len (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02\02")
  (data (i32.const 32) "GOLD")
  (data (i32.const 48) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\05")
  (func (export "execute") (result i32)
    (if (call $pay (i32.const 0) (i32.const 32) (i32.const 4) (i32.const 48))
      (then unreachable))
    (if (call $len) (then unreachable))
    (i32.const 0)))"#;

#[test]
fn contracts_pay_from_their_own_account_and_failures_undo_payments() {
    let mut c = Chain::new();
    let payer = contract_address(&H, "payer");
    let to = Address([2; 20]);
    let gold = |c: &Chain, a: &Address| {
        decode_balance(c.state.get(&balance_key("GOLD", a)).map(|v| v.as_slice())).unwrap()
    };
    let create = BankCall::CreateAsset {
        symbol: "GOLD".into(),
        decimals: 0,
        max_supply: 100,
    };
    assert_eq!(c.one(ALICE, create.into_call()).code, "ok");
    let mint = BankCall::Mint {
        symbol: "GOLD".into(),
        to: payer,
        amount: 7,
    };
    assert_eq!(c.one(ALICE, mint.into_call()).code, "ok");
    let h = c.upload(ALICE, &wat(PAYER), MAX_PART_LEN);
    assert_eq!(c.deploy(ALICE, "payer", h, "").code, "ok");
    assert_eq!(c.call(BOB, "payer", "", 1_000_000).code, "ok");
    assert_eq!((gold(&c, &payer), gold(&c, &to)), (2, 5));
    // The contract traps after paying: the payment is undone.
    assert_eq!(c.call(BOB, "payer", "x", 1_000_000).code, codes::TRAP);
    assert_eq!((gold(&c, &payer), gold(&c, &to)), (2, 5));
    // Not enough left: the bank refuses, the contract traps, nothing moves.
    assert_eq!(c.call(BOB, "payer", "", 1_000_000).code, codes::TRAP);
    assert_eq!((gold(&c, &payer), gold(&c, &to)), (2, 5));
}

#[test]
fn governance_freezes_and_approves_upgrades() {
    let mut c = Chain::new();
    let code = meridian_wasm_build::example("contract-counter");
    let h = c.upload(ALICE, &code, MAX_PART_LEN);
    assert_eq!(c.deploy(ALICE, "counter", h, r#"{"start":1}"#).code, "ok");
    // What governance (the identity module) writes when a freeze passes.
    c.state.insert(frozen_key("counter"), vec![1]);
    let r = c.call(BOB, "counter", r#"{"increment":{"by":1}}"#, 10_000_000);
    assert_eq!(r.code, codes::FROZEN);
    c.state.remove(&frozen_key("counter"));
    assert_eq!(
        c.call(BOB, "counter", r#"{"increment":{"by":1}}"#, 10_000_000)
            .code,
        "ok"
    );
    // Upgrades need governance's approval of exactly this code, carried out by the creator.
    let v2 = wat(r#"(module (memory (export "memory") 1)
        (func (export "execute") (result i32) (i32.const 0)))"#);
    let h2 = c.upload(ALICE, &v2, MAX_PART_LEN);
    let upgrade = |name: &str, code_hash| ContractCall::Upgrade {
        name: name.into(),
        code_hash,
        msg: vec![],
        fuel: 1_000_000,
    };
    assert_eq!(
        c.one(ALICE, upgrade("counter", h2).into_call()).code,
        codes::NOT_APPROVED
    );
    c.state.insert(approved_upgrade_key("counter"), h2.to_vec());
    assert_eq!(
        c.one(BOB, upgrade("counter", h2).into_call()).code,
        codes::NOT_APPROVED,
        "only the creator"
    );
    assert_eq!(c.one(ALICE, upgrade("counter", h2).into_call()).code, "ok");
    let meta: ContractMeta =
        decode_record(c.state.get(&meta_key("counter")).unwrap(), "meta").unwrap();
    assert_eq!((meta.version, meta.code_hash), (2, h2));
    // The new code has no query entry point any more.
    assert_eq!(
        c.query("counter", r#"{"get":{}}"#).unwrap_err(),
        codes::BAD_CODE
    );
}

#[test]
fn calls_decode_strictly() {
    let call = ContractCall::Call {
        name: "x".into(),
        msg: vec![1, 2],
        fuel: 9,
    }
    .into_call();
    assert_eq!(
        ContractCall::decode(&call.method, &call.args).unwrap(),
        ContractCall::Call {
            name: "x".into(),
            msg: vec![1, 2],
            fuel: 9
        }
    );
    let mut long = call.args.clone();
    long.push(0);
    assert!(ContractCall::decode(&call.method, &long).is_err());
    assert!(ContractCall::decode("nope", &call.args).is_err());
    assert!(check_name("token_2").is_ok());
    for bad in ["", "2x", "Token", "a-b", "bank", &"a".repeat(49)] {
        assert!(check_name(bad).is_err(), "{bad}");
    }
}

/// A contract's error message is its own UTF-8 text, up to 64 KiB: the receipt keeps a prefix
/// cut on a character boundary (a cut inside a character would panic the node).
#[test]
fn long_multibyte_error_messages_are_cut_safely() {
    let e_acute = "\\c3\\a9".repeat(300);
    let src = format!(
        r#"(module
          (import "meridian" "set_error" (func $err (param i32 i32 i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "oops")
          (data (i32.const 16) "{e_acute}")
          (func (export "execute") (result i32)
            (call $err (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 600))
            (i32.const 1)))"#
    );
    let mut c = Chain::new();
    let h = c.upload(ALICE, &wat(&src), MAX_PART_LEN);
    assert_eq!(c.deploy(ALICE, "talker", h, "").code, "ok");
    // An odd cut point: the prefix "talker.oops: " is 13 bytes, so 256 bytes end mid-'é'.
    let r = c.call(BOB, "talker", "", 1_000_000);
    assert_eq!(r.code, "talker.oops");
    assert!(r.message.len() <= meridian_types::MAX_ERROR_MESSAGE_LEN);
    assert!(r.message.ends_with('é'), "{}", r.message);
}
