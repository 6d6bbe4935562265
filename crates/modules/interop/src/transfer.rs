//! Token transfer over `transfer` channels (ICS-20 semantics) on top of the bank.
//!
//! * Source side: a native asset (or a voucher leaving over another channel) is escrowed in
//!   the channel's escrow account; a voucher going home over the channel it came in on is
//!   burned.
//! * Destination side: a returning denomination is released from escrow; anything else mints
//!   a voucher (a bank asset issued by the interop module account, symbol derived from the
//!   full trace, the trace recorded on chain).
//! * A failed acknowledgement or a timeout refunds the sender exactly once (the packet
//!   commitment is gone before the refund runs).
//! * Escrow is per channel, so no channel can release what another escrowed.

use meridian_bank::{asset_key, Asset, Bank, BankCall};
use meridian_crypto::Suite;
use meridian_execution::{ModuleError, TxContext};
use meridian_interop::transfer::{
    check_denom, hop_prefix, is_returning, voucher_symbol, TransferData, PORT,
};
use meridian_interop::{codes, paths, Packet};
use meridian_types::{decode_exact, Address, Encode, HashFn};

use crate::module_err;
use crate::packets;
use crate::store::{self, err};

pub(crate) const MODULE_ACCOUNT_SEED: &[u8] = meridian_bank::VOUCHER_ISSUER_SEED;

fn escrow_seed(port: &str, channel: &str) -> Vec<u8> {
    format!("meridian/interop/escrow/{port}/{channel}").into_bytes()
}

/// The interop module's own account: issuer of every voucher. (Derived like an address from
/// a seed no key hashes to, so no one holds its key.)
pub fn module_address(hash: &(impl HashFn + ?Sized)) -> Address {
    Address::from_public_key(hash, MODULE_ACCOUNT_SEED)
}

/// The escrow account of a transfer channel.
pub fn escrow_address(hash: &(impl HashFn + ?Sized), port: &str, channel: &str) -> Address {
    Address::from_public_key(hash, &escrow_seed(port, channel))
}

fn trace_key(symbol: &str) -> Vec<u8> {
    format!("{}/transfer/trace/{symbol}", paths::MODULE).into_bytes()
}

fn rate_limit_key(channel: &str) -> Vec<u8> {
    format!("{}/transfer/rate_limit/{channel}", paths::MODULE).into_bytes()
}

fn outflow_key(channel: &str, denom: &str, window: u64) -> Vec<u8> {
    format!(
        "{}/transfer/outflow/{channel}/{window}/{denom}",
        paths::MODULE
    )
    .into_bytes()
}

/// The trace of voucher `symbol` (None for a native asset).
pub fn voucher_trace(state: &dyn meridian_execution::StateRead, symbol: &str) -> Option<String> {
    state
        .get(&trace_key(symbol))
        .and_then(|v| String::from_utf8(v).ok())
}

fn bank(ctx: &mut TxContext<'_>, as_account: Address, call: BankCall) -> Result<(), ModuleError> {
    let call = call.into_call();
    ctx.call_module(&Bank, as_account, &call.method, &call.args)
}

/// The local bank symbol of a denomination as this chain names it (`GOLD`, or the voucher
/// symbol of a trace).
fn local_symbol(suite: Suite, denom: &str) -> String {
    if denom.contains('/') {
        voucher_symbol(suite, denom)
    } else {
        denom.to_string()
    }
}

pub(crate) struct Send {
    pub channel: String,
    pub symbol: String,
    pub amount: u128,
    pub receiver: Address,
    pub timeout_height: u64,
    pub timeout_timestamp_ms: u64,
    pub memo: String,
}

pub(crate) fn send(ctx: &mut TxContext<'_>, suite: Suite, s: Send) -> Result<(), ModuleError> {
    let raw = ctx.get(&asset_key(&s.symbol)).ok_or_else(|| {
        ModuleError::new(
            meridian_bank::errors::UNKNOWN_ASSET,
            format!("no asset {}", s.symbol),
        )
    })?;
    let asset: Asset = decode_exact(&raw).map_err(|e| err(codes::CORRUPT_STATE, e.to_string()))?;
    let denom = voucher_trace(ctx, &s.symbol).unwrap_or_else(|| s.symbol.clone());
    let data = TransferData {
        denom: denom.clone(),
        amount: s.amount,
        decimals: asset.decimals,
        sender: ctx.sender,
        receiver: s.receiver,
        memo: s.memo,
    };
    data.validate().map_err(module_err)?;
    check_rate_limit(ctx, &s.channel, &denom, s.amount)?;
    let sender = ctx.sender;
    if is_returning(&denom, PORT, &s.channel) {
        bank(
            ctx,
            sender,
            BankCall::Burn {
                symbol: s.symbol,
                amount: s.amount,
            },
        )?;
    } else {
        let escrow = ctx.address_of(&escrow_seed(PORT, &s.channel));
        bank(
            ctx,
            sender,
            BankCall::Transfer {
                symbol: s.symbol,
                to: escrow,
                amount: s.amount,
            },
        )?;
    }
    packets::send(
        ctx,
        suite,
        PORT,
        &s.channel,
        data.encode(),
        s.timeout_height,
        s.timeout_timestamp_ms,
    )?;
    Ok(())
}

