//! Example contract: asset securitisation (资产证券化), a multi-party scenario of seed 003.
//!
//! *Uniqueness.* An underlying asset is described by a JSON object (loan pool, receivables,
//! …). Its **fingerprint** is the chain suite's hash (`ctx.hash`: SHA-256 or SM3) of its
//! canonical JSON, and the fingerprint is the deal id. Registering an asset whose fingerprint
//! is already known — however the JSON is formatted or its keys ordered — is refused with
//! `duplicate_asset`, whatever became of the first deal: the same asset is never securitised
//! twice.
//!
//! Canonical JSON ([`canonical_json`]): object keys sorted by their UTF-8 bytes, no whitespace,
//! strings escaped as `serde_json` writes them (`"` `\` and control characters; `\n`, `\t`, …,
//! else `\u00xx`; everything else as raw UTF-8), integers in decimal. Non-integer numbers
//! (`1.5`, `1e3`, integers beyond 64 bits) are refused: put amounts in strings.
//!
//! *Process.* Four parties, fixed at instantiation, each sign (= send the transaction of) their
//! step, in this order:
//!
//! ```text
//! originate (originator) ─► originated ─ transfer_to_spv (SPV) ─► transferred_to_spv
//!   ─ rate (rating agency) ─► rated ─ approve (trustee) ─► issued
//!                                   └ reject (trustee)  ─► rejected
//! ```
//!
//! Each step records its signer, height, time and transaction hash in the deal.

#![deny(unsafe_code)]

pub use meridian_contract_sdk::Hash32;

use meridian_contract_sdk::serde_json::Value;
use meridian_contract_sdk::{ensure, fail, Address, ContractError, Ctx, Item, Map};
use serde::{Deserialize, Serialize};

/// Stable error codes (the chain reports them as `<contract name>.<code>`).
pub mod codes {
    /// The caller is not the party this step needs.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The step does not follow from the deal's status.
    pub const WRONG_STATE: &str = "wrong_state";
    /// An asset with this fingerprint is already registered.
    pub const DUPLICATE_ASSET: &str = "duplicate_asset";
    /// No deal with that id.
    pub const DEAL_NOT_FOUND: &str = "deal_not_found";
    /// The asset is not a non-empty JSON object, nests deeper than 16 or its canonical form
    /// is over 16 KiB.
    pub const INVALID_ASSET: &str = "invalid_asset";
    /// The asset contains a number that is not a 64-bit integer.
    pub const NON_INTEGER_NUMBER: &str = "non_integer_number";
    /// Rating not 1..=8 of `[A-Za-z0-9+-]`.
    pub const INVALID_RATING: &str = "invalid_rating";
    /// Rejection reason empty or over 256 bytes.
    pub const INVALID_REASON: &str = "invalid_reason";
    /// The four roles are not four distinct addresses.
    pub const INVALID_ROLES: &str = "invalid_roles";
}

/// Deepest nesting of the asset JSON.
pub const MAX_DEPTH: usize = 16;
/// Largest canonical asset JSON, bytes.
pub const MAX_ASSET_LEN: usize = 16 * 1024;
/// Longest rejection reason, bytes.
pub const MAX_REASON_LEN: usize = 256;
/// Default page size of `deals`.
pub const DEFAULT_LIMIT: u32 = 10;
/// Largest page (the host's range cap).
pub const MAX_LIMIT: u32 = 100;

/// The parties.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// Originates assets.
    pub originator: Address,
    /// Special purpose vehicle: takes the assets over (true sale).
    pub spv: Address,
    /// Rates the deal.
    pub rating_agency: Address,
    /// Approves the issuance for the investors.
    pub trustee: Address,
}

/// Where a deal is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Registered by the originator.
    Originated,
    /// Taken over by the SPV.
    TransferredToSpv,
    /// Rated by the rating agency.
    Rated,
    /// Approved by the trustee: the securities are issued. Final.
    Issued,
    /// Rejected by the trustee. Final; the asset stays registered.
    Rejected,
}

