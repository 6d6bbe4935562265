//! Speculative (prepared, unfinalized) state: pipelining and forks.

use std::sync::Arc;

use meridian_storage::{HashKind, PreparedState};

use crate::common::*;

fn blocks() -> Vec<Writes> {
    vec![
        vec![set("a", "0"), set("b", "0"), set("c", "0")],
        vec![set("a", "1"), set("d", "1")],
        vec![del("b"), set("e", "2")],
        vec![],
        vec![set("b", "4"), del("a"), set("f", "4")],
        vec![set("a", "5"), set("a", "5b"), del("zz")],
    ]
}

#[test]
fn pipelined_prepare_matches_sequential_commit() {
    for kind in KINDS {
        // Reference: prepare on committed state, commit, repeat.
        let (_d1, seq) = open(kind);
        let seq_roots: Vec<_> = blocks().into_iter().map(|w| apply(&seq, w)).collect();

        // Pipeline: genesis committed, then every block prepared on its unfinalized parent
        // before anything else is committed.
        let (_d2, pipe) = open(kind);
        let mut it = blocks().into_iter();
        apply(&pipe, it.next().unwrap());
        let mut states: Vec<Arc<PreparedState>> = Vec::new();
        for (i, writes) in it.enumerate() {
            let version = i as u64 + 1;
            let s = pipe.prepare(states.last(), version, writes).unwrap();
            assert_eq!(s.root(), seq_roots[version as usize], "root at {version}");
            states.push(s);
        }
        assert_eq!(pipe.latest_height(), Some(0));
        for (i, s) in states.iter().enumerate() {
            commit(&pipe, i as u64 + 1, s.clone());
        }
        for (h, root) in seq_roots.iter().enumerate() {
            assert_eq!(pipe.root_at(h as u64).unwrap(), Some(*root));
        }
        for k in ["a", "b", "c", "d", "e", "f", "zz"] {
            assert_eq!(
                pipe.get_latest(k.as_bytes()).unwrap(),
                seq.get_latest(k.as_bytes()).unwrap()
            );
        }
    }
}

