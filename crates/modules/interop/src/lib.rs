//! `interop`: cross-region interoperability on chain — light clients of other Meridian chains,
//! connections, channels, packets with acknowledgements and timeouts, and token transfer
//! (the semantics of IBC's ICS-02/03/04/20; the protocol is in `docs/spec/interop.md`).
//!
//! Trust: nothing a relayer says is believed. Every counterparty fact (a connection end, a
//! packet commitment, an acknowledgement, the absence of a receipt) is checked with a state
//! proof against a header that a quorum of the counterparty's validators finalized, as tracked
//! by a light client (`meridian-interop`). A relayer can delay or withhold, never forge.
//!
//! Governance: on a chain with organisations, creating a client, substituting a frozen one,
//! starting a connection handshake (`conn_open_init`/`conn_open_try`) and setting a rate limit
//! need an approval voted by the alliance (`identity` action `ApproveCall` over the exact
//! arguments' hash), used once. A chain without organisations (development mode) has no
//! governance and does not gate them; its channels are still bound to their clients, and
//! escrow is per channel, so a rogue client can only move what was sent over its own channel.
//!
//! State lives under `interop/` (paths: [`meridian_interop::paths`]); token escrow and vouchers
//! are ordinary `bank` balances and assets.

mod calls;
mod clients;
pub mod contract_call;
pub mod events;
mod handshake;
mod packets;
pub mod relay;
pub mod sidechain;
mod store;
mod transfer;

use std::sync::Weak;

use meridian_crypto::Suite;
use meridian_execution::{Module, ModuleError, TxContext};
use meridian_interop::InteropError;

pub use calls::InteropCall;
pub use clients::proven_key;
pub use contract_call::{CallOutcome, ContractPacket, ContractRuntime};
pub use events::InteropEvent;
pub use meridian_interop::paths::MODULE as NAME;
pub use sidechain::SideData;
pub use transfer::{escrow_address, module_address, voucher_trace};

/// Ports with an application bound to them; packets to any other port are refused.
pub const PORTS: &[&str] = &[
    meridian_interop::transfer::PORT,
    contract_call::PORT,
    sidechain::PORT,
];

/// The `interop` module of a chain of suite `suite` (its hash commits packets and names
/// vouchers).
#[derive(Clone, Debug)]
pub struct InteropModule {
    suite: Suite,
    /// The contract module, for cross-chain contract calls (§16). Weak: the contract module
    /// holds this module (to send), so a strong handle both ways would never be freed.
    contracts: Option<Weak<dyn ContractRuntime>>,
}

impl InteropModule {
    /// Without contracts: packets to the `contract` port get an error acknowledgement.
    pub fn new(suite: Suite) -> Self {
        Self {
            suite,
            contracts: None,
        }
    }

    /// With the contract runtime that runs targets of cross-chain calls and delivers
    /// acknowledgements to their senders.
    pub fn with_contracts(mut self, contracts: Weak<dyn ContractRuntime>) -> Self {
        self.contracts = Some(contracts);
        self
    }
}

pub(crate) fn module_err(e: InteropError) -> ModuleError {
    ModuleError::new(e.code, e.message)
}

impl Module for InteropModule {
    fn name(&self) -> &'static str {
        NAME
    }

    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        let call = InteropCall::decode(method, args).map_err(module_err)?;
        if call.needs_approval() {
            store::use_approval(ctx, method, &call.approval_bytes())?;
        }
        self.dispatch(ctx, call)
    }
}

