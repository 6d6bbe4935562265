//! Building and signing certificates.
//!
//! The `TBSCertificate` is assembled here with `der` (mirroring RFC 5280 §4.1 field by field),
//! signed with a [`SigningKey`] over its exact DER, and the result is parsed back through
//! [`Certificate::from_der`] — i.e. through `x509-cert`'s own decoder — so a certificate this
//! crate issues is always one it (and any RFC 5280 parser) can read.

use crate::{Certificate, IdentityError, PublicKeyInfo, Serial, SigningKey};
use core::time::Duration;
use der::{
    asn1::{BitString, OctetString},
    flagset::FlagSet,
    oid::AssociatedOid,
    AnyRef, DateTime, Decode, Encode, Sequence,
};
use x509_cert::{
    ext::{
        pkix::{
            AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
        },
        Extension,
    },
    name::RdnSequence,
    serial_number::SerialNumber,
    spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned},
    time::{Time, Validity},
    Version,
};

/// RFC 5280 `TBSCertificate`, always v3, without the (deprecated) unique identifiers.
#[derive(Sequence)]
struct TbsCertificateDer {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: RdnSequence,
    validity: Validity,
    subject: RdnSequence,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// RFC 5280 `Certificate` with the TBS carried as already-encoded bytes.
#[derive(Sequence)]
struct CertificateDer<'a> {
    tbs_certificate: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// Whether the certificate being built is a CA or a member (end-entity) certificate.
pub(crate) enum Profile<'a> {
    /// Self-signed organisation CA: basicConstraints CA:true pathLen 0 (critical), keyUsage
    /// keyCertSign + cRLSign (critical), subjectKeyIdentifier.
    Ca,
    /// Member certificate: basicConstraints CA:false (critical), keyUsage digitalSignature
    /// (critical), subjectKeyIdentifier, authorityKeyIdentifier = the issuer's key id.
    Leaf { issuer_key_id: &'a [u8] },
}

/// Everything that goes into a TBS certificate.
pub(crate) struct TbsParams<'a> {
    pub serial: &'a Serial,
    pub issuer: RdnSequence,
    pub subject: RdnSequence,
    pub not_before: u64,
    pub not_after: u64,
    pub subject_key: &'a PublicKeyInfo,
    pub profile: Profile<'a>,
}

fn invalid(what: &'static str) -> impl Fn(der::Error) -> IdentityError {
    move |_| IdentityError::InvalidRequest(what)
}

/// Unix seconds → X.509 `Time` (UTCTime through 2049, GeneralizedTime from 2050, RFC 5280).
fn x509_time(secs: u64) -> Result<Time, IdentityError> {
    let dt = DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(invalid("validity time out of range (year 1970..=9999)"))?;
    Ok(Time::from(dt))
}

fn extension<T: Encode + AssociatedOid>(
    value: &T,
    critical: bool,
) -> Result<Extension, IdentityError> {
    let der = value.to_der().map_err(invalid("cannot encode extension"))?;
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(der).map_err(invalid("cannot encode extension"))?,
    })
}

fn key_id(bytes: &[u8]) -> Result<OctetString, IdentityError> {
    OctetString::new(bytes.to_vec()).map_err(invalid("cannot encode key identifier"))
}

fn extensions(params: &TbsParams<'_>) -> Result<Vec<Extension>, IdentityError> {
    let ski = SubjectKeyIdentifier(key_id(&params.subject_key.key_identifier())?);
    match params.profile {
        Profile::Ca => Ok(vec![
            extension(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                },
                true,
            )?,
            extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
            extension(&ski, false)?,
        ]),
        Profile::Leaf { issuer_key_id } => Ok(vec![
            extension(
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
                true,
            )?,
            extension(&KeyUsage(FlagSet::from(KeyUsages::DigitalSignature)), true)?,
            extension(&ski, false)?,
            extension(
                &AuthorityKeyIdentifier {
                    key_identifier: Some(key_id(issuer_key_id)?),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
                false,
            )?,
        ]),
    }
}

/// Builds the TBS, signs it with `signer` and returns the parsed certificate.
pub(crate) fn sign_certificate(
    params: &TbsParams<'_>,
    signer: &SigningKey,
) -> Result<Certificate, IdentityError> {
    if params.not_before > params.not_after {
        return Err(IdentityError::InvalidRequest(
            "not_before must not be after not_after",
        ));
    }
    let signature_algorithm = signer.algorithm().signature_algorithm_identifier();
    let tbs = TbsCertificateDer {
        version: Version::V3,
        serial_number: params.serial.to_x509()?,
        signature: signature_algorithm.clone(),
        issuer: params.issuer.clone(),
        validity: Validity::new(x509_time(params.not_before)?, x509_time(params.not_after)?),
        subject: params.subject.clone(),
        subject_public_key_info: params.subject_key.to_spki()?,
        extensions: Some(extensions(params)?),
    };
    let tbs_der = tbs.to_der().map_err(invalid("cannot encode certificate"))?;
    let signature = signer.sign(&tbs_der)?;
    let cert = CertificateDer {
        tbs_certificate: AnyRef::from_der(&tbs_der)
            .map_err(invalid("cannot encode certificate"))?,
        signature_algorithm,
        signature: BitString::from_bytes(&signature).map_err(invalid("cannot encode signature"))?,
    };
    let der = cert
        .to_der()
        .map_err(invalid("cannot encode certificate"))?;
    Certificate::from_der(&der)
}
