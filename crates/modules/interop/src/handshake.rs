//! Connection and channel handshakes (ICS-03/04): each step proves the counterparty's end is
//! in the expected state, with the expected identifiers, at a verified height.

use meridian_execution::{ModuleError, TxContext};
use meridian_interop::paths::check_id;
use meridian_interop::{
    codes, paths, ChannelEnd, ChannelState, ConnectionEnd, ConnectionState, Ordering,
};
use meridian_types::Encode;

use crate::events::{emit, InteropEvent};
use crate::module_err;
use crate::store::{self, err, Claim};

fn ids(pairs: &[(&str, &str)]) -> Result<(), ModuleError> {
    for (what, id) in pairs {
        check_id(what, id).map_err(module_err)?;
    }
    Ok(())
}

fn save_connection(
    ctx: &mut TxContext<'_>,
    id: &str,
    c: &ConnectionEnd,
) -> Result<(), ModuleError> {
    ctx.set(paths::connection(id), c.encode())?;
    emit(
        ctx,
        InteropEvent::Connection {
            connection_id: id.to_string(),
            state: c.state as u8,
            client_id: c.client_id.clone(),
            counterparty_client_id: c.counterparty_client_id.clone(),
            counterparty_connection_id: c.counterparty_connection_id.clone(),
        },
    )
}

pub(crate) fn save_channel(
    ctx: &mut TxContext<'_>,
    port: &str,
    channel: &str,
    c: &ChannelEnd,
) -> Result<(), ModuleError> {
    ctx.set(paths::channel(port, channel), c.encode())?;
    emit(
        ctx,
        InteropEvent::Channel {
            port: port.to_string(),
            channel: channel.to_string(),
            state: c.state as u8,
            connection_id: c.connection_id.clone(),
            counterparty_port: c.counterparty_port.clone(),
            counterparty_channel: c.counterparty_channel.clone(),
        },
    )
}

fn expect_state<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: T,
    want: T,
) -> Result<(), ModuleError> {
    if got == want {
        Ok(())
    } else {
        Err(err(
            codes::BAD_STATE,
            format!("{what} is {got:?}, expected {want:?}"),
        ))
    }
}

pub(crate) fn conn_open_init(
    ctx: &mut TxContext<'_>,
    client_id: &str,
    counterparty_client_id: &str,
) -> Result<(), ModuleError> {
    ids(&[
        ("client", client_id),
        ("counterparty client", counterparty_client_id),
    ])?;
    store::client(ctx, client_id)?;
    let id = store::next_id(ctx, "connection")?;
    save_connection(
        ctx,
        &id,
        &ConnectionEnd {
            state: ConnectionState::Init,
            client_id: client_id.to_string(),
            counterparty_client_id: counterparty_client_id.to_string(),
            counterparty_connection_id: String::new(),
        },
    )
}

pub(crate) fn conn_open_try(
    ctx: &mut TxContext<'_>,
    client_id: &str,
    counterparty_client_id: &str,
    counterparty_connection_id: &str,
    proof_height: u64,
    proof: &[u8],
) -> Result<(), ModuleError> {
    ids(&[
        ("client", client_id),
        ("counterparty client", counterparty_client_id),
        ("counterparty connection", counterparty_connection_id),
    ])?;
    // The counterparty's end: INIT, its client of us is `counterparty_client_id`, naming our
    // `client_id` as its counterparty's client.
    let expected = ConnectionEnd {
        state: ConnectionState::Init,
        client_id: counterparty_client_id.to_string(),
        counterparty_client_id: client_id.to_string(),
        counterparty_connection_id: String::new(),
    };
    store::verify(
        ctx,
        client_id,
        proof_height,
        &paths::connection(counterparty_connection_id),
        Claim::Present(&expected.encode()),
        proof,
    )?;
    let id = store::next_id(ctx, "connection")?;
    save_connection(
        ctx,
        &id,
        &ConnectionEnd {
            state: ConnectionState::TryOpen,
            client_id: client_id.to_string(),
            counterparty_client_id: counterparty_client_id.to_string(),
            counterparty_connection_id: counterparty_connection_id.to_string(),
        },
    )
}

