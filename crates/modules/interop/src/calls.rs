//! The module's calls and their canonical argument encoding.

use meridian_crypto::Suite;

use crate::contract_call::{MAX_CONTRACT_NAME_LEN, MAX_MSG_LEN as MAX_CONTRACT_MSG_LEN};
use crate::sidechain::{MAX_KEY_LEN as MAX_SIDE_KEY_LEN, MAX_VALUE_LEN as MAX_SIDE_VALUE_LEN};
use meridian_interop::client::MAX_VALIDATOR_SET_LEN;
use meridian_interop::paths::MAX_ID_LEN;
use meridian_interop::proof::{
    MAX_PROOF_KEY_LEN, MAX_PROOF_VALUE_LEN, MAX_STATE_PROOF_LEN as MAX_PROOF_LEN,
};
use meridian_interop::transfer::{MAX_DENOM_LEN, MAX_MEMO_LEN};
use meridian_interop::{
    channel::{decode_ordering, MAX_VERSION_LEN},
    codes, Acknowledgement, HeaderUpdate, InteropError, Misbehaviour, Ordering, Packet,
    SignedHeader,
};
use meridian_types::{
    Address, Call, ChainId, CodecError, Decode, Encode, Reader, Writer, MAX_VALIDATORS,
};

/// A call to the `interop` module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InteropCall {
    /// Governance-approved: a light client of `chain_id` trusting `validators` (the set of
    /// `header`'s epoch) from `header` on.
    CreateClient {
        chain_id: ChainId,
        suite: Suite,
        epoch_blocks: u64,
        trusting_period_ms: u64,
        max_clock_drift_ms: u64,
        validators: Vec<Vec<u8>>,
        header: SignedHeader,
    },
    UpdateClient {
        client_id: String,
        update: HeaderUpdate,
    },
    SubmitMisbehaviour {
        client_id: String,
        misbehaviour: Misbehaviour,
    },
    /// Governance-approved: replace a frozen or expired client's state by an active client of
    /// the same chain.
    SubstituteClient { subject: String, substitute: String },
    /// Governance-approved.
    ConnOpenInit {
        client_id: String,
        counterparty_client_id: String,
    },
    /// Governance-approved.
    ConnOpenTry {
        client_id: String,
        counterparty_client_id: String,
        counterparty_connection_id: String,
        proof_height: u64,
        proof: Vec<u8>,
    },
    ConnOpenAck {
        connection_id: String,
        counterparty_connection_id: String,
        proof_height: u64,
        proof: Vec<u8>,
    },
    ConnOpenConfirm {
        connection_id: String,
        proof_height: u64,
        proof: Vec<u8>,
    },
    ChanOpenInit {
        port: String,
        connection_id: String,
        counterparty_port: String,
        ordering: Ordering,
        version: String,
    },
    ChanOpenTry {
        port: String,
        connection_id: String,
        counterparty_port: String,
        counterparty_channel: String,
        ordering: Ordering,
        version: String,
        proof_height: u64,
        proof: Vec<u8>,
    },
    ChanOpenAck {
        port: String,
        channel: String,
        counterparty_channel: String,
        proof_height: u64,
        proof: Vec<u8>,
    },
    ChanOpenConfirm {
        port: String,
        channel: String,
        proof_height: u64,
        proof: Vec<u8>,
    },
    RecvPacket {
        packet: Packet,
        proof_height: u64,
        proof: Vec<u8>,
    },
    Acknowledge {
        packet: Packet,
        ack: Acknowledgement,
        proof_height: u64,
        proof: Vec<u8>,
    },
    /// `next_sequence_recv` is the destination's next expected sequence (ordered channels;
    /// ignored on unordered ones, whose proof is of the receipt's absence).
    Timeout {
        packet: Packet,
        proof_height: u64,
        proof: Vec<u8>,
        next_sequence_recv: u64,
    },
    /// Sends `amount` of bank asset `symbol` (native, or a voucher) over transfer channel
    /// `channel` to `receiver` on the counterparty.
    Transfer {
        channel: String,
        symbol: String,
        amount: u128,
        receiver: Address,
        timeout_height: u64,
        timeout_timestamp_ms: u64,
        memo: String,
    },
    /// Records on this chain a verified fact about the counterparty's state: at `height` (a
    /// header client `client_id` verified), `key` held `value` (`None`: was absent). Anyone
    /// may submit it; the proof decides. ("Is this document notarised in region A?")
    ProveState {
        client_id: String,
        height: u64,
        key: Vec<u8>,
        value: Option<Vec<u8>>,
        proof: Vec<u8>,
    },
    /// Governance-approved: at most `max_per_window` units of any one denomination leave over
    /// `channel` per `window_blocks` blocks (`0` removes the limit).
    SetRateLimit {
        channel: String,
        max_per_window: u128,
        window_blocks: u64,
    },
    /// Sends `msg` from contract `source_contract` to contract `target_contract` on the
    /// counterparty of `contract` channel `channel`. Only the source contract's own account
    /// may send it (contracts reach it through the `interop_send` host import).
    SendContractCall {
        channel: String,
        source_contract: String,
        target_contract: String,
        msg: Vec<u8>,
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    },
    /// Governance-approved: contracts of other chains may call `target` here.
    AllowContract { target: String },
    /// Governance-approved: they may no longer.
    DisallowContract { target: String },
    /// Side chain: sends the record `key ↦ value` over ordered `sidechain` channel `channel`.
    SendData {
        channel: String,
        key: Vec<u8>,
        value: Vec<u8>,
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    },
    /// Relayer traffic in one transaction: client updates, receives, acknowledgements and
    /// timeouts, executed in order, each on its own (one refused message drops only its own
    /// writes). Only those four methods may be carried. See [`crate::relay`].
    Relay { messages: Vec<InteropCall> },
}

