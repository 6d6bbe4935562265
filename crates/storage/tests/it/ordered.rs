//! Key-ordered range reads over `ORDERED_PREFIXES`: prepared layers, committed index, forks,
//! persistence, and keys outside the ordered prefixes.

use std::collections::BTreeMap;
use std::sync::Arc;

use meridian_storage::{HashKind, PreparedState, Store, ORDERED_PREFIXES};
use proptest::prelude::*;

use crate::common::*;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

fn ck(suffix: &[u8]) -> Vec<u8> {
    let mut k = b"contract/store/".to_vec();
    k.extend_from_slice(suffix);
    k
}

fn cset(suffix: &str, value: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    (ck(suffix.as_bytes()), Some(value.as_bytes().to_vec()))
}

fn cdel(suffix: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    (ck(suffix.as_bytes()), None)
}

fn entries(list: &[(&str, &str)]) -> Entries {
    list.iter()
        .map(|(k, v)| (ck(k.as_bytes()), v.as_bytes().to_vec()))
        .collect()
}

fn is_ordered(key: &[u8]) -> bool {
    ORDERED_PREFIXES.iter().any(|p| key.starts_with(p))
}

fn apply_writes(model: &mut Model, writes: &Writes) {
    for (k, v) in writes {
        match v {
            Some(v) => model.insert(k.clone(), v.clone()),
            None => model.remove(k),
        };
    }
}

/// What a range must return: the model's entries in `[start, end)` under an ordered prefix.
fn expected(model: &Model, start: &[u8], end: &[u8], limit: usize, descending: bool) -> Entries {
    if start >= end {
        return Vec::new();
    }
    let it = model
        .range(start.to_vec()..end.to_vec())
        .filter(|(k, _)| is_ordered(k))
        .map(|(k, v)| (k.clone(), v.clone()));
    if descending {
        it.rev().take(limit).collect()
    } else {
        it.take(limit).collect()
    }
}

const ALL: (&[u8], &[u8]) = (b"", b"\xff\xff\xff");

// ---- property ----------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Block {
    writes: Writes,
    /// A competing block at the same height on the same parent (never committed).
    fork: Option<Writes>,
    /// How many of the oldest uncommitted main-chain states to commit after preparing this.
    commit: usize,
    /// Build on `None` instead of a committed parent (the same thing).
    parent_none: bool,
}

#[derive(Clone, Debug)]
struct Query {
    start: Vec<u8>,
    end: Vec<u8>,
    limit: usize,
}

fn ordered_key() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        proptest::sample::select(vec![0x00u8, 0x01, b'a', b'b', 0xFF]),
        0..3,
    )
    .prop_map(|s| ck(&s))
}

fn any_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => ordered_key(),
        1 => proptest::sample::select(vec![
            b"bank/a".to_vec(),
            b"nonce/\0".to_vec(),
            b"contract/stor".to_vec(),
            b"contract/store".to_vec(),
            b"contract/store0".to_vec(),
            b"contract/storf/".to_vec(),
        ]),
    ]
}

fn writes() -> impl Strategy<Value = Writes> {
    proptest::collection::vec(
        (
            any_key(),
            proptest::option::weighted(0.7, proptest::collection::vec(any::<u8>(), 0..3)),
        ),
        0..8,
    )
}

fn block() -> impl Strategy<Value = Block> {
    (
        writes(),
        proptest::option::weighted(0.3, writes()),
        0usize..3,
        any::<bool>(),
    )
        .prop_map(|(writes, fork, commit, parent_none)| Block {
            writes,
            fork,
            commit,
            parent_none,
        })
}

fn bound() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => ordered_key(),
        1 => proptest::sample::select(vec![
            b"".to_vec(),
            b"contract/".to_vec(),
            b"contract/store/".to_vec(),
            b"contract/store0".to_vec(),
            b"bank/".to_vec(),
            b"\xff\xff\xff".to_vec(),
        ]),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    (
        bound(),
        bound(),
        prop_oneof![3 => 0usize..5, 1 => Just(usize::MAX)],
    )
        .prop_map(|(start, end, limit)| Query { start, end, limit })
}