pub(crate) fn conn_open_ack(
    ctx: &mut TxContext<'_>,
    connection_id: &str,
    counterparty_connection_id: &str,
    proof_height: u64,
    proof: &[u8],
) -> Result<(), ModuleError> {
    ids(&[("counterparty connection", counterparty_connection_id)])?;
    let mut c = store::connection(ctx, connection_id)?;
    expect_state("connection", c.state, ConnectionState::Init)?;
    let expected = ConnectionEnd {
        state: ConnectionState::TryOpen,
        client_id: c.counterparty_client_id.clone(),
        counterparty_client_id: c.client_id.clone(),
        counterparty_connection_id: connection_id.to_string(),
    };
    store::verify(
        ctx,
        &c.client_id,
        proof_height,
        &paths::connection(counterparty_connection_id),
        Claim::Present(&expected.encode()),
        proof,
    )?;
    c.state = ConnectionState::Open;
    c.counterparty_connection_id = counterparty_connection_id.to_string();
    save_connection(ctx, connection_id, &c)
}

pub(crate) fn conn_open_confirm(
    ctx: &mut TxContext<'_>,
    connection_id: &str,
    proof_height: u64,
    proof: &[u8],
) -> Result<(), ModuleError> {
    let mut c = store::connection(ctx, connection_id)?;
    expect_state("connection", c.state, ConnectionState::TryOpen)?;
    let expected = ConnectionEnd {
        state: ConnectionState::Open,
        client_id: c.counterparty_client_id.clone(),
        counterparty_client_id: c.client_id.clone(),
        counterparty_connection_id: connection_id.to_string(),
    };
    store::verify(
        ctx,
        &c.client_id,
        proof_height,
        &paths::connection(&c.counterparty_connection_id),
        Claim::Present(&expected.encode()),
        proof,
    )?;
    c.state = ConnectionState::Open;
    save_connection(ctx, connection_id, &c)
}

fn bound_port(port: &str) -> Result<(), ModuleError> {
    check_id("port", port).map_err(module_err)?;
    if crate::PORTS.contains(&port) {
        Ok(())
    } else {
        Err(err(
            codes::PORT_NOT_ALLOWED,
            format!(
                "no application is bound to port {port:?} (allowed: {:?})",
                crate::PORTS
            ),
        ))
    }
}

fn open_connection(ctx: &TxContext<'_>, id: &str) -> Result<ConnectionEnd, ModuleError> {
    let c = store::connection(ctx, id)?;
    expect_state("connection", c.state, ConnectionState::Open)?;
    Ok(c)
}

/// Each application's channel version; `sidechain` channels are ordered only.
fn check_version(port: &str, version: &str, ordering: Ordering) -> Result<(), ModuleError> {
    let expected = match port {
        meridian_interop::transfer::PORT => meridian_interop::transfer::VERSION,
        crate::contract_call::PORT => crate::contract_call::VERSION,
        crate::sidechain::PORT => crate::sidechain::VERSION,
        _ => return Ok(()),
    };
    if version != expected {
        return Err(err(
            codes::BAD_ARGS,
            format!("{port} channels use version {expected:?}"),
        ));
    }
    if port == crate::sidechain::PORT && ordering != Ordering::Ordered {
        return Err(err(
            codes::BAD_ARGS,
            "sidechain channels must be ordered: side-chain data is delivered in order",
        ));
    }
    Ok(())
}

pub(crate) fn chan_open_init(
    ctx: &mut TxContext<'_>,
    port: &str,
    connection_id: &str,
    counterparty_port: &str,
    ordering: Ordering,
    version: &str,
) -> Result<(), ModuleError> {
    bound_port(port)?;
    ids(&[("counterparty port", counterparty_port)])?;
    check_version(port, version, ordering)?;
    open_connection(ctx, connection_id)?;
    let id = store::next_id(ctx, "channel")?;
    store::write_u64(ctx, paths::next_sequence_send(port, &id), 1)?;
    store::write_u64(ctx, paths::next_sequence_recv(port, &id), 1)?;
    store::write_u64(ctx, paths::next_sequence_ack(port, &id), 1)?;
    save_channel(
        ctx,
        port,
        &id,
        &ChannelEnd {
            state: ChannelState::Init,
            ordering,
            connection_id: connection_id.to_string(),
            counterparty_port: counterparty_port.to_string(),
            counterparty_channel: String::new(),
            version: version.to_string(),
        },
    )
}

