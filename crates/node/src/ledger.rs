//! The ledger: propose, verify, finalize, submit, query.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use meridian_crypto::{verify_batch, BatchItem, Domain, PublicKey, Suite};
use meridian_execution::{
    BlockEnv, ExecConfig, ExecMode, Executor, Module, StateRead, TxAuthenticator,
};
use meridian_mempool::{Admission, ChainView, Mempool, MempoolConfig, MempoolError, VerifiedSet};
use meridian_storage::{
    BlockCommit, CommitOutcome, PreparedState, StateProof, StorageError, Store,
};
use meridian_types::{
    decode_exact, Address, Block, ChainConfig, ChainId, Decode, Encode, Hash32, HashFn, Header,
    Receipt, SignedTx, ValidatorSet, CHAIN_CONFIG_KEY, MAX_BLOCK_TXS, VALIDATORS_KEY,
};

use crate::genesis::Genesis;
use crate::hash::ChainHash;
use crate::metrics::{BlockWork, Metrics};
use crate::notify::{Above, HeightNotify};

/// Why the ledger refused something. Stable codes via `code()`.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("invalid genesis: {0}")]
    Genesis(String),
    #[error("the stored chain was created from a different genesis")]
    GenesisMismatch,
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("parent block {0} is unknown")]
    UnknownParent(String),
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    #[error("not found")]
    NotFound,
    #[error("stored data does not decode: {0}")]
    Corrupt(String),
}

impl LedgerError {
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::Genesis(_) => "ledger.invalid_genesis",
            LedgerError::GenesisMismatch => "ledger.genesis_mismatch",
            LedgerError::Storage(e) => e.code(),
            LedgerError::UnknownParent(_) => "ledger.unknown_parent",
            LedgerError::InvalidBlock(_) => "ledger.invalid_block",
            LedgerError::NotFound => "ledger.not_found",
            LedgerError::Corrupt(_) => "ledger.corrupt",
        }
    }
}

/// Block limits applied by proposers (and checked by verifiers).
#[derive(Clone, Debug)]
pub struct LedgerConfig {
    pub max_block_txs: usize,
    pub max_block_bytes: usize,
    pub mempool: MempoolConfig,
    /// Parallel block execution: worker threads, and the block size from which they are used.
    /// Blocks execute to the same outcome either way; the default uses every available core
    /// for blocks of 64 transactions or more that contain contract calls (see
    /// [`Ledger::exec_config`]).
    pub exec: ExecConfig,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            max_block_txs: 10_000,
            max_block_bytes: 8 * 1024 * 1024,
            mempool: MempoolConfig::default(),
            exec: ExecConfig::default(),
        }
    }
}

/// A block executed but not yet final.
struct Pending {
    block: Block,
    state: Arc<PreparedState>,
    txs: Vec<(Hash32, Vec<u8>)>,
    receipts: Vec<(Hash32, Vec<u8>)>,
}

/// A state value with its proof and the finalized header it verifies against.
#[derive(Clone, Debug)]
pub struct StateQuery {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
    pub proof: StateProof,
    pub header: Header,
}

/// The node's application state machine. Cheap to share (`Arc` it).
pub struct Ledger {
    suite: Suite,
    hash: ChainHash,
    chain_id: ChainId,
    validators: Vec<PublicKey>,
    /// Genesis chain parameters (`epoch_blocks` never changes; the rest fall back to these on
    /// stores that predate `chain/config`).
    chain_config: ChainConfig,
    store: Store,
    executor: Executor,
    /// The contract module, also serving read-only queries.
    contracts: Arc<meridian_contract::ContractModule>,
    cfg: LedgerConfig,
    tx_domain: Domain,
    /// Timestamp of the latest finalized block (admission judges certificates at this time).
    tip_time_ms: std::sync::atomic::AtomicU64,
    /// Parsed sender keys (see [`Ledger::sender_key`]).
    sender_keys: Mutex<HashMap<Vec<u8>, PublicKey>>,
    pending: Mutex<HashMap<Hash32, Pending>>,
    /// Held while re-executing a peer's block: consensus and the finalizer can ask for the
    /// same block at once (a slow node receives the finalized block before its own check
    /// ended), and the second caller must wait and reuse the result, not execute it again.
    verifying: Mutex<()>,
    pool: Mutex<Mempool>,
    verified: Mutex<VerifiedSet>,
    genesis: Block,
    metrics: Metrics,
    finalized: HeightNotify,
}

/// CPU time of the calling thread, for the debug timings of block work (wall time alone cannot
/// tell work from waiting for a core).
fn thread_cpu_us() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000 + t.tv_nsec as u64 / 1_000
}

/// Wall and thread-CPU time of one block's work (propose, verify, commit).
struct WorkTimer {
    wall: std::time::Instant,
    cpu_us: u64,
}

