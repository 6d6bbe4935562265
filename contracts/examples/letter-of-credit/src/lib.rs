//! Example contract: a documentary letter of credit (信用证), a multi-party agreement of seed 003.
//!
//! Parties, fixed when the applicant opens the LC: **applicant** (buyer, the caller of `open`),
//! **issuing bank**, **advising bank**, **beneficiary** (seller). All four are distinct.
//!
//! ```text
//! open (applicant) ─► opened ─ cancel (applicant) ─► cancelled
//!                       │ issue (issuing bank; escrow funded; height ≤ expiry)
//!                       ▼
//!                     issued ─ advise (advising bank; height ≤ expiry) ─► advised
//!                                                                          │ present (beneficiary;
//!                                                                          ▼ height ≤ expiry)
//!        paid ◄─ accept (issuing bank: pays the beneficiary) ─────────── presented
//!                                                                          │ refuse (issuing bank)
//!                                                                          ▼
//!   reclaimed ◄─ reclaim (applicant: refunds the applicant) ─────────── refused
//!   reclaimed ◄─ reclaim (applicant) ─ issued / advised once height > expiry_height
//! ```
//!
//! Money: the LC amount is escrowed in this contract's own bank account. Before `issue`, someone
//! (normally the issuing bank, from the applicant's margin) transfers it with an ordinary bank
//! transaction; `issue` checks `bank_balance(contract, asset) ≥ outstanding(asset) + amount`,
//! where `outstanding` is the sum of the LCs in that asset that still hold funds (issued,
//! advised, presented, refused). The contract moves money only twice per LC, each at most once:
//! `accept` pays the beneficiary, `reclaim` refunds the applicant. Both end the LC.
//!
//! Every step is recorded in a per-LC history and emitted as an event `<contract>.<step>`.

#![deny(unsafe_code)]

pub use meridian_contract_sdk::Hash32;

use meridian_contract_sdk::{ensure, fail, Address, ContractError, Ctx, Item, Map, Order, Uint128};
use serde::{Deserialize, Serialize};

/// Stable error codes (the chain reports them as `<contract name>.<code>`).
pub mod codes {
    /// The caller is not the party this step needs.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The step does not follow from the LC's current status.
    pub const WRONG_STATE: &str = "wrong_state";
    /// No LC with that id.
    pub const LC_NOT_FOUND: &str = "lc_not_found";
    /// The LC expired (height > `expiry_height`): issue, advise and present are refused.
    pub const EXPIRED: &str = "expired";
    /// `reclaim` of an issued/advised LC before it expired.
    pub const NOT_EXPIRED: &str = "not_expired";
    /// The contract's bank balance does not cover this LC on top of the outstanding ones.
    pub const INSUFFICIENT_ESCROW: &str = "insufficient_escrow";
    /// Parties missing or not distinct.
    pub const INVALID_PARTIES: &str = "invalid_parties";
    /// Zero amount.
    pub const INVALID_AMOUNT: &str = "invalid_amount";
    /// Not a bank asset symbol (1..=16 of `A-Z0-9`).
    pub const INVALID_ASSET: &str = "invalid_asset";
    /// Expiry height not after the current height.
    pub const INVALID_EXPIRY: &str = "invalid_expiry";
    /// Required document list empty, too long, duplicated or a type not `[a-z0-9_]{1,32}`.
    pub const INVALID_DOCUMENT_TYPES: &str = "invalid_document_types";
    /// A required document type is missing from the presentation.
    pub const MISSING_DOCUMENT: &str = "missing_document";
    /// A presented document type is not required by the LC.
    pub const UNEXPECTED_DOCUMENT: &str = "unexpected_document";
    /// A document type or hash is presented twice.
    pub const DUPLICATE_DOCUMENT: &str = "duplicate_document";
    /// The LC requires notarised documents and this hash has no notary record.
    pub const NOT_NOTARISED: &str = "not_notarised";
    /// Refusal reason empty or over 256 bytes.
    pub const INVALID_REASON: &str = "invalid_reason";
    /// An id, amount or outstanding sum overflowed.
    pub const OVERFLOW: &str = "overflow";
}

/// Most required document types per LC.
pub const MAX_DOCUMENT_TYPES: usize = 16;
/// Longest document type.
pub const MAX_DOCUMENT_TYPE_LEN: usize = 32;
/// Longest refusal reason, bytes.
pub const MAX_REASON_LEN: usize = 256;
/// Default page size of the list queries.
pub const DEFAULT_LIMIT: u32 = 10;
/// Largest page (the host's range cap).
pub const MAX_LIMIT: u32 = 100;

