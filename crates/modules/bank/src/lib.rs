//! `bank`: multi-asset tokens.
//!
//! An issuer creates an asset (symbol, decimals, maximum supply), then mints it to accounts;
//! holders transfer and burn. Invariants, enforced on every call and property-tested:
//! balances never go negative, the sum of balances equals the asset's supply, and supply never
//! exceeds the maximum.
//!
//! State layout (all keys under `bank/`, values in the canonical encoding):
//! * `bank/asset/<SYMBOL>` → [`Asset`]
//! * `bank/balance/<SYMBOL>/<address 20 bytes>` → `u128` big-endian
//!
//! Calls are [`BankCall`] values encoded into [`meridian_types::Call::args`]; build them with
//! [`BankCall::into_call`].

use meridian_execution::{codes, Module, ModuleError, TxContext};
use meridian_types::{decode_exact, Address, Call, CodecError, Decode, Encode, Reader, Writer};

/// Module name and key prefix.
pub const NAME: &str = "bank";
/// Longest asset symbol.
pub const MAX_SYMBOL_LEN: usize = 16;
/// Most decimals an asset may declare.
pub const MAX_DECIMALS: u8 = 18;

/// Stable error codes.
pub mod errors {
    pub const INVALID_SYMBOL: &str = "bank.invalid_symbol";
    pub const INVALID_DECIMALS: &str = "bank.invalid_decimals";
    pub const INVALID_AMOUNT: &str = "bank.invalid_amount";
    pub const ASSET_EXISTS: &str = "bank.asset_exists";
    pub const UNKNOWN_ASSET: &str = "bank.unknown_asset";
    pub const NOT_ISSUER: &str = "bank.not_issuer";
    pub const EXCEEDS_MAX_SUPPLY: &str = "bank.exceeds_max_supply";
    pub const INSUFFICIENT_BALANCE: &str = "bank.insufficient_balance";
    pub const CORRUPT_STATE: &str = "bank.corrupt_state";
    pub const RESERVED_SYMBOL: &str = "bank.reserved_symbol";
}

/// Seed of the interop module's account (an address no key hashes to): the only issuer of
/// voucher symbols.
pub const VOUCHER_ISSUER_SEED: &[u8] = b"meridian/interop/module";

/// Voucher symbols — `X` and 15 upper-case hex digits, derived from a cross-chain
/// denomination trace — are reserved for the interop module, so nobody can squat the symbol of
/// an inbound route before its first transfer arrives.
pub fn is_voucher_symbol(s: &str) -> bool {
    s.len() == 16
        && s.starts_with('X')
        && s[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// An asset's definition and current supply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    pub symbol: String,
    pub decimals: u8,
    pub max_supply: u128,
    pub supply: u128,
    pub issuer: Address,
}

impl Encode for Asset {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.symbol);
        w.u8(self.decimals);
        w.u128(self.max_supply);
        w.u128(self.supply);
        self.issuer.encode_to(w);
    }
}

impl Decode for Asset {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Asset {
            symbol: r.string(MAX_SYMBOL_LEN, "asset.symbol")?,
            decimals: r.u8("asset.decimals")?,
            max_supply: r.u128("asset.max_supply")?,
            supply: r.u128("asset.supply")?,
            issuer: Address::decode_from(r)?,
        })
    }
}

/// The bank's calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankCall {
    CreateAsset {
        symbol: String,
        decimals: u8,
        max_supply: u128,
    },
    Mint {
        symbol: String,
        to: Address,
        amount: u128,
    },
    Transfer {
        symbol: String,
        to: Address,
        amount: u128,
    },
    Burn {
        symbol: String,
        amount: u128,
    },
}