impl WorkTimer {
    fn start() -> Self {
        Self {
            wall: std::time::Instant::now(),
            cpu_us: thread_cpu_us(),
        }
    }
    fn elapsed(&self) -> std::time::Duration {
        self.wall.elapsed()
    }
    /// Records the work in `metrics`; returns (wall ms, CPU ms) for the debug log.
    fn finish(&self, metrics: &Metrics, work: BlockWork) -> (u64, u64) {
        let took = self.wall.elapsed();
        metrics.record_work(work, took);
        (
            took.as_millis() as u64,
            (thread_cpu_us() - self.cpu_us) / 1000,
        )
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a ledger lock is a bug that already aborted that operation; the
    // data is still consistent because every mutation is a single insert/remove.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads through a prepared (possibly unfinalized) state, remembering the first storage error
/// so the caller can refuse to vote rather than execute on a partial view.
struct PreparedRead<'a> {
    state: Option<&'a Arc<PreparedState>>,
    store: &'a Store,
    /// Without `state`: the committed version every read sees; `None` reads the latest
    /// committed state at each read (which may move between two reads).
    version: Option<u64>,
    error: FirstError,
}

/// Most fuel the contract work of one proposed block may declare. Block limits count
/// transactions and bytes; a block of thousands of contract calls can take longer to execute
/// than a consensus view lasts, so every proposal and vote times out and the chain stops
/// (measured: `meridian bench --workload counter --rate 1000` stalled the devnet at 10,000-call
/// blocks). An honest proposer therefore also caps the declared fuel and the number of
/// contract transactions. (Not yet a validity rule: see the issue-5 note.)
const PROPOSER_BLOCK_FUEL: u64 = 5_000_000_000;
/// Most transactions with contract work in one proposed block (see [`PROPOSER_BLOCK_FUEL`]).
const PROPOSER_BLOCK_CONTRACT_TXS: usize = 1_000;
/// What an upload part (the last one compiles the module) or an interop delivery (which may run
/// a contract) counts against [`PROPOSER_BLOCK_FUEL`].
const UPLOAD_FUEL: u64 = 10_000_000;
const INTEROP_DELIVERY_FUEL: u64 = 100_000_000;

/// The fuel a transaction declares for contract execution (0 for native-only work).
fn declared_fuel(tx: &SignedTx) -> u64 {
    let call = &tx.body.call;
    match call.module.as_str() {
        meridian_contract::NAME => {
            match meridian_contract::ContractCall::decode(&call.method, &call.args) {
                Ok(meridian_contract::ContractCall::Upload { .. }) => UPLOAD_FUEL,
                Ok(
                    meridian_contract::ContractCall::Deploy { fuel, .. }
                    | meridian_contract::ContractCall::Call { fuel, .. }
                    | meridian_contract::ContractCall::Upgrade { fuel, .. },
                ) => fuel,
                Err(_) => 0,
            }
        }
        meridian_interop_module::NAME
            if matches!(
                call.method.as_str(),
                "recv_packet" | "acknowledge" | "timeout"
            ) =>
        {
            INTEROP_DELIVERY_FUEL
        }
        _ => 0,
    }
}

/// How many of `txs` (in order) fit the proposer's execution budget; at least one, so a single
/// expensive transaction is never stuck.
pub(crate) fn within_execution_budget(txs: &[SignedTx]) -> usize {
    let (mut fuel, mut heavy) = (0u64, 0usize);
    for (i, tx) in txs.iter().enumerate() {
        let f = declared_fuel(tx);
        if f > 0 {
            fuel = fuel.saturating_add(f);
            heavy += 1;
            if i > 0 && (fuel > PROPOSER_BLOCK_FUEL || heavy > PROPOSER_BLOCK_CONTRACT_TXS) {
                return i;
            }
        }
    }
    txs.len()
}

/// The first storage error a [`PreparedRead`] met; shared by parallel execution's threads.
#[derive(Default)]
struct FirstError(Mutex<Option<StorageError>>);

impl FirstError {
    fn borrow_mut(&self) -> MutexGuard<'_, Option<StorageError>> {
        lock(&self.0)
    }

    fn into_inner(self) -> Option<StorageError> {
        self.0.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

impl StateRead for PreparedRead<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let r = match (self.state, self.version) {
            (Some(s), _) => s.get(key),
            (None, Some(v)) => self.store.get_at(key, v),
            (None, None) => self.store.get_latest(key),
        };
        match r {
            Ok(v) => v,
            Err(e) => {
                self.error.borrow_mut().get_or_insert(e);
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
        if !meridian_execution::is_ordered_range(start, end) {
            return Vec::new();
        }
        let r = match (self.state, self.version) {
            (Some(s), _) => s.range(start, end, limit, descending),
            (None, Some(v)) => self.store.range_at(start, end, limit, descending, v),
            (None, None) => self.store.range_latest(start, end, limit, descending),
        };
        match r {
            Ok(v) => v,
            Err(e) => {
                self.error.borrow_mut().get_or_insert(e);
                Vec::new()
            }
        }
    }
}

struct Auth<'a> {
    ledger: &'a Ledger,
}

impl TxAuthenticator for Auth<'_> {
    fn authenticate(&self, tx: &SignedTx, tx_hash: &Hash32) -> bool {
        self.ledger.check_signature(tx, tx_hash)
    }
}

