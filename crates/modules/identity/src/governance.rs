//! Alliance governance (seed 004): organisation admins propose and vote on membership,
//! permission, validator-set and chain-parameter changes; a proposal executes in the block where
//! it reaches its threshold, and can no longer be voted on or executed after its deadline.
//!
//! Each organisation has one vote, cast by any of its admins (a later vote of the same
//! organisation replaces its earlier one). The proposer's organisation votes yes by proposing.
//! Membership changes (organisations, CAs, validators) and chain parameters need at least a
//! majority of organisations whatever threshold the proposal names.
//!
//! An action's invariants are checked when it is proposed and again when it passes: if the
//! state changed meanwhile so that it no longer applies, the proposal is closed as
//! [`Status::Rejected`] with a `proposal_failed` event naming the broken rule, and nothing
//! changes.
//!
//! Validator and parameter changes write [`VALIDATORS_KEY`] and [`CHAIN_CONFIG_KEY`]; the node
//! applies them from the next consensus epoch.

use meridian_execution::{ModuleError, TxContext};
use meridian_identity::{verify_chain, Certificate, Role, TrustStore};
use meridian_types::{
    decode_exact, ChainConfig, CodecError, Decode, Encode, Reader, ValidatorEntry, ValidatorSet,
    Writer, CHAIN_CONFIG_KEY, CHAIN_PARAMS, MAX_PUBLIC_KEY_LEN, MAX_VALIDATORS,
    MAX_VALIDATOR_NAME_LEN, VALIDATORS_KEY,
};

use crate::records::*;
use crate::{cert_error, codes, IdentityEvent, MODULE};

/// Longest voting period, in blocks.
pub const MAX_DEADLINE_BLOCKS: u64 = 1_000_000;
/// Longest parameter name in [`Action::SetParam`].
pub const MAX_PARAM_NAME_LEN: usize = 32;

fn gov_key(rest: &[u8]) -> Vec<u8> {
    let mut k = format!("{MODULE}/gov/").into_bytes();
    k.extend_from_slice(rest);
    k
}
/// Next proposal id.
pub fn next_proposal_key() -> Vec<u8> {
    gov_key(b"next")
}
pub fn proposal_key(id: u64) -> Vec<u8> {
    let mut rest = b"proposal/".to_vec();
    rest.extend_from_slice(&id.to_be_bytes());
    gov_key(&rest)
}

/// How many organisations must approve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// More than half.
    Majority,
    /// At least two thirds.
    TwoThirds,
    /// Every organisation.
    All,
    /// At least `n` organisations (`1 <= n`).
    AnyN(u32),
}

impl Threshold {
    /// Approvals needed out of `orgs` organisations (never zero).
    pub fn required(self, orgs: usize) -> usize {
        let n = match self {
            Threshold::Majority => orgs / 2 + 1,
            Threshold::TwoThirds => (2 * orgs).div_ceil(3),
            Threshold::All => orgs,
            Threshold::AnyN(n) => n as usize,
        };
        n.clamp(1, orgs.max(1))
    }
}

/// What a proposal does when it passes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A new member organisation with its CA certificate (DER).
    AddOrg { org: String, ca_der: Vec<u8> },
    /// Remove an organisation and distrust its CAs (refused while it runs a validator).
    RemoveOrg { org: String },
    /// Trust a third-party CA (DER) to vouch for members of `org`.
    TrustCa { org: String, ca_der: Vec<u8> },
    /// Roles allowed to send `call` (`<module>.<method>` or `<module>.*`).
    SetPolicy { call: String, roles: Vec<String> },
    /// Put a certificate on the revocation list.
    RevokeCert { ca_id: [u8; 32], serial: Vec<u8> },
    /// A new validator: a member key holding a valid `consensus` certificate.
    AddValidator { name: String, public_key: Vec<u8> },
    /// Remove a validator (refused if the set would drop below `3f+1`).
    RemoveValidator { public_key: Vec<u8> },
    /// Swap validator `old_key` for `new_key` (named `name`) in one step, keeping the set size.
    ReplaceValidator {
        old_key: Vec<u8>,
        name: String,
        new_key: Vec<u8>,
    },
    /// Change one chain parameter ([`CHAIN_PARAMS`]; `epoch_blocks` is fixed at genesis).
    SetParam { name: String, value: u64 },
    /// Freeze (calls refused) or unfreeze contract `name`.
    FreezeContract { name: String, frozen: bool },
    /// Allow contract `name`'s creator to switch it to the code with `code_hash`.
    ApproveContractUpgrade { name: String, code_hash: [u8; 32] },
    /// Allow one call that needs a governance decision: `module.method` with exactly the
    /// arguments whose suite hash is `args_hash` (e.g. creating a light client of another
    /// region from a trusted validator set, or opening a connection). The module checks the
    /// approval when the call arrives and uses it once.
    ApproveCall {
        module: String,
        method: String,
        args_hash: [u8; 32],
    },
}

