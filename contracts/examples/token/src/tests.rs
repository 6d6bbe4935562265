//! Native tests of the token through the SDK's mock host.

use std::collections::BTreeMap;

use meridian_contract_sdk::testing::{addr, MockHost};
use meridian_contract_sdk::{Address, CallError, Uint128};
use proptest::prelude::*;

use super::*;

const NAME: &str = "token";

fn u(n: u128) -> Uint128 {
    Uint128(n)
}

fn init_msg(
    balances: &[(Address, u128)],
    minter: Option<Address>,
    cap: Option<u128>,
) -> InstantiateMsg {
    InstantiateMsg {
        name: "Meridian Dollar".into(),
        symbol: "MUSD".into(),
        decimals: 6,
        initial_balances: balances
            .iter()
            .map(|&(address, amount)| InitialBalance {
                address,
                amount: u(amount),
            })
            .collect(),
        minter,
        cap: cap.map(u),
    }
}

fn setup(balances: &[(Address, u128)], minter: Option<Address>, cap: Option<u128>) -> MockHost {
    let mut h = MockHost::new(NAME, ENTRY_POINTS);
    h.instantiate(&init_msg(balances, minter, cap))
        .expect("instantiate");
    h
}

fn exec_as(h: &mut MockHost, who: Address, msg: ExecuteMsg) -> Result<(), CallError> {
    h.set_caller(who);
    h.execute(&msg).map(|_| ())
}

fn code(r: Result<(), CallError>) -> String {
    r.expect_err("expected an error").code
}

fn bal(h: &MockHost, a: Address) -> u128 {
    h.query::<BalanceResponse>(&QueryMsg::Balance { address: a })
        .unwrap()
        .balance
        .u128()
}

fn allowance_of(h: &MockHost, owner: Address, spender: Address) -> u128 {
    h.query::<AllowanceResponse>(&QueryMsg::Allowance { owner, spender })
        .unwrap()
        .allowance
        .u128()
}

fn supply(h: &MockHost) -> u128 {
    h.query::<TokenInfo>(&QueryMsg::TokenInfo {})
        .unwrap()
        .total_supply
        .u128()
}

/// Every holder, through `all_accounts` pages of `page` entries.
fn all_accounts(h: &MockHost, page: u32) -> Vec<(Address, u128)> {
    let mut out = Vec::new();
    let mut start_after = None;
    loop {
        let r: AllAccountsResponse = h
            .query(&QueryMsg::AllAccounts {
                start_after,
                limit: Some(page),
            })
            .unwrap();
        assert!(r.accounts.len() <= page.min(MAX_LIMIT) as usize);
        let Some(last) = r.accounts.last() else {
            return out;
        };
        start_after = Some(last.address);
        out.extend(r.accounts.iter().map(|a| (a.address, a.balance.u128())));
    }
}

fn assert_supply_invariant(h: &MockHost) {
    let holders = all_accounts(h, 7);
    assert!(
        holders.iter().all(|(_, b)| *b > 0),
        "zero balances are deleted"
    );
    assert!(
        holders.windows(2).all(|w| w[0].0 < w[1].0),
        "sorted, no duplicates"
    );
    let sum = holders.iter().map(|(_, b)| *b).sum::<u128>();
    assert_eq!(sum, supply(h), "total supply == sum of balances");
}

