//! The set of CA certificates a chain trusts, each tagged with the organisation it vouches for.

use crate::{
    name::is_valid_org_id,
    verify::{check_anchor, check_ca},
    CertId, Certificate, IdentityError,
};
use meridian_crypto::Suite;
use std::collections::BTreeMap;

/// How a trusted CA relates to the organisation it vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaKind {
    /// The organisation's own self-signed CA: its subject `O` *is* the organisation, and every
    /// member certificate it issues must carry the same `O` (`cert.org_mismatch` otherwise).
    Org,
    /// A third-party CA (e.g. a commercial or national CA) that an organisation has declared it
    /// trusts for its members. The organisation comes from the trust store entry; the leaf's `O`
    /// is not compared (it is whatever the third party wrote).
    ThirdParty,
}

/// One trusted CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCa {
    /// The CA certificate.
    pub cert: Certificate,
    /// `cert.cert_id(store suite)`.
    pub id: CertId,
    /// The organisation this CA vouches for.
    pub org: String,
    /// Own CA or third-party CA.
    pub kind: CaKind,
}

/// Trusted CA certificates of one chain (one suite), keyed by [`CertId`].
///
/// Adding a CA checks its structure (CA:true, keyCertSign, algorithm of the store's suite, and
/// its self-signature), not its validity window: time is checked on every
/// [`crate::verify_chain`], so a store loaded from genesis keeps loading after a CA expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStore {
    suite: Suite,
    entries: BTreeMap<CertId, TrustedCa>,
}

impl TrustStore {
    /// An empty store for a chain running `suite`.
    pub fn new(suite: Suite) -> Self {
        Self {
            suite,
            entries: BTreeMap::new(),
        }
    }

    /// The suite (decides accepted algorithms and the cert-id hash).
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Trusts an organisation's own CA. It must be a valid self-signed CA of the store's
    /// suite with a valid subject `O`, which becomes the organisation it vouches for.
    ///
    /// Re-adding the same certificate is a no-op; adding it again as a different kind or
    /// organisation fails with `cert.duplicate_ca`.
    pub fn add_org_ca(&mut self, cert: Certificate) -> Result<CertId, IdentityError> {
        check_ca(&cert, self.suite)?;
        let org = cert
            .org()
            .filter(|o| is_valid_org_id(o))
            .ok_or(IdentityError::BadSubject("CA certificate has no valid O"))?
            .to_owned();
        self.insert(cert, org, CaKind::Org)
    }

    /// Trusts a third-party CA for the members of `org`. It must be a CA (CA:true,
    /// keyCertSign) of the store's suite; if it is self-issued its self-signature must verify.
    /// It may be an intermediate CA: trusting it is the operator's decision.
    pub fn add_third_party_ca(
        &mut self,
        cert: Certificate,
        org: &str,
    ) -> Result<CertId, IdentityError> {
        if !is_valid_org_id(org) {
            return Err(IdentityError::InvalidRequest(
                "org id must match [A-Za-z0-9._-]{1,64}",
            ));
        }
        check_anchor(&cert, self.suite)?;
        self.insert(cert, org.to_owned(), CaKind::ThirdParty)
    }

    fn insert(
        &mut self,
        cert: Certificate,
        org: String,
        kind: CaKind,
    ) -> Result<CertId, IdentityError> {
        let id = cert.cert_id(self.suite);
        if let Some(existing) = self.entries.get(&id) {
            return if existing.org == org && existing.kind == kind {
                Ok(id)
            } else {
                Err(IdentityError::DuplicateCa)
            };
        }
        self.entries.insert(
            id,
            TrustedCa {
                cert,
                id,
                org,
                kind,
            },
        );
        Ok(id)
    }

    /// Test-only: inserts without any check.
    #[cfg(test)]
    pub(crate) fn insert_unchecked(&mut self, cert: Certificate, org: &str, kind: CaKind) {
        let id = cert.cert_id(self.suite);
        self.entries.insert(
            id,
            TrustedCa {
                cert,
                id,
                org: org.to_owned(),
                kind,
            },
        );
    }

    /// Stops trusting a CA (e.g. the CA itself was revoked or rotated out).
    pub fn remove(&mut self, id: &CertId) -> Option<TrustedCa> {
        self.entries.remove(id)
    }

    /// The entry for `id`.
    pub fn get(&self, id: &CertId) -> Option<&TrustedCa> {
        self.entries.get(id)
    }

    /// Whether `id` is trusted.
    pub fn contains(&self, id: &CertId) -> bool {
        self.entries.contains_key(id)
    }

    /// All entries, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &TrustedCa> {
        self.entries.values()
    }

    /// Entries vouching for `org`.
    pub fn cas_for_org<'a>(&'a self, org: &'a str) -> impl Iterator<Item = &'a TrustedCa> + 'a {
        self.entries.values().filter(move |e| e.org == org)
    }

    /// Number of trusted CAs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no CA is trusted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Trusted CAs whose subject matches `leaf`'s issuer (and whose subject key id matches the
    /// leaf's authority key id when both are present).
    pub(crate) fn issuer_candidates(&self, leaf: &Certificate) -> Vec<&TrustedCa> {
        self.entries
            .values()
            .filter(|e| {
                e.cert.subject_name_der() == leaf.issuer_name_der()
                    && match (leaf.authority_key_id(), e.cert.subject_key_id()) {
                        (Some(aki), Some(ski)) => aki == ski,
                        _ => true,
                    }
            })
            .collect()
    }
}