/// Longest module name in an approved call.
pub const MAX_APPROVED_MODULE_LEN: usize = 32;
/// Longest method name in an approved call.
pub const MAX_APPROVED_METHOD_LEN: usize = 64;

/// `identity/approved/<module>/<method>/<hex args hash>` → the id (u64 BE) of the proposal that
/// last approved that call (see [`Action::ApproveCall`]).
pub fn approved_call_key(module: &str, method: &str, args_hash: &[u8; 32]) -> Vec<u8> {
    format!(
        "identity/approved/{module}/{method}/{}",
        hex::encode(args_hash)
    )
    .into_bytes()
}

/// Longest contract name (the `contract` module's rule, repeated here because governance
/// records its decisions before the module reads them).
pub const MAX_CONTRACT_NAME_LEN: usize = 48;

/// `identity/contract/frozen/<name>`: present while governance keeps the contract frozen.
pub fn contract_frozen_key(name: &str) -> Vec<u8> {
    let mut k = b"identity/contract/frozen/".to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

/// `identity/contract/upgrade/<name>` → the code hash governance approved for the contract.
pub fn contract_upgrade_key(name: &str) -> Vec<u8> {
    let mut k = b"identity/contract/upgrade/".to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

fn is_contract_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CONTRACT_NAME_LEN
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Action {
    /// Whether the action needs at least a majority of organisations whatever the proposal's
    /// threshold: it changes who is trusted or what every validator must agree on.
    pub fn needs_majority(&self) -> bool {
        !matches!(self, Action::SetPolicy { .. } | Action::RevokeCert { .. })
    }
}

impl Encode for Action {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Action::AddOrg { org, ca_der } => {
                w.u8(1);
                w.str(org);
                w.bytes(ca_der);
            }
            Action::RemoveOrg { org } => {
                w.u8(2);
                w.str(org);
            }
            Action::TrustCa { org, ca_der } => {
                w.u8(3);
                w.str(org);
                w.bytes(ca_der);
            }
            Action::SetPolicy { call, roles } => {
                w.u8(4);
                w.str(call);
                w.len(roles.len());
                for r in roles {
                    w.str(r);
                }
            }
            Action::RevokeCert { ca_id, serial } => {
                w.u8(5);
                w.fixed(ca_id);
                w.bytes(serial);
            }
            Action::AddValidator { name, public_key } => {
                w.u8(6);
                w.str(name);
                w.bytes(public_key);
            }
            Action::RemoveValidator { public_key } => {
                w.u8(7);
                w.bytes(public_key);
            }
            Action::ReplaceValidator {
                old_key,
                name,
                new_key,
            } => {
                w.u8(8);
                w.bytes(old_key);
                w.str(name);
                w.bytes(new_key);
            }
            Action::SetParam { name, value } => {
                w.u8(9);
                w.str(name);
                w.u64(*value);
            }
            Action::FreezeContract { name, frozen } => {
                w.u8(10);
                w.str(name);
                w.bool(*frozen);
            }
            Action::ApproveContractUpgrade { name, code_hash } => {
                w.u8(11);
                w.str(name);
                w.fixed(code_hash);
            }
            Action::ApproveCall {
                module,
                method,
                args_hash,
            } => {
                w.u8(12);
                w.str(module);
                w.str(method);
                w.fixed(args_hash);
            }
        }
    }
}

