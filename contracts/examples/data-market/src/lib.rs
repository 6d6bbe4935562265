//! Example contract: a data market (存证数据交易), the "notarised data trading" scenario of
//! seed 003.
//!
//! * An **owner** lists a dataset by its document hash. The hash must have a notary record
//!   (notary module) whose owner is the lister, so only the party that notarised the data can
//!   sell it. A listing has a title and a price in a bank asset; the owner may delist (and
//!   relist with new terms) at any time. Past entitlements survive delisting.
//! * A **buyer** pays in two transactions: an ordinary bank transfer of the price to this
//!   contract's account, then `buy`. The contract pays the owner with `bank_transfer` and
//!   records the entitlement (buyer, dataset, height, price). A second purchase of the same
//!   dataset by the same buyer is refused.
//! * Delivery of the data key to entitled buyers comes with the later privacy work; this
//!   contract only records who is entitled.
//!
//! **Payment accounting.** The bank module does not tell a contract who sent it money, so the
//! contract credits deposits by balance difference:
//!
//! * it keeps per-buyer **credits** (money received and attributed to a buyer, not yet spent)
//!   and per asset their sum, the **obligations**; invariant: `bank_balance(contract) ≥
//!   obligations`, since the contract only ever pays out of credits;
//! * `buy` and `deposit` first credit the caller with the **unattributed** balance,
//!   `bank_balance(contract, asset) − obligations(asset)` — the transfers that arrived since
//!   the last attribution — then `buy` spends `price` of the caller's credit; a buyer without
//!   enough credit gets `payment_missing`, and the whole call (attribution included) is undone;
//! * unspent credit stays the buyer's: it pays for later purchases or is returned by
//!   `withdraw`.
//!
//! Attribution is "first caller after the transfer": if another participant calls `buy` or
//! `deposit` in the same asset between a buyer's transfer and the buyer's own call, that
//! participant is credited with the money. Every attribution is a signed transaction with a
//! `deposit` event, so on a permissioned chain a misattribution is visible and traceable;
//! buyers should send their `buy` right after the transfer. Removing the window needs chain
//! support (a transfer that carries a memo or calls the contract, or a contract-side pull).

#![deny(unsafe_code)]

pub use meridian_contract_sdk::Hash32;

use meridian_contract_sdk::{ensure, fail, Address, ContractError, Ctx, Map, Order, Uint128};
use serde::{Deserialize, Serialize};

/// Stable error codes (the chain reports them as `<contract name>.<code>`).
pub mod codes {
    /// The document hash has no notary record.
    pub const NOT_NOTARISED: &str = "not_notarised";
    /// The caller is not the notary owner / the listing's owner.
    pub const NOT_OWNER: &str = "not_owner";
    /// The dataset is listed already.
    pub const ALREADY_LISTED: &str = "already_listed";
    /// The dataset is not listed (never, or delisted).
    pub const NOT_LISTED: &str = "not_listed";
    /// No listing for that hash.
    pub const DATASET_NOT_FOUND: &str = "dataset_not_found";
    /// Price zero.
    pub const INVALID_PRICE: &str = "invalid_price";
    /// Not a bank asset symbol (1..=16 of `A-Z0-9`).
    pub const INVALID_ASSET: &str = "invalid_asset";
    /// Title empty, over 128 bytes or with control characters.
    pub const INVALID_TITLE: &str = "invalid_title";
    /// The owner cannot buy its own dataset.
    pub const OWN_DATASET: &str = "own_dataset";
    /// The buyer is entitled already.
    pub const ALREADY_ENTITLED: &str = "already_entitled";
    /// The buyer's credit (after attributing new deposits) is below the price.
    pub const PAYMENT_MISSING: &str = "payment_missing";
    /// `deposit` found no unattributed money.
    pub const NOTHING_TO_CREDIT: &str = "nothing_to_credit";
    /// `withdraw` of more than the caller's credit (or of nothing).
    pub const INSUFFICIENT_CREDIT: &str = "insufficient_credit";
    /// A sum overflowed.
    pub const OVERFLOW: &str = "overflow";
}

/// Longest title, bytes.
pub const MAX_TITLE_LEN: usize = 128;
/// Default page size.
pub const DEFAULT_LIMIT: u32 = 10;
/// Largest page (the host's range cap).
pub const MAX_LIMIT: u32 = 100;