impl Ledger {
    /// Opens (or creates from `genesis`) the ledger stored under `dir`.
    pub fn open(dir: &Path, genesis: &Genesis, cfg: LedgerConfig) -> Result<Self, LedgerError> {
        let (chain_id, suite, validators) = genesis.parse()?;
        let chain_config = genesis.chain_config()?;
        let hash = ChainHash(suite);
        let store = Store::open(dir, hash.state_hash_kind())?;
        let writes = genesis.state_writes(suite, &validators)?;
        let genesis_block = match store.block(0)? {
            Some(raw) => {
                let b = Block::decode_untrusted(&raw)
                    .map_err(|e| LedgerError::Corrupt(e.to_string()))?;
                // Same genesis file ⇒ same genesis block and genesis state.
                if b != genesis.block(chain_id.clone(), b.header.state_root) {
                    return Err(LedgerError::GenesisMismatch);
                }
                for (k, v) in &writes {
                    if &store.get_at(k, 0)? != v {
                        return Err(LedgerError::GenesisMismatch);
                    }
                }
                b
            }
            None => {
                let state = store.prepare(None, 0, writes)?;
                let block = genesis.block(chain_id.clone(), state.root());
                store.commit(BlockCommit {
                    height: 0,
                    block_hash: block.hash(&hash),
                    block: block.encode(),
                    certificate: Vec::new(),
                    txs: Vec::new(),
                    receipts: Vec::new(),
                    state,
                })?;
                block
            }
        };
        let bank = Arc::new(meridian_bank::Bank) as Arc<dyn Module>;
        // Contracts send cross-chain calls through the interop module, which runs the
        // targets of incoming calls (and delivers acknowledgements) through the contract
        // module: the interop module holds the contract module weakly, so the pair is freed.
        let mut interop: Option<Arc<dyn Module>> = None;
        let contracts = Arc::new_cyclic(
            |contracts: &std::sync::Weak<meridian_contract::ContractModule>| {
                let runtime: std::sync::Weak<dyn meridian_interop_module::ContractRuntime> =
                    contracts.clone();
                let module: Arc<dyn Module> = Arc::new(
                    meridian_interop_module::InteropModule::new(suite).with_contracts(runtime),
                );
                interop = Some(module.clone());
                meridian_contract::ContractModule::new(
                    Arc::new(meridian_vm::Vm::new(meridian_vm::VmLimits::default())),
                    suite,
                    meridian_contract::Natives {
                        bank: bank.clone(),
                        interop: Some(module),
                    },
                )
            },
        );
        let interop = interop.ok_or_else(|| LedgerError::Corrupt("interop module".into()))?;
        let executor = Executor::new(vec![
            bank,
            Arc::new(meridian_notary::Notary),
            Arc::new(meridian_identity_module::IdentityModule::new(suite)),
            contracts.clone(),
            interop,
        ])
        .with_access(Arc::new(meridian_identity_module::IdentityAccess::new(
            suite,
        )));
        let tx_domain = crate::tx_domain(&chain_id);
        let height = store.latest_height().unwrap_or(0);
        let tip_time_ms = match store.block(height)? {
            Some(raw) => {
                Block::decode_untrusted(&raw)
                    .map_err(|e| LedgerError::Corrupt(e.to_string()))?
                    .header
                    .timestamp_ms
            }
            None => genesis.timestamp_ms,
        };
        Ok(Self {
            suite,
            hash,
            chain_id,
            validators,
            chain_config,
            store,
            executor,
            contracts,
            pool: Mutex::new(Mempool::new(cfg.mempool.clone())),
            verified: Mutex::new(VerifiedSet::new(cfg.mempool.max_txs.saturating_mul(2))),
            cfg,
            tx_domain,
            sender_keys: Mutex::new(HashMap::new()),
            tip_time_ms: std::sync::atomic::AtomicU64::new(tip_time_ms),
            pending: Mutex::new(HashMap::new()),
            verifying: Mutex::new(()),
            genesis: genesis_block,
            metrics: Metrics::new(Some(dir.to_path_buf())),
            finalized: HeightNotify::new(height),
        })
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }
    pub fn hasher(&self) -> ChainHash {
        self.hash
    }
    /// The genesis validators (the set in force is `members_at`).
    pub fn validators(&self) -> &[PublicKey] {
        &self.validators
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn genesis_block(&self) -> &Block {
        &self.genesis
    }
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Resolves with the finalized height once it exceeds `height` (woken by `finalize`).
    pub fn finalized_above(&self, height: u64) -> Above<'_> {
        self.finalized.above(height)
    }

    /// Verifies a transaction signature unless this node already did.
    fn check_signature(&self, tx: &SignedTx, tx_hash: &Hash32) -> bool {
        if lock(&self.verified).contains(tx_hash, &tx.signature) {
            return true;
        }
        let ok = self
            .sender_key(&tx.body.sender)
            .and_then(|pk| {
                // Only the canonical encoding: the sender's address is the hash of these bytes.
                if pk.as_bytes() != tx.body.sender.as_slice() {
                    return Err(meridian_crypto::CryptoError::InvalidPublicKey);
                }
                pk.verify_bytes(&self.tx_domain, &tx.body.encode(), &tx.signature)
            })
            .is_ok();
        if ok {
            lock(&self.verified).insert(*tx_hash, tx.signature.clone());
        }
        ok
    }

    /// Height of the latest finalized block.
    pub fn finalized_height(&self) -> u64 {
        self.store.latest_height().unwrap_or(0)
    }