#[test]
fn instantiate_sets_balances_info_and_minter() {
    let (a, b, m) = (addr("a"), addr("b"), addr("minter"));
    let h = setup(&[(a, 100), (b, 0)], Some(m), Some(1_000));
    assert_eq!((bal(&h, a), bal(&h, b)), (100, 0));
    assert_eq!(
        h.query::<TokenInfo>(&QueryMsg::TokenInfo {}).unwrap(),
        TokenInfo {
            name: "Meridian Dollar".into(),
            symbol: "MUSD".into(),
            decimals: 6,
            total_supply: u(100),
        }
    );
    assert_eq!(
        h.query::<Option<MinterInfo>>(&QueryMsg::Minter {}).unwrap(),
        Some(MinterInfo {
            minter: m,
            cap: Some(u(1_000))
        })
    );
    assert_eq!(
        all_accounts(&h, 10),
        vec![(a, 100)],
        "zero initial balance not stored"
    );
    // JSON wire format: amounts are strings, addresses 0x-hex.
    let raw: meridian_contract_sdk::serde_json::Value =
        h.query(&QueryMsg::Balance { address: a }).unwrap();
    assert_eq!(raw.to_string(), r#"{"balance":"100"}"#);
}

#[test]
fn instantiate_validation() {
    let a = addr("a");
    let cases: Vec<(InstantiateMsg, &str)> = vec![
        (
            init_msg(&[(a, 1), (a, 2)], None, None),
            "token.duplicate_account",
        ),
        (
            init_msg(&[(a, 0), (a, 0)], None, None),
            "token.duplicate_account",
        ),
        (init_msg(&[(a, 11)], None, Some(10)), "token.cap_exceeded"),
        (
            init_msg(&[(a, u128::MAX), (addr("b"), 1)], None, None),
            "token.overflow",
        ),
        (
            InstantiateMsg {
                symbol: "M$".into(),
                ..init_msg(&[], None, None)
            },
            "token.invalid_symbol",
        ),
        (
            InstantiateMsg {
                name: "ab".into(),
                ..init_msg(&[], None, None)
            },
            "token.invalid_name",
        ),
        (
            InstantiateMsg {
                decimals: 19,
                ..init_msg(&[], None, None)
            },
            "token.invalid_decimals",
        ),
    ];
    for (msg, want) in cases {
        let mut h = MockHost::new(NAME, ENTRY_POINTS);
        let e = h.instantiate(&msg).unwrap_err();
        assert_eq!(e.code, want, "{msg:?}");
        assert!(h.storage().is_empty(), "failed instantiate leaves no state");
    }
    // Cap equal to the initial supply is fine.
    setup(&[(a, 10)], None, Some(10));
}

#[test]
fn transfer_moves_funds_and_emits() {
    let (a, b) = (addr("a"), addr("b"));
    let mut h = setup(&[(a, 100)], None, None);
    exec_as(
        &mut h,
        a,
        ExecuteMsg::Transfer {
            recipient: b,
            amount: u(30),
        },
    )
    .unwrap();
    assert_eq!((bal(&h, a), bal(&h, b)), (70, 30));
    let ev = h.take_events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, "token.transfer");
    assert_eq!(
        ev[0].json::<TransferEvent>(),
        TransferEvent {
            from: a,
            to: b,
            amount: u(30),
            spender: None
        }
    );
    // Insufficient funds: error, nothing changes, no event.
    let r = exec_as(
        &mut h,
        a,
        ExecuteMsg::Transfer {
            recipient: b,
            amount: u(71),
        },
    );
    assert_eq!(code(r), "token.insufficient_funds");
    assert_eq!((bal(&h, a), bal(&h, b)), (70, 30));
    assert!(h.events().is_empty());
    let r = exec_as(
        &mut h,
        a,
        ExecuteMsg::Transfer {
            recipient: b,
            amount: u(0),
        },
    );
    assert_eq!(code(r), "token.invalid_zero_amount");
    // Self-transfer keeps the balance.
    exec_as(
        &mut h,
        a,
        ExecuteMsg::Transfer {
            recipient: a,
            amount: u(70),
        },
    )
    .unwrap();
    assert_eq!(bal(&h, a), 70);
    // Emptying an account removes it from all_accounts.
    exec_as(
        &mut h,
        b,
        ExecuteMsg::Transfer {
            recipient: a,
            amount: u(30),
        },
    )
    .unwrap();
    assert_eq!(all_accounts(&h, 10), vec![(a, 100)]);
    assert_supply_invariant(&h);
}