#[test]
fn interleaved_prepare_and_commit() {
    let (_d1, seq) = open(HashKind::Sm3);
    let seq_roots: Vec<_> = blocks().into_iter().map(|w| apply(&seq, w)).collect();

    let (_d2, store) = open(HashKind::Sm3);
    let b = blocks();
    let s0 = store.prepare(None, 0, b[0].clone()).unwrap();
    let s1 = store.prepare(Some(&s0), 1, b[1].clone()).unwrap();
    commit(&store, 0, s0.clone());
    let s2 = store.prepare(Some(&s1), 2, b[2].clone()).unwrap();
    commit(&store, 1, s1.clone());
    let s3 = store.prepare(Some(&s2), 3, b[3].clone()).unwrap();
    // Building on an already-committed parent is the same as building on `None`.
    let s2_again = store.prepare(Some(&s1), 2, b[2].clone()).unwrap();
    let s2_none = store.prepare(None, 2, b[2].clone()).unwrap();
    assert_eq!(s2_again.root(), s2.root());
    assert_eq!(s2_none.root(), s2.root());
    commit(&store, 2, s2.clone());
    commit(&store, 3, s3.clone());
    let s4 = store.prepare(Some(&s3), 4, b[4].clone()).unwrap();
    let s5 = store.prepare(Some(&s4), 5, b[5].clone()).unwrap();
    commit(&store, 4, s4);
    commit(&store, 5, s5);
    for (h, root) in seq_roots.iter().enumerate() {
        assert_eq!(store.root_at(h as u64).unwrap(), Some(*root), "height {h}");
    }
    // Committed states stay readable.
    assert!(s1.is_committed());
    assert_eq!(s1.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(s2.get(b"b").unwrap(), None);
}

#[test]
fn reads_see_the_overlay_chain_but_not_disk() {
    let (_dir, store) = open(HashKind::Sha256);
    apply(&store, vec![set("a", "0"), set("b", "0")]);
    let s1 = store
        .prepare(None, 1, vec![set("a", "1"), set("c", "1")])
        .unwrap();
    let s2 = store
        .prepare(Some(&s1), 2, vec![del("a"), set("b", "2")])
        .unwrap();
    assert_eq!(s1.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(s1.get(b"b").unwrap(), Some(b"0".to_vec()));
    assert_eq!(s2.get(b"a").unwrap(), None); // deleted in the overlay
    assert_eq!(s2.get(b"b").unwrap(), Some(b"2".to_vec()));
    assert_eq!(s2.get(b"c").unwrap(), Some(b"1".to_vec())); // from the parent overlay
    assert_eq!(s2.get(b"nope").unwrap(), None);
    // Disk is untouched.
    assert_eq!(store.get_latest(b"a").unwrap(), Some(b"0".to_vec()));
    assert_eq!(store.get_latest(b"c").unwrap(), None);
    assert_eq!(store.latest_height(), Some(0));
    assert!(!s1.is_committed());
}

#[test]
fn abandoned_branches_are_isolated_and_cannot_commit() {
    for kind in KINDS {
        let (_dir, store) = open(kind);
        apply(&store, vec![set("k", "0")]);

        // Two competing blocks at height 1; A gets a child before the decision.
        let a1 = store.prepare(None, 1, vec![set("k", "A")]).unwrap();
        let b1 = store
            .prepare(None, 1, vec![set("k", "B"), set("only-b", "B")])
            .unwrap();
        let a2 = store.prepare(Some(&a1), 2, vec![set("a2", "x")]).unwrap();
        assert_ne!(a1.root(), b1.root());

        commit(&store, 1, b1.clone());

        // A's branch keeps reading A's view, never B's version-1 data.
        assert_eq!(a2.get(b"k").unwrap(), Some(b"A".to_vec()));
        assert_eq!(a2.get(b"only-b").unwrap(), None);
        assert_eq!(a1.get(b"only-b").unwrap(), None);
        // A grandchild of A still computes A's root, not a mix.
        let a3 = store.prepare(Some(&a2), 3, vec![set("a3", "y")]).unwrap();
        assert_eq!(a3.get(b"k").unwrap(), Some(b"A".to_vec()));

        // Committing A's descendants is refused.
        let err = store.commit(block_commit(2, a2.clone())).unwrap_err();
        assert_eq!(err.code(), "storage.stale_branch");
        // A's own height is taken: a different block hash is a conflict.
        let mut a1_commit = block_commit(1, a1.clone());
        a1_commit.block_hash = [0xa1; 32];
        assert_eq!(
            store.commit(a1_commit).unwrap_err().code(),
            "storage.conflicting_commit"
        );

        // The chosen branch continues.
        let b2 = store.prepare(Some(&b1), 2, vec![set("a2", "x")]).unwrap();
        commit(&store, 2, b2);
        assert_eq!(store.get_latest(b"k").unwrap(), Some(b"B".to_vec()));
        assert_eq!(store.get_latest(b"only-b").unwrap(), Some(b"B".to_vec()));
        assert_eq!(store.get_latest(b"a2").unwrap(), Some(b"x".to_vec()));

        // Roots equal a sequential replay of the chosen branch.
        let (_d2, seq) = open(kind);
        apply(&seq, vec![set("k", "0")]);
        apply(&seq, vec![set("k", "B"), set("only-b", "B")]);
        let r2 = apply(&seq, vec![set("a2", "x")]);
        assert_eq!(store.latest_root(), Some(r2));
    }
}

#[test]
fn prepare_on_uncommitted_sibling_version_is_isolated() {
    // Same write set on both branches (equal roots): the store only accepts children of the
    // state object it committed, because equal roots do not imply equal node keys (jmt node
    // keys carry the version at which each node was written).
    let (_dir, store) = open(HashKind::Sm3);
    apply(&store, vec![set("k", "0")]);
    let a1 = store.prepare(None, 1, vec![set("k", "1")]).unwrap();
    let b1 = store.prepare(None, 1, vec![set("k", "1")]).unwrap();
    assert_eq!(a1.root(), b1.root());
    let a2 = store.prepare(Some(&a1), 2, vec![set("j", "2")]).unwrap();
    commit(&store, 1, b1);
    assert_eq!(
        store.commit(block_commit(2, a2)).unwrap_err().code(),
        "storage.stale_branch"
    );
    // Re-preparing on committed state works.
    let c2 = store.prepare(None, 2, vec![set("j", "2")]).unwrap();
    commit(&store, 2, c2);
    assert_eq!(store.get_latest(b"j").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn prepared_states_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Arc<PreparedState>>();
    assert_send_sync::<meridian_storage::Store>();
}

#[test]
fn concurrent_prepares_while_committing() {
    let (_dir, store) = open(HashKind::Sha256);
    apply(&store, vec![set("k", "0")]);
    let s1 = store.prepare(None, 1, vec![set("k", "1")]).unwrap();
    let s2 = store.prepare(Some(&s1), 2, vec![set("k", "2")]).unwrap();
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let s2 = s2.clone();
                let store = store.clone();
                scope.spawn(move || {
                    for _ in 0..200 {
                        assert_eq!(s2.get(b"k").unwrap(), Some(b"2".to_vec()));
                        let s3 = store.prepare(Some(&s2), 3, vec![set("x", "3")]).unwrap();
                        assert_eq!(s3.get(b"k").unwrap(), Some(b"2".to_vec()));
                    }
                })
            })
            .collect();
        commit(&store, 1, s1.clone());
        commit(&store, 2, s2.clone());
        for r in readers {
            r.join().unwrap();
        }
    });
    assert_eq!(store.get_latest(b"k").unwrap(), Some(b"2".to_vec()));
}
