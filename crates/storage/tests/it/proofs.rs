//! Membership / non-membership proofs and their hostile-input decoding.

use meridian_storage::{verify_state_proof, HashKind, StateProof, MAX_STATE_PROOF_LEN};
use proptest::prelude::*;

use crate::common::*;

/// A store with 50 accounts at v0 and some changes at v1.
fn populated(kind: HashKind) -> (tempfile::TempDir, meridian_storage::Store) {
    let (dir, store) = open(kind);
    let writes = (0..50)
        .map(|i| set(&format!("acct/{i}"), &format!("{}", i * 10)))
        .collect();
    apply(&store, writes);
    apply(&store, vec![set("acct/0", "999"), del("acct/1")]);
    (dir, store)
}

#[test]
fn membership_and_non_membership_verify() {
    for kind in KINDS {
        let (_dir, store) = populated(kind);
        let root = store.root_at(1).unwrap().unwrap();

        // Present key.
        let (value, proof) = store.get_with_proof(b"acct/7", 1).unwrap();
        assert_eq!(value, Some(b"70".to_vec()));
        assert_eq!(proof.hash_kind(), kind);
        let bytes = proof.encode();
        verify_state_proof(kind, root, b"acct/7", Some(b"70"), &bytes).unwrap();
        proof.verify(root, b"acct/7", Some(b"70")).unwrap();

        // Absent keys (never existed, and deleted at v1).
        for absent in [&b"acct/none"[..], b"acct/1", b""] {
            let (value, proof) = store.get_with_proof(absent, 1).unwrap();
            assert_eq!(value, None);
            verify_state_proof(kind, root, absent, None, &proof.encode()).unwrap();
            // The same proof cannot claim presence.
            let err =
                verify_state_proof(kind, root, absent, Some(b"10"), &proof.encode()).unwrap_err();
            assert_eq!(err.code(), "storage.proof_invalid");
        }

        // A membership proof cannot be used to claim absence.
        let err = verify_state_proof(kind, root, b"acct/7", None, &bytes).unwrap_err();
        assert_eq!(err.code(), "storage.proof_invalid");
    }
}

#[test]
fn proofs_fail_against_wrong_root_or_value_or_key() {
    for kind in KINDS {
        let (_dir, store) = populated(kind);
        let root = store.root_at(1).unwrap().unwrap();
        let (_, proof) = store.get_with_proof(b"acct/7", 1).unwrap();
        let bytes = proof.encode();

        let mut wrong_root = root;
        wrong_root[0] ^= 1;
        let err = verify_state_proof(kind, wrong_root, b"acct/7", Some(b"70"), &bytes);
        assert_eq!(err.unwrap_err().code(), "storage.proof_invalid");

        let err = verify_state_proof(kind, root, b"acct/7", Some(b"71"), &bytes);
        assert_eq!(err.unwrap_err().code(), "storage.proof_invalid");

        let err = verify_state_proof(kind, root, b"acct/8", Some(b"70"), &bytes);
        assert_eq!(err.unwrap_err().code(), "storage.proof_invalid");

        // Absent-key proof against the wrong root.
        let (_, proof) = store.get_with_proof(b"nobody", 1).unwrap();
        let err = verify_state_proof(kind, wrong_root, b"nobody", None, &proof.encode());
        assert_eq!(err.unwrap_err().code(), "storage.proof_invalid");

        // Flip every byte of the encoding: it must never verify (malformed or invalid).
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x01;
            assert!(
                verify_state_proof(kind, root, b"acct/7", Some(b"70"), &t).is_err(),
                "tampered byte {i} still verifies"
            );
        }

        // The other suite's verifier refuses it.
        let other = match kind {
            HashKind::Sm3 => HashKind::Sha256,
            HashKind::Sha256 => HashKind::Sm3,
        };
        let err = verify_state_proof(other, root, b"acct/7", Some(b"70"), &bytes);
        assert_eq!(err.unwrap_err().code(), "storage.proof_malformed");
    }
}

#[test]
fn historical_proofs_verify_against_their_own_root() {
    for kind in KINDS {
        let (_dir, store) = populated(kind);
        let r0 = store.root_at(0).unwrap().unwrap();
        let r1 = store.root_at(1).unwrap().unwrap();
        let (v0, p0) = store.get_with_proof(b"acct/0", 0).unwrap();
        assert_eq!(v0, Some(b"0".to_vec()));
        verify_state_proof(kind, r0, b"acct/0", Some(b"0"), &p0.encode()).unwrap();
        assert!(verify_state_proof(kind, r1, b"acct/0", Some(b"0"), &p0.encode()).is_err());
        let (v1, p1) = store.get_with_proof(b"acct/1", 0).unwrap();
        assert_eq!(v1, Some(b"10".to_vec()));
        verify_state_proof(kind, r0, b"acct/1", Some(b"10"), &p1.encode()).unwrap();
    }
}

