//! Cross-chain contract calls over `contract` channels (docs/spec/interop.md §16).
//!
//! * Source (chain A): a contract calls the `interop_send` host import; the contract module
//!   turns it into `interop.send_contract_call` *as the contract's own account*, and this
//!   module refuses any sender that is not the account of the named source contract — so no
//!   user or other contract can speak for it.
//! * Destination (chain B): the target must be on B's allowlist (`allow_contract`, a
//!   governance-approved call). The target's `execute` runs with the message, the caller being
//!   the interop module account; its return data is the success acknowledgement, any failure
//!   an error acknowledgement (and everything the target did is dropped, §9.2).
//! * Back on A: the acknowledgement or the timeout is handed to the source contract's
//!   optional `interop_ack` entry point. A failing callback is reported in an event and its
//!   writes are dropped, but never blocks the settlement of the packet.

use std::sync::Arc;

use meridian_execution::{ModuleError, TxContext};
use meridian_interop::channel::MAX_ACK_LEN;
use meridian_interop::{codes, paths, Acknowledgement, Packet};
use meridian_types::{decode_exact, Address, CodecError, Decode, Encode, Reader, Writer};

use crate::events::{emit, InteropEvent};
use crate::packets;
use crate::store::{self, err};

/// Port of the contract-call application.
pub const PORT: &str = "contract";
/// Channel version of `contract` channels.
pub const VERSION: &str = "meridian-contract-1";
/// Longest message a contract may send (the packet data stays within its 3,072-byte bound).
pub const MAX_MSG_LEN: usize = 2048;
/// Longest contract name (contracts.md §1).
pub const MAX_CONTRACT_NAME_LEN: usize = 48;
/// Fuel the target contract's `execute` gets on the destination.
pub const CALL_FUEL: u64 = 100_000_000;
/// Fuel the source contract's `interop_ack` gets on the source.
pub const ACK_FUEL: u64 = 100_000_000;
/// The contract module's name (its key space), for the nested contexts contracts run in.
const CONTRACT_MODULE: &str = "contract";

/// The sender is not the account of the source contract it names.
pub const NOT_SOURCE_CONTRACT: &str = "interop.not_source_contract";
/// The target contract is not on this chain's allowlist.
pub const CONTRACT_NOT_ALLOWED: &str = "interop.contract_not_allowed";
/// The node was built without a contract runtime.
pub const NO_CONTRACTS: &str = "interop.no_contracts";

/// How a contract call ended, as the source contract is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The target's return data.
    Success(Vec<u8>),
    /// The error acknowledgement's text.
    Error(String),
    /// The packet timed out; the target never ran.
    Timeout,
}

impl CallOutcome {
    fn tag(&self) -> u8 {
        match self {
            CallOutcome::Success(_) => 0,
            CallOutcome::Error(_) => 1,
            CallOutcome::Timeout => 2,
        }
    }
}

/// What the interop module needs of the contract module: run a contract inside a nested
/// context. Implemented by `meridian_contract::ContractModule`; the node hands the interop
/// module a (weak) handle, so neither crate depends on the other's internals and the two
/// modules do not keep each other alive.
pub trait ContractRuntime: std::marker::Send + Sync {
    /// Runs `execute` of contract `name` with `msg` and at most `fuel` fuel. `ctx` is a
    /// context of the contract module; its `sender` is the caller the contract sees. Returns
    /// the contract's return data; any failure (unknown or frozen contract, trap, the
    /// contract's own error, out of fuel) is an error, and the caller drops `ctx`.
    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<Vec<u8>, ModuleError>;

    /// Runs the `interop_ack` entry point of contract `name` (in `ctx`, as for
    /// [`execute`](Self::execute)) with the outcome of the packet `(channel, sequence)` it
    /// sent to `target` with `msg`. `Ok(false)`: the contract has no such entry point.
    #[allow(clippy::too_many_arguments)]
    fn interop_ack(
        &self,
        ctx: &mut TxContext<'_>,
        name: &str,
        channel: &str,
        sequence: u64,
        target: &str,
        msg: &[u8],
        outcome: &CallOutcome,
        fuel: u64,
    ) -> Result<bool, ModuleError>;
}

