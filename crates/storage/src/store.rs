//! The fjall-backed store: blocks, certificates, transactions, receipts and the JMT state.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use jmt::storage::{Node, NodeKey};
use jmt::{JellyfishMerkleTree, KeyHash, SimpleHasher};
use parking_lot::{Mutex, RwLock};

use crate::codec::{self, meta};
use crate::ordered::{self, Committed, OrderedWrites, RangeEntries};
use crate::proof::StateProof;
use crate::state::{self, Layer, LayeredReader, PreparedState, Start};
use crate::{HashKind, Sha256Hasher, Sm3Hasher, StorageError};

/// Everything needed to persist one finalized block.
pub struct BlockCommit {
    /// Block height (= JMT version of `state`).
    pub height: u64,
    /// Hash of the block (header) as defined by the types crate.
    pub block_hash: [u8; 32],
    /// Encoded block.
    pub block: Vec<u8>,
    /// Encoded finalization certificate (may be empty for genesis).
    pub certificate: Vec<u8>,
    /// `(tx hash, encoded tx)` in block order; the position is the tx index.
    pub txs: Vec<([u8; 32], Vec<u8>)>,
    /// `(tx hash, encoded receipt)`.
    pub receipts: Vec<([u8; 32], Vec<u8>)>,
    /// The state after executing the block, from [`Store::prepare`].
    pub state: Arc<PreparedState>,
}

/// What [`Store::commit`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The block was persisted now.
    Committed,
    /// The height was already committed with the same block hash (at-least-once redelivery);
    /// nothing was written.
    AlreadyCommitted,
}

/// A stored transaction and where it was included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTx {
    /// Encoded transaction.
    pub bytes: Vec<u8>,
    /// Height of the including block.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
}

pub(crate) struct Keyspaces {
    blocks: Keyspace,
    block_heights: Keyspace,
    certificates: Keyspace,
    transactions: Keyspace,
    receipts: Keyspace,
    jmt_nodes: Keyspace,
    jmt_values: Keyspace,
    /// key hash → newest committed version and value: a point read for the common "value now"
    /// question instead of a reverse range scan over `jmt_values`.
    latest_values: Keyspace,
    /// Key-ordered, versioned index of the keys under
    /// [`ORDERED_PREFIXES`](crate::ORDERED_PREFIXES) (layout in the `ordered` module). Stores
    /// created before it existed open with it empty, which is complete: nothing wrote such keys
    /// before.
    ordered: Keyspace,
    meta: Keyspace,
}

#[derive(Default)]
struct Chain {
    /// Latest committed `(height, root)`.
    latest: Option<(u64, [u8; 32])>,
    /// Id of the prepared state committed last by this instance.
    last_committed_state: Option<u64>,
}

pub(crate) struct Inner {
    pub(crate) id: u64,
    pub(crate) kind: HashKind,
    db: Database,
    ks: Keyspaces,
    /// Latest committed height; written only by `commit` after its batch is durable.
    chain: RwLock<Chain>,
    /// Serializes `commit` without blocking readers of `chain` during the fsync.
    commit_lock: Mutex<()>,
    poisoned: AtomicBool,
    next_state_id: AtomicU64,
    /// Newest committed (version, encoded value) of recently read or written keys; `None`
    /// records a key never written. See [`HotValues`].
    hot: Mutex<HotValues>,
}

/// An in-memory front of `latest_values`: a loaded node reads the same senders' nonces and
/// balances for admission, proposal and verification, and fjall memtable lookups were ~13 %
/// of its CPU.
///
/// Never stale: `commit` updates every cached key it writes (under the commit lock, after the
/// batch is durable), and a read miss inserts only if the key is still absent, so a value read
/// from fjall before a concurrent commit can never overwrite the newer one the commit put in.
/// Entries are never dropped (dropping could let such a late insert back in); when full, misses
/// are simply not cached.
#[derive(Default)]
pub(crate) struct HotValues {
    map: std::collections::HashMap<[u8; 32], Option<(u64, Vec<u8>)>>,
}

/// Most keys in [`HotValues`].
const HOT_VALUES: usize = 262_144;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

