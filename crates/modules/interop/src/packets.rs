//! Packet send, receive, acknowledge and timeout (ICS-04), and the hand-off to the port's
//! application. Every counterparty fact is proven; the commitment of a packet is deleted before
//! its acknowledgement or timeout callback runs, so each packet settles exactly once.

use meridian_crypto::Suite;
use meridian_execution::{ModuleError, TxContext};
use meridian_interop::{
    codes, paths, Acknowledgement, ChannelEnd, ChannelState, ConnectionState, Ordering, Packet,
};

use crate::events::{emit, InteropEvent};
use crate::module_err;
use crate::store::{self, err, Claim};
use crate::{contract_call, sidechain, transfer, InteropModule};

fn open_channel(ctx: &TxContext<'_>, port: &str, channel: &str) -> Result<ChannelEnd, ModuleError> {
    let ch = store::channel(ctx, port, channel)?;
    if ch.state != ChannelState::Open {
        return Err(err(
            codes::BAD_STATE,
            format!("channel {port}/{channel} is {:?}, not open", ch.state),
        ));
    }
    Ok(ch)
}

/// The client behind a channel's (open) connection.
fn channel_client(ctx: &TxContext<'_>, ch: &ChannelEnd) -> Result<String, ModuleError> {
    let conn = store::connection(ctx, &ch.connection_id)?;
    if conn.state != ConnectionState::Open {
        return Err(err(
            codes::BAD_STATE,
            "the channel's connection is not open",
        ));
    }
    Ok(conn.client_id)
}

fn check_counterparty(ch: &ChannelEnd, port: &str, channel: &str) -> Result<(), ModuleError> {
    if ch.counterparty_port != port || ch.counterparty_channel != channel {
        return Err(err(
            codes::BAD_ARGS,
            format!(
                "the packet names {port}/{channel}, the channel's counterparty is {}/{}",
                ch.counterparty_port, ch.counterparty_channel
            ),
        ));
    }
    Ok(())
}

/// Sends `data` from `(port, channel)`; used by applications. Returns the packet.
pub(crate) fn send(
    ctx: &mut TxContext<'_>,
    suite: Suite,
    port: &str,
    channel: &str,
    data: Vec<u8>,
    timeout_height: u64,
    timeout_timestamp_ms: u64,
) -> Result<Packet, ModuleError> {
    let ch = open_channel(ctx, port, channel)?;
    let client_id = channel_client(ctx, &ch)?;
    let c = store::client(ctx, &client_id)?;
    let latest = store::consensus(ctx, &client_id, c.latest_height)?.ok_or_else(|| {
        err(
            codes::CORRUPT_STATE,
            "client without its latest consensus state",
        )
    })?;
    c.ensure_active(&latest, ctx.time_ms).map_err(module_err)?;
    let seq_key = paths::next_sequence_send(port, channel);
    let sequence = store::read_u64(ctx, &seq_key)?;
    let packet = Packet {
        sequence,
        source_port: port.to_string(),
        source_channel: channel.to_string(),
        dest_port: ch.counterparty_port.clone(),
        dest_channel: ch.counterparty_channel.clone(),
        data,
        timeout_height,
        timeout_timestamp_ms,
    };
    packet.validate().map_err(module_err)?;
    if packet.timed_out_at(c.latest_height, latest.timestamp_ms) {
        return Err(err(
            codes::BAD_TIMEOUT,
            format!(
                "{} is already at height {} / time {}: the packet would time out at once",
                c.chain_id, c.latest_height, latest.timestamp_ms
            ),
        ));
    }
    ctx.set(
        paths::commitment(port, channel, sequence),
        packet.commitment(suite).to_vec(),
    )?;
    store::write_u64(ctx, seq_key, sequence + 1)?;
    emit(ctx, InteropEvent::SendPacket(packet.clone()))?;
    Ok(packet)
}