#[test]
fn empty_tree_non_membership() {
    for kind in KINDS {
        let (_dir, store) = open(kind);
        let root = apply(&store, vec![]);
        let (value, proof) = store.get_with_proof(b"x", 0).unwrap();
        assert_eq!(value, None);
        assert_eq!(proof.sibling_count(), 0);
        verify_state_proof(kind, root, b"x", None, &proof.encode()).unwrap();
    }
}

#[test]
fn encoding_roundtrips_and_is_canonical() {
    let (_dir, store) = populated(HashKind::Sm3);
    for key in ["acct/3", "acct/1", "zz", "acct/49"] {
        let (_, proof) = store.get_with_proof(key.as_bytes(), 1).unwrap();
        let bytes = proof.encode();
        assert!(bytes.len() <= MAX_STATE_PROOF_LEN);
        let back = StateProof::decode(&bytes).unwrap();
        assert_eq!(back, proof);
        assert_eq!(back.encode(), bytes);
    }
}

#[test]
fn hostile_bytes_are_rejected_without_panic() {
    let (_dir, store) = populated(HashKind::Sha256);
    let (_, proof) = store.get_with_proof(b"acct/3", 1).unwrap();
    let bytes = proof.encode();
    // Every truncation.
    for len in 0..bytes.len() {
        let err = StateProof::decode(&bytes[..len]).unwrap_err();
        assert_eq!(err.code(), "storage.proof_malformed");
    }
    // Trailing byte.
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        StateProof::decode(&long).unwrap_err().code(),
        "storage.proof_malformed"
    );
    // Oversized input is refused before parsing.
    let huge = vec![0u8; MAX_STATE_PROOF_LEN + 1];
    assert!(StateProof::decode(&huge).is_err());
    // Bad format, suite, leaf flag, sibling count, sibling tag.
    for (i, v) in [(0usize, 2u8), (1, 0), (1, 3), (2, 2)] {
        let mut t = bytes.clone();
        t[i] = v;
        assert!(StateProof::decode(&t).is_err(), "byte {i} = {v}");
    }
    // 257 placeholder siblings: count bound.
    let mut many = vec![1, 2, 0];
    many.extend_from_slice(&257u16.to_be_bytes());
    many.extend(std::iter::repeat_n(0u8, 257));
    assert!(StateProof::decode(&many).is_err());
    // 256 placeholders decode, but prove nothing.
    let mut max = vec![1, 2, 0];
    max.extend_from_slice(&256u16.to_be_bytes());
    max.extend(std::iter::repeat_n(0u8, 256));
    let p = StateProof::decode(&max).unwrap();
    assert!(p.verify([0; 32], b"k", None).is_err());
    let mut bad_tag = vec![1, 2, 0];
    bad_tag.extend_from_slice(&1u16.to_be_bytes());
    bad_tag.push(3);
    assert!(StateProof::decode(&bad_tag).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic_and_decode_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(p) = StateProof::decode(&bytes) {
            prop_assert_eq!(p.encode(), bytes.clone());
            let _ = p.verify([7; 32], b"k", None);
            let _ = p.verify([7; 32], b"k", Some(b"v"));
        }
        let _ = verify_state_proof(HashKind::Sm3, [0; 32], b"k", None, &bytes);
    }

    #[test]
    fn structured_random_proofs_never_panic(
        leaf in proptest::option::of((any::<[u8; 32]>(), any::<[u8; 32]>())),
        siblings in proptest::collection::vec((0u8..3, any::<[u8; 32]>(), any::<[u8; 32]>()), 0..40),
        sm in any::<bool>(),
    ) {
        let mut b = vec![1, if sm { 1 } else { 2 }];
        match leaf {
            None => b.push(0),
            Some((k, v)) => { b.push(1); b.extend_from_slice(&k); b.extend_from_slice(&v); }
        }
        b.extend_from_slice(&(siblings.len() as u16).to_be_bytes());
        for (tag, l, r) in &siblings {
            b.push(*tag);
            if *tag != 0 { b.extend_from_slice(l); b.extend_from_slice(r); }
        }
        let p = StateProof::decode(&b).unwrap();
        prop_assert_eq!(p.encode(), b);
        let _ = p.verify([1; 32], b"key", Some(b"value"));
        let _ = p.verify([1; 32], b"key", None);
    }
}