fn check_state(
    label: &str,
    state: &PreparedState,
    model: &Model,
    queries: &[Query],
) -> Result<(), TestCaseError> {
    for q in queries.iter().chain(std::iter::once(&Query {
        start: ALL.0.to_vec(),
        end: ALL.1.to_vec(),
        limit: usize::MAX,
    })) {
        for descending in [false, true] {
            let got = state.range(&q.start, &q.end, q.limit, descending).unwrap();
            let want = expected(model, &q.start, &q.end, q.limit, descending);
            prop_assert_eq!(
                got,
                want,
                "{} v{} {:?} desc={}",
                label,
                state.version(),
                q,
                descending
            );
        }
    }
    Ok(())
}

fn check_latest(store: &Store, model: &Model, queries: &[Query]) -> Result<(), TestCaseError> {
    for q in queries {
        for descending in [false, true] {
            let got = store
                .range_latest(&q.start, &q.end, q.limit, descending)
                .unwrap();
            let want = expected(model, &q.start, &q.end, q.limit, descending);
            prop_assert_eq!(got, want, "latest {:?} desc={}", q, descending);
        }
    }
    Ok(())
}

fn run(kind: HashKind, blocks: Vec<Block>, queries: Vec<Query>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), kind).unwrap();
    // Main chain: every state ever prepared (committed or not) and the model at its version.
    let mut states: Vec<Arc<PreparedState>> = Vec::new();
    let mut models: Vec<Model> = Vec::new();
    let mut forks: Vec<(Arc<PreparedState>, Model)> = Vec::new();
    let mut committed = 0usize;

    for b in blocks {
        let version = states.len() as u64;
        let parent = match states.last() {
            Some(p) if b.parent_none && p.is_committed() => None,
            p => p.cloned(),
        };
        let base = models.last().cloned().unwrap_or_default();
        if let Some(fork_writes) = &b.fork {
            let fork = store
                .prepare(parent.as_ref(), version, fork_writes.clone())
                .unwrap();
            let mut model = base.clone();
            apply_writes(&mut model, fork_writes);
            forks.push((fork, model));
        }
        let state = store
            .prepare(parent.as_ref(), version, b.writes.clone())
            .unwrap();
        let mut model = base;
        apply_writes(&mut model, &b.writes);
        states.push(state);
        models.push(model);

        for _ in 0..b.commit {
            if committed < states.len() {
                commit(&store, committed as u64, states[committed].clone());
                committed += 1;
            }
        }

        for (state, model) in states.iter().zip(&models) {
            check_state("main", state, model, &queries)?;
        }
        for (fork, model) in &forks {
            check_state("fork", fork, model, &queries)?;
        }
        let latest = match committed {
            0 => Model::new(),
            n => models[n - 1].clone(),
        };
        check_latest(&store, &latest, &queries)?;
    }

    // Commit the rest, reopen from disk, and read again.
    while committed < states.len() {
        commit(&store, committed as u64, states[committed].clone());
        committed += 1;
    }
    let last = models.last().cloned().unwrap_or_default();
    drop((states, forks, store));
    let store = Store::open(dir.path(), kind).unwrap();
    check_latest(&store, &last, &queries)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Ranges at every prepared, committed and forked state, and at the latest committed state
    /// (also after a reopen), equal a `BTreeMap` model filtered to the ordered prefixes.
    #[test]
    fn range_matches_model(
        sm3 in any::<bool>(),
        blocks in proptest::collection::vec(block(), 1..8),
        queries in proptest::collection::vec(query(), 1..6),
    ) {
        let kind = if sm3 { HashKind::Sm3 } else { HashKind::Sha256 };
        run(kind, blocks, queries)?;
    }
}

// ---- examples ----------------------------------------------------------------------------

fn all(state: &PreparedState, descending: bool) -> Entries {
    state.range(ALL.0, ALL.1, usize::MAX, descending).unwrap()
}

fn reversed(mut e: Entries) -> Entries {
    e.reverse();
    e
}

