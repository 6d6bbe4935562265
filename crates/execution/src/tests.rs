use super::*;
use meridian_types::{Call, ChainId, Hash32, HashFn, SignedTx, TxBody};
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::Arc;

struct Sha;
impl HashFn for Sha {
    fn hash(&self, d: &[u8]) -> Hash32 {
        sha2::Sha256::digest(d).into()
    }
}

/// Accepts signatures equal to `[1]`: lets these tests exercise the executor's handling of
/// authentication results without real keys (real signatures are tested end to end in the node).
struct FlagAuth;
impl TxAuthenticator for FlagAuth {
    fn authenticate(&self, tx: &SignedTx, _: &Hash32) -> bool {
        tx.signature == [1]
    }
}

/// A test module: `put` writes args under kv/<args>, `fail` writes then errors,
/// `escape` tries to write another module's key.
struct Kv;
impl Module for Kv {
    fn name(&self) -> &'static str {
        "kv"
    }
    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        let mut key = b"kv/".to_vec();
        key.extend_from_slice(args);
        match method {
            "put" => {
                ctx.set(key, vec![1])?;
                ctx.emit("put", args.to_vec())
            }
            "fail" => {
                ctx.set(key, vec![1])?;
                Err(ModuleError::new("kv.failed", "asked to fail"))
            }
            "escape" => ctx.set(b"bank/x".to_vec(), vec![1]),
            // Only the governance module may write the chain-level validator set.
            "validators" => ctx.set(meridian_types::VALIDATORS_KEY.to_vec(), vec![1]),
            _ => Err(ModuleError::new(codes::UNKNOWN_METHOD, method)),
        }
    }
}

fn tx(nonce: u64, method: &str, arg: &[u8]) -> SignedTx {
    SignedTx {
        body: TxBody {
            chain_id: ChainId::new("c").unwrap(),
            sender: vec![7; 33],
            nonce,
            expiry_height: 10,
            call: Call {
                module: "kv".into(),
                method: method.into(),
                args: arg.to_vec(),
            },
        },
        signature: vec![1],
    }
}

fn env(height: u64) -> BlockEnv {
    BlockEnv {
        chain_id: ChainId::new("c").unwrap(),
        height,
        time_ms: 1000,
    }
}

fn exec() -> Executor {
    Executor::new(vec![Arc::new(Kv)])
}

#[test]
fn failed_call_only_bumps_nonce() {
    let base = BTreeMap::new();
    let out = exec()
        .execute_block(
            &Sha,
            &FlagAuth,
            &base,
            &env(1),
            vec![tx(0, "put", b"a"), tx(1, "fail", b"b")],
            ExecMode::Verify,
        )
        .unwrap();
    assert_eq!(out.receipts[0].code, "ok");
    assert_eq!(out.receipts[0].events.len(), 1);
    assert_eq!(out.receipts[1].code, "kv.failed");
    assert!(out.receipts[1].events.is_empty());
    assert!(out.writes.contains_key(b"kv/a".as_slice()));
    assert!(!out.writes.contains_key(b"kv/b".as_slice()));
    let sender = meridian_types::Address::from_public_key(&Sha, &[7; 33]);
    assert_eq!(
        out.writes.get(&nonce_key(&sender)),
        Some(&Some(2u64.to_be_bytes().to_vec()))
    );
}

#[test]
fn modules_cannot_write_foreign_keys() {
    let base = BTreeMap::new();
    let out = exec()
        .execute_block(
            &Sha,
            &FlagAuth,
            &base,
            &env(1),
            vec![tx(0, "escape", b"")],
            ExecMode::Verify,
        )
        .unwrap();
    assert_eq!(out.receipts[0].code, codes::FORBIDDEN_KEY);
    assert!(!out.writes.contains_key(b"bank/x".as_slice()));
    let out = exec()
        .execute_block(
            &Sha,
            &FlagAuth,
            &base,
            &env(1),
            vec![tx(0, "validators", b"")],
            ExecMode::Verify,
        )
        .unwrap();
    assert_eq!(out.receipts[0].code, codes::FORBIDDEN_KEY);
    assert!(!out.writes.contains_key(meridian_types::VALIDATORS_KEY));
    assert_eq!(crate::CHAIN_GOVERNANCE_MODULE, "identity");
}

