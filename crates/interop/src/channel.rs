//! Connections, channels, packets and acknowledgements (ICS-03/04 data) and the commitments a
//! chain stores for them so the counterparty can prove them.

use meridian_crypto::Suite;
use meridian_types::{decode_exact, CodecError, Decode, Encode, Reader, Writer};

use crate::error::{codes, InteropError};
use crate::paths::{check_id, MAX_ID_LEN};

/// Largest packet payload: a sent packet travels to the relayer in one event (at most 4 KiB
/// with its header fields).
pub const MAX_PACKET_DATA_LEN: usize = 3 * 1024;
/// Largest acknowledgement (result bytes or error message).
pub const MAX_ACK_LEN: usize = 1024;
/// Longest channel version string.
pub const MAX_VERSION_LEN: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    Init = 1,
    TryOpen = 2,
    Open = 3,
}

/// One end of a connection: which local client tracks the counterparty, and the
/// counterparty's client of us and its end's id (empty until the handshake learns it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionEnd {
    pub state: ConnectionState,
    pub client_id: String,
    pub counterparty_client_id: String,
    pub counterparty_connection_id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelState {
    Init = 1,
    TryOpen = 2,
    Open = 3,
    Closed = 4,
}

/// Ordered channels deliver in sequence order (a timeout closes them); unordered channels
/// deliver each packet at most once in any order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ordering {
    Unordered = 1,
    Ordered = 2,
}

/// One end of a channel (its own port and id are in its store path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelEnd {
    pub state: ChannelState,
    pub ordering: Ordering,
    pub connection_id: String,
    pub counterparty_port: String,
    /// Empty until the handshake learns it.
    pub counterparty_channel: String,
    pub version: String,
}

/// A packet: sent on `(source_port, source_channel)`, delivered on
/// `(dest_port, dest_channel)`, unless the destination's height reaches `timeout_height` or
/// its block time reaches `timeout_timestamp_ms` first (`0` = no limit of that kind; both `0`
/// is refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub sequence: u64,
    pub source_port: String,
    pub source_channel: String,
    pub dest_port: String,
    pub dest_channel: String,
    pub data: Vec<u8>,
    pub timeout_height: u64,
    pub timeout_timestamp_ms: u64,
}

/// The receiving application's answer, written on the destination and proven back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acknowledgement {
    Success(Vec<u8>),
    Error(String),
}

impl Packet {
    /// Shape checks that need no state: identifiers, sizes, a sequence from 1, a timeout.
    pub fn validate(&self) -> Result<(), InteropError> {
        check_id("source port", &self.source_port)?;
        check_id("source channel", &self.source_channel)?;
        check_id("destination port", &self.dest_port)?;
        check_id("destination channel", &self.dest_channel)?;
        if self.sequence == 0 {
            return Err(InteropError::new(codes::BAD_ARGS, "sequences start at 1"));
        }
        if self.data.len() > MAX_PACKET_DATA_LEN {
            return Err(InteropError::new(codes::BAD_ARGS, "packet data too long"));
        }
        if self.timeout_height == 0 && self.timeout_timestamp_ms == 0 {
            return Err(InteropError::new(
                codes::BAD_TIMEOUT,
                "a packet needs a timeout height or a timeout time (both are 0)",
            ));
        }
        Ok(())
    }

    /// Whether the destination, at `height` with block time `time_ms`, is past the timeout.
    pub fn timed_out_at(&self, height: u64, time_ms: u64) -> bool {
        (self.timeout_height != 0 && height >= self.timeout_height)
            || (self.timeout_timestamp_ms != 0 && time_ms >= self.timeout_timestamp_ms)
    }

    /// The commitment the source chain stores at `paths::commitment` while the packet is in
    /// flight, hashed with the source chain's suite.
    pub fn commitment(&self, source_suite: Suite) -> [u8; 32] {
        let data_hash = source_suite.hash(&self.data).0;
        let mut w = Writer::new();
        w.fixed(b"meridian/interop/packet/v1");
        w.u64(self.timeout_height);
        w.u64(self.timeout_timestamp_ms);
        w.str(&self.dest_port);
        w.str(&self.dest_channel);
        w.fixed(&data_hash);
        source_suite.hash(&w.into_bytes()).0
    }
}

impl Acknowledgement {
    pub fn is_success(&self) -> bool {
        matches!(self, Acknowledgement::Success(_))
    }

    /// The commitment the destination stores at `paths::ack`, with the destination's suite.
    pub fn commitment(&self, dest_suite: Suite) -> [u8; 32] {
        let mut w = Writer::new();
        w.fixed(b"meridian/interop/ack/v1");
        self.encode_to(&mut w);
        dest_suite.hash(&w.into_bytes()).0
    }

    /// An error acknowledgement with a message cut to the size limit on a character boundary.
    pub fn error(message: impl Into<String>) -> Self {
        let mut m: String = message.into();
        if m.len() > MAX_ACK_LEN {
            let mut cut = MAX_ACK_LEN;
            while !m.is_char_boundary(cut) {
                cut -= 1;
            }
            m.truncate(cut);
        }
        Acknowledgement::Error(m)
    }
}

impl Encode for ConnectionEnd {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.state as u8);
        w.str(&self.client_id);
        w.str(&self.counterparty_client_id);
        w.str(&self.counterparty_connection_id);
    }
}

