//! Parsed X.509 certificates ([`Certificate`]) and their ids ([`CertId`]).

use crate::{
    error::CertRole, name::SubjectFields, Algorithm, IdentityError, PublicKeyInfo, Role, Serial,
};
use core::fmt;
use der::{
    oid::AssociatedOid,
    pem::{self, LineEnding},
    Decode, Encode, Header, Reader, SliceReader,
};
use meridian_crypto::{Digest32, Suite};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};

/// Largest accepted DER certificate (8 KiB). Larger input fails with `cert.too_large`.
pub const MAX_CERT_DER_LEN: usize = 8 * 1024;
/// Largest accepted PEM text (base64 of [`MAX_CERT_DER_LEN`] plus armour and line breaks).
pub const MAX_CERT_PEM_LEN: usize = 12 * 1024;

const PEM_LABEL: &str = "CERTIFICATE";

/// A certificate id: the chain suite's hash (SM3 for `sm`, SHA-256 for `intl`) of the
/// certificate's DER. This is how CAs are keyed in a [`crate::TrustStore`] and how revocations
/// name the issuing CA.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CertId(pub Digest32);

impl CertId {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// `suite.hash(der)`.
    pub fn of_der(suite: Suite, der: &[u8]) -> Self {
        CertId(suite.hash(der))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// From exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IdentityError> {
        Digest32::from_slice(bytes)
            .map(CertId)
            .map_err(|_| IdentityError::InvalidRequest("certificate id must be 32 bytes"))
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }

    /// From 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Self, IdentityError> {
        let bytes =
            hex::decode(s).map_err(|_| IdentityError::InvalidRequest("certificate id hex"))?;
        Self::from_slice(&bytes)
    }
}

impl fmt::Display for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertId({})", self.to_hex())
    }
}

/// A parsed, structurally checked X.509 certificate with one of the supported algorithms.
///
/// Parsing checks encoding only (strict DER, size bound, supported algorithms, known critical
/// extensions); trust, time and revocation are decided by [`crate::verify_chain`] /
/// [`crate::verify_ca`]. Equality is byte equality of the DER.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    x509: x509_cert::Certificate,
    signature_algorithm: Algorithm,
    signature: Vec<u8>,
    public_key: PublicKeyInfo,
    serial: Serial,
    not_before: u64,
    not_after: u64,
    subject: SubjectFields,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    extensions: ParsedExtensions,
}

#[derive(Clone, Debug, Default)]
struct ParsedExtensions {
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
}

impl Certificate {
    /// Parses a DER certificate (at most [`MAX_CERT_DER_LEN`] bytes).
    pub fn from_der(der: &[u8]) -> Result<Self, IdentityError> {
        if der.len() > MAX_CERT_DER_LEN {
            return Err(IdentityError::TooLarge {
                len: der.len(),
                max: MAX_CERT_DER_LEN,
            });
        }
        let x509 = x509_cert::Certificate::from_der(der)
            .map_err(|_| IdentityError::Malformed("not a DER X.509 certificate"))?;
        let tbs = raw_tbs(der)?;
        let tbs_cert = x509.tbs_certificate();

        if tbs_cert.signature() != x509.signature_algorithm() {
            return Err(IdentityError::Malformed(
                "TBS signature algorithm differs from outer algorithm",
            ));
        }
        let signature_algorithm = Algorithm::from_signature_algorithm(x509.signature_algorithm())?;
        let public_key = PublicKeyInfo::from_spki(tbs_cert.subject_public_key_info())?;
        let signature = x509
            .signature()
            .as_bytes()
            .ok_or(IdentityError::Malformed(
                "signature bit string has unused bits",
            ))?
            .to_vec();
        let serial = Serial::from_certificate(tbs_cert.serial_number().as_bytes())?;
        let validity = tbs_cert.validity();
        let not_before = validity.not_before.to_unix_duration().as_secs();
        let not_after = validity.not_after.to_unix_duration().as_secs();
        if not_after < not_before {
            return Err(IdentityError::Malformed("notAfter is before notBefore"));
        }
        let subject = SubjectFields::parse(tbs_cert.subject())?;
        let encode = |_: der::Error| IdentityError::Malformed("cannot re-encode name");
        let subject_der = tbs_cert.subject().to_der().map_err(encode)?;
        let issuer_der = tbs_cert.issuer().to_der().map_err(encode)?;
        let extensions = parse_extensions(tbs_cert)?;

        Ok(Self {
            der: der.to_vec(),
            tbs,
            x509,
            signature_algorithm,
            signature,
            public_key,
            serial,
            not_before,
            not_after,
            subject,
            subject_der,
            issuer_der,
            extensions,
        })
    }

