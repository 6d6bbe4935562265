//! Chain verification: leaf → trusted CA, and CA self-checks.

use crate::{
    error::CertRole, name::is_valid_member_name, Algorithm, CaKind, CertId, Certificate,
    IdentityError, PublicKeyInfo, Role, Serial, TrustStore, TrustedCa,
};
use meridian_crypto::Suite;

/// A verified member identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Organisation the member belongs to (the trust store entry's organisation).
    pub org: String,
    /// Role (subject `OU`).
    pub role: Role,
    /// Member name (subject `CN`).
    pub name: String,
    /// The member certificate's id (`suite.hash(DER)`).
    pub cert_id: CertId,
    /// The issuing CA's id in the trust store.
    pub issuer_ca_id: CertId,
    /// Whether the issuer is the organisation's own CA or a third-party CA.
    pub issuer_kind: CaKind,
    /// The member's public key.
    pub public_key: PublicKeyInfo,
    /// The member key's algorithm.
    pub algorithm: Algorithm,
    /// Serial number of the member certificate.
    pub serial: Serial,
    /// End of the member certificate's validity (inclusive), unix seconds: callers caching an
    /// identity must re-verify after this.
    pub not_after: u64,
}

impl Identity {
    /// Whether `key` (a transaction, node or p2p key) is this member's certificate key.
    pub fn matches_key(&self, key: &meridian_crypto::PublicKey) -> bool {
        self.public_key.matches(key)
    }
}

fn check_algorithms(cert: &Certificate, suite: Suite) -> Result<(), IdentityError> {
    if !cert.algorithm().accepted_by(suite) {
        return Err(IdentityError::WrongAlgorithm(
            "public key algorithm not accepted by the chain's suite",
        ));
    }
    if !cert.signature_algorithm().accepted_by(suite) {
        return Err(IdentityError::WrongAlgorithm(
            "signature algorithm not accepted by the chain's suite",
        ));
    }
    Ok(())
}

fn check_ca_flags(cert: &Certificate) -> Result<(), IdentityError> {
    if !cert.is_ca() {
        return Err(IdentityError::NotACa("basicConstraints CA:true is missing"));
    }
    if !cert.allows_cert_sign() {
        return Err(IdentityError::NotACa("keyUsage lacks keyCertSign"));
    }
    Ok(())
}

/// Checks that `cert` is a valid self-signed CA certificate for `suite`, ignoring time:
/// algorithms of the suite, basicConstraints CA:true, keyUsage keyCertSign (if present),
/// issuer == subject, and the self-signature verifies.
pub fn check_ca(cert: &Certificate, suite: Suite) -> Result<(), IdentityError> {
    check_algorithms(cert, suite)?;
    check_ca_flags(cert)?;
    if !cert.is_self_issued() {
        return Err(IdentityError::NotACa("not self-signed (issuer != subject)"));
    }
    cert.verify_signature(cert.public_key())
}

/// Like [`check_ca`], and the CA must also be valid at `now_unix_secs`. Use it before adding
/// a CA to the trust store through governance.
pub fn verify_ca(
    cert: &Certificate,
    suite: Suite,
    now_unix_secs: u64,
) -> Result<(), IdentityError> {
    check_ca(cert, suite)?;
    cert.check_time(CertRole::Ca, now_unix_secs)
}

/// Trust-anchor check for third-party CAs: a CA of the suite; self-signature checked only if
/// self-issued (an intermediate may be trusted directly).
pub(crate) fn check_anchor(cert: &Certificate, suite: Suite) -> Result<(), IdentityError> {
    check_algorithms(cert, suite)?;
    check_ca_flags(cert)?;
    if cert.is_self_issued() {
        cert.verify_signature(cert.public_key())?;
    }
    Ok(())
}

