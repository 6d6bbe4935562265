//! Events the module emits (the relayer follows `send_packet` and `write_ack`; explorers and
//! the CLI show the rest). Data is the canonical encoding of each variant's fields.

use meridian_interop::paths::MAX_ID_LEN;
use meridian_interop::{Acknowledgement, Packet};
use meridian_types::{decode_exact, ChainId, CodecError, Decode, Encode, Reader, Writer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InteropEvent {
    ClientCreated {
        client_id: String,
        chain_id: ChainId,
        height: u64,
    },
    ClientUpdated {
        client_id: String,
        height: u64,
    },
    ClientFrozen {
        client_id: String,
        height: u64,
        reason: String,
    },
    ClientSubstituted {
        subject: String,
        substitute: String,
    },
    /// Any connection handshake step; `state` is the new state of `connection_id`.
    Connection {
        connection_id: String,
        state: u8,
        client_id: String,
        counterparty_client_id: String,
        counterparty_connection_id: String,
    },
    /// Any channel handshake step (or closing); `state` is the channel's new state.
    Channel {
        port: String,
        channel: String,
        state: u8,
        connection_id: String,
        counterparty_port: String,
        counterparty_channel: String,
    },
    SendPacket(Packet),
    RecvPacket(Packet),
    /// The destination wrote `ack` for packet `sequence` received on `(port, channel)`.
    WriteAck {
        port: String,
        channel: String,
        sequence: u64,
        ack: Acknowledgement,
    },
    AcknowledgePacket {
        port: String,
        channel: String,
        sequence: u64,
        success: bool,
    },
    TimeoutPacket {
        port: String,
        channel: String,
        sequence: u64,
    },
    /// A counterparty state fact was proven and recorded (`value_hash` = suite hash of the
    /// value; all zeros when `present` is false).
    StateProven {
        client_id: String,
        chain_id: ChainId,
        height: u64,
        key: Vec<u8>,
        present: bool,
        value_hash: [u8; 32],
    },
    /// A contract call sent on `contract/{channel}` was settled (`outcome`: 0 success ack,
    /// 1 error ack, 2 timeout) and the source contract's `interop_ack` entry point ran
    /// (`delivered`), was not exported (`!delivered`, empty `error`) or failed (`error`; its
    /// writes were dropped).
    ContractAck {
        channel: String,
        sequence: u64,
        contract: String,
        outcome: u8,
        delivered: bool,
        error: String,
    },
    /// A side-chain data record arrived on `sidechain/{channel}` and was stored at
    /// `interop/sidechain/{channel}/{sequence}` (`value_hash` = this chain's hash of the value).
    SideData {
        channel: String,
        sequence: u64,
        sender: meridian_types::Address,
        key: Vec<u8>,
        value_hash: [u8; 32],
    },
    /// A `relay` transaction ran: each message's outcome in order (`ok`, or the code it was
    /// refused with — e.g. `interop.already_received` when another relayer was first).
    Relayed {
        outcomes: Vec<String>,
    },
}

/// Every kind, as [`InteropEvent::kind`] names it.
pub const EVENT_KINDS: [&str; 15] = [
    "client_created",
    "client_updated",
    "client_frozen",
    "client_substituted",
    "connection",
    "channel",
    "send_packet",
    "recv_packet",
    "write_ack",
    "acknowledge_packet",
    "timeout_packet",
    "state_proven",
    "contract_ack",
    "side_data",
    "relayed",
];

impl InteropEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            InteropEvent::ClientCreated { .. } => "client_created",
            InteropEvent::ClientUpdated { .. } => "client_updated",
            InteropEvent::ClientFrozen { .. } => "client_frozen",
            InteropEvent::ClientSubstituted { .. } => "client_substituted",
            InteropEvent::Connection { .. } => "connection",
            InteropEvent::Channel { .. } => "channel",
            InteropEvent::SendPacket(_) => "send_packet",
            InteropEvent::RecvPacket(_) => "recv_packet",
            InteropEvent::WriteAck { .. } => "write_ack",
            InteropEvent::AcknowledgePacket { .. } => "acknowledge_packet",
            InteropEvent::TimeoutPacket { .. } => "timeout_packet",
            InteropEvent::StateProven { .. } => "state_proven",
            InteropEvent::ContractAck { .. } => "contract_ack",
            InteropEvent::SideData { .. } => "side_data",
            InteropEvent::Relayed { .. } => "relayed",
        }
    }

    /// Decodes an event of this module from its kind and data.
    pub fn decode(kind: &str, data: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(data);
        let id = |r: &mut Reader<'_>, w: &'static str| r.string(MAX_ID_LEN, w);
        let ev = match kind {
            "client_created" => InteropEvent::ClientCreated {
                client_id: id(&mut r, "client_id")?,
                chain_id: ChainId::decode_from(&mut r)?,
                height: r.u64("height")?,
            },
            "client_updated" => InteropEvent::ClientUpdated {
                client_id: id(&mut r, "client_id")?,
                height: r.u64("height")?,
            },
            "client_frozen" => InteropEvent::ClientFrozen {
                client_id: id(&mut r, "client_id")?,
                height: r.u64("height")?,
                reason: r.string(512, "reason")?,
            },
            "client_substituted" => InteropEvent::ClientSubstituted {
                subject: id(&mut r, "subject")?,
                substitute: id(&mut r, "substitute")?,
            },
            "connection" => InteropEvent::Connection {
                connection_id: id(&mut r, "connection_id")?,
                state: r.u8("state")?,
                client_id: id(&mut r, "client_id")?,
                counterparty_client_id: id(&mut r, "counterparty_client_id")?,
                counterparty_connection_id: id(&mut r, "counterparty_connection_id")?,
            },
            "channel" => InteropEvent::Channel {
                port: id(&mut r, "port")?,
                channel: id(&mut r, "channel")?,
                state: r.u8("state")?,
                connection_id: id(&mut r, "connection_id")?,
                counterparty_port: id(&mut r, "counterparty_port")?,
                counterparty_channel: id(&mut r, "counterparty_channel")?,
            },
            "send_packet" => InteropEvent::SendPacket(decode_exact(data)?),
            "recv_packet" => InteropEvent::RecvPacket(decode_exact(data)?),
            "write_ack" => InteropEvent::WriteAck {
                port: id(&mut r, "port")?,
                channel: id(&mut r, "channel")?,
                sequence: r.u64("sequence")?,
                ack: Acknowledgement::decode_from(&mut r)?,
            },
            "acknowledge_packet" => InteropEvent::AcknowledgePacket {
                port: id(&mut r, "port")?,
                channel: id(&mut r, "channel")?,
                sequence: r.u64("sequence")?,
                success: r.bool("success")?,
            },
            "timeout_packet" => InteropEvent::TimeoutPacket {
                port: id(&mut r, "port")?,
                channel: id(&mut r, "channel")?,
                sequence: r.u64("sequence")?,
            },
            "state_proven" => InteropEvent::StateProven {
                client_id: id(&mut r, "client_id")?,
                chain_id: ChainId::decode_from(&mut r)?,
                height: r.u64("height")?,
                key: r.bytes(meridian_interop::proof::MAX_PROOF_KEY_LEN, "key")?,
                present: r.bool("present")?,
                value_hash: r.array("value_hash")?,
            },
            "contract_ack" => InteropEvent::ContractAck {
                channel: id(&mut r, "channel")?,
                sequence: r.u64("sequence")?,
                contract: r.string(crate::contract_call::MAX_CONTRACT_NAME_LEN, "contract")?,
                outcome: r.u8("outcome")?,
                delivered: r.bool("delivered")?,
                error: r.string(meridian_interop::channel::MAX_ACK_LEN, "error")?,
            },
            "side_data" => InteropEvent::SideData {
                channel: id(&mut r, "channel")?,
                sequence: r.u64("sequence")?,
                sender: meridian_types::Address::decode_from(&mut r)?,
                key: r.bytes(crate::sidechain::MAX_KEY_LEN, "key")?,
                value_hash: r.array("value_hash")?,
            },
            "relayed" => {
                let n = r.len(crate::relay::MAX_RELAY_MESSAGES, "outcomes")?;
                let mut outcomes = Vec::with_capacity(n);
                for _ in 0..n {
                    outcomes.push(r.string(crate::relay::MAX_OUTCOME_CODE_LEN, "outcome")?);
                }
                InteropEvent::Relayed { outcomes }
            }
            _ => return Err(CodecError::Invalid("event kind")),
        };
        if !matches!(
            ev,
            InteropEvent::SendPacket(_) | InteropEvent::RecvPacket(_)
        ) {
            r.finish()?;
        }
        Ok(ev)
    }
}