/// A signed step.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `originate`, `transfer_to_spv`, `rate`, `approve`, `reject`.
    pub action: String,
    /// The signer.
    pub by: Address,
    /// Block height.
    pub height: u64,
    /// Block time, ms.
    pub time_ms: u64,
    /// The transaction.
    pub tx_hash: Hash32,
}

/// A securitisation deal.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Deal {
    /// The asset's fingerprint.
    pub deal_id: Hash32,
    /// The asset's canonical JSON (hash it to check the id).
    pub asset: String,
    /// Status.
    pub status: Status,
    /// The rating agency's rating.
    pub rating: Option<String>,
    /// The trustee's reason, if rejected.
    pub rejection_reason: Option<String>,
    /// Every step, in order.
    pub signatures: Vec<Signature>,
}

const ROLES: Item<Roles> = Item::new("roles");
const DEALS: Map<[u8; 32], Deal> = Map::new("deal");

/// Execute messages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Originator: registers an asset (a JSON object). → [`DealResponse`].
    Originate {
        /// The asset description.
        asset: Value,
    },
    /// SPV: takes the asset over.
    TransferToSpv {
        /// Deal id.
        deal_id: Hash32,
    },
    /// Rating agency: rates the deal.
    Rate {
        /// Deal id.
        deal_id: Hash32,
        /// 1..=8 of `[A-Za-z0-9+-]`, e.g. `AAA`, `BBB-`.
        rating: String,
    },
    /// Trustee: approves; the deal is issued.
    Approve {
        /// Deal id.
        deal_id: Hash32,
    },
    /// Trustee: rejects a rated deal.
    Reject {
        /// Deal id.
        deal_id: Hash32,
        /// Why, 1..=256 bytes.
        reason: String,
    },
}

/// Query messages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// → [`Roles`].
    Roles {},
    /// → [`Deal`].
    Deal {
        /// Deal id.
        deal_id: Hash32,
    },
    /// → `Option<Deal>`: the deal of this asset, if registered.
    DealByAsset {
        /// The asset description.
        asset: Value,
    },
    /// → [`FingerprintResponse`]: what `originate` would compute (registers nothing).
    Fingerprint {
        /// The asset description.
        asset: Value,
    },
    /// → [`DealsResponse`], by id.
    Deals {
        /// Last id of the previous page.
        #[serde(default)]
        start_after: Option<Hash32>,
        /// Page size (default 10, max 100).
        #[serde(default)]
        limit: Option<u32>,
    },
}

/// Response of every execute message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DealResponse {
    /// Deal id.
    pub deal_id: Hash32,
    /// Status after the step.
    pub status: Status,
}

/// `fingerprint` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FingerprintResponse {
    /// The fingerprint (deal id).
    pub deal_id: Hash32,
    /// The canonical JSON it hashes.
    pub canonical: String,
}

/// `deals` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DealsResponse {
    /// The page.
    pub deals: Vec<Deal>,
}

/// Data of every event (`<contract>.originated`, `.transferred`, `.rated`, `.issued`,
/// `.rejected`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DealEvent {
    /// Deal id.
    pub deal_id: Hash32,
    /// Signer.
    pub by: Address,
    /// Status after the step.
    pub status: Status,
    /// Rating or rejection reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn write_canonical(v: &Value, depth: usize, out: &mut String) -> Result<(), ContractError> {
    ensure!(
        depth <= MAX_DEPTH,
        codes::INVALID_ASSET,
        "asset nests deeper than {MAX_DEPTH}"
    );
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else {
                fail!(
                    codes::NON_INTEGER_NUMBER,
                    "asset number {n} is not a 64-bit integer; use a string"
                );
            }
        }
        Value::String(s) => write_string(s, out)?,
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, depth + 1, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted explicitly: the map's own order depends on serde_json features.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out)?;
                out.push(':');
                write_canonical(item, depth + 1, out)?;
            }
            out.push('}');
        }
    }
    ensure!(
        out.len() <= MAX_ASSET_LEN,
        codes::INVALID_ASSET,
        "canonical asset JSON is over {MAX_ASSET_LEN} bytes"
    );
    Ok(())
}