/// Where an LC is in its life.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Opened by the applicant; nothing escrowed yet.
    Opened,
    /// Issued by the issuing bank; amount escrowed.
    Issued,
    /// Advised to the beneficiary by the advising bank.
    Advised,
    /// Documents presented by the beneficiary.
    Presented,
    /// Documents accepted; the beneficiary was paid. Final.
    Paid,
    /// Documents refused by the issuing bank; the applicant may reclaim.
    Refused,
    /// Escrow refunded to the applicant (after refusal or expiry). Final.
    Reclaimed,
    /// Cancelled by the applicant before issuance. Final.
    Cancelled,
}

impl Status {
    /// `true` while the contract holds the LC's amount.
    pub fn holds_funds(self) -> bool {
        matches!(
            self,
            Status::Issued | Status::Advised | Status::Presented | Status::Refused
        )
    }
}

/// A presented document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Its type, one of the LC's `required_documents`.
    pub doc_type: String,
    /// Hash of the document (as notarised with the notary module, if the LC requires it).
    pub hash: Hash32,
}

/// Notary evidence of a presented document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NotaryEvidence {
    /// Who notarised the hash.
    pub owner: Address,
    /// Height of the notarisation.
    pub height: u64,
}

/// A presented document as stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PresentedDocument {
    /// Type.
    pub doc_type: String,
    /// Hash.
    pub hash: Hash32,
    /// The notary record of the hash at presentation, if there was one.
    pub notary: Option<NotaryEvidence>,
}

/// A letter of credit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LetterOfCredit {
    /// Id (1, 2, …).
    pub id: u64,
    /// Buyer; opened the LC; refunded on reclaim.
    pub applicant: Address,
    /// Issues, examines the documents, accepts or refuses.
    pub issuing_bank: Address,
    /// Advises the beneficiary.
    pub advising_bank: Address,
    /// Seller; presents documents; paid on acceptance.
    pub beneficiary: Address,
    /// Amount.
    pub amount: Uint128,
    /// Bank asset symbol.
    pub asset: String,
    /// Last height at which issue, advise and present are accepted.
    pub expiry_height: u64,
    /// Document types the beneficiary must present, one each.
    pub required_documents: Vec<String>,
    /// Whether every presented hash must have a notary record.
    pub require_notarised: bool,
    /// Status.
    pub status: Status,
    /// The presentation, once made.
    pub documents: Vec<PresentedDocument>,
    /// The issuing bank's reason, if refused.
    pub refusal_reason: Option<String>,
    /// Number of history entries.
    pub history_len: u32,
}

/// One step of an LC's history.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// 0, 1, … per LC.
    pub seq: u32,
    /// The step (also the event kind): `opened`, `issued`, `advised`, `presented`, `paid`,
    /// `refused`, `reclaimed`, `cancelled`.
    pub action: String,
    /// Who signed it.
    pub by: Address,
    /// Block height.
    pub height: u64,
    /// Block time, ms.
    pub time_ms: u64,
    /// Status after the step.
    pub status: Status,
    /// Refusal reason, reclaim cause (`refused` / `expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A payment the contract made.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// Recipient.
    pub to: Address,
    /// Asset.
    pub asset: String,
    /// Amount.
    pub amount: Uint128,
}

/// Data of every event (`<contract>.opened`, `.issued`, `.advised`, `.presented`, `.paid`,
/// `.refused`, `.reclaimed`, `.cancelled`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LcEvent {
    /// The LC.
    pub lc_id: u64,
    /// Who signed the step.
    pub by: Address,
    /// Status after the step.
    pub status: Status,
    /// As in [`HistoryEntry::detail`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The bank transfer of `paid` / `reclaimed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
}

const NEXT_ID: Item<u64> = Item::new("next_id");
const LCS: Map<u64, LetterOfCredit> = Map::new("lc");
/// (lc id, seq) → history entry.
const HISTORY: Map<(u64, u32), HistoryEntry> = Map::new("hist");
/// Asset → sum of the amounts of LCs that hold funds.
const OUTSTANDING: Map<String, Uint128> = Map::new("out");

/// Instantiate message: `{}`.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {}

