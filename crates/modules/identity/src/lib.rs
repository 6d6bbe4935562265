//! The `identity` module: certificate membership on chain (ChainMaker's cert mode, Fabric's MSP).
//!
//! A chain whose genesis lists organisations runs in **certificate mode**: every transaction's
//! signer must be a registered member whose certificate chains to a trusted organisation CA of
//! the chain's suite, is valid at the block's time and is not revoked, and whose role the
//! call's policy allows. [`IdentityAccess`] enforces that for the executor (before any call
//! runs, so a denied call changes nothing) and names the signer's organisation and certificate
//! in the receipt. A chain without organisations is open (every valid signature may transact).
//!
//! State (all under `identity/`):
//! - `identity/mode` — present in certificate mode;
//! - `identity/ca/<ca id>` — a trusted CA: its organisation, kind and DER;
//! - `identity/member/<address>` — the member's current certificate (id, issuing CA id, DER);
//! - `identity/revoked/<ca id><serial>` — revocation list entry (height it was revoked at);
//! - `identity/policy/<module>.<method>` — roles allowed to send that call (`<module>.*` is the
//!   module-wide fallback, [`DEFAULT_ROLES`] the chain-wide one).
//!
//! It also writes, through governance, the chain-level records the node reads at every epoch
//! boundary: `chain/validators` and `chain/config` ([`meridian_types::ValidatorSet`],
//! [`meridian_types::ChainConfig`]).
//!
//! Calls: `register` (a member presents its certificate, signed with the certified key — also
//! how a certificate is rotated with no downtime, validators included), `revoke` (an admin of
//! the issuing CA's organisation revokes a serial), `propose` and `vote` (see [`governance`]).
//! Governance [`Action`]s, with their wire tags: 1 add an organisation, 2 remove one, 3 trust a
//! third-party CA, 4 set a call's policy, 5 revoke a certificate, 6 add a validator, 7 remove
//! one, 8 replace one, 9 set a chain parameter.
//!
//! Invariants kept on every path: every validator holds a valid `consensus` certificate of a
//! member organisation (so its certificate cannot be revoked and its organisation cannot leave
//! while it validates), the set never drops below `3f+1`, and admins keep access to governance.

mod access;
pub mod governance;
mod records;

use meridian_execution::{Module, ModuleError, TxContext};
use meridian_identity::{verify_chain, Certificate, Role, TrustStore};
use meridian_types::{
    Call, Decode, Encode, Reader, Writer, MAX_ERROR_MESSAGE_LEN, MAX_PUBLIC_KEY_LEN,
    MAX_VALIDATOR_NAME_LEN,
};

pub use access::IdentityAccess;
pub use governance::{
    approved_call_key, contract_frozen_key, contract_upgrade_key, Action, Proposal, Status,
    Threshold,
};
pub use records::*;

/// Module name and key prefix.
pub const MODULE: &str = "identity";

/// Roles allowed to send a call that has no policy of its own.
pub const DEFAULT_ROLES: [&str; 3] = ["admin", "member", "client"];

/// Stable codes.
pub mod codes {
    pub const UNKNOWN_MEMBER: &str = "auth.unknown_member";
    pub const DENIED: &str = "auth.denied";
    pub const KEY_MISMATCH: &str = "identity.key_mismatch";
    pub const ADDRESS_TAKEN: &str = "identity.address_taken";
    pub const NOT_ADMIN: &str = "identity.not_admin";
    pub const UNKNOWN_CA: &str = "identity.unknown_ca";
    pub const ALREADY_REVOKED: &str = "identity.already_revoked";
    pub const BAD_ARGS: &str = "identity.bad_args";
    pub const NOT_PERMISSIONED: &str = "identity.not_permissioned";
    pub const NO_PROPOSAL: &str = "identity.no_proposal";
    pub const PROPOSAL_CLOSED: &str = "identity.proposal_closed";
    pub const PROPOSAL_EXPIRED: &str = "identity.proposal_expired";
    pub const ORG_EXISTS: &str = "identity.org_exists";
    pub const NO_ORG: &str = "identity.no_org";
    /// A contract action names a contract that is not deployed.
    pub const NO_CONTRACT: &str = "identity.no_contract";
    /// The change would break a chain invariant (no approvals needed, no organisation left,
    /// a validator without a valid certificate, admins locked out of governance).
    pub const INVARIANT: &str = "identity.invariant";
    /// `retire_validator` on a validator whose consensus certificate is still valid.
    pub const CERT_STILL_VALID: &str = "identity.cert_still_valid";
    /// A stored record does not decode (never expected; the transaction fails).
    pub const CORRUPT: &str = "identity.corrupt";
}

