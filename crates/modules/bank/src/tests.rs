use super::*;
use meridian_execution::{BlockEnv, ExecMode, Executor, StateRead, TxAuthenticator};
use meridian_types::{ChainId, Hash32, HashFn, SignedTx, TxBody};
use proptest::prelude::*;
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::Arc;

struct Sha;
impl HashFn for Sha {
    fn hash(&self, d: &[u8]) -> Hash32 {
        sha2::Sha256::digest(d).into()
    }
}

/// Signature checking is the node's job (tested there with real keys); here every transaction
/// is taken as authenticated so the tests exercise the bank's rules alone.
struct AcceptAll;
impl TxAuthenticator for AcceptAll {
    fn authenticate(&self, _: &SignedTx, _: &Hash32) -> bool {
        true
    }
}

fn key(i: u8) -> Vec<u8> {
    vec![i; 33]
}
fn addr(i: u8) -> Address {
    Address::from_public_key(&Sha, &key(i))
}

struct Chain {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    nonces: BTreeMap<u8, u64>,
    height: u64,
    exec: Executor,
}

impl Chain {
    fn new() -> Self {
        Self {
            state: BTreeMap::new(),
            nonces: BTreeMap::new(),
            height: 0,
            exec: Executor::new(vec![Arc::new(Bank)]),
        }
    }
    fn run(&mut self, who: u8, call: BankCall) -> String {
        let nonce = self.nonces.entry(who).or_default();
        let tx = SignedTx {
            body: TxBody {
                chain_id: ChainId::new("bank-test").unwrap(),
                sender: key(who),
                nonce: *nonce,
                expiry_height: u64::MAX,
                call: call.into_call(),
            },
            signature: vec![],
        };
        *nonce += 1;
        self.height += 1;
        let env = BlockEnv {
            chain_id: ChainId::new("bank-test").unwrap(),
            height: self.height,
            time_ms: 0,
        };
        let out = self
            .exec
            .execute_block(
                &Sha,
                &AcceptAll,
                &self.state,
                &env,
                vec![tx],
                ExecMode::Verify,
            )
            .unwrap();
        for (k, v) in out.writes {
            match v {
                Some(v) => self.state.insert(k, v),
                None => self.state.remove(&k),
            };
        }
        out.receipts[0].code.clone()
    }
    fn balance(&self, sym: &str, who: u8) -> u128 {
        decode_balance(StateRead::get(&self.state, &balance_key(sym, &addr(who))).as_deref())
            .unwrap()
    }
    fn asset(&self, sym: &str) -> Option<Asset> {
        StateRead::get(&self.state, &asset_key(sym)).map(|v| decode_asset(&v).unwrap())
    }
}

fn create(sym: &str, max: u128) -> BankCall {
    BankCall::CreateAsset {
        symbol: sym.into(),
        decimals: 2,
        max_supply: max,
    }
}

#[test]
fn lifecycle_and_errors() {
    let mut c = Chain::new();
    assert_eq!(c.run(1, create("CNY", 1000)), "ok");
    assert_eq!(c.run(2, create("CNY", 5)), errors::ASSET_EXISTS);
    assert_eq!(c.run(1, create("bad!", 5)), errors::INVALID_SYMBOL);
    // Voucher-shaped symbols belong to the interop module; near misses are ordinary symbols.
    assert_eq!(
        c.run(1, create("X0123456789ABCDE", 5)),
        errors::RESERVED_SYMBOL
    );
    assert!(is_voucher_symbol("X0123456789ABCDE"));
    assert!(!is_voucher_symbol("X0123456789ABCDG"));
    assert_eq!(c.run(1, create("X0123456789ABCD", 5)), "ok");
    assert_eq!(
        c.run(
            1,
            BankCall::CreateAsset {
                symbol: "X".into(),
                decimals: 19,
                max_supply: 1
            }
        ),
        errors::INVALID_DECIMALS
    );
    assert_eq!(
        c.run(
            2,
            BankCall::Mint {
                symbol: "CNY".into(),
                to: addr(2),
                amount: 1
            }
        ),
        errors::NOT_ISSUER
    );
    assert_eq!(
        c.run(
            1,
            BankCall::Mint {
                symbol: "CNY".into(),
                to: addr(2),
                amount: 600
            }
        ),
        "ok"
    );
    assert_eq!(
        c.run(
            1,
            BankCall::Mint {
                symbol: "CNY".into(),
                to: addr(2),
                amount: 401
            }
        ),
        errors::EXCEEDS_MAX_SUPPLY
    );
    assert_eq!(
        c.run(
            2,
            BankCall::Transfer {
                symbol: "CNY".into(),
                to: addr(3),
                amount: 601
            }
        ),
        errors::INSUFFICIENT_BALANCE
    );
    assert_eq!(
        c.run(
            2,
            BankCall::Transfer {
                symbol: "CNY".into(),
                to: addr(3),
                amount: 0
            }
        ),
        errors::INVALID_AMOUNT
    );
    assert_eq!(
        c.run(
            2,
            BankCall::Transfer {
                symbol: "USD".into(),
                to: addr(3),
                amount: 1
            }
        ),
        errors::UNKNOWN_ASSET
    );
    assert_eq!(
        c.run(
            2,
            BankCall::Transfer {
                symbol: "CNY".into(),
                to: addr(3),
                amount: 100
            }
        ),
        "ok"
    );
    assert_eq!(
        c.run(
            3,
            BankCall::Burn {
                symbol: "CNY".into(),
                amount: 40
            }
        ),
        "ok"
    );
    assert_eq!((c.balance("CNY", 2), c.balance("CNY", 3)), (500, 60));
    assert_eq!(c.asset("CNY").unwrap().supply, 560);
}

