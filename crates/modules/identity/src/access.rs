//! [`IdentityAccess`]: the executor's access control in certificate mode.

use std::collections::HashMap;
use std::sync::Mutex;

use meridian_execution::{AccessControl, BlockEnv, Denial, StateRead};
use meridian_identity::{verify_chain, Certificate, Role, TrustStore};
use meridian_types::{Address, Call, SignerId};

use crate::records::*;
use crate::{codes, MODULE};

/// What a verified certificate says, kept so its signature is checked once, not per
/// transaction. Time, revocation and the CA's continued trust are checked on every call.
#[derive(Clone)]
struct Verified {
    org: String,
    role: Role,
    serial: Vec<u8>,
    not_before: u64,
    not_after: u64,
    ca_not_before: u64,
    ca_not_after: u64,
}

/// (member certificate id, issuing CA id).
type CacheKey = ([u8; 32], [u8; 32]);

/// Most cached verified certificates (cleared when full).
const CACHE: usize = 65_536;

/// Access control from on-chain membership and policies. Inert on a chain without
/// organisations.
pub struct IdentityAccess {
    suite: meridian_crypto::Suite,
    /// (member cert id, CA cert id) → verified facts.
    verified: Mutex<HashMap<CacheKey, Verified>>,
}

impl IdentityAccess {
    pub fn new(suite: meridian_crypto::Suite) -> Self {
        Self {
            suite,
            verified: Mutex::new(HashMap::new()),
        }
    }

    fn verify(&self, member: &MemberRecord, ca: &CaRecord) -> Result<Verified, Denial> {
        let key = (member.cert_id, member.ca_id);
        if let Some(v) = self
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(v.clone());
        }
        let deny = |e: meridian_identity::IdentityError| Denial {
            code: e.code(),
            message: e.to_string(),
        };
        let cert = Certificate::from_der(&member.der).map_err(deny)?;
        let ca_cert = Certificate::from_der(&ca.der).map_err(deny)?;
        let mut store = TrustStore::new(self.suite);
        ca.add_to(&mut store).map_err(deny)?;
        // Signature, algorithm, role and org checks, at a time inside both windows so that
        // only those are decided here; time is checked per call below.
        let probe = cert.not_before().max(ca_cert.not_before());
        let id = verify_chain(&cert, &store, self.suite, probe, |_, _| false).map_err(deny)?;
        let v = Verified {
            org: id.org,
            role: id.role,
            serial: id.serial.as_bytes().to_vec(),
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            ca_not_before: ca_cert.not_before(),
            ca_not_after: ca_cert.not_after(),
        };
        let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE {
            cache.clear();
        }
        cache.insert(key, v.clone());
        Ok(v)
    }
}

fn denial(code: &'static str, message: impl Into<String>) -> Denial {
    Denial {
        code,
        message: message.into(),
    }
}

fn corrupt(e: meridian_execution::ModuleError) -> Denial {
    denial(codes::CORRUPT, e.message)
}

/// The policy that governs `call`: its own, its module's, or the default.
fn policy_for(state: &dyn StateRead, call: &Call) -> Result<Policy, Denial> {
    for k in [
        format!("{}.{}", call.module, call.method),
        format!("{}.*", call.module),
    ] {
        if let Some(raw) = state.get(&policy_key(&k)) {
            return Policy::decode_exact(&raw).map_err(corrupt);
        }
    }
    Ok(Policy {
        roles: crate::DEFAULT_ROLES.iter().map(|r| r.to_string()).collect(),
    })
}

impl AccessControl for IdentityAccess {
    fn authorize(
        &self,
        state: &dyn StateRead,
        env: &BlockEnv,
        sender: &Address,
        _sender_key: &[u8],
        call: &Call,
    ) -> Result<Option<SignerId>, Denial> {
        if state.get(MODE_KEY.as_bytes()).is_none() {
            return Ok(None);
        }
        // A member presents its certificate with `register`; the module verifies it.
        if call.module == MODULE && call.method == "register" {
            return Ok(None);
        }
        let member = state
            .get(&member_key(sender))
            .ok_or_else(|| {
                denial(
                    codes::UNKNOWN_MEMBER,
                    "the signer has no registered certificate on this chain",
                )
            })
            .and_then(|raw| MemberRecord::decode_exact(&raw).map_err(corrupt))?;
        let ca = state
            .get(&ca_key(&member.ca_id))
            .ok_or_else(|| {
                denial(
                    "cert.unknown_ca",
                    "the CA that issued the signer's certificate is no longer trusted",
                )
            })
            .and_then(|raw| CaRecord::decode_exact(&raw).map_err(corrupt))?;
        let now = env.time_ms / 1000;
        let v = self.verify(&member, &ca)?;
        if now < v.ca_not_before || now > v.ca_not_after {
            return Err(denial(
                if now > v.ca_not_after {
                    "cert.expired"
                } else {
                    "cert.not_yet_valid"
                },
                "the issuing CA's certificate is outside its validity period",
            ));
        }
        if now > v.not_after {
            return Err(denial(
                "cert.expired",
                format!("the signer's certificate expired at {}", v.not_after),
            ));
        }
        if now < v.not_before {
            return Err(denial(
                "cert.not_yet_valid",
                format!("the signer's certificate is valid from {}", v.not_before),
            ));
        }
        if state.get(&revoked_key(&member.ca_id, &v.serial)).is_some() {
            return Err(denial(
                "cert.revoked",
                "the signer's certificate is on the chain's revocation list",
            ));
        }
        let policy = policy_for(state, call)?;
        if !policy.allows(&v.role) {
            return Err(denial(
                codes::DENIED,
                format!(
                    "role {} may not call {}.{} (allowed: {})",
                    v.role,
                    call.module,
                    call.method,
                    policy.roles.join(", ")
                ),
            ));
        }
        Ok(Some(SignerId {
            org: v.org,
            cert_id: member.cert_id,
        }))
    }
}
