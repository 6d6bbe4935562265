//! State keys and records of the identity module, and the genesis writes of a
//! certificate-mode chain.

use meridian_execution::ModuleError;
use meridian_identity::{CertId, Certificate, IdentityError, Role, TrustStore};
use meridian_types::{decode_exact, Address, CodecError, Decode, Encode, Reader, Writer};

use crate::MODULE;

/// Present in certificate mode.
pub const MODE_KEY: &str = "identity/mode";
/// The member organisations ([`OrgList`]).
pub const ORGS_KEY: &str = "identity/orgs";
/// Most member organisations.
pub const MAX_ORGS: usize = 256;

fn key(kind: &str, rest: &[u8]) -> Vec<u8> {
    let mut k = format!("{MODULE}/{kind}/").into_bytes();
    k.extend_from_slice(rest);
    k
}

pub fn ca_key(ca_id: &[u8; 32]) -> Vec<u8> {
    key("ca", ca_id)
}
pub fn org_key(org: &str) -> Vec<u8> {
    key("org", org.as_bytes())
}
pub fn member_key(address: &Address) -> Vec<u8> {
    key("member", &address.0)
}
pub fn revoked_key(ca_id: &[u8; 32], serial: &[u8]) -> Vec<u8> {
    let mut rest = ca_id.to_vec();
    rest.extend_from_slice(serial);
    key("revoked", &rest)
}
/// `call` is `<module>.<method>` or `<module>.*`.
pub fn policy_key(call: &str) -> Vec<u8> {
    key("policy", call.as_bytes())
}

fn corrupt(what: &str, e: CodecError) -> ModuleError {
    ModuleError::new(crate::codes::CORRUPT, format!("stored {what}: {e}"))
}

/// A trusted CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaRecord {
    /// The organisation it vouches for.
    pub org: String,
    pub third_party: bool,
    pub der: Vec<u8>,
}

impl CaRecord {
    pub fn decode_exact(raw: &[u8]) -> Result<Self, ModuleError> {
        decode_exact(raw).map_err(|e| corrupt("CA", e))
    }

    /// Adds this CA to a trust store.
    pub fn add_to(&self, store: &mut TrustStore) -> Result<CertId, IdentityError> {
        let cert = Certificate::from_der(&self.der)?;
        if self.third_party {
            store.add_third_party_ca(cert, &self.org)
        } else {
            store.add_org_ca(cert)
        }
    }
}

impl Encode for CaRecord {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.org);
        w.bool(self.third_party);
        w.bytes(&self.der);
    }
}
impl Decode for CaRecord {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(CaRecord {
            org: r.string(64, "ca.org")?,
            third_party: r.bool("ca.third_party")?,
            der: r.bytes(meridian_identity::MAX_CERT_DER_LEN, "ca.der")?,
        })
    }
}

/// An organisation: the CAs that vouch for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgRecord {
    pub cas: Vec<[u8; 32]>,
}

impl OrgRecord {
    pub fn decode_exact(raw: &[u8]) -> Result<Self, ModuleError> {
        decode_exact(raw).map_err(|e| corrupt("org", e))
    }
}
impl Encode for OrgRecord {
    fn encode_to(&self, w: &mut Writer) {
        w.len(self.cas.len());
        for c in &self.cas {
            w.fixed(c);
        }
    }
}
impl Decode for OrgRecord {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let n = r.len(64, "org.cas")?;
        let mut cas = Vec::with_capacity(n);
        for _ in 0..n {
            cas.push(r.array("org.ca")?);
        }
        Ok(OrgRecord { cas })
    }
}

/// The member organisations, in joining order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgList {
    pub orgs: Vec<String>,
}
impl Encode for OrgList {
    fn encode_to(&self, w: &mut Writer) {
        w.len(self.orgs.len());
        for o in &self.orgs {
            w.str(o);
        }
    }
}
impl Decode for OrgList {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let n = r.len(MAX_ORGS, "orgs")?;
        let mut orgs = Vec::with_capacity(n);
        for _ in 0..n {
            orgs.push(r.string(64, "org")?);
        }
        Ok(OrgList { orgs })
    }
}

/// A member's current certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    pub cert_id: [u8; 32],
    /// Id of the CA that issued it.
    pub ca_id: [u8; 32],
    pub der: Vec<u8>,
}

impl MemberRecord {
    pub fn decode_exact(raw: &[u8]) -> Result<Self, ModuleError> {
        decode_exact(raw).map_err(|e| corrupt("member", e))
    }
}
impl Encode for MemberRecord {
    fn encode_to(&self, w: &mut Writer) {
        w.fixed(&self.cert_id);
        w.fixed(&self.ca_id);
        w.bytes(&self.der);
    }
}
impl Decode for MemberRecord {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(MemberRecord {
            cert_id: r.array("member.cert_id")?,
            ca_id: r.array("member.ca_id")?,
            der: r.bytes(meridian_identity::MAX_CERT_DER_LEN, "member.der")?,
        })
    }
}

/// Roles allowed to send a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub roles: Vec<String>,
}