/// Verifies a member certificate against the trust store and returns the member's identity.
///
/// Checks, in order (first failure wins):
/// 1. the store is for `suite`, and the leaf's key and signature algorithms are accepted by
///    `suite` — `cert.wrong_algorithm`;
/// 2. the leaf is an end-entity certificate (not CA:true; keyUsage, if present, has
///    digitalSignature) — `cert.not_a_leaf`;
/// 3. a trusted CA with the leaf's issuer name (and matching key id) exists —
///    `cert.unknown_ca` — and its key verifies the leaf's signature — `cert.bad_signature`;
/// 4. the CA is still a CA — `cert.not_a_ca` — and the CA and the leaf are valid at
///    `now_unix_secs` — `cert.expired` / `cert.not_yet_valid`;
/// 5. `is_revoked(issuer_ca_id, serial)` is false — `cert.revoked` (`serial` is
///    [`Serial::as_bytes`]: minimal big-endian);
/// 6. the subject has a valid `CN` — `cert.bad_subject`; exactly one `OU` that is a valid
///    [`Role`] — `cert.bad_role`; and, for an organisation's own CA, an `O` equal to the CA's
///    organisation — `cert.org_mismatch` (third-party CAs: the organisation is the trust store
///    entry's).
pub fn verify_chain(
    leaf: &Certificate,
    store: &TrustStore,
    suite: Suite,
    now_unix_secs: u64,
    is_revoked: impl Fn(&CertId, &[u8]) -> bool,
) -> Result<Identity, IdentityError> {
    if store.suite() != suite {
        return Err(IdentityError::WrongAlgorithm(
            "trust store belongs to another suite",
        ));
    }
    check_algorithms(leaf, suite)?;
    if leaf.is_ca() {
        return Err(IdentityError::NotALeaf(
            "CA certificate used as a member identity",
        ));
    }
    if !leaf.allows_digital_signature() {
        return Err(IdentityError::NotALeaf("keyUsage lacks digitalSignature"));
    }

    let ca = find_issuer(leaf, store)?;
    check_ca_flags(&ca.cert)?;
    ca.cert.check_time(CertRole::Ca, now_unix_secs)?;
    leaf.check_time(CertRole::Leaf, now_unix_secs)?;

    if is_revoked(&ca.id, leaf.serial().as_bytes()) {
        return Err(IdentityError::Revoked);
    }

    let name = leaf
        .name()
        .filter(|n| is_valid_member_name(n))
        .ok_or(IdentityError::BadSubject("missing or invalid CN"))?
        .to_owned();
    let role = leaf.role()?;
    if ca.kind == CaKind::Org && leaf.org() != Some(ca.org.as_str()) {
        return Err(IdentityError::OrgMismatch {
            cert_org: leaf.org().unwrap_or_default().to_owned(),
            ca_org: ca.org.clone(),
        });
    }

    Ok(Identity {
        org: ca.org.clone(),
        role,
        name,
        cert_id: leaf.cert_id(suite),
        issuer_ca_id: ca.id,
        issuer_kind: ca.kind,
        public_key: leaf.public_key().clone(),
        algorithm: leaf.algorithm(),
        serial: leaf.serial().clone(),
        not_after: leaf.not_after(),
    })
}

