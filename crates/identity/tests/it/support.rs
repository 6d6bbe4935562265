//! Shared fixtures.

use meridian_crypto::Suite;
use meridian_identity::{
    Algorithm, CaParams, CertId, Certificate, IssueRequest, OrgCa, PublicKeyInfo, Role, Serial,
    SigningKey, TrustStore,
};

/// "Now" for most tests (2027-01-15).
pub const NOW: u64 = 1_800_000_000;
pub const DAY: u64 = 86_400;
pub const YEAR: u64 = 365 * DAY;

pub fn suite_of(alg: Algorithm) -> Suite {
    alg.suite()
}

/// A deterministic key (`seed` must be < 0x80 so the P-256 scalar is in range).
pub fn key(alg: Algorithm, seed: u8) -> SigningKey {
    SigningKey::from_bytes(alg, &[seed; 32]).unwrap()
}

/// `org`'s CA, valid from a year ago for ten years.
pub fn org_ca(alg: Algorithm, org: &str, seed: u8) -> OrgCa {
    OrgCa::create(
        &CaParams {
            org: org.into(),
            common_name: None,
            not_before: NOW - YEAR,
            not_after: NOW + 10 * YEAR,
            serial: Serial::from_u64(1).unwrap(),
        },
        key(alg, seed),
    )
    .unwrap()
}

pub fn request(name: &str, role: Role, public_key: PublicKeyInfo, serial: u64) -> IssueRequest {
    IssueRequest {
        name: name.into(),
        role,
        public_key,
        not_before: NOW - DAY,
        not_after: NOW + YEAR,
        serial: Serial::from_u64(serial).unwrap(),
    }
}

/// A member certificate for a fresh key of the CA's algorithm.
pub fn member(ca: &OrgCa, name: &str, role: Role, seed: u8, serial: u64) -> Certificate {
    let pk = key(ca.algorithm(), seed).public_key();
    ca.issue(&request(name, role, pk, serial)).unwrap()
}

pub fn store(suite: Suite, cas: &[&OrgCa]) -> TrustStore {
    let mut store = TrustStore::new(suite);
    for ca in cas {
        store.add_org_ca(ca.certificate().clone()).unwrap();
    }
    store
}

pub fn never(_: &CertId, _: &[u8]) -> bool {
    false
}
