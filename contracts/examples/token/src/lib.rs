//! Example contract: an embedded digital currency — a fungible token in the style of ERC-20 /
//! CW20. Amounts are [`Uint128`] (decimal strings in JSON); addresses are `0x…` hex.
//!
//! * instantiate `{"name", "symbol", "decimals", "initial_balances": [{"address", "amount"}],
//!   "minter"?, "cap"?}`
//! * execute `transfer`, `burn`, `approve` (set), `increase_allowance`, `decrease_allowance`,
//!   `transfer_from`, `burn_from`, `mint` (minter only, never above `cap`)
//! * query `balance`, `allowance`, `token_info`, `minter`, `all_accounts` (paged, by address)
//!
//! Invariant: `total_supply` equals the sum of all balances. Zero balances and allowances are
//! deleted, so `all_accounts` lists holders only.

#![deny(unsafe_code)]

use meridian_contract_sdk::{ensure, fail, Address, ContractError, Ctx, Item, Map, Uint128};
use serde::{Deserialize, Serialize};

/// Token metadata and supply.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// Display name.
    pub name: String,
    /// Ticker, 3..=12 of `[A-Za-z-]`.
    pub symbol: String,
    /// Decimal places for display, ≤ 18.
    pub decimals: u8,
    /// Sum of all balances.
    pub total_supply: Uint128,
}

/// Who may mint, and the supply cap.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MinterInfo {
    /// The minter.
    pub minter: Address,
    /// Largest total supply minting may reach.
    pub cap: Option<Uint128>,
}

const TOKEN_INFO: Item<TokenInfo> = Item::new("token_info");
const MINTER: Item<MinterInfo> = Item::new("minter");
const BALANCES: Map<Address, Uint128> = Map::new("balance");
/// (owner, spender) → allowance.
const ALLOWANCES: Map<(Address, Address), Uint128> = Map::new("allowance");

/// An initial holder.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InitialBalance {
    /// Holder.
    pub address: Address,
    /// Amount.
    pub amount: Uint128,
}

/// Instantiate message.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// Display name, 3..=50 bytes.
    pub name: String,
    /// Ticker, 3..=12 of `[A-Za-z-]`.
    pub symbol: String,
    /// Decimal places, ≤ 18.
    pub decimals: u8,
    /// Initial holders (no duplicates).
    pub initial_balances: Vec<InitialBalance>,
    /// Who may mint; no minting if absent.
    #[serde(default)]
    pub minter: Option<Address>,
    /// Supply cap (also bounds the initial supply).
    #[serde(default)]
    pub cap: Option<Uint128>,
}

/// Execute messages; the caller (`env.caller`) is the sender.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Moves `amount` from the caller to `recipient`.
    Transfer {
        /// Receiver.
        recipient: Address,
        /// Amount.
        amount: Uint128,
    },
    /// Destroys `amount` of the caller's tokens.
    Burn {
        /// Amount.
        amount: Uint128,
    },
    /// Sets the caller's allowance for `spender` to `amount` (ERC-20 `approve`).
    Approve {
        /// Spender.
        spender: Address,
        /// New allowance.
        amount: Uint128,
    },
    /// Raises the caller's allowance for `spender`.
    IncreaseAllowance {
        /// Spender.
        spender: Address,
        /// Increase.
        amount: Uint128,
    },
    /// Lowers the caller's allowance for `spender` (not below zero).
    DecreaseAllowance {
        /// Spender.
        spender: Address,
        /// Decrease.
        amount: Uint128,
    },
    /// Moves `amount` from `owner` to `recipient` using the caller's allowance.
    TransferFrom {
        /// Whose tokens.
        owner: Address,
        /// Receiver.
        recipient: Address,
        /// Amount.
        amount: Uint128,
    },
    /// Destroys `amount` of `owner`'s tokens using the caller's allowance.
    BurnFrom {
        /// Whose tokens.
        owner: Address,
        /// Amount.
        amount: Uint128,
    },
    /// Creates `amount` for `recipient`. Minter only; total supply stays ≤ cap.
    Mint {
        /// Receiver.
        recipient: Address,
        /// Amount.
        amount: Uint128,
    },
}

