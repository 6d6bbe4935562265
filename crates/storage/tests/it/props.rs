//! Property: however a history of write sets is committed, the root equals the root of a fresh
//! store holding only the final key/value set.

use std::collections::BTreeMap;

use meridian_storage::{verify_state_proof, HashKind};
use proptest::prelude::*;

use crate::common::*;

fn write_set() -> impl Strategy<Value = Writes> {
    proptest::collection::vec(
        (
            0u8..24,
            proptest::option::weighted(0.8, proptest::collection::vec(any::<u8>(), 0..6)),
        ),
        0..16,
    )
    .prop_map(|ws| {
        ws.into_iter()
            .map(|(k, v)| (format!("key/{k}").into_bytes(), v))
            .collect()
    })
}

fn check(kind: HashKind, history: Vec<Writes>, pipeline: bool) -> Result<(), TestCaseError> {
    let (_d1, store) = open(kind);
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut last_root = [0; 32];
    if pipeline {
        // Prepare the whole history as one unfinalized chain, then commit it.
        let mut states = Vec::new();
        for (h, writes) in history.iter().enumerate() {
            let s = store
                .prepare(states.last(), h as u64, writes.clone())
                .unwrap();
            states.push(s);
        }
        for (h, s) in states.into_iter().enumerate() {
            last_root = s.root();
            commit(&store, h as u64, s);
        }
    } else {
        for writes in &history {
            last_root = apply(&store, writes.clone());
        }
    }
    for writes in history {
        for (k, v) in writes {
            match v {
                Some(v) => model.insert(k, v),
                None => model.remove(&k),
            };
        }
    }

    let (_d2, fresh) = open(kind);
    let from_scratch = apply(
        &fresh,
        model
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect(),
    );
    prop_assert_eq!(last_root, from_scratch);
    prop_assert_eq!(store.latest_root(), Some(last_root));

    let latest = store.latest_height().unwrap();
    for k in 0u8..24 {
        let key = format!("key/{k}").into_bytes();
        let expected = model.get(&key).cloned();
        prop_assert_eq!(store.get_latest(&key).unwrap(), expected.clone());
        let (value, proof) = store.get_with_proof(&key, latest).unwrap();
        prop_assert_eq!(value.clone(), expected);
        prop_assert!(
            verify_state_proof(kind, last_root, &key, value.as_deref(), &proof.encode()).is_ok()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn root_is_history_independent_sm3(
        history in proptest::collection::vec(write_set(), 1..6),
        pipeline in any::<bool>(),
    ) {
        check(HashKind::Sm3, history, pipeline)?;
    }

    #[test]
    fn root_is_history_independent_sha256(
        history in proptest::collection::vec(write_set(), 1..6),
        pipeline in any::<bool>(),
    ) {
        check(HashKind::Sha256, history, pipeline)?;
    }
}