/// Execute messages; the caller (`env.caller`) signs the step.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Opens an LC; the caller is the applicant. The response carries the new id.
    Open {
        /// Issuing bank.
        issuing_bank: Address,
        /// Advising bank.
        advising_bank: Address,
        /// Beneficiary.
        beneficiary: Address,
        /// Amount (> 0).
        amount: Uint128,
        /// Bank asset symbol.
        asset: String,
        /// Last height for issue / advise / present (> current height).
        expiry_height: u64,
        /// Document types to present (1..=16 distinct `[a-z0-9_]{1,32}`).
        required_documents: Vec<String>,
        /// Every presented hash must be notarised.
        #[serde(default)]
        require_notarised: bool,
    },
    /// Applicant cancels an opened (not yet issued) LC.
    Cancel {
        /// LC id.
        lc_id: u64,
    },
    /// Issuing bank issues; the escrow must be funded.
    Issue {
        /// LC id.
        lc_id: u64,
    },
    /// Advising bank advises the beneficiary.
    Advise {
        /// LC id.
        lc_id: u64,
    },
    /// Beneficiary presents the documents (each required type exactly once).
    Present {
        /// LC id.
        lc_id: u64,
        /// The documents.
        documents: Vec<Document>,
    },
    /// Issuing bank accepts the documents: the beneficiary is paid.
    Accept {
        /// LC id.
        lc_id: u64,
    },
    /// Issuing bank refuses the documents.
    Refuse {
        /// LC id.
        lc_id: u64,
        /// Why (1..=256 bytes).
        reason: String,
    },
    /// Applicant takes the escrow back after refusal or expiry.
    Reclaim {
        /// LC id.
        lc_id: u64,
    },
}

/// Query messages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// → [`LetterOfCredit`].
    Lc {
        /// LC id.
        lc_id: u64,
    },
    /// → [`HistoryResponse`]: entries with seq > `start_after`, at most `limit` (default 10,
    /// max 100).
    History {
        /// LC id.
        lc_id: u64,
        /// Last seq of the previous page.
        #[serde(default)]
        start_after: Option<u32>,
        /// Page size.
        #[serde(default)]
        limit: Option<u32>,
    },
    /// → [`LcsResponse`]: LCs by id after `start_after`.
    Lcs {
        /// Last id of the previous page.
        #[serde(default)]
        start_after: Option<u64>,
        /// Page size.
        #[serde(default)]
        limit: Option<u32>,
    },
    /// → [`EscrowResponse`].
    Escrow {
        /// Asset symbol.
        asset: String,
    },
}

/// Response of every execute message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StepResponse {
    /// The LC.
    pub lc_id: u64,
    /// Its status after the step.
    pub status: Status,
}

/// `history` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HistoryResponse {
    /// The page, by seq.
    pub entries: Vec<HistoryEntry>,
}

/// `lcs` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LcsResponse {
    /// The page, by id.
    pub lcs: Vec<LetterOfCredit>,
}

/// `escrow` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EscrowResponse {
    /// The contract's account address: where escrow is transferred to.
    pub contract: Address,
    /// Asset.
    pub asset: String,
    /// Sum of the LCs in this asset that hold funds.
    pub outstanding: Uint128,
    /// The contract's bank balance in this asset (≥ outstanding).
    pub balance: Uint128,
}

