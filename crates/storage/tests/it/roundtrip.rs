//! Write/read round trips and commit validation.

use meridian_storage::{BlockCommit, CommitOutcome, HashKind, StorageError, Store, StoredTx};

use crate::common::*;

#[test]
fn block_certificate_txs_receipts_roundtrip() {
    let (_dir, store) = open(HashKind::Sm3);
    assert_eq!(store.latest_height(), None);
    assert_eq!(store.latest_root(), None);

    let genesis_root = apply(&store, vec![set("a", "1")]);
    let state = store.prepare(None, 1, vec![set("a", "2")]).unwrap();
    let root1 = state.root();
    let txs = vec![([1; 32], b"tx-one".to_vec()), ([2; 32], b"tx-two".to_vec())];
    let receipts = vec![([1; 32], b"rc-one".to_vec()), ([2; 32], b"rc-two".to_vec())];
    let outcome = store
        .commit(BlockCommit {
            height: 1,
            block_hash: [0xaa; 32],
            block: b"block-one".to_vec(),
            certificate: b"cert-one".to_vec(),
            txs,
            receipts,
            state,
        })
        .unwrap();
    assert_eq!(outcome, CommitOutcome::Committed);

    assert_eq!(store.latest_height(), Some(1));
    assert_eq!(store.latest_root(), Some(root1));
    assert_eq!(store.root_at(0).unwrap(), Some(genesis_root));
    assert_eq!(store.root_at(1).unwrap(), Some(root1));
    assert_eq!(store.root_at(2).unwrap(), None);
    assert_eq!(store.block(1).unwrap(), Some(b"block-one".to_vec()));
    assert_eq!(store.block(0).unwrap(), Some(b"block 0".to_vec()));
    assert_eq!(store.block(2).unwrap(), None);
    assert_eq!(store.block_hash(1).unwrap(), Some([0xaa; 32]));
    assert_eq!(store.height_of(&[0xaa; 32]).unwrap(), Some(1));
    assert_eq!(store.height_of(&block_hash(0)).unwrap(), Some(0));
    assert_eq!(store.height_of(&[0xff; 32]).unwrap(), None);
    assert_eq!(store.certificate(1).unwrap(), Some(b"cert-one".to_vec()));
    assert_eq!(
        store.transaction(&[2; 32]).unwrap(),
        Some(StoredTx {
            bytes: b"tx-two".to_vec(),
            height: 1,
            index: 1
        })
    );
    assert_eq!(
        store.transaction(&[1; 32]).unwrap().map(|t| t.index),
        Some(0)
    );
    assert_eq!(store.transaction(&[3; 32]).unwrap(), None);
    assert_eq!(store.receipt(&[1; 32]).unwrap(), Some(b"rc-one".to_vec()));
    assert_eq!(store.receipt(&[3; 32]).unwrap(), None);
}

#[test]
fn state_reads_at_every_version() {
    let (_dir, store) = open(HashKind::Sha256);
    apply(&store, vec![set("a", "1"), set("b", "1")]); // v0
    apply(&store, vec![set("a", "2")]); // v1
    apply(&store, vec![del("b"), set("c", "3")]); // v2
    apply(&store, vec![]); // v3: empty block

    let at = |k: &str, v| store.get_at(k.as_bytes(), v).unwrap();
    assert_eq!(at("a", 0), Some(b"1".to_vec()));
    assert_eq!(at("a", 1), Some(b"2".to_vec()));
    assert_eq!(at("a", 3), Some(b"2".to_vec()));
    assert_eq!(at("b", 1), Some(b"1".to_vec()));
    assert_eq!(at("b", 2), None);
    assert_eq!(at("c", 1), None);
    assert_eq!(at("c", 2), Some(b"3".to_vec()));
    assert_eq!(store.get_latest(b"c").unwrap(), Some(b"3".to_vec()));
    assert_eq!(store.get_latest(b"b").unwrap(), None);
    assert_eq!(store.get_latest(b"zzz").unwrap(), None);
    assert_eq!(store.root_at(3).unwrap(), store.root_at(2).unwrap());

    let err = store.get_at(b"a", 4).unwrap_err();
    assert_eq!(err.code(), "storage.version_not_committed");
    let err = store.get_with_proof(b"a", 4).unwrap_err();
    assert_eq!(err.code(), "storage.version_not_committed");
}

#[test]
fn empty_store_reads() {
    let (_dir, store) = open(HashKind::Sm3);
    assert_eq!(store.get_latest(b"a").unwrap(), None);
    assert_eq!(
        store.get_at(b"a", 0).unwrap_err().code(),
        "storage.version_not_committed"
    );
    assert_eq!(store.block(0).unwrap(), None);
}

