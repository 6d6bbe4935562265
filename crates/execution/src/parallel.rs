//! Parallel block execution: Block-STM (Gelashvili et al., "Block-STM: Scaling Blockchain
//! Execution by Turning Ordering Curse to a Performance Blessing", 2022) with an in-order commit.
//!
//! Worker threads execute transactions optimistically against a multi-version memory that holds,
//! for every key, the value written by each transaction of the block. A transaction reading a
//! key sees the write of the highest lower transaction, or the block's base state. Every read is
//! recorded with the version (writer index, incarnation) it returned, and every range read with
//! the versions of all the lower transactions' writes inside the range (so a range counts as a
//! read of every key in `[start, end)`, present or not). A transaction stays valid while
//! re-reading its read set returns the same versions. Invalid transactions are aborted (their
//! writes become estimates, so higher readers wait for them rather than read a stale value) and
//! re-executed, lowest index first.
//!
//! The outcome is exactly the sequential executor's because transactions commit strictly in
//! block order, and a transaction commits only after its read set was validated once more while
//! every lower transaction was already committed: its reads then returned what the sequential
//! executor's would have, so (modules being deterministic) so did its writes, receipt and gas.
//! If that last validation fails, the committing thread re-executes the transaction on the spot
//! against that final state. Whatever the speculative phase gets wrong therefore costs time,
//! never correctness. Admission is part of the transaction (its nonce and access-control reads
//! are in its read set). The in-block duplicate check and receipt indexes depend on which
//! earlier transactions were included, which the commit knows: workers assume "not a
//! duplicate" and guess the index, and the commit re-executes or re-indexes when they were wrong.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use meridian_types::{merkle_root, Encode, Hash32, HashFn, Receipt, SignedTx};
use parking_lot::{Mutex, RwLock};

use crate::executor::{receipt_index, TxEffect};
use crate::overlay::{is_ordered_range, range_through, StateRead, WriteSet, ORDERED_PREFIXES};
use crate::{AdmissionError, BlockEnv, BlockOutcome, ExecMode, Executor, TxAuthenticator};

/// When [`Executor::execute_block_with`] runs a block in parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecConfig {
    /// Worker threads; `0` or `1` means sequential.
    pub threads: usize,
    /// Blocks with fewer transactions run sequentially (spawning threads costs more than it
    /// saves on small blocks).
    pub min_parallel_txs: usize,
}

impl ExecConfig {
    /// Always sequential.
    pub const SEQUENTIAL: ExecConfig = ExecConfig {
        threads: 1,
        min_parallel_txs: usize::MAX,
    };

    /// Whether a block of `txs` transactions runs in parallel under this configuration.
    pub fn is_parallel(&self, txs: usize) -> bool {
        self.threads > 1 && txs >= self.min_parallel_txs.max(2)
    }
}

impl Default for ExecConfig {
    /// One thread per available core; blocks of 64 transactions or more.
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            min_parallel_txs: 64,
        }
    }
}

impl Executor {
    /// [`Executor::execute_block`] in parallel when `config` says so (see
    /// [`ExecConfig::is_parallel`]), sequentially otherwise. The outcome is the same either way.
    #[allow(clippy::too_many_arguments)]
    pub fn execute_block_with(
        &self,
        config: &ExecConfig,
        hash: &(dyn HashFn + Sync),
        auth: &(dyn TxAuthenticator + Sync),
        base: &(dyn StateRead + Sync),
        env: &BlockEnv,
        txs: Vec<SignedTx>,
        mode: ExecMode,
    ) -> Result<BlockOutcome, (usize, AdmissionError)> {
        if config.is_parallel(txs.len()) {
            self.execute_block_parallel(hash, auth, base, env, txs, mode, config.threads)
        } else {
            self.execute_block(hash, auth, base, env, txs, mode)
        }
    }

