//! Shared helpers.

use std::sync::Arc;

use meridian_storage::{BlockCommit, CommitOutcome, HashKind, PreparedState, Store};
use tempfile::TempDir;

pub const KINDS: [HashKind; 2] = [HashKind::Sm3, HashKind::Sha256];

pub type Writes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

pub fn open(kind: HashKind) -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), kind).expect("open");
    (dir, store)
}

pub fn block_hash(height: u64) -> [u8; 32] {
    let mut h = [0xb1; 32];
    h[..8].copy_from_slice(&height.to_be_bytes());
    h
}

pub fn set(key: &str, value: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    (key.as_bytes().to_vec(), Some(value.as_bytes().to_vec()))
}

pub fn del(key: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    (key.as_bytes().to_vec(), None)
}

pub fn block_commit(height: u64, state: Arc<PreparedState>) -> BlockCommit {
    BlockCommit {
        height,
        block_hash: block_hash(height),
        block: format!("block {height}").into_bytes(),
        certificate: format!("cert {height}").into_bytes(),
        txs: vec![],
        receipts: vec![],
        state,
    }
}

pub fn commit(store: &Store, height: u64, state: Arc<PreparedState>) -> CommitOutcome {
    store
        .commit(block_commit(height, state))
        .expect("commit succeeds")
}

/// Prepares on committed state and commits at the next height; returns the root.
pub fn apply(store: &Store, writes: Writes) -> [u8; 32] {
    let height = store.latest_height().map_or(0, |h| h + 1);
    let state = store.prepare(None, height, writes).expect("prepare");
    let root = state.root();
    assert_eq!(commit(store, height, state), CommitOutcome::Committed);
    root
}
