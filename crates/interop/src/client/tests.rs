//! Light-client rejection tests: each bad input is refused (or detected as misbehaviour) with
//! its code, against headers and certificates of a real test chain.

use super::*;
use crate::testing::TestChain;
use meridian_crypto::PrivateKey;

const HOUR: u64 = 3_600_000;
const T0: u64 = 1_700_000_000_000;

/// A client of `chain` trusting its header at `height` (set of that epoch), as governance
/// creates it, plus its first consensus state.
fn client_at(chain: &TestChain, height: u64) -> (ClientState, ConsensusState) {
    let c = ClientState::new(
        chain.chain_id.clone(),
        chain.suite,
        chain.epoch_blocks,
        24 * HOUR,
        10_000,
        height,
    )
    .unwrap();
    let set = chain.validators(c.epoch_of(height));
    let cs = c
        .check_initial(&set, &chain.signed_header(height), chain.time_ms)
        .unwrap();
    (c, cs)
}

fn apply(
    c: &mut ClientState,
    cs: &mut ConsensusState,
    out: UpdateOutcome,
) -> Option<(u64, Vec<PublicKey>)> {
    match out {
        UpdateOutcome::Updated {
            height,
            consensus,
            next_set,
        } => {
            c.latest_height = height;
            *cs = consensus;
            next_set
        }
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn follows_the_chain_across_a_validator_set_change() {
    for suite in [Suite::Intl, Suite::Sm] {
        let mut chain = TestChain::new("region-a-1", suite, 4, 4, T0, 1);
        for _ in 0..2 {
            chain.commit(vec![], 1000);
        }
        let (mut c, mut cs) = client_at(&chain, 2);
        assert_eq!(c.revision(), 1);
        // A new set is voted in during epoch 0; it signs from epoch 1 (height 4).
        let new_keys: Vec<_> = (0..5u8)
            .map(|i| PrivateKey::from_seed(suite, &[100 + i; 32]))
            .collect();
        chain.replace_validators(new_keys);
        for _ in 0..6 {
            chain.commit(vec![], 1000);
        }
        let mut sets = BTreeMap::from([(0u64, chain.validators(0))]);
        // Height 5 (epoch 1) first: its set is not known yet.
        let set1 = sets.get(&1).cloned().unwrap_or_default();
        let e = c
            .check_update(&cs, &set1, None, &chain.update(5), chain.time_ms)
            .unwrap_err();
        assert_eq!(e.code, codes::BAD_CERTIFICATE, "{e}");
        // The boundary block of epoch 0 (height 3) needs the next set and its proof.
        let mut bare = chain.update(3);
        bare.next_validators = None;
        let e = c
            .check_update(&cs, &sets[&0], None, &bare, chain.time_ms)
            .unwrap_err();
        assert_eq!(e.code, codes::BAD_VALIDATOR_SET);
        // A set that is not the one in state: the proof fails.
        let mut forged = chain.update(3);
        forged.next_validators.as_mut().unwrap().validators = set_of(&chain.validators(0));
        let e = c
            .check_update(&cs, &sets[&0], None, &forged, chain.time_ms)
            .unwrap_err();
        assert_eq!(e.code, codes::PROOF_INVALID, "{e}");
        let out = c
            .check_update(&cs, &sets[&0], None, &chain.update(3), chain.time_ms)
            .unwrap();
        let (epoch, set) = apply(&mut c, &mut cs, out).expect("next set");
        assert_eq!((epoch, set.len()), (1, 5));
        assert_eq!(set, chain.validators(1));
        sets.insert(epoch, set);
        // Epoch 1 headers verify with the new set only.
        let e = c
            .check_update(&cs, &sets[&0], None, &chain.update(5), chain.time_ms)
            .unwrap_err();
        assert_eq!(e.code, codes::BAD_CERTIFICATE);
        let out = c
            .check_update(&cs, &sets[&1], None, &chain.update(5), chain.time_ms)
            .unwrap();
        assert!(apply(&mut c, &mut cs, out).is_none());
        assert_eq!(c.latest_height, 5);
        // The same header again is a no-op; an older one is stale.
        let again = c
            .check_update(&cs, &sets[&1], Some(&cs), &chain.update(5), chain.time_ms)
            .unwrap();
        assert_eq!(again, UpdateOutcome::AlreadyKnown);
        let e = c
            .check_update(&cs, &sets[&1], None, &chain.update(4), chain.time_ms)
            .unwrap_err();
        assert_eq!(e.code, codes::STALE_HEADER);
        // A non-boundary header carrying a set is refused.
        let mut noisy = chain.update(6);
        noisy.next_validators = chain.update(7).next_validators;
        let e = c
            .check_update(&cs, &sets[&1], None, &noisy, chain.time_ms)
            .unwrap_err();
        assert_eq!(e.code, codes::BAD_VALIDATOR_SET);
    }
}

#[test]
fn rejects_weak_duplicate_and_foreign_certificates() {
    let mut chain = TestChain::new("region-a", Suite::Intl, 4, 100, T0, 1);
    chain.commit(vec![], 1000);
    let (c, cs) = client_at(&chain, 1);
    let h2 = chain.commit(vec![], 1000);
    let set = chain.validators(0);
    let update = |signed: SignedHeader| HeaderUpdate {
        signed,
        next_validators: None,
    };
    // Less than a quorum (2 of 4).
    let full = chain.sign(&h2.header, 0, Some(&[0, 1, 2]));
    let weak = SignedHeader {
        header: h2.header.clone(),
        certificate: meridian_crypto::finality::testing::drop_last_signer(&full.certificate),
    };
    let e = c
        .check_update(&cs, &set, None, &update(weak), chain.time_ms)
        .unwrap_err();
    assert_eq!(e.code, codes::BAD_CERTIFICATE, "{e}");
    // One validator's signature counted twice (its signature in another's slot).
    let mut twice = full.clone();
    let n = twice.certificate.len();
    let first = twice.certificate[n - 3 * 64..n - 2 * 64].to_vec();
    twice.certificate[n - 64..].copy_from_slice(&first);
    let e = c
        .check_update(&cs, &set, None, &update(twice), chain.time_ms)
        .unwrap_err();
    assert_eq!(e.code, codes::BAD_CERTIFICATE);
    // A trusted set listing a key twice is refused before anything is checked.
    let mut dup = set.clone();
    dup[3] = dup[0].clone();
    assert_eq!(
        check_set(&dup, Suite::Intl).unwrap_err().code,
        codes::BAD_VALIDATOR_SET
    );
    let e = c
        .check_update(&cs, &dup, None, &update(full.clone()), chain.time_ms)
        .unwrap_err();
    assert_eq!(e.code, codes::BAD_CERTIFICATE);
    // The same keys running another chain id: its header is refused by chain id, and a header
    // relabelled with our chain id does not match the signatures.
    let mut other = TestChain::new("region-b", Suite::Intl, 4, 100, T0, 1);
    other.commit(vec![], 1000);
    let foreign = other.commit(vec![], 1000);
    let e = c
        .check_update(&cs, &set, None, &update(foreign.clone()), chain.time_ms)
        .unwrap_err();
    assert_eq!(e.code, codes::WRONG_CHAIN);
    let mut relabelled = foreign;
    relabelled.header.chain_id = chain.chain_id.clone();
    let e = c
        .check_update(&cs, &set, None, &update(relabelled), chain.time_ms)
        .unwrap_err();
    assert_eq!(e.code, codes::BAD_CERTIFICATE);
    // The honest header passes.
    c.check_update(&cs, &set, None, &update(full), chain.time_ms)
        .unwrap();
}

#[test]
fn trusting_period_and_clock_drift() {
    let mut chain = TestChain::new("region-a", Suite::Sm, 4, 100, T0, 7);
    chain.commit(vec![], 1000);
    let (c, cs) = client_at(&chain, 1);
    let h2 = chain.commit(vec![], 1000);
    let set = chain.validators(0);
    let upd = HeaderUpdate {
        signed: h2.clone(),
        next_validators: None,
    };
    // Too far in the future for the host's clock (drift 10 s).
    let e = c
        .check_update(&cs, &set, None, &upd, h2.header.timestamp_ms - 10_001)
        .unwrap_err();
    assert_eq!(e.code, codes::HEADER_IN_FUTURE);
    c.check_update(&cs, &set, None, &upd, h2.header.timestamp_ms - 10_000)
        .unwrap();
    // Older than the trusting period: the client itself has expired by then.
    let later = cs.timestamp_ms + 24 * HOUR;
    assert_eq!(c.status(&cs, later), ClientStatus::Expired);
    let e = c.check_update(&cs, &set, None, &upd, later).unwrap_err();
    assert_eq!(e.code, codes::CLIENT_EXPIRED);
    // Governance cannot create a client from a header older than the trusting period (a later
    // header with an older time than the client's is misbehaviour, tested below).
    let e = c
        .check_initial(&set, &chain.signed_header(1), later + 1000)
        .unwrap_err();
    assert_eq!(e.code, codes::HEADER_EXPIRED);
    // Creation parameters are bounded.
    assert!(ClientState::new(c.chain_id.clone(), Suite::Sm, 0, 1, 0, 1).is_err());
    assert!(ClientState::new(c.chain_id.clone(), Suite::Sm, 1, 0, 0, 1).is_err());
    assert!(ClientState::new(
        c.chain_id.clone(),
        Suite::Sm,
        1,
        1,
        MAX_CLOCK_DRIFT_MS + 1,
        1
    )
    .is_err());
}

#[test]
fn conflicting_headers_and_time_going_backwards_are_misbehaviour() {
    let mut chain = TestChain::new("region-a", Suite::Intl, 4, 100, T0, 3);
    chain.commit(vec![], 1000);
    let (mut c, mut cs) = client_at(&chain, 1);
    let h2 = chain.commit(vec![], 1000);
    let set = chain.validators(0);
    let out = c
        .check_update(&cs, &set, None, &chain.update(2), chain.time_ms)
        .unwrap();
    apply(&mut c, &mut cs, out);
    // The validators sign a second block at height 2.
    let mut fork = h2.header.clone();
    fork.state_root = [9; 32];
    let fork = chain.sign(&fork, 0, None);
    let upd = HeaderUpdate {
        signed: fork.clone(),
        next_validators: None,
    };
    match c
        .check_update(&cs, &set, Some(&cs), &upd, chain.time_ms)
        .unwrap()
    {
        UpdateOutcome::Misbehaviour { height, .. } => assert_eq!(height, 2),
        other => panic!("{other:?}"),
    }
    let m = Misbehaviour {
        a: h2.clone(),
        b: fork,
    };
    assert_eq!(c.check_misbehaviour(&set, &set, &m).unwrap(), 2);
    // Two consistent headers are not evidence.
    let h3 = chain.commit(vec![], 1000);
    let fine = Misbehaviour {
        a: h2.clone(),
        b: h3.clone(),
    };
    assert_eq!(
        c.check_misbehaviour(&set, &set, &fine).unwrap_err().code,
        codes::NOT_MISBEHAVIOUR
    );
    // A later header with an earlier time.
    let mut back = h3.header.clone();
    back.timestamp_ms = h2.header.timestamp_ms - 1;
    let back = chain.sign(&back, 0, None);
    let upd = HeaderUpdate {
        signed: back.clone(),
        next_validators: None,
    };
    assert!(matches!(
        c.check_update(&cs, &set, None, &upd, chain.time_ms)
            .unwrap(),
        UpdateOutcome::Misbehaviour { height: 3, .. }
    ));
    assert_eq!(
        c.check_misbehaviour(&set, &set, &Misbehaviour { a: h2, b: back })
            .unwrap(),
        2
    );
    // Once frozen, nothing verifies, not even the honest next header.
    c.frozen_height = 2;
    let e = c
        .check_update(&cs, &set, None, &chain.update(3), chain.time_ms)
        .unwrap_err();
    assert_eq!(e.code, codes::CLIENT_FROZEN);
    // Substitution: only an active client of the same chain.
    let (sub, sub_cs) = client_at(&chain, 3);
    c.check_substitute(&sub, &sub_cs, chain.time_ms).unwrap();
    let other = TestChain::new("region-z", Suite::Intl, 4, 100, T0, 3);
    let mut wrong = sub.clone();
    wrong.chain_id = other.chain_id.clone();
    assert_eq!(
        c.check_substitute(&wrong, &sub_cs, chain.time_ms)
            .unwrap_err()
            .code,
        codes::BAD_SUBSTITUTE
    );
    let mut frozen_sub = sub;
    frozen_sub.frozen_height = 1;
    assert_eq!(
        c.check_substitute(&frozen_sub, &sub_cs, chain.time_ms)
            .unwrap_err()
            .code,
        codes::BAD_SUBSTITUTE
    );
}

#[test]
fn stored_forms_round_trip_and_are_bounded() {
    let chain = TestChain::new("region-a", Suite::Sm, 4, 8, T0, 1);
    let c = ClientState::new(chain.chain_id.clone(), Suite::Sm, 8, HOUR, 0, 0).unwrap();
    assert_eq!(decode_client(&c.encode()).unwrap(), c);
    let keys = chain.validators(0);
    assert_eq!(decode_keys(Suite::Sm, &encode_keys(&keys)).unwrap(), keys);
    assert!(decode_keys(Suite::Intl, &encode_keys(&keys)).is_err());
    let mut bytes = c.encode();
    bytes.push(0);
    assert_eq!(
        decode_client(&bytes).unwrap_err().code,
        codes::CORRUPT_STATE
    );
    assert_eq!(revision_of("meridian"), 0);
    assert_eq!(revision_of("meridian-a-12"), 12);
}

use std::collections::BTreeMap;

fn set_of(keys: &[PublicKey]) -> Vec<u8> {
    ValidatorSet(
        keys.iter()
            .map(|k| meridian_types::ValidatorEntry {
                name: "x".into(),
                public_key: k.as_bytes().to_vec(),
            })
            .collect(),
    )
    .encode()
}