fn write_string(s: &str, out: &mut String) -> Result<(), ContractError> {
    let quoted = meridian_contract_sdk::serde_json::to_string(s)
        .map_err(|e| ContractError::new(codes::INVALID_ASSET, e.to_string()))?;
    out.push_str(&quoted);
    Ok(())
}

/// The canonical JSON of an asset description (see the module docs). It must be a non-empty
/// object.
pub fn canonical_json(asset: &Value) -> Result<String, ContractError> {
    ensure!(
        asset.as_object().is_some_and(|m| !m.is_empty()),
        codes::INVALID_ASSET,
        "the asset must be a non-empty JSON object"
    );
    let mut out = String::new();
    write_canonical(asset, 0, &mut out)?;
    Ok(out)
}

/// The asset's fingerprint (deal id) and canonical JSON.
pub fn fingerprint(ctx: &Ctx, asset: &Value) -> Result<FingerprintResponse, ContractError> {
    let canonical = canonical_json(asset)?;
    Ok(FingerprintResponse {
        deal_id: Hash32(ctx.hash(canonical.as_bytes())),
        canonical,
    })
}

/// Instantiate handler: `{"originator", "spv", "rating_agency", "trustee"}`.
pub fn instantiate(ctx: &mut Ctx, roles: Roles) -> Result<Roles, ContractError> {
    let all = [
        roles.originator,
        roles.spv,
        roles.rating_agency,
        roles.trustee,
    ];
    ensure!(
        all.iter().enumerate().all(|(i, a)| !all[..i].contains(a)),
        codes::INVALID_ROLES,
        "originator, spv, rating agency and trustee must be four distinct addresses"
    );
    ROLES.save(ctx, &roles)?;
    Ok(roles)
}

fn load(ctx: &Ctx, id: &Hash32) -> Result<Deal, ContractError> {
    match DEALS.may_load(ctx, &id.0)? {
        Some(d) => Ok(d),
        None => fail!(codes::DEAL_NOT_FOUND, "no deal {id}"),
    }
}

/// Checks the caller is `party` and the deal is in `from`.
fn check(
    deal: &Deal,
    caller: Address,
    party: Address,
    role: &str,
    from: Status,
    step: &str,
) -> Result<(), ContractError> {
    ensure!(
        caller == party,
        codes::UNAUTHORIZED,
        "only the {role} {party} may {step}"
    );
    ensure!(
        deal.status == from,
        codes::WRONG_STATE,
        "deal {} is {:?}; {step} needs {from:?}",
        deal.deal_id,
        deal.status
    );
    Ok(())
}

/// Appends the step's signature, sets the status, saves, emits `kind`.
fn sign(
    ctx: &mut Ctx,
    mut deal: Deal,
    action: &str,
    to: Status,
    kind: &str,
    detail: Option<String>,
) -> Result<DealResponse, ContractError> {
    let env = ctx.env().clone();
    deal.signatures.push(Signature {
        action: action.to_string(),
        by: env.caller,
        height: env.height,
        time_ms: env.time_ms,
        tx_hash: Hash32(env.tx_hash),
    });
    deal.status = to;
    DEALS.save(ctx, &deal.deal_id.0, &deal)?;
    ctx.emit(
        kind,
        &DealEvent {
            deal_id: deal.deal_id,
            by: env.caller,
            status: to,
            detail,
        },
    )?;
    Ok(DealResponse {
        deal_id: deal.deal_id,
        status: to,
    })
}