/// The trusted CA whose key verifies `leaf`'s signature.
fn find_issuer<'a>(
    leaf: &Certificate,
    store: &'a TrustStore,
) -> Result<&'a TrustedCa, IdentityError> {
    let mut saw_candidate = false;
    for ca in store.issuer_candidates(leaf) {
        saw_candidate = true;
        if leaf.verify_signature(ca.cert.public_key()).is_ok() {
            return Ok(ca);
        }
    }
    if saw_candidate {
        Err(IdentityError::BadSignature)
    } else {
        Err(IdentityError::UnknownCa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        builder::{sign_certificate, Profile, TbsParams},
        CaParams, OrgCa, SigningKey,
    };
    use x509_cert::name::RdnSequence;

    const NOW: u64 = 1_800_000_000;

    fn org_ca() -> OrgCa {
        OrgCa::create(
            &CaParams {
                org: "org1".into(),
                common_name: None,
                not_before: NOW - 10,
                not_after: NOW + 1000,
                serial: Serial::from_u64(1).unwrap(),
            },
            SigningKey::from_bytes(Algorithm::Sm2Sm3, &[5; 32]).unwrap(),
        )
        .unwrap()
    }

    /// Signs a leaf with an arbitrary subject (RFC 4514 string) — something `OrgCa::issue`
    /// refuses to do, as a foreign or buggy CA might.
    fn leaf_with_subject(ca: &OrgCa, subject: &str) -> Certificate {
        let member = SigningKey::from_bytes(Algorithm::Sm2Sm3, &[6; 32]).unwrap();
        let issuer_key_id = ca.signing_key().public_key().key_identifier();
        sign_certificate(
            &TbsParams {
                serial: &Serial::from_u64(2).unwrap(),
                issuer: ca
                    .certificate()
                    .x509()
                    .tbs_certificate()
                    .subject()
                    .clone()
                    .into(),
                subject: subject.parse::<RdnSequence>().unwrap(),
                not_before: NOW - 10,
                not_after: NOW + 100,
                subject_key: &member.public_key(),
                profile: Profile::Leaf {
                    issuer_key_id: &issuer_key_id,
                },
            },
            ca.signing_key(),
        )
        .unwrap()
    }

    fn store(ca: &OrgCa) -> TrustStore {
        let mut store = TrustStore::new(Suite::Sm);
        store.add_org_ca(ca.certificate().clone()).unwrap();
        store
    }

    fn verify(leaf: &Certificate, store: &TrustStore) -> Result<Identity, IdentityError> {
        verify_chain(leaf, store, Suite::Sm, NOW, |_, _| false)
    }

    #[test]
    fn well_formed_custom_subject_verifies() {
        let ca = org_ca();
        let id = verify(
            &leaf_with_subject(&ca, "CN=bob,OU=ops-team,O=org1"),
            &store(&ca),
        )
        .unwrap();
        assert_eq!(id.role.as_str(), "ops-team");
        assert!(id.role.is_custom());
    }

    #[test]
    fn org_mismatch() {
        let ca = org_ca();
        let err = verify(
            &leaf_with_subject(&ca, "CN=bob,OU=client,O=org2"),
            &store(&ca),
        )
        .unwrap_err();
        assert_eq!(err.code(), "cert.org_mismatch");
        let err = verify(&leaf_with_subject(&ca, "CN=bob,OU=client"), &store(&ca)).unwrap_err();
        assert_eq!(err.code(), "cert.org_mismatch");
    }

    #[test]
    fn third_party_ca_ignores_leaf_org() {
        let ca = org_ca();
        let mut store = TrustStore::new(Suite::Sm);
        store
            .add_third_party_ca(ca.certificate().clone(), "org9")
            .unwrap();
        let id = verify(
            &leaf_with_subject(&ca, "CN=bob,OU=client,O=elsewhere"),
            &store,
        )
        .unwrap();
        assert_eq!(id.org, "org9");
        assert_eq!(id.issuer_kind, CaKind::ThirdParty);
    }

    #[test]
    fn bad_role() {
        let ca = org_ca();
        let store = store(&ca);
        for subject in [
            "CN=bob,OU=Admin,O=org1",
            "CN=bob,OU=has space,O=org1",
            "CN=bob,O=org1",
            "CN=bob,OU=client,OU=admin,O=org1",
        ] {
            let err = verify(&leaf_with_subject(&ca, subject), &store).unwrap_err();
            assert_eq!(err.code(), "cert.bad_role", "{subject}");
        }
    }

    #[test]
    fn bad_subject() {
        let ca = org_ca();
        let err = verify(&leaf_with_subject(&ca, "OU=client,O=org1"), &store(&ca)).unwrap_err();
        assert_eq!(err.code(), "cert.bad_subject");
    }

    #[test]
    fn non_ca_issuer_in_store_is_rejected() {
        // A trust store built through the API never holds a non-CA; if one got in anyway
        // (e.g. deserialised state), verification still refuses it as an issuer.
        let ca = org_ca();
        let member = SigningKey::from_bytes(Algorithm::Sm2Sm3, &[6; 32]).unwrap();
        let member_cert = ca
            .issue(&crate::IssueRequest {
                name: "node1".into(),
                role: Role::Consensus,
                public_key: member.public_key(),
                not_before: NOW - 10,
                not_after: NOW + 100,
                serial: Serial::from_u64(3).unwrap(),
            })
            .unwrap();
        // The member signs a certificate for someone else, naming itself as issuer.
        let victim = SigningKey::from_bytes(Algorithm::Sm2Sm3, &[8; 32]).unwrap();
        let forged = sign_certificate(
            &TbsParams {
                serial: &Serial::from_u64(4).unwrap(),
                issuer: member_cert
                    .x509()
                    .tbs_certificate()
                    .subject()
                    .clone()
                    .into(),
                subject: "CN=eve,OU=admin,O=org1".parse::<RdnSequence>().unwrap(),
                not_before: NOW - 10,
                not_after: NOW + 100,
                subject_key: &victim.public_key(),
                profile: Profile::Leaf {
                    issuer_key_id: &member.public_key().key_identifier(),
                },
            },
            &member,
        )
        .unwrap();
        // Not trusted: unknown CA.
        assert_eq!(
            verify(&forged, &store(&ca)).unwrap_err().code(),
            "cert.unknown_ca"
        );
        // Cannot be added.
        let mut s = store(&ca);
        assert_eq!(
            s.add_org_ca(member_cert.clone()).unwrap_err().code(),
            "cert.not_a_ca"
        );
        // Smuggled in anyway: still refused.
        s.insert_unchecked(member_cert, "org1", CaKind::Org);
        assert_eq!(verify(&forged, &s).unwrap_err().code(), "cert.not_a_ca");
    }
}