impl BankCall {
    pub fn method(&self) -> &'static str {
        match self {
            BankCall::CreateAsset { .. } => "create_asset",
            BankCall::Mint { .. } => "mint",
            BankCall::Transfer { .. } => "transfer",
            BankCall::Burn { .. } => "burn",
        }
    }

    /// Wraps the call for a transaction body.
    pub fn into_call(self) -> Call {
        Call {
            module: NAME.into(),
            method: self.method().into(),
            args: self.encode_args(),
        }
    }

    fn encode_args(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            BankCall::CreateAsset {
                symbol,
                decimals,
                max_supply,
            } => {
                w.str(symbol);
                w.u8(*decimals);
                w.u128(*max_supply);
            }
            BankCall::Mint { symbol, to, amount } | BankCall::Transfer { symbol, to, amount } => {
                w.str(symbol);
                to.encode_to(&mut w);
                w.u128(*amount);
            }
            BankCall::Burn { symbol, amount } => {
                w.str(symbol);
                w.u128(*amount);
            }
        }
        w.into_bytes()
    }

    /// Decodes `args` for `method`.
    pub fn decode(method: &str, args: &[u8]) -> Result<Self, ModuleError> {
        let bad = |e: CodecError| ModuleError::new(codes::BAD_ARGS, e.to_string());
        let mut r = Reader::new(args);
        let call = match method {
            "create_asset" => BankCall::CreateAsset {
                symbol: r.string(MAX_SYMBOL_LEN, "symbol").map_err(bad)?,
                decimals: r.u8("decimals").map_err(bad)?,
                max_supply: r.u128("max_supply").map_err(bad)?,
            },
            "mint" | "transfer" => {
                let symbol = r.string(MAX_SYMBOL_LEN, "symbol").map_err(bad)?;
                let to = Address::decode_from(&mut r).map_err(bad)?;
                let amount = r.u128("amount").map_err(bad)?;
                if method == "mint" {
                    BankCall::Mint { symbol, to, amount }
                } else {
                    BankCall::Transfer { symbol, to, amount }
                }
            }
            "burn" => BankCall::Burn {
                symbol: r.string(MAX_SYMBOL_LEN, "symbol").map_err(bad)?,
                amount: r.u128("amount").map_err(bad)?,
            },
            other => {
                return Err(ModuleError::new(
                    codes::UNKNOWN_METHOD,
                    format!("bank has no method {other}"),
                ))
            }
        };
        r.finish().map_err(bad)?;
        Ok(call)
    }
}

/// Typed bank events (the `data` of a receipt event with module `bank`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankEvent {
    AssetCreated {
        symbol: String,
        issuer: Address,
        decimals: u8,
        max_supply: u128,
    },
    Minted {
        symbol: String,
        to: Address,
        amount: u128,
    },
    Transferred {
        symbol: String,
        from: Address,
        to: Address,
        amount: u128,
    },
    Burned {
        symbol: String,
        from: Address,
        amount: u128,
    },
}

impl BankEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            BankEvent::AssetCreated { .. } => "asset_created",
            BankEvent::Minted { .. } => "minted",
            BankEvent::Transferred { .. } => "transferred",
            BankEvent::Burned { .. } => "burned",
        }
    }

    fn data(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            BankEvent::AssetCreated {
                symbol,
                issuer,
                decimals,
                max_supply,
            } => {
                w.str(symbol);
                issuer.encode_to(&mut w);
                w.u8(*decimals);
                w.u128(*max_supply);
            }
            BankEvent::Minted { symbol, to, amount } => {
                w.str(symbol);
                to.encode_to(&mut w);
                w.u128(*amount);
            }
            BankEvent::Transferred {
                symbol,
                from,
                to,
                amount,
            } => {
                w.str(symbol);
                from.encode_to(&mut w);
                to.encode_to(&mut w);
                w.u128(*amount);
            }
            BankEvent::Burned {
                symbol,
                from,
                amount,
            } => {
                w.str(symbol);
                from.encode_to(&mut w);
                w.u128(*amount);
            }
        }
        w.into_bytes()
    }

    /// Decodes a receipt event of the bank module.
    pub fn decode(kind: &str, data: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(data);
        let ev = match kind {
            "asset_created" => BankEvent::AssetCreated {
                symbol: r.string(MAX_SYMBOL_LEN, "symbol")?,
                issuer: Address::decode_from(&mut r)?,
                decimals: r.u8("decimals")?,
                max_supply: r.u128("max_supply")?,
            },
            "minted" => BankEvent::Minted {
                symbol: r.string(MAX_SYMBOL_LEN, "symbol")?,
                to: Address::decode_from(&mut r)?,
                amount: r.u128("amount")?,
            },
            "transferred" => BankEvent::Transferred {
                symbol: r.string(MAX_SYMBOL_LEN, "symbol")?,
                from: Address::decode_from(&mut r)?,
                to: Address::decode_from(&mut r)?,
                amount: r.u128("amount")?,
            },
            "burned" => BankEvent::Burned {
                symbol: r.string(MAX_SYMBOL_LEN, "symbol")?,
                from: Address::decode_from(&mut r)?,
                amount: r.u128("amount")?,
            },
            _ => return Err(CodecError::Invalid("bank event kind")),
        };
        r.finish()?;
        Ok(ev)
    }
}