/// A dataset listing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The notarised document hash (the dataset id).
    pub doc_hash: Hash32,
    /// The notary owner who listed it; paid on every sale.
    pub owner: Address,
    /// Title.
    pub title: String,
    /// Price.
    pub price: Uint128,
    /// Bank asset of the price.
    pub asset: String,
    /// `false` once delisted.
    pub listed: bool,
    /// Height of the notarisation.
    pub notarised_height: u64,
    /// Number of sales.
    pub sales: u64,
}

/// A buyer's right to a dataset.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Entitlement {
    /// Buyer.
    pub buyer: Address,
    /// Dataset.
    pub doc_hash: Hash32,
    /// Height of the purchase.
    pub height: u64,
    /// Time of the purchase, ms.
    pub time_ms: u64,
    /// Price paid.
    pub price: Uint128,
    /// Asset paid in.
    pub asset: String,
    /// The purchase transaction.
    pub tx_hash: Hash32,
}

const LISTINGS: Map<[u8; 32], Listing> = Map::new("ds");
/// (buyer, doc hash) → entitlement.
const ENTITLEMENTS: Map<(Address, [u8; 32]), Entitlement> = Map::new("ent");
/// (depositor, asset) → unspent credit.
const CREDITS: Map<(Address, String), Uint128> = Map::new("cr");
/// Asset → sum of the credits.
const OBLIGATIONS: Map<String, Uint128> = Map::new("ob");

/// Instantiate message: `{}`.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {}

/// Execute messages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Lists (or relists) a dataset the caller notarised. → [`Listing`].
    List {
        /// Notarised document hash.
        doc_hash: Hash32,
        /// Title, 1..=128 bytes.
        title: String,
        /// Price (> 0).
        price: Uint128,
        /// Bank asset symbol.
        asset: String,
    },
    /// Owner: withdraws the listing. → [`Listing`].
    Delist {
        /// Dataset.
        doc_hash: Hash32,
    },
    /// Buys a dataset: credits new deposits to the caller, spends the price, pays the owner.
    /// → [`Entitlement`].
    Buy {
        /// Dataset.
        doc_hash: Hash32,
    },
    /// Credits the unattributed balance in `asset` to the caller. → [`CreditResponse`].
    Deposit {
        /// Asset.
        asset: String,
    },
    /// Returns the caller's credit (all, or `amount`). → [`CreditResponse`].
    Withdraw {
        /// Asset.
        asset: String,
        /// How much (default: all).
        #[serde(default)]
        amount: Option<Uint128>,
    },
}

/// Query messages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// → [`Listing`].
    Dataset {
        /// Dataset.
        doc_hash: Hash32,
    },
    /// → [`DatasetsResponse`], by hash.
    Datasets {
        /// Last hash of the previous page.
        #[serde(default)]
        start_after: Option<Hash32>,
        /// Page size (default 10, max 100).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// → `Option<Entitlement>`.
    Entitlement {
        /// Buyer.
        buyer: Address,
        /// Dataset.
        doc_hash: Hash32,
    },
    /// → [`EntitlementsResponse`]: the buyer's entitlements by hash.
    Entitlements {
        /// Buyer.
        buyer: Address,
        /// Last hash of the previous page.
        #[serde(default)]
        start_after: Option<Hash32>,
        /// Page size (default 10, max 100).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// → [`CreditResponse`].
    Credit {
        /// Depositor.
        address: Address,
        /// Asset.
        asset: String,
    },
    /// → [`AccountsResponse`].
    Accounts {
        /// Asset.
        asset: String,
    },
}

/// `datasets` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DatasetsResponse {
    /// The page.
    pub datasets: Vec<Listing>,
}

/// `entitlements` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EntitlementsResponse {
    /// The page.
    pub entitlements: Vec<Entitlement>,
}

/// A depositor's credit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CreditResponse {
    /// Depositor.
    pub address: Address,
    /// Asset.
    pub asset: String,
    /// Unspent credit.
    pub credit: Uint128,
}

/// The contract's books in one asset.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AccountsResponse {
    /// The contract's account address: where buyers transfer payments to.
    pub contract: Address,
    /// Asset.
    pub asset: String,
    /// The contract's bank balance.
    pub balance: Uint128,
    /// Sum of all credits (≤ balance).
    pub obligations: Uint128,
    /// Received but not yet attributed: `balance − obligations`.
    pub unattributed: Uint128,
}