impl Decode for Action {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let der = meridian_identity::MAX_CERT_DER_LEN;
        Ok(match r.u8("action.kind")? {
            1 => Action::AddOrg {
                org: r.string(64, "action.org")?,
                ca_der: r.bytes(der, "action.ca")?,
            },
            2 => Action::RemoveOrg {
                org: r.string(64, "action.org")?,
            },
            3 => Action::TrustCa {
                org: r.string(64, "action.org")?,
                ca_der: r.bytes(der, "action.ca")?,
            },
            4 => {
                let call = r.string(65, "action.call")?;
                let n = r.len(16, "action.roles")?;
                let mut roles = Vec::with_capacity(n);
                for _ in 0..n {
                    roles.push(r.string(meridian_identity::MAX_ROLE_LEN, "action.role")?);
                }
                Action::SetPolicy { call, roles }
            }
            5 => Action::RevokeCert {
                ca_id: r.array("action.ca_id")?,
                serial: r.bytes(meridian_identity::Serial::MAX_LEN, "action.serial")?,
            },
            6 => Action::AddValidator {
                name: r.string(MAX_VALIDATOR_NAME_LEN, "action.validator_name")?,
                public_key: r.bytes(MAX_PUBLIC_KEY_LEN, "action.public_key")?,
            },
            7 => Action::RemoveValidator {
                public_key: r.bytes(MAX_PUBLIC_KEY_LEN, "action.public_key")?,
            },
            8 => Action::ReplaceValidator {
                old_key: r.bytes(MAX_PUBLIC_KEY_LEN, "action.old_key")?,
                name: r.string(MAX_VALIDATOR_NAME_LEN, "action.validator_name")?,
                new_key: r.bytes(MAX_PUBLIC_KEY_LEN, "action.new_key")?,
            },
            9 => Action::SetParam {
                name: r.string(MAX_PARAM_NAME_LEN, "action.param")?,
                value: r.u64("action.value")?,
            },
            10 => Action::FreezeContract {
                name: r.string(MAX_CONTRACT_NAME_LEN, "action.contract")?,
                frozen: r.bool("action.frozen")?,
            },
            11 => Action::ApproveContractUpgrade {
                name: r.string(MAX_CONTRACT_NAME_LEN, "action.contract")?,
                code_hash: r.array("action.code_hash")?,
            },
            12 => Action::ApproveCall {
                module: r.string(MAX_APPROVED_MODULE_LEN, "action.module")?,
                method: r.string(MAX_APPROVED_METHOD_LEN, "action.method")?,
                args_hash: r.array("action.args_hash")?,
            },
            _ => return Err(CodecError::Invalid("action.kind")),
        })
    }
}

impl Encode for Threshold {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Threshold::Majority => w.u8(1),
            Threshold::TwoThirds => w.u8(2),
            Threshold::All => w.u8(3),
            Threshold::AnyN(n) => {
                w.u8(4);
                w.u32(*n);
            }
        }
    }
}

impl Decode for Threshold {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(match r.u8("threshold")? {
            1 => Threshold::Majority,
            2 => Threshold::TwoThirds,
            3 => Threshold::All,
            4 => Threshold::AnyN(r.u32("threshold.n")?),
            _ => return Err(CodecError::Invalid("threshold")),
        })
    }
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Open,
    Executed,
    Rejected,
}

/// A proposal as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub id: u64,
    pub proposer_org: String,
    pub action: Action,
    pub threshold: Threshold,
    /// Last height at which votes count.
    pub deadline_height: u64,
    /// One entry per organisation: (org, approve).
    pub votes: Vec<(String, bool)>,
    pub status: Status,
}

impl Encode for Proposal {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.id);
        w.str(&self.proposer_org);
        self.action.encode_to(w);
        self.threshold.encode_to(w);
        w.u64(self.deadline_height);
        w.len(self.votes.len());
        for (org, yes) in &self.votes {
            w.str(org);
            w.bool(*yes);
        }
        w.u8(match self.status {
            Status::Open => 0,
            Status::Executed => 1,
            Status::Rejected => 2,
        });
    }
}

impl Decode for Proposal {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let id = r.u64("proposal.id")?;
        let proposer_org = r.string(64, "proposal.org")?;
        let action = Action::decode_from(r)?;
        let threshold = Threshold::decode_from(r)?;
        let deadline_height = r.u64("proposal.deadline")?;
        let n = r.len(MAX_ORGS, "proposal.votes")?;
        let mut votes = Vec::with_capacity(n);
        for _ in 0..n {
            votes.push((r.string(64, "vote.org")?, r.bool("vote.yes")?));
        }
        let status = match r.u8("proposal.status")? {
            0 => Status::Open,
            1 => Status::Executed,
            2 => Status::Rejected,
            _ => return Err(CodecError::Invalid("proposal.status")),
        };
        Ok(Proposal {
            id,
            proposer_org,
            action,
            threshold,
            deadline_height,
            votes,
            status,
        })
    }
}

fn err(code: &'static str, msg: impl Into<String>) -> ModuleError {
    ModuleError::new(code, msg)
}

fn corrupt(what: &str, e: CodecError) -> ModuleError {
    err(codes::CORRUPT, format!("stored {what}: {e}"))
}

/// The organisation of the signer, who must be an admin.
fn admin_org(ctx: &TxContext<'_>) -> Result<String, ModuleError> {
    let me = ctx
        .get(&member_key(&ctx.sender))
        .ok_or_else(|| err(codes::NOT_ADMIN, "signer is not a member"))
        .and_then(|raw| MemberRecord::decode_exact(&raw))?;
    let cert = Certificate::from_der(&me.der).map_err(cert_error)?;
    match (cert.role(), cert.org()) {
        (Ok(Role::Admin), Some(org)) => Ok(org.to_string()),
        _ => Err(err(
            codes::NOT_ADMIN,
            "only organisation admins propose and vote",
        )),
    }
}