    /// [`Executor::execute_block`] on `threads` worker threads (Block-STM, see the module
    /// docs), whatever the block size. The outcome is identical to `execute_block`'s: the same
    /// included and dropped transactions, receipts, writes and roots, the same `Err` in
    /// [`ExecMode::Verify`], and a module panic propagates (with its payload) exactly when the
    /// sequential executor would panic.
    ///
    /// Modules may run speculatively on states the sequential order never produces; such runs
    /// are discarded, but a module that panics on one prints a panic message.
    #[allow(clippy::too_many_arguments)]
    pub fn execute_block_parallel(
        &self,
        hash: &(dyn HashFn + Sync),
        auth: &(dyn TxAuthenticator + Sync),
        base: &(dyn StateRead + Sync),
        env: &BlockEnv,
        txs: Vec<SignedTx>,
        mode: ExecMode,
        threads: usize,
    ) -> Result<BlockOutcome, (usize, AdmissionError)> {
        let n = txs.len();
        if n == 0 {
            return self.execute_block(hash, auth, base, env, txs, mode);
        }
        let block = Block {
            exec: self,
            hash,
            auth,
            base,
            env,
            txs: &txs,
            hashes: (0..n).map(|_| OnceLock::new()).collect(),
            mode,
            mv: MvMemory::new(n),
            sched: Scheduler::new(n),
            records: (0..n).map(|_| CacheLine(Mutex::new(None))).collect(),
            dropped: AtomicUsize::new(0),
            commit: Mutex::new(Commit::with_capacity(n)),
        };
        let workers = threads.clamp(1, n);
        let mut worker_panic = None;
        std::thread::scope(|s| {
            let handles: Vec<_> = (1..workers).map(|_| s.spawn(|| block.work())).collect();
            // The calling thread is a worker too. A panic here (a bug: module panics are
            // caught) halts the others, and the scope re-raises it once they stopped.
            block.work();
            for h in handles {
                if let Err(p) = h.join() {
                    worker_panic.get_or_insert(p);
                }
            }
        });
        if let Some(p) = worker_panic {
            resume_unwind(p);
        }
        let Block {
            mv, commit, hashes, ..
        } = block;
        let commit = commit.into_inner();
        if let Some(p) = commit.panic {
            resume_unwind(p);
        }
        if let Some(failure) = commit.failed {
            return Err(failure);
        }
        assert_eq!(
            commit.next, n,
            "parallel execution: not every transaction committed"
        );
        let mut out = commit.out;
        let mut tx_leaves = Vec::with_capacity(out.receipts.len());
        out.txs = txs
            .into_iter()
            .zip(commit.included)
            .zip(hashes)
            .filter(|((_, included), _)| *included)
            .map(|((tx, _), h)| {
                tx_leaves.push(h.get().expect("hashed when executed").leaf);
                tx
            })
            .collect();
        // Two Merkle roots (two hashes per leaf) and the sorted write set: split over two
        // threads when there are. The transaction root is `meridian_types::tx_root` over the
        // included transactions, from the leaves the workers already hashed.
        let mut lower = mv.shards;
        if workers > 1 {
            let upper = lower.split_off(SHARDS / 2);
            let (tx_root, writes) = std::thread::scope(|s| {
                let other = s.spawn(|| (merkle_root(hash, &tx_leaves), final_writes(upper)));
                out.receipts_root = merkle_root(hash, &commit.receipt_hashes);
                let lower = final_writes(lower);
                let (tx_root, upper) = other.join().unwrap_or_else(|p| resume_unwind(p));
                // Two sorted runs: the sort inside `collect` merges them.
                (tx_root, lower.into_iter().chain(upper).collect())
            });
            out.tx_root = tx_root;
            out.writes = writes;
        } else {
            out.tx_root = merkle_root(hash, &tx_leaves);
            out.receipts_root = merkle_root(hash, &commit.receipt_hashes);
            out.writes = final_writes(lower).into_iter().collect();
        }
        Ok(out)
    }
}

/// Incarnation number: how many times a transaction's execution was started over.
type Incarnation = u32;

/// A state key as the multi-version memory stores it: its bytes (shared by its indexes) and
/// its hash, computed once.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    hash: u64,
    bytes: Arc<[u8]>,
}

/// One transaction's entry for a key in the multi-version memory.
enum Entry {
    /// Written (`None` deletes) by this incarnation.
    Write(Incarnation, Option<Vec<u8>>),
    /// The writer was aborted; it will probably write the key again.
    Estimate,
}

/// The entries of one key, sorted by transaction index.
type Versions = Vec<(usize, Entry)>;

fn latest_below(versions: &Versions, idx: usize) -> Option<&(usize, Entry)> {
    match versions.partition_point(|(j, _)| *j < idx) {
        0 => None,
        p => versions.get(p - 1),
    }
}

/// Where a read's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// No lower transaction wrote the key: the block's base state.
    Base,
    /// Written by (transaction, incarnation).
    Tx(usize, Incarnation),
}

impl Origin {
    /// The origin of what `idx` reads in `versions`, or `Err` with the transaction whose
    /// estimate blocks it.
    fn of(versions: Option<&Versions>, idx: usize) -> Result<(Origin, Option<&Entry>), usize> {
        match versions.and_then(|v| latest_below(v, idx)) {
            None => Ok((Origin::Base, None)),
            Some((j, e @ Entry::Write(inc, _))) => Ok((Origin::Tx(*j, *inc), Some(e))),
            Some((j, Entry::Estimate)) => Err(*j),
        }
    }
}