/// State key of an asset definition.
pub fn asset_key(symbol: &str) -> Vec<u8> {
    format!("{NAME}/asset/{symbol}").into_bytes()
}

/// State key of a balance.
pub fn balance_key(symbol: &str, owner: &Address) -> Vec<u8> {
    let mut k = format!("{NAME}/balance/{symbol}/").into_bytes();
    k.extend_from_slice(&owner.0);
    k
}

/// Decodes a stored balance value (absent means zero).
pub fn decode_balance(v: Option<&[u8]>) -> Result<u128, CodecError> {
    match v {
        None => Ok(0),
        Some(b) => <[u8; 16]>::try_from(b)
            .map(u128::from_be_bytes)
            .map_err(|_| CodecError::Invalid("balance")),
    }
}

/// Decodes a stored asset.
pub fn decode_asset(v: &[u8]) -> Result<Asset, CodecError> {
    decode_exact(v)
}

fn valid_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SYMBOL_LEN
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn corrupt(e: CodecError) -> ModuleError {
    ModuleError::new(errors::CORRUPT_STATE, e.to_string())
}

/// The bank module.
#[derive(Default, Clone, Copy)]
pub struct Bank;

impl Bank {
    fn load_asset(ctx: &TxContext<'_>, symbol: &str) -> Result<Asset, ModuleError> {
        let raw = ctx
            .get(&asset_key(symbol))
            .ok_or_else(|| ModuleError::new(errors::UNKNOWN_ASSET, format!("no asset {symbol}")))?;
        decode_asset(&raw).map_err(corrupt)
    }

    fn balance(ctx: &TxContext<'_>, symbol: &str, who: &Address) -> Result<u128, ModuleError> {
        decode_balance(ctx.get(&balance_key(symbol, who)).as_deref()).map_err(corrupt)
    }

    fn set_balance(
        ctx: &mut TxContext<'_>,
        symbol: &str,
        who: &Address,
        amount: u128,
    ) -> Result<(), ModuleError> {
        let key = balance_key(symbol, who);
        if amount == 0 {
            ctx.delete(key)
        } else {
            ctx.set(key, amount.to_be_bytes().to_vec())
        }
    }

    fn emit(ctx: &mut TxContext<'_>, ev: BankEvent) -> Result<(), ModuleError> {
        ctx.emit(ev.kind(), ev.data())
    }
}

fn positive(amount: u128) -> Result<(), ModuleError> {
    if amount == 0 {
        Err(ModuleError::new(
            errors::INVALID_AMOUNT,
            "amount must be positive",
        ))
    } else {
        Ok(())
    }
}

