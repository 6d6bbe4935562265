//! Parallel block execution: Block-STM (Gelashvili et al., "Block-STM: Scaling Blockchain
//! Execution by Turning Ordering Curse to a Performance Blessing", 2022) with an in-order commit.
//!
//! Worker threads execute transactions optimistically against a multi-version memory that holds,
//! for every key, the value written by each transaction of the block. A transaction reading a
//! key sees the write of the highest lower transaction, or the block's base state. Every read is
//! recorded with the version (writer index, incarnation) it returned, and ranges with the list
//! of versions inside them; a transaction is valid while re-reading its read set returns the
//! same versions. Invalid transactions are aborted (their writes become `Estimate` markers, so
//! higher readers wait for them instead of reading a stale value) and re-executed, lowest index
//! first.
//!
//! The result is exactly the sequential executor's because transactions commit strictly in block
//! order, and a transaction commits only after its read set was validated once more while every
//! lower transaction was already committed: its reads then returned what the sequential
//! executor's would have, so (modules being deterministic) so did its writes, receipt and gas.
//! If that last validation fails, the committing thread re-executes it on the spot against the
//! final state. Whatever the speculative phase gets wrong therefore costs time, never
//! correctness. Admission is part of the transaction (nonce and access-control reads are in its
//! read set); the in-block duplicate check is settled at commit, where the set of included
//! hashes is known; receipt indexes are assigned at commit.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use meridian_types::{Hash32, HashFn, SignedTx};
use parking_lot::{Mutex, RwLock};

use crate::executor::TxEffect;
use crate::overlay::{range_through, StateRead, WriteSet};
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
    /// docs), whatever the block size. The outcome is identical to `execute_block`'s: same
    /// included and dropped transactions, receipts, writes and roots, the same `Err` in
    /// [`ExecMode::Verify`], and a module panic propagates (with its payload) exactly when the
    /// sequential executor would panic.
    ///
    /// Modules may be run speculatively on state the sequential executor never shows them;
    /// such runs are discarded, but a module that panics on them prints a panic message.
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
        let hashes: Vec<Hash32> = txs.iter().map(|t| t.hash(hash)).collect();
        // A transaction is a duplicate if an earlier copy was included. Assume it was (it
        // usually is); the commit checks the assumption and re-executes if it was wrong.
        let mut first = HashSet::with_capacity(n);
        let likely_duplicate: Vec<bool> = hashes.iter().map(|h| !first.insert(*h)).collect();
        let block = Block {
            exec: self,
            hash,
            auth,
            base,
            env,
            txs: &txs,
            hashes: &hashes,
            likely_duplicate,
            mode,
            mv: MvMemory::default(),
            sched: Scheduler::new(n),
            records: (0..n).map(|_| Mutex::new(None)).collect(),
            commit: Mutex::new(Commit::default()),
        };
        let workers = threads.clamp(1, n);
        let mut worker_panic = None;
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers).map(|_| s.spawn(|| block.work())).collect();
            for h in handles {
                if let Err(p) = h.join() {
                    worker_panic.get_or_insert(p);
                }
            }
        });
        if let Some(p) = worker_panic {
            resume_unwind(p);
        }
        let commit = block.commit.into_inner();
        if let Some(p) = commit.panic {
            resume_unwind(p);
        }
        if let Some(failure) = commit.failed {
            return Err(failure);
        }
        debug_assert_eq!(commit.next, n, "every transaction committed");
        let mut out = commit.out;
        out.txs = txs
            .into_iter()
            .zip(commit.included)
            .filter_map(|(tx, inc)| inc.then_some(tx))
            .collect();
        out.seal(hash, commit.writes);
        Ok(out)
    }
}

/// Incarnation number: how many times a transaction's execution was started over.
type Incarnation = u32;

/// One transaction's entry for a key in the multi-version memory.
enum Entry {
    /// Written (`None` deletes) by this incarnation.
    Write(Incarnation, Option<Vec<u8>>),
    /// The writer was aborted; it will probably write the key again.
    Estimate,
}

/// Where a read's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// No lower transaction wrote the key: the block's base state.
    Base,
    /// Written by (transaction, incarnation).
    Tx(usize, Incarnation),
}

enum Read {
    Key(Vec<u8>, Origin),
    /// A range read is a read of every key in `[start, end)`, present or not: it stays valid
    /// while the lower transactions' writes inside it are the same versions. (The base state is
    /// immutable, so the range's result is then the same too.)
    Range {
        start: Vec<u8>,
        end: Vec<u8>,
        versions: Vec<(Vec<u8>, usize, Incarnation)>,
    },
}

/// The latest write below some transaction.
enum Latest {
    Base,
    Value(usize, Incarnation, Option<Vec<u8>>),
    /// Blocked by this transaction's pending re-execution.
    Estimate(usize),
}

/// Key → (transaction index → entry). Ordered so ranges can be served.
#[derive(Default)]
struct MvMemory {
    data: RwLock<BTreeMap<Vec<u8>, BTreeMap<usize, Entry>>>,
}

fn latest_below(versions: &BTreeMap<usize, Entry>, idx: usize) -> Option<(usize, &Entry)> {
    versions.range(..idx).next_back().map(|(j, e)| (*j, e))
}