enum Read {
    Key {
        hash: u64,
        key: Vec<u8>,
        origin: Origin,
    },
    /// Valid while the lower transactions' writes inside `[start, end)` are the same versions
    /// (the base state is immutable, so the range's result is then the same too).
    Range {
        start: Vec<u8>,
        end: Vec<u8>,
        versions: Vec<(Key, usize, Incarnation)>,
    },
}

/// Hashes a `u64` key hash to itself (the shard tables are keyed by already-hashed keys).
#[derive(Default)]
struct KeyHashHasher(u64);

impl Hasher for KeyHashHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Part of the multi-version memory: keys by hash. A key whose hash another key already took
/// (vanishingly rare with a random hash key, but possible) lives in `collided`.
#[derive(Default)]
struct Shard {
    by_hash: HashMap<u64, (Arc<[u8]>, Versions), BuildHasherDefault<KeyHashHasher>>,
    collided: HashMap<Arc<[u8]>, Versions>,
}

impl Shard {
    fn with_capacity(n: usize) -> Self {
        Self {
            by_hash: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            collided: HashMap::new(),
        }
    }

    fn get(&self, hash: u64, key: &[u8]) -> Option<&Versions> {
        match self.by_hash.get(&hash) {
            Some((k, v)) if **k == *key => Some(v),
            Some(_) => self.collided.get(key),
            None => None,
        }
    }

    fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Versions> {
        match self.by_hash.get_mut(&hash) {
            Some((k, v)) if **k == *key => Some(v),
            Some(_) => self.collided.get_mut(key),
            None => None,
        }
    }

    /// The key's entries, created empty if it has none; and its stored bytes, and whether it
    /// was created.
    fn entry(&mut self, hash: u64, key: Vec<u8>) -> (Arc<[u8]>, &mut Versions, bool) {
        use std::collections::hash_map::Entry as E;
        match self.by_hash.entry(hash) {
            E::Vacant(e) => {
                let bytes: Arc<[u8]> = key.into();
                let (_, v) = e.insert((bytes.clone(), Vec::new()));
                (bytes, v, true)
            }
            E::Occupied(e) if *e.get().0 == *key => {
                let (k, v) = e.into_mut();
                (k.clone(), v, false)
            }
            E::Occupied(_) => match self.collided.entry(key.into()) {
                E::Vacant(e) => {
                    let bytes = e.key().clone();
                    (bytes, e.insert(Vec::new()), true)
                }
                E::Occupied(e) => {
                    let bytes = e.key().clone();
                    (bytes, e.into_mut(), false)
                }
            },
        }
    }
}

const SHARDS: usize = 64;

/// Key → entries by transaction, sharded for concurrent access, plus an ordered index of the
/// keys written under [`ORDERED_PREFIXES`] (the only ones storage can range over) for range
/// reads.
struct MvMemory {
    shards: Vec<RwLock<Shard>>,
    ordered: RwLock<BTreeMap<Arc<[u8]>, u64>>,
    hasher: RandomState,
}

fn is_ordered_key(key: &[u8]) -> bool {
    ORDERED_PREFIXES.iter().any(|p| key.starts_with(p))
}

