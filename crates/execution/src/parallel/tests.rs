//! The parallel executor against the sequential one as oracle.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use meridian_types::{Address, Call, ChainId, Hash32, HashFn, SignedTx, SignerId, TxBody};
use proptest::prelude::*;
use sha2::Digest;

use crate::*;

struct Sha;
impl HashFn for Sha {
    fn hash(&self, d: &[u8]) -> Hash32 {
        sha2::Sha256::digest(d).into()
    }
}

/// Accepts signatures equal to `[1]`.
struct FlagAuth;
impl TxAuthenticator for FlagAuth {
    fn authenticate(&self, tx: &SignedTx, _: &Hash32) -> bool {
        tx.signature == [1]
    }
}

fn store_key(k: u16) -> Vec<u8> {
    format!("contract/store/k{k:04}").into_bytes()
}

fn balance_key(k: u16) -> Vec<u8> {
    format!("contract/bal/{k:04}").into_bytes()
}

fn deny_key(addr: &Address) -> Vec<u8> {
    let mut k = b"contract/deny/".to_vec();
    k.extend_from_slice(&addr.0);
    k
}

fn sender_key(s: u8) -> Vec<u8> {
    vec![s.wrapping_add(10); 33]
}

fn u64_of(v: Option<Vec<u8>>) -> u64 {
    v.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Access control that reads state: a sender is denied while `contract/deny/<addr>` exists.
struct DenyList;
impl AccessControl for DenyList {
    fn authorize(
        &self,
        state: &dyn StateRead,
        _: &BlockEnv,
        sender: &Address,
        _: &[u8],
        _: &Call,
    ) -> Result<Option<SignerId>, Denial> {
        match state.get(&deny_key(sender)) {
            Some(_) => Err(Denial {
                code: "auth.denied",
                message: "denied".into(),
            }),
            None => Ok(None),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Get(u16),
    Put(u16, u8),
    Delete(u16),
    /// Read-modify-write of a counter.
    Add(u16, u8),
    /// Moves `amount` between balances; fails (discarding every write) if it is short.
    Transfer(u16, u16, u8),
    /// `contract/store` range (ordered key space).
    Range(u16, u16, u8, bool),
    /// `contract/bal` range: not ordered in storage, so only the block's own writes show.
    RangeUnordered(u16, u16, u8, bool),
    /// Reads another sender's nonce.
    Nonce(u8),
    Deny(u8),
    Allow(u8),
    /// `chain/k{to}` := hash(`chain/k{from}`): tx i reading what tx i-1 wrote.
    Chain(u16, u16),
    Gas(u8),
    Fail,
    Panic,
    /// Writes the pair (`pair/a`, `pair/b`) to the same value.
    SetPair(u8),
    /// Panics if the pair differs (never, sequentially).
    CheckPair,
    /// Hashes to simulate work.
    Work(u8),
}

/// Module `contract`: runs program `args` (an index into its table). Every value it reads is
/// folded into a digest it writes and emits, so any wrong read shows in the outcome.
struct Prog {
    programs: Vec<Vec<Op>>,
}

impl Module for Prog {
    fn name(&self) -> &'static str {
        "contract"
    }

    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        _method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        let id = u32::from_be_bytes(
            args.try_into()
                .map_err(|_| ModuleError::new("t.args", ""))?,
        );
        let mut acc = sha2::Sha256::new();
        let mut gas = 0u64;
        for op in &self.programs[id as usize] {
            gas += 1;
            match *op {
                Op::Get(k) => acc.update(format!("{:?}", ctx.get(&store_key(k)))),
                Op::Put(k, v) => ctx.set(store_key(k), vec![v; 1 + usize::from(v % 3)])?,
                Op::Delete(k) => ctx.delete(store_key(k))?,
                Op::Add(k, x) => {
                    let v = u64_of(ctx.get(&store_key(k))) + u64::from(x);
                    acc.update(v.to_be_bytes());
                    ctx.set(store_key(k), v.to_be_bytes().to_vec())?;
                }
                Op::Transfer(a, b, amount) => {
                    let from = u64_of(ctx.get(&balance_key(a)));
                    if from < u64::from(amount) {
                        return Err(ModuleError::new("t.short", format!("has {from}")));
                    }
                    ctx.set(
                        balance_key(a),
                        (from - u64::from(amount)).to_be_bytes().to_vec(),
                    )?;
                    let to = u64_of(ctx.get(&balance_key(b)));
                    ctx.set(
                        balance_key(b),
                        (to + u64::from(amount)).to_be_bytes().to_vec(),
                    )?;
                }
                Op::Range(a, b, limit, desc) => {
                    let r = ctx.range(&store_key(a), &store_key(b), limit.into(), desc);
                    acc.update(format!("{r:?}"));
                }
                Op::RangeUnordered(a, b, limit, desc) => {
                    let r = ctx.range(&balance_key(a), &balance_key(b), limit.into(), desc);
                    acc.update(format!("{r:?}"));
                }
                Op::Nonce(s) => {
                    let addr = ctx.address_of(&sender_key(s));
                    acc.update(format!("{:?}", ctx.get(&nonce_key(&addr))));
                }
                Op::Deny(s) => {
                    let addr = ctx.address_of(&sender_key(s));
                    ctx.set(deny_key(&addr), vec![1])?;
                }
                Op::Allow(s) => {
                    let addr = ctx.address_of(&sender_key(s));
                    ctx.delete(deny_key(&addr))?;
                }
                Op::Chain(from, to) => {
                    let prev = ctx.get(&store_key(from)).unwrap_or_default();
                    ctx.set(store_key(to), ctx.hash(&prev).to_vec())?;
                }
                Op::Gas(g) => gas += u64::from(g),
                Op::Fail => {
                    ctx.set_gas_used(gas);
                    return Err(ModuleError::new("t.fail", "asked to fail"));
                }
                Op::Panic => panic!("module panic at program {id}"),
                Op::SetPair(v) => {
                    ctx.set(b"contract/pair/a".to_vec(), vec![v])?;
                    ctx.set(b"contract/pair/b".to_vec(), vec![v])?;
                }
                Op::CheckPair => {
                    let a = ctx.get(b"contract/pair/a");
                    let b = ctx.get(b"contract/pair/b");
                    assert_eq!(a, b, "pair invariant");
                }
                Op::Work(n) => {
                    let mut h = [0u8; 32];
                    for _ in 0..n {
                        h = ctx.hash(&h);
                    }
                    acc.update(h);
                }
            }
        }
        ctx.set_gas_used(gas);
        let digest = acc.finalize().to_vec();
        let mut out = b"contract/out/".to_vec();
        out.extend_from_slice(&ctx.sender.0);
        ctx.set(out, digest.clone())?;
        ctx.emit("digest", digest)
    }
}

/// How a generated transaction deviates from a valid one.
#[derive(Clone, Debug)]
enum Flaw {
    None,
    NonceAhead,
    NonceBehind,
    BadSignature,
    Expired,
    WrongChain,
    UnknownModule,
    /// A copy of an earlier transaction (by position modulo the count so far).
    Duplicate(usize),
}

#[derive(Clone, Debug)]
struct TxSpec {
    sender: u8,
    flaw: Flaw,
    program: Vec<Op>,
}

const HEIGHT: u64 = 5;

fn env() -> BlockEnv {
    BlockEnv {
        chain_id: ChainId::new("c").unwrap(),
        height: HEIGHT,
        time_ms: 1000,
    }
}

fn body(sender: u8, nonce: u64, module: &str, program: u32) -> SignedTx {
    SignedTx {
        body: TxBody {
            chain_id: ChainId::new("c").unwrap(),
            sender: sender_key(sender),
            nonce,
            expiry_height: HEIGHT,
            call: Call {
                module: module.into(),
                method: "run".into(),
                args: program.to_be_bytes().to_vec(),
            },
        },
        signature: vec![1],
    }
}

/// Builds the block: nonces follow each sender's count so far (as if all were included).
fn build(specs: &[TxSpec], base_nonces: &BTreeMap<u8, u64>) -> (Vec<SignedTx>, Vec<Vec<Op>>) {
    let mut next: BTreeMap<u8, u64> = base_nonces.clone();
    let mut txs: Vec<SignedTx> = Vec::new();
    let mut programs = Vec::new();
    for spec in specs {
        if let Flaw::Duplicate(j) = spec.flaw {
            if !txs.is_empty() {
                let t = txs[j % txs.len()].clone();
                txs.push(t);
                continue;
            }
        }
        let id = programs.len() as u32;
        programs.push(spec.program.clone());
        let n = next.entry(spec.sender).or_insert(0);
        let mut tx = body(spec.sender, *n, "contract", id);
        match spec.flaw {
            Flaw::None | Flaw::Duplicate(_) => *n += 1,
            Flaw::NonceAhead => tx.body.nonce += 1,
            Flaw::NonceBehind => tx.body.nonce = tx.body.nonce.wrapping_sub(1),
            Flaw::BadSignature => tx.signature = vec![0],
            Flaw::Expired => tx.body.expiry_height = HEIGHT - 1,
            Flaw::WrongChain => tx.body.chain_id = ChainId::new("other").unwrap(),
            Flaw::UnknownModule => {
                tx.body.call.module = "nomod".into();
                *n += 1;
            }
        }
        txs.push(tx);
    }
    (txs, programs)
}

fn executor(programs: Vec<Vec<Op>>) -> Executor {
    Executor::new(vec![Arc::new(Prog { programs }) as Arc<dyn Module>])
        .with_access(Arc::new(DenyList))
}

type Outcome = Result<BlockOutcome, (usize, AdmissionError)>;

fn sequential(
    exec: &Executor,
    base: &BTreeMap<Vec<u8>, Vec<u8>>,
    txs: &[SignedTx],
    mode: ExecMode,
) -> Outcome {
    exec.execute_block(&Sha, &FlagAuth, base, &env(), txs.to_vec(), mode)
}

fn parallel(
    exec: &Executor,
    base: &BTreeMap<Vec<u8>, Vec<u8>>,
    txs: &[SignedTx],
    mode: ExecMode,
    threads: usize,
) -> Outcome {
    exec.execute_block_parallel(&Sha, &FlagAuth, base, &env(), txs.to_vec(), mode, threads)
}

fn op(keys: u16, senders: u8) -> impl Strategy<Value = Op> {
    let k = 0..keys;
    let s = 0..senders;
    prop_oneof![
        4 => k.clone().prop_map(Op::Get),
        4 => (k.clone(), any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => k.clone().prop_map(Op::Delete),
        4 => (k.clone(), any::<u8>()).prop_map(|(k, v)| Op::Add(k, v)),
        4 => (k.clone(), k.clone(), 0..100u8).prop_map(|(a, b, x)| Op::Transfer(a, b, x)),
        3 => (k.clone(), k.clone(), 0..6u8, any::<bool>())
            .prop_map(|(a, b, l, d)| Op::Range(a.min(b), a.max(b) + 1, l, d)),
        1 => (k.clone(), k.clone(), 0..6u8, any::<bool>())
            .prop_map(|(a, b, l, d)| Op::RangeUnordered(a.min(b), a.max(b) + 1, l, d)),
        1 => s.clone().prop_map(Op::Nonce),
        1 => s.clone().prop_map(Op::Deny),
        1 => s.prop_map(Op::Allow),
        1 => any::<u8>().prop_map(Op::Gas),
        1 => Just(Op::Fail),
    ]
}

fn flaw(clean: bool) -> BoxedStrategy<Flaw> {
    if clean {
        return Just(Flaw::None).boxed();
    }
    prop_oneof![
        20 => Just(Flaw::None),
        1 => Just(Flaw::NonceAhead),
        1 => Just(Flaw::NonceBehind),
        1 => Just(Flaw::BadSignature),
        1 => Just(Flaw::Expired),
        1 => Just(Flaw::WrongChain),
        1 => Just(Flaw::UnknownModule),
        2 => any::<usize>().prop_map(Flaw::Duplicate),
    ]
    .boxed()
}

/// A block over `keys` keys and `senders` senders, plus a base state.
#[allow(clippy::type_complexity)]
fn workload(
    keys: u16,
    senders: u8,
    max_txs: usize,
) -> impl Strategy<Value = (Vec<TxSpec>, BTreeMap<Vec<u8>, Vec<u8>>, BTreeMap<u8, u64>)> {
    any::<bool>().prop_flat_map(move |clean| {
        let tx = (
            0..senders,
            flaw(clean),
            proptest::collection::vec(op(keys, senders), 0..6),
        )
            .prop_map(|(sender, flaw, program)| TxSpec {
                sender,
                flaw,
                program,
            });
        let base = proptest::collection::btree_map(
            (0..keys, any::<bool>())
                .prop_map(|(k, bal)| if bal { balance_key(k) } else { store_key(k) }),
            proptest::collection::vec(any::<u8>(), 8),
            0..usize::from(keys).min(40),
        );
        let nonces = proptest::collection::btree_map(0..senders, 0..3u64, 0..3);
        (proptest::collection::vec(tx, 1..max_txs), base, nonces)
    })
}

fn check(
    specs: &[TxSpec],
    mut base: BTreeMap<Vec<u8>, Vec<u8>>,
    nonces: &BTreeMap<u8, u64>,
) -> Result<(), TestCaseError> {
    for (s, n) in nonces {
        let addr = Address::from_public_key(&Sha, &sender_key(*s));
        base.insert(nonce_key(&addr), n.to_be_bytes().to_vec());
    }
    let (txs, programs) = build(specs, nonces);
    let exec = executor(programs);
    for mode in [ExecMode::Propose, ExecMode::Verify] {
        let expected = sequential(&exec, &base, &txs, mode);
        for threads in [1, 2, 4, 8] {
            for _ in 0..2 {
                let got = parallel(&exec, &base, &txs, mode, threads);
                prop_assert_eq!(&got, &expected, "mode {:?}, {} threads", mode, threads);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Few keys, few senders: nearly every transaction conflicts with another.
    #[test]
    fn matches_sequential_under_high_contention((specs, base, nonces) in workload(4, 3, 60)) {
        check(&specs, base, &nonces)?;
    }

    /// Many keys and senders: conflicts are rare, most transactions run in parallel.
    #[test]
    fn matches_sequential_under_low_contention((specs, base, nonces) in workload(2000, 64, 120)) {
        check(&specs, base, &nonces)?;
    }
}

/// A 200-transaction dependency chain: transaction i reads what transaction i-1 wrote.
#[test]
fn dependency_chain_of_200() {
    let n = 200u16;
    let programs: Vec<Vec<Op>> = (0..n)
        .map(|i| vec![Op::Chain(i.wrapping_sub(1), i), Op::Work(4)])
        .collect();
    let exec = executor(programs);
    // Distinct senders, so only the chain links the transactions.
    let txs: Vec<SignedTx> = (0..n)
        .map(|i| {
            let mut t = body(0, 0, "contract", u32::from(i));
            t.body.sender = {
                let mut k = vec![1u8; 33];
                k[..2].copy_from_slice(&i.to_be_bytes());
                k
            };
            t
        })
        .collect();
    let base = BTreeMap::new();
    let expected = sequential(&exec, &base, &txs, ExecMode::Verify).unwrap();
    let mut link = Vec::new();
    for _ in 0..n {
        link = Sha.hash(&link).to_vec();
    }
    assert_eq!(
        expected.writes.get(&store_key(n - 1)),
        Some(&Some(link)),
        "the oracle itself follows the chain"
    );
    for threads in [1, 2, 4, 8] {
        for mode in [ExecMode::Verify, ExecMode::Propose] {
            let got = parallel(&exec, &base, &txs, mode, threads).unwrap();
            assert_eq!(got, expected, "{threads} threads");
        }
    }
}

/// The same chain through one sender's nonces, one hot counter and deletes.
#[test]
fn one_sender_one_hot_key() {
    let n = 150u16;
    let programs: Vec<Vec<Op>> = (0..n)
        .map(|i| {
            let mut p = vec![Op::Add(0, 1), Op::Range(0, 8, 3, i % 2 == 0)];
            if i % 7 == 0 {
                p.push(Op::Delete(0));
            }
            if i % 11 == 0 {
                p.push(Op::Fail);
            }
            p
        })
        .collect();
    let exec = executor(programs);
    let txs: Vec<SignedTx> = (0..n)
        .map(|i| body(0, u64::from(i), "contract", u32::from(i)))
        .collect();
    let base = BTreeMap::new();
    let expected = sequential(&exec, &base, &txs, ExecMode::Verify);
    assert_eq!(expected.as_ref().unwrap().receipts.len(), usize::from(n));
    for threads in [2, 4, 8] {
        assert_eq!(
            parallel(&exec, &base, &txs, ExecMode::Verify, threads),
            expected
        );
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// A module panic propagates with its payload exactly when the sequential executor panics.
#[test]
fn module_panics_propagate_like_sequential() {
    let mut programs: Vec<Vec<Op>> = (0..100u16).map(|i| vec![Op::Add(i % 3, 1)]).collect();
    programs[60] = vec![Op::Add(0, 1), Op::Panic];
    let exec = executor(programs);
    let txs: Vec<SignedTx> = (0..100u8)
        .map(|i| body(i, 0, "contract", u32::from(i)))
        .collect();
    let base = BTreeMap::new();
    let seq = catch_unwind(AssertUnwindSafe(|| {
        sequential(&exec, &base, &txs, ExecMode::Verify)
    }))
    .map(|_| ())
    .unwrap_err();
    for threads in [1, 2, 4, 8] {
        let par = catch_unwind(AssertUnwindSafe(|| {
            parallel(&exec, &base, &txs, ExecMode::Verify, threads)
        }))
        .map(|_| ())
        .unwrap_err();
        assert_eq!(panic_message(par), "module panic at program 60");
    }
    assert_eq!(panic_message(seq), "module panic at program 60");

    // An inadmissible transaction before the panicking one: the block fails, nothing panics.
    let mut txs = txs;
    txs[30].signature = vec![0];
    let expected = sequential(&exec, &base, &txs, ExecMode::Verify);
    assert_eq!(expected.as_ref().unwrap_err().0, 30);
    for threads in [1, 2, 4, 8] {
        assert_eq!(
            parallel(&exec, &base, &txs, ExecMode::Verify, threads),
            expected
        );
    }
}

/// Speculative runs may see states the sequential order never produces (here, a pair written
/// together read half from one writer and half from another); a panic there must not escape.
#[test]
fn speculative_panics_are_discarded() {
    let programs: Vec<Vec<Op>> = (0..300u16)
        .map(|i| {
            if i % 2 == 0 {
                vec![Op::SetPair(i as u8), Op::Work(2)]
            } else {
                vec![Op::Work(2), Op::CheckPair]
            }
        })
        .collect();
    let exec = executor(programs);
    let txs: Vec<SignedTx> = (0..300u16)
        .map(|i| {
            let mut t = body(0, 0, "contract", u32::from(i));
            t.body.sender[..2].copy_from_slice(&i.to_be_bytes());
            t
        })
        .collect();
    let base = BTreeMap::new();
    let expected = sequential(&exec, &base, &txs, ExecMode::Verify);
    assert!(expected.is_ok());
    for threads in [2, 4, 8] {
        assert_eq!(
            parallel(&exec, &base, &txs, ExecMode::Verify, threads),
            expected
        );
    }
}

#[test]
fn config_falls_back_to_sequential() {
    let cfg = ExecConfig {
        threads: 4,
        min_parallel_txs: 64,
    };
    assert!(!cfg.is_parallel(63));
    assert!(cfg.is_parallel(64));
    assert!(!ExecConfig { threads: 1, ..cfg }.is_parallel(1000));
    assert!(!ExecConfig::SEQUENTIAL.is_parallel(1000));
    let exec = executor(vec![vec![Op::Add(0, 1)]; 70]);
    let txs: Vec<SignedTx> = (0..70u32)
        .map(|i| body(0, u64::from(i), "contract", i))
        .collect();
    let base = BTreeMap::new();
    let expected = sequential(&exec, &base, &txs, ExecMode::Verify);
    for cfg in [cfg, ExecConfig::SEQUENTIAL, ExecConfig::default()] {
        let got = exec.execute_block_with(
            &cfg,
            &Sha,
            &FlagAuth,
            &base,
            &env(),
            txs.clone(),
            ExecMode::Verify,
        );
        assert_eq!(got, expected);
    }
    // An empty block.
    assert_eq!(
        parallel(&exec, &base, &[], ExecMode::Propose, 4),
        sequential(&exec, &base, &[], ExecMode::Propose)
    );
}

/// Two keys with the same 64-bit hash (never seen in practice with a random hash key, but
/// possible) are kept apart.
#[test]
fn colliding_key_hashes_stay_apart() {
    use super::{Entry, Shard};
    let mut shard = Shard::with_capacity(4);
    let (a, b) = (b"key/a".to_vec(), b"key/b".to_vec());
    for (key, idx) in [(&a, 1), (&b, 2), (&a, 3)] {
        let (bytes, versions, _) = shard.entry(7, key.clone());
        assert_eq!(&*bytes, key.as_slice());
        versions.push((idx, Entry::Estimate));
    }
    let idxs = |v: Option<&super::Versions>| v.map(|v| v.iter().map(|e| e.0).collect::<Vec<_>>());
    assert_eq!(idxs(shard.get(7, &a)), Some(vec![1, 3]));
    assert_eq!(idxs(shard.get(7, &b)), Some(vec![2]));
    assert_eq!(idxs(shard.get(7, b"key/c")), None);
    assert_eq!(idxs(shard.get(8, &a)), None);
    shard.get_mut(7, &b).unwrap().clear();
    assert_eq!(idxs(shard.get(7, &b)), Some(vec![]));
    assert_eq!(idxs(shard.get(7, &a)), Some(vec![1, 3]));
}