fn key_range<'a>(
    data: &'a BTreeMap<Vec<u8>, BTreeMap<usize, Entry>>,
    start: &'a [u8],
    end: &'a [u8],
) -> impl Iterator<Item = (&'a Vec<u8>, &'a BTreeMap<usize, Entry>)> + 'a {
    data.range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
}

impl MvMemory {
    fn read(&self, key: &[u8], idx: usize) -> Latest {
        let data = self.data.read();
        match data.get(key).and_then(|v| latest_below(v, idx)) {
            None => Latest::Base,
            Some((j, Entry::Write(inc, v))) => Latest::Value(j, *inc, v.clone()),
            Some((j, Entry::Estimate)) => Latest::Estimate(j),
        }
    }

    /// The writes below `idx` inside `[start, end)` (`start < end`), or the blocking
    /// transaction.
    #[allow(clippy::type_complexity)]
    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        idx: usize,
    ) -> Result<(WriteSet, Vec<(Vec<u8>, usize, Incarnation)>), usize> {
        let data = self.data.read();
        let mut writes = WriteSet::new();
        let mut versions = Vec::new();
        for (k, v) in key_range(&data, start, end) {
            match latest_below(v, idx) {
                None => {}
                Some((j, Entry::Write(inc, value))) => {
                    writes.insert(k.clone(), value.clone());
                    versions.push((k.clone(), j, *inc));
                }
                Some((j, Entry::Estimate)) => return Err(j),
            }
        }
        Ok((writes, versions))
    }

    /// Whether every read of transaction `idx` would return the same version now.
    fn validate(&self, idx: usize, reads: &[Read]) -> bool {
        let data = self.data.read();
        reads.iter().all(|r| match r {
            Read::Key(key, origin) => {
                match (data.get(key.as_slice()).and_then(|v| latest_below(v, idx)), origin) {
                    (None, Origin::Base) => true,
                    (Some((j, Entry::Write(inc, _))), Origin::Tx(oj, oinc)) => {
                        j == *oj && inc == oinc
                    }
                    _ => false,
                }
            }
            Read::Range {
                start,
                end,
                versions,
            } => {
                let mut expected = versions.iter();
                for (k, v) in key_range(&data, start, end) {
                    match latest_below(v, idx) {
                        None => {}
                        Some((j, Entry::Write(inc, _))) => match expected.next() {
                            Some((ek, ej, einc)) if ek == k && *ej == j && einc == inc => {}
                            _ => return false,
                        },
                        Some((_, Entry::Estimate)) => return false,
                    }
                }
                expected.next().is_none()
            }
        })
    }

    /// Publishes incarnation `inc` of transaction `idx`: its `writes`, replacing those of the
    /// previous incarnation (`previous`). Returns whether it wrote a key the previous one did
    /// not (then higher transactions that read the key from below must be revalidated).
    fn publish(
        &self,
        idx: usize,
        inc: Incarnation,
        writes: &WriteSet,
        previous: Option<&WriteSet>,
    ) -> bool {
        let mut data = self.data.write();
        let mut new_key = false;
        for (k, v) in writes {
            let versions = match data.get_mut(k.as_slice()) {
                Some(versions) => versions,
                None => data.entry(k.clone()).or_default(),
            };
            new_key |= versions.insert(idx, Entry::Write(inc, v.clone())).is_none();
        }
        for k in previous.into_iter().flat_map(|w| w.keys()) {
            if !writes.contains_key(k) {
                if let Some(versions) = data.get_mut(k.as_slice()).filter(|_| false) {
                    versions.remove(&idx);
                }
            }
        }
        new_key
    }

    /// Turns an aborted incarnation's writes into estimates.
    fn mark_estimates(&self, idx: usize, written: &WriteSet) {
        let mut data = self.data.write();
        for k in written.keys() {
            if let Some(e) = data.get_mut(k.as_slice()).and_then(|v| v.get_mut(&idx)) {
                *e = Entry::Estimate;
            }
        }
    }
}

/// What one incarnation of a transaction did.
enum Effect {
    Done(TxEffect),
    /// The module (or admission) panicked; re-raised if the transaction commits like this.
    Panicked(Box<dyn Any + Send>),
}

/// The last completed incarnation of a transaction.
struct Record {
    incarnation: Incarnation,
    /// The duplicate flag it ran with.
    duplicate: bool,
    reads: Vec<Read>,
    effect: Effect,
}

static EMPTY: WriteSet = WriteSet::new();