impl MvMemory {
    /// For a block of `txs` transactions. Tables are sized up front (a few keys per
    /// transaction): growing one means freeing another thread's allocation while it
    /// allocates, which contends on the allocator's locks.
    fn new(txs: usize) -> Self {
        let per_shard = txs * 4 / SHARDS + 8;
        Self {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(Shard::with_capacity(per_shard)))
                .collect(),
            ordered: RwLock::new(BTreeMap::new()),
            hasher: RandomState::new(),
        }
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        // Bits the tables themselves do not use to place entries; truncation is fine.
        &self.shards[(hash >> 32) as usize % SHARDS]
    }

    /// What transaction `idx` reads at `key`: its origin and, unless that is the base state,
    /// the value.
    #[allow(clippy::type_complexity)]
    fn read(
        &self,
        hash: u64,
        key: &[u8],
        idx: usize,
    ) -> Result<(Origin, Option<Option<Vec<u8>>>), usize> {
        let shard = self.shard(hash).read();
        let (origin, entry) = Origin::of(shard.get(hash, key), idx)?;
        Ok((
            origin,
            match entry {
                Some(Entry::Write(_, v)) => Some(v.clone()),
                _ => None,
            },
        ))
    }

    /// Keys ever written inside `[start, end)` (`start < end`), in order.
    fn keys_in(&self, start: &[u8], end: &[u8]) -> Vec<Key> {
        use std::ops::Bound;
        if is_ordered_range(start, end) {
            // Every key in the range has the ordered prefix both ends have, so is indexed.
            return self
                .ordered
                .read()
                .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
                .map(|(bytes, hash)| Key {
                    hash: *hash,
                    bytes: bytes.clone(),
                })
                .collect();
        }
        // Storage returns nothing there, but the block's own writes still show (as through
        // the sequential executor's overlay): a rare, slow path.
        let in_range = |k: &[u8]| start <= k && k < end;
        let mut keys: Vec<Key> = Vec::new();
        for shard in &self.shards {
            let shard = shard.read();
            for (hash, (bytes, _)) in &shard.by_hash {
                if in_range(bytes) {
                    keys.push(Key {
                        hash: *hash,
                        bytes: bytes.clone(),
                    });
                }
            }
            for bytes in shard.collided.keys() {
                if in_range(bytes) {
                    keys.push(Key {
                        hash: self.hash(bytes),
                        bytes: bytes.clone(),
                    });
                }
            }
        }
        keys.sort_by(|a, b| a.bytes.cmp(&b.bytes));
        keys
    }

    /// The writes below `idx` inside `[start, end)` (`start < end`) with their versions, or the
    /// blocking transaction.
    #[allow(clippy::type_complexity)]
    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        idx: usize,
    ) -> Result<(WriteSet, Vec<(Key, usize, Incarnation)>), usize> {
        let mut writes = WriteSet::new();
        let mut versions = Vec::new();
        for key in self.keys_in(start, end) {
            let shard = self.shard(key.hash).read();
            if let (Origin::Tx(j, inc), Some(Entry::Write(_, v))) =
                Origin::of(shard.get(key.hash, &key.bytes), idx)?
            {
                writes.insert(key.bytes.to_vec(), v.clone());
                drop(shard);
                versions.push((key, j, inc));
            }
        }
        Ok((writes, versions))
    }

    /// Whether every read of transaction `idx` would return the same version now.
    fn validate(&self, idx: usize, reads: &[Read]) -> bool {
        reads.iter().all(|r| match r {
            Read::Key { hash, key, origin } => {
                let shard = self.shard(*hash).read();
                matches!(Origin::of(shard.get(*hash, key), idx), Ok((o, _)) if o == *origin)
            }
            Read::Range {
                start,
                end,
                versions,
            } => {
                let mut expected = versions.iter();
                for key in self.keys_in(start, end) {
                    let shard = self.shard(key.hash).read();
                    match Origin::of(shard.get(key.hash, &key.bytes), idx) {
                        Ok((Origin::Base, _)) => {}
                        Ok((Origin::Tx(j, inc), _)) => match expected.next() {
                            Some((ek, ej, einc)) if *ek == key && *ej == j && *einc == inc => {}
                            _ => return false,
                        },
                        Err(_) => return false,
                    }
                }
                expected.next().is_none()
            }
        })
    }

    /// Publishes incarnation `inc` of transaction `idx`: its `writes`, replacing those of the
    /// previous incarnation (`previous`). Returns the keys written, and whether one of them was
    /// not written by the previous incarnation (then higher transactions that read it from
    /// below must be revalidated).
    fn publish(
        &self,
        idx: usize,
        inc: Incarnation,
        writes: WriteSet,
        previous: &[Key],
    ) -> (Vec<Key>, bool) {
        let mut keys = Vec::with_capacity(writes.len());
        let mut new_key = false;
        for (k, v) in writes {
            let hash = self.hash(&k);
            // Indexed before its version becomes visible in the shard: range reads and their
            // validation find keys through the index, so a version visible but not yet
            // indexed (its publisher preempted between the two steps) let a committed range
            // read miss a lower transaction's write. The ordered index's lock is never held
            // with a shard's.
            if is_ordered_key(&k) && !self.ordered.read().contains_key(k.as_slice()) {
                self.ordered
                    .write()
                    .entry(Arc::from(k.as_slice()))
                    .or_insert(hash);
            }
            let mut shard = self.shard(hash).write();
            let (bytes, versions, _) = shard.entry(hash, k);
            match versions.binary_search_by_key(&idx, |(j, _)| *j) {
                Ok(p) => versions[p].1 = Entry::Write(inc, v),
                Err(p) => {
                    versions.insert(p, (idx, Entry::Write(inc, v)));
                    new_key = true;
                }
            }
            drop(shard);
            keys.push(Key { hash, bytes });
        }
        for k in previous {
            if !keys.contains(k) {
                let mut shard = self.shard(k.hash).write();
                if let Some(versions) = shard.get_mut(k.hash, &k.bytes) {
                    versions.retain(|(j, _)| *j != idx);
                }
            }
        }
        (keys, new_key)
    }

    /// Turns an aborted incarnation's writes into estimates.
    fn mark_estimates(&self, idx: usize, keys: &[Key]) {
        for k in keys {
            let mut shard = self.shard(k.hash).write();
            if let Some(versions) = shard.get_mut(k.hash, &k.bytes) {
                if let Ok(p) = versions.binary_search_by_key(&idx, |(j, _)| *j) {
                    versions[p].1 = Entry::Estimate;
                }
            }
        }
    }
}