/// Two competing blocks at height 1; once one is committed, ranges through the other branch
/// (and its child) still see only that branch's own data over height 0.
#[test]
fn competing_branch_does_not_see_committed_sibling() {
    for kind in KINDS {
        let (_d, store) = open(kind);
        apply(&store, vec![cset("a", "0"), cset("b", "0")]);
        let a1 = store
            .prepare(None, 1, vec![cset("c", "A"), cdel("a"), cset("b", "A")])
            .unwrap();
        let b1 = store.prepare(None, 1, vec![cset("d", "B")]).unwrap();
        let b2 = store.prepare(Some(&b1), 2, vec![cset("e", "B2")]).unwrap();
        commit(&store, 1, a1.clone());

        let on_b1 = entries(&[("a", "0"), ("b", "0"), ("d", "B")]);
        let on_b2 = entries(&[("a", "0"), ("b", "0"), ("d", "B"), ("e", "B2")]);
        let on_a1 = entries(&[("b", "A"), ("c", "A")]);
        assert_eq!(all(&b1, false), on_b1);
        assert_eq!(all(&b1, true), reversed(on_b1.clone()));
        assert_eq!(all(&b2, false), on_b2);
        assert_eq!(all(&b2, true), reversed(on_b2.clone()));
        assert_eq!(all(&a1, false), on_a1);
        assert_eq!(
            store.range_latest(ALL.0, ALL.1, usize::MAX, false).unwrap(),
            on_a1
        );
        // Point reads agree with the ranges.
        for (state, list) in [(&b1, &on_b1), (&b2, &on_b2), (&a1, &on_a1)] {
            for k in ["a", "b", "c", "d", "e"] {
                let key = ck(k.as_bytes());
                let want = list
                    .iter()
                    .find(|(kk, _)| *kk == key)
                    .map(|(_, v)| v.clone());
                assert_eq!(state.get(&key).unwrap(), want, "{k}");
            }
        }
        // Limits through the fork: first / last two.
        assert_eq!(
            b2.range(ALL.0, ALL.1, 2, false).unwrap(),
            on_b2[..2].to_vec()
        );
        assert_eq!(
            b2.range(ALL.0, ALL.1, 2, true).unwrap(),
            reversed(on_b2[2..].to_vec())
        );
    }
}

/// Deletions in unfinalized layers hide committed entries, and the limit still yields exactly
/// `limit` entries from further down the committed index.
#[test]
fn limit_is_exact_when_layers_delete_committed_entries() {
    let (_d, store) = open(HashKind::Sm3);
    apply(
        &store,
        ["1", "2", "3", "4", "5", "6"]
            .iter()
            .map(|k| cset(k, k))
            .collect(),
    );
    let s1 = store
        .prepare(None, 1, vec![cdel("1"), cdel("2"), cset("3", "three")])
        .unwrap();
    let s2 = store
        .prepare(Some(&s1), 2, vec![cdel("3"), cdel("6"), cset("2", "two")])
        .unwrap();
    assert_eq!(
        s2.range(ALL.0, ALL.1, 3, false).unwrap(),
        entries(&[("2", "two"), ("4", "4"), ("5", "5")])
    );
    assert_eq!(
        s2.range(ALL.0, ALL.1, 2, true).unwrap(),
        entries(&[("5", "5"), ("4", "4")])
    );
    assert_eq!(
        s1.range(ALL.0, ALL.1, 2, false).unwrap(),
        entries(&[("3", "three"), ("4", "4")])
    );
    assert_eq!(s2.range(ALL.0, ALL.1, 0, false).unwrap(), vec![]);
    // Once committed, the same answers come from the index.
    commit(&store, 1, s1.clone());
    commit(&store, 2, s2.clone());
    assert_eq!(
        store.range_latest(ALL.0, ALL.1, 3, false).unwrap(),
        entries(&[("2", "two"), ("4", "4"), ("5", "5")])
    );
    assert_eq!(
        s1.range(ALL.0, ALL.1, 2, false).unwrap(),
        entries(&[("3", "three"), ("4", "4")])
    );
}

