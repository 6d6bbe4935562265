//! Issue → verify, and every rejection path of `verify_chain` / the trust store.

use crate::support::*;
use meridian_crypto::{PrivateKey, Suite};
use meridian_identity::{
    check_ca, verify_ca, verify_chain, Algorithm, CaKind, CaParams, CertId, Certificate,
    IdentityError, OrgCa, PublicKeyInfo, Role, Serial, SigningKey, TrustStore,
};
use std::cell::RefCell;

fn code(r: Result<impl std::fmt::Debug, IdentityError>) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn issue_and_verify_every_algorithm() {
    for alg in Algorithm::ALL {
        let suite = suite_of(alg);
        let ca = org_ca(alg, "org1", 1);
        assert_eq!(ca.org(), "org1");
        assert_eq!(ca.algorithm(), alg);
        let cert = member(&ca, "node1", Role::Consensus, 2, 7);
        let store = store(suite, &[&ca]);
        let id = verify_chain(&cert, &store, suite, NOW, never).unwrap();
        assert_eq!(id.org, "org1", "{alg}");
        assert_eq!(id.role, Role::Consensus);
        assert_eq!(id.name, "node1");
        assert_eq!(id.algorithm, alg);
        assert_eq!(id.public_key, key(alg, 2).public_key());
        assert_eq!(id.cert_id, cert.cert_id(suite));
        assert_eq!(id.issuer_ca_id, ca.certificate().cert_id(suite));
        assert_eq!(id.issuer_kind, CaKind::Org);
        assert_eq!(id.serial, Serial::from_u64(7).unwrap());
        assert_eq!(id.not_after, NOW + YEAR);
        // Accessors.
        assert_eq!(cert.org(), Some("org1"));
        assert_eq!(cert.name(), Some("node1"));
        assert_eq!(cert.role().unwrap(), Role::Consensus);
        assert_eq!(cert.algorithm(), alg);
        assert_eq!(cert.signature_algorithm(), alg);
        assert_eq!(cert.not_before(), NOW - DAY);
        assert_eq!(cert.not_after(), NOW + YEAR);
        assert!(!cert.is_ca());
        assert!(ca.certificate().is_ca());
        assert_eq!(ca.certificate().path_len(), Some(0));
        assert_eq!(ca.certificate().name(), Some("ca.org1"));
        verify_ca(ca.certificate(), suite, NOW).unwrap();
    }
}

#[test]
fn every_builtin_and_a_custom_role() {
    let ca = org_ca(Algorithm::Ed25519, "org1", 1);
    let store = store(Suite::Intl, &[&ca]);
    let mut roles = Role::BUILTIN.to_vec();
    roles.push("light-node".parse().unwrap());
    for (i, role) in roles.into_iter().enumerate() {
        let serial = 10 + i as u64;
        let cert = member(&ca, "m", role.clone(), 3, serial);
        let id = verify_chain(&cert, &store, Suite::Intl, NOW, never).unwrap();
        assert_eq!(id.role, role);
    }
}

#[test]
fn node_and_tx_keys_match_their_certificates() {
    for suite in Suite::ALL {
        let alg = match suite {
            Suite::Sm => Algorithm::Sm2Sm3,
            Suite::Intl => Algorithm::Ed25519,
        };
        let ca = org_ca(alg, "org1", 1);
        let node_key = PrivateKey::from_seed(suite, &[4; 32]);
        let cert = ca
            .issue(&request(
                "node1",
                Role::Consensus,
                node_key.public_key().into(),
                5,
            ))
            .unwrap();
        let id = verify_chain(&cert, &store(suite, &[&ca]), suite, NOW, never).unwrap();
        assert!(id.matches_key(&node_key.public_key()));
        let other = PrivateKey::from_seed(suite, &[5; 32]);
        assert!(!id.matches_key(&other.public_key()));
        assert_eq!(
            meridian_crypto::PublicKey::try_from(&id.public_key).unwrap(),
            node_key.public_key()
        );
    }
}