fn check_rate_limit(
    ctx: &mut TxContext<'_>,
    channel: &str,
    denom: &str,
    amount: u128,
) -> Result<(), ModuleError> {
    let Some(raw) = ctx.get(&rate_limit_key(channel)) else {
        return Ok(());
    };
    if raw.len() != 24 {
        return Err(err(codes::CORRUPT_STATE, "rate limit record"));
    }
    let max = u128::from_be_bytes(raw[..16].try_into().unwrap_or([0; 16]));
    let window = u64::from_be_bytes(raw[16..].try_into().unwrap_or([0; 8])).max(1);
    let key = outflow_key(channel, denom, ctx.height / window);
    let used = ctx
        .get(&key)
        .and_then(|v| v.try_into().ok().map(u128::from_be_bytes))
        .unwrap_or(0);
    let total = used.saturating_add(amount);
    if total > max {
        return Err(err(
            codes::RATE_LIMITED,
            format!(
                "channel {channel} allows {max} of {denom} per {window} blocks; {used} already sent in this window"
            ),
        ));
    }
    ctx.set(key, total.to_be_bytes().to_vec())
}

pub(crate) fn set_rate_limit(
    ctx: &mut TxContext<'_>,
    channel: &str,
    max_per_window: u128,
    window_blocks: u64,
) -> Result<(), ModuleError> {
    store::channel(ctx, PORT, channel)?;
    if max_per_window == 0 {
        return ctx.delete(rate_limit_key(channel));
    }
    if window_blocks == 0 {
        return Err(err(codes::BAD_ARGS, "window_blocks must be at least 1"));
    }
    let mut v = max_per_window.to_be_bytes().to_vec();
    v.extend_from_slice(&window_blocks.to_be_bytes());
    ctx.set(rate_limit_key(channel), v)
}

fn decode_data(packet: &Packet) -> Result<TransferData, ModuleError> {
    let data: TransferData = decode_exact(&packet.data)
        .map_err(|e| err(codes::BAD_ARGS, format!("transfer data: {e}")))?;
    data.validate().map_err(module_err)?;
    Ok(data)
}

/// Destination: release from escrow or mint a voucher. Returns the acknowledgement result.
pub(crate) fn on_recv(
    ctx: &mut TxContext<'_>,
    suite: Suite,
    packet: &Packet,
) -> Result<Vec<u8>, ModuleError> {
    let data = decode_data(packet)?;
    if is_returning(&data.denom, &packet.source_port, &packet.source_channel) {
        let local = &data.denom[hop_prefix(&packet.source_port, &packet.source_channel).len()..];
        let escrow = ctx.address_of(&escrow_seed(&packet.dest_port, &packet.dest_channel));
        bank(
            ctx,
            escrow,
            BankCall::Transfer {
                symbol: local_symbol(suite, local),
                to: data.receiver,
                amount: data.amount,
            },
        )?;
    } else {
        let trace = format!(
            "{}{}",
            hop_prefix(&packet.dest_port, &packet.dest_channel),
            data.denom
        );
        check_denom(&trace).map_err(module_err)?;
        let symbol = voucher_symbol(suite, &trace);
        let issuer = ctx.address_of(MODULE_ACCOUNT_SEED);
        match voucher_trace(ctx, &symbol) {
            Some(known) if known == trace => {}
            Some(known) => {
                return Err(err(
                    codes::BAD_DENOM,
                    format!("voucher symbol {symbol} already names {known}"),
                ))
            }
            None => {
                if ctx.get(&asset_key(&symbol)).is_some() {
                    return Err(err(
                        codes::BAD_DENOM,
                        format!("asset {symbol} exists and is not a voucher"),
                    ));
                }
                bank(
                    ctx,
                    issuer,
                    BankCall::CreateAsset {
                        symbol: symbol.clone(),
                        decimals: data.decimals.min(meridian_bank::MAX_DECIMALS),
                        max_supply: u128::MAX,
                    },
                )?;
                ctx.set(trace_key(&symbol), trace.into_bytes())?;
            }
        }
        bank(
            ctx,
            issuer,
            BankCall::Mint {
                symbol,
                to: data.receiver,
                amount: data.amount,
            },
        )?;
    }
    Ok(vec![1])
}

/// Source, after an error acknowledgement or a timeout: undo the send for the sender.
pub(crate) fn refund(
    ctx: &mut TxContext<'_>,
    suite: Suite,
    packet: &Packet,
) -> Result<(), ModuleError> {
    let data = decode_data(packet)?;
    let symbol = local_symbol(suite, &data.denom);
    if is_returning(&data.denom, &packet.source_port, &packet.source_channel) {
        // It was burned on the way out: mint it back.
        let issuer = ctx.address_of(MODULE_ACCOUNT_SEED);
        bank(
            ctx,
            issuer,
            BankCall::Mint {
                symbol,
                to: data.sender,
                amount: data.amount,
            },
        )
    } else {
        let escrow = ctx.address_of(&escrow_seed(&packet.source_port, &packet.source_channel));
        bank(
            ctx,
            escrow,
            BankCall::Transfer {
                symbol,
                to: data.sender,
                amount: data.amount,
            },
        )
    }
}
