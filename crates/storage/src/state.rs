//! Speculative (prepared, not yet finalized) state and the layered tree reader.
//!
//! # Why layers
//!
//! A BFT pipeline executes block `h+1` before block `h` is finalized, and may execute two
//! competing blocks at the same height. Each execution produces a [`PreparedState`]: the JMT
//! nodes and values written at that version, kept in memory, plus a link to the prepared state it
//! was built on. Reading through a prepared state walks this chain of in-memory layers and then
//! falls through to the committed data in fjall.
//!
//! # Why the fall-through is bounded
//!
//! JMT node keys are `(version, nibble path)`, and values are `(key hash, version)`. Two competing
//! blocks at height `h` both write version `h`. Once one of them is committed, fjall holds *its*
//! version-`h` data; a state built on the *other* one must not see it. So every walk ends with an
//! explicit bound: fjall is only consulted for versions `<= bound`, where `bound` is the version
//! of the committed state the chain stands on. Committed data at or below that bound is the same
//! for every branch, because versions below the latest committed one never change.
//!
//! # Memory
//!
//! When a prepared state is committed its layer is dropped (the data now lives in fjall) and its
//! parent link is cut, so a long-running node keeps in memory only the uncommitted suffix of the
//! pipeline plus whatever abandoned branches the caller still holds.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::ops::Bound;
use std::sync::Arc;

use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use parking_lot::{Mutex, RwLock};

use crate::ordered::{self, OrderedWrites, RangeEntries};
use crate::store::Inner;
use crate::StorageError;

/// The in-memory result of applying one block's writes to the tree.
pub(crate) struct Layer {
    /// New nodes (all at `version`) and values written at `version`.
    pub(crate) batch: NodeBatch,
    /// The writes of this version whose key is under an
    /// [`ORDERED_PREFIXES`](crate::ORDERED_PREFIXES) entry, by raw key (`None` deletes): the
    /// key-ordered view of this layer, written to the `ordered` index at commit. Empty for
    /// blocks that touch no such key.
    pub(crate) ordered: OrderedWrites,
}

/// State after executing a block that is not (yet) finalized.
///
/// Created by [`Store::prepare`](crate::Store::prepare); persisted by
/// [`Store::commit`](crate::Store::commit). Always handled as `Arc<PreparedState>`; cheap to
/// share between threads.
pub struct PreparedState {
    pub(crate) store: Arc<Inner>,
    /// Unique within the store instance; lets `commit` check a state descends from the one
    /// committed last (and not from an abandoned sibling).
    pub(crate) id: u64,
    pub(crate) version: u64,
    pub(crate) root: [u8; 32],
    /// `None` once committed (data is in fjall) or when built directly on committed state.
    pub(crate) parent: Mutex<Option<Arc<PreparedState>>>,
    /// `None` once committed.
    pub(crate) layer: RwLock<Option<Arc<Layer>>>,
}

impl std::fmt::Debug for PreparedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedState")
            .field("version", &self.version)
            .field("root", &Hex(&self.root))
            .field("committed", &self.is_committed())
            .finish()
    }
}

struct Hex<'a>(&'a [u8]);

impl std::fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl PreparedState {
    /// The JMT version (= block height) of this state.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// State root after the block: the value that goes in the block header.
    pub fn root(&self) -> [u8; 32] {
        self.root
    }

    /// `true` once [`Store::commit`](crate::Store::commit) persisted this state.
    pub fn is_committed(&self) -> bool {
        self.layer.read().is_none()
    }

    /// Reads `key` as of this state: this block's writes, then its unfinalized ancestors', then
    /// committed state (only versions this branch stands on).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let key_hash = KeyHash(self.store.kind.hash(key));
        value_through(&self.store, Start::State(self), Version::MAX, key_hash)
    }

    /// Entries with `start <= key < end` as of this state, in key order (`descending`
    /// reverses it), at most `limit`: for each key exactly what [`get`](Self::get) returns.
    ///
    /// Only keys under an [`ORDERED_PREFIXES`](crate::ORDERED_PREFIXES) entry are indexed, so
    /// only they are returned; a range outside every ordered prefix returns an empty list
    /// without touching the disk.
    pub fn range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Result<RangeEntries, StorageError> {
        if limit == 0 || !ordered::touches_ordered(start, end) {
            return Ok(Vec::new());
        }
        // This layer, then its unfinalized ancestors: the first (newest) write of a key wins.
        let mut local: OrderedWrites = BTreeMap::new();
        let step = walk(Start::State(self), |_, layer| -> Option<Infallible> {
            let writes = layer
                .ordered
                .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)));
            for (key, value) in writes {
                local.entry(key.clone()).or_insert_with(|| value.clone());
            }
            None
        });
        let bound = match step {
            Step::Found(never) => match never {},
            Step::Bound(bound) => bound,
        };
        self.store
            .range_at_bound(local, start, end, bound, limit, descending)
    }
}