#[test]
fn intl_ca_may_certify_either_intl_algorithm() {
    let ca = org_ca(Algorithm::EcdsaP256Sha256, "org1", 1);
    let ed = key(Algorithm::Ed25519, 9).public_key();
    let cert = ca
        .issue(&request("n", Role::Client, ed.clone(), 2))
        .unwrap();
    assert_eq!(cert.signature_algorithm(), Algorithm::EcdsaP256Sha256);
    assert_eq!(cert.algorithm(), Algorithm::Ed25519);
    let id = verify_chain(&cert, &store(Suite::Intl, &[&ca]), Suite::Intl, NOW, never).unwrap();
    assert_eq!(id.public_key, ed);
    assert_eq!(id.algorithm, Algorithm::Ed25519);
}

#[test]
fn validity_windows_of_leaf_and_ca() {
    let ca = org_ca(Algorithm::Sm2Sm3, "org1", 1);
    let store = store(Suite::Sm, &[&ca]);
    let cert = member(&ca, "n", Role::Client, 2, 2);
    // Inclusive bounds.
    verify_chain(&cert, &store, Suite::Sm, NOW - DAY, never).unwrap();
    verify_chain(&cert, &store, Suite::Sm, NOW + YEAR, never).unwrap();
    let err = verify_chain(&cert, &store, Suite::Sm, NOW + YEAR + 1, never).unwrap_err();
    assert_eq!(err.code(), "cert.expired");
    assert!(matches!(
        err,
        IdentityError::Expired {
            which: meridian_identity::CertRole::Leaf,
            ..
        }
    ));
    let err = verify_chain(&cert, &store, Suite::Sm, NOW - DAY - 1, never).unwrap_err();
    assert_eq!(err.code(), "cert.not_yet_valid");

    // A leaf that outlives its CA is rejected once the CA expires.
    let long = ca
        .issue(&meridian_identity::IssueRequest {
            not_after: NOW + 20 * YEAR,
            ..request("n", Role::Client, key(Algorithm::Sm2Sm3, 2).public_key(), 3)
        })
        .unwrap();
    let err = verify_chain(&long, &store, Suite::Sm, NOW + 11 * YEAR, never).unwrap_err();
    assert!(matches!(
        err,
        IdentityError::Expired {
            which: meridian_identity::CertRole::Ca,
            ..
        }
    ));
    // ...and before the CA's own notBefore.
    let early = ca
        .issue(&meridian_identity::IssueRequest {
            not_before: NOW - 5 * YEAR,
            ..request("n", Role::Client, key(Algorithm::Sm2Sm3, 2).public_key(), 4)
        })
        .unwrap();
    let err = verify_chain(&early, &store, Suite::Sm, NOW - 2 * YEAR, never).unwrap_err();
    assert!(matches!(
        err,
        IdentityError::NotYetValid {
            which: meridian_identity::CertRole::Ca,
            ..
        }
    ));
    // verify_ca checks time, check_ca does not.
    assert_eq!(
        code(verify_ca(ca.certificate(), Suite::Sm, NOW + 11 * YEAR)),
        "cert.expired"
    );
    check_ca(ca.certificate(), Suite::Sm).unwrap();
}