/// `<contract>.listed` / `<contract>.delisted` event data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListingEvent {
    /// Dataset.
    pub doc_hash: Hash32,
    /// Owner.
    pub owner: Address,
    /// Price.
    pub price: Uint128,
    /// Asset.
    pub asset: String,
}

/// `<contract>.deposit` / `<contract>.withdrawn` event data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CreditEvent {
    /// Depositor.
    pub address: Address,
    /// Asset.
    pub asset: String,
    /// Amount credited / withdrawn.
    pub amount: Uint128,
    /// Credit after.
    pub credit: Uint128,
}

/// `<contract>.purchased` event data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PurchaseEvent {
    /// Buyer.
    pub buyer: Address,
    /// Dataset.
    pub doc_hash: Hash32,
    /// Paid to.
    pub owner: Address,
    /// Price.
    pub price: Uint128,
    /// Asset.
    pub asset: String,
}

/// A bank asset symbol: 1..=16 of `A-Z0-9` (the bank module's rule).
pub fn valid_asset(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 16
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Instantiate handler: nothing to configure.
pub fn instantiate(_ctx: &mut Ctx, _msg: InstantiateMsg) -> Result<(), ContractError> {
    Ok(())
}

fn load(ctx: &Ctx, h: &Hash32) -> Result<Listing, ContractError> {
    match LISTINGS.may_load(ctx, &h.0)? {
        Some(l) => Ok(l),
        None => fail!(codes::DATASET_NOT_FOUND, "no dataset {h}"),
    }
}

fn credit_of(ctx: &Ctx, who: Address, asset: &str) -> Result<Uint128, ContractError> {
    Ok(CREDITS
        .may_load(ctx, &(who, asset.to_string()))?
        .unwrap_or_default())
}

fn obligations(ctx: &Ctx, asset: &str) -> Result<Uint128, ContractError> {
    Ok(OBLIGATIONS.may_load(ctx, asset)?.unwrap_or_default())
}

/// Sets `who`'s credit to `new`, moving the obligations by the same difference.
fn set_credit(ctx: &mut Ctx, who: Address, asset: &str, new: Uint128) -> Result<(), ContractError> {
    let old = credit_of(ctx, who, asset)?;
    let total = obligations(ctx, asset)?;
    let Some(total) = total.checked_sub(old).and_then(|t| t.checked_add(new)) else {
        fail!(codes::OVERFLOW, "obligations in {asset} overflow");
    };
    let key = (who, asset.to_string());
    if new.is_zero() {
        CREDITS.remove(ctx, &key);
    } else {
        CREDITS.save(ctx, &key, &new)?;
    }
    if total.is_zero() {
        OBLIGATIONS.remove(ctx, asset);
        Ok(())
    } else {
        OBLIGATIONS.save(ctx, asset, &total)
    }
}

fn accounts(ctx: &Ctx, asset: &str) -> Result<AccountsResponse, ContractError> {
    let me = ctx.env().contract_address;
    let balance = Uint128(ctx.bank_balance(me, asset));
    let obligations = obligations(ctx, asset)?;
    let Some(unattributed) = balance.checked_sub(obligations) else {
        fail!(
            "bad_state",
            "balance {balance} {asset} is below the obligations {obligations}"
        );
    };
    Ok(AccountsResponse {
        contract: me,
        asset: asset.to_string(),
        balance,
        obligations,
        unattributed,
    })
}

/// Credits the unattributed balance to `who`; returns the credit after.
fn attribute(ctx: &mut Ctx, who: Address, asset: &str) -> Result<Uint128, ContractError> {
    let amount = accounts(ctx, asset)?.unattributed;
    let credit = credit_of(ctx, who, asset)?;
    if amount.is_zero() {
        return Ok(credit);
    }
    let Some(credit) = credit.checked_add(amount) else {
        fail!(codes::OVERFLOW, "credit overflows");
    };
    set_credit(ctx, who, asset, credit)?;
    ctx.emit(
        "deposit",
        &CreditEvent {
            address: who,
            asset: asset.to_string(),
            amount,
            credit,
        },
    )?;
    Ok(credit)
}

/// A successful execute's response: serialized as the inner value.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum ExecuteResponse {
    /// `list`, `delist`.
    Listing(Listing),
    /// `buy`.
    Entitlement(Entitlement),
    /// `deposit`, `withdraw`.
    Credit(CreditResponse),
}