impl Record {
    fn writes(&self) -> &WriteSet {
        match &self.effect {
            Effect::Done(TxEffect::Included(i)) => &i.writes,
            _ => &EMPTY,
        }
    }
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
        match self.mv.read(key, self.idx) {
            Latest::Base => {
                self.reads
                    .borrow_mut()
                    .push(Read::Key(key.to_vec(), Origin::Base));
                self.base.get(key)
            }
            Latest::Value(j, inc, v) => {
                self.reads
                    .borrow_mut()
                    .push(Read::Key(key.to_vec(), Origin::Tx(j, inc)));
                v
            }
            Latest::Estimate(j) => {
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
        // Same early exit as `range_through`, which reads nothing in that case.
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
                // Exactly what the sequential executor's overlay computes from the same writes.
                range_through(&writes, self.base, start, end, limit, descending)
            }
            Err(j) => {
                self.blocked_by.set(Some(j));
                Vec::new()
            }
        }
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
    status: Vec<Mutex<(Incarnation, Status)>>,
    /// Transactions waiting for this one's re-execution.
    dependents: Vec<Mutex<Vec<usize>>>,
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
                .map(|_| Mutex::new((0, Status::ReadyToExecute)))
                .collect(),
            dependents: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
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
    seen: HashSet<Hash32>,
    out: BlockOutcome,
    writes: WriteSet,
    included: Vec<bool>,
    failed: Option<(usize, AdmissionError)>,
    panic: Option<Box<dyn Any + Send>>,
}

/// Everything the workers share.
struct Block<'a> {
    exec: &'a Executor,
    hash: &'a (dyn HashFn + Sync),
    auth: &'a (dyn TxAuthenticator + Sync),
    base: &'a (dyn StateRead + Sync),
    env: &'a BlockEnv,
    txs: &'a [SignedTx],
    hashes: &'a [Hash32],
    likely_duplicate: Vec<bool>,
    mode: ExecMode,
    mv: MvMemory,
    sched: Scheduler,
    records: Vec<Mutex<Option<Record>>>,
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

    /// Runs incarnation `inc` of transaction `idx` and publishes it, or `Err(j)` if it read a
    /// write of transaction `j` that is being re-executed.
    fn execute(&self, idx: usize, inc: Incarnation, duplicate: bool) -> Result<bool, usize> {
        let view = MvView {
            mv: &self.mv,
            base: self.base,
            idx,
            reads: RefCell::new(Vec::new()),
            blocked_by: Cell::new(None),
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.exec.apply_tx(
                self.hash,
                self.auth,
                &view,
                self.env,
                &self.txs[idx],
                &self.hashes[idx],
                duplicate,
            )
        }));
        if let Some(j) = view.blocked_by.get() {
            return Err(j);
        }
        let effect = match result {
            Ok(effect) => Effect::Done(effect),
            Err(payload) => Effect::Panicked(payload),
        };
        let record = Record {
            incarnation: inc,
            duplicate,
            reads: view.reads.into_inner(),
            effect,
        };
        let mut slot = self.records[idx].lock();
        let new_key = self
            .mv
            .publish(idx, inc, record.writes(), slot.as_ref().map(Record::writes));
        *slot = Some(record);
        Ok(new_key)
    }

    fn try_execute(&self, idx: usize, inc: Incarnation) -> Option<Task> {
        loop {
            match self.execute(idx, inc, self.likely_duplicate[idx]) {
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
            Some(r) if r.incarnation == inc => self.mv.validate(idx, &r.reads),
            // Superseded or committed.
            _ => true,
        };
        if valid || !self.sched.try_validation_abort(idx, inc) {
            return None;
        }
        if let Some(r) = &*self.records[idx].lock() {
            self.mv.mark_estimates(idx, r.writes());
        }
        self.sched.finish_validation_abort(idx)
    }

    /// Commits, in block order, every transaction whose last incarnation is still valid with
    /// all lower transactions committed; re-executes it first if it is not. One thread at a
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
            debug_assert_eq!(record.incarnation, inc);
            let duplicate = commit.seen.contains(&self.hashes[idx]);
            if record.duplicate == duplicate && self.mv.validate(idx, &record.reads) {
                status.1 = Status::Committed;
                let record = slot.take().expect("checked above");
                drop(slot);
                drop(status);
                self.apply(&mut commit, idx, record);
                commit.next += 1;
                self.sched.committed.store(commit.next, Ordering::Release);
                continue;
            }
            // Everything below `idx` is final, so running it again now reads the final state.
            *status = (inc + 1, Status::Executing);
            drop(status);
            self.mv.mark_estimates(idx, record.writes());
            drop(slot);
            self.sched.decrease_validation_idx(idx + 1);
            match self.execute(idx, inc + 1, duplicate) {
                Ok(new_key) => {
                    // Its own validation happens on the next turn of this loop.
                    let _ = self.sched.finish_execution(idx, inc + 1, new_key);
                }
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

    fn apply(&self, commit: &mut Commit, idx: usize, record: Record) {
        let tx_hash = self.hashes[idx];
        match record.effect {
            Effect::Panicked(payload) => commit.panic = Some(payload),
            Effect::Done(TxEffect::Rejected(e)) => match self.mode {
                ExecMode::Verify => commit.failed = Some((idx, e)),
                ExecMode::Propose => {
                    commit.out.dropped.push((tx_hash, e));
                    commit.included.push(false);
                }
            },
            Effect::Done(TxEffect::Included(included)) => {
                commit.seen.insert(tx_hash);
                let writes = commit.out.push_receipt(tx_hash, self.env.height, included);
                commit.writes.extend(writes);
                commit.included.push(true);
            }
        }
    }
}

#[cfg(test)]
mod tests;