#[test]
fn revoked() {
    let ca = org_ca(Algorithm::Ed25519, "org1", 1);
    let store = store(Suite::Intl, &[&ca]);
    let ca_id = ca.certificate().cert_id(Suite::Intl);
    let cert = member(&ca, "n", Role::Client, 2, 0x0102);
    let seen = RefCell::new(None);
    let err = verify_chain(
        &cert,
        &store,
        Suite::Intl,
        NOW,
        |id: &CertId, serial: &[u8]| {
            *seen.borrow_mut() = Some((*id, serial.to_vec()));
            *id == ca_id && serial == [0x01, 0x02]
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "cert.revoked");
    assert_eq!(seen.into_inner(), Some((ca_id, vec![0x01, 0x02])));
    // Another serial of the same CA is unaffected.
    let other = member(&ca, "m", Role::Client, 3, 0x0103);
    verify_chain(&other, &store, Suite::Intl, NOW, |id, serial| {
        *id == ca_id && serial == [0x01, 0x02]
    })
    .unwrap();
}

#[test]
fn unknown_ca() {
    let ca = org_ca(Algorithm::Sm2Sm3, "org1", 1);
    let cert = member(&ca, "n", Role::Client, 2, 2);
    // Empty store.
    assert_eq!(
        code(verify_chain(
            &cert,
            &TrustStore::new(Suite::Sm),
            Suite::Sm,
            NOW,
            never
        )),
        "cert.unknown_ca"
    );
    // Only another organisation is trusted.
    let org2 = org_ca(Algorithm::Sm2Sm3, "org2", 3);
    assert_eq!(
        code(verify_chain(
            &cert,
            &store(Suite::Sm, &[&org2]),
            Suite::Sm,
            NOW,
            never
        )),
        "cert.unknown_ca"
    );
    // An impostor CA with the same name (O=org1, CN=ca.org1) but another key: its leaves do
    // not chain to the trusted org1 CA.
    let impostor = org_ca(Algorithm::Sm2Sm3, "org1", 4);
    assert_eq!(
        impostor.certificate().subject_dn(),
        ca.certificate().subject_dn()
    );
    let forged = member(&impostor, "n", Role::Admin, 2, 2);
    assert_eq!(
        code(verify_chain(
            &forged,
            &store(Suite::Sm, &[&ca]),
            Suite::Sm,
            NOW,
            never
        )),
        "cert.unknown_ca"
    );
    // Removing a CA stops trusting it.
    let mut s = store(Suite::Sm, &[&ca]);
    assert!(s.remove(&ca.certificate().cert_id(Suite::Sm)).is_some());
    assert!(s.is_empty());
    assert_eq!(
        code(verify_chain(&cert, &s, Suite::Sm, NOW, never)),
        "cert.unknown_ca"
    );
}

#[test]
fn wrong_algorithm_for_suite() {
    let sm = org_ca(Algorithm::Sm2Sm3, "org1", 1);
    let p256 = org_ca(Algorithm::EcdsaP256Sha256, "org1", 1);
    let ed = org_ca(Algorithm::Ed25519, "org1", 1);
    let sm_leaf = member(&sm, "n", Role::Client, 2, 2);
    // An sm certificate on an intl chain, and intl certificates on an sm chain.
    assert_eq!(
        code(verify_chain(
            &sm_leaf,
            &TrustStore::new(Suite::Intl),
            Suite::Intl,
            NOW,
            never
        )),
        "cert.wrong_algorithm"
    );
    for ca in [&p256, &ed] {
        let leaf = member(ca, "n", Role::Client, 2, 2);
        assert_eq!(
            code(verify_chain(
                &leaf,
                &store(Suite::Sm, &[&sm]),
                Suite::Sm,
                NOW,
                never
            )),
            "cert.wrong_algorithm"
        );
    }
    // The store and the suite must agree.
    assert_eq!(
        code(verify_chain(
            &sm_leaf,
            &store(Suite::Sm, &[&sm]),
            Suite::Intl,
            NOW,
            never
        )),
        "cert.wrong_algorithm"
    );
    // CAs of the other suite cannot be trusted.
    assert_eq!(
        code(TrustStore::new(Suite::Intl).add_org_ca(sm.certificate().clone())),
        "cert.wrong_algorithm"
    );
    assert_eq!(
        code(TrustStore::new(Suite::Sm).add_org_ca(ed.certificate().clone())),
        "cert.wrong_algorithm"
    );
    assert_eq!(
        code(TrustStore::new(Suite::Sm).add_third_party_ca(p256.certificate().clone(), "x")),
        "cert.wrong_algorithm"
    );
    // A CA refuses to certify a key of the other suite.
    let ed_key = key(Algorithm::Ed25519, 5).public_key();
    assert_eq!(
        code(sm.issue(&request("n", Role::Client, ed_key, 3))),
        "cert.wrong_algorithm"
    );
}

#[test]
fn tampered_signature_or_tbs_byte() {
    for alg in Algorithm::ALL {
        let suite = suite_of(alg);
        let ca = org_ca(alg, "org1", 1);
        let store = store(suite, &[&ca]);
        let cert = member(&ca, "node1", Role::Consensus, 2, 2);
        // Last byte = last byte of the signature value.
        let mut der = cert.to_der();
        let last = der.len() - 1;
        der[last] ^= 0x01;
        let tampered = Certificate::from_der(&der).unwrap();
        assert_eq!(
            code(verify_chain(&tampered, &store, suite, NOW, never)),
            "cert.bad_signature",
            "{alg}"
        );
        // A signed byte: rename node1 -> node2 in the subject.
        let mut der = cert.to_der();
        let pos = der.windows(5).position(|w| w == b"node1").unwrap();
        der[pos + 4] = b'2';
        let renamed = Certificate::from_der(&der).unwrap();
        assert_eq!(renamed.name(), Some("node2"));
        assert_eq!(
            code(verify_chain(&renamed, &store, suite, NOW, never)),
            "cert.bad_signature"
        );
    }
}

#[test]
fn non_ca_certificates_cannot_issue() {
    let ca = org_ca(Algorithm::Sm2Sm3, "org1", 1);
    let member_key = key(Algorithm::Sm2Sm3, 2);
    let cert = ca
        .issue(&request("n", Role::Admin, member_key.public_key(), 2))
        .unwrap();
    let mut store = store(Suite::Sm, &[&ca]);
    assert_eq!(code(store.add_org_ca(cert.clone())), "cert.not_a_ca");
    assert_eq!(
        code(store.add_third_party_ca(cert.clone(), "org1")),
        "cert.not_a_ca"
    );
    assert_eq!(code(verify_ca(&cert, Suite::Sm, NOW)), "cert.not_a_ca");
    assert_eq!(
        code(OrgCa::from_parts(cert.clone(), member_key.clone())),
        "cert.not_a_ca"
    );
    // The member mints its own "CA" for org1 and issues a leaf with it: not trusted.
    let rogue = OrgCa::create(
        &CaParams {
            org: "org1".into(),
            common_name: None,
            not_before: NOW - DAY,
            not_after: NOW + DAY,
            serial: Serial::from_u64(9).unwrap(),
        },
        member_key,
    )
    .unwrap();
    let forged = member(&rogue, "eve", Role::Admin, 3, 3);
    assert_eq!(
        code(verify_chain(&forged, &store, Suite::Sm, NOW, never)),
        "cert.unknown_ca"
    );
}

#[test]
fn ca_certificate_is_not_a_member_identity() {
    let ca = org_ca(Algorithm::Ed25519, "org1", 1);
    let store = store(Suite::Intl, &[&ca]);
    assert_eq!(
        code(verify_chain(
            ca.certificate(),
            &store,
            Suite::Intl,
            NOW,
            never
        )),
        "cert.not_a_leaf"
    );
}

#[test]
fn third_party_ca_vouches_for_declared_org() {
    // "cfca" is not a member organisation; org1 declares it trusts it for its members.
    let cfca = org_ca(Algorithm::Sm2Sm3, "cfca", 1);
    let cert = member(&cfca, "alice", Role::Client, 2, 2);
    let mut s = TrustStore::new(Suite::Sm);
    let id = s
        .add_third_party_ca(cfca.certificate().clone(), "org1")
        .unwrap();
    let ident = verify_chain(&cert, &s, Suite::Sm, NOW, never).unwrap();
    assert_eq!(ident.org, "org1");
    assert_eq!(ident.issuer_kind, CaKind::ThirdParty);
    assert_eq!(ident.issuer_ca_id, id);
    assert_eq!(s.cas_for_org("org1").count(), 1);
    assert_eq!(s.get(&id).unwrap().kind, CaKind::ThirdParty);
    assert_eq!(
        code(s.add_third_party_ca(cfca.certificate().clone(), "bad org")),
        "cert.invalid_request"
    );
}

#[test]
fn duplicate_and_idempotent_adds() {
    let ca = org_ca(Algorithm::Ed25519, "org1", 1);
    let mut s = TrustStore::new(Suite::Intl);
    let a = s.add_org_ca(ca.certificate().clone()).unwrap();
    let b = s.add_org_ca(ca.certificate().clone()).unwrap();
    assert_eq!(a, b);
    assert_eq!(s.len(), 1);
    assert!(s.contains(&a));
    assert_eq!(
        code(s.add_third_party_ca(ca.certificate().clone(), "org2")),
        "cert.duplicate_ca"
    );
}

#[test]
fn ca_rotation_two_trusted_cas_same_name() {
    let old = org_ca(Algorithm::EcdsaP256Sha256, "org1", 1);
    let new = org_ca(Algorithm::EcdsaP256Sha256, "org1", 2);
    let s = store(Suite::Intl, &[&old, &new]);
    for ca in [&old, &new] {
        let cert = member(ca, "n", Role::Member, 5, 5);
        let id = verify_chain(&cert, &s, Suite::Intl, NOW, never).unwrap();
        assert_eq!(id.issuer_ca_id, ca.certificate().cert_id(Suite::Intl));
    }
}

#[test]
fn ca_from_stored_parts() {
    for alg in Algorithm::ALL {
        let ca = org_ca(alg, "org1", 1);
        let pem = ca.certificate().to_pem().unwrap();
        let key_bytes = ca.signing_key().to_bytes();
        let again = OrgCa::from_parts(
            Certificate::from_pem(&pem).unwrap(),
            SigningKey::from_bytes(alg, key_bytes.as_ref()).unwrap(),
        )
        .unwrap();
        assert_eq!(again.org(), "org1");
        let cert = member(&again, "n", Role::Client, 3, 3);
        let s = store(suite_of(alg), &[&ca]);
        verify_chain(&cert, &s, suite_of(alg), NOW, never).unwrap();
        assert_eq!(
            code(OrgCa::from_parts(ca.certificate().clone(), key(alg, 2))),
            "cert.invalid_key"
        );
    }
}

#[test]
fn ca_from_meridian_crypto_key() {
    let node_key = PrivateKey::from_seed(Suite::Sm, &[1; 32]);
    let signing = SigningKey::try_from(&node_key).unwrap();
    assert_eq!(
        signing.public_key(),
        PublicKeyInfo::from(node_key.public_key())
    );
    let ca = OrgCa::create(
        &CaParams {
            org: "org1".into(),
            common_name: Some("Org One Root CA".into()),
            not_before: NOW,
            not_after: NOW + YEAR,
            serial: Serial::from_u64(1).unwrap(),
        },
        signing,
    )
    .unwrap();
    assert_eq!(ca.certificate().name(), Some("Org One Root CA"));
    check_ca(ca.certificate(), Suite::Sm).unwrap();
}

#[test]
fn invalid_requests() {
    let params = |org: &str, nb: u64, na: u64| CaParams {
        org: org.into(),
        common_name: None,
        not_before: nb,
        not_after: na,
        serial: Serial::from_u64(1).unwrap(),
    };
    let k = || key(Algorithm::Ed25519, 1);
    assert_eq!(
        code(OrgCa::create(&params("", NOW, NOW), k())),
        "cert.invalid_request"
    );
    assert_eq!(
        code(OrgCa::create(&params("a b", NOW, NOW), k())),
        "cert.invalid_request"
    );
    assert_eq!(
        code(OrgCa::create(&params("o", NOW, NOW - 1), k())),
        "cert.invalid_request"
    );
    // Year 10000 is not representable in X.509.
    assert_eq!(
        code(OrgCa::create(&params("o", NOW, 253_402_300_800), k())),
        "cert.invalid_request"
    );
    assert!(OrgCa::create(&params("o", NOW, 253_402_300_799), k()).is_ok());
    let ca = org_ca(Algorithm::Ed25519, "org1", 1);
    let pk = key(Algorithm::Ed25519, 2).public_key();
    for name in ["", " padded", "line\nbreak", &"x".repeat(65)] {
        assert_eq!(
            code(ca.issue(&request(name, Role::Client, pk.clone(), 2))),
            "cert.invalid_request",
            "{name:?}"
        );
    }
    assert_eq!(
        Serial::from_u64(0).unwrap_err().code(),
        "cert.invalid_request"
    );
}

#[test]
fn times_after_2049_use_generalized_time_and_roundtrip() {
    let ca = OrgCa::create(
        &CaParams {
            org: "org1".into(),
            common_name: None,
            not_before: NOW,
            not_after: 4_102_444_800, // 2100-01-01
            serial: Serial::from_u64(1).unwrap(),
        },
        key(Algorithm::Sm2Sm3, 1),
    )
    .unwrap();
    assert_eq!(ca.certificate().not_after(), 4_102_444_800);
    let x = ca.certificate().x509();
    assert!(matches!(
        x.tbs_certificate().validity().not_after,
        x509_cert::time::Time::GeneralTime(_)
    ));
    assert!(matches!(
        x.tbs_certificate().validity().not_before,
        x509_cert::time::Time::UtcTime(_)
    ));
    verify_ca(ca.certificate(), Suite::Sm, 4_000_000_000).unwrap();
}