/// Execute handler.
pub fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<ExecuteResponse, ContractError> {
    let env = ctx.env().clone();
    let caller = env.caller;
    match msg {
        ExecuteMsg::List {
            doc_hash,
            title,
            price,
            asset,
        } => {
            let Some(record) = ctx.notary_get(&doc_hash.0) else {
                fail!(
                    codes::NOT_NOTARISED,
                    "{doc_hash} has no notary record: notarise the dataset first"
                );
            };
            ensure!(
                record.owner == caller,
                codes::NOT_OWNER,
                "{doc_hash} was notarised by {}, not {caller}",
                record.owner
            );
            ensure!(
                !price.is_zero(),
                codes::INVALID_PRICE,
                "price must be positive"
            );
            ensure!(
                valid_asset(&asset),
                codes::INVALID_ASSET,
                "asset must be 1..=16 of A-Z0-9, got {asset:?}"
            );
            ensure!(
                !title.is_empty()
                    && title.len() <= MAX_TITLE_LEN
                    && !title.chars().any(char::is_control),
                codes::INVALID_TITLE,
                "title must be 1..={MAX_TITLE_LEN} bytes without control characters"
            );
            let previous = LISTINGS.may_load(ctx, &doc_hash.0)?;
            if let Some(p) = &previous {
                ensure!(
                    !p.listed,
                    codes::ALREADY_LISTED,
                    "{doc_hash} is listed; delist it to change its terms"
                );
            }
            let listing = Listing {
                doc_hash,
                owner: caller,
                title,
                price,
                asset,
                listed: true,
                notarised_height: record.height,
                sales: previous.map_or(0, |p| p.sales),
            };
            LISTINGS.save(ctx, &doc_hash.0, &listing)?;
            ctx.emit(
                "listed",
                &ListingEvent {
                    doc_hash,
                    owner: caller,
                    price: listing.price,
                    asset: listing.asset.clone(),
                },
            )?;
            Ok(ExecuteResponse::Listing(listing))
        }
        ExecuteMsg::Delist { doc_hash } => {
            let mut listing = load(ctx, &doc_hash)?;
            ensure!(
                listing.owner == caller,
                codes::NOT_OWNER,
                "only the owner {} may delist {doc_hash}",
                listing.owner
            );
            ensure!(
                listing.listed,
                codes::NOT_LISTED,
                "{doc_hash} is not listed"
            );
            listing.listed = false;
            LISTINGS.save(ctx, &doc_hash.0, &listing)?;
            ctx.emit(
                "delisted",
                &ListingEvent {
                    doc_hash,
                    owner: caller,
                    price: listing.price,
                    asset: listing.asset.clone(),
                },
            )?;
            Ok(ExecuteResponse::Listing(listing))
        }
        ExecuteMsg::Buy { doc_hash } => {
            let mut listing = load(ctx, &doc_hash)?;
            ensure!(
                listing.listed,
                codes::NOT_LISTED,
                "{doc_hash} is not listed"
            );
            ensure!(
                listing.owner != caller,
                codes::OWN_DATASET,
                "the owner cannot buy its own dataset"
            );
            ensure!(
                !ENTITLEMENTS.has(ctx, &(caller, doc_hash.0)),
                codes::ALREADY_ENTITLED,
                "{caller} already bought {doc_hash}"
            );
            let asset = listing.asset.clone();
            let credit = attribute(ctx, caller, &asset)?;
            let Some(rest) = credit.checked_sub(listing.price) else {
                let me = env.contract_address;
                fail!(
                    codes::PAYMENT_MISSING,
                    "{caller} has {credit} {asset} credited, the price is {}: transfer the \
                     difference to {me} with the bank, then buy again",
                    listing.price
                );
            };
            set_credit(ctx, caller, &asset, rest)?;
            ctx.bank_transfer(listing.owner, &asset, listing.price.u128())?;
            let ent = Entitlement {
                buyer: caller,
                doc_hash,
                height: env.height,
                time_ms: env.time_ms,
                price: listing.price,
                asset: asset.clone(),
                tx_hash: Hash32(env.tx_hash),
            };
            ENTITLEMENTS.save(ctx, &(caller, doc_hash.0), &ent)?;
            listing.sales = listing.sales.saturating_add(1);
            LISTINGS.save(ctx, &doc_hash.0, &listing)?;
            ctx.emit(
                "purchased",
                &PurchaseEvent {
                    buyer: caller,
                    doc_hash,
                    owner: listing.owner,
                    price: listing.price,
                    asset,
                },
            )?;
            Ok(ExecuteResponse::Entitlement(ent))
        }
        ExecuteMsg::Deposit { asset } => {
            ensure!(
                valid_asset(&asset),
                codes::INVALID_ASSET,
                "asset must be 1..=16 of A-Z0-9, got {asset:?}"
            );
            let before = credit_of(ctx, caller, &asset)?;
            let credit = attribute(ctx, caller, &asset)?;
            ensure!(
                credit != before,
                codes::NOTHING_TO_CREDIT,
                "no unattributed {asset} in the contract's account"
            );
            Ok(ExecuteResponse::Credit(CreditResponse {
                address: caller,
                asset,
                credit,
            }))
        }
        ExecuteMsg::Withdraw { asset, amount } => {
            let credit = credit_of(ctx, caller, &asset)?;
            let amount = amount.unwrap_or(credit);
            let rest = credit.checked_sub(amount).filter(|_| !amount.is_zero());
            let Some(rest) = rest else {
                fail!(
                    codes::INSUFFICIENT_CREDIT,
                    "{caller} has {credit} {asset} credited; cannot withdraw {amount}"
                );
            };
            set_credit(ctx, caller, &asset, rest)?;
            ctx.bank_transfer(caller, &asset, amount.u128())?;
            ctx.emit(
                "withdrawn",
                &CreditEvent {
                    address: caller,
                    asset: asset.clone(),
                    amount,
                    credit: rest,
                },
            )?;
            Ok(ExecuteResponse::Credit(CreditResponse {
                address: caller,
                asset,
                credit: rest,
            }))
        }
    }
}