fn load_orgs(ctx: &TxContext<'_>) -> Result<OrgList, ModuleError> {
    ctx.get(ORGS_KEY.as_bytes())
        .map(|raw| decode_exact::<OrgList>(&raw).map_err(|e| corrupt("org list", e)))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn load(ctx: &TxContext<'_>, id: u64) -> Result<Proposal, ModuleError> {
    ctx.get(&proposal_key(id))
        .ok_or_else(|| err(codes::NO_PROPOSAL, format!("no proposal {id}")))
        .and_then(|raw| decode_exact(&raw).map_err(|e| corrupt("proposal", e)))
}

/// What a validator or parameter action writes, and the event that says so.
pub(crate) struct ChainChange {
    /// `None` when the set stays as it is.
    validators: Option<ValidatorSet>,
    config: ChainConfig,
    event: IdentityEvent,
}

/// Checks an action can apply to the current state (so a proposal that could never execute is
/// refused up front, and one whose premise changed fails at execution). Returns what a
/// validator or parameter action would write.
fn check(
    ctx: &TxContext<'_>,
    suite: meridian_crypto::Suite,
    a: &Action,
) -> Result<Option<ChainChange>, ModuleError> {
    let orgs = load_orgs(ctx)?;
    match a {
        Action::AddOrg { org, ca_der } => {
            if !meridian_identity::is_valid_org_id(org) {
                return Err(err(codes::BAD_ARGS, format!("{org} is not a valid org id")));
            }
            if orgs.orgs.iter().any(|o| o == org) {
                return Err(err(codes::ORG_EXISTS, format!("{org} is already a member")));
            }
            let ca = Certificate::from_der(ca_der).map_err(cert_error)?;
            if ca.org() != Some(org.as_str()) {
                return Err(err(
                    codes::BAD_ARGS,
                    "the CA certificate's O is not the org id",
                ));
            }
            TrustStore::new(suite).add_org_ca(ca).map_err(cert_error)?;
        }
        Action::RemoveOrg { org } => {
            if !orgs.orgs.iter().any(|o| o == org) {
                return Err(err(codes::NO_ORG, format!("{org} is not a member")));
            }
            if orgs.orgs.len() == 1 {
                return Err(err(codes::INVARIANT, "the last organisation cannot leave"));
            }
            if validator_orgs(ctx)?.iter().any(|o| o == org) {
                return Err(err(
                    codes::INVARIANT,
                    format!("{org} runs a validator; remove the validator first"),
                ));
            }
        }
        Action::TrustCa { org, ca_der } => {
            if !orgs.orgs.iter().any(|o| o == org) {
                return Err(err(codes::NO_ORG, format!("{org} is not a member")));
            }
            let ca = Certificate::from_der(ca_der).map_err(cert_error)?;
            TrustStore::new(suite)
                .add_third_party_ca(ca, org)
                .map_err(cert_error)?;
        }
        Action::SetPolicy { call, roles } => {
            let ok_call = call
                .split_once('.')
                .is_some_and(|(m, f)| !m.is_empty() && !f.is_empty() && call.len() <= 65);
            if !ok_call {
                return Err(err(
                    codes::BAD_ARGS,
                    "call must be <module>.<method> or <module>.*",
                ));
            }
            if roles.is_empty() {
                return Err(err(
                    codes::INVARIANT,
                    "a policy must allow at least one role",
                ));
            }
            for r in roles {
                r.parse::<Role>().map_err(cert_error)?;
            }
            if call.starts_with("identity.") && !roles.iter().any(|r| r == "admin") {
                return Err(err(
                    codes::INVARIANT,
                    "admins must keep access to identity calls (governance would lock itself out)",
                ));
            }
        }
        Action::RevokeCert { ca_id, serial } => {
            if ctx.get(&ca_key(ca_id)).is_none() {
                return Err(err(codes::UNKNOWN_CA, "no trusted CA with this id"));
            }
            refuse_validator_revocation(ctx, ca_id, serial)?;
        }
        Action::FreezeContract { name, .. } | Action::ApproveContractUpgrade { name, .. } => {
            if !is_contract_name(name) {
                return Err(err(
                    codes::BAD_ARGS,
                    format!("{name:?} is not a contract name"),
                ));
            }
            if ctx.get(&contract_meta_key(name)).is_none() {
                return Err(err(codes::NO_CONTRACT, format!("no contract {name}")));
            }
        }
        Action::ApproveCall { module, method, .. } => {
            let word = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            };
            if !word(module) || !word(method) {
                return Err(err(
                    codes::BAD_ARGS,
                    "module and method are lower-case names ([a-z0-9_])",
                ));
            }
            if module == MODULE {
                return Err(err(
                    codes::BAD_ARGS,
                    "identity calls are governed by proposals themselves, not approvals",
                ));
            }
        }
        Action::AddValidator { .. }
        | Action::RemoveValidator { .. }
        | Action::ReplaceValidator { .. }
        | Action::SetParam { .. } => return chain_change(ctx, suite, &orgs, a).map(Some),
    }
    Ok(None)
}