#[test]
fn malformed_args_are_rejected() {
    let mut c = Chain::new();
    let mut call = create("ABC", 10).into_call();
    call.args.push(0);
    let e = BankCall::decode(&call.method, &call.args).unwrap_err();
    assert_eq!(e.code, "tx.bad_args");
    assert_eq!(
        BankCall::decode("steal", &[]).unwrap_err().code,
        "tx.unknown_method"
    );
    // a bad call still executes as a failed transaction that only bumps the nonce
    assert_eq!(c.run(1, create("ABC", 10)), "ok");
}

#[test]
fn events_roundtrip() {
    let evs = vec![
        BankEvent::AssetCreated {
            symbol: "A".into(),
            issuer: addr(1),
            decimals: 2,
            max_supply: 9,
        },
        BankEvent::Minted {
            symbol: "A".into(),
            to: addr(2),
            amount: 3,
        },
        BankEvent::Transferred {
            symbol: "A".into(),
            from: addr(2),
            to: addr(3),
            amount: 1,
        },
        BankEvent::Burned {
            symbol: "A".into(),
            from: addr(3),
            amount: 1,
        },
    ];
    for e in evs {
        assert_eq!(BankEvent::decode(e.kind(), &e.data()).unwrap(), e);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Mint(u8, u8, u128),
    Transfer(u8, u8, u128),
    Burn(u8, u128),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u8..4, 0u128..500).prop_map(|(a, b, n)| Op::Mint(a, b, n)),
        (0u8..4, 0u8..4, 0u128..500).prop_map(|(a, b, n)| Op::Transfer(a, b, n)),
        (0u8..4, 0u128..500).prop_map(|(a, n)| Op::Burn(a, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Balances never go negative (u128 cannot), never exceed max supply, and always sum to
    /// supply, whatever sequence of valid and invalid operations runs.
    #[test]
    fn supply_is_conserved(ops in proptest::collection::vec(op(), 1..60)) {
        let mut c = Chain::new();
        prop_assert_eq!(c.run(0, create("TOK", 2000)), "ok");
        for op in ops {
            let before: u128 = (0..4).map(|i| c.balance("TOK", i)).sum();
            let code = match op {
                Op::Mint(who, to, n) => c.run(who, BankCall::Mint { symbol: "TOK".into(), to: addr(to), amount: n }),
                Op::Transfer(who, to, n) => c.run(who, BankCall::Transfer { symbol: "TOK".into(), to: addr(to), amount: n }),
                Op::Burn(who, n) => c.run(who, BankCall::Burn { symbol: "TOK".into(), amount: n }),
            };
            let after: u128 = (0..4).map(|i| c.balance("TOK", i)).sum();
            let asset = c.asset("TOK").unwrap();
            prop_assert_eq!(after, asset.supply);
            prop_assert!(asset.supply <= asset.max_supply);
            if code != "ok" {
                prop_assert_eq!(before, after, "failed op changed balances: {}", code);
            }
        }
    }
}

fn symbol() -> impl Strategy<Value = String> {
    "[A-Z0-9]{1,16}"
}

proptest! {
    /// Every bank encoding roundtrips: stored assets, call arguments and events.
    #[test]
    fn encodings_roundtrip(sym in symbol(), d in 0u8..=18, a in any::<u128>(), b in any::<u128>(), who in any::<[u8; 20]>(), to in any::<[u8; 20]>()) {
        let asset = Asset { symbol: sym.clone(), decimals: d, max_supply: a, supply: b, issuer: Address(who) };
        prop_assert_eq!(decode_asset(&asset.encode()).unwrap(), asset);
        let calls = vec![
            BankCall::CreateAsset { symbol: sym.clone(), decimals: d, max_supply: a },
            BankCall::Mint { symbol: sym.clone(), to: Address(to), amount: a },
            BankCall::Transfer { symbol: sym.clone(), to: Address(to), amount: b },
            BankCall::Burn { symbol: sym.clone(), amount: a },
        ];
        for c in calls {
            let call = c.clone().into_call();
            prop_assert_eq!(BankCall::decode(&call.method, &call.args).unwrap(), c);
        }
        let ev = BankEvent::Transferred { symbol: sym, from: Address(who), to: Address(to), amount: a };
        prop_assert_eq!(BankEvent::decode(ev.kind(), &ev.data()).unwrap(), ev);
    }

    #[test]
    fn garbage_args_never_panic(method in "(create_asset|mint|transfer|burn)", args in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = BankCall::decode(&method, &args);
        let _ = BankEvent::decode("transferred", &args);
        let _ = decode_asset(&args);
    }
}