pub(crate) struct ChanTry<'a> {
    pub port: &'a str,
    pub connection_id: &'a str,
    pub counterparty_port: &'a str,
    pub counterparty_channel: &'a str,
    pub ordering: Ordering,
    pub version: &'a str,
    pub proof_height: u64,
    pub proof: &'a [u8],
}

pub(crate) fn chan_open_try(ctx: &mut TxContext<'_>, t: ChanTry<'_>) -> Result<(), ModuleError> {
    bound_port(t.port)?;
    ids(&[
        ("counterparty port", t.counterparty_port),
        ("counterparty channel", t.counterparty_channel),
    ])?;
    check_version(t.port, t.version, t.ordering)?;
    let conn = open_connection(ctx, t.connection_id)?;
    let expected = ChannelEnd {
        state: ChannelState::Init,
        ordering: t.ordering,
        connection_id: conn.counterparty_connection_id.clone(),
        counterparty_port: t.port.to_string(),
        counterparty_channel: String::new(),
        version: t.version.to_string(),
    };
    store::verify(
        ctx,
        &conn.client_id,
        t.proof_height,
        &paths::channel(t.counterparty_port, t.counterparty_channel),
        Claim::Present(&expected.encode()),
        t.proof,
    )?;
    let id = store::next_id(ctx, "channel")?;
    store::write_u64(ctx, paths::next_sequence_send(t.port, &id), 1)?;
    store::write_u64(ctx, paths::next_sequence_recv(t.port, &id), 1)?;
    store::write_u64(ctx, paths::next_sequence_ack(t.port, &id), 1)?;
    save_channel(
        ctx,
        t.port,
        &id,
        &ChannelEnd {
            state: ChannelState::TryOpen,
            ordering: t.ordering,
            connection_id: t.connection_id.to_string(),
            counterparty_port: t.counterparty_port.to_string(),
            counterparty_channel: t.counterparty_channel.to_string(),
            version: t.version.to_string(),
        },
    )
}

pub(crate) fn chan_open_ack(
    ctx: &mut TxContext<'_>,
    port: &str,
    channel: &str,
    counterparty_channel: &str,
    proof_height: u64,
    proof: &[u8],
) -> Result<(), ModuleError> {
    ids(&[("counterparty channel", counterparty_channel)])?;
    let mut ch = store::channel(ctx, port, channel)?;
    expect_state("channel", ch.state, ChannelState::Init)?;
    let conn = open_connection(ctx, &ch.connection_id)?;
    let expected = ChannelEnd {
        state: ChannelState::TryOpen,
        ordering: ch.ordering,
        connection_id: conn.counterparty_connection_id.clone(),
        counterparty_port: port.to_string(),
        counterparty_channel: channel.to_string(),
        version: ch.version.clone(),
    };
    store::verify(
        ctx,
        &conn.client_id,
        proof_height,
        &paths::channel(&ch.counterparty_port, counterparty_channel),
        Claim::Present(&expected.encode()),
        proof,
    )?;
    ch.state = ChannelState::Open;
    ch.counterparty_channel = counterparty_channel.to_string();
    save_channel(ctx, port, channel, &ch)
}

pub(crate) fn chan_open_confirm(
    ctx: &mut TxContext<'_>,
    port: &str,
    channel: &str,
    proof_height: u64,
    proof: &[u8],
) -> Result<(), ModuleError> {
    let mut ch = store::channel(ctx, port, channel)?;
    expect_state("channel", ch.state, ChannelState::TryOpen)?;
    let conn = open_connection(ctx, &ch.connection_id)?;
    let expected = ChannelEnd {
        state: ChannelState::Open,
        ordering: ch.ordering,
        connection_id: conn.counterparty_connection_id.clone(),
        counterparty_port: port.to_string(),
        counterparty_channel: channel.to_string(),
        version: ch.version.clone(),
    };
    store::verify(
        ctx,
        &conn.client_id,
        proof_height,
        &paths::channel(&ch.counterparty_port, &ch.counterparty_channel),
        Claim::Present(&expected.encode()),
        proof,
    )?;
    ch.state = ChannelState::Open;
    save_channel(ctx, port, channel, &ch)
}