/// Query messages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// → [`BalanceResponse`].
    Balance {
        /// Holder.
        address: Address,
    },
    /// → [`AllowanceResponse`].
    Allowance {
        /// Owner.
        owner: Address,
        /// Spender.
        spender: Address,
    },
    /// → [`TokenInfo`].
    TokenInfo {},
    /// → `Option<MinterInfo>`.
    Minter {},
    /// → [`AllAccountsResponse`]: holders in address order, after `start_after`, at most
    /// `limit` (default 10, max 100).
    AllAccounts {
        /// Last address of the previous page.
        #[serde(default)]
        start_after: Option<Address>,
        /// Page size.
        #[serde(default)]
        limit: Option<u32>,
    },
}

/// Balance query response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BalanceResponse {
    /// Balance.
    pub balance: Uint128,
}

/// Allowance query response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AllowanceResponse {
    /// Allowance.
    pub allowance: Uint128,
}

/// One holder.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AccountBalance {
    /// Holder.
    pub address: Address,
    /// Balance (never zero).
    pub balance: Uint128,
}

/// All-accounts query response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AllAccountsResponse {
    /// The page.
    pub accounts: Vec<AccountBalance>,
}

/// `token.transfer` event data (also for `transfer_from`, with `spender`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TransferEvent {
    /// Sender.
    pub from: Address,
    /// Receiver.
    pub to: Address,
    /// Amount.
    pub amount: Uint128,
    /// The spender for `transfer_from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spender: Option<Address>,
}

/// `token.mint` / `token.burn` event data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SupplyEvent {
    /// Receiver (mint) or holder (burn).
    pub account: Address,
    /// Amount.
    pub amount: Uint128,
    /// Total supply after.
    pub total_supply: Uint128,
}

/// `token.approve` event data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ApproveEvent {
    /// Owner.
    pub owner: Address,
    /// Spender.
    pub spender: Address,
    /// New allowance.
    pub allowance: Uint128,
}

/// Default and largest `all_accounts` page.
pub const DEFAULT_LIMIT: u32 = 10;
/// Largest `all_accounts` page (the host's range cap).
pub const MAX_LIMIT: u32 = 100;

fn validate(msg: &InstantiateMsg) -> Result<(), ContractError> {
    let name_ok = (3..=50).contains(&msg.name.len()) && !msg.name.chars().any(char::is_control);
    ensure!(
        name_ok,
        "invalid_name",
        "name must be 3..=50 bytes, no control characters"
    );
    let symbol_ok = (3..=12).contains(&msg.symbol.len())
        && msg
            .symbol
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-');
    ensure!(
        symbol_ok,
        "invalid_symbol",
        "symbol must be 3..=12 of [A-Za-z-]"
    );
    ensure!(
        msg.decimals <= 18,
        "invalid_decimals",
        "decimals must be <= 18"
    );
    Ok(())
}

/// Instantiate handler.
pub fn instantiate(ctx: &mut Ctx, msg: InstantiateMsg) -> Result<TokenInfo, ContractError> {
    validate(&msg)?;
    let mut total = Uint128::ZERO;
    let mut seen = std::collections::BTreeSet::new();
    for b in &msg.initial_balances {
        ensure!(
            seen.insert(b.address),
            "duplicate_account",
            "{} appears twice in initial_balances",
            b.address
        );
        let Some(t) = total.checked_add(b.amount) else {
            fail!("overflow", "initial supply overflows u128");
        };
        total = t;
        set_balance(ctx, &b.address, b.amount)?;
    }
    if let Some(cap) = msg.cap {
        ensure!(
            total <= cap,
            "cap_exceeded",
            "initial supply {total} is above the cap {cap}"
        );
    }
    if let Some(minter) = msg.minter {
        MINTER.save(
            ctx,
            &MinterInfo {
                minter,
                cap: msg.cap,
            },
        )?;
    }
    let info = TokenInfo {
        name: msg.name,
        symbol: msg.symbol,
        decimals: msg.decimals,
        total_supply: total,
    };
    TOKEN_INFO.save(ctx, &info)?;
    Ok(info)
}