    /// Parses a PEM `CERTIFICATE` block (at most [`MAX_CERT_PEM_LEN`] bytes; surrounding
    /// whitespace is ignored).
    pub fn from_pem(pem_text: &str) -> Result<Self, IdentityError> {
        if pem_text.len() > MAX_CERT_PEM_LEN {
            return Err(IdentityError::TooLarge {
                len: pem_text.len(),
                max: MAX_CERT_PEM_LEN,
            });
        }
        let (label, der) = pem::decode_vec(pem_text.trim().as_bytes())
            .map_err(|_| IdentityError::Malformed("not a PEM block"))?;
        if label != PEM_LABEL {
            return Err(IdentityError::Malformed("PEM label is not CERTIFICATE"));
        }
        Self::from_der(&der)
    }

    /// Parses PEM if `bytes` (after leading whitespace) starts with `-----BEGIN`, DER otherwise.
    /// Handy for files and CLI arguments.
    pub fn parse(bytes: &[u8]) -> Result<Self, IdentityError> {
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(bytes.len());
        if bytes[start..].starts_with(b"-----BEGIN") {
            if bytes.len() > MAX_CERT_PEM_LEN {
                return Err(IdentityError::TooLarge {
                    len: bytes.len(),
                    max: MAX_CERT_PEM_LEN,
                });
            }
            let text = core::str::from_utf8(bytes)
                .map_err(|_| IdentityError::Malformed("PEM is not UTF-8"))?;
            Self::from_pem(text)
        } else {
            Self::from_der(bytes)
        }
    }

    /// The DER encoding.
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// The DER encoding, owned.
    pub fn to_der(&self) -> Vec<u8> {
        self.der.clone()
    }

    /// PEM text (`-----BEGIN CERTIFICATE-----`, 64-column base64, LF line endings).
    pub fn to_pem(&self) -> Result<String, IdentityError> {
        pem::encode_string(PEM_LABEL, LineEnding::LF, &self.der)
            .map_err(|_| IdentityError::Malformed("cannot PEM-encode certificate"))
    }

    /// `suite.hash(DER)`: SM3 for `sm`, SHA-256 for `intl`.
    pub fn cert_id(&self, suite: Suite) -> CertId {
        CertId::of_der(suite, &self.der)
    }

    /// Subject `O` (organisation id), if present.
    pub fn org(&self) -> Option<&str> {
        self.subject.org.as_deref()
    }

    /// Subject `CN` (member name), if present.
    pub fn name(&self) -> Option<&str> {
        self.subject.common_name.as_deref()
    }

    /// Every subject `OU`, in order.
    pub fn org_units(&self) -> &[String] {
        &self.subject.org_units
    }

    /// The member role: the subject must carry exactly one `OU`, and it must be a valid
    /// [`Role`] string; otherwise `cert.bad_role`.
    pub fn role(&self) -> Result<Role, IdentityError> {
        match self.subject.org_units.as_slice() {
            [ou] => ou.parse(),
            [] => Err(IdentityError::BadRole(
                "certificate has no OU (role)".into(),
            )),
            _ => Err(IdentityError::BadRole(
                "certificate has more than one OU".into(),
            )),
        }
    }

    /// The serial number.
    pub fn serial(&self) -> &Serial {
        &self.serial
    }

    /// `notBefore`, unix seconds.
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// `notAfter`, unix seconds (inclusive).
    pub fn not_after(&self) -> u64 {
        self.not_after
    }

    /// Whether `not_before <= now <= not_after`.
    pub fn is_valid_at(&self, now_unix_secs: u64) -> bool {
        self.check_time(CertRole::Leaf, now_unix_secs).is_ok()
    }

    pub(crate) fn check_time(&self, which: CertRole, now: u64) -> Result<(), IdentityError> {
        if now < self.not_before {
            Err(IdentityError::NotYetValid {
                which,
                not_before: self.not_before,
                now,
            })
        } else if now > self.not_after {
            Err(IdentityError::Expired {
                which,
                not_after: self.not_after,
                now,
            })
        } else {
            Ok(())
        }
    }

    /// The subject public key.
    pub fn public_key(&self) -> &PublicKeyInfo {
        &self.public_key
    }

    /// The subject key's algorithm (what this certificate's holder signs with).
    pub fn algorithm(&self) -> Algorithm {
        self.public_key.algorithm()
    }

    /// The algorithm the issuer signed this certificate with.
    pub fn signature_algorithm(&self) -> Algorithm {
        self.signature_algorithm
    }

    /// Whether `basicConstraints` says `CA:true`.
    pub fn is_ca(&self) -> bool {
        self.extensions
            .basic_constraints
            .as_ref()
            .is_some_and(|bc| bc.ca)
    }

    /// `basicConstraints` `pathLenConstraint`, if any.
    pub fn path_len(&self) -> Option<u8> {
        self.extensions
            .basic_constraints
            .as_ref()
            .and_then(|bc| bc.path_len_constraint)
    }