/// The writes in `shards` of the multi-version memory once every transaction committed, in
/// key order: each key's last writer wins, as when the sequential executor applies the
/// transactions in order.
fn final_writes(shards: Vec<RwLock<Shard>>) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = shards
        .into_iter()
        .flat_map(|shard| {
            let shard = shard.into_inner();
            shard.by_hash.into_values().chain(shard.collided)
        })
        .filter_map(|(key, mut versions)| match versions.pop()? {
            (_, Entry::Write(_, v)) => Some((key.to_vec(), v)),
            (j, Entry::Estimate) => {
                panic!("parallel execution: estimate of committed transaction {j}")
            }
        })
        .collect();
    writes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    writes
}

/// A transaction's identity hashes, computed once by the first worker to run it.
struct TxHashes {
    /// The transaction id (hash of the body).
    id: Hash32,
    /// Its `tx_root` leaf (hash of the full signed encoding).
    leaf: Hash32,
}

/// What one incarnation of a transaction did.
enum Effect {
    Rejected(AdmissionError),
    /// Included, with its receipt (index guessed) and the receipt's hash.
    Included(Receipt, Hash32),
    /// The module (or admission) panicked; re-raised if the transaction commits like this.
    Panicked(Box<dyn Any + Send>),
    /// Moved to the block's outcome.
    Committed,
}

/// The last completed incarnation of a transaction.
struct Record {
    incarnation: Incarnation,
    /// The duplicate flag it ran with.
    duplicate: bool,
    reads: Vec<Read>,
    /// Keys it wrote.
    written: Vec<Key>,
    effect: Effect,
}

/// What a transaction's read sees: the latest write below it, else the base state.
struct MvView<'a> {
    mv: &'a MvMemory,
    base: &'a (dyn StateRead + Sync),
    idx: usize,
    reads: RefCell<Vec<Read>>,
    /// Set when a read hit an estimate: the execution is void, later reads return nothing.
    blocked_by: Cell<Option<usize>>,
}

impl StateRead for MvView<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if self.blocked_by.get().is_some() {
            return None;
        }
        let hash = self.mv.hash(key);
        match self.mv.read(hash, key, self.idx) {
            Ok((origin, value)) => {
                self.reads.borrow_mut().push(Read::Key {
                    hash,
                    key: key.to_vec(),
                    origin,
                });
                match value {
                    Some(v) => v,
                    None => self.base.get(key),
                }
            }
            Err(j) => {
                self.blocked_by.set(Some(j));
                None
            }
        }
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        // Same early exit as `range_through`, which reads nothing then.
        if self.blocked_by.get().is_some() || limit == 0 || start >= end {
            return Vec::new();
        }
        match self.mv.scan(start, end, self.idx) {
            Ok((writes, versions)) => {
                self.reads.borrow_mut().push(Read::Range {
                    start: start.to_vec(),
                    end: end.to_vec(),
                    versions,
                });
                // What the sequential executor's overlay computes from the same writes.
                range_through(&writes, self.base, start, end, limit, descending)
            }
            Err(j) => {
                self.blocked_by.set(Some(j));
                Vec::new()
            }
        }
    }
}

/// Keeps neighbouring transactions' scheduling state, which different threads update at the
/// same time, off each other's cache lines.
#[repr(align(128))]
struct CacheLine<T>(T);

impl<T> std::ops::Deref for CacheLine<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    ReadyToExecute,
    Executing,
    Executed,
    Aborting,
    Committed,
}

#[derive(Clone, Copy)]
enum Task {
    Execute(usize, Incarnation),
    Validate(usize, Incarnation),
}

