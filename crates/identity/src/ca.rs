//! Organisation CAs: create a self-signed CA certificate and issue member certificates.

use crate::{
    builder::{sign_certificate, Profile, TbsParams},
    name::{build_name, is_valid_member_name, is_valid_org_id},
    verify::check_ca,
    Algorithm, Certificate, IdentityError, PublicKeyInfo, Role, Serial, SigningKey,
};
use rand_core::CryptoRng;
use x509_cert::name::RdnSequence;

/// Parameters of a new organisation CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaParams {
    /// Organisation id written as the subject `O` (`[A-Za-z0-9._-]{1,64}`).
    pub org: String,
    /// Subject `CN`; `None` means `"ca.<org>"`.
    pub common_name: Option<String>,
    /// Start of validity, unix seconds.
    pub not_before: u64,
    /// End of validity (inclusive), unix seconds.
    pub not_after: u64,
    /// Serial number of the CA certificate.
    pub serial: Serial,
}

/// A request to issue a member certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// Member name, written as the subject `CN` (1..=64 bytes, no control characters).
    pub name: String,
    /// Role, written as the subject `OU`.
    pub role: Role,
    /// The member's public key (must belong to the CA's suite).
    pub public_key: PublicKeyInfo,
    /// Start of validity, unix seconds.
    pub not_before: u64,
    /// End of validity (inclusive), unix seconds.
    pub not_after: u64,
    /// Serial number (unique per CA; revocation is keyed by it).
    pub serial: Serial,
}

/// An organisation's certificate authority: its self-signed CA certificate and signing key.
///
/// The organisation is the CA certificate's subject `O`; every certificate it issues carries
/// the same `O`, so a verifier can check that a member really belongs to the organisation whose
/// CA it trusts.
#[derive(Debug, Clone)]
pub struct OrgCa {
    cert: Certificate,
    key: SigningKey,
    org: String,
}

impl OrgCa {
    /// Creates a self-signed CA certificate for `params.org`, signed with `key` (whose
    /// algorithm decides the CA's algorithm and therefore its suite).
    pub fn create(params: &CaParams, key: SigningKey) -> Result<Self, IdentityError> {
        if !is_valid_org_id(&params.org) {
            return Err(IdentityError::InvalidRequest(
                "org id must match [A-Za-z0-9._-]{1,64}",
            ));
        }
        let cn = params
            .common_name
            .clone()
            .unwrap_or_else(|| format!("ca.{}", params.org));
        if !is_valid_member_name(&cn) {
            return Err(IdentityError::InvalidRequest("invalid CA common name"));
        }
        let name = build_name(&params.org, None, &cn)?;
        let public_key = key.public_key();
        let cert = sign_certificate(
            &TbsParams {
                serial: &params.serial,
                issuer: name.clone(),
                subject: name,
                not_before: params.not_before,
                not_after: params.not_after,
                subject_key: &public_key,
                profile: Profile::Ca,
            },
            &key,
        )?;
        Ok(Self {
            cert,
            key,
            org: params.org.clone(),
        })
    }

    /// Generates a fresh key for `algorithm` and creates the CA.
    pub fn generate<R: CryptoRng + ?Sized>(
        algorithm: Algorithm,
        params: &CaParams,
        rng: &mut R,
    ) -> Result<Self, IdentityError> {
        Self::create(params, SigningKey::generate(algorithm, rng))
    }

    /// Re-assembles a CA from a stored certificate and key (e.g. loaded by the CLI).
    ///
    /// The certificate must be a valid self-signed CA for the key's suite, with a valid `O`, and
    /// `key` must be its key.
    pub fn from_parts(cert: Certificate, key: SigningKey) -> Result<Self, IdentityError> {
        if cert.public_key() != &key.public_key() {
            return Err(IdentityError::InvalidKey(
                "signing key does not match the CA certificate",
            ));
        }
        check_ca(&cert, key.algorithm().suite())?;
        let org = cert
            .org()
            .filter(|o| is_valid_org_id(o))
            .ok_or(IdentityError::BadSubject("CA certificate has no valid O"))?
            .to_owned();
        Ok(Self { cert, key, org })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The CA signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The organisation id (the CA's subject `O`).
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The CA's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// Issues a member certificate `O=<org>, OU=<role>, CN=<name>` for `req.public_key`.
    ///
    /// The member key must belong to the CA's suite (`cert.wrong_algorithm` otherwise). The
    /// leaf's validity window is not clamped to the CA's: a verifier checks both.
    pub fn issue(&self, req: &IssueRequest) -> Result<Certificate, IdentityError> {
        if !is_valid_member_name(&req.name) {
            return Err(IdentityError::InvalidRequest(
                "member name must be 1..=64 bytes without control characters",
            ));
        }
        if req.public_key.algorithm().suite() != self.algorithm().suite() {
            return Err(IdentityError::WrongAlgorithm(
                "member key is not of the CA's suite",
            ));
        }
        let subject = build_name(&self.org, Some(req.role.as_str()), &req.name)?;
        let issuer: RdnSequence = self.cert.x509().tbs_certificate().subject().clone().into();
        // Chain to the CA's own subjectKeyIdentifier (it may come from another tool).
        let issuer_key_id = self
            .cert
            .subject_key_id()
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| self.key.public_key().key_identifier().to_vec());
        sign_certificate(
            &TbsParams {
                serial: &req.serial,
                issuer,
                subject,
                not_before: req.not_before,
                not_after: req.not_after,
                subject_key: &req.public_key,
                profile: Profile::Leaf {
                    issuer_key_id: &issuer_key_id,
                },
            },
            &self.key,
        )
    }
}