#[test]
fn allowances_and_transfer_from() {
    let (o, s, r) = (addr("owner"), addr("spender"), addr("recipient"));
    let mut h = setup(&[(o, 100)], None, None);
    exec_as(
        &mut h,
        o,
        ExecuteMsg::Approve {
            spender: s,
            amount: u(50),
        },
    )
    .unwrap();
    assert_eq!(allowance_of(&h, o, s), 50);
    exec_as(
        &mut h,
        o,
        ExecuteMsg::IncreaseAllowance {
            spender: s,
            amount: u(10),
        },
    )
    .unwrap();
    exec_as(
        &mut h,
        o,
        ExecuteMsg::DecreaseAllowance {
            spender: s,
            amount: u(5),
        },
    )
    .unwrap();
    assert_eq!(allowance_of(&h, o, s), 55);
    let ev = h.events().pop().unwrap();
    assert_eq!(ev.kind, "token.approve");
    assert_eq!(ev.json::<ApproveEvent>().allowance, u(55));
    let res = exec_as(
        &mut h,
        o,
        ExecuteMsg::Approve {
            spender: o,
            amount: u(1),
        },
    );
    assert_eq!(code(res), "token.cannot_set_own_account");

    let tf = |amount| ExecuteMsg::TransferFrom {
        owner: o,
        recipient: r,
        amount: u(amount),
    };
    assert_eq!(
        code(exec_as(&mut h, s, tf(56))),
        "token.insufficient_allowance"
    );
    assert_eq!(
        code(exec_as(&mut h, r, tf(1))),
        "token.insufficient_allowance",
        "no allowance"
    );
    exec_as(&mut h, s, tf(40)).unwrap();
    assert_eq!(
        (bal(&h, o), bal(&h, r), allowance_of(&h, o, s)),
        (60, 40, 15)
    );
    assert_eq!(
        h.events().pop().unwrap().json::<TransferEvent>().spender,
        Some(s)
    );

    // Allowance above the balance: the transfer fails and the allowance is not spent.
    exec_as(
        &mut h,
        o,
        ExecuteMsg::Approve {
            spender: s,
            amount: u(1_000),
        },
    )
    .unwrap();
    assert_eq!(code(exec_as(&mut h, s, tf(61))), "token.insufficient_funds");
    assert_eq!(allowance_of(&h, o, s), 1_000);

    // burn_from spends allowance and supply.
    exec_as(
        &mut h,
        s,
        ExecuteMsg::BurnFrom {
            owner: o,
            amount: u(10),
        },
    )
    .unwrap();
    assert_eq!(
        (bal(&h, o), allowance_of(&h, o, s), supply(&h)),
        (50, 990, 90)
    );

    // Decrease below zero clears the allowance entry.
    exec_as(
        &mut h,
        o,
        ExecuteMsg::DecreaseAllowance {
            spender: s,
            amount: u(5_000),
        },
    )
    .unwrap();
    assert_eq!(allowance_of(&h, o, s), 0);
    assert!(
        !h.storage()
            .iter()
            .any(|(k, _)| k.starts_with(b"\0\x09allowance")),
        "zero allowance deleted"
    );
    assert_supply_invariant(&h);
}

#[test]
fn mint_is_minter_only_and_capped() {
    let (a, m) = (addr("a"), addr("minter"));
    let mut h = setup(&[(a, 100)], Some(m), Some(150));
    let mint = |amount| ExecuteMsg::Mint {
        recipient: a,
        amount: u(amount),
    };
    assert_eq!(code(exec_as(&mut h, a, mint(1))), "token.unauthorized");
    exec_as(&mut h, m, mint(50)).unwrap();
    assert_eq!((bal(&h, a), supply(&h)), (150, 150));
    let ev = h.events().pop().unwrap();
    assert_eq!(
        (ev.kind.as_str(), ev.json::<SupplyEvent>().total_supply),
        ("token.mint", u(150))
    );
    assert_eq!(code(exec_as(&mut h, m, mint(1))), "token.cap_exceeded");
    // Burning makes room under the cap again.
    exec_as(&mut h, a, ExecuteMsg::Burn { amount: u(20) }).unwrap();
    assert_eq!(supply(&h), 130);
    exec_as(&mut h, m, mint(20)).unwrap();
    assert_eq!(
        code(exec_as(&mut h, m, mint(0))),
        "token.invalid_zero_amount"
    );
    assert_supply_invariant(&h);

    // No minter configured: nobody mints.
    let mut h = setup(&[(a, 1)], None, None);
    assert_eq!(code(exec_as(&mut h, a, mint(1))), "token.unauthorized");
    // Uncapped minting up to u128::MAX, then overflow.
    let mut h = setup(&[], Some(m), None);
    exec_as(&mut h, m, mint(u128::MAX)).unwrap();
    assert_eq!(bal(&h, a), u128::MAX);
    assert_eq!(code(exec_as(&mut h, m, mint(1))), "token.overflow");
}