/// Block-STM's collaborative scheduler (the paper's Algorithms 4 and 5), with termination by
/// the commit index instead of the paper's done marker.
struct Scheduler {
    n: usize,
    execution_idx: AtomicUsize,
    validation_idx: AtomicUsize,
    status: Vec<CacheLine<Mutex<(Incarnation, Status)>>>,
    /// Transactions waiting for this one's re-execution.
    dependents: Vec<CacheLine<Mutex<Vec<usize>>>>,
    committed: AtomicUsize,
    halted: AtomicBool,
}

impl Scheduler {
    fn new(n: usize) -> Self {
        Self {
            n,
            execution_idx: AtomicUsize::new(0),
            validation_idx: AtomicUsize::new(0),
            status: (0..n)
                .map(|_| CacheLine(Mutex::new((0, Status::ReadyToExecute))))
                .collect(),
            dependents: (0..n).map(|_| CacheLine(Mutex::new(Vec::new()))).collect(),
            committed: AtomicUsize::new(0),
            halted: AtomicBool::new(false),
        }
    }

    fn finished(&self) -> bool {
        self.halted.load(Ordering::Acquire) || self.committed.load(Ordering::Acquire) >= self.n
    }

    fn next_task(&self) -> Option<Task> {
        let v = self.validation_idx.load(Ordering::Acquire);
        let e = self.execution_idx.load(Ordering::Acquire);
        if v < e && v < self.n {
            let idx = self.validation_idx.fetch_add(1, Ordering::AcqRel);
            if idx < self.n {
                let st = self.status[idx].lock();
                if st.1 == Status::Executed {
                    return Some(Task::Validate(idx, st.0));
                }
            }
            None
        } else if e < self.n {
            let idx = self.execution_idx.fetch_add(1, Ordering::AcqRel);
            self.try_incarnate(idx)
        } else {
            None
        }
    }

    fn try_incarnate(&self, idx: usize) -> Option<Task> {
        if idx >= self.n {
            return None;
        }
        let mut st = self.status[idx].lock();
        if st.1 == Status::ReadyToExecute {
            st.1 = Status::Executing;
            Some(Task::Execute(idx, st.0))
        } else {
            None
        }
    }

    fn decrease_execution_idx(&self, to: usize) {
        self.execution_idx.fetch_min(to, Ordering::AcqRel);
    }

    fn decrease_validation_idx(&self, to: usize) {
        self.validation_idx.fetch_min(to, Ordering::AcqRel);
    }

    /// Makes `idx` wait for `blocking`'s re-execution; `false` if that already finished.
    fn add_dependency(&self, idx: usize, blocking: usize) -> bool {
        let mut deps = self.dependents[blocking].lock();
        if matches!(
            self.status[blocking].lock().1,
            Status::Executed | Status::Committed
        ) {
            return false;
        }
        self.status[idx].lock().1 = Status::Aborting;
        deps.push(idx);
        true
    }

    fn set_ready(&self, idx: usize) {
        let mut st = self.status[idx].lock();
        if st.1 == Status::Aborting {
            *st = (st.0 + 1, Status::ReadyToExecute);
        }
    }

    /// After incarnation `inc` of `idx` published its writes.
    fn finish_execution(&self, idx: usize, inc: Incarnation, new_key: bool) -> Option<Task> {
        // Status first, dependents second: `add_dependency` locks them in the other order.
        *self.status[idx].lock() = (inc, Status::Executed);
        let deps = std::mem::take(&mut *self.dependents[idx].lock());
        if let Some(&lowest) = deps.iter().min() {
            for &d in &deps {
                self.set_ready(d);
            }
            self.decrease_execution_idx(lowest);
        }
        if self.validation_idx.load(Ordering::Acquire) > idx {
            if new_key {
                self.decrease_validation_idx(idx);
            } else {
                return Some(Task::Validate(idx, inc));
            }
        }
        None
    }

    fn try_validation_abort(&self, idx: usize, inc: Incarnation) -> bool {
        let mut st = self.status[idx].lock();
        if *st == (inc, Status::Executed) {
            st.1 = Status::Aborting;
            true
        } else {
            false
        }
    }

    fn finish_validation_abort(&self, idx: usize) -> Option<Task> {
        self.set_ready(idx);
        self.decrease_validation_idx(idx + 1);
        if self.execution_idx.load(Ordering::Acquire) > idx {
            self.try_incarnate(idx)
        } else {
            None
        }
    }
}