pub(crate) fn recv(
    ctx: &mut TxContext<'_>,
    m: &InteropModule,
    packet: &Packet,
    proof_height: u64,
    proof: &[u8],
) -> Result<(), ModuleError> {
    let suite = m.suite;
    packet.validate().map_err(module_err)?;
    if !crate::PORTS.contains(&packet.dest_port.as_str()) {
        return Err(err(
            codes::PORT_NOT_ALLOWED,
            format!("no application is bound to port {:?}", packet.dest_port),
        ));
    }
    let ch = open_channel(ctx, &packet.dest_port, &packet.dest_channel)?;
    check_counterparty(&ch, &packet.source_port, &packet.source_channel)?;
    let client_id = channel_client(ctx, &ch)?;
    // Judged by our own clock and height, never the sender's.
    if packet.timed_out_at(ctx.height, ctx.time_ms) {
        return Err(err(
            codes::PACKET_TIMED_OUT,
            format!(
                "packet {} timed out here (height {}, time {})",
                packet.sequence, ctx.height, ctx.time_ms
            ),
        ));
    }
    match ch.ordering {
        Ordering::Ordered => {
            let key = paths::next_sequence_recv(&packet.dest_port, &packet.dest_channel);
            let next = store::read_u64(ctx, &key)?;
            if packet.sequence != next {
                let code = if packet.sequence < next {
                    codes::ALREADY_RECEIVED
                } else {
                    codes::OUT_OF_ORDER
                };
                return Err(err(
                    code,
                    format!(
                        "ordered channel expects sequence {next}, got {}",
                        packet.sequence
                    ),
                ));
            }
            store::write_u64(ctx, key, next + 1)?;
        }
        Ordering::Unordered => {
            let key = paths::receipt(&packet.dest_port, &packet.dest_channel, packet.sequence);
            if ctx.get(&key).is_some() {
                return Err(err(
                    codes::ALREADY_RECEIVED,
                    format!("packet {} was already received", packet.sequence),
                ));
            }
            ctx.set(key, vec![1])?;
        }
    }
    let counterparty_suite = store::client(ctx, &client_id)?.suite;
    store::verify(
        ctx,
        &client_id,
        proof_height,
        &paths::commitment(&packet.source_port, &packet.source_channel, packet.sequence),
        Claim::Present(&packet.commitment(counterparty_suite)),
        proof,
    )?;
    emit(ctx, InteropEvent::RecvPacket(packet.clone()))?;
    // The application runs in a nested context: an error becomes an error acknowledgement
    // and everything the application wrote is dropped (the receipt above stays).
    let ack = {
        let sender = ctx.sender;
        let mut app = ctx.child(crate::NAME, sender);
        match on_recv(&mut app, m, packet) {
            Ok(result) => {
                let outcome = app.into_outcome();
                ctx.absorb(outcome)?;
                Acknowledgement::Success(result)
            }
            Err(e) => Acknowledgement::error(format!("{}: {}", e.code, e.message)),
        }
    };
    ctx.set(
        paths::ack(&packet.dest_port, &packet.dest_channel, packet.sequence),
        ack.commitment(suite).to_vec(),
    )?;
    emit(
        ctx,
        InteropEvent::WriteAck {
            port: packet.dest_port.clone(),
            channel: packet.dest_channel.clone(),
            sequence: packet.sequence,
            ack,
        },
    )
}

/// Checks that `packet` is in flight from this chain and removes its commitment (before any
/// callback runs). Returns the channel and its client id.
fn settle(
    ctx: &mut TxContext<'_>,
    suite: Suite,
    packet: &Packet,
    allow_closed: bool,
) -> Result<(ChannelEnd, String), ModuleError> {
    packet.validate().map_err(module_err)?;
    let ch = store::channel(ctx, &packet.source_port, &packet.source_channel)?;
    let usable =
        ch.state == ChannelState::Open || (allow_closed && ch.state == ChannelState::Closed);
    if !usable {
        return Err(err(codes::BAD_STATE, format!("channel is {:?}", ch.state)));
    }
    check_counterparty(&ch, &packet.dest_port, &packet.dest_channel)?;
    let client_id = channel_client(ctx, &ch)?;
    let key = paths::commitment(&packet.source_port, &packet.source_channel, packet.sequence);
    let stored = ctx.get(&key).ok_or_else(|| {
        err(
            codes::NO_COMMITMENT,
            format!(
                "no packet {} in flight on {}/{}: never sent, or already acknowledged or timed out",
                packet.sequence, packet.source_port, packet.source_channel
            ),
        )
    })?;
    if stored != packet.commitment(suite) {
        return Err(err(
            codes::COMMITMENT_MISMATCH,
            "the packet differs from the one sent with this sequence",
        ));
    }
    ctx.delete(key)?;
    Ok((ch, client_id))
}

pub(crate) fn acknowledge(
    ctx: &mut TxContext<'_>,
    m: &InteropModule,
    packet: &Packet,
    ack: &Acknowledgement,
    proof_height: u64,
    proof: &[u8],
) -> Result<(), ModuleError> {
    let suite = m.suite;
    // A closed (ordered) channel still settles what is in flight, so refunds are never stuck.
    let (ch, client_id) = settle(ctx, suite, packet, true)?;
    let counterparty_suite = store::client(ctx, &client_id)?.suite;
    store::verify(
        ctx,
        &client_id,
        proof_height,
        &paths::ack(&packet.dest_port, &packet.dest_channel, packet.sequence),
        Claim::Present(&ack.commitment(counterparty_suite)),
        proof,
    )?;
    if ch.ordering == Ordering::Ordered {
        let key = paths::next_sequence_ack(&packet.source_port, &packet.source_channel);
        let next = store::read_u64(ctx, &key)?;
        if packet.sequence != next {
            return Err(err(
                codes::OUT_OF_ORDER,
                format!("ordered channel expects the acknowledgement of {next} first"),
            ));
        }
        store::write_u64(ctx, key, next + 1)?;
    }
    on_ack(ctx, m, packet, ack)?;
    emit(
        ctx,
        InteropEvent::AcknowledgePacket {
            port: packet.source_port.clone(),
            channel: packet.source_channel.clone(),
            sequence: packet.sequence,
            success: ack.is_success(),
        },
    )
}