fn invariant(msg: impl Into<String>) -> ModuleError {
    err(codes::INVARIANT, msg)
}

/// The current validator set (empty on a store without one).
pub(crate) fn load_validators(ctx: &TxContext<'_>) -> Result<ValidatorSet, ModuleError> {
    ctx.get(VALIDATORS_KEY)
        .map(|raw| ValidatorSet::decode_exact(&raw).map_err(|e| corrupt("validator set", e)))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// The chain parameters; a store from before `chain/config` existed uses the defaults for its
/// validator count.
fn load_config(ctx: &TxContext<'_>, validators: usize) -> Result<ChainConfig, ModuleError> {
    match ctx.get(CHAIN_CONFIG_KEY) {
        Some(raw) => ChainConfig::decode_exact(&raw).map_err(|e| corrupt("chain config", e)),
        None => Ok(ChainConfig::defaults(validators)),
    }
}

/// The validator set and parameters after a validator or parameter action, with every
/// invariant checked against the current state and block time.
fn chain_change(
    ctx: &TxContext<'_>,
    suite: meridian_crypto::Suite,
    orgs: &OrgList,
    a: &Action,
) -> Result<ChainChange, ModuleError> {
    let set = load_validators(ctx)?;
    let mut config = load_config(ctx, set.len())?;
    let position = |key: &[u8]| {
        set.0
            .iter()
            .position(|v| v.public_key == key)
            .ok_or_else(|| invariant("this key is not a current validator"))
    };
    let mut next = set.clone();
    let event = match a {
        Action::AddValidator { name, public_key } => {
            check_candidate(ctx, suite, orgs, &set, None, name, public_key)?;
            next.0.push(ValidatorEntry {
                name: name.clone(),
                public_key: public_key.clone(),
            });
            IdentityEvent::ValidatorAdded {
                name: name.clone(),
                public_key: public_key.clone(),
            }
        }
        Action::RemoveValidator { public_key } => {
            next.0.remove(position(public_key)?);
            IdentityEvent::ValidatorRemoved {
                public_key: public_key.clone(),
            }
        }
        Action::ReplaceValidator {
            old_key,
            name,
            new_key,
        } => {
            let i = position(old_key)?;
            check_candidate(ctx, suite, orgs, &set, Some(i), name, new_key)?;
            next.0[i] = ValidatorEntry {
                name: name.clone(),
                public_key: new_key.clone(),
            };
            IdentityEvent::ValidatorReplaced {
                old_key: old_key.clone(),
                new_key: new_key.clone(),
            }
        }
        Action::SetParam { name, value } => {
            if !CHAIN_PARAMS.contains(&name.as_str()) && name != "epoch_blocks" {
                return Err(err(
                    codes::BAD_ARGS,
                    format!(
                        "unknown parameter {name:?} (settable: {})",
                        CHAIN_PARAMS.join(", ")
                    ),
                ));
            }
            config.set(name, *value).map_err(invariant)?;
            config.check(set.len()).map_err(invariant)?;
            return Ok(ChainChange {
                validators: None,
                config,
                event: IdentityEvent::ParamSet {
                    name: name.clone(),
                    value: *value,
                },
            });
        }
        _ => return Err(err(codes::BAD_ARGS, "not a validator or parameter action")),
    };
    if next.len() > MAX_VALIDATORS {
        return Err(invariant(format!("at most {MAX_VALIDATORS} validators")));
    }
    config.check(next.len()).map_err(invariant)?;
    Ok(ChainChange {
        validators: Some(next),
        config,
        event,
    })
}

/// A validator must hold, at this block's time, a registered, valid, unrevoked `consensus`
/// certificate for exactly this key from a trusted CA of a member organisation, so that every
/// validator is accountable to an organisation. `replacing` is the index of the entry the
/// candidate takes over (its name may be reused).
fn check_candidate(
    ctx: &TxContext<'_>,
    suite: meridian_crypto::Suite,
    orgs: &OrgList,
    set: &ValidatorSet,
    replacing: Option<usize>,
    name: &str,
    key: &[u8],
) -> Result<(), ModuleError> {
    if name.is_empty() || name.len() > MAX_VALIDATOR_NAME_LEN {
        return Err(err(
            codes::BAD_ARGS,
            format!("a validator name is 1..={MAX_VALIDATOR_NAME_LEN} bytes"),
        ));
    }
    if set.contains_key(key) {
        return Err(invariant("this key is already a validator"));
    }
    if set
        .0
        .iter()
        .enumerate()
        .any(|(i, v)| Some(i) != replacing && v.name == name)
    {
        return Err(invariant(format!("a validator is already named {name:?}")));
    }
    check_consensus_cert(ctx, suite, orgs, key)
}

/// `key` holds, at this block's time, a registered, valid, unrevoked `consensus` certificate
/// of a member organisation's trusted CA.
fn check_consensus_cert(
    ctx: &TxContext<'_>,
    suite: meridian_crypto::Suite,
    orgs: &OrgList,
    key: &[u8],
) -> Result<(), ModuleError> {
    let member = ctx
        .get(&member_key(&ctx.address_of(key)))
        .ok_or_else(|| invariant("no member certificate is registered for this key"))
        .and_then(|raw| MemberRecord::decode_exact(&raw))?;
    let ca = ctx
        .get(&ca_key(&member.ca_id))
        .ok_or_else(|| {
            err(
                "cert.unknown_ca",
                "the CA that issued this key's certificate is no longer trusted",
            )
        })
        .and_then(|raw| CaRecord::decode_exact(&raw))?;
    let cert = Certificate::from_der(&member.der).map_err(cert_error)?;
    let mut store = TrustStore::new(suite);
    ca.add_to(&mut store).map_err(cert_error)?;
    let id = verify_chain(&cert, &store, suite, ctx.time_ms / 1000, |ca_id, serial| {
        ctx.get(&revoked_key(ca_id.as_bytes(), serial)).is_some()
    })
    .map_err(cert_error)?;
    if id.public_key.to_bytes() != key {
        return Err(invariant(
            "the registered certificate certifies another encoding of this key",
        ));
    }
    if id.role != Role::Consensus {
        return Err(invariant(format!(
            "a validator needs a consensus certificate; this key's role is {}",
            id.role
        )));
    }
    if !orgs.orgs.contains(&id.org) {
        return Err(err(
            codes::NO_ORG,
            format!("{} is not a member organisation", id.org),
        ));
    }
    Ok(())
}

/// Organisations of the current validators (from their registered certificates).
fn validator_orgs(ctx: &TxContext<'_>) -> Result<Vec<String>, ModuleError> {
    Ok(validator_certs(ctx)?.into_iter().map(|v| v.0).collect())
}

/// A validator's certificate: (org, issuing CA id, serial).
pub(crate) type ValidatorCert = (String, [u8; 32], Vec<u8>);

/// (org, issuing CA id, serial) of every current validator's registered certificate (after a
/// rotation, the new one).
pub(crate) fn validator_certs(ctx: &TxContext<'_>) -> Result<Vec<ValidatorCert>, ModuleError> {
    let mut out = Vec::new();
    for v in load_validators(ctx)?.0 {
        if let Some(m) = ctx.get(&member_key(&ctx.address_of(&v.public_key))) {
            let m = MemberRecord::decode_exact(&m)?;
            if let Ok(c) = Certificate::from_der(&m.der) {
                let org = c.org().unwrap_or_default().to_string();
                out.push((org, m.ca_id, c.serial().as_bytes().to_vec()));
            }
        }
    }
    Ok(out)
}

/// A validator's certificate cannot be revoked while it validates (every validator must hold
/// a valid certificate); replace the validator first.
pub(crate) fn refuse_validator_revocation(
    ctx: &TxContext<'_>,
    ca_id: &[u8; 32],
    serial: &[u8],
) -> Result<(), ModuleError> {
    if validator_certs(ctx)?
        .iter()
        .any(|(_, c, s)| c == ca_id && s.as_slice() == serial)
    {
        return Err(err(
            codes::INVARIANT,
            "this is a validator's certificate; rotate or replace the validator first",
        ));
    }
    Ok(())
}

fn apply(
    ctx: &mut TxContext<'_>,
    proposal_id: u64,
    a: &Action,
    change: Option<ChainChange>,
) -> Result<(), ModuleError> {
    if let Some(change) = change {
        return apply_chain_change(ctx, change);
    }
    let mut orgs = load_orgs(ctx)?;
    match a {
        Action::AddOrg { org, ca_der } | Action::TrustCa { org, ca_der } => {
            let third_party = matches!(a, Action::TrustCa { .. });
            let suite_hash = ctx.hash(ca_der);
            let rec = CaRecord {
                org: org.clone(),
                third_party,
                der: ca_der.clone(),
            };
            ctx.set(ca_key(&suite_hash), rec.encode())?;
            let mut index = ctx
                .get(&org_key(org))
                .map(|raw| OrgRecord::decode_exact(&raw))
                .transpose()?
                .unwrap_or_default();
            if !index.cas.contains(&suite_hash) {
                index.cas.push(suite_hash);
            }
            ctx.set(org_key(org), index.encode())?;
            if !third_party {
                orgs.orgs.push(org.clone());
                ctx.set(ORGS_KEY.as_bytes().to_vec(), orgs.encode())?;
            }
        }
        Action::RemoveOrg { org } => {
            if let Some(raw) = ctx.get(&org_key(org)) {
                for ca in OrgRecord::decode_exact(&raw)?.cas {
                    ctx.delete(ca_key(&ca))?;
                }
            }
            ctx.delete(org_key(org))?;
            orgs.orgs.retain(|o| o != org);
            ctx.set(ORGS_KEY.as_bytes().to_vec(), orgs.encode())?;
        }
        Action::SetPolicy { call, roles } => {
            ctx.set(
                policy_key(call),
                Policy {
                    roles: roles.clone(),
                }
                .encode(),
            )?;
        }
        Action::RevokeCert { ca_id, serial } => {
            ctx.set(
                revoked_key(ca_id, serial),
                ctx.height.to_be_bytes().to_vec(),
            )?;
        }
        Action::FreezeContract { name, frozen } => {
            if *frozen {
                ctx.set(contract_frozen_key(name), vec![1])?;
            } else {
                ctx.delete(contract_frozen_key(name))?;
            }
            let ev = IdentityEvent::ContractFrozen {
                name: name.clone(),
                frozen: *frozen,
            };
            ctx.emit(ev.kind(), ev.encode())?;
        }
        Action::ApproveContractUpgrade { name, code_hash } => {
            ctx.set(contract_upgrade_key(name), code_hash.to_vec())?;
            let ev = IdentityEvent::ContractUpgradeApproved {
                name: name.clone(),
                code_hash: *code_hash,
            };
            ctx.emit(ev.kind(), ev.encode())?;
        }
        Action::ApproveCall {
            module,
            method,
            args_hash,
        } => {
            // The value names the proposal, so a later proposal can approve the same call again
            // (the module remembers which approval it used last).
            ctx.set(
                approved_call_key(module, method, args_hash),
                proposal_id.to_be_bytes().to_vec(),
            )?;
            let ev = IdentityEvent::CallApproved {
                module: module.clone(),
                method: method.clone(),
                args_hash: *args_hash,
            };
            ctx.emit(ev.kind(), ev.encode())?;
        }
        Action::AddValidator { .. }
        | Action::RemoveValidator { .. }
        | Action::ReplaceValidator { .. }
        | Action::SetParam { .. } => {
            return Err(err(
                codes::INVARIANT,
                "a validator or parameter action without its checked change",
            ))
        }
    }
    Ok(())
}

/// Writes a checked validator or parameter change. The parameters are written with every
/// change so that a store from before `chain/config` pins the fault tolerance it was checked
/// against instead of deriving it from the changing set size.
fn apply_chain_change(ctx: &mut TxContext<'_>, change: ChainChange) -> Result<(), ModuleError> {
    if let Some(set) = &change.validators {
        ctx.set(VALIDATORS_KEY.to_vec(), set.encode())?;
    }
    ctx.set(CHAIN_CONFIG_KEY.to_vec(), change.config.encode())?;
    ctx.emit(change.event.kind(), change.event.encode())
}

/// `identity.retire_validator`: removes a validator whose consensus certificate is no longer
/// valid at this block's time (expired, its CA no longer trusted, its organisation gone) —
/// certificates expire on their own, and an expired key must not keep signing counted votes.
/// Any member may send it (policy `identity.retire_validator`); it succeeds only if the
/// certificate really fails and the set still meets `3f+1` without the validator. Takes effect
/// at the next epoch boundary like every validator change; emits `validator_removed`.
pub(crate) fn retire_validator(
    ctx: &mut TxContext<'_>,
    suite: meridian_crypto::Suite,
    public_key: Vec<u8>,
) -> Result<(), ModuleError> {
    let set = load_validators(ctx)?;
    if !set.contains_key(&public_key) {
        return Err(invariant("this key is not a current validator"));
    }
    let orgs = load_orgs(ctx)?;
    if check_consensus_cert(ctx, suite, &orgs, &public_key).is_ok() {
        return Err(err(
            codes::CERT_STILL_VALID,
            "this validator's consensus certificate is valid; remove it by proposal instead",
        ));
    }
    let change = chain_change(ctx, suite, &orgs, &Action::RemoveValidator { public_key })?;
    apply_chain_change(ctx, change)
}

/// `contract/meta/<name>`: the `contract` module's record of a deployed contract.
fn contract_meta_key(name: &str) -> Vec<u8> {
    let mut k = b"contract/meta/".to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

/// `identity.propose`.
pub(crate) fn propose(
    ctx: &mut TxContext<'_>,
    suite: meridian_crypto::Suite,
    action: Action,
    threshold: Threshold,
    deadline_blocks: u64,
) -> Result<(), ModuleError> {
    let org = admin_org(ctx)?;
    if deadline_blocks == 0 || deadline_blocks > MAX_DEADLINE_BLOCKS {
        return Err(err(
            codes::BAD_ARGS,
            format!("deadline must be 1..={MAX_DEADLINE_BLOCKS} blocks"),
        ));
    }
    if let Threshold::AnyN(0) = threshold {
        return Err(err(codes::INVARIANT, "a threshold of zero approvals"));
    }
    check(ctx, suite, &action)?;
    let id = ctx
        .get(&next_proposal_key())
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map_or(1, u64::from_be_bytes);
    ctx.set(next_proposal_key(), (id + 1).to_be_bytes().to_vec())?;
    let p = Proposal {
        id,
        proposer_org: org.clone(),
        action,
        threshold,
        deadline_height: ctx.height + deadline_blocks,
        votes: Vec::new(),
        status: Status::Open,
    };
    let ev = IdentityEvent::ProposalCreated {
        id,
        org,
        deadline_height: p.deadline_height,
    };
    ctx.emit(ev.kind(), ev.encode())?;
    // The proposer's organisation approves by proposing.
    record_vote(ctx, suite, p, true)
}

/// `identity.vote`.
pub(crate) fn vote(
    ctx: &mut TxContext<'_>,
    suite: meridian_crypto::Suite,
    id: u64,
    approve: bool,
) -> Result<(), ModuleError> {
    let p = load(ctx, id)?;
    if p.status != Status::Open {
        return Err(err(
            codes::PROPOSAL_CLOSED,
            format!("proposal {id} is closed"),
        ));
    }
    if ctx.height > p.deadline_height {
        return Err(err(
            codes::PROPOSAL_EXPIRED,
            format!("proposal {id} expired at height {}", p.deadline_height),
        ));
    }
    record_vote(ctx, suite, p, approve)
}

fn record_vote(
    ctx: &mut TxContext<'_>,
    suite: meridian_crypto::Suite,
    mut p: Proposal,
    approve: bool,
) -> Result<(), ModuleError> {
    let org = admin_org(ctx)?;
    let orgs = load_orgs(ctx)?;
    if !orgs.orgs.iter().any(|o| o == &org) {
        return Err(err(
            codes::NO_ORG,
            format!("{org} is not a member organisation"),
        ));
    }
    p.votes.retain(|(o, _)| o != &org);
    p.votes.push((org.clone(), approve));
    let ev = IdentityEvent::Voted {
        id: p.id,
        org,
        approve,
    };
    ctx.emit(ev.kind(), ev.encode())?;
    // Only votes of current members count.
    let members = orgs.orgs.len();
    let yes = p
        .votes
        .iter()
        .filter(|(o, y)| *y && orgs.orgs.contains(o))
        .count();
    let no = p
        .votes
        .iter()
        .filter(|(o, y)| !*y && orgs.orgs.contains(o))
        .count();
    let mut need = p.threshold.required(members);
    if p.action.needs_majority() {
        need = need.max(Threshold::Majority.required(members));
    }
    if yes >= need {
        // The premise is re-checked: state may have changed since the proposal. A proposal
        // that no longer applies is closed with the reason; the vote itself still counts.
        match check(ctx, suite, &p.action) {
            Ok(change) => {
                apply(ctx, p.id, &p.action, change)?;
                p.status = Status::Executed;
                let ev = IdentityEvent::ProposalExecuted { id: p.id };
                ctx.emit(ev.kind(), ev.encode())?;
            }
            Err(e) if e.code == codes::CORRUPT => return Err(e),
            Err(e) => {
                p.status = Status::Rejected;
                let ev = IdentityEvent::ProposalFailed {
                    id: p.id,
                    code: e.code,
                    reason: e.message,
                };
                ctx.emit(ev.kind(), ev.encode())?;
            }
        }
    } else if members - no < need {
        p.status = Status::Rejected;
        let ev = IdentityEvent::ProposalRejected { id: p.id };
        ctx.emit(ev.kind(), ev.encode())?;
    }
    ctx.set(proposal_key(p.id), p.encode())
}