/// The block's result so far, built in block order.
#[derive(Default)]
struct Commit {
    /// Next transaction to commit.
    next: usize,
    /// Included transactions' ids.
    seen: HashSet<Hash32>,
    out: BlockOutcome,
    receipt_hashes: Vec<Hash32>,
    included: Vec<bool>,
    failed: Option<(usize, AdmissionError)>,
    panic: Option<Box<dyn Any + Send>>,
}

impl Commit {
    /// Sized for the whole block up front, for the reason given at [`MvMemory::new`].
    fn with_capacity(txs: usize) -> Self {
        Self {
            seen: HashSet::with_capacity(txs),
            out: BlockOutcome {
                receipts: Vec::with_capacity(txs),
                tx_hashes: Vec::with_capacity(txs),
                ..BlockOutcome::default()
            },
            receipt_hashes: Vec::with_capacity(txs),
            included: Vec::with_capacity(txs),
            ..Commit::default()
        }
    }
}

/// Everything the workers share.
struct Block<'a> {
    exec: &'a Executor,
    hash: &'a (dyn HashFn + Sync),
    auth: &'a (dyn TxAuthenticator + Sync),
    base: &'a (dyn StateRead + Sync),
    env: &'a BlockEnv,
    txs: &'a [SignedTx],
    hashes: Vec<OnceLock<TxHashes>>,
    mode: ExecMode,
    mv: MvMemory,
    sched: Scheduler,
    records: Vec<CacheLine<Mutex<Option<Record>>>>,
    /// Transactions dropped so far (commit order), to guess receipt indexes.
    dropped: AtomicUsize,
    commit: Mutex<Commit>,
}

/// Stops the other workers if this one panics (they would otherwise wait for it forever).
struct HaltOnPanic<'a>(&'a AtomicBool);

impl Drop for HaltOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}