impl Policy {
    pub fn allows(&self, role: &Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str())
    }
    pub fn decode_exact(raw: &[u8]) -> Result<Self, ModuleError> {
        decode_exact(raw).map_err(|e| corrupt("policy", e))
    }
}
impl Encode for Policy {
    fn encode_to(&self, w: &mut Writer) {
        w.len(self.roles.len());
        for r in &self.roles {
            w.str(r);
        }
    }
}
impl Decode for Policy {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let n = r.len(16, "policy.roles")?;
        let mut roles = Vec::with_capacity(n);
        for _ in 0..n {
            roles.push(r.string(meridian_identity::MAX_ROLE_LEN, "policy.role")?);
        }
        Ok(Policy { roles })
    }
}

/// The policies a new certificate-mode chain starts with (governance changes them later).
pub fn default_policies() -> Vec<(String, Vec<String>)> {
    let p = |call: &str, roles: &[&str]| {
        (
            call.to_string(),
            roles.iter().map(|r| r.to_string()).collect(),
        )
    };
    vec![
        p(
            "identity.register",
            &[
                "admin",
                "consensus",
                "member",
                "client",
                "regulator",
                "auditor",
            ],
        ),
        p("identity.revoke", &["admin"]),
        p("identity.propose", &["admin"]),
        p("identity.vote", &["admin"]),
        p(
            "identity.retire_validator",
            &["admin", "consensus", "member"],
        ),
        p("bank.create_asset", &["admin", "member"]),
        p("bank.mint", &["admin", "member"]),
        p("bank.*", &["admin", "member", "client"]),
        p("notary.register", &["admin", "member", "client"]),
        // Contracts: members deploy (and upload code, and carry out approved upgrades);
        // clients call.
        p("contract.upload", &["admin", "member"]),
        p("contract.deploy", &["admin", "member"]),
        p("contract.upgrade", &["admin", "member"]),
        p("contract.*", &["admin", "member", "client"]),
        // Interop: relayers (members or clients) submit client updates, handshake steps and
        // packets; users send tokens. Governance-only steps also need an approval.
        p("interop.*", &["admin", "member", "client"]),
    ]
}

/// A state key and the value to store under it.
pub type StateWrite = (Vec<u8>, Vec<u8>);

/// Input of [`genesis_writes`]: one organisation and its CA certificate (DER or PEM).
pub struct GenesisOrg<'a> {
    pub id: &'a str,
    pub ca_cert: &'a [u8],
}

/// State writes that put a chain in certificate mode: trusted CAs, organisations, the members
/// whose certificates genesis lists (validators, first admins), and policies. Every member
/// certificate must verify at `genesis_time_secs` against the listed CAs.
pub fn genesis_writes(
    suite: meridian_crypto::Suite,
    genesis_time_secs: u64,
    orgs: &[GenesisOrg<'_>],
    members: &[&[u8]],
    policies: &[(String, Vec<String>)],
    address_of: &dyn Fn(&[u8]) -> Address,
) -> Result<Vec<StateWrite>, String> {
    let mut store = TrustStore::new(suite);
    let mut out = vec![(MODE_KEY.as_bytes().to_vec(), vec![1u8])];
    if orgs.len() > MAX_ORGS {
        return Err(format!("at most {MAX_ORGS} organisations"));
    }
    out.push((
        ORGS_KEY.as_bytes().to_vec(),
        OrgList {
            orgs: orgs.iter().map(|o| o.id.to_string()).collect(),
        }
        .encode(),
    ));
    for o in orgs {
        let cert = Certificate::parse(o.ca_cert).map_err(|e| format!("org {}: CA: {e}", o.id))?;
        if cert.org() != Some(o.id) {
            return Err(format!(
                "org {}: the CA certificate's O is not {}",
                o.id, o.id
            ));
        }
        let der = cert.to_der();
        let id = store
            .add_org_ca(cert)
            .map_err(|e| format!("org {}: CA: {e}", o.id))?;
        let rec = CaRecord {
            org: o.id.to_string(),
            third_party: false,
            der,
        };
        out.push((ca_key(id.as_bytes()), rec.encode()));
        out.push((
            org_key(o.id),
            OrgRecord {
                cas: vec![*id.as_bytes()],
            }
            .encode(),
        ));
    }
    for m in members {
        let cert = Certificate::parse(m).map_err(|e| format!("member certificate: {e}"))?;
        let id =
            meridian_identity::verify_chain(&cert, &store, suite, genesis_time_secs, |_, _| false)
                .map_err(|e| {
                    format!(
                        "member certificate {}: {} ({})",
                        cert.subject_dn(),
                        e,
                        e.code()
                    )
                })?;
        let rec = MemberRecord {
            cert_id: *id.cert_id.as_bytes(),
            ca_id: *id.issuer_ca_id.as_bytes(),
            der: cert.to_der(),
        };
        out.push((
            member_key(&address_of(&id.public_key.to_bytes())),
            rec.encode(),
        ));
    }
    for (call, roles) in policies {
        for r in roles {
            r.parse::<Role>()
                .map_err(|_| format!("policy {call}: {r} is not a role"))?;
        }
        if roles.is_empty() {
            return Err(format!("policy {call}: no role may send it"));
        }
        out.push((
            policy_key(call),
            Policy {
                roles: roles.clone(),
            }
            .encode(),
        ));
    }
    Ok(out)
}