impl InteropModule {
    /// Runs a decoded call (whose governance approval, if it needs one, was used).
    pub(crate) fn dispatch(
        &self,
        ctx: &mut TxContext<'_>,
        call: InteropCall,
    ) -> Result<(), ModuleError> {
        let s = self.suite;
        match call {
            InteropCall::CreateClient {
                chain_id,
                suite,
                epoch_blocks,
                trusting_period_ms,
                max_clock_drift_ms,
                validators,
                header,
            } => clients::create(
                ctx,
                clients::NewClient {
                    chain_id,
                    suite,
                    epoch_blocks,
                    trusting_period_ms,
                    max_clock_drift_ms,
                    validators,
                    header,
                },
            ),
            InteropCall::UpdateClient { client_id, update } => {
                clients::update(ctx, &client_id, &update)
            }
            InteropCall::SubmitMisbehaviour {
                client_id,
                misbehaviour,
            } => clients::misbehaviour(ctx, &client_id, &misbehaviour),
            InteropCall::SubstituteClient {
                subject,
                substitute,
            } => clients::substitute(ctx, &subject, &substitute),
            InteropCall::ConnOpenInit {
                client_id,
                counterparty_client_id,
            } => handshake::conn_open_init(ctx, &client_id, &counterparty_client_id),
            InteropCall::ConnOpenTry {
                client_id,
                counterparty_client_id,
                counterparty_connection_id,
                proof_height,
                proof,
            } => handshake::conn_open_try(
                ctx,
                &client_id,
                &counterparty_client_id,
                &counterparty_connection_id,
                proof_height,
                &proof,
            ),
            InteropCall::ConnOpenAck {
                connection_id,
                counterparty_connection_id,
                proof_height,
                proof,
            } => handshake::conn_open_ack(
                ctx,
                &connection_id,
                &counterparty_connection_id,
                proof_height,
                &proof,
            ),
            InteropCall::ConnOpenConfirm {
                connection_id,
                proof_height,
                proof,
            } => handshake::conn_open_confirm(ctx, &connection_id, proof_height, &proof),
            InteropCall::ChanOpenInit {
                port,
                connection_id,
                counterparty_port,
                ordering,
                version,
            } => handshake::chan_open_init(
                ctx,
                &port,
                &connection_id,
                &counterparty_port,
                ordering,
                &version,
            ),
            InteropCall::ChanOpenTry {
                port,
                connection_id,
                counterparty_port,
                counterparty_channel,
                ordering,
                version,
                proof_height,
                proof,
            } => handshake::chan_open_try(
                ctx,
                handshake::ChanTry {
                    port: &port,
                    connection_id: &connection_id,
                    counterparty_port: &counterparty_port,
                    counterparty_channel: &counterparty_channel,
                    ordering,
                    version: &version,
                    proof_height,
                    proof: &proof,
                },
            ),
            InteropCall::ChanOpenAck {
                port,
                channel,
                counterparty_channel,
                proof_height,
                proof,
            } => handshake::chan_open_ack(
                ctx,
                &port,
                &channel,
                &counterparty_channel,
                proof_height,
                &proof,
            ),
            InteropCall::ChanOpenConfirm {
                port,
                channel,
                proof_height,
                proof,
            } => handshake::chan_open_confirm(ctx, &port, &channel, proof_height, &proof),
            InteropCall::RecvPacket {
                packet,
                proof_height,
                proof,
            } => packets::recv(ctx, self, &packet, proof_height, &proof),
            InteropCall::Acknowledge {
                packet,
                ack,
                proof_height,
                proof,
            } => packets::acknowledge(ctx, self, &packet, &ack, proof_height, &proof),
            InteropCall::Timeout {
                packet,
                proof_height,
                proof,
                next_sequence_recv,
            } => packets::timeout(ctx, self, &packet, proof_height, &proof, next_sequence_recv),
            InteropCall::Transfer {
                channel,
                symbol,
                amount,
                receiver,
                timeout_height,
                timeout_timestamp_ms,
                memo,
            } => transfer::send(
                ctx,
                s,
                transfer::Send {
                    channel,
                    symbol,
                    amount,
                    receiver,
                    timeout_height,
                    timeout_timestamp_ms,
                    memo,
                },
            ),
            InteropCall::SetRateLimit {
                channel,
                max_per_window,
                window_blocks,
            } => transfer::set_rate_limit(ctx, &channel, max_per_window, window_blocks),
            InteropCall::ProveState {
                client_id,
                height,
                key,
                value,
                proof,
            } => clients::prove_state(ctx, &client_id, height, &key, value.as_deref(), &proof),
            InteropCall::SendContractCall {
                channel,
                source_contract,
                target_contract,
                msg,
                timeout_height,
                timeout_timestamp_ms,
            } => contract_call::send(
                ctx,
                s,
                contract_call::Send {
                    channel,
                    source_contract,
                    target_contract,
                    msg,
                    timeout_height,
                    timeout_timestamp_ms,
                },
            )
            .map(|_| ()),
            InteropCall::AllowContract { target } => contract_call::set_allowed(ctx, &target, true),
            InteropCall::DisallowContract { target } => {
                contract_call::set_allowed(ctx, &target, false)
            }
            InteropCall::SendData {
                channel,
                key,
                value,
                timeout_height,
                timeout_timestamp_ms,
            } => sidechain::send(
                ctx,
                s,
                &channel,
                key,
                value,
                timeout_height,
                timeout_timestamp_ms,
            ),
            InteropCall::Relay { messages } => relay::relay(ctx, self, messages),
        }
    }
}
