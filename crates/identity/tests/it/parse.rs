//! Encoding: DER/PEM parsing, size bounds, standard OIDs, stable ids, hostile input.

use crate::support::*;
use der::{asn1::ObjectIdentifier, Decode};
use meridian_crypto::Suite;
use meridian_identity::{
    verify_chain, Algorithm, Certificate, Role, MAX_CERT_DER_LEN, MAX_CERT_PEM_LEN,
};
use proptest::prelude::*;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};

fn signature_oid(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Sm2Sm3 => "1.2.156.10197.1.501",
        Algorithm::EcdsaP256Sha256 => "1.2.840.10045.4.3.2",
        Algorithm::Ed25519 => "1.3.101.112",
    }
}

#[test]
fn pem_roundtrip() {
    for alg in Algorithm::ALL {
        let ca = org_ca(alg, "org1", 1);
        let cert = member(&ca, "node1", Role::Consensus, 2, 2);
        let pem = cert.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.trim_end().ends_with("-----END CERTIFICATE-----"));
        let back = Certificate::from_pem(&pem).unwrap();
        assert_eq!(back, cert);
        assert_eq!(back.as_der(), cert.as_der());
        // Auto-detection, surrounding whitespace and CRLF line endings.
        assert_eq!(Certificate::parse(pem.as_bytes()).unwrap(), cert);
        assert_eq!(Certificate::parse(cert.as_der()).unwrap(), cert);
        assert_eq!(
            Certificate::from_pem(&format!("\n  {pem}\n\n")).unwrap(),
            cert
        );
        let crlf = pem.replace('\n', "\r\n");
        assert_eq!(Certificate::from_pem(&crlf).unwrap(), cert);
        // Wrong label.
        let key_label = pem.replace("CERTIFICATE", "PRIVATE KEY");
        assert_eq!(
            Certificate::from_pem(&key_label).unwrap_err().code(),
            "cert.malformed"
        );
    }
}

#[test]
fn reparses_with_x509_cert_and_uses_standard_oids() {
    for alg in Algorithm::ALL {
        let ca = org_ca(alg, "org1", 1);
        let leaf = member(&ca, "node1", Role::Consensus, 2, 2);
        let ca_x = x509_cert::Certificate::from_der(ca.certificate().as_der()).unwrap();
        let leaf_x = x509_cert::Certificate::from_der(leaf.as_der()).unwrap();
        for x in [&ca_x, &leaf_x] {
            assert_eq!(x.signature_algorithm().oid.to_string(), signature_oid(alg));
            assert!(x.signature_algorithm().parameters.is_none());
            assert_eq!(x.tbs_certificate().signature(), x.signature_algorithm());
            assert_eq!(x.tbs_certificate().version(), x509_cert::Version::V3);
            let spki = &x.tbs_certificate().subject_public_key_info().algorithm;
            match alg {
                Algorithm::Ed25519 => {
                    assert_eq!(spki.oid.to_string(), "1.3.101.112");
                    assert!(spki.parameters.is_none());
                }
                Algorithm::Sm2Sm3 | Algorithm::EcdsaP256Sha256 => {
                    assert_eq!(spki.oid.to_string(), "1.2.840.10045.2.1");
                    let curve: ObjectIdentifier =
                        spki.parameters.as_ref().unwrap().decode_as().unwrap();
                    let want = if alg == Algorithm::Sm2Sm3 {
                        "1.2.156.10197.1.301"
                    } else {
                        "1.2.840.10045.3.1.7"
                    };
                    assert_eq!(curve.to_string(), want);
                    // Uncompressed point.
                    let bits = x
                        .tbs_certificate()
                        .subject_public_key_info()
                        .subject_public_key
                        .raw_bytes();
                    assert_eq!(bits.len(), 65);
                    assert_eq!(bits[0], 0x04);
                }
            }
            // ECDSA/SM2 signature values are DER SEQUENCE { r, s }; Ed25519 is 64 raw bytes.
            let sig = x.signature().as_bytes().unwrap();
            if alg == Algorithm::Ed25519 {
                assert_eq!(sig.len(), 64);
            } else {
                assert_eq!(sig[0], 0x30);
            }
        }
        // Names.
        assert_eq!(
            leaf_x.tbs_certificate().subject().to_string(),
            "CN=node1,OU=consensus,O=org1"
        );
        assert_eq!(
            leaf_x.tbs_certificate().issuer().to_string(),
            "CN=ca.org1,O=org1"
        );
        assert_eq!(
            ca_x.tbs_certificate().issuer(),
            ca_x.tbs_certificate().subject()
        );
        // CA extensions.
        let (crit, bc) = ca_x
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .unwrap()
            .unwrap();
        assert!(crit && bc.ca);
        assert_eq!(bc.path_len_constraint, Some(0));
        let (crit, ku) = ca_x
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .unwrap()
            .unwrap();
        assert!(crit && ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
        let (_, ski) = ca_x
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
            .unwrap()
            .unwrap();
        assert_eq!(ski.0.as_bytes().len(), 20);
        // Leaf extensions.
        let (crit, bc) = leaf_x
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .unwrap()
            .unwrap();
        assert!(crit && !bc.ca);
        let (crit, ku) = leaf_x
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .unwrap()
            .unwrap();
        assert!(crit && ku.digital_signature() && !ku.key_cert_sign());
        let (_, aki) = leaf_x
            .tbs_certificate()
            .get_extension::<AuthorityKeyIdentifier>()
            .unwrap()
            .unwrap();
        assert_eq!(aki.key_identifier.unwrap().as_bytes(), ski.0.as_bytes());
    }
}

#[test]
fn cert_id_is_the_suite_hash_of_the_der_and_stable() {
    for alg in Algorithm::ALL {
        let suite = alg.suite();
        let a = member(&org_ca(alg, "org1", 1), "n", Role::Client, 2, 2);
        let b = member(&org_ca(alg, "org1", 1), "n", Role::Client, 2, 2);
        // Deterministic signatures (RFC 6979 / RFC 8032): same inputs, same bytes, same id.
        assert_eq!(a.as_der(), b.as_der());
        assert_eq!(a.cert_id(suite), b.cert_id(suite));
        assert_eq!(a.cert_id(suite).0, suite.hash(a.as_der()));
        assert_ne!(a.cert_id(Suite::Sm), a.cert_id(Suite::Intl));
        let reparsed = Certificate::from_pem(&a.to_pem().unwrap()).unwrap();
        assert_eq!(reparsed.cert_id(suite), a.cert_id(suite));
        let hex = a.cert_id(suite).to_hex();
        assert_eq!(
            meridian_identity::CertId::from_hex(&hex).unwrap(),
            a.cert_id(suite)
        );
    }
}

/// Frozen encodings: if one of these changes, certificate ids (and therefore trust stores and
/// revocation entries keyed by them) change. Update only deliberately. Cross-checked with
/// `openssl x509 -outform DER | sha256sum` / `openssl dgst -sm3` on the `print_samples` output.
#[test]
fn cert_id_vectors() {
    let expect = [
        (
            Algorithm::Sm2Sm3,
            "4bd4a1a89ff7f1e9f6c608101d0389d4f066cf24f106ec7b7e4b2b8366900338",
        ),
        (
            Algorithm::EcdsaP256Sha256,
            "d4eab2381df8d226804636cf0423df150d99d4ac705cc90021b638fce3ba7c3c",
        ),
        (
            Algorithm::Ed25519,
            "9f052ffd0cf83036dbeb6e6154074cbc35f912caf317b2bbd855f7956836cbf6",
        ),
    ];
    for (alg, want) in expect {
        let ca = org_ca(alg, "org1", 1);
        let leaf = member(&ca, "node1", Role::Consensus, 2, 2);
        assert_eq!(leaf.cert_id(alg.suite()).to_hex(), want, "{alg}");
    }
}

#[test]
fn oversized_input() {
    let big = vec![0x30u8; MAX_CERT_DER_LEN + 1];
    assert_eq!(
        Certificate::from_der(&big).unwrap_err().code(),
        "cert.too_large"
    );
    assert_eq!(
        Certificate::parse(&big).unwrap_err().code(),
        "cert.too_large"
    );
    // At the bound it is parsed (and is garbage).
    let at = vec![0x30u8; MAX_CERT_DER_LEN];
    assert_eq!(
        Certificate::from_der(&at).unwrap_err().code(),
        "cert.malformed"
    );
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        "A".repeat(MAX_CERT_PEM_LEN)
    );
    assert_eq!(
        Certificate::from_pem(&pem).unwrap_err().code(),
        "cert.too_large"
    );
    assert_eq!(
        Certificate::parse(pem.as_bytes()).unwrap_err().code(),
        "cert.too_large"
    );
    // A well-formed PEM whose DER exceeds 8 KiB.
    let der_big = vec![0u8; MAX_CERT_DER_LEN + 16];
    let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der_big).unwrap();
    assert!(pem.len() <= MAX_CERT_PEM_LEN);
    assert_eq!(
        Certificate::from_pem(&pem).unwrap_err().code(),
        "cert.too_large"
    );
}