/// A call to the identity module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityCall {
    /// Register (or rotate to) the signer's certificate, DER.
    Register { cert: Vec<u8> },
    /// Revoke certificate `serial` issued by CA `ca_id`.
    Revoke { ca_id: [u8; 32], serial: Vec<u8> },
    /// Open a governance proposal (the proposer's organisation approves it).
    Propose {
        action: Action,
        threshold: Threshold,
        deadline_blocks: u64,
    },
    /// Approve or reject proposal `id` for the signer's organisation.
    Vote { id: u64, approve: bool },
    /// Remove a validator whose consensus certificate has stopped being valid (expired, CA
    /// no longer trusted); refused while the certificate is valid.
    RetireValidator { public_key: Vec<u8> },
}

impl IdentityCall {
    pub fn method(&self) -> &'static str {
        match self {
            IdentityCall::Register { .. } => "register",
            IdentityCall::Revoke { .. } => "revoke",
            IdentityCall::Propose { .. } => "propose",
            IdentityCall::Vote { .. } => "vote",
            IdentityCall::RetireValidator { .. } => "retire_validator",
        }
    }

    /// The transaction call.
    pub fn into_call(self) -> Call {
        let mut w = Writer::new();
        match &self {
            IdentityCall::Register { cert } => w.bytes(cert),
            IdentityCall::Revoke { ca_id, serial } => {
                w.fixed(ca_id);
                w.bytes(serial);
            }
            IdentityCall::Propose {
                action,
                threshold,
                deadline_blocks,
            } => {
                action.encode_to(&mut w);
                threshold.encode_to(&mut w);
                w.u64(*deadline_blocks);
            }
            IdentityCall::Vote { id, approve } => {
                w.u64(*id);
                w.bool(*approve);
            }
            IdentityCall::RetireValidator { public_key } => w.bytes(public_key),
        }
        Call {
            module: MODULE.into(),
            method: self.method().into(),
            args: w.into_bytes(),
        }
    }

    /// Decodes `args` of `method` (hostile input: bounded).
    pub fn decode(method: &str, args: &[u8]) -> Result<Self, ModuleError> {
        let bad = |e: meridian_types::CodecError| ModuleError::new(codes::BAD_ARGS, e.to_string());
        let mut r = Reader::new(args);
        let call = match method {
            "register" => IdentityCall::Register {
                cert: r
                    .bytes(meridian_identity::MAX_CERT_DER_LEN, "register.cert")
                    .map_err(bad)?,
            },
            "revoke" => IdentityCall::Revoke {
                ca_id: r.array("revoke.ca_id").map_err(bad)?,
                serial: r
                    .bytes(meridian_identity::Serial::MAX_LEN, "revoke.serial")
                    .map_err(bad)?,
            },
            "propose" => IdentityCall::Propose {
                action: Action::decode_from(&mut r).map_err(bad)?,
                threshold: Threshold::decode_from(&mut r).map_err(bad)?,
                deadline_blocks: r.u64("propose.deadline").map_err(bad)?,
            },
            "vote" => IdentityCall::Vote {
                id: r.u64("vote.id").map_err(bad)?,
                approve: r.bool("vote.approve").map_err(bad)?,
            },
            "retire_validator" => IdentityCall::RetireValidator {
                public_key: r
                    .bytes(meridian_types::MAX_PUBLIC_KEY_LEN, "retire.public_key")
                    .map_err(bad)?,
            },
            other => {
                return Err(ModuleError::new(
                    meridian_execution::codes::UNKNOWN_METHOD,
                    format!("identity has no method {other}"),
                ))
            }
        };
        r.finish().map_err(bad)?;
        Ok(call)
    }
}