#[test]
fn amounts_are_exact_at_u128_max() {
    let (a, b) = (addr("a"), addr("b"));
    let mut h = setup(&[(a, u128::MAX)], None, None);
    exec_as(
        &mut h,
        a,
        ExecuteMsg::Transfer {
            recipient: b,
            amount: u(u128::MAX - 1),
        },
    )
    .unwrap();
    assert_eq!((bal(&h, a), bal(&h, b)), (1, u128::MAX - 1));
    // The message as the CLI would send it: a decimal string.
    h.set_caller(b);
    let raw = format!(
        r#"{{"transfer":{{"recipient":"{a}","amount":"340282366920938463463374607431768211454"}}}}"#
    );
    h.call(
        NAME,
        meridian_contract_sdk::testing::EntryKind::Execute,
        raw.as_bytes(),
    )
    .unwrap();
    assert_eq!(bal(&h, a), u128::MAX);
    // A JSON number is not an amount.
    let e = h
        .call(
            NAME,
            meridian_contract_sdk::testing::EntryKind::Execute,
            format!(r#"{{"transfer":{{"recipient":"{a}","amount":1}}}}"#).as_bytes(),
        )
        .unwrap_err();
    assert_eq!(e.code, "token.bad_msg");
}

#[test]
fn all_accounts_pages_through_every_holder() {
    let holders: Vec<(Address, u128)> = (0..250u32)
        .map(|i| (addr(&format!("holder {i}")), u128::from(i) + 1))
        .collect();
    let h = setup(&holders, None, None);
    let mut want = holders.clone();
    want.sort();
    for page in [1, 10, 33, 100, 1_000] {
        assert_eq!(all_accounts(&h, page), want, "page {page}");
    }
    let first: AllAccountsResponse = h
        .query(&QueryMsg::AllAccounts {
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(first.accounts.len(), DEFAULT_LIMIT as usize);
    let big: AllAccountsResponse = h
        .query(&QueryMsg::AllAccounts {
            start_after: None,
            limit: Some(1_000),
        })
        .unwrap();
    assert_eq!(big.accounts.len(), MAX_LIMIT as usize);
    assert_supply_invariant(&h);
}

// ---- model-based invariant tests -------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        amount: u128,
    },
    Burn {
        from: usize,
        amount: u128,
    },
    Approve {
        owner: usize,
        spender: usize,
        amount: u128,
    },
    Increase {
        owner: usize,
        spender: usize,
        amount: u128,
    },
    Decrease {
        owner: usize,
        spender: usize,
        amount: u128,
    },
    TransferFrom {
        spender: usize,
        owner: usize,
        to: usize,
        amount: u128,
    },
    BurnFrom {
        spender: usize,
        owner: usize,
        amount: u128,
    },
    Mint {
        caller: usize,
        to: usize,
        amount: u128,
    },
}

const ACCOUNTS: usize = 6;
const CAP: u128 = 20_000;

fn account(i: usize) -> Address {
    addr(&format!("account {i}"))
}

/// The reference: plain maps, the rules written out directly.
#[derive(Default)]
struct Model {
    bal: BTreeMap<usize, u128>,
    allow: BTreeMap<(usize, usize), u128>,
    supply: u128,
}

impl Model {
    fn b(&self, i: usize) -> u128 {
        self.bal.get(&i).copied().unwrap_or(0)
    }
    fn a(&self, o: usize, s: usize) -> u128 {
        self.allow.get(&(o, s)).copied().unwrap_or(0)
    }
    fn move_funds(&mut self, from: usize, to: usize, amount: u128) -> Result<(), &'static str> {
        if amount == 0 {
            return Err("invalid_zero_amount");
        }
        if self.b(from) < amount {
            return Err("insufficient_funds");
        }
        *self.bal.entry(from).or_default() -= amount;
        *self.bal.entry(to).or_default() += amount;
        Ok(())
    }
    fn burn(&mut self, from: usize, amount: u128) -> Result<(), &'static str> {
        if amount == 0 {
            return Err("invalid_zero_amount");
        }
        if self.b(from) < amount {
            return Err("insufficient_funds");
        }
        *self.bal.entry(from).or_default() -= amount;
        self.supply -= amount;
        Ok(())
    }
    fn approve(&mut self, o: usize, s: usize, amount: u128) -> Result<(), &'static str> {
        if o == s {
            return Err("cannot_set_own_account");
        }
        self.allow.insert((o, s), amount);
        Ok(())
    }
    fn spend(&mut self, o: usize, s: usize, amount: u128) -> Result<(), &'static str> {
        if amount == 0 {
            return Err("invalid_zero_amount");
        }
        if self.a(o, s) < amount {
            return Err("insufficient_allowance");
        }
        Ok(())
    }
    /// Applies `op` atomically: on error nothing changes.
    fn apply(&mut self, op: &Op) -> Result<(), &'static str> {
        let before = (self.bal.clone(), self.allow.clone(), self.supply);
        let r = self.apply_inner(op);
        if r.is_err() {
            (self.bal, self.allow, self.supply) = before;
        }
        r
    }
    fn apply_inner(&mut self, op: &Op) -> Result<(), &'static str> {
        match *op {
            Op::Transfer { from, to, amount } => self.move_funds(from, to, amount),
            Op::Burn { from, amount } => self.burn(from, amount),
            Op::Approve {
                owner,
                spender,
                amount,
            } => self.approve(owner, spender, amount),
            Op::Increase {
                owner,
                spender,
                amount,
            } => {
                let n = self.a(owner, spender) + amount;
                self.approve(owner, spender, n)
            }
            Op::Decrease {
                owner,
                spender,
                amount,
            } => {
                let n = self.a(owner, spender).saturating_sub(amount);
                self.approve(owner, spender, n)
            }
            Op::TransferFrom {
                spender,
                owner,
                to,
                amount,
            } => {
                self.spend(owner, spender, amount)?;
                *self.allow.entry((owner, spender)).or_default() -= amount;
                self.move_funds(owner, to, amount)
            }
            Op::BurnFrom {
                spender,
                owner,
                amount,
            } => {
                self.spend(owner, spender, amount)?;
                *self.allow.entry((owner, spender)).or_default() -= amount;
                self.burn(owner, amount)
            }
            Op::Mint { caller, to, amount } => {
                if amount == 0 {
                    return Err("invalid_zero_amount");
                }
                if caller != 0 {
                    return Err("unauthorized");
                }
                if self.supply + amount > CAP {
                    return Err("cap_exceeded");
                }
                self.supply += amount;
                *self.bal.entry(to).or_default() += amount;
                Ok(())
            }
        }
    }
}

