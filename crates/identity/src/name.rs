//! Subject naming, ChainMaker style: `O` = organisation id, `OU` = role, `CN` = member name.
//!
//! Names are written as three single-valued RDNs in the order `O, OU, CN` (most general first),
//! each a UTF8String (RFC 5280 §4.1.2.6). When parsing, PrintableString / BMPString / TeletexString
//! values written by other CAs are accepted too.

use crate::{algorithm::oid, IdentityError};
use der::{
    asn1::{ObjectIdentifier, Utf8StringRef},
    Any,
};
use x509_cert::{
    attr::AttributeTypeAndValue,
    ext::pkix::name::DirectoryString,
    name::{Name, RdnSequence, RelativeDistinguishedName},
};

/// Longest organisation id in bytes.
pub const MAX_ORG_ID_LEN: usize = 64;
/// Longest member name (CN) in bytes (X.520 `ub-common-name`).
pub const MAX_MEMBER_NAME_LEN: usize = 64;

/// Whether `org` is a valid organisation id: `[A-Za-z0-9._-]{1,64}` (e.g. `wx-org1.chainmaker.org`).
pub fn is_valid_org_id(org: &str) -> bool {
    !org.is_empty()
        && org.len() <= MAX_ORG_ID_LEN
        && org
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `name` is a valid member name (CN): 1..=64 bytes of UTF-8 without control characters
/// and without leading/trailing whitespace.
pub fn is_valid_member_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_MEMBER_NAME_LEN
        && !name.chars().any(char::is_control)
        && name.trim() == name
}

/// Builds `O=org[, OU=ou], CN=cn`.
pub(crate) fn build_name(
    org: &str,
    ou: Option<&str>,
    cn: &str,
) -> Result<RdnSequence, IdentityError> {
    let mut seq = RdnSequence::default();
    seq.push(rdn(oid::AT_ORGANIZATION, org)?);
    if let Some(ou) = ou {
        seq.push(rdn(oid::AT_ORGANIZATIONAL_UNIT, ou)?);
    }
    seq.push(rdn(oid::AT_COMMON_NAME, cn)?);
    Ok(seq)
}

fn rdn(attr: ObjectIdentifier, value: &str) -> Result<RelativeDistinguishedName, IdentityError> {
    let err = |_| IdentityError::InvalidRequest("cannot encode subject name");
    let value = Any::encode_from(&Utf8StringRef::new(value).map_err(err)?).map_err(err)?;
    let mut rdn = RelativeDistinguishedName::default();
    rdn.insert(AttributeTypeAndValue { oid: attr, value })
        .map_err(err)?;
    Ok(rdn)
}

/// The subject attributes this crate cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SubjectFields {
    /// `O` (at most one).
    pub org: Option<String>,
    /// Every `OU`, in order.
    pub org_units: Vec<String>,
    /// `CN` (at most one).
    pub common_name: Option<String>,
}

impl SubjectFields {
    pub(crate) fn parse(name: &Name) -> Result<Self, IdentityError> {
        let mut out = SubjectFields::default();
        for atv in name.iter() {
            let slot = if atv.oid == oid::AT_ORGANIZATION {
                Slot::Org
            } else if atv.oid == oid::AT_ORGANIZATIONAL_UNIT {
                Slot::Ou
            } else if atv.oid == oid::AT_COMMON_NAME {
                Slot::Cn
            } else {
                continue;
            };
            let value = DirectoryString::try_from(&atv.value)
                .map_err(|_| IdentityError::Malformed("subject attribute is not a string"))?
                .value()
                .into_owned();
            match slot {
                Slot::Org if out.org.is_some() => {
                    return Err(IdentityError::BadSubject("more than one O"))
                }
                Slot::Org => out.org = Some(value),
                Slot::Ou => out.org_units.push(value),
                Slot::Cn if out.common_name.is_some() => {
                    return Err(IdentityError::BadSubject("more than one CN"))
                }
                Slot::Cn => out.common_name = Some(value),
            }
        }
        Ok(out)
    }
}

enum Slot {
    Org,
    Ou,
    Cn,
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn build_and_parse() {
        let seq = build_name("org1.example", Some("consensus"), "node-1").unwrap();
        let name = Name::from_der(&seq.to_der().unwrap()).unwrap();
        assert_eq!(name.to_string(), "CN=node-1,OU=consensus,O=org1.example");
        let f = SubjectFields::parse(&name).unwrap();
        assert_eq!(f.org.as_deref(), Some("org1.example"));
        assert_eq!(f.org_units, vec!["consensus".to_owned()]);
        assert_eq!(f.common_name.as_deref(), Some("node-1"));
    }

    #[test]
    fn printable_string_values_are_read() {
        let name: Name = "CN=alice,OU=client,O=org2".parse().unwrap();
        let f = SubjectFields::parse(&name).unwrap();
        assert_eq!(f.org.as_deref(), Some("org2"));
        assert_eq!(f.common_name.as_deref(), Some("alice"));
    }

    #[test]
    fn duplicate_org_rejected() {
        let name: Name = "CN=a,O=x,O=y".parse().unwrap();
        assert_eq!(
            SubjectFields::parse(&name).unwrap_err().code(),
            "cert.bad_subject"
        );
    }

    #[test]
    fn validators() {
        assert!(is_valid_org_id("wx-org1.chainmaker.org"));
        assert!(!is_valid_org_id(""));
        assert!(!is_valid_org_id("org 1"));
        assert!(!is_valid_org_id(&"a".repeat(65)));
        assert!(is_valid_member_name("Alice Zhang"));
        assert!(is_valid_member_name("张三"));
        assert!(!is_valid_member_name(" x"));
        assert!(!is_valid_member_name("a\nb"));
        assert!(!is_valid_member_name(""));
    }
}