impl InteropCall {
    pub fn method(&self) -> &'static str {
        match self {
            InteropCall::CreateClient { .. } => "create_client",
            InteropCall::UpdateClient { .. } => "update_client",
            InteropCall::SubmitMisbehaviour { .. } => "submit_misbehaviour",
            InteropCall::SubstituteClient { .. } => "substitute_client",
            InteropCall::ConnOpenInit { .. } => "conn_open_init",
            InteropCall::ConnOpenTry { .. } => "conn_open_try",
            InteropCall::ConnOpenAck { .. } => "conn_open_ack",
            InteropCall::ConnOpenConfirm { .. } => "conn_open_confirm",
            InteropCall::ChanOpenInit { .. } => "chan_open_init",
            InteropCall::ChanOpenTry { .. } => "chan_open_try",
            InteropCall::ChanOpenAck { .. } => "chan_open_ack",
            InteropCall::ChanOpenConfirm { .. } => "chan_open_confirm",
            InteropCall::RecvPacket { .. } => "recv_packet",
            InteropCall::Acknowledge { .. } => "acknowledge",
            InteropCall::Timeout { .. } => "timeout",
            InteropCall::Transfer { .. } => "transfer",
            InteropCall::SetRateLimit { .. } => "set_rate_limit",
            InteropCall::ProveState { .. } => "prove_state",
            InteropCall::SendContractCall { .. } => "send_contract_call",
            InteropCall::AllowContract { .. } => "allow_contract",
            InteropCall::DisallowContract { .. } => "disallow_contract",
            InteropCall::SendData { .. } => "send_data",
            InteropCall::Relay { .. } => "relay",
        }
    }

    /// Whether the call needs a governance approval on a chain with organisations.
    pub fn needs_approval(&self) -> bool {
        matches!(
            self,
            InteropCall::CreateClient { .. }
                | InteropCall::SubstituteClient { .. }
                | InteropCall::ConnOpenInit { .. }
                | InteropCall::ConnOpenTry { .. }
                | InteropCall::SetRateLimit { .. }
                | InteropCall::AllowContract { .. }
                | InteropCall::DisallowContract { .. }
        )
    }

    /// What a governance approval of this call hashes: the canonical arguments, except for
    /// `conn_open_try`, whose proof changes with every relay — there governance approves the
    /// identifiers (`client_id`, `counterparty_client_id`, `counterparty_connection_id`).
    pub fn approval_bytes(&self) -> Vec<u8> {
        match self {
            InteropCall::ConnOpenTry {
                client_id,
                counterparty_client_id,
                counterparty_connection_id,
                ..
            } => {
                let mut w = Writer::new();
                w.str(client_id);
                w.str(counterparty_client_id);
                w.str(counterparty_connection_id);
                w.into_bytes()
            }
            other => other.args(),
        }
    }

    /// The canonical argument bytes.
    pub fn args(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            InteropCall::CreateClient {
                chain_id,
                suite,
                epoch_blocks,
                trusting_period_ms,
                max_clock_drift_ms,
                validators,
                header,
            } => {
                chain_id.encode_to(&mut w);
                w.str(suite.as_str());
                w.u64(*epoch_blocks);
                w.u64(*trusting_period_ms);
                w.u64(*max_clock_drift_ms);
                w.len(validators.len());
                for v in validators {
                    w.bytes(v);
                }
                header.encode_to(&mut w);
            }
            InteropCall::UpdateClient { client_id, update } => {
                w.str(client_id);
                update.encode_to(&mut w);
            }
            InteropCall::SubmitMisbehaviour {
                client_id,
                misbehaviour,
            } => {
                w.str(client_id);
                misbehaviour.encode_to(&mut w);
            }
            InteropCall::SubstituteClient {
                subject,
                substitute,
            } => {
                w.str(subject);
                w.str(substitute);
            }
            InteropCall::ConnOpenInit {
                client_id,
                counterparty_client_id,
            } => {
                w.str(client_id);
                w.str(counterparty_client_id);
            }
            InteropCall::ConnOpenTry {
                client_id,
                counterparty_client_id,
                counterparty_connection_id,
                proof_height,
                proof,
            } => {
                w.str(client_id);
                w.str(counterparty_client_id);
                w.str(counterparty_connection_id);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::ConnOpenAck {
                connection_id,
                counterparty_connection_id,
                proof_height,
                proof,
            } => {
                w.str(connection_id);
                w.str(counterparty_connection_id);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::ConnOpenConfirm {
                connection_id,
                proof_height,
                proof,
            } => {
                w.str(connection_id);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::ChanOpenInit {
                port,
                connection_id,
                counterparty_port,
                ordering,
                version,
            } => {
                w.str(port);
                w.str(connection_id);
                w.str(counterparty_port);
                w.u8(*ordering as u8);
                w.str(version);
            }
            InteropCall::ChanOpenTry {
                port,
                connection_id,
                counterparty_port,
                counterparty_channel,
                ordering,
                version,
                proof_height,
                proof,
            } => {
                w.str(port);
                w.str(connection_id);
                w.str(counterparty_port);
                w.str(counterparty_channel);
                w.u8(*ordering as u8);
                w.str(version);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::ChanOpenAck {
                port,
                channel,
                counterparty_channel,
                proof_height,
                proof,
            } => {
                w.str(port);
                w.str(channel);
                w.str(counterparty_channel);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::ChanOpenConfirm {
                port,
                channel,
                proof_height,
                proof,
            } => {
                w.str(port);
                w.str(channel);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::RecvPacket {
                packet,
                proof_height,
                proof,
            } => {
                packet.encode_to(&mut w);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::Acknowledge {
                packet,
                ack,
                proof_height,
                proof,
            } => {
                packet.encode_to(&mut w);
                ack.encode_to(&mut w);
                w.u64(*proof_height);
                w.bytes(proof);
            }
            InteropCall::Timeout {
                packet,
                proof_height,
                proof,
                next_sequence_recv,
            } => {
                packet.encode_to(&mut w);
                w.u64(*proof_height);
                w.bytes(proof);
                w.u64(*next_sequence_recv);
            }
            InteropCall::Transfer {
                channel,
                symbol,
                amount,
                receiver,
                timeout_height,
                timeout_timestamp_ms,
                memo,
            } => {
                w.str(channel);
                w.str(symbol);
                w.u128(*amount);
                receiver.encode_to(&mut w);
                w.u64(*timeout_height);
                w.u64(*timeout_timestamp_ms);
                w.str(memo);
            }
            InteropCall::SetRateLimit {
                channel,
                max_per_window,
                window_blocks,
            } => {
                w.str(channel);
                w.u128(*max_per_window);
                w.u64(*window_blocks);
            }
            InteropCall::ProveState {
                client_id,
                height,
                key,
                value,
                proof,
            } => {
                w.str(client_id);
                w.u64(*height);
                w.bytes(key);
                match value {
                    None => w.u8(0),
                    Some(v) => {
                        w.u8(1);
                        w.bytes(v);
                    }
                }
                w.bytes(proof);
            }
            InteropCall::SendContractCall {
                channel,
                source_contract,
                target_contract,
                msg,
                timeout_height,
                timeout_timestamp_ms,
            } => {
                w.str(channel);
                w.str(source_contract);
                w.str(target_contract);
                w.bytes(msg);
                w.u64(*timeout_height);
                w.u64(*timeout_timestamp_ms);
            }
            InteropCall::AllowContract { target } | InteropCall::DisallowContract { target } => {
                w.str(target);
            }
            InteropCall::SendData {
                channel,
                key,
                value,
                timeout_height,
                timeout_timestamp_ms,
            } => {
                w.str(channel);
                w.bytes(key);
                w.bytes(value);
                w.u64(*timeout_height);
                w.u64(*timeout_timestamp_ms);
            }
            InteropCall::Relay { messages } => {
                w.len(messages.len());
                for m in messages {
                    w.str(m.method());
                    w.bytes(&m.args());
                }
            }
        }
        w.into_bytes()
    }

    /// Wraps the call for a transaction body.
    pub fn into_call(self) -> Call {
        Call {
            module: crate::NAME.into(),
            method: self.method().into(),
            args: self.args(),
        }
    }

    /// Decodes hostile arguments for `method` (bounded, whole input consumed).
    pub fn decode(method: &str, args: &[u8]) -> Result<Self, InteropError> {
        if method == "relay" {
            return crate::relay::decode(args);
        }
        let mut r = Reader::new(args);
        let id = |r: &mut Reader<'_>, what: &'static str| r.string(MAX_ID_LEN, what);
        let proof = |r: &mut Reader<'_>| r.bytes(MAX_PROOF_LEN, "proof");
        let call = (|| -> Result<Self, CodecError> {
            Ok(match method {
                "create_client" => {
                    let chain_id = ChainId::decode_from(&mut r)?;
                    let suite = r
                        .string(8, "suite")?
                        .parse()
                        .map_err(|_| CodecError::Invalid("suite"))?;
                    let epoch_blocks = r.u64("epoch_blocks")?;
                    let trusting_period_ms = r.u64("trusting_period_ms")?;
                    let max_clock_drift_ms = r.u64("max_clock_drift_ms")?;
                    let n = r.len(MAX_VALIDATORS, "validators")?;
                    let mut validators = Vec::with_capacity(n);
                    for _ in 0..n {
                        validators.push(r.bytes(65, "validator")?);
                    }
                    let header = SignedHeader::decode_from(&mut r)?;
                    InteropCall::CreateClient {
                        chain_id,
                        suite,
                        epoch_blocks,
                        trusting_period_ms,
                        max_clock_drift_ms,
                        validators,
                        header,
                    }
                }
                "update_client" => InteropCall::UpdateClient {
                    client_id: id(&mut r, "client_id")?,
                    update: HeaderUpdate::decode_from(&mut r)?,
                },
                "submit_misbehaviour" => InteropCall::SubmitMisbehaviour {
                    client_id: id(&mut r, "client_id")?,
                    misbehaviour: Misbehaviour::decode_from(&mut r)?,
                },
                "substitute_client" => InteropCall::SubstituteClient {
                    subject: id(&mut r, "subject")?,
                    substitute: id(&mut r, "substitute")?,
                },
                "conn_open_init" => InteropCall::ConnOpenInit {
                    client_id: id(&mut r, "client_id")?,
                    counterparty_client_id: id(&mut r, "counterparty_client_id")?,
                },
                "conn_open_try" => InteropCall::ConnOpenTry {
                    client_id: id(&mut r, "client_id")?,
                    counterparty_client_id: id(&mut r, "counterparty_client_id")?,
                    counterparty_connection_id: id(&mut r, "counterparty_connection_id")?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "conn_open_ack" => InteropCall::ConnOpenAck {
                    connection_id: id(&mut r, "connection_id")?,
                    counterparty_connection_id: id(&mut r, "counterparty_connection_id")?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "conn_open_confirm" => InteropCall::ConnOpenConfirm {
                    connection_id: id(&mut r, "connection_id")?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "chan_open_init" => InteropCall::ChanOpenInit {
                    port: id(&mut r, "port")?,
                    connection_id: id(&mut r, "connection_id")?,
                    counterparty_port: id(&mut r, "counterparty_port")?,
                    ordering: decode_ordering(&mut r)?,
                    version: r.string(MAX_VERSION_LEN, "version")?,
                },
                "chan_open_try" => InteropCall::ChanOpenTry {
                    port: id(&mut r, "port")?,
                    connection_id: id(&mut r, "connection_id")?,
                    counterparty_port: id(&mut r, "counterparty_port")?,
                    counterparty_channel: id(&mut r, "counterparty_channel")?,
                    ordering: decode_ordering(&mut r)?,
                    version: r.string(MAX_VERSION_LEN, "version")?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "chan_open_ack" => InteropCall::ChanOpenAck {
                    port: id(&mut r, "port")?,
                    channel: id(&mut r, "channel")?,
                    counterparty_channel: id(&mut r, "counterparty_channel")?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "chan_open_confirm" => InteropCall::ChanOpenConfirm {
                    port: id(&mut r, "port")?,
                    channel: id(&mut r, "channel")?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "recv_packet" => InteropCall::RecvPacket {
                    packet: Packet::decode_from(&mut r)?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "acknowledge" => InteropCall::Acknowledge {
                    packet: Packet::decode_from(&mut r)?,
                    ack: Acknowledgement::decode_from(&mut r)?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                },
                "timeout" => InteropCall::Timeout {
                    packet: Packet::decode_from(&mut r)?,
                    proof_height: r.u64("proof_height")?,
                    proof: proof(&mut r)?,
                    next_sequence_recv: r.u64("next_sequence_recv")?,
                },
                "transfer" => InteropCall::Transfer {
                    channel: id(&mut r, "channel")?,
                    symbol: r.string(MAX_DENOM_LEN, "symbol")?,
                    amount: r.u128("amount")?,
                    receiver: Address::decode_from(&mut r)?,
                    timeout_height: r.u64("timeout_height")?,
                    timeout_timestamp_ms: r.u64("timeout_timestamp_ms")?,
                    memo: r.string(MAX_MEMO_LEN, "memo")?,
                },
                "set_rate_limit" => InteropCall::SetRateLimit {
                    channel: id(&mut r, "channel")?,
                    max_per_window: r.u128("max_per_window")?,
                    window_blocks: r.u64("window_blocks")?,
                },
                "prove_state" => InteropCall::ProveState {
                    client_id: id(&mut r, "client_id")?,
                    height: r.u64("height")?,
                    key: r.bytes(MAX_PROOF_KEY_LEN, "key")?,
                    value: match r.u8("value.present")? {
                        0 => None,
                        1 => Some(r.bytes(MAX_PROOF_VALUE_LEN, "value")?),
                        _ => return Err(CodecError::Invalid("value.present")),
                    },
                    proof: proof(&mut r)?,
                },
                "send_contract_call" => InteropCall::SendContractCall {
                    channel: id(&mut r, "channel")?,
                    source_contract: r.string(MAX_CONTRACT_NAME_LEN, "source_contract")?,
                    target_contract: r.string(MAX_CONTRACT_NAME_LEN, "target_contract")?,
                    msg: r.bytes(MAX_CONTRACT_MSG_LEN, "msg")?,
                    timeout_height: r.u64("timeout_height")?,
                    timeout_timestamp_ms: r.u64("timeout_timestamp_ms")?,
                },
                "allow_contract" => InteropCall::AllowContract {
                    target: r.string(MAX_CONTRACT_NAME_LEN, "target")?,
                },
                "disallow_contract" => InteropCall::DisallowContract {
                    target: r.string(MAX_CONTRACT_NAME_LEN, "target")?,
                },
                "send_data" => InteropCall::SendData {
                    channel: id(&mut r, "channel")?,
                    key: r.bytes(MAX_SIDE_KEY_LEN, "key")?,
                    value: r.bytes(MAX_SIDE_VALUE_LEN, "value")?,
                    timeout_height: r.u64("timeout_height")?,
                    timeout_timestamp_ms: r.u64("timeout_timestamp_ms")?,
                },
                _ => return Err(CodecError::Invalid("method")),
            })
        })();
        let call = match call {
            Err(CodecError::Invalid("method")) => {
                return Err(InteropError::new(
                    meridian_execution::codes::UNKNOWN_METHOD,
                    format!("interop has no method {method:?}"),
                ))
            }
            other => other?,
        };
        r.finish()?;
        // Set transitions are bounded again where they are decoded; this keeps hostile sizes
        // from reaching the verifier at all.
        if let InteropCall::UpdateClient { update, .. } = &call {
            if update
                .next_validators
                .as_ref()
                .is_some_and(|p| p.validators.len() > MAX_VALIDATOR_SET_LEN)
            {
                return Err(InteropError::new(codes::BAD_ARGS, "validator set too long"));
            }
        }
        Ok(call)
    }
}