/// Packet data of the `contract` port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractPacket {
    pub source_contract: String,
    pub target_contract: String,
    pub msg: Vec<u8>,
}

impl Encode for ContractPacket {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.source_contract);
        w.str(&self.target_contract);
        w.bytes(&self.msg);
    }
}

impl Decode for ContractPacket {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let p = ContractPacket {
            source_contract: r.string(MAX_CONTRACT_NAME_LEN, "source_contract")?,
            target_contract: r.string(MAX_CONTRACT_NAME_LEN, "target_contract")?,
            msg: r.bytes(MAX_MSG_LEN, "msg")?,
        };
        if !valid_contract_name(&p.source_contract) || !valid_contract_name(&p.target_contract) {
            return Err(CodecError::Invalid("contract name"));
        }
        Ok(p)
    }
}

/// A contract name (contracts.md §1 shape: 1..=48 bytes of `[a-z0-9_]`, starting with a
/// letter).
pub fn valid_contract_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CONTRACT_NAME_LEN
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The account of contract `name` (contracts.md §1: the first 20 bytes of
/// `H("meridian/contract/" ‖ name)`).
pub fn contract_account(ctx: &TxContext<'_>, name: &str) -> Address {
    ctx.address_of(format!("meridian/contract/{name}").as_bytes())
}

/// `interop/contract/allowed/{target}`: present when `target` may be called from other chains.
pub fn allowed_key(target: &str) -> Vec<u8> {
    format!("{}/contract/allowed/{target}", paths::MODULE).into_bytes()
}

fn check_name(what: &str, name: &str) -> Result<(), ModuleError> {
    if valid_contract_name(name) {
        Ok(())
    } else {
        Err(err(
            codes::BAD_ARGS,
            format!("{what} {name:?} is not a contract name"),
        ))
    }
}

/// Governance: allow (or stop allowing) calls from other chains into `target`.
pub(crate) fn set_allowed(
    ctx: &mut TxContext<'_>,
    target: &str,
    allowed: bool,
) -> Result<(), ModuleError> {
    check_name("target", target)?;
    if allowed {
        ctx.set(allowed_key(target), vec![1])
    } else {
        ctx.delete(allowed_key(target))
    }
}

pub(crate) struct Send {
    pub channel: String,
    pub source_contract: String,
    pub target_contract: String,
    pub msg: Vec<u8>,
    pub timeout_height: u64,
    pub timeout_timestamp_ms: u64,
}

pub(crate) fn send(
    ctx: &mut TxContext<'_>,
    suite: meridian_crypto::Suite,
    s: Send,
) -> Result<Packet, ModuleError> {
    check_name("source contract", &s.source_contract)?;
    check_name("target contract", &s.target_contract)?;
    if s.msg.len() > MAX_MSG_LEN {
        return Err(err(
            codes::BAD_ARGS,
            format!("message longer than {MAX_MSG_LEN} bytes"),
        ));
    }
    if ctx.sender != contract_account(ctx, &s.source_contract) {
        return Err(err(
            NOT_SOURCE_CONTRACT,
            format!(
                "only contract {} itself sends as {0} (through the interop_send host import)",
                s.source_contract
            ),
        ));
    }
    let data = ContractPacket {
        source_contract: s.source_contract,
        target_contract: s.target_contract,
        msg: s.msg,
    };
    packets::send(
        ctx,
        suite,
        PORT,
        &s.channel,
        data.encode(),
        s.timeout_height,
        s.timeout_timestamp_ms,
    )
}

fn bounded(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

fn decode_data(packet: &Packet) -> Result<ContractPacket, ModuleError> {
    decode_exact(&packet.data).map_err(|e| err(codes::BAD_ARGS, format!("contract packet: {e}")))
}

fn runtime(m: &crate::InteropModule) -> Option<Arc<dyn ContractRuntime>> {
    m.contracts.as_ref().and_then(std::sync::Weak::upgrade)
}

/// Destination: call the allowlisted target; its return data is the acknowledgement result.
pub(crate) fn on_recv(
    ctx: &mut TxContext<'_>,
    m: &crate::InteropModule,
    packet: &Packet,
) -> Result<Vec<u8>, ModuleError> {
    let data = decode_data(packet)?;
    if ctx.get(&allowed_key(&data.target_contract)).is_none() {
        return Err(err(
            CONTRACT_NOT_ALLOWED,
            format!(
                "contract {} may not be called from other chains (governance: interop.allow_contract)",
                data.target_contract
            ),
        ));
    }
    let rt = runtime(m).ok_or_else(|| err(NO_CONTRACTS, "this chain runs no contracts"))?;
    let caller = ctx.address_of(crate::transfer::MODULE_ACCOUNT_SEED);
    let mut call = ctx.child(CONTRACT_MODULE, caller);
    let result = rt.execute(&mut call, &data.target_contract, &data.msg, CALL_FUEL)?;
    if result.len() > MAX_ACK_LEN {
        return Err(err(
            codes::BAD_ARGS,
            format!(
                "contract {} returned {} bytes; an acknowledgement carries at most {MAX_ACK_LEN}",
                data.target_contract,
                result.len()
            ),
        ));
    }
    let effects = call.into_outcome();
    ctx.absorb(effects)?;
    Ok(result)
}

/// Source: tell the sending contract how its call ended. Never fails the settlement because
/// of the contract: a failed callback is dropped and reported in the event.
pub(crate) fn notify(
    ctx: &mut TxContext<'_>,
    m: &crate::InteropModule,
    packet: &Packet,
    outcome: CallOutcome,
) -> Result<(), ModuleError> {
    let data = decode_data(packet)?;
    let (delivered, error) = match runtime(m) {
        None => (false, String::from("this chain runs no contracts")),
        Some(rt) => {
            let caller = ctx.address_of(crate::transfer::MODULE_ACCOUNT_SEED);
            let mut call = ctx.child(CONTRACT_MODULE, caller);
            let ran = rt.interop_ack(
                &mut call,
                &data.source_contract,
                &packet.source_channel,
                packet.sequence,
                &data.target_contract,
                &data.msg,
                &outcome,
                ACK_FUEL,
            );
            match ran {
                Ok(true) => {
                    let effects = call.into_outcome();
                    match ctx.absorb(effects) {
                        Ok(()) => (true, String::new()),
                        Err(e) => (false, format!("{}: {}", e.code, e.message)),
                    }
                }
                Ok(false) => (false, String::new()),
                Err(e) => (false, format!("{}: {}", e.code, e.message)),
            }
        }
    };
    emit(
        ctx,
        InteropEvent::ContractAck {
            channel: packet.source_channel.clone(),
            sequence: packet.sequence,
            contract: data.source_contract,
            outcome: outcome.tag(),
            delivered,
            error: bounded(error, MAX_ACK_LEN),
        },
    )
}

pub(crate) fn on_ack(
    ctx: &mut TxContext<'_>,
    m: &crate::InteropModule,
    packet: &Packet,
    ack: &Acknowledgement,
) -> Result<(), ModuleError> {
    let outcome = match ack {
        Acknowledgement::Success(r) => CallOutcome::Success(r.clone()),
        Acknowledgement::Error(e) => CallOutcome::Error(e.clone()),
    };
    notify(ctx, m, packet, outcome)
}

pub(crate) fn on_timeout(
    ctx: &mut TxContext<'_>,
    m: &crate::InteropModule,
    packet: &Packet,
) -> Result<(), ModuleError> {
    notify(ctx, m, packet, CallOutcome::Timeout)
}

/// Reads `interop/seq/send/contract/{channel}` - 1: the sequence of the packet just sent.
pub fn last_sent_sequence(ctx: &TxContext<'_>, channel: &str) -> Result<u64, ModuleError> {
    Ok(store::read_u64(ctx, &paths::next_sequence_send(PORT, channel))?.saturating_sub(1))
}