impl Block<'_> {
    fn work(&self) {
        let _halt = HaltOnPanic(&self.sched.halted);
        let mut task = None;
        let mut idle = 0u32;
        loop {
            self.try_commit();
            if self.sched.finished() {
                return;
            }
            task = match task.or_else(|| self.sched.next_task()) {
                Some(Task::Execute(idx, inc)) => self.try_execute(idx, inc),
                Some(Task::Validate(idx, inc)) => self.validate(idx, inc),
                None => {
                    // Nothing to do until another worker finishes something.
                    idle = idle.saturating_add(1);
                    if idle < 64 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                    continue;
                }
            };
            idle = 0;
        }
    }

    fn tx_hashes(&self, idx: usize) -> &TxHashes {
        self.hashes[idx].get_or_init(|| {
            let tx = &self.txs[idx];
            TxHashes {
                id: tx.hash(self.hash),
                leaf: self.hash.hash(&tx.encode()),
            }
        })
    }

    /// The receipt index transaction `idx` will probably get: exact in `Verify` mode (every
    /// committed transaction is included), exact in `Propose` mode unless a transaction
    /// between the last commit and `idx` is dropped.
    fn guess_index(&self, idx: usize) -> usize {
        idx.saturating_sub(self.dropped.load(Ordering::Relaxed))
    }

    /// Runs incarnation `inc` of transaction `idx` and publishes it, or `Err(j)` if it read a
    /// write of transaction `j` that is being re-executed. `Ok` says whether it wrote a key its
    /// previous incarnation did not.
    fn execute(&self, idx: usize, inc: Incarnation, duplicate: bool) -> Result<bool, usize> {
        let ids = self.tx_hashes(idx);
        let view = MvView {
            mv: &self.mv,
            base: self.base,
            idx,
            reads: RefCell::new(Vec::with_capacity(8)),
            blocked_by: Cell::new(None),
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.exec.apply_tx(
                self.hash,
                self.auth,
                &view,
                self.env,
                &self.txs[idx],
                &ids.id,
                duplicate,
            )
        }));
        if let Some(j) = view.blocked_by.get() {
            return Err(j);
        }
        let (effect, writes) = match result {
            Ok(TxEffect::Rejected(e)) => (Effect::Rejected(e), WriteSet::new()),
            Ok(TxEffect::Included(included)) => {
                let index = receipt_index(self.guess_index(idx));
                let (receipt, writes) = included.into_receipt(ids.id, self.env.height, index);
                let receipt_hash = self.hash.hash(&receipt.encode());
                (Effect::Included(receipt, receipt_hash), writes)
            }
            Err(payload) => (Effect::Panicked(payload), WriteSet::new()),
        };
        let mut slot = self.records[idx].lock();
        let previous = slot.as_ref().map_or(&[][..], |r| r.written.as_slice());
        let (written, new_key) = self.mv.publish(idx, inc, writes, previous);
        *slot = Some(Record {
            incarnation: inc,
            duplicate,
            reads: view.reads.into_inner(),
            written,
            effect,
        });
        Ok(new_key)
    }

    fn try_execute(&self, idx: usize, inc: Incarnation) -> Option<Task> {
        loop {
            // Workers assume no earlier copy was included; the commit checks.
            match self.execute(idx, inc, false) {
                Ok(new_key) => return self.sched.finish_execution(idx, inc, new_key),
                Err(blocking) => {
                    if self.sched.add_dependency(idx, blocking) || self.sched.finished() {
                        return None;
                    }
                    // The blocking transaction finished meanwhile: run again.
                }
            }
        }
    }

    fn validate(&self, idx: usize, inc: Incarnation) -> Option<Task> {
        let valid = match &*self.records[idx].lock() {
            Some(r) if r.incarnation == inc && !matches!(r.effect, Effect::Committed) => {
                self.mv.validate(idx, &r.reads)
            }
            // Superseded or committed.
            _ => true,
        };
        if valid || !self.sched.try_validation_abort(idx, inc) {
            return None;
        }
        if let Some(r) = &*self.records[idx].lock() {
            self.mv.mark_estimates(idx, &r.written);
        }
        self.sched.finish_validation_abort(idx)
    }

    /// Commits, in block order, every transaction whose last incarnation is still valid with
    /// all lower transactions committed, re-executing it first if it is not. One thread at a
    /// time; the others carry on.
    fn try_commit(&self) {
        let Some(mut commit) = self.commit.try_lock() else {
            return;
        };
        let n = self.txs.len();
        while commit.next < n && commit.failed.is_none() && commit.panic.is_none() {
            let idx = commit.next;
            let mut status = self.sched.status[idx].lock();
            if status.1 != Status::Executed {
                return;
            }
            let inc = status.0;
            let mut slot = self.records[idx].lock();
            let record = slot.as_ref().expect("an executed transaction has a record");
            let duplicate = commit.seen.contains(&self.tx_hashes(idx).id);
            if record.incarnation == inc
                && record.duplicate == duplicate
                && self.mv.validate(idx, &record.reads)
            {
                status.1 = Status::Committed;
                // The rest of the record is freed with the block, by the thread that made the
                // call: freeing other threads' allocations while they allocate contends on
                // the allocator's locks.
                let effect = std::mem::replace(
                    &mut slot.as_mut().expect("checked above").effect,
                    Effect::Committed,
                );
                drop(slot);
                drop(status);
                self.apply(&mut commit, idx, effect);
                commit.next += 1;
                self.sched.committed.store(commit.next, Ordering::Release);
                continue;
            }
            // Everything below `idx` is final, so running it again now reads the final state.
            *status = (inc + 1, Status::Executing);
            drop(status);
            self.mv.mark_estimates(idx, &record.written);
            drop(slot);
            self.sched.decrease_validation_idx(idx + 1);
            match self.execute(idx, inc + 1, duplicate) {
                // Validated (trivially) and committed on the next turn of this loop.
                Ok(new_key) => drop(self.sched.finish_execution(idx, inc + 1, new_key)),
                Err(j) => panic!(
                    "parallel execution: transaction {idx} blocked on {j} after all lower \
                     transactions committed"
                ),
            }
        }
        if commit.failed.is_some() || commit.panic.is_some() {
            self.sched.halted.store(true, Ordering::Release);
        }
    }

    fn apply(&self, commit: &mut Commit, idx: usize, effect: Effect) {
        let tx_hash = self.tx_hashes(idx).id;
        match effect {
            Effect::Committed => unreachable!("transaction {idx} committed twice"),
            Effect::Panicked(payload) => commit.panic = Some(payload),
            Effect::Rejected(e) => match self.mode {
                ExecMode::Verify => commit.failed = Some((idx, e)),
                ExecMode::Propose => {
                    commit.out.dropped.push((tx_hash, e));
                    commit.included.push(false);
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            },
            Effect::Included(mut receipt, mut receipt_hash) => {
                let index = receipt_index(commit.out.receipts.len());
                if receipt.index != index {
                    receipt.index = index;
                    receipt_hash = self.hash.hash(&receipt.encode());
                }
                commit.seen.insert(tx_hash);
                commit.out.receipts.push(receipt);
                commit.out.tx_hashes.push(tx_hash);
                commit.receipt_hashes.push(receipt_hash);
                commit.included.push(true);
            }
        }
    }
}

#[cfg(test)]
mod tests;