/// Events of the identity module (`data` is this encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityEvent {
    MemberRegistered {
        org: String,
        role: String,
        name: String,
        cert_id: [u8; 32],
        rotated: bool,
    },
    CertRevoked {
        ca_id: [u8; 32],
        serial: Vec<u8>,
    },
    ProposalCreated {
        id: u64,
        org: String,
        deadline_height: u64,
    },
    Voted {
        id: u64,
        org: String,
        approve: bool,
    },
    ProposalExecuted {
        id: u64,
    },
    ProposalRejected {
        id: u64,
    },
    /// The proposal reached its threshold but no longer applied (state changed since it was
    /// proposed); it is closed as rejected and nothing changed.
    ProposalFailed {
        id: u64,
        /// The stable code of the broken rule (`identity.invariant`, `cert.revoked` ...).
        code: String,
        /// At most [`meridian_types::MAX_ERROR_MESSAGE_LEN`] bytes.
        reason: String,
    },
    ValidatorAdded {
        name: String,
        public_key: Vec<u8>,
    },
    ValidatorRemoved {
        public_key: Vec<u8>,
    },
    ValidatorReplaced {
        old_key: Vec<u8>,
        new_key: Vec<u8>,
    },
    ParamSet {
        name: String,
        value: u64,
    },
    ContractFrozen {
        name: String,
        frozen: bool,
    },
    ContractUpgradeApproved {
        name: String,
        code_hash: [u8; 32],
    },
    CallApproved {
        module: String,
        method: String,
        args_hash: [u8; 32],
    },
}

/// Every identity event kind, as [`IdentityEvent::kind`] names it.
pub const EVENT_KINDS: [&str; 14] = [
    "member_registered",
    "cert_revoked",
    "proposal_created",
    "voted",
    "proposal_executed",
    "proposal_rejected",
    "proposal_failed",
    "validator_added",
    "validator_removed",
    "validator_replaced",
    "param_set",
    "contract_frozen",
    "contract_upgrade_approved",
    "call_approved",
];

impl IdentityEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            IdentityEvent::MemberRegistered { .. } => "member_registered",
            IdentityEvent::CertRevoked { .. } => "cert_revoked",
            IdentityEvent::ProposalCreated { .. } => "proposal_created",
            IdentityEvent::Voted { .. } => "voted",
            IdentityEvent::ProposalExecuted { .. } => "proposal_executed",
            IdentityEvent::ProposalRejected { .. } => "proposal_rejected",
            IdentityEvent::ProposalFailed { .. } => "proposal_failed",
            IdentityEvent::ValidatorAdded { .. } => "validator_added",
            IdentityEvent::ValidatorRemoved { .. } => "validator_removed",
            IdentityEvent::ValidatorReplaced { .. } => "validator_replaced",
            IdentityEvent::ParamSet { .. } => "param_set",
            IdentityEvent::ContractFrozen { .. } => "contract_frozen",
            IdentityEvent::ContractUpgradeApproved { .. } => "contract_upgrade_approved",
            IdentityEvent::CallApproved { .. } => "call_approved",
        }
    }
}