impl Inner {
    pub(crate) fn committed_node(&self, key: &NodeKey) -> Result<Option<Node>, StorageError> {
        match self.ks.jmt_nodes.get(codec::node_key(key)?)? {
            Some(bytes) => Ok(Some(codec::decode_node(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Newest value of `key_hash` at a version `<= max_version` (committed data only).
    pub(crate) fn committed_value(
        &self,
        max_version: u64,
        key_hash: KeyHash,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let cached = self.hot.lock().map.get(&key_hash.0).cloned();
        let newest = match cached {
            Some(entry) => entry,
            None => {
                let entry = match self.ks.latest_values.get(key_hash.0)? {
                    None => None,
                    Some(raw) => {
                        let (version, value) = codec::split_latest(&raw)?;
                        Some((version, value.to_vec()))
                    }
                };
                let mut hot = self.hot.lock();
                if hot.map.len() < HOT_VALUES {
                    hot.map.entry(key_hash.0).or_insert_with(|| entry.clone());
                }
                entry
            }
        };
        match newest {
            // Never written.
            None => return Ok(None),
            // The newest version is the answer whenever the reader's bound includes it;
            // older bounds (historical reads, a commit racing this read) scan below.
            Some((version, value)) if version <= max_version => {
                return codec::decode_value(&value);
            }
            Some(_) => {}
        }
        let lo = codec::value_key(&key_hash, 0);
        let hi = codec::value_key(&key_hash, max_version);
        match self.ks.jmt_values.range(lo..=hi).next_back() {
            None => Ok(None),
            Some(guard) => codec::decode_value(&guard.value()?),
        }
    }

    /// Range read: `local` (prepared layers' ordered writes in `[start, end)`, `None` deletes)
    /// merged over the committed index as of `bound` (`None`: nothing committed to read).
    pub(crate) fn range_at_bound(
        &self,
        local: OrderedWrites,
        start: &[u8],
        end: &[u8],
        bound: Option<u64>,
        limit: usize,
        descending: bool,
    ) -> Result<RangeEntries, StorageError> {
        let committed = bound.map(|bound| {
            Committed::new(
                &self.ks.ordered,
                start,
                end,
                bound,
                descending,
                ordered::RESEEK_AFTER,
            )
        });
        ordered::merge(local, committed, limit, descending)
    }

    fn latest(&self) -> Option<(u64, [u8; 32])> {
        self.chain.read().latest
    }

    fn check_committed(&self, version: u64) -> Result<(), StorageError> {
        let latest = self.latest().map(|(h, _)| h);
        match latest {
            Some(l) if version <= l => Ok(()),
            _ => Err(StorageError::VersionNotCommitted { version, latest }),
        }
    }
}

/// The node's persistent store. Cheap to clone (shared handle).
///
/// See the [crate docs](crate) for the model and an example.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.inner.kind)
            .field("latest_height", &self.latest_height())
            .finish()
    }
}

/// Fills `latest_values` from `jmt_values` (stores written before the index existed). Values
/// are sorted by key hash, then version, so the last entry of each key hash is its newest.
/// The marker is written last: a crash midway redoes the (idempotent) work on the next open.
fn build_latest_index(db: &Database, ks: &Keyspaces) -> Result<(), StorageError> {
    let mut batch = db.batch().durability(Some(PersistMode::SyncAll));
    let mut pending = 0usize;
    let mut current: Option<([u8; 32], Vec<u8>)> = None;
    for guard in ks.jmt_values.iter() {
        let (k, v) = guard.into_inner()?;
        if k.len() != 40 {
            return Err(StorageError::Corrupt("jmt value key length".into()));
        }
        let mut key_hash = [0u8; 32];
        key_hash.copy_from_slice(&k[..32]);
        if let Some((prev, entry)) = current.take() {
            if prev != key_hash {
                batch.insert(&ks.latest_values, prev, entry);
                pending += 1;
            }
        }
        let version = codec::decode_u64(&k[32..], "jmt value version")?;
        current = Some((key_hash, codec::encode_latest(version, &v)));
        if pending >= 10_000 {
            batch.commit()?;
            batch = db.batch().durability(Some(PersistMode::SyncAll));
            pending = 0;
        }
    }
    if let Some((prev, entry)) = current {
        batch.insert(&ks.latest_values, prev, entry);
    }
    batch.insert(&ks.meta, meta::LATEST_INDEX, [1]);
    batch.commit()?;
    Ok(())
}

fn keyspace(db: &Database, name: &str) -> Result<Keyspace, StorageError> {
    Ok(db.keyspace(name, KeyspaceCreateOptions::default)?)
}

impl Store {
    /// Opens (or creates) the store at `path` for the chain's hash suite.
    ///
    /// The suite is recorded on first open; opening an existing store with another suite fails
    /// with `storage.hash_kind_mismatch` (its roots would be meaningless).
    pub fn open(path: impl AsRef<Path>, kind: HashKind) -> Result<Store, StorageError> {
        let db = Database::builder(path.as_ref()).open()?;
        let ks = Keyspaces {
            blocks: keyspace(&db, "blocks")?,
            block_heights: keyspace(&db, "block_heights")?,
            certificates: keyspace(&db, "certificates")?,
            transactions: keyspace(&db, "transactions")?,
            receipts: keyspace(&db, "receipts")?,
            jmt_nodes: keyspace(&db, "jmt_nodes")?,
            jmt_values: keyspace(&db, "jmt_values")?,
            latest_values: keyspace(&db, "latest_values")?,
            ordered: keyspace(&db, "ordered")?,
            meta: keyspace(&db, "meta")?,
        };

        match ks.meta.get(meta::HASH_KIND)? {
            Some(tag) => {
                let stored = match *tag {
                    [t] => HashKind::from_tag(t),
                    _ => None,
                }
                .ok_or_else(|| StorageError::Corrupt("meta hash_kind".into()))?;
                if stored != kind {
                    return Err(StorageError::kind_mismatch(stored, kind));
                }
                match ks.meta.get(meta::FORMAT)? {
                    Some(f) if *f == meta::FORMAT_V1 => {}
                    _ => return Err(StorageError::Corrupt("unknown on-disk format".into())),
                }
            }
            None => {
                let mut batch = db.batch().durability(Some(PersistMode::SyncAll));
                batch.insert(&ks.meta, meta::FORMAT, meta::FORMAT_V1);
                batch.insert(&ks.meta, meta::HASH_KIND, [kind.tag()]);
                batch.insert(&ks.meta, meta::LATEST_INDEX, [1]);
                batch.commit()?;
            }
        }
        if ks.meta.get(meta::LATEST_INDEX)?.is_none() {
            build_latest_index(&db, &ks)?;
        }

        let latest = match ks.meta.get(meta::LATEST)? {
            None => None,
            Some(h) => {
                let height = codec::decode_u64(&h, "meta latest")?;
                let root = ks
                    .meta
                    .get(meta::at(meta::ROOT, height))?
                    .ok_or_else(|| StorageError::Corrupt("missing root of latest height".into()))?;
                Some((height, codec::decode_hash(&root, "meta root")?))
            }
        };

        Ok(Store {
            inner: Arc::new(Inner {
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                kind,
                db,
                ks,
                chain: RwLock::new(Chain {
                    latest,
                    last_committed_state: None,
                }),
                commit_lock: Mutex::new(()),
                hot: Mutex::new(HotValues::default()),
                poisoned: AtomicBool::new(false),
                next_state_id: AtomicU64::new(1),
            }),
        })
    }

    /// The hash suite this store was opened with.
    pub fn hash_kind(&self) -> HashKind {
        self.inner.kind
    }

    /// `true` after a failed write: the instance refuses writes; the node must stop.
    pub fn is_poisoned(&self) -> bool {
        self.inner.poisoned.load(Ordering::Acquire)
    }

    /// Computes the state after a block **without persisting it**.
    ///
    /// * `parent = None`: build on committed state; `version` must be the next height (0 on an
    ///   empty store, `latest + 1` otherwise).
    /// * `parent = Some(p)`: build on `p`, which may itself be unfinalized (pipelining) and need
    ///   not be committed yet; `version` must be `p.version() + 1`.
    ///
    /// `writes` are `(key, Some(value))` to set and `(key, None)` to delete; if a key appears
    /// more than once the last write wins. An empty write set is allowed (the root is carried
    /// over unchanged).
    pub fn prepare(
        &self,
        parent: Option<&Arc<PreparedState>>,
        version: u64,
        writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<Arc<PreparedState>, StorageError> {
        let inner = &self.inner;
        if self.is_poisoned() {
            return Err(StorageError::Poisoned);
        }
        let expected = match parent {
            Some(p) => {
                if p.store.id != inner.id {
                    return Err(StorageError::ForeignState);
                }
                p.version
                    .checked_add(1)
                    .ok_or(StorageError::TooLarge("version overflow"))?
            }
            None => match inner.latest() {
                None => 0,
                Some((h, _)) => h
                    .checked_add(1)
                    .ok_or(StorageError::TooLarge("version overflow"))?,
            },
        };
        if version != expected {
            return Err(StorageError::InvalidVersion {
                expected,
                got: version,
            });
        }

        // Hash keys with the suite hash; last write wins. Keys under an ordered prefix are
        // also kept by raw key for the ordered index (others cost one prefix compare).
        let mut set: BTreeMap<KeyHash, Option<Vec<u8>>> = BTreeMap::new();
        let mut ordered_writes: OrderedWrites = BTreeMap::new();
        for (key, value) in writes {
            let key_hash = KeyHash(inner.kind.hash(&key));
            if ordered::is_ordered(&key) {
                ordered_writes.insert(key, value.clone());
            }
            set.insert(key_hash, value);
        }

        let reader = LayeredReader {
            store: inner,
            top: parent.map(|p| p.as_ref()),
            committed: version.checked_sub(1),
        };
        let (root, update) = match inner.kind {
            HashKind::Sm3 => put::<Sm3Hasher>(&reader, set, version)?,
            HashKind::Sha256 => put::<Sha256Hasher>(&reader, set, version)?,
        };

        Ok(Arc::new(PreparedState {
            store: Arc::clone(inner),
            id: inner.next_state_id.fetch_add(1, Ordering::Relaxed),
            version,
            root,
            parent: Mutex::new(parent.cloned()),
            layer: RwLock::new(Some(Arc::new(Layer {
                batch: update.node_batch,
                ordered: ordered_writes,
            }))),
        }))
    }

    /// Persists a finalized block and its state in one atomic, fsynced write.
    ///
    /// Checks, in order: the store is not poisoned; a height that is already committed with the
    /// same block hash returns `Ok(AlreadyCommitted)` (consensus delivers at least once), with a
    /// different hash `storage.conflicting_commit`; otherwise the height must be the next one
    /// (`storage.height_gap`), the state must come from this store (`storage.foreign_state`),
    /// have `version == height` (`storage.version_mismatch`) and descend from the state
    /// committed last, not from an abandoned sibling (`storage.stale_branch`).
    ///
    /// Then block, certificate, transactions, receipts, JMT nodes and values, root and latest
    /// height go into one fjall cross-keyspace batch written with `PersistMode::SyncAll`: when
    /// this returns `Ok`, the block survives `kill -9` and power loss; a crash before that leaves
    /// the previous height intact (the journal replays whole batches only).
    ///
    /// A write error is **fatal**: the store poisons itself, every later write fails with
    /// `storage.poisoned`, and the caller must stop the node (restart recovers from the journal).
    pub fn commit(&self, commit: BlockCommit) -> Result<CommitOutcome, StorageError> {
        let inner = &self.inner;
        let _serial = inner.commit_lock.lock();
        if self.is_poisoned() {
            return Err(StorageError::Poisoned);
        }
        let BlockCommit {
            height,
            block_hash,
            block,
            certificate,
            txs,
            receipts,
            state,
        } = commit;

        let (next, last_state) = {
            let chain = inner.chain.read();
            let next = match chain.latest {
                None => 0,
                Some((h, _)) => h + 1,
            };
            (next, chain.last_committed_state)
        };
        if height < next {
            return match self.block_hash(height)? {
                Some(stored) if stored == block_hash => Ok(CommitOutcome::AlreadyCommitted),
                Some(_) => Err(StorageError::ConflictingCommit { height }),
                None => Err(StorageError::Corrupt(format!(
                    "no block hash for committed height {height}"
                ))),
            };
        }
        if height != next {
            return Err(StorageError::HeightGap {
                expected: next,
                got: height,
            });
        }
        if state.store.id != inner.id {
            return Err(StorageError::ForeignState);
        }
        if state.version != height {
            return Err(StorageError::VersionMismatch {
                height,
                version: state.version,
            });
        }
        // A state built directly on committed data (parent None) was prepared when `height` was
        // the next height, and committed data below it never changes, so it is on the chain. A
        // state with a parent is on the chain only if that parent is the state committed last.
        if let Some(parent) = state.parent.lock().as_ref() {
            if Some(parent.id) != last_state {
                return Err(StorageError::StaleBranch {
                    version: state.version,
                });
            }
        }
        let layer = state
            .layer
            .read()
            .clone()
            .ok_or(StorageError::StaleBranch {
                version: state.version,
            })?;

        let ks = &inner.ks;
        let h = codec::u64_key(height);
        let nodes = layer.batch.nodes();
        let values = layer.batch.values();
        tracing::debug!(
            height,
            nodes = nodes.len(),
            values = values.len(),
            "commit batch"
        );
        let mut batch = inner.db.batch().durability(Some(PersistMode::SyncAll));
        batch.insert(&ks.blocks, h, block);
        batch.insert(&ks.block_heights, block_hash, h);
        batch.insert(&ks.certificates, h, certificate);
        for (index, (tx_hash, bytes)) in txs.into_iter().enumerate() {
            let index =
                u32::try_from(index).map_err(|_| StorageError::TooLarge("tx index > u32"))?;
            batch.insert(
                &ks.transactions,
                tx_hash,
                codec::encode_tx(height, index, &bytes),
            );
        }
        for (tx_hash, bytes) in receipts {
            batch.insert(&ks.receipts, tx_hash, bytes);
        }
        for (key, node) in nodes {
            batch.insert(
                &ks.jmt_nodes,
                codec::node_key(key)?,
                codec::encode_node(node)?,
            );
        }
        // Each value encoded once: for the versioned table, the newest-value index and the
        // memory front below. `values` iterates in (version, key) order.
        let encoded: Vec<(u64, KeyHash, Vec<u8>)> = values
            .iter()
            .map(|((version, key_hash), value)| {
                (*version, *key_hash, codec::encode_value(value.as_deref()))
            })
            .collect();
        for (version, key_hash, enc) in &encoded {
            batch.insert(
                &ks.latest_values,
                key_hash.0,
                codec::encode_latest(*version, enc),
            );
            batch.insert(
                &ks.jmt_values,
                codec::value_key(key_hash, *version),
                enc.as_slice(),
            );
        }
        for (key, value) in &layer.ordered {
            batch.insert(
                &ks.ordered,
                ordered::index_key(key, height),
                codec::encode_value(value.as_deref()),
            );
        }
        batch.insert(&ks.meta, meta::LATEST, h);
        batch.insert(&ks.meta, meta::at(meta::ROOT, height), state.root);
        batch.insert(&ks.meta, meta::at(meta::BLOCK_HASH, height), block_hash);

        if let Err(e) = batch.commit() {
            inner.poisoned.store(true, Ordering::Release);
            return Err(StorageError::Io(e));
        }
        {
            let mut hot = inner.hot.lock();
            for (version, key_hash, enc) in encoded {
                let entry = Some((version, enc));
                if hot.map.len() < HOT_VALUES {
                    hot.map.insert(key_hash.0, entry);
                } else if let Some(slot) = hot.map.get_mut(&key_hash.0) {
                    *slot = entry;
                }
            }
        }

        {
            let mut chain = inner.chain.write();
            chain.latest = Some((height, state.root));
            chain.last_committed_state = Some(state.id);
        }
        // Data is in fjall now: drop the layer first (readers then fall through to fjall at
        // this version), then the parent link, so the committed prefix can be freed.
        *state.layer.write() = None;
        *state.parent.lock() = None;
        Ok(CommitOutcome::Committed)
    }

    /// Latest committed value of `key` (`None` if absent or nothing is committed).
    pub fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.inner.latest() {
            None => Ok(None),
            Some((h, _)) => self.get_at(key, h),
        }
    }

    /// Entries with `start <= key < end` in the latest committed state, in key order
    /// (`descending` reverses it), at most `limit`; empty before genesis is committed. Same
    /// rules as [`PreparedState::range`]: only keys under an
    /// [`ORDERED_PREFIXES`](crate::ORDERED_PREFIXES) entry are returned.
    pub fn range_latest(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Result<RangeEntries, StorageError> {
        if limit == 0 || !ordered::touches_ordered(start, end) {
            return Ok(Vec::new());
        }
        match self.inner.latest() {
            None => Ok(Vec::new()),
            Some((h, _)) => {
                self.inner
                    .range_at_bound(BTreeMap::new(), start, end, Some(h), limit, descending)
            }
        }
    }

    /// Entries with `start <= key < end` in the committed state of `version`; otherwise as
    /// [`Store::range_latest`]. With [`Store::get_at`] it reads one consistent committed
    /// state while later blocks commit.
    pub fn range_at(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
        version: u64,
    ) -> Result<RangeEntries, StorageError> {
        self.inner.check_committed(version)?;
        if limit == 0 || !ordered::touches_ordered(start, end) {
            return Ok(Vec::new());
        }
        self.inner.range_at_bound(
            BTreeMap::new(),
            start,
            end,
            Some(version),
            limit,
            descending,
        )
    }

    /// Value of `key` in the committed state of `version`.
    pub fn get_at(&self, key: &[u8], version: u64) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.check_committed(version)?;
        let key_hash = KeyHash(self.inner.kind.hash(key));
        state::value_through(
            &self.inner,
            Start::Committed(Some(version)),
            version,
            key_hash,
        )
    }

    /// Value of `key` at committed `version` with a proof of membership (value present) or
    /// non-membership (absent) against [`Store::root_at`]`(version)`.
    pub fn get_with_proof(
        &self,
        key: &[u8],
        version: u64,
    ) -> Result<(Option<Vec<u8>>, StateProof), StorageError> {
        self.inner.check_committed(version)?;
        let reader = LayeredReader {
            store: &self.inner,
            top: None,
            committed: Some(version),
        };
        match self.inner.kind {
            HashKind::Sm3 => prove::<Sm3Hasher>(&reader, key, version),
            HashKind::Sha256 => prove::<Sha256Hasher>(&reader, key, version),
        }
    }

    /// Latest committed height; `None` before genesis is committed.
    pub fn latest_height(&self) -> Option<u64> {
        self.inner.latest().map(|(h, _)| h)
    }

    /// State root of the latest committed height.
    pub fn latest_root(&self) -> Option<[u8; 32]> {
        self.inner.latest().map(|(_, r)| r)
    }

    /// State root after block `height` (the root in that block's header).
    pub fn root_at(&self, height: u64) -> Result<Option<[u8; 32]>, StorageError> {
        self.meta_hash(meta::ROOT, height, "meta root")
    }

    /// Hash of the block committed at `height`.
    pub fn block_hash(&self, height: u64) -> Result<Option<[u8; 32]>, StorageError> {
        self.meta_hash(meta::BLOCK_HASH, height, "meta block hash")
    }

    fn meta_hash(
        &self,
        prefix: &[u8],
        height: u64,
        what: &'static str,
    ) -> Result<Option<[u8; 32]>, StorageError> {
        match self.inner.ks.meta.get(meta::at(prefix, height))? {
            None => Ok(None),
            Some(b) => Ok(Some(codec::decode_hash(&b, what)?)),
        }
    }

    /// Encoded block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .inner
            .ks
            .blocks
            .get(codec::u64_key(height))?
            .map(|v| v.to_vec()))
    }

    /// Height of the committed block with this hash.
    pub fn height_of(&self, block_hash: &[u8; 32]) -> Result<Option<u64>, StorageError> {
        match self.inner.ks.block_heights.get(block_hash)? {
            None => Ok(None),
            Some(b) => Ok(Some(codec::decode_u64(&b, "block height")?)),
        }
    }

    /// Encoded finalization certificate of the block at `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .inner
            .ks
            .certificates
            .get(codec::u64_key(height))?
            .map(|v| v.to_vec()))
    }

    /// A committed transaction and its location. If the same hash was included twice (which
    /// the mempool's nonce rules prevent), the later inclusion is returned.
    pub fn transaction(&self, tx_hash: &[u8; 32]) -> Result<Option<StoredTx>, StorageError> {
        match self.inner.ks.transactions.get(tx_hash)? {
            None => Ok(None),
            Some(b) => {
                let (height, index, bytes) = codec::decode_tx(&b)?;
                Ok(Some(StoredTx {
                    bytes,
                    height,
                    index,
                }))
            }
        }
    }

    /// Encoded receipt of a committed transaction.
    pub fn receipt(&self, tx_hash: &[u8; 32]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.inner.ks.receipts.get(tx_hash)?.map(|v| v.to_vec()))
    }
}