/// Where a walk over layers begins.
pub(crate) enum Start<'a> {
    /// At a prepared state (inclusive).
    State(&'a PreparedState),
    /// At committed state: fjall up to this version (`None`: nothing is committed).
    Committed(Option<u64>),
}

enum Step<T> {
    Found(T),
    /// Not in any layer; consult fjall for versions `<=` this bound (`None`: nothing).
    Bound(Option<u64>),
}

enum Visit<T> {
    Done(Step<T>),
    Parent(Arc<PreparedState>),
}

fn visit<T>(state: &PreparedState, f: &mut impl FnMut(u64, &Layer) -> Option<T>) -> Visit<T> {
    // Clone the Arc so the lock is not held while we look inside.
    let layer = state.layer.read().clone();
    match layer {
        // Committed: fjall holds exactly this state's data at `version`.
        None => return Visit::Done(Step::Bound(Some(state.version))),
        Some(layer) => {
            if let Some(found) = f(state.version, &layer) {
                return Visit::Done(Step::Found(found));
            }
        }
    }
    let parent = state.parent.lock().clone();
    match parent {
        Some(parent) => Visit::Parent(parent),
        // Built directly on committed state `version - 1` (or its parent was committed and the
        // link cut, which is the same thing).
        None => Visit::Done(Step::Bound(state.version.checked_sub(1))),
    }
}

fn walk<T>(start: Start<'_>, mut f: impl FnMut(u64, &Layer) -> Option<T>) -> Step<T> {
    let first = match start {
        Start::Committed(bound) => return Step::Bound(bound),
        Start::State(state) => state,
    };
    let mut next = match visit(first, &mut f) {
        Visit::Done(step) => return step,
        Visit::Parent(p) => p,
    };
    loop {
        next = match visit(&next, &mut f) {
            Visit::Done(step) => return step,
            Visit::Parent(p) => p,
        };
    }
}

pub(crate) fn node_through(
    store: &Inner,
    start: Start<'_>,
    node_key: &NodeKey,
) -> Result<Option<Node>, StorageError> {
    match walk(start, |_, layer| layer.batch.get_node(node_key).cloned()) {
        Step::Found(node) => Ok(Some(node)),
        Step::Bound(Some(bound)) if node_key.version() <= bound => store.committed_node(node_key),
        Step::Bound(_) => Ok(None),
    }
}

pub(crate) fn value_through(
    store: &Inner,
    start: Start<'_>,
    max_version: Version,
    key_hash: KeyHash,
) -> Result<Option<Vec<u8>>, StorageError> {
    let step = walk(start, |version, layer| {
        if version > max_version {
            return None;
        }
        layer.batch.values().get(&(version, key_hash)).cloned()
    });
    match step {
        Step::Found(value) => Ok(value),
        Step::Bound(Some(bound)) => store.committed_value(bound.min(max_version), key_hash),
        Step::Bound(None) => Ok(None),
    }
}

/// A [`TreeReader`] over a chain of prepared states (or none) and committed data.
pub(crate) struct LayeredReader<'a> {
    pub(crate) store: &'a Inner,
    pub(crate) top: Option<&'a PreparedState>,
    /// Used when `top` is `None`: the committed version to read at.
    pub(crate) committed: Option<u64>,
}

impl LayeredReader<'_> {
    fn start(&self) -> Start<'_> {
        match self.top {
            Some(state) => Start::State(state),
            None => Start::Committed(self.committed),
        }
    }
}

impl TreeReader for LayeredReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(node_through(self.store, self.start(), node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(value_through(
            self.store,
            self.start(),
            max_version,
            key_hash,
        )?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used by jmt's state-sync restore, which this store does not offer.
        anyhow::bail!("get_rightmost_leaf is not supported by meridian-storage")
    }
}