    /// Runs contract `name`'s read-only `query` entry point on the latest finalized state
    /// with at most `fuel` fuel; returns the height it ran at and the outcome.
    ///
    /// One snapshot: the height is read once, and the env (height, block time) and every
    /// state read come from that height, even if blocks finalize while the query runs.
    pub fn contract_query(
        &self,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<(u64, meridian_vm::RunOutcome), LedgerError> {
        let height = self.finalized_height();
        let block = self.block(height)?.ok_or(LedgerError::NotFound)?;
        self.contract_query_on(&block, name, msg, fuel)
    }

    /// [`Ledger::contract_query`] on the committed state after `block`.
    pub(crate) fn contract_query_on(
        &self,
        block: &Block,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<(u64, meridian_vm::RunOutcome), LedgerError> {
        let read = PreparedRead {
            state: None,
            store: &self.store,
            version: Some(block.header.height),
            error: FirstError::default(),
        };
        let out = self.contracts.query(
            &read,
            &self.hash,
            &self.chain_id,
            block.header.height,
            block.header.timestamp_ms,
            name,
            msg,
            fuel,
        );
        if let Some(e) = read.error.into_inner() {
            return Err(e.into());
        }
        Ok((block.header.height, out))
    }

    /// How to execute `txs`: in parallel only when the block carries contract calls. Native
    /// calls (a bank transfer is a few microseconds) run 10–25 % slower through the parallel
    /// scheduler on a 2-core machine than sequentially (crates/execution/benches/parallel.rs),
    /// while contract calls are heavy enough to gain (1.6× on 2 cores).
    fn exec_config(&self, txs: &[SignedTx]) -> &ExecConfig {
        if txs
            .iter()
            .any(|t| t.body.call.module == meridian_contract::NAME)
        {
            &self.cfg.exec
        } else {
            &ExecConfig::SEQUENTIAL
        }
    }

    /// Latest finalized block.
    pub fn finalized_block(&self) -> Result<Block, LedgerError> {
        self.block(self.finalized_height())?
            .ok_or(LedgerError::NotFound)
    }

    /// Finalized block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, LedgerError> {
        match self.store.block(height)? {
            Some(raw) => Block::decode_untrusted(&raw)
                .map(Some)
                .map_err(|e| LedgerError::Corrupt(e.to_string())),
            None => Ok(None),
        }
    }

    /// Header of the finalized block at `height`, decoded without its transactions (state
    /// queries need only the header; decoding a full block per query cost more than the query).
    pub fn header(&self, height: u64) -> Result<Option<Header>, LedgerError> {
        Ok(self.header_and_tx_count(height)?.map(|(h, _)| h))
    }

    /// [`Self::header`] and how many transactions the block holds (read from the block's
    /// encoding, not decoded).
    pub fn header_and_tx_count(&self, height: u64) -> Result<Option<(Header, usize)>, LedgerError> {
        let Some(raw) = self.store.block(height)? else {
            return Ok(None);
        };
        let mut r = meridian_types::Reader::new(&raw);
        let corrupt = |e: meridian_types::CodecError| LedgerError::Corrupt(e.to_string());
        let header = Header::decode_from(&mut r).map_err(corrupt)?;
        let count = r.len(MAX_BLOCK_TXS, "block.txs").map_err(corrupt)?;
        Ok(Some((header, count)))
    }

    /// Admits a client or gossiped transaction into the mempool.
    pub fn submit(&self, raw: &[u8]) -> Result<Hash32, MempoolError> {
        let r = self.admit(raw);
        self.metrics.record_submit(&r);
        r
    }

    fn admit(&self, raw: &[u8]) -> Result<Hash32, MempoolError> {
        if raw.len() > meridian_types::MAX_TX_BYTES {
            return Err(MempoolError::Oversized(raw.len()));
        }
        let tx =
            SignedTx::decode_untrusted(raw).map_err(|e| MempoolError::Malformed(e.to_string()))?;
        let view = ChainView {
            chain_id: &self.chain_id,
            next_height: self.finalized_height() + 1,
        };
        let store = &self.store;
        let next_nonce = |a: &Address| read_nonce(store, a);
        let admission = Admission::new(tx, raw.len(), &self.hash);
        // Cheap checks under the pool lock, the signature outside it (other submitters and the
        // proposer keep using the pool meanwhile), then a re-checked insert.
        lock(&self.pool).check(&admission, &view, &next_nonce)?;
        if !self.check_signature(&admission.tx, &admission.tx_hash) {
            return Err(MempoolError::BadSignature);
        }
        self.authorize_committed(&admission)?;
        lock(&self.pool).insert_verified(admission, &view, &next_nonce)
    }

    /// Admits many transactions at once (a client batch or a gossip message), with the same
    /// outcome per transaction as [`Self::submit`] one by one, in input order. The cheap checks
    /// run under one pool lock, the signatures not yet verified are checked as one batch
    /// outside it (Ed25519 batch verification halves their cost), and a failed batch falls back
    /// to one-by-one checks so only the bad transactions are refused.
    pub fn submit_batch(&self, raws: &[Vec<u8>]) -> Vec<Result<Hash32, MempoolError>> {
        let view = ChainView {
            chain_id: &self.chain_id,
            next_height: self.finalized_height() + 1,
        };
        let store = &self.store;
        let next_nonce = |a: &Address| read_nonce(store, a);
        let mut results: Vec<Option<Result<Hash32, MempoolError>>> =
            raws.iter().map(|_| None).collect();
        let mut candidates: Vec<(usize, Admission)> = Vec::with_capacity(raws.len());
        {
            let pool = lock(&self.pool);
            for (i, raw) in raws.iter().enumerate() {
                if raw.len() > meridian_types::MAX_TX_BYTES {
                    results[i] = Some(Err(MempoolError::Oversized(raw.len())));
                    continue;
                }
                let tx = match SignedTx::decode_untrusted(raw) {
                    Ok(tx) => tx,
                    Err(e) => {
                        results[i] = Some(Err(MempoolError::Malformed(e.to_string())));
                        continue;
                    }
                };
                let admission = Admission::new(tx, raw.len(), &self.hash);
                match pool.check(&admission, &view, &next_nonce) {
                    Ok(()) => candidates.push((i, admission)),
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
        }
        let ok = self.check_signatures(&candidates);
        {
            let mut pool = lock(&self.pool);
            for ((i, admission), good) in candidates.into_iter().zip(ok) {
                results[i] = Some(if !good {
                    Err(MempoolError::BadSignature)
                } else {
                    match self.authorize_committed(&admission) {
                        Ok(()) => pool.insert_verified(admission, &view, &next_nonce),
                        Err(e) => Err(e),
                    }
                });
            }
        }
        results
            .into_iter()
            .map(|r| {
                let r = r.unwrap_or_else(|| Err(MempoolError::Malformed("not checked".into())));
                self.metrics.record_submit(&r);
                r
            })
            .collect()
    }

    /// Asks the chain's access control whether the signer may make this call, on the latest
    /// committed state at the latest block's time (execution asks again at its own block).
    fn authorize_committed(&self, a: &Admission) -> Result<(), MempoolError> {
        let state = PreparedRead {
            state: None,
            store: &self.store,
            version: None,
            error: FirstError::default(),
        };
        let tip = self.finalized_height();
        let time_ms = self.tip_time_ms.load(std::sync::atomic::Ordering::Relaxed);
        let env = BlockEnv {
            chain_id: self.chain_id.clone(),
            height: tip + 1,
            time_ms,
        };
        self.executor
            .authorize(&state, &env, &a.sender, &a.tx)
            .map(|_| ())
            .map_err(|d| MempoolError::Denied {
                code: d.code,
                message: d.message,
            })
    }

    /// The parsed public key of a sender, from a bounded cache: parsing an Ed25519 key
    /// decompresses a curve point, which costs about as much as half a verification, and
    /// senders send many transactions.
    fn sender_key(&self, raw: &[u8]) -> Result<PublicKey, meridian_crypto::CryptoError> {
        if let Some(k) = lock(&self.sender_keys).get(raw) {
            return Ok(k.clone());
        }
        let k = PublicKey::from_bytes(self.suite, raw)?;
        let mut cache = lock(&self.sender_keys);
        if cache.len() >= SENDER_KEY_CACHE {
            cache.clear();
        }
        cache.insert(raw.to_vec(), k.clone());
        Ok(k)
    }

    /// Which of `candidates` carry a valid signature (cache first, then one batch check).
    fn check_signatures(&self, candidates: &[(usize, Admission)]) -> Vec<bool> {
        let mut ok = vec![false; candidates.len()];
        let mut todo = Vec::new();
        {
            let verified = lock(&self.verified);
            for (j, (_, a)) in candidates.iter().enumerate() {
                if verified.contains(&a.tx_hash, &a.tx.signature) {
                    ok[j] = true;
                } else {
                    todo.push(j);
                }
            }
        }
        // Parse keys and signatures; one that does not parse is simply bad.
        let mut parsed = Vec::with_capacity(todo.len());
        for &j in &todo {
            let tx = &candidates[j].1.tx;
            // Only the canonical key encoding: the sender's address is the hash of these bytes.
            let Ok(key) = self.sender_key(&tx.body.sender) else {
                continue;
            };
            if key.as_bytes() != tx.body.sender.as_slice() {
                continue;
            }
            if let Ok(sig) = key.parse_signature(&tx.signature) {
                parsed.push((j, key, tx.body.encode(), sig));
            }
        }
        let items: Vec<BatchItem<'_>> = parsed
            .iter()
            .map(|(_, key, msg, sig)| BatchItem {
                public_key: key,
                msg,
                signature: sig,
            })
            .collect();
        if verify_batch(&mut rand::rng(), &self.tx_domain, &items) {
            for (j, ..) in &parsed {
                ok[*j] = true;
            }
        } else {
            for (j, key, msg, sig) in &parsed {
                ok[*j] = key.verify(&self.tx_domain, msg, sig).is_ok();
            }
        }
        let mut verified = lock(&self.verified);
        for (j, ..) in &parsed {
            if ok[*j] {
                let a = &candidates[*j].1;
                verified.insert(a.tx_hash, a.tx.signature.clone());
            }
        }
        ok
    }

    /// Block limits this node proposes with: (most transactions, most bytes) per block — its
    /// own configuration, capped by the chain parameters in the finalized state.
    pub fn block_limits(&self) -> (usize, usize) {
        let read = PreparedRead {
            state: None,
            store: &self.store,
            version: None,
            error: FirstError::default(),
        };
        self.limits_on(&read)
    }

    fn limits_on(&self, read: &PreparedRead<'_>) -> (usize, usize) {
        let chain = chain_config_in(read, self.chain_config);
        (
            self.cfg
                .max_block_txs
                .min(chain.max_block_txs as usize)
                .min(MAX_BLOCK_TXS),
            self.cfg.max_block_bytes.min(chain.max_block_bytes as usize),
        )
    }

    /// Blocks per consensus epoch (fixed at genesis).
    pub fn epoch_blocks(&self) -> u64 {
        self.chain_config.epoch_blocks
    }

    /// The validators of the epoch after block `height` (state after that block), and which of
    /// `candidates` may follow the chain as non-voting peers: in certificate mode those holding
    /// a registered, unrevoked, unexpired `consensus` certificate; on an open chain all of them.
    pub fn members_at(
        &self,
        height: u64,
        candidates: &[PublicKey],
    ) -> Result<(Vec<PublicKey>, Vec<PublicKey>), LedgerError> {
        use meridian_identity_module as idm;
        let get = |key: &[u8]| self.store.get_at(key, height);
        let raw = get(VALIDATORS_KEY)?
            .ok_or_else(|| LedgerError::Corrupt(format!("no validator set at {height}")))?;
        let set = ValidatorSet::decode_exact(&raw)
            .map_err(|e| LedgerError::Corrupt(format!("validator set at {height}: {e}")))?;
        let validators = set
            .0
            .iter()
            .map(|v| PublicKey::from_bytes(self.suite, &v.public_key))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LedgerError::Corrupt(format!("validator key at {height}: {e}")))?;
        let cert_mode = get(idm::MODE_KEY.as_bytes())?.is_some();
        // Certificates are judged at the block's time (only needed in certificate mode).
        let time_s = if cert_mode && !candidates.is_empty() {
            self.block(height)?
                .map_or(0, |b| b.header.timestamp_ms / 1000)
        } else {
            0
        };
        let mut followers = Vec::new();
        for key in candidates {
            if validators.contains(key) || followers.contains(key) {
                continue;
            }
            let admitted = !cert_mode || {
                let addr = self.address_of(key.as_bytes());
                match get(&idm::member_key(&addr))? {
                    None => false,
                    Some(raw) => idm::MemberRecord::decode_exact(&raw).is_ok_and(|m| {
                        meridian_identity::Certificate::from_der(&m.der).is_ok_and(|c| {
                            c.role().ok() == Some(meridian_identity::Role::Consensus)
                                && c.is_valid_at(time_s)
                                && get(&idm::revoked_key(&m.ca_id, c.serial().as_bytes()))
                                    .is_ok_and(|r| r.is_none())
                                && get(&idm::ca_key(&m.ca_id)).is_ok_and(|r| r.is_some())
                        })
                    }),
                }
            };
            if admitted {
                followers.push(key.clone());
            }
        }
        Ok((validators, followers))
    }

    /// Whether `tx_hash` waits in this node's mempool.
    pub fn is_pooled(&self, tx_hash: &Hash32) -> bool {
        lock(&self.pool).contains(tx_hash)
    }

    /// Number of pooled transactions.
    pub fn mempool_len(&self) -> usize {
        lock(&self.pool).len()
    }

    /// Resolves the state a child of `parent_hash` builds on.
    fn parent_state(
        &self,
        parent_hash: &Hash32,
    ) -> Result<(Header, Option<Arc<PreparedState>>), LedgerError> {
        // The committed tip wins over any speculative copy of the same block: children must be
        // prepared on the state object storage actually committed.
        let tip = self.finalized_height();
        if self.store.block_hash(tip)? == Some(*parent_hash) {
            let b = self.block(tip)?.ok_or(LedgerError::NotFound)?;
            return Ok((b.header, None));
        }
        if let Some(p) = lock(&self.pending).get(parent_hash) {
            if p.block.header.height <= tip {
                return Err(LedgerError::InvalidBlock(
                    "parent is on a branch that lost to the finalized chain".into(),
                ));
            }
            return Ok((p.block.header.clone(), Some(p.state.clone())));
        }
        if self.store.height_of(parent_hash)?.is_some() {
            return Err(LedgerError::InvalidBlock(
                "parent is finalized but not the tip: the block forks the finalized chain".into(),
            ));
        }
        Err(LedgerError::UnknownParent(hex::encode(parent_hash)))
    }

    /// Builds, executes and remembers a new block on `parent_hash`.
    pub fn propose(
        &self,
        parent_hash: &Hash32,
        view: u64,
        proposer: &[u8],
        now_ms: u64,
    ) -> Result<Block, LedgerError> {
        let started = WorkTimer::start();
        let (parent, state) = self.parent_state(parent_hash)?;
        // On the committed tip, read exactly the parent's version: a later block may be
        // committed while this one executes, and "latest" would then include it.
        let read = PreparedRead {
            state: state.as_ref(),
            store: &self.store,
            version: state.is_none().then_some(parent.height),
            error: FirstError::default(),
        };
        let (max_txs, max_bytes) = self.limits_on(&read);
        let mut candidates =
            lock(&self.pool).select(max_txs, max_bytes, |a| Executor::next_nonce(&read, a));
        candidates.truncate(within_execution_budget(&candidates));
        let selected = started.elapsed();
        let env = BlockEnv {
            chain_id: self.chain_id.clone(),
            height: parent.height + 1,
            time_ms: now_ms.max(parent.timestamp_ms),
        };
        let auth = Auth { ledger: self };
        let out = self
            .executor
            .execute_block_with(
                self.exec_config(&candidates),
                &self.hash,
                &auth,
                &read,
                &env,
                candidates,
                ExecMode::Propose,
            )
            .map_err(|(i, e)| LedgerError::InvalidBlock(format!("tx {i}: {e}")))?;
        if let Some(e) = read.error.into_inner() {
            return Err(e.into());
        }
        let executed = started.elapsed();
        let writes: Vec<_> = out.writes.into_iter().collect();
        let new_state = self.store.prepare(state.as_ref(), env.height, writes)?;
        let prepared = started.elapsed();
        let block = Block {
            header: Header {
                chain_id: self.chain_id.clone(),
                height: env.height,
                parent: *parent_hash,
                timestamp_ms: env.time_ms,
                view,
                proposer: proposer.to_vec(),
                tx_root: out.tx_root,
                receipts_root: out.receipts_root,
                state_root: new_state.root(),
            },
            txs: out.txs,
        };
        self.remember(&block, new_state, &out.tx_hashes, &out.receipts);
        let (ms, cpu_ms) = started.finish(&self.metrics, BlockWork::Propose);
        tracing::debug!(
            height = env.height,
            txs = block.txs.len(),
            ms,
            cpu_ms,
            select_ms = selected.as_millis() as u64,
            exec_ms = (executed - selected).as_millis() as u64,
            root_ms = (prepared - executed).as_millis() as u64,
            "proposed"
        );
        Ok(block)
    }

    fn remember(
        &self,
        block: &Block,
        state: Arc<PreparedState>,
        hashes: &[Hash32],
        receipts: &[Receipt],
    ) {
        let txs = hashes
            .iter()
            .copied()
            .zip(block.txs.iter().map(|t| t.encode()))
            .collect();
        let receipts = hashes
            .iter()
            .copied()
            .zip(receipts.iter().map(|r| r.encode()))
            .collect();
        // First writer wins: concurrent verifications of one block must leave exactly one state
        // object, because children are prepared on top of that object.
        lock(&self.pending)
            .entry(block.hash(&self.hash))
            .or_insert(Pending {
                block: block.clone(),
                state,
                txs,
                receipts,
            });
    }

    /// Re-executes a peer's block on its parent and accepts it only if every root matches.
    pub fn verify(&self, block: &Block) -> Result<(), LedgerError> {
        let hash = block.hash(&self.hash);
        let executed = || -> Result<bool, LedgerError> {
            Ok(lock(&self.pending).contains_key(&hash)
                || self.store.block_hash(block.header.height)? == Some(hash))
        };
        if executed()? {
            return Ok(()); // already executed, or already final
        }
        let _one_at_a_time = lock(&self.verifying);
        if executed()? {
            return Ok(()); // another caller executed it meanwhile
        }
        let started = WorkTimer::start();
        let invalid = |m: String| Err(LedgerError::InvalidBlock(m));
        let (parent, state) = self.parent_state(&block.header.parent)?;
        let h = &block.header;
        if h.chain_id != self.chain_id {
            return invalid(format!("chain id {}", h.chain_id));
        }
        if h.height != parent.height + 1 {
            return invalid(format!("height {} on parent {}", h.height, parent.height));
        }
        if h.timestamp_ms < parent.timestamp_ms {
            return invalid("timestamp before parent".into());
        }
        // On the committed tip, read exactly the parent's version: a later block may be
        // committed while this one executes, and "latest" would then include it.
        let read = PreparedRead {
            state: state.as_ref(),
            store: &self.store,
            version: state.is_none().then_some(parent.height),
            error: FirstError::default(),
        };
        // The chain's limit as of the parent (a parameter change applies from the next block).
        let chain = chain_config_in(&read, self.chain_config);
        if block.txs.len() > (chain.max_block_txs as usize).min(MAX_BLOCK_TXS) {
            return invalid(format!("{} transactions", block.txs.len()));
        }
        let env = BlockEnv {
            chain_id: self.chain_id.clone(),
            height: h.height,
            time_ms: h.timestamp_ms,
        };
        let auth = Auth { ledger: self };
        let out = self
            .executor
            .execute_block_with(
                self.exec_config(&block.txs),
                &self.hash,
                &auth,
                &read,
                &env,
                block.txs.clone(),
                ExecMode::Verify,
            )
            .map_err(|(i, e)| LedgerError::InvalidBlock(format!("tx {i}: {} ({e})", e.code())))?;
        if let Some(e) = read.error.into_inner() {
            return Err(e.into());
        }
        if out.tx_root != h.tx_root {
            return invalid("tx_root mismatch".into());
        }
        if out.receipts_root != h.receipts_root {
            return invalid("receipts_root mismatch".into());
        }
        let executed = started.elapsed();
        let writes: Vec<_> = out.writes.into_iter().collect();
        let new_state = self.store.prepare(state.as_ref(), h.height, writes)?;
        if new_state.root() != h.state_root {
            return invalid("state_root mismatch".into());
        }
        self.remember(block, new_state, &out.tx_hashes, &out.receipts);
        let (ms, cpu_ms) = started.finish(&self.metrics, BlockWork::Verify);
        tracing::debug!(
            height = h.height,
            txs = block.txs.len(),
            ms,
            cpu_ms,
            exec_ms = executed.as_millis() as u64,
            "verified"
        );
        Ok(())
    }

    /// Persists a finalized block with its certificate. Idempotent: consensus may redeliver.
    pub fn finalize(&self, block: &Block, certificate: Vec<u8>) -> Result<(), LedgerError> {
        let hash = block.hash(&self.hash);
        let height = block.header.height;
        if let Some(latest) = self.store.latest_height() {
            if height <= latest {
                return match self.store.block_hash(height)? {
                    Some(h) if h == hash => Ok(()),
                    _ => Err(LedgerError::InvalidBlock(format!(
                        "finalized block at {height} conflicts with the stored one"
                    ))),
                };
            }
        }
        if !lock(&self.pending).contains_key(&hash) {
            self.verify(block)?;
        }
        let started = WorkTimer::start();
        // Keep the speculative entry in place until the commit is durable, so a concurrent
        // verification of a child always finds its parent (pending or committed), never a gap
        // in which it would re-execute the parent into a second state object.
        let (state, txs, receipts) = {
            let mut pending = lock(&self.pending);
            let p = pending.get_mut(&hash).ok_or(LedgerError::NotFound)?;
            (
                p.state.clone(),
                std::mem::take(&mut p.txs),
                std::mem::take(&mut p.receipts),
            )
        };
        let encoded = block.encode();
        let bytes = encoded.len();
        let store_started = std::time::Instant::now();
        let outcome = self.store.commit(BlockCommit {
            height,
            block_hash: hash,
            block: encoded,
            certificate,
            txs,
            receipts,
            state,
        })?;
        let stored = store_started.elapsed();
        if outcome == CommitOutcome::Committed {
            self.metrics
                .record_finalized(block.header.timestamp_ms, block.txs.len(), bytes);
        }
        self.tip_time_ms.fetch_max(
            block.header.timestamp_ms,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.finalized.publish(height);
        lock(&self.pending).retain(|_, p| p.block.header.height > height);
        let store = &self.store;
        let touched = block
            .txs
            .iter()
            .map(|t| Address::from_public_key(&self.hash, &t.body.sender))
            .collect();
        lock(&self.pool).prune(height + 1, &touched, |a| read_nonce(store, a));
        let (ms, cpu_ms) = started.finish(&self.metrics, BlockWork::Commit);
        tracing::debug!(
            height,
            txs = block.txs.len(),
            ms,
            cpu_ms,
            store_ms = stored.as_millis() as u64,
            "committed"
        );
        Ok(())
    }

    /// Finalization certificate stored with block `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.store.certificate(height)?)
    }

    /// Receipt of a finalized transaction.
    pub fn receipt(&self, tx_hash: &Hash32) -> Result<Option<Receipt>, LedgerError> {
        match self.store.receipt(tx_hash)? {
            Some(raw) => decode_exact(&raw)
                .map(Some)
                .map_err(|e| LedgerError::Corrupt(e.to_string())),
            None => Ok(None),
        }
    }

    /// A state value with its proof against the finalized header at `height` (latest if None).
    pub fn query(&self, key: &[u8], height: Option<u64>) -> Result<StateQuery, LedgerError> {
        let height = height.unwrap_or_else(|| self.finalized_height());
        let header = self.header(height)?.ok_or(LedgerError::NotFound)?;
        let (value, proof) = self.store.get_with_proof(key, height)?;
        Ok(StateQuery {
            key: key.to_vec(),
            value,
            proof,
            header,
        })
    }

    /// A state value at finalized `height`, without a proof (the node's word).
    pub fn value_at(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>, LedgerError> {
        if height > self.finalized_height() {
            return Err(LedgerError::NotFound);
        }
        Ok(self.store.get_at(key, height)?)
    }

    /// The next nonce of `addr` in the finalized state.
    pub fn next_nonce(&self, addr: &Address) -> u64 {
        read_nonce(&self.store, addr)
    }

    /// The address of a public key on this chain.
    pub fn address_of(&self, public_key: &[u8]) -> Address {
        Address::from_public_key(&self.hash, public_key)
    }

    /// Hash of a header or tx on this chain.
    pub fn hash(&self, data: &[u8]) -> Hash32 {
        self.hash.hash(data)
    }
}

/// The chain parameters in `read`'s state (`fallback` — the genesis values — on stores written
/// before `chain/config` existed).
fn chain_config_in(read: &PreparedRead<'_>, fallback: ChainConfig) -> ChainConfig {
    read.get(CHAIN_CONFIG_KEY)
        .and_then(|raw| ChainConfig::decode_exact(&raw).ok())
        .unwrap_or(fallback)
}

/// Most parsed sender keys kept (cleared when full).
const SENDER_KEY_CACHE: usize = 65_536;

fn read_nonce(store: &Store, a: &Address) -> u64 {
    let read = PreparedRead {
        state: None,
        store,
        version: None,
        error: FirstError::default(),
    };
    Executor::next_nonce(&read, a)
}

#[cfg(test)]
mod ordered_prefix_tests {
    /// Storage indexes exactly the key spaces execution lets contracts range over.
    #[test]
    fn storage_and_execution_agree_on_ordered_prefixes() {
        assert_eq!(
            meridian_storage::ORDERED_PREFIXES,
            meridian_execution::ORDERED_PREFIXES
        );
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;
    use meridian_types::{ChainId, TxBody};

    fn tx(call: meridian_types::Call) -> SignedTx {
        SignedTx {
            body: TxBody {
                chain_id: ChainId::new("budget").unwrap(),
                sender: vec![1; 33],
                nonce: 0,
                expiry_height: 1,
                call,
            },
            signature: Vec::new(),
        }
    }

    fn contract(fuel: u64) -> SignedTx {
        tx(meridian_contract::ContractCall::Call {
            name: "counter".into(),
            msg: b"{}".to_vec(),
            fuel,
        }
        .into_call())
    }

    /// A proposer never packs more declared contract fuel, or more contract transactions, than
    /// a block can execute within a consensus view; native transactions are not limited here.
    #[test]
    fn proposals_are_capped_by_declared_contract_work() {
        let heavy: Vec<_> = (0..10).map(|_| contract(1_000_000_000)).collect();
        assert_eq!(within_execution_budget(&heavy), 5);
        let cheap: Vec<_> = (0..3_000).map(|_| contract(75_000)).collect();
        assert_eq!(within_execution_budget(&cheap), PROPOSER_BLOCK_CONTRACT_TXS);
        // One transaction over the whole budget still goes alone.
        assert_eq!(within_execution_budget(&[contract(u64::MAX)]), 1);
        let native: Vec<_> = (0..5_000)
            .map(|_| {
                tx(meridian_types::Call {
                    module: "bank".into(),
                    method: "transfer".into(),
                    args: Vec::new(),
                })
            })
            .collect();
        assert_eq!(within_execution_budget(&native), 5_000);
        let mut mixed = native[..10].to_vec();
        mixed.extend(heavy.iter().cloned());
        assert_eq!(within_execution_budget(&mixed), 15);
    }
}