fn nonzero(amount: Uint128) -> Result<(), ContractError> {
    ensure!(
        !amount.is_zero(),
        "invalid_zero_amount",
        "amount must be positive"
    );
    Ok(())
}

fn balance(ctx: &Ctx, who: &Address) -> Result<Uint128, ContractError> {
    Ok(BALANCES.may_load(ctx, who)?.unwrap_or_default())
}

/// Stores a balance; zero deletes the entry.
fn set_balance(ctx: &mut Ctx, who: &Address, amount: Uint128) -> Result<(), ContractError> {
    if amount.is_zero() {
        BALANCES.remove(ctx, who);
        Ok(())
    } else {
        BALANCES.save(ctx, who, &amount)
    }
}

fn debit(ctx: &mut Ctx, who: &Address, amount: Uint128) -> Result<(), ContractError> {
    let bal = balance(ctx, who)?;
    let Some(rest) = bal.checked_sub(amount) else {
        fail!("insufficient_funds", "{who} has {bal}, needs {amount}");
    };
    set_balance(ctx, who, rest)
}

fn credit(ctx: &mut Ctx, who: &Address, amount: Uint128) -> Result<(), ContractError> {
    // Cannot overflow while balances sum to total_supply ≤ u128::MAX; checked anyway.
    let Some(new) = balance(ctx, who)?.checked_add(amount) else {
        fail!("overflow", "balance of {who} overflows");
    };
    set_balance(ctx, who, new)
}

fn allowance(ctx: &Ctx, owner: &Address, spender: &Address) -> Result<Uint128, ContractError> {
    Ok(ALLOWANCES
        .may_load(ctx, &(*owner, *spender))?
        .unwrap_or_default())
}

fn set_allowance(
    ctx: &mut Ctx,
    owner: Address,
    spender: Address,
    amount: Uint128,
) -> Result<(), ContractError> {
    ensure!(
        owner != spender,
        "cannot_set_own_account",
        "an account cannot approve itself"
    );
    if amount.is_zero() {
        ALLOWANCES.remove(ctx, &(owner, spender));
    } else {
        ALLOWANCES.save(ctx, &(owner, spender), &amount)?;
    }
    ctx.emit(
        "approve",
        &ApproveEvent {
            owner,
            spender,
            allowance: amount,
        },
    )
}

fn spend_allowance(
    ctx: &mut Ctx,
    owner: Address,
    spender: Address,
    amount: Uint128,
) -> Result<(), ContractError> {
    let current = allowance(ctx, &owner, &spender)?;
    let Some(rest) = current.checked_sub(amount) else {
        fail!(
            "insufficient_allowance",
            "allowance {current} of {spender} from {owner} is below {amount}"
        );
    };
    if rest.is_zero() {
        ALLOWANCES.remove(ctx, &(owner, spender));
    } else {
        ALLOWANCES.save(ctx, &(owner, spender), &rest)?;
    }
    Ok(())
}

fn change_supply(
    ctx: &mut Ctx,
    f: impl FnOnce(Uint128) -> Result<Uint128, ContractError>,
) -> Result<Uint128, ContractError> {
    let mut info = TOKEN_INFO.load(ctx)?;
    info.total_supply = f(info.total_supply)?;
    TOKEN_INFO.save(ctx, &info)?;
    Ok(info.total_supply)
}

fn transfer(
    ctx: &mut Ctx,
    from: Address,
    to: Address,
    amount: Uint128,
    spender: Option<Address>,
) -> Result<(), ContractError> {
    nonzero(amount)?;
    debit(ctx, &from, amount)?;
    credit(ctx, &to, amount)?;
    ctx.emit(
        "transfer",
        &TransferEvent {
            from,
            to,
            amount,
            spender,
        },
    )
}

fn burn(ctx: &mut Ctx, from: Address, amount: Uint128) -> Result<(), ContractError> {
    nonzero(amount)?;
    debit(ctx, &from, amount)?;
    let total_supply = change_supply(ctx, |s| {
        s.checked_sub(amount)
            .ok_or_else(|| ContractError::new("bad_state", "supply below burned amount"))
    })?;
    ctx.emit(
        "burn",
        &SupplyEvent {
            account: from,
            amount,
            total_supply,
        },
    )
}