/// Applies one version's write set. jmt has two algorithms: `batch_put_value_sets` walks each
/// touched subtree once and hashes every new node once, but cannot delete; `put_value_set`
/// handles deletions but rehashes the whole path per key (~3-4x more hashing for a 10k-update
/// block). Both build the same tree (the `put_paths_agree` test pins this), so we take the batch
/// path whenever the set has no deletion.
pub(crate) fn put<H: SimpleHasher>(
    reader: &LayeredReader<'_>,
    set: BTreeMap<KeyHash, Option<Vec<u8>>>,
    version: u64,
) -> Result<([u8; 32], jmt::storage::TreeUpdateBatch), StorageError> {
    let tree = JellyfishMerkleTree::<_, H>::new(reader);
    if !set.is_empty() && set.values().all(Option::is_some) {
        let kvs: Vec<(KeyHash, Vec<u8>)> = set
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let (roots, update) = tree
            .batch_put_value_sets(vec![kvs], None, version)
            .map_err(StorageError::from_tree)?;
        let root = roots
            .first()
            .ok_or_else(|| StorageError::Tree("batch put returned no root".into()))?;
        Ok((root.0, update))
    } else {
        put_slow::<H>(reader, set, version)
    }
}

/// The general (deletion-capable) path.
pub(crate) fn put_slow<H: SimpleHasher>(
    reader: &LayeredReader<'_>,
    set: BTreeMap<KeyHash, Option<Vec<u8>>>,
    version: u64,
) -> Result<([u8; 32], jmt::storage::TreeUpdateBatch), StorageError> {
    let tree = JellyfishMerkleTree::<_, H>::new(reader);
    let (root, update) = tree
        .put_value_set(set, version)
        .map_err(StorageError::from_tree)?;
    Ok((root.0, update))
}