impl Encode for IdentityEvent {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            IdentityEvent::MemberRegistered {
                org,
                role,
                name,
                cert_id,
                rotated,
            } => {
                w.str(org);
                w.str(role);
                w.str(name);
                w.fixed(cert_id);
                w.bool(*rotated);
            }
            IdentityEvent::CertRevoked { ca_id, serial } => {
                w.fixed(ca_id);
                w.bytes(serial);
            }
            IdentityEvent::ProposalCreated {
                id,
                org,
                deadline_height,
            } => {
                w.u64(*id);
                w.str(org);
                w.u64(*deadline_height);
            }
            IdentityEvent::Voted { id, org, approve } => {
                w.u64(*id);
                w.str(org);
                w.bool(*approve);
            }
            IdentityEvent::ProposalExecuted { id } | IdentityEvent::ProposalRejected { id } => {
                w.u64(*id)
            }
            IdentityEvent::ProposalFailed { id, code, reason } => {
                w.u64(*id);
                w.str(code);
                w.str(truncate(reason, MAX_ERROR_MESSAGE_LEN));
            }
            IdentityEvent::ValidatorAdded { name, public_key } => {
                w.str(name);
                w.bytes(public_key);
            }
            IdentityEvent::ValidatorRemoved { public_key } => w.bytes(public_key),
            IdentityEvent::ValidatorReplaced { old_key, new_key } => {
                w.bytes(old_key);
                w.bytes(new_key);
            }
            IdentityEvent::ParamSet { name, value } => {
                w.str(name);
                w.u64(*value);
            }
            IdentityEvent::ContractFrozen { name, frozen } => {
                w.str(name);
                w.bool(*frozen);
            }
            IdentityEvent::ContractUpgradeApproved { name, code_hash } => {
                w.str(name);
                w.fixed(code_hash);
            }
            IdentityEvent::CallApproved {
                module,
                method,
                args_hash,
            } => {
                w.str(module);
                w.str(method);
                w.fixed(args_hash);
            }
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Decodes an event's `data` given its kind.
pub fn decode_event(kind: &str, data: &[u8]) -> Option<IdentityEvent> {
    let mut r = Reader::new(data);
    let ev = match kind {
        "member_registered" => IdentityEvent::MemberRegistered {
            org: r.string(64, "org").ok()?,
            role: r.string(32, "role").ok()?,
            name: r.string(64, "name").ok()?,
            cert_id: r.array("cert_id").ok()?,
            rotated: r.bool("rotated").ok()?,
        },
        "cert_revoked" => IdentityEvent::CertRevoked {
            ca_id: r.array("ca_id").ok()?,
            serial: r.bytes(20, "serial").ok()?,
        },
        "proposal_created" => IdentityEvent::ProposalCreated {
            id: r.u64("id").ok()?,
            org: r.string(64, "org").ok()?,
            deadline_height: r.u64("deadline").ok()?,
        },
        "voted" => IdentityEvent::Voted {
            id: r.u64("id").ok()?,
            org: r.string(64, "org").ok()?,
            approve: r.bool("approve").ok()?,
        },
        "proposal_executed" => IdentityEvent::ProposalExecuted {
            id: r.u64("id").ok()?,
        },
        "proposal_rejected" => IdentityEvent::ProposalRejected {
            id: r.u64("id").ok()?,
        },
        "proposal_failed" => IdentityEvent::ProposalFailed {
            id: r.u64("id").ok()?,
            code: r.string(64, "code").ok()?,
            reason: r.string(MAX_ERROR_MESSAGE_LEN, "reason").ok()?,
        },
        "validator_added" => IdentityEvent::ValidatorAdded {
            name: r.string(MAX_VALIDATOR_NAME_LEN, "name").ok()?,
            public_key: r.bytes(MAX_PUBLIC_KEY_LEN, "public_key").ok()?,
        },
        "validator_removed" => IdentityEvent::ValidatorRemoved {
            public_key: r.bytes(MAX_PUBLIC_KEY_LEN, "public_key").ok()?,
        },
        "validator_replaced" => IdentityEvent::ValidatorReplaced {
            old_key: r.bytes(MAX_PUBLIC_KEY_LEN, "old_key").ok()?,
            new_key: r.bytes(MAX_PUBLIC_KEY_LEN, "new_key").ok()?,
        },
        "param_set" => IdentityEvent::ParamSet {
            name: r.string(governance::MAX_PARAM_NAME_LEN, "name").ok()?,
            value: r.u64("value").ok()?,
        },
        "contract_frozen" => IdentityEvent::ContractFrozen {
            name: r.string(governance::MAX_CONTRACT_NAME_LEN, "name").ok()?,
            frozen: r.bool("frozen").ok()?,
        },
        "contract_upgrade_approved" => IdentityEvent::ContractUpgradeApproved {
            name: r.string(governance::MAX_CONTRACT_NAME_LEN, "name").ok()?,
            code_hash: r.array("code_hash").ok()?,
        },
        "call_approved" => IdentityEvent::CallApproved {
            module: r
                .string(governance::MAX_APPROVED_MODULE_LEN, "module")
                .ok()?,
            method: r
                .string(governance::MAX_APPROVED_METHOD_LEN, "method")
                .ok()?,
            args_hash: r.array("args_hash").ok()?,
        },
        _ => return None,
    };
    r.finish().ok()?;
    Some(ev)
}

/// The module. `suite` fixes certificate algorithms and the certificate-id hash.
pub struct IdentityModule {
    suite: meridian_crypto::Suite,
}

impl IdentityModule {
    pub fn new(suite: meridian_crypto::Suite) -> Self {
        Self { suite }
    }