/// The index survives a reopen, and new blocks prepared on the reopened store range over it.
#[test]
fn ranges_persist_across_reopen() {
    for kind in KINDS {
        let dir = tempfile::tempdir().unwrap();
        let want = vec![
            (ck(b""), b"empty".to_vec()),
            (ck(b"\0"), b"nul".to_vec()),
            (ck(b"\0\xff"), b"nul ff".to_vec()),
            (ck(b"a"), b"a2".to_vec()),
            (ck(b"a\0b"), b"a nul b".to_vec()),
            (ck(b"b"), b"b".to_vec()),
        ];
        {
            let store = Store::open(dir.path(), kind).unwrap();
            apply(
                &store,
                vec![cset("a", "a1"), cset("z", "z"), set("bank/x", "1")],
            );
            let writes: Writes = want
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .chain([cdel("z")])
                .collect();
            apply(&store, writes);
            assert_eq!(
                store.range_latest(ALL.0, ALL.1, usize::MAX, false).unwrap(),
                want
            );
        }
        let store = Store::open(dir.path(), kind).unwrap();
        assert_eq!(
            store.range_latest(ALL.0, ALL.1, usize::MAX, false).unwrap(),
            want
        );
        assert_eq!(
            store.range_latest(ALL.0, ALL.1, usize::MAX, true).unwrap(),
            reversed(want.clone())
        );
        // Sub-range with escaped bytes: ["contract/store/\0", "contract/store/a\0b").
        assert_eq!(
            store
                .range_latest(&ck(b"\0"), &ck(b"a\0b"), usize::MAX, false)
                .unwrap(),
            want[1..4].to_vec()
        );
        let s2 = store
            .prepare(None, 2, vec![cdel("a"), cset("c", "c")])
            .unwrap();
        let mut next: Entries = want
            .iter()
            .filter(|(k, _)| *k != ck(b"a"))
            .cloned()
            .collect();
        next.push((ck(b"c"), b"c".to_vec()));
        assert_eq!(all(&s2, false), next);
    }
}

/// Keys outside the ordered prefixes are never indexed: ranges outside the prefixes are empty
/// (at prepared and committed state), and a range spanning everything returns only ordered keys.
#[test]
fn ranges_outside_ordered_prefixes_return_nothing() {
    let (_d, store) = open(HashKind::Sha256);
    apply(
        &store,
        vec![
            set("bank/alice", "1"),
            set("bank/bob", "2"),
            set("contract/stor", "x"),
            set("contract/store", "x"),
            set("contract/store0", "x"),
            cset("k", "v"),
        ],
    );
    let s1 = store
        .prepare(None, 1, vec![set("bank/carol", "3"), set("nonce/a", "1")])
        .unwrap();
    let outside: [(&[u8], &[u8]); 4] = [
        (b"bank/", b"bank0"),
        (b"", b"contract/store/"),
        (b"contract/store0", b"\xff"),
        (b"nonce/", b"nonce0"),
    ];
    for (start, end) in outside {
        for descending in [false, true] {
            assert_eq!(
                store.range_latest(start, end, 10, descending).unwrap(),
                vec![]
            );
            assert_eq!(s1.range(start, end, 10, descending).unwrap(), vec![]);
        }
    }
    let only = entries(&[("k", "v")]);
    assert_eq!(store.range_latest(ALL.0, ALL.1, 10, false).unwrap(), only);
    assert_eq!(all(&s1, true), only);
    // Empty and inverted ranges.
    assert_eq!(s1.range(&ck(b"k"), &ck(b"k"), 10, false).unwrap(), vec![]);
    assert_eq!(s1.range(&ck(b"z"), &ck(b"a"), 10, false).unwrap(), vec![]);
}

/// `range_at` reads the committed state of an older height while newer ones exist, agrees with
/// `get_at` there, and refuses heights not committed yet.
#[test]
fn ranges_at_a_committed_height() {
    for kind in KINDS {
        let (_d, store) = open(kind);
        apply(&store, vec![cset("a", "0"), cset("b", "0")]);
        apply(&store, vec![cset("a", "1"), cdel("b"), cset("c", "1")]);
        apply(&store, vec![cset("d", "2")]);
        let at = |h: u64, descending: bool| {
            store
                .range_at(ALL.0, ALL.1, usize::MAX, descending, h)
                .unwrap()
        };
        let h0 = entries(&[("a", "0"), ("b", "0")]);
        let h1 = entries(&[("a", "1"), ("c", "1")]);
        assert_eq!(at(0, false), h0);
        assert_eq!(at(0, true), reversed(h0.clone()));
        assert_eq!(at(1, false), h1);
        assert_eq!(
            at(2, false),
            store.range_latest(ALL.0, ALL.1, usize::MAX, false).unwrap()
        );
        assert_eq!(store.range_at(ALL.0, ALL.1, 1, false, 1).unwrap(), h1[..1]);
        for (k, v) in &h0 {
            assert_eq!(store.get_at(k, 0).unwrap().as_ref(), Some(v));
        }
        assert_eq!(store.get_at(&ck(b"b"), 1).unwrap(), None);
        assert!(store.range_at(ALL.0, ALL.1, 10, false, 3).is_err());
        // Outside the ordered prefixes: nothing, as for range_latest.
        assert!(store.range_at(b"a", b"b", 10, false, 2).unwrap().is_empty());
    }
}
