//! Interop with an independent implementation (OpenSSL 3.0; see fixtures/README.md).

use crate::support::*;
use meridian_identity::{check_ca, verify_chain, Algorithm, Certificate, OrgCa, Role, TrustStore};

const FIXTURES: [(Algorithm, &str, &str); 3] = [
    (
        Algorithm::Sm2Sm3,
        include_str!("fixtures/openssl-sm2-ca.pem"),
        include_str!("fixtures/openssl-sm2-leaf.pem"),
    ),
    (
        Algorithm::EcdsaP256Sha256,
        include_str!("fixtures/openssl-p256-ca.pem"),
        include_str!("fixtures/openssl-p256-leaf.pem"),
    ),
    (
        Algorithm::Ed25519,
        include_str!("fixtures/openssl-ed25519-ca.pem"),
        include_str!("fixtures/openssl-ed25519-leaf.pem"),
    ),
];

#[test]
fn openssl_issued_certificates_verify() {
    for (alg, ca_pem, leaf_pem) in FIXTURES {
        let suite = alg.suite();
        let ca = Certificate::from_pem(ca_pem).unwrap();
        let leaf = Certificate::from_pem(leaf_pem).unwrap();
        assert_eq!(ca.signature_algorithm(), alg);
        assert_eq!(leaf.algorithm(), alg);
        check_ca(&ca, suite).unwrap();
        let mut store = TrustStore::new(suite);
        store.add_org_ca(ca.clone()).unwrap();
        let now = leaf.not_before() + 1;
        let id = verify_chain(&leaf, &store, suite, now, never).unwrap();
        assert_eq!(id.org, "org-ossl", "{alg}");
        assert_eq!(id.role, Role::Client);
        assert_eq!(id.name, "alice");
        assert_eq!(id.serial.as_bytes(), &[2]);
        // The 100-year validity ends in 2126: GeneralizedTime, parsed to unix seconds.
        assert!(leaf.not_after() > 4_102_444_800);
        // Our SKI/AKI logic matches theirs for chaining (OpenSSL uses SHA-1 key ids).
        assert_eq!(leaf.authority_key_id(), ca.subject_key_id());
        // Tampering still detected.
        let mut der = leaf.to_der();
        let n = der.len();
        der[n - 2] ^= 0x40;
        let bad = Certificate::from_der(&der).unwrap();
        assert!(verify_chain(&bad, &store, suite, now, never).is_err());
    }
}

/// Prints a CA and a member certificate per algorithm for checking with `openssl verify`
/// (see fixtures/README.md).
#[test]
#[ignore = "manual interop check: prints PEMs"]
fn print_samples() {
    for alg in Algorithm::ALL {
        let ca: OrgCa = org_ca(alg, "org1", 1);
        let leaf = member(&ca, "node1", Role::Consensus, 2, 2);
        println!("# {alg} CA\n{}", ca.certificate().to_pem().unwrap());
        println!("# {alg} leaf\n{}", leaf.to_pem().unwrap());
    }
}