/// Execute handler.
pub fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<(), ContractError> {
    let sender = ctx.env().caller;
    match msg {
        ExecuteMsg::Transfer { recipient, amount } => {
            transfer(ctx, sender, recipient, amount, None)
        }
        ExecuteMsg::Burn { amount } => burn(ctx, sender, amount),
        ExecuteMsg::Approve { spender, amount } => set_allowance(ctx, sender, spender, amount),
        ExecuteMsg::IncreaseAllowance { spender, amount } => {
            let Some(new) = allowance(ctx, &sender, &spender)?.checked_add(amount) else {
                fail!("overflow", "allowance overflows");
            };
            set_allowance(ctx, sender, spender, new)
        }
        ExecuteMsg::DecreaseAllowance { spender, amount } => {
            let new = allowance(ctx, &sender, &spender)?.saturating_sub(amount);
            set_allowance(ctx, sender, spender, new)
        }
        ExecuteMsg::TransferFrom {
            owner,
            recipient,
            amount,
        } => {
            nonzero(amount)?;
            spend_allowance(ctx, owner, sender, amount)?;
            transfer(ctx, owner, recipient, amount, Some(sender))
        }
        ExecuteMsg::BurnFrom { owner, amount } => {
            nonzero(amount)?;
            spend_allowance(ctx, owner, sender, amount)?;
            burn(ctx, owner, amount)
        }
        ExecuteMsg::Mint { recipient, amount } => {
            nonzero(amount)?;
            let Some(m) = MINTER.may_load(ctx)? else {
                fail!("unauthorized", "this token has no minter");
            };
            ensure!(
                m.minter == sender,
                "unauthorized",
                "only the minter {} may mint",
                m.minter
            );
            let total_supply = change_supply(ctx, |s| {
                let Some(new) = s.checked_add(amount) else {
                    fail!("overflow", "total supply overflows");
                };
                if let Some(cap) = m.cap {
                    ensure!(
                        new <= cap,
                        "cap_exceeded",
                        "minting {amount} takes supply {s} above the cap {cap}"
                    );
                }
                Ok(new)
            })?;
            credit(ctx, &recipient, amount)?;
            ctx.emit(
                "mint",
                &SupplyEvent {
                    account: recipient,
                    amount,
                    total_supply,
                },
            )
        }
    }
}

/// A query's response: serialized as the inner value.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum QueryResponse {
    /// `balance`.
    Balance(BalanceResponse),
    /// `allowance`.
    Allowance(AllowanceResponse),
    /// `token_info`.
    TokenInfo(TokenInfo),
    /// `minter`.
    Minter(Option<MinterInfo>),
    /// `all_accounts`.
    AllAccounts(AllAccountsResponse),
}

/// Query handler.
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<QueryResponse, ContractError> {
    Ok(match msg {
        QueryMsg::Balance { address } => QueryResponse::Balance(BalanceResponse {
            balance: balance(ctx, &address)?,
        }),
        QueryMsg::Allowance { owner, spender } => QueryResponse::Allowance(AllowanceResponse {
            allowance: allowance(ctx, &owner, &spender)?,
        }),
        QueryMsg::TokenInfo {} => QueryResponse::TokenInfo(TOKEN_INFO.load(ctx)?),
        QueryMsg::Minter {} => QueryResponse::Minter(MINTER.may_load(ctx)?),
        QueryMsg::AllAccounts { start_after, limit } => {
            let limit = limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
            let accounts = BALANCES
                .page(ctx, start_after.as_ref(), limit)?
                .into_iter()
                .map(|(address, balance)| AccountBalance { address, balance })
                .collect();
            QueryResponse::AllAccounts(AllAccountsResponse { accounts })
        }
    })
}

meridian_contract_sdk::entry!(instantiate = instantiate, execute = execute, query = query);

#[cfg(test)]
mod tests;