fn to_msg(op: &Op) -> (usize, ExecuteMsg) {
    let a = account;
    match *op {
        Op::Transfer { from, to, amount } => (
            from,
            ExecuteMsg::Transfer {
                recipient: a(to),
                amount: u(amount),
            },
        ),
        Op::Burn { from, amount } => (from, ExecuteMsg::Burn { amount: u(amount) }),
        Op::Approve {
            owner,
            spender,
            amount,
        } => (
            owner,
            ExecuteMsg::Approve {
                spender: a(spender),
                amount: u(amount),
            },
        ),
        Op::Increase {
            owner,
            spender,
            amount,
        } => (
            owner,
            ExecuteMsg::IncreaseAllowance {
                spender: a(spender),
                amount: u(amount),
            },
        ),
        Op::Decrease {
            owner,
            spender,
            amount,
        } => (
            owner,
            ExecuteMsg::DecreaseAllowance {
                spender: a(spender),
                amount: u(amount),
            },
        ),
        Op::TransferFrom {
            spender,
            owner,
            to,
            amount,
        } => (
            spender,
            ExecuteMsg::TransferFrom {
                owner: a(owner),
                recipient: a(to),
                amount: u(amount),
            },
        ),
        Op::BurnFrom {
            spender,
            owner,
            amount,
        } => (
            spender,
            ExecuteMsg::BurnFrom {
                owner: a(owner),
                amount: u(amount),
            },
        ),
        Op::Mint { caller, to, amount } => (
            caller,
            ExecuteMsg::Mint {
                recipient: a(to),
                amount: u(amount),
            },
        ),
    }
}

