//! The crate's one error type.
//!
//! Every variant has a stable, machine-readable [`IdentityError::code`] (`"cert.*"`) so that
//! callers (mempool, p2p, API, CLI) can surface a rejection without depending on the
//! human-readable message, which may change.

use thiserror::Error;

/// Which certificate of a chain an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertRole {
    /// The member (end-entity) certificate being verified.
    Leaf,
    /// The trusted CA certificate that issued it.
    Ca,
}

impl CertRole {
    /// `"leaf"` or `"ca"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CertRole::Leaf => "leaf",
            CertRole::Ca => "ca",
        }
    }
}

impl core::fmt::Display for CertRole {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors returned by `meridian-identity`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Not a well-formed DER/PEM X.509 v3 certificate (or an unsupported critical extension,
    /// a mismatched inner/outer signature algorithm, a negative serial, ...).
    #[error("malformed certificate: {0}")]
    Malformed(&'static str),
    /// The encoded certificate (or PEM text) exceeds the size bound.
    #[error("certificate too large: {len} bytes (max {max})")]
    TooLarge {
        /// Input length in bytes.
        len: usize,
        /// Bound that was exceeded.
        max: usize,
    },
    /// `now` is after the certificate's `notAfter`.
    #[error("{which} certificate expired (not after {not_after}, now {now})")]
    Expired {
        /// Leaf or CA.
        which: CertRole,
        /// The certificate's `notAfter`, unix seconds.
        not_after: u64,
        /// The time checked against, unix seconds.
        now: u64,
    },
    /// `now` is before the certificate's `notBefore`.
    #[error("{which} certificate not yet valid (not before {not_before}, now {now})")]
    NotYetValid {
        /// Leaf or CA.
        which: CertRole,
        /// The certificate's `notBefore`, unix seconds.
        not_before: u64,
        /// The time checked against, unix seconds.
        now: u64,
    },
    /// The issuing CA reports the leaf's serial as revoked.
    #[error("certificate revoked")]
    Revoked,
    /// The certificate's key or signature algorithm is not accepted by the chain's suite (or is
    /// not supported at all).
    #[error("algorithm not accepted: {0}")]
    WrongAlgorithm(&'static str),
    /// No CA in the trust store issued this certificate.
    #[error("certificate issued by an unknown CA")]
    UnknownCa,
    /// A CA with the issuer's name is trusted, but the signature does not verify with its key.
    #[error("bad certificate signature")]
    BadSignature,
    /// The certificate is not a CA (basicConstraints CA:true and keyCertSign) where one is
    /// required, or it is not self-signed.
    #[error("not a CA certificate: {0}")]
    NotACa(&'static str),
    /// A CA certificate (or one without digitalSignature usage) was presented as a member
    /// identity.
    #[error("not a member certificate: {0}")]
    NotALeaf(&'static str),
    /// The role (subject OU) is missing, duplicated or not a valid role string.
    #[error("bad role: {0}")]
    BadRole(String),
    /// The subject organisation (O) or member name (CN) is missing or invalid.
    #[error("bad subject: {0}")]
    BadSubject(&'static str),
    /// The leaf's organisation differs from the organisation its CA vouches for.
    #[error("organisation mismatch: certificate says {cert_org:?}, CA vouches for {ca_org:?}")]
    OrgMismatch {
        /// The leaf subject's O (empty if absent).
        cert_org: String,
        /// The trust store entry's organisation.
        ca_org: String,
    },
    /// The trust store already holds this CA under another organisation or kind.
    #[error("CA already trusted for another organisation")]
    DuplicateCa,
    /// Key bytes are malformed (wrong length, not on the curve, out-of-range scalar).
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// A certificate request (CA creation or issuance) is invalid: bad validity window, serial
    /// or name.
    #[error("invalid certificate request: {0}")]
    InvalidRequest(&'static str),
}

impl IdentityError {
    /// Stable error code; never changes meaning once released.
    pub const fn code(&self) -> &'static str {
        match self {
            IdentityError::Malformed(_) => "cert.malformed",
            IdentityError::TooLarge { .. } => "cert.too_large",
            IdentityError::Expired { .. } => "cert.expired",
            IdentityError::NotYetValid { .. } => "cert.not_yet_valid",
            IdentityError::Revoked => "cert.revoked",
            IdentityError::WrongAlgorithm(_) => "cert.wrong_algorithm",
            IdentityError::UnknownCa => "cert.unknown_ca",
            IdentityError::BadSignature => "cert.bad_signature",
            IdentityError::NotACa(_) => "cert.not_a_ca",
            IdentityError::NotALeaf(_) => "cert.not_a_leaf",
            IdentityError::BadRole(_) => "cert.bad_role",
            IdentityError::BadSubject(_) => "cert.bad_subject",
            IdentityError::OrgMismatch { .. } => "cert.org_mismatch",
            IdentityError::DuplicateCa => "cert.duplicate_ca",
            IdentityError::InvalidKey(_) => "cert.invalid_key",
            IdentityError::InvalidRequest(_) => "cert.invalid_request",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_namespaced() {
        let all = [
            IdentityError::Malformed(""),
            IdentityError::TooLarge { len: 0, max: 0 },
            IdentityError::Expired {
                which: CertRole::Leaf,
                not_after: 0,
                now: 0,
            },
            IdentityError::NotYetValid {
                which: CertRole::Ca,
                not_before: 0,
                now: 0,
            },
            IdentityError::Revoked,
            IdentityError::WrongAlgorithm(""),
            IdentityError::UnknownCa,
            IdentityError::BadSignature,
            IdentityError::NotACa(""),
            IdentityError::NotALeaf(""),
            IdentityError::BadRole(String::new()),
            IdentityError::BadSubject(""),
            IdentityError::OrgMismatch {
                cert_org: String::new(),
                ca_org: String::new(),
            },
            IdentityError::DuplicateCa,
            IdentityError::InvalidKey(""),
            IdentityError::InvalidRequest(""),
        ];
        let mut codes: Vec<_> = all.iter().map(IdentityError::code).collect();
        assert!(codes.iter().all(|c| c.starts_with("cert.")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