    fn register(&self, ctx: &mut TxContext<'_>, der: &[u8]) -> Result<(), ModuleError> {
        if ctx.get(MODE_KEY.as_bytes()).is_none() {
            return Err(ModuleError::new(
                codes::NOT_PERMISSIONED,
                "this chain has no organisations; certificates are not used",
            ));
        }
        let cert = Certificate::from_der(der).map_err(cert_error)?;
        // The issuing CA must be trusted on chain: try each CA of the certificate's org.
        let ca = find_issuer(ctx, &cert)?;
        let mut store = TrustStore::new(self.suite);
        ca.add_to(&mut store).map_err(cert_error)?;
        let now = ctx.time_ms / 1000;
        let id = verify_chain(&cert, &store, self.suite, now, |ca_id, serial| {
            ctx.get(&revoked_key(ca_id.as_bytes(), serial)).is_some()
        })
        .map_err(cert_error)?;
        // Signed with the certified key: the sender address is derived from that key.
        let key_bytes = id.public_key.to_bytes();
        if ctx.address_of(&key_bytes) != ctx.sender {
            return Err(ModuleError::new(
                codes::KEY_MISMATCH,
                "the certificate certifies another key than the transaction's signer",
            ));
        }
        // Every validator keeps a consensus certificate: a validator rotates only to another.
        if id.role != Role::Consensus && governance::load_validators(ctx)?.contains_key(&key_bytes)
        {
            return Err(ModuleError::new(
                codes::INVARIANT,
                "this key is a validator; it may only register a consensus certificate",
            ));
        }
        let key = member_key(&ctx.sender);
        let rotated = match ctx.get(&key) {
            None => false,
            Some(raw) => {
                let old = MemberRecord::decode_exact(&raw)?;
                let old_cert = Certificate::from_der(&old.der).map_err(cert_error)?;
                let (o_org, o_name) = (old_cert.org(), old_cert.name());
                if o_org != Some(id.org.as_str()) || o_name != Some(id.name.as_str()) {
                    return Err(ModuleError::new(
                        codes::ADDRESS_TAKEN,
                        "this key is registered to another member",
                    ));
                }
                true
            }
        };
        let record = MemberRecord {
            cert_id: *id.cert_id.as_bytes(),
            ca_id: *id.issuer_ca_id.as_bytes(),
            der: der.to_vec(),
        };
        ctx.set(key, record.encode())?;
        let ev = IdentityEvent::MemberRegistered {
            org: id.org.clone(),
            role: id.role.to_string(),
            name: id.name.clone(),
            cert_id: *id.cert_id.as_bytes(),
            rotated,
        };
        ctx.emit(ev.kind(), ev.encode())
    }