#[test]
fn duplicate_keys_last_write_wins() {
    let (_dir, a) = open(HashKind::Sm3);
    let (_dir2, b) = open(HashKind::Sm3);
    let ra = apply(
        &a,
        vec![set("k", "1"), del("k"), set("k", "2"), set("j", "x")],
    );
    let rb = apply(&b, vec![set("j", "x"), set("k", "2")]);
    assert_eq!(ra, rb);
    assert_eq!(a.get_latest(b"k").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn empty_genesis_has_empty_root() {
    for kind in KINDS {
        let (_dir, store) = open(kind);
        let root = apply(&store, vec![]);
        assert_eq!(root, meridian_storage::EMPTY_ROOT);
        let root = apply(&store, vec![set("a", "1"), del("a")]);
        assert_eq!(root, meridian_storage::EMPTY_ROOT);
        apply(&store, vec![set("a", "1")]);
        let root = apply(&store, vec![del("a")]);
        assert_eq!(root, meridian_storage::EMPTY_ROOT);
    }
}

#[test]
fn commit_rejects_gaps_and_wrong_versions() {
    let (_dir, store) = open(HashKind::Sm3);
    let s0 = store.prepare(None, 0, vec![set("a", "1")]).unwrap();

    // Height 1 before genesis.
    let err = store.commit(block_commit(1, s0.clone())).unwrap_err();
    assert!(matches!(
        err,
        StorageError::HeightGap {
            expected: 0,
            got: 1
        }
    ));
    assert_eq!(err.code(), "storage.height_gap");
    assert!(!err.is_fatal());
    commit(&store, 0, s0);

    let s1 = store.prepare(None, 1, vec![set("a", "2")]).unwrap();
    let s2 = store.prepare(Some(&s1), 2, vec![set("a", "3")]).unwrap();
    // State of version 2 offered for height 1.
    let err = store.commit(block_commit(1, s2.clone())).unwrap_err();
    assert_eq!(err.code(), "storage.version_mismatch");
    // Height 2 before height 1.
    let err = store.commit(block_commit(2, s2.clone())).unwrap_err();
    assert_eq!(err.code(), "storage.height_gap");
    // Nothing changed.
    assert_eq!(store.latest_height(), Some(0));
    assert_eq!(store.get_latest(b"a").unwrap(), Some(b"1".to_vec()));

    commit(&store, 1, s1);
    commit(&store, 2, s2);
    assert_eq!(store.get_latest(b"a").unwrap(), Some(b"3".to_vec()));
}

#[test]
fn redelivery_is_a_noop_and_conflicts_are_loud() {
    let (_dir, store) = open(HashKind::Sha256);
    let s0 = store.prepare(None, 0, vec![set("a", "1")]).unwrap();
    assert_eq!(commit(&store, 0, s0.clone()), CommitOutcome::Committed);
    assert!(s0.is_committed());
    let root = store.latest_root();

    // At-least-once delivery: same height, same block.
    assert_eq!(
        commit(&store, 0, s0.clone()),
        CommitOutcome::AlreadyCommitted
    );
    // Whatever state object comes with the redelivery, nothing is written.
    let other = store.prepare(None, 1, vec![set("a", "9")]).unwrap();
    assert_eq!(
        store.commit(block_commit(0, other)).unwrap(),
        CommitOutcome::AlreadyCommitted
    );

    // Same height, different block: a fork, never silently accepted.
    let mut forked = block_commit(0, s0);
    forked.block_hash = [0xee; 32];
    let err = store.commit(forked).unwrap_err();
    assert_eq!(err.code(), "storage.conflicting_commit");

    assert_eq!(store.latest_height(), Some(0));
    assert_eq!(store.latest_root(), root);
    assert_eq!(store.get_latest(b"a").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn prepare_rejects_bad_versions() {
    let (_dir, store) = open(HashKind::Sm3);
    let err = store.prepare(None, 5, vec![]).unwrap_err();
    assert!(matches!(
        err,
        StorageError::InvalidVersion {
            expected: 0,
            got: 5
        }
    ));
    assert_eq!(err.code(), "storage.invalid_version");
    let s0 = store.prepare(None, 0, vec![]).unwrap();
    let err = store.prepare(Some(&s0), 2, vec![]).unwrap_err();
    assert_eq!(err.code(), "storage.invalid_version");
    commit(&store, 0, s0);
    let err = store.prepare(None, 0, vec![]).unwrap_err();
    assert_eq!(err.code(), "storage.invalid_version");
}

#[test]
fn states_from_another_store_are_rejected() {
    let (_d1, a) = open(HashKind::Sm3);
    let (_d2, b) = open(HashKind::Sm3);
    let sa = a.prepare(None, 0, vec![set("a", "1")]).unwrap();
    let err = b.commit(block_commit(0, sa.clone())).unwrap_err();
    assert_eq!(err.code(), "storage.foreign_state");
    let err = b.prepare(Some(&sa), 1, vec![]).unwrap_err();
    assert_eq!(err.code(), "storage.foreign_state");
    assert_eq!(b.latest_height(), None);
}

#[test]
fn reopening_with_another_suite_fails() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), HashKind::Sm3).unwrap();
        apply(&store, vec![set("a", "1")]);
    }
    let err = Store::open(dir.path(), HashKind::Sha256).unwrap_err();
    assert_eq!(err.code(), "storage.hash_kind_mismatch");
    let store = Store::open(dir.path(), HashKind::Sm3).unwrap();
    assert_eq!(store.hash_kind(), HashKind::Sm3);
    assert_eq!(store.latest_height(), Some(0));
}

#[test]
fn suites_give_different_roots() {
    let writes = || vec![set("bal/alice", "100"), set("bal/bob", "7")];
    let (_d1, sm) = open(HashKind::Sm3);
    let (_d2, sha) = open(HashKind::Sha256);
    let r_sm = apply(&sm, writes());
    let r_sha = apply(&sha, writes());
    assert_ne!(r_sm, r_sha);
    // Deterministic per suite.
    let (_d3, sm2) = open(HashKind::Sm3);
    assert_eq!(apply(&sm2, writes()), r_sm);
}