#[test]
fn garbage() {
    for input in [
        &b""[..],
        b"\x30",
        b"\x30\x00",
        b"hello",
        b"-----BEGIN CERTIFICATE-----\n!!\n",
    ] {
        assert_eq!(
            Certificate::parse(input).unwrap_err().code(),
            "cert.malformed"
        );
    }
    // Trailing bytes after a valid certificate.
    let cert = member(&org_ca(Algorithm::Ed25519, "o", 1), "n", Role::Client, 2, 2);
    let mut der = cert.to_der();
    der.push(0);
    assert_eq!(
        Certificate::from_der(&der).unwrap_err().code(),
        "cert.malformed"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Certificate::from_der(&bytes);
        let _ = Certificate::parse(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = Certificate::from_pem(text);
        }
    }

    #[test]
    fn random_der_like_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        // Start with a plausible SEQUENCE header so the decoder gets further.
        let mut bytes = vec![0x30, 0x82, (tail.len() >> 8) as u8, tail.len() as u8];
        bytes.extend_from_slice(&tail);
        let _ = Certificate::from_der(&bytes);
    }
}

fn mutation_strategy() -> impl Strategy<Value = (usize, usize, u8)> {
    (0usize..3, any::<usize>(), 1u8..=255)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any single-byte change to a valid certificate is rejected (parse error or verification
    /// error) and never panics.
    #[test]
    fn single_byte_mutations_are_rejected((which, pos, xor) in mutation_strategy()) {
        let alg = Algorithm::ALL[which];
        let suite = alg.suite();
        let ca = org_ca(alg, "org1", 1);
        let store = store(suite, &[&ca]);
        let cert = member(&ca, "node1", Role::Consensus, 2, 2);
        let mut der = cert.to_der();
        let pos = pos % der.len();
        der[pos] ^= xor;
        if let Ok(mutated) = Certificate::from_der(&der) {
            let result = verify_chain(&mutated, &store, suite, NOW, never);
            prop_assert!(result.is_err(), "byte {} ^ {:#x} accepted", pos, xor);
        }
    }
}