/// A bank asset symbol: 1..=16 of `A-Z0-9` (the bank module's rule).
pub fn valid_asset(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 16
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn valid_doc_type(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_DOCUMENT_TYPE_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Instantiate handler: nothing to configure.
pub fn instantiate(ctx: &mut Ctx, _msg: InstantiateMsg) -> Result<(), ContractError> {
    NEXT_ID.save(ctx, &1)
}

fn load(ctx: &Ctx, lc_id: u64) -> Result<LetterOfCredit, ContractError> {
    match LCS.may_load(ctx, &lc_id)? {
        Some(lc) => Ok(lc),
        None => fail!(codes::LC_NOT_FOUND, "no letter of credit {lc_id}"),
    }
}

fn only(caller: Address, party: Address, role: &str) -> Result<(), ContractError> {
    ensure!(
        caller == party,
        codes::UNAUTHORIZED,
        "only the {role} {party} may do this"
    );
    Ok(())
}

fn in_state(lc: &LetterOfCredit, allowed: &[Status], step: &str) -> Result<(), ContractError> {
    ensure!(
        allowed.contains(&lc.status),
        codes::WRONG_STATE,
        "letter of credit {} is {:?}; {step} needs {:?}",
        lc.id,
        lc.status,
        allowed
    );
    Ok(())
}

fn not_expired(ctx: &Ctx, lc: &LetterOfCredit) -> Result<(), ContractError> {
    let height = ctx.env().height;
    ensure!(
        height <= lc.expiry_height,
        codes::EXPIRED,
        "letter of credit {} expired at height {} (now {height})",
        lc.id,
        lc.expiry_height
    );
    Ok(())
}

fn outstanding(ctx: &Ctx, asset: &str) -> Result<Uint128, ContractError> {
    Ok(OUTSTANDING.may_load(ctx, asset)?.unwrap_or_default())
}

fn set_outstanding(ctx: &mut Ctx, asset: &str, v: Uint128) -> Result<(), ContractError> {
    if v.is_zero() {
        OUTSTANDING.remove(ctx, asset);
        Ok(())
    } else {
        OUTSTANDING.save(ctx, asset, &v)
    }
}

/// Releases the LC's escrow to `to` (the only place the contract moves money).
fn release(ctx: &mut Ctx, lc: &LetterOfCredit, to: Address) -> Result<Payment, ContractError> {
    let out = outstanding(ctx, &lc.asset)?;
    let Some(rest) = out.checked_sub(lc.amount) else {
        fail!(
            "bad_state",
            "outstanding {out} {} is below the LC amount {}",
            lc.asset,
            lc.amount
        );
    };
    set_outstanding(ctx, &lc.asset, rest)?;
    ctx.bank_transfer(to, &lc.asset, lc.amount.u128())?;
    Ok(Payment {
        to,
        asset: lc.asset.clone(),
        amount: lc.amount,
    })
}

/// Saves `lc` with its new status, appends the history entry and emits the event `action`.
fn record(
    ctx: &mut Ctx,
    mut lc: LetterOfCredit,
    action: &str,
    detail: Option<String>,
    payment: Option<Payment>,
) -> Result<StepResponse, ContractError> {
    let env = ctx.env().clone();
    let seq = lc.history_len;
    let Some(next) = seq.checked_add(1) else {
        fail!(codes::OVERFLOW, "history of {} is full", lc.id);
    };
    lc.history_len = next;
    HISTORY.save(
        ctx,
        &(lc.id, seq),
        &HistoryEntry {
            seq,
            action: action.to_string(),
            by: env.caller,
            height: env.height,
            time_ms: env.time_ms,
            status: lc.status,
            detail: detail.clone(),
        },
    )?;
    LCS.save(ctx, &lc.id, &lc)?;
    ctx.emit(
        action,
        &LcEvent {
            lc_id: lc.id,
            by: env.caller,
            status: lc.status,
            detail,
            payment,
        },
    )?;
    Ok(StepResponse {
        lc_id: lc.id,
        status: lc.status,
    })
}

#[allow(clippy::too_many_arguments)]
fn open(
    ctx: &mut Ctx,
    issuing_bank: Address,
    advising_bank: Address,
    beneficiary: Address,
    amount: Uint128,
    asset: String,
    expiry_height: u64,
    required_documents: Vec<String>,
    require_notarised: bool,
) -> Result<StepResponse, ContractError> {
    let env = ctx.env().clone();
    let applicant = env.caller;
    let parties = [applicant, issuing_bank, advising_bank, beneficiary];
    let distinct = parties
        .iter()
        .enumerate()
        .all(|(i, a)| !parties[..i].contains(a));
    ensure!(
        distinct,
        codes::INVALID_PARTIES,
        "applicant, issuing bank, advising bank and beneficiary must be four distinct addresses"
    );
    ensure!(
        !amount.is_zero(),
        codes::INVALID_AMOUNT,
        "amount must be positive"
    );
    ensure!(
        valid_asset(&asset),
        codes::INVALID_ASSET,
        "asset must be 1..=16 of A-Z0-9, got {asset:?}"
    );
    ensure!(
        expiry_height > env.height,
        codes::INVALID_EXPIRY,
        "expiry height {expiry_height} must be above the current height {}",
        env.height
    );
    let types_ok = !required_documents.is_empty()
        && required_documents.len() <= MAX_DOCUMENT_TYPES
        && required_documents.iter().all(|t| valid_doc_type(t))
        && required_documents
            .iter()
            .enumerate()
            .all(|(i, t)| !required_documents[..i].contains(t));
    ensure!(
        types_ok,
        codes::INVALID_DOCUMENT_TYPES,
        "required_documents must be 1..={MAX_DOCUMENT_TYPES} distinct types of [a-z0-9_]{{1,{MAX_DOCUMENT_TYPE_LEN}}}"
    );
    let id = NEXT_ID.may_load(ctx)?.unwrap_or(1);
    let Some(next) = id.checked_add(1) else {
        fail!(codes::OVERFLOW, "letter of credit ids exhausted");
    };
    NEXT_ID.save(ctx, &next)?;
    let lc = LetterOfCredit {
        id,
        applicant,
        issuing_bank,
        advising_bank,
        beneficiary,
        amount,
        asset,
        expiry_height,
        required_documents,
        require_notarised,
        status: Status::Opened,
        documents: Vec::new(),
        refusal_reason: None,
        history_len: 0,
    };
    record(ctx, lc, "opened", None, None)
}

fn present(
    ctx: &Ctx,
    lc: &mut LetterOfCredit,
    documents: Vec<Document>,
) -> Result<(), ContractError> {
    let mut presented: Vec<PresentedDocument> = Vec::with_capacity(documents.len());
    for d in documents {
        ensure!(
            lc.required_documents.contains(&d.doc_type),
            codes::UNEXPECTED_DOCUMENT,
            "document type {:?} is not required by letter of credit {}",
            d.doc_type,
            lc.id
        );
        ensure!(
            !presented
                .iter()
                .any(|p| p.doc_type == d.doc_type || p.hash == d.hash),
            codes::DUPLICATE_DOCUMENT,
            "document type {:?} or hash {} presented twice",
            d.doc_type,
            d.hash
        );
        let notary = ctx.notary_get(&d.hash.0).map(|r| NotaryEvidence {
            owner: r.owner,
            height: r.height,
        });
        ensure!(
            notary.is_some() || !lc.require_notarised,
            codes::NOT_NOTARISED,
            "document {} ({}) has no notary record",
            d.hash,
            d.doc_type
        );
        presented.push(PresentedDocument {
            doc_type: d.doc_type,
            hash: d.hash,
            notary,
        });
    }
    if let Some(missing) = lc
        .required_documents
        .iter()
        .find(|t| !presented.iter().any(|p| &p.doc_type == *t))
    {
        fail!(
            codes::MISSING_DOCUMENT,
            "required document type {missing:?} was not presented"
        );
    }
    lc.documents = presented;
    Ok(())
}

/// Execute handler. Checks run in the order: LC exists, caller's role, status, expiry, step
/// specific checks.
pub fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<StepResponse, ContractError> {
    let caller = ctx.env().caller;
    match msg {
        ExecuteMsg::Open {
            issuing_bank,
            advising_bank,
            beneficiary,
            amount,
            asset,
            expiry_height,
            required_documents,
            require_notarised,
        } => open(
            ctx,
            issuing_bank,
            advising_bank,
            beneficiary,
            amount,
            asset,
            expiry_height,
            required_documents,
            require_notarised,
        ),
        ExecuteMsg::Cancel { lc_id } => {
            let mut lc = load(ctx, lc_id)?;
            only(caller, lc.applicant, "applicant")?;
            in_state(&lc, &[Status::Opened], "cancel")?;
            lc.status = Status::Cancelled;
            record(ctx, lc, "cancelled", None, None)
        }
        ExecuteMsg::Issue { lc_id } => {
            let mut lc = load(ctx, lc_id)?;
            only(caller, lc.issuing_bank, "issuing bank")?;
            in_state(&lc, &[Status::Opened], "issue")?;
            not_expired(ctx, &lc)?;
            let out = outstanding(ctx, &lc.asset)?;
            let Some(needed) = out.checked_add(lc.amount) else {
                fail!(codes::OVERFLOW, "outstanding {} overflows", lc.asset);
            };
            let me = ctx.env().contract_address;
            let balance = ctx.bank_balance(me, &lc.asset);
            ensure!(
                balance >= needed.u128(),
                codes::INSUFFICIENT_ESCROW,
                "the contract holds {balance} {asset}; outstanding LCs need {out} and this one \
                 {amount}: transfer at least {short} {asset} to {me} first",
                asset = lc.asset,
                amount = lc.amount,
                short = needed.u128() - balance,
            );
            set_outstanding(ctx, &lc.asset, needed)?;
            lc.status = Status::Issued;
            record(ctx, lc, "issued", None, None)
        }
        ExecuteMsg::Advise { lc_id } => {
            let mut lc = load(ctx, lc_id)?;
            only(caller, lc.advising_bank, "advising bank")?;
            in_state(&lc, &[Status::Issued], "advise")?;
            not_expired(ctx, &lc)?;
            lc.status = Status::Advised;
            record(ctx, lc, "advised", None, None)
        }
        ExecuteMsg::Present { lc_id, documents } => {
            let mut lc = load(ctx, lc_id)?;
            only(caller, lc.beneficiary, "beneficiary")?;
            in_state(&lc, &[Status::Advised], "present")?;
            not_expired(ctx, &lc)?;
            present(ctx, &mut lc, documents)?;
            lc.status = Status::Presented;
            record(ctx, lc, "presented", None, None)
        }
        ExecuteMsg::Accept { lc_id } => {
            let mut lc = load(ctx, lc_id)?;
            only(caller, lc.issuing_bank, "issuing bank")?;
            // Documents presented in time are honoured even if the bank decides after expiry.
            in_state(&lc, &[Status::Presented], "accept")?;
            let payment = release(ctx, &lc, lc.beneficiary)?;
            lc.status = Status::Paid;
            record(ctx, lc, "paid", None, Some(payment))
        }
        ExecuteMsg::Refuse { lc_id, reason } => {
            let mut lc = load(ctx, lc_id)?;
            only(caller, lc.issuing_bank, "issuing bank")?;
            in_state(&lc, &[Status::Presented], "refuse")?;
            ensure!(
                !reason.is_empty() && reason.len() <= MAX_REASON_LEN,
                codes::INVALID_REASON,
                "reason must be 1..={MAX_REASON_LEN} bytes"
            );
            lc.status = Status::Refused;
            lc.refusal_reason = Some(reason.clone());
            record(ctx, lc, "refused", Some(reason), None)
        }
        ExecuteMsg::Reclaim { lc_id } => {
            let mut lc = load(ctx, lc_id)?;
            only(caller, lc.applicant, "applicant")?;
            in_state(
                &lc,
                &[Status::Refused, Status::Issued, Status::Advised],
                "reclaim",
            )?;
            let cause = if lc.status == Status::Refused {
                "refused"
            } else {
                let height = ctx.env().height;
                ensure!(
                    height > lc.expiry_height,
                    codes::NOT_EXPIRED,
                    "letter of credit {} is {:?} and expires after height {} (now {height})",
                    lc.id,
                    lc.status,
                    lc.expiry_height
                );
                "expired"
            };
            let payment = release(ctx, &lc, lc.applicant)?;
            lc.status = Status::Reclaimed;
            record(ctx, lc, "reclaimed", Some(cause.into()), Some(payment))
        }
    }
}

/// A query's response: serialized as the inner value.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum QueryResponse {
    /// `lc`.
    Lc(Box<LetterOfCredit>),
    /// `history`.
    History(HistoryResponse),
    /// `lcs`.
    Lcs(LcsResponse),
    /// `escrow`.
    Escrow(EscrowResponse),
}

fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Query handler.
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<QueryResponse, ContractError> {
    Ok(match msg {
        QueryMsg::Lc { lc_id } => QueryResponse::Lc(Box::new(load(ctx, lc_id)?)),
        QueryMsg::History {
            lc_id,
            start_after,
            limit,
        } => {
            load(ctx, lc_id)?;
            let from = match start_after {
                None => 0,
                Some(s) => match s.checked_add(1) {
                    Some(f) => f,
                    None => return Ok(QueryResponse::History(HistoryResponse { entries: vec![] })),
                },
            };
            // All of an LC's entries sort below (lc_id, u32::MAX), which no entry reaches.
            let entries = HISTORY
                .range(
                    ctx,
                    Some(&(lc_id, from)),
                    Some(&(lc_id, u32::MAX)),
                    page_limit(limit),
                    Order::Ascending,
                )?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            QueryResponse::History(HistoryResponse { entries })
        }
        QueryMsg::Lcs { start_after, limit } => QueryResponse::Lcs(LcsResponse {
            lcs: LCS
                .page(ctx, start_after.as_ref(), page_limit(limit))?
                .into_iter()
                .map(|(_, lc)| lc)
                .collect(),
        }),
        QueryMsg::Escrow { asset } => {
            let me = ctx.env().contract_address;
            QueryResponse::Escrow(EscrowResponse {
                contract: me,
                outstanding: outstanding(ctx, &asset)?,
                balance: Uint128(ctx.bank_balance(me, &asset)),
                asset,
            })
        }
    })
}

meridian_contract_sdk::entry!(instantiate = instantiate, execute = execute, query = query);

#[cfg(test)]
mod tests;