/// Execute handler. Checks run in the order: deal exists, caller's role, status, arguments.
pub fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<DealResponse, ContractError> {
    let caller = ctx.env().caller;
    let roles = ROLES.load(ctx)?;
    match msg {
        ExecuteMsg::Originate { asset } => {
            ensure!(
                caller == roles.originator,
                codes::UNAUTHORIZED,
                "only the originator {} may originate",
                roles.originator
            );
            let fp = fingerprint(ctx, &asset)?;
            if let Some(existing) = DEALS.may_load(ctx, &fp.deal_id.0)? {
                fail!(
                    codes::DUPLICATE_ASSET,
                    "this asset is already registered as deal {} ({:?}): it cannot be securitised again",
                    fp.deal_id,
                    existing.status
                );
            }
            let deal = Deal {
                deal_id: fp.deal_id,
                asset: fp.canonical,
                status: Status::Originated,
                rating: None,
                rejection_reason: None,
                signatures: Vec::new(),
            };
            sign(
                ctx,
                deal,
                "originate",
                Status::Originated,
                "originated",
                None,
            )
        }
        ExecuteMsg::TransferToSpv { deal_id } => {
            let deal = load(ctx, &deal_id)?;
            check(
                &deal,
                caller,
                roles.spv,
                "spv",
                Status::Originated,
                "transfer_to_spv",
            )?;
            sign(
                ctx,
                deal,
                "transfer_to_spv",
                Status::TransferredToSpv,
                "transferred",
                None,
            )
        }
        ExecuteMsg::Rate { deal_id, rating } => {
            let mut deal = load(ctx, &deal_id)?;
            check(
                &deal,
                caller,
                roles.rating_agency,
                "rating agency",
                Status::TransferredToSpv,
                "rate",
            )?;
            let ok = !rating.is_empty()
                && rating.len() <= 8
                && rating
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-');
            ensure!(
                ok,
                codes::INVALID_RATING,
                "rating must be 1..=8 of [A-Za-z0-9+-]"
            );
            deal.rating = Some(rating.clone());
            sign(ctx, deal, "rate", Status::Rated, "rated", Some(rating))
        }
        ExecuteMsg::Approve { deal_id } => {
            let deal = load(ctx, &deal_id)?;
            check(
                &deal,
                caller,
                roles.trustee,
                "trustee",
                Status::Rated,
                "approve",
            )?;
            sign(ctx, deal, "approve", Status::Issued, "issued", None)
        }
        ExecuteMsg::Reject { deal_id, reason } => {
            let mut deal = load(ctx, &deal_id)?;
            check(
                &deal,
                caller,
                roles.trustee,
                "trustee",
                Status::Rated,
                "reject",
            )?;
            ensure!(
                !reason.is_empty() && reason.len() <= MAX_REASON_LEN,
                codes::INVALID_REASON,
                "reason must be 1..={MAX_REASON_LEN} bytes"
            );
            deal.rejection_reason = Some(reason.clone());
            sign(
                ctx,
                deal,
                "reject",
                Status::Rejected,
                "rejected",
                Some(reason),
            )
        }
    }
}

/// A query's response: serialized as the inner value.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum QueryResponse {
    /// `roles`.
    Roles(Roles),
    /// `deal`.
    Deal(Box<Deal>),
    /// `deal_by_asset`.
    DealByAsset(Option<Box<Deal>>),
    /// `fingerprint`.
    Fingerprint(FingerprintResponse),
    /// `deals`.
    Deals(DealsResponse),
}

/// Query handler.
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<QueryResponse, ContractError> {
    Ok(match msg {
        QueryMsg::Roles {} => QueryResponse::Roles(ROLES.load(ctx)?),
        QueryMsg::Deal { deal_id } => QueryResponse::Deal(Box::new(load(ctx, &deal_id)?)),
        QueryMsg::DealByAsset { asset } => {
            let fp = fingerprint(ctx, &asset)?;
            QueryResponse::DealByAsset(DEALS.may_load(ctx, &fp.deal_id.0)?.map(Box::new))
        }
        QueryMsg::Fingerprint { asset } => QueryResponse::Fingerprint(fingerprint(ctx, &asset)?),
        QueryMsg::Deals { start_after, limit } => QueryResponse::Deals(DealsResponse {
            deals: DEALS
                .page(
                    ctx,
                    start_after.map(|h| h.0).as_ref(),
                    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
                )?
                .into_iter()
                .map(|(_, d)| d)
                .collect(),
        }),
    })
}

meridian_contract_sdk::entry!(instantiate = instantiate, execute = execute, query = query);

#[cfg(test)]
mod tests;