/// A query's response: serialized as the inner value.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum QueryResponse {
    /// `dataset`.
    Dataset(Listing),
    /// `datasets`.
    Datasets(DatasetsResponse),
    /// `entitlement`.
    Entitlement(Option<Entitlement>),
    /// `entitlements`.
    Entitlements(EntitlementsResponse),
    /// `credit`.
    Credit(CreditResponse),
    /// `accounts`.
    Accounts(AccountsResponse),
}

fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Query handler.
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<QueryResponse, ContractError> {
    Ok(match msg {
        QueryMsg::Dataset { doc_hash } => QueryResponse::Dataset(load(ctx, &doc_hash)?),
        QueryMsg::Datasets { start_after, limit } => QueryResponse::Datasets(DatasetsResponse {
            datasets: LISTINGS
                .page(ctx, start_after.map(|h| h.0).as_ref(), page_limit(limit))?
                .into_iter()
                .map(|(_, l)| l)
                .collect(),
        }),
        QueryMsg::Entitlement { buyer, doc_hash } => {
            QueryResponse::Entitlement(ENTITLEMENTS.may_load(ctx, &(buyer, doc_hash.0))?)
        }
        QueryMsg::Entitlements {
            buyer,
            start_after,
            limit,
        } => {
            // The buyer's keys: (buyer, 00…00) ..= (buyer, ff…ff). Every key of the map has the
            // same length, so `(buyer, ff…ff) || 00` is an exclusive end above all of them.
            let start = match start_after {
                Some(h) => {
                    let mut k = ENTITLEMENTS.storage_key(&(buyer, h.0));
                    k.push(0);
                    k
                }
                None => ENTITLEMENTS.storage_key(&(buyer, [0u8; 32])),
            };
            let mut end = ENTITLEMENTS.storage_key(&(buyer, [0xffu8; 32]));
            end.push(0);
            let entitlements = ctx
                .range(&start, Some(&end), page_limit(limit), Order::Ascending)
                .into_iter()
                .map(|(_, v)| {
                    meridian_contract_sdk::serde_json::from_slice(&v)
                        .map_err(|e| ContractError::new("bad_state", format!("ent: {e}")))
                })
                .collect::<Result<_, _>>()?;
            QueryResponse::Entitlements(EntitlementsResponse { entitlements })
        }
        QueryMsg::Credit { address, asset } => QueryResponse::Credit(CreditResponse {
            credit: credit_of(ctx, address, &asset)?,
            address,
            asset,
        }),
        QueryMsg::Accounts { asset } => QueryResponse::Accounts(accounts(ctx, &asset)?),
    })
}

meridian_contract_sdk::entry!(instantiate = instantiate, execute = execute, query = query);

#[cfg(test)]
mod tests;