impl Encode for InteropEvent {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            InteropEvent::ClientCreated {
                client_id,
                chain_id,
                height,
            } => {
                w.str(client_id);
                chain_id.encode_to(w);
                w.u64(*height);
            }
            InteropEvent::ClientUpdated { client_id, height } => {
                w.str(client_id);
                w.u64(*height);
            }
            InteropEvent::ClientFrozen {
                client_id,
                height,
                reason,
            } => {
                w.str(client_id);
                w.u64(*height);
                w.str(reason);
            }
            InteropEvent::ClientSubstituted {
                subject,
                substitute,
            } => {
                w.str(subject);
                w.str(substitute);
            }
            InteropEvent::Connection {
                connection_id,
                state,
                client_id,
                counterparty_client_id,
                counterparty_connection_id,
            } => {
                w.str(connection_id);
                w.u8(*state);
                w.str(client_id);
                w.str(counterparty_client_id);
                w.str(counterparty_connection_id);
            }
            InteropEvent::Channel {
                port,
                channel,
                state,
                connection_id,
                counterparty_port,
                counterparty_channel,
            } => {
                w.str(port);
                w.str(channel);
                w.u8(*state);
                w.str(connection_id);
                w.str(counterparty_port);
                w.str(counterparty_channel);
            }
            InteropEvent::SendPacket(p) | InteropEvent::RecvPacket(p) => p.encode_to(w),
            InteropEvent::WriteAck {
                port,
                channel,
                sequence,
                ack,
            } => {
                w.str(port);
                w.str(channel);
                w.u64(*sequence);
                ack.encode_to(w);
            }
            InteropEvent::AcknowledgePacket {
                port,
                channel,
                sequence,
                success,
            } => {
                w.str(port);
                w.str(channel);
                w.u64(*sequence);
                w.bool(*success);
            }
            InteropEvent::TimeoutPacket {
                port,
                channel,
                sequence,
            } => {
                w.str(port);
                w.str(channel);
                w.u64(*sequence);
            }
            InteropEvent::StateProven {
                client_id,
                chain_id,
                height,
                key,
                present,
                value_hash,
            } => {
                w.str(client_id);
                chain_id.encode_to(w);
                w.u64(*height);
                w.bytes(key);
                w.bool(*present);
                w.fixed(value_hash);
            }
            InteropEvent::ContractAck {
                channel,
                sequence,
                contract,
                outcome,
                delivered,
                error,
            } => {
                w.str(channel);
                w.u64(*sequence);
                w.str(contract);
                w.u8(*outcome);
                w.bool(*delivered);
                w.str(error);
            }
            InteropEvent::SideData {
                channel,
                sequence,
                sender,
                key,
                value_hash,
            } => {
                w.str(channel);
                w.u64(*sequence);
                sender.encode_to(w);
                w.bytes(key);
                w.fixed(value_hash);
            }
            InteropEvent::Relayed { outcomes } => {
                w.len(outcomes.len());
                for o in outcomes {
                    w.str(o);
                }
            }
        }
    }
}

