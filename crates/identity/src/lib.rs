//! X.509 certificate identities for consortium members (ChainMaker "cert mode", Fabric MSP).
//!
//! Every organisation runs a CA ([`OrgCa`]). A member — consensus node, client, admin,
//! regulator, ... — holds a certificate whose subject is `O=<org>, OU=<role>, CN=<name>`
//! ([`Role`]); a chain trusts a set of CA certificates ([`TrustStore`]) and turns a presented
//! certificate into a verified [`Identity`] with [`verify_chain`].
//!
//! | chain suite | accepted certificate algorithms                 | cert id hash |
//! |-------------|-------------------------------------------------|--------------|
//! | `sm`        | SM2-with-SM3 (GM/T 0003, default ID)            | SM3          |
//! | `intl`      | ECDSA P-256 with SHA-256, Ed25519               | SHA-256      |
//!
//! Certificates are standard RFC 5280 v3 DER with the standard OIDs ([`algorithm::oid`]), so
//! OpenSSL/GmSSL/Tongsuo and other chains' tooling read them; certificates from those tools
//! (e.g. a third-party CA) are read by [`Certificate::from_der`] / [`Certificate::from_pem`].
//!
//! The crate is pure: no I/O, no clock (the host passes `now_unix_secs`), no global RNG
//! (callers pass one). Revocation is a callback, so the chain state (a CRL module) decides it.
//!
//! # Tour
//!
//! ```
//! use meridian_crypto::{PrivateKey, Suite};
//! use meridian_identity::{
//!     verify_chain, Algorithm, CaParams, Certificate, IssueRequest, OrgCa, Role, Serial,
//!     SigningKey, TrustStore,
//! };
//!
//! let now = 1_750_000_000; // supplied by the host (block time, wall clock, ...)
//! let year = 365 * 24 * 3600;
//!
//! // 1. org1 creates its CA (an `sm` chain, so SM2-with-SM3).
//! let ca_key = SigningKey::from_bytes(Algorithm::Sm2Sm3, &[7u8; 32])?;
//! let ca = OrgCa::create(
//!     &CaParams {
//!         org: "org1".into(),
//!         common_name: None, // "ca.org1"
//!         not_before: now,
//!         not_after: now + 10 * year,
//!         serial: Serial::from_u64(1)?,
//!     },
//!     ca_key,
//! )?;
//!
//! // 2. A consensus node's key (the one it signs votes with) gets a certificate.
//! let node_key = PrivateKey::from_seed(Suite::Sm, &[1u8; 32]);
//! let cert = ca.issue(&IssueRequest {
//!     name: "node1".into(),
//!     role: Role::Consensus,
//!     public_key: node_key.public_key().into(),
//!     not_before: now,
//!     not_after: now + year,
//!     serial: Serial::from_u64(2)?,
//! })?;
//! let pem = cert.to_pem()?;
//!
//! // 3. Anyone with the chain's trust store verifies it.
//! let mut store = TrustStore::new(Suite::Sm);
//! store.add_org_ca(ca.certificate().clone())?;
//! let presented = Certificate::from_pem(&pem)?;
//! let id = verify_chain(&presented, &store, Suite::Sm, now + 60, |_ca, _serial| false)?;
//! assert_eq!(id.org, "org1");
//! assert_eq!(id.role, Role::Consensus);
//! assert_eq!(id.name, "node1");
//! assert!(id.matches_key(&node_key.public_key()));
//!
//! // 4. Revocation is keyed by (issuing CA id, serial bytes).
//! let err = verify_chain(&presented, &store, Suite::Sm, now + 60, |ca_id, serial| {
//!     *ca_id == id.issuer_ca_id && serial == [2]
//! })
//! .unwrap_err();
//! assert_eq!(err.code(), "cert.revoked");
//!
//! // 5. Time is an input: after notAfter the certificate is rejected.
//! let err = verify_chain(&presented, &store, Suite::Sm, now + 2 * year, |_, _| false).unwrap_err();
//! assert_eq!(err.code(), "cert.expired");
//! # Ok::<(), meridian_identity::IdentityError>(())
//! ```
//!
//! Third-party CAs (a certificate authority that is not a member organisation) are trusted
//! with [`TrustStore::add_third_party_ca`], naming the organisation they vouch for.
//!
//! Every error has a stable [`IdentityError::code`] (`cert.malformed`, `cert.expired`, ...).

pub mod algorithm;
mod builder;
mod ca;
mod cert;
mod error;
mod keys;
mod name;
mod role;
mod serial;
mod trust;
mod verify;

pub use algorithm::Algorithm;
pub use ca::{CaParams, IssueRequest, OrgCa};
pub use cert::{CertId, Certificate, MAX_CERT_DER_LEN, MAX_CERT_PEM_LEN};
pub use error::{CertRole, IdentityError};
pub use keys::{P256PublicKey, PublicKeyInfo, SigningKey, KEY_ID_LEN};
pub use name::{is_valid_member_name, is_valid_org_id, MAX_MEMBER_NAME_LEN, MAX_ORG_ID_LEN};
pub use role::{CustomRole, Role, MAX_ROLE_LEN};
pub use serial::Serial;
pub use trust::{CaKind, TrustStore, TrustedCa};
pub use verify::{check_ca, verify_ca, verify_chain, Identity};