pub(crate) fn timeout(
    ctx: &mut TxContext<'_>,
    m: &InteropModule,
    packet: &Packet,
    proof_height: u64,
    proof: &[u8],
    next_sequence_recv: u64,
) -> Result<(), ModuleError> {
    let suite = m.suite;
    let (mut ch, client_id) = settle(ctx, suite, packet, true)?;
    let (_, cs) = match ch.ordering {
        Ordering::Ordered => {
            if next_sequence_recv > packet.sequence {
                return Err(err(
                    codes::ALREADY_RECEIVED,
                    format!(
                        "the destination already received packet {}",
                        packet.sequence
                    ),
                ));
            }
            store::verify(
                ctx,
                &client_id,
                proof_height,
                &paths::next_sequence_recv(&packet.dest_port, &packet.dest_channel),
                Claim::Present(&next_sequence_recv.to_be_bytes()),
                proof,
            )?
        }
        Ordering::Unordered => store::verify(
            ctx,
            &client_id,
            proof_height,
            &paths::receipt(&packet.dest_port, &packet.dest_channel, packet.sequence),
            Claim::Absent,
            proof,
        )?,
    };
    // The destination's own height and clock at the proven header decide.
    if !packet.timed_out_at(proof_height, cs.timestamp_ms) {
        return Err(err(
            codes::PACKET_NOT_TIMED_OUT,
            format!(
                "at height {proof_height} (time {}) the destination had not reached the timeout \
                 (height {}, time {})",
                cs.timestamp_ms, packet.timeout_height, packet.timeout_timestamp_ms
            ),
        ));
    }
    if ch.ordering == Ordering::Ordered && ch.state == ChannelState::Open {
        // An ordered channel cannot skip a sequence: it closes.
        ch.state = ChannelState::Closed;
        crate::handshake::save_channel(ctx, &packet.source_port, &packet.source_channel, &ch)?;
    }
    on_timeout(ctx, m, packet)?;
    emit(
        ctx,
        InteropEvent::TimeoutPacket {
            port: packet.source_port.clone(),
            channel: packet.source_channel.clone(),
            sequence: packet.sequence,
        },
    )
}

fn on_recv(
    ctx: &mut TxContext<'_>,
    m: &InteropModule,
    packet: &Packet,
) -> Result<Vec<u8>, ModuleError> {
    match packet.dest_port.as_str() {
        meridian_interop::transfer::PORT => transfer::on_recv(ctx, m.suite, packet),
        contract_call::PORT => contract_call::on_recv(ctx, m, packet),
        sidechain::PORT => sidechain::on_recv(ctx, packet),
        other => Err(err(
            codes::PORT_NOT_ALLOWED,
            format!("no application on port {other}"),
        )),
    }
}

fn on_ack(
    ctx: &mut TxContext<'_>,
    m: &InteropModule,
    packet: &Packet,
    ack: &Acknowledgement,
) -> Result<(), ModuleError> {
    match packet.source_port.as_str() {
        meridian_interop::transfer::PORT => {
            if ack.is_success() {
                Ok(())
            } else {
                transfer::refund(ctx, m.suite, packet)
            }
        }
        contract_call::PORT => contract_call::on_ack(ctx, m, packet, ack),
        // The main chain keeps what it received; nothing to undo on the side chain.
        sidechain::PORT => Ok(()),
        other => Err(err(
            codes::PORT_NOT_ALLOWED,
            format!("no application on port {other}"),
        )),
    }
}

fn on_timeout(
    ctx: &mut TxContext<'_>,
    m: &InteropModule,
    packet: &Packet,
) -> Result<(), ModuleError> {
    match packet.source_port.as_str() {
        meridian_interop::transfer::PORT => transfer::refund(ctx, m.suite, packet),
        contract_call::PORT => contract_call::on_timeout(ctx, m, packet),
        // The ordered channel closed (§8.3); the record was never delivered.
        sidechain::PORT => Ok(()),
        other => Err(err(
            codes::PORT_NOT_ALLOWED,
            format!("no application on port {other}"),
        )),
    }
}