    /// `keyUsage` allows certificate signing (true when the extension is absent).
    pub fn allows_cert_sign(&self) -> bool {
        self.extensions
            .key_usage
            .as_ref()
            .is_none_or(KeyUsage::key_cert_sign)
    }

    /// `keyUsage` allows digital signatures (true when the extension is absent).
    pub fn allows_digital_signature(&self) -> bool {
        self.extensions
            .key_usage
            .as_ref()
            .is_none_or(KeyUsage::digital_signature)
    }

    /// Subject key identifier extension value.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.extensions.subject_key_id.as_deref()
    }

    /// Authority key identifier (`keyIdentifier` field) extension value.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.extensions.authority_key_id.as_deref()
    }

    /// Whether issuer and subject names are identical (a root / self-signed candidate).
    pub fn is_self_issued(&self) -> bool {
        self.issuer_der == self.subject_der
    }

    /// Subject distinguished name, RFC 4514 text (e.g. `CN=node1,OU=consensus,O=org1`).
    pub fn subject_dn(&self) -> String {
        self.x509.tbs_certificate().subject().to_string()
    }

    /// Issuer distinguished name, RFC 4514 text.
    pub fn issuer_dn(&self) -> String {
        self.x509.tbs_certificate().issuer().to_string()
    }

    /// DER of the subject name.
    pub fn subject_name_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// DER of the issuer name.
    pub fn issuer_name_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// The exact signed bytes (`tbsCertificate` DER as it appears in the certificate).
    pub fn tbs_der(&self) -> &[u8] {
        &self.tbs
    }

    /// The `signatureValue` contents (DER `(r, s)` for SM2/ECDSA, 64 bytes for Ed25519).
    pub fn signature_value(&self) -> &[u8] {
        &self.signature
    }

    /// The underlying `x509-cert` structure, for fields this wrapper does not expose.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.x509
    }

    /// Verifies that `issuer_key` signed this certificate (the algorithms must agree).
    pub fn verify_signature(&self, issuer_key: &PublicKeyInfo) -> Result<(), IdentityError> {
        if issuer_key.algorithm() != self.signature_algorithm {
            return Err(IdentityError::BadSignature);
        }
        issuer_key.verify(&self.tbs, &self.signature)
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject_dn())
            .field("issuer", &self.issuer_dn())
            .field("serial", &self.serial)
            .field("algorithm", &self.algorithm())
            .field("signature_algorithm", &self.signature_algorithm)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("ca", &self.is_ca())
            .finish()
    }
}

/// The `tbsCertificate` TLV exactly as it appears in `der` (re-encoding could differ, e.g. a
/// pre-2050 GeneralizedTime would come back as UTCTime).
fn raw_tbs(der: &[u8]) -> Result<Vec<u8>, IdentityError> {
    let malformed = |_| IdentityError::Malformed("cannot locate tbsCertificate");
    let mut reader = SliceReader::new(der).map_err(malformed)?;
    Header::decode(&mut reader).map_err(malformed)?;
    Ok(reader.tlv_bytes().map_err(malformed)?.to_vec())
}

fn parse_extensions(tbs: &x509_cert::TbsCertificate) -> Result<ParsedExtensions, IdentityError> {
    let mut out = ParsedExtensions::default();
    let mut seen = Vec::new();
    let bad = |_| IdentityError::Malformed("undecodable extension");
    for ext in tbs.extensions().map(Vec::as_slice).unwrap_or_default() {
        if seen.contains(&ext.extn_id) {
            return Err(IdentityError::Malformed("duplicate extension"));
        }
        seen.push(ext.extn_id);
        let value = ext.extn_value.as_bytes();
        match ext.extn_id {
            id if id == BasicConstraints::OID => {
                out.basic_constraints = Some(BasicConstraints::from_der(value).map_err(bad)?);
            }
            id if id == KeyUsage::OID => {
                out.key_usage = Some(KeyUsage::from_der(value).map_err(bad)?);
            }
            id if id == SubjectKeyIdentifier::OID => {
                let ski = SubjectKeyIdentifier::from_der(value).map_err(bad)?;
                out.subject_key_id = Some(ski.0.as_bytes().to_vec());
            }
            id if id == AuthorityKeyIdentifier::OID => {
                let aki = AuthorityKeyIdentifier::from_der(value).map_err(bad)?;
                out.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            }
            // Recognised and accepted, but they do not restrict Meridian identities.
            id if id == ExtendedKeyUsage::OID || id == SubjectAltName::OID => {}
            _ if ext.critical => {
                return Err(IdentityError::Malformed("unsupported critical extension"));
            }
            _ => {}
        }
    }
    Ok(out)
}