    fn revoke(
        &self,
        ctx: &mut TxContext<'_>,
        ca_id: [u8; 32],
        serial: Vec<u8>,
    ) -> Result<(), ModuleError> {
        let ca = ctx
            .get(&ca_key(&ca_id))
            .ok_or_else(|| ModuleError::new(codes::UNKNOWN_CA, "no trusted CA with this id"))
            .and_then(|raw| CaRecord::decode_exact(&raw))?;
        // Only an admin of the CA's organisation (the policy admits admins; the org is checked
        // here because it depends on the CA).
        let me = ctx
            .get(&member_key(&ctx.sender))
            .ok_or_else(|| ModuleError::new(codes::NOT_ADMIN, "signer is not a member"))
            .and_then(|raw| MemberRecord::decode_exact(&raw))?;
        let my_cert = Certificate::from_der(&me.der).map_err(cert_error)?;
        if my_cert.role().ok() != Some(Role::Admin) || my_cert.org() != Some(ca.org.as_str()) {
            return Err(ModuleError::new(
                codes::NOT_ADMIN,
                format!("only an admin of {} may revoke its certificates", ca.org),
            ));
        }
        governance::refuse_validator_revocation(ctx, &ca_id, &serial)?;
        let key = revoked_key(&ca_id, &serial);
        if ctx.get(&key).is_some() {
            return Err(ModuleError::new(
                codes::ALREADY_REVOKED,
                "this certificate is already revoked",
            ));
        }
        ctx.set(key, ctx.height.to_be_bytes().to_vec())?;
        let ev = IdentityEvent::CertRevoked { ca_id, serial };
        ctx.emit(ev.kind(), ev.encode())
    }
}

impl Module for IdentityModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        match IdentityCall::decode(method, args)? {
            IdentityCall::Register { cert } => self.register(ctx, &cert),
            IdentityCall::Revoke { ca_id, serial } => self.revoke(ctx, ca_id, serial),
            IdentityCall::Propose {
                action,
                threshold,
                deadline_blocks,
            } => governance::propose(ctx, self.suite, action, threshold, deadline_blocks),
            IdentityCall::Vote { id, approve } => governance::vote(ctx, self.suite, id, approve),
            IdentityCall::RetireValidator { public_key } => {
                governance::retire_validator(ctx, self.suite, public_key)
            }
        }
    }
}

/// A certificate error as a module error with the certificate's own code (`cert.expired` ...).
pub(crate) fn cert_error(e: meridian_identity::IdentityError) -> ModuleError {
    ModuleError::new(e.code(), e.to_string())
}

/// The trusted CA that issued `cert`, looked up among the CAs of the certificate's org.
fn find_issuer(ctx: &TxContext<'_>, cert: &Certificate) -> Result<CaRecord, ModuleError> {
    let org = cert.org().unwrap_or_default();
    let index = ctx
        .get(&org_key(org))
        .map(|raw| OrgRecord::decode_exact(&raw))
        .transpose()?
        .unwrap_or_default();
    for id in &index.cas {
        if let Some(raw) = ctx.get(&ca_key(id)) {
            let rec = CaRecord::decode_exact(&raw)?;
            let ca = Certificate::from_der(&rec.der).map_err(cert_error)?;
            if ca.subject_name_der() == cert.issuer_name_der()
                && cert.verify_signature(ca.public_key()).is_ok()
            {
                return Ok(rec);
            }
        }
    }
    Err(ModuleError::new(
        "cert.unknown_ca",
        format!("no trusted CA of organisation {org} issued this certificate"),
    ))
}

#[cfg(test)]
mod tests;