impl Decode for ConnectionEnd {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            state: match r.u8("connection.state")? {
                1 => ConnectionState::Init,
                2 => ConnectionState::TryOpen,
                3 => ConnectionState::Open,
                _ => return Err(CodecError::Invalid("connection.state")),
            },
            client_id: r.string(MAX_ID_LEN, "connection.client_id")?,
            counterparty_client_id: r.string(MAX_ID_LEN, "connection.counterparty_client_id")?,
            counterparty_connection_id: r
                .string(MAX_ID_LEN, "connection.counterparty_connection_id")?,
        })
    }
}

impl Encode for ChannelEnd {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.state as u8);
        w.u8(self.ordering as u8);
        w.str(&self.connection_id);
        w.str(&self.counterparty_port);
        w.str(&self.counterparty_channel);
        w.str(&self.version);
    }
}

impl Decode for ChannelEnd {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            state: match r.u8("channel.state")? {
                1 => ChannelState::Init,
                2 => ChannelState::TryOpen,
                3 => ChannelState::Open,
                4 => ChannelState::Closed,
                _ => return Err(CodecError::Invalid("channel.state")),
            },
            ordering: decode_ordering(r)?,
            connection_id: r.string(MAX_ID_LEN, "channel.connection_id")?,
            counterparty_port: r.string(MAX_ID_LEN, "channel.counterparty_port")?,
            counterparty_channel: r.string(MAX_ID_LEN, "channel.counterparty_channel")?,
            version: r.string(MAX_VERSION_LEN, "channel.version")?,
        })
    }
}

/// Decodes an [`Ordering`] tag.
pub fn decode_ordering(r: &mut Reader<'_>) -> Result<Ordering, CodecError> {
    match r.u8("channel.ordering")? {
        1 => Ok(Ordering::Unordered),
        2 => Ok(Ordering::Ordered),
        _ => Err(CodecError::Invalid("channel.ordering")),
    }
}

impl Encode for Packet {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.sequence);
        w.str(&self.source_port);
        w.str(&self.source_channel);
        w.str(&self.dest_port);
        w.str(&self.dest_channel);
        w.bytes(&self.data);
        w.u64(self.timeout_height);
        w.u64(self.timeout_timestamp_ms);
    }
}

impl Decode for Packet {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            sequence: r.u64("packet.sequence")?,
            source_port: r.string(MAX_ID_LEN, "packet.source_port")?,
            source_channel: r.string(MAX_ID_LEN, "packet.source_channel")?,
            dest_port: r.string(MAX_ID_LEN, "packet.dest_port")?,
            dest_channel: r.string(MAX_ID_LEN, "packet.dest_channel")?,
            data: r.bytes(MAX_PACKET_DATA_LEN, "packet.data")?,
            timeout_height: r.u64("packet.timeout_height")?,
            timeout_timestamp_ms: r.u64("packet.timeout_timestamp_ms")?,
        })
    }
}

impl Encode for Acknowledgement {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Acknowledgement::Success(b) => {
                w.u8(1);
                w.bytes(b);
            }
            Acknowledgement::Error(m) => {
                w.u8(2);
                w.str(m);
            }
        }
    }
}

impl Decode for Acknowledgement {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(match r.u8("ack.kind")? {
            1 => Acknowledgement::Success(r.bytes(MAX_ACK_LEN, "ack.result")?),
            2 => Acknowledgement::Error(r.string(MAX_ACK_LEN, "ack.error")?),
            _ => return Err(CodecError::Invalid("ack.kind")),
        })
    }
}

/// Decodes a stored value of type `T`, reporting corruption with the interop code.
pub fn decode_stored<T: Decode>(bytes: &[u8]) -> Result<T, InteropError> {
    decode_exact(bytes).map_err(|e| InteropError::new(codes::CORRUPT_STATE, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet() -> Packet {
        Packet {
            sequence: 1,
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            dest_port: "transfer".into(),
            dest_channel: "channel-3".into(),
            data: b"{}".to_vec(),
            timeout_height: 100,
            timeout_timestamp_ms: 0,
        }
    }

    #[test]
    fn packets_need_a_timeout_and_commit_to_it() {
        let p = packet();
        p.validate().unwrap();
        let mut none = p.clone();
        none.timeout_height = 0;
        assert_eq!(none.validate().unwrap_err().code, codes::BAD_TIMEOUT);
        let mut later = p.clone();
        later.timeout_height = 101;
        assert_ne!(p.commitment(Suite::Sm), later.commitment(Suite::Sm));
        assert_ne!(p.commitment(Suite::Sm), p.commitment(Suite::Intl));
        let mut other_data = p.clone();
        other_data.data = b"{1}".to_vec();
        assert_ne!(
            p.commitment(Suite::Intl),
            other_data.commitment(Suite::Intl)
        );
        assert!(!p.timed_out_at(99, u64::MAX));
        assert!(p.timed_out_at(100, 0));
        let back: Packet = decode_stored(&p.encode()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn acks_are_bounded_and_distinguish_success() {
        let long = Acknowledgement::error("é".repeat(MAX_ACK_LEN));
        let Acknowledgement::Error(m) = &long else {
            unreachable!()
        };
        assert!(m.len() <= MAX_ACK_LEN);
        let back: Acknowledgement = decode_stored(&long.encode()).unwrap();
        assert_eq!(back, long);
        let ok = Acknowledgement::Success(vec![1]);
        assert_ne!(ok.commitment(Suite::Sm), long.commitment(Suite::Sm));
    }
}