#[test]
fn verify_rejects_inadmissible_and_propose_drops() {
    let base = BTreeMap::new();
    let mut bad_sig = tx(1, "put", b"x");
    bad_sig.signature = vec![0];
    let mut wrong_chain = tx(1, "put", b"y");
    wrong_chain.body.chain_id = ChainId::new("other").unwrap();
    let cases = vec![
        (tx(5, "put", b"a"), codes::BAD_NONCE),
        (bad_sig, codes::BAD_SIGNATURE),
        (wrong_chain, codes::WRONG_CHAIN),
        (tx(1, "put", b"late"), codes::EXPIRED),
        (tx(0, "put", b"a"), codes::DUPLICATE),
    ];
    for (bad, code) in cases {
        let height = if code == codes::EXPIRED { 11 } else { 1 };
        let first = tx(0, "put", b"a");
        let txs = vec![first, bad];
        let err = exec().execute_block(
            &Sha,
            &FlagAuth,
            &base,
            &env(height),
            txs.clone(),
            ExecMode::Verify,
        );
        if code == codes::EXPIRED {
            // the first tx is also expired at that height
            assert_eq!(err.unwrap_err().1.code(), codes::EXPIRED);
            continue;
        }
        let (idx, e) = err.unwrap_err();
        assert_eq!((idx, e.code()), (1, code));
        let out = exec()
            .execute_block(&Sha, &FlagAuth, &base, &env(height), txs, ExecMode::Propose)
            .unwrap();
        assert_eq!(out.txs.len(), 1);
        assert_eq!(out.dropped[0].1.code(), code);
    }
}

#[test]
fn execution_is_deterministic() {
    let base = BTreeMap::new();
    let txs: Vec<_> = (0..20)
        .map(|i| tx(i, if i % 3 == 0 { "fail" } else { "put" }, &[i as u8]))
        .collect();
    let a = exec()
        .execute_block(
            &Sha,
            &FlagAuth,
            &base,
            &env(1),
            txs.clone(),
            ExecMode::Verify,
        )
        .unwrap();
    let b = exec()
        .execute_block(&Sha, &FlagAuth, &base, &env(1), txs, ExecMode::Verify)
        .unwrap();
    assert_eq!(a.writes, b.writes);
    assert_eq!(a.receipts, b.receipts);
    assert_eq!(a.receipts_root, b.receipts_root);
}

/// A module's error message is arbitrary UTF-8 (contracts write their own): the receipt keeps a
/// prefix cut on a character boundary instead of panicking mid-character.
#[test]
fn long_multibyte_error_messages_do_not_panic() {
    struct Talker;
    impl Module for Talker {
        fn name(&self) -> &'static str {
            "talker"
        }
        fn execute(&self, _: &mut TxContext<'_>, _: &str, _: &[u8]) -> Result<(), ModuleError> {
            // One ASCII byte, then 2-byte characters: byte 256 falls inside a character.
            Err(ModuleError::new(
                "talker.oops",
                format!("x{}", "é".repeat(300)),
            ))
        }
    }
    let exec = Executor::new(vec![Arc::new(Talker)]);
    let state = BTreeMap::new();
    let env = BlockEnv {
        chain_id: ChainId::new("t").unwrap(),
        height: 1,
        time_ms: 0,
    };
    let tx = SignedTx {
        body: TxBody {
            chain_id: ChainId::new("t").unwrap(),
            sender: vec![1; 32],
            nonce: 0,
            expiry_height: 10,
            call: Call {
                module: "talker".into(),
                method: "x".into(),
                args: vec![],
            },
        },
        signature: vec![1],
    };
    let out = exec
        .execute_block(&Sha, &FlagAuth, &state, &env, vec![tx], ExecMode::Verify)
        .unwrap();
    let r = &out.receipts[0];
    assert_eq!(r.code, "talker.oops");
    assert_eq!(r.message.len(), 255);
    assert!(r.message.ends_with('é'));
}