/// Runs `ops` against the contract and the model; checks outcomes, balances, allowances and
/// `total_supply == sum of balances` after every op.
fn run_against_model(ops: &[Op]) {
    let initial: Vec<(Address, u128)> = (0..ACCOUNTS).map(|i| (account(i), 1_000)).collect();
    let mut h = setup(&initial, Some(account(0)), Some(CAP));
    let mut model = Model {
        bal: (0..ACCOUNTS).map(|i| (i, 1_000)).collect(),
        supply: 1_000 * ACCOUNTS as u128,
        ..Model::default()
    };
    for (n, op) in ops.iter().enumerate() {
        let want = model.apply(op);
        let (caller, msg) = to_msg(op);
        let got = exec_as(&mut h, account(caller), msg);
        let got = got.map_err(|e| e.code.strip_prefix("token.").unwrap_or(&e.code).to_string());
        assert_eq!(got, want.map_err(str::to_string), "op #{n} {op:?}");
        assert_eq!(supply(&h), model.supply, "op #{n}");
        assert_supply_invariant(&h);
        for i in 0..ACCOUNTS {
            assert_eq!(bal(&h, account(i)), model.b(i), "op #{n} balance {i}");
        }
    }
    for o in 0..ACCOUNTS {
        for s in 0..ACCOUNTS {
            assert_eq!(allowance_of(&h, account(o), account(s)), model.a(o, s));
        }
    }
}

/// xorshift64: a fixed, dependency-free pseudo-random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> usize {
        usize::try_from(self.next() % n).unwrap_or(0)
    }
    fn amount(&mut self) -> u128 {
        // Mostly fits the balances, sometimes zero, sometimes too much.
        match self.next() % 10 {
            0 => 0,
            1 => 5_000,
            _ => u128::from(self.next() % 700),
        }
    }
}

#[test]
fn deterministic_random_sequence_matches_model() {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let n = ACCOUNTS as u64;
    let ops: Vec<Op> = (0..400)
        .map(|_| {
            let (x, y, z) = (r.below(n), r.below(n), r.below(n));
            match r.next() % 8 {
                0 | 1 => Op::Transfer {
                    from: x,
                    to: y,
                    amount: r.amount(),
                },
                2 => Op::Burn {
                    from: x,
                    amount: r.amount(),
                },
                3 => Op::Approve {
                    owner: x,
                    spender: y,
                    amount: r.amount(),
                },
                4 => Op::Increase {
                    owner: x,
                    spender: y,
                    amount: r.amount(),
                },
                5 => Op::Decrease {
                    owner: x,
                    spender: y,
                    amount: r.amount(),
                },
                6 => Op::TransferFrom {
                    spender: x,
                    owner: y,
                    to: z,
                    amount: r.amount(),
                },
                _ => {
                    if r.next().is_multiple_of(2) {
                        Op::BurnFrom {
                            spender: x,
                            owner: y,
                            amount: r.amount(),
                        }
                    } else {
                        Op::Mint {
                            caller: x % 2,
                            to: y,
                            amount: r.amount(),
                        }
                    }
                }
            }
        })
        .collect();
    run_against_model(&ops);
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let i = 0..ACCOUNTS;
    let amt = prop_oneof![Just(0u128), 0u128..800, Just(5_000u128)];
    prop_oneof![
        (i.clone(), i.clone(), amt.clone()).prop_map(|(from, to, amount)| Op::Transfer {
            from,
            to,
            amount
        }),
        (i.clone(), amt.clone()).prop_map(|(from, amount)| Op::Burn { from, amount }),
        (i.clone(), i.clone(), amt.clone()).prop_map(|(owner, spender, amount)| Op::Approve {
            owner,
            spender,
            amount
        }),
        (i.clone(), i.clone(), amt.clone()).prop_map(|(owner, spender, amount)| Op::Increase {
            owner,
            spender,
            amount
        }),
        (i.clone(), i.clone(), amt.clone()).prop_map(|(owner, spender, amount)| Op::Decrease {
            owner,
            spender,
            amount
        }),
        (i.clone(), i.clone(), i.clone(), amt.clone()).prop_map(|(spender, owner, to, amount)| {
            Op::TransferFrom {
                spender,
                owner,
                to,
                amount,
            }
        }),
        (i.clone(), i.clone(), amt.clone()).prop_map(|(spender, owner, amount)| Op::BurnFrom {
            spender,
            owner,
            amount
        }),
        (0..2usize, i, amt).prop_map(|(caller, to, amount)| Op::Mint { caller, to, amount }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_supply_equal_to_balances(ops in prop::collection::vec(op_strategy(), 1..40)) {
        run_against_model(&ops);
    }
}