pub(crate) fn emit(
    ctx: &mut meridian_execution::TxContext<'_>,
    ev: InteropEvent,
) -> Result<(), meridian_execution::ModuleError> {
    ctx.emit(ev.kind(), ev.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let p = Packet {
            sequence: 1,
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            dest_port: "transfer".into(),
            dest_channel: "channel-1".into(),
            data: vec![1, 2],
            timeout_height: 5,
            timeout_timestamp_ms: 0,
        };
        let all = vec![
            InteropEvent::ClientCreated {
                client_id: "client-0".into(),
                chain_id: ChainId::new("region-b").unwrap(),
                height: 3,
            },
            InteropEvent::ClientUpdated {
                client_id: "client-0".into(),
                height: 4,
            },
            InteropEvent::ClientFrozen {
                client_id: "client-0".into(),
                height: 4,
                reason: "fork".into(),
            },
            InteropEvent::ClientSubstituted {
                subject: "client-0".into(),
                substitute: "client-1".into(),
            },
            InteropEvent::Connection {
                connection_id: "connection-0".into(),
                state: 1,
                client_id: "client-0".into(),
                counterparty_client_id: "client-3".into(),
                counterparty_connection_id: "".into(),
            },
            InteropEvent::Channel {
                port: "transfer".into(),
                channel: "channel-0".into(),
                state: 3,
                connection_id: "connection-0".into(),
                counterparty_port: "transfer".into(),
                counterparty_channel: "channel-1".into(),
            },
            InteropEvent::SendPacket(p.clone()),
            InteropEvent::RecvPacket(p),
            InteropEvent::WriteAck {
                port: "transfer".into(),
                channel: "channel-1".into(),
                sequence: 1,
                ack: Acknowledgement::Success(vec![1]),
            },
            InteropEvent::AcknowledgePacket {
                port: "transfer".into(),
                channel: "channel-0".into(),
                sequence: 1,
                success: false,
            },
            InteropEvent::TimeoutPacket {
                port: "transfer".into(),
                channel: "channel-0".into(),
                sequence: 1,
            },
            InteropEvent::StateProven {
                client_id: "client-0".into(),
                chain_id: ChainId::new("region-a").unwrap(),
                height: 9,
                key: b"notary/x".to_vec(),
                present: true,
                value_hash: [3; 32],
            },
            InteropEvent::ContractAck {
                channel: "channel-1".into(),
                sequence: 2,
                contract: "counter".into(),
                outcome: 1,
                delivered: false,
                error: "counter.unauthorized: no".into(),
            },
            InteropEvent::SideData {
                channel: "channel-2".into(),
                sequence: 3,
                sender: meridian_types::Address([7; 20]),
                key: b"k".to_vec(),
                value_hash: [4; 32],
            },
            InteropEvent::Relayed {
                outcomes: vec!["ok".into(), "interop.already_received".into()],
            },
        ];
        let kinds: Vec<_> = all.iter().map(InteropEvent::kind).collect();
        assert_eq!(kinds, EVENT_KINDS);
        for ev in all {
            assert_eq!(InteropEvent::decode(ev.kind(), &ev.encode()).unwrap(), ev);
        }
    }
}