impl Module for Bank {
    fn name(&self) -> &'static str {
        NAME
    }

    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        let sender = ctx.sender;
        match BankCall::decode(method, args)? {
            BankCall::CreateAsset {
                symbol,
                decimals,
                max_supply,
            } => {
                if !valid_symbol(&symbol) {
                    return Err(ModuleError::new(
                        errors::INVALID_SYMBOL,
                        "symbol must be 1-16 characters A-Z, 0-9",
                    ));
                }
                if is_voucher_symbol(&symbol) && sender != ctx.address_of(VOUCHER_ISSUER_SEED) {
                    return Err(ModuleError::new(
                        errors::RESERVED_SYMBOL,
                        "symbols of the form X + 15 hex digits are cross-chain vouchers, \
                         created only by the interop module",
                    ));
                }
                if decimals > MAX_DECIMALS {
                    return Err(ModuleError::new(
                        errors::INVALID_DECIMALS,
                        format!("decimals must be at most {MAX_DECIMALS}"),
                    ));
                }
                positive(max_supply)?;
                if ctx.get(&asset_key(&symbol)).is_some() {
                    return Err(ModuleError::new(
                        errors::ASSET_EXISTS,
                        format!("asset {symbol} already exists"),
                    ));
                }
                let asset = Asset {
                    symbol: symbol.clone(),
                    decimals,
                    max_supply,
                    supply: 0,
                    issuer: sender,
                };
                ctx.set(asset_key(&symbol), asset.encode())?;
                Self::emit(
                    ctx,
                    BankEvent::AssetCreated {
                        symbol,
                        issuer: sender,
                        decimals,
                        max_supply,
                    },
                )
            }
            BankCall::Mint { symbol, to, amount } => {
                positive(amount)?;
                let mut asset = Self::load_asset(ctx, &symbol)?;
                if asset.issuer != sender {
                    return Err(ModuleError::new(
                        errors::NOT_ISSUER,
                        "only the asset's issuer may mint",
                    ));
                }
                let supply = asset
                    .supply
                    .checked_add(amount)
                    .filter(|s| *s <= asset.max_supply)
                    .ok_or_else(|| {
                        ModuleError::new(errors::EXCEEDS_MAX_SUPPLY, "mint exceeds max supply")
                    })?;
                let bal = Self::balance(ctx, &symbol, &to)?;
                // bal <= supply <= max_supply, so this cannot overflow once supply fitted.
                Self::set_balance(ctx, &symbol, &to, bal + amount)?;
                asset.supply = supply;
                ctx.set(asset_key(&symbol), asset.encode())?;
                Self::emit(ctx, BankEvent::Minted { symbol, to, amount })
            }
            BankCall::Transfer { symbol, to, amount } => {
                positive(amount)?;
                Self::load_asset(ctx, &symbol)?;
                let from_bal = Self::balance(ctx, &symbol, &sender)?;
                let rest = from_bal.checked_sub(amount).ok_or_else(|| {
                    ModuleError::new(
                        errors::INSUFFICIENT_BALANCE,
                        format!("balance {from_bal} is below {amount}"),
                    )
                })?;
                Self::set_balance(ctx, &symbol, &sender, rest)?;
                let to_bal = Self::balance(ctx, &symbol, &to)?;
                Self::set_balance(ctx, &symbol, &to, to_bal + amount)?;
                Self::emit(
                    ctx,
                    BankEvent::Transferred {
                        symbol,
                        from: sender,
                        to,
                        amount,
                    },
                )
            }
            BankCall::Burn { symbol, amount } => {
                positive(amount)?;
                let mut asset = Self::load_asset(ctx, &symbol)?;
                let bal = Self::balance(ctx, &symbol, &sender)?;
                let rest = bal.checked_sub(amount).ok_or_else(|| {
                    ModuleError::new(
                        errors::INSUFFICIENT_BALANCE,
                        format!("balance {bal} is below {amount}"),
                    )
                })?;
                Self::set_balance(ctx, &symbol, &sender, rest)?;
                asset.supply -= amount;
                ctx.set(asset_key(&symbol), asset.encode())?;
                Self::emit(
                    ctx,
                    BankEvent::Burned {
                        symbol,
                        from: sender,
                        amount,
                    },
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