fn prove<H: crate::hash::Suite>(
    reader: &LayeredReader<'_>,
    key: &[u8],
    version: u64,
) -> Result<(Option<Vec<u8>>, StateProof), StorageError> {
    let tree = JellyfishMerkleTree::<_, H>::new(reader);
    let (value, proof) = tree
        .get_with_proof(KeyHash::with::<H>(key), version)
        .map_err(StorageError::from_tree)?;
    Ok((value, StateProof::from_jmt::<H>(&proof)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both jmt write algorithms must produce the same root *and* the same nodes and values, on
    /// top of committed state and for insert-only sets of every size.
    #[test]
    fn put_paths_agree() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), HashKind::Sm3).unwrap();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for version in 0..8u64 {
            let n = [1usize, 2, 3, 17, 200, 1, 64, 500][version as usize];
            let mut set = BTreeMap::new();
            for _ in 0..n {
                let key = (next() % 700).to_be_bytes();
                let value = next().to_be_bytes().to_vec();
                set.insert(KeyHash(HashKind::Sm3.hash(&key)), Some(value));
            }
            let reader = LayeredReader {
                store: &store.inner,
                top: None,
                committed: version.checked_sub(1),
            };
            let (fast_root, fast) = put::<Sm3Hasher>(&reader, set.clone(), version).unwrap();
            let (slow_root, slow) = put_slow::<Sm3Hasher>(&reader, set.clone(), version).unwrap();
            assert_eq!(fast_root, slow_root, "root at {version}");
            assert_eq!(fast.node_batch, slow.node_batch, "nodes at {version}");
            // Commit the slow one, so the next round starts from state both agree on.
            let state = Arc::new(PreparedState {
                store: Arc::clone(&store.inner),
                id: store.inner.next_state_id.fetch_add(1, Ordering::Relaxed),
                version,
                root: slow_root,
                parent: Mutex::new(None),
                layer: RwLock::new(Some(Arc::new(Layer {
                    batch: slow.node_batch,
                    ordered: BTreeMap::new(),
                }))),
            });
            store
                .commit(BlockCommit {
                    height: version,
                    block_hash: [version as u8; 32],
                    block: vec![],
                    certificate: vec![],
                    txs: vec![],
                    receipts: vec![],
                    state,
                })
                .unwrap();
        }
    }

    /// Point reads of the newest value and range reads of older versions agree, and a store
    /// written before the index existed (marker and index removed) rebuilds it on open.
    #[test]
    fn latest_index_answers_and_is_rebuilt_for_old_stores() {
        let dir = tempfile::tempdir().unwrap();
        type Writes = Vec<(Vec<u8>, Option<Vec<u8>>)>;
        let writes: [Writes; 4] = [
            vec![
                (b"a".to_vec(), Some(b"1".to_vec())),
                (b"b".to_vec(), Some(b"x".to_vec())),
            ],
            vec![(b"a".to_vec(), Some(b"2".to_vec()))],
            vec![(b"b".to_vec(), None), (b"c".to_vec(), Some(b"c".to_vec()))],
            vec![(b"a".to_vec(), Some(b"4".to_vec()))],
        ];
        let expect = |store: &Store| {
            let get = |k: &[u8], v: u64| store.get_at(k, v).unwrap();
            assert_eq!(store.get_latest(b"a").unwrap(), Some(b"4".to_vec()));
            assert_eq!(store.get_latest(b"b").unwrap(), None);
            assert_eq!(store.get_latest(b"c").unwrap(), Some(b"c".to_vec()));
            assert_eq!(store.get_latest(b"zz").unwrap(), None);
            assert_eq!(get(b"a", 0), Some(b"1".to_vec()));
            assert_eq!(get(b"a", 2), Some(b"2".to_vec()));
            assert_eq!(get(b"b", 1), Some(b"x".to_vec()));
            assert_eq!(get(b"b", 2), None);
            assert_eq!(get(b"c", 1), None);
        };
        {
            let store = Store::open(dir.path(), HashKind::Sha256).unwrap();
            for (h, w) in writes.iter().enumerate() {
                let h = h as u64;
                let state = store.prepare(None, h, w.clone()).unwrap();
                store
                    .commit(BlockCommit {
                        height: h,
                        block_hash: [h as u8; 32],
                        block: vec![],
                        certificate: vec![],
                        txs: vec![],
                        receipts: vec![],
                        state,
                    })
                    .unwrap();
            }
            expect(&store);
            // Make it look like a store from before the index.
            let ks = &store.inner.ks;
            let keys: Vec<_> = ks
                .latest_values
                .iter()
                .map(|g| g.into_inner().unwrap().0)
                .collect();
            assert_eq!(keys.len(), 3);
            for k in keys {
                ks.latest_values.remove(k).unwrap();
            }
            ks.meta.remove(meta::LATEST_INDEX).unwrap();
            store.inner.db.persist(PersistMode::SyncAll).unwrap();
        }
        let store = Store::open(dir.path(), HashKind::Sha256).unwrap();
        expect(&store);
    }
}
