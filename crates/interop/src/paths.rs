//! Store paths (ICS-24's role): the keys every Meridian chain writes for interop and that a
//! counterparty proves against its light client. All live under the `interop/` module prefix of
//! the JMT state; identifiers never contain `/`, so no two paths collide.
//!
//! | key | value |
//! |---|---|
//! | `interop/clients/{client}` | [`ClientState`](crate::ClientState) |
//! | `interop/clients/{client}/consensus/{height:020}` | [`ConsensusState`](crate::ConsensusState) |
//! | `interop/clients/{client}/validators/{epoch:020}` | trusted keys of that epoch |
//! | `interop/connections/{connection}` | [`ConnectionEnd`](crate::ConnectionEnd) |
//! | `interop/channels/{port}/{channel}` | [`ChannelEnd`](crate::ChannelEnd) |
//! | `interop/seq/{send,recv,ack}/{port}/{channel}` | next sequence, `u64` BE |
//! | `interop/commitments/{port}/{channel}/{seq}` | packet commitment (32 bytes) |
//! | `interop/receipts/{port}/{channel}/{seq}` | `0x01` (unordered channels) |
//! | `interop/acks/{port}/{channel}/{seq}` | acknowledgement commitment (32 bytes) |

use crate::error::{codes, InteropError};

/// The module's key prefix (its name).
pub const MODULE: &str = "interop";
/// Longest identifier (client, connection, channel, port).
pub const MAX_ID_LEN: usize = 64;

/// Identifiers are 2..=64 bytes of `[a-z0-9.-]`: safe in paths, URLs and logs.
pub fn check_id(what: &str, id: &str) -> Result<(), InteropError> {
    let ok = (2..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(InteropError::new(
            codes::BAD_ARGS,
            format!("{what} {id:?} must be 2..={MAX_ID_LEN} bytes of [a-z0-9.-]"),
        ))
    }
}

fn key(s: String) -> Vec<u8> {
    s.into_bytes()
}

pub fn client(client: &str) -> Vec<u8> {
    key(format!("{MODULE}/clients/{client}"))
}

pub fn consensus(client: &str, height: u64) -> Vec<u8> {
    key(format!("{MODULE}/clients/{client}/consensus/{height:020}"))
}

pub fn validators(client: &str, epoch: u64) -> Vec<u8> {
    key(format!("{MODULE}/clients/{client}/validators/{epoch:020}"))
}

pub fn connection(connection: &str) -> Vec<u8> {
    key(format!("{MODULE}/connections/{connection}"))
}

pub fn channel(port: &str, channel: &str) -> Vec<u8> {
    key(format!("{MODULE}/channels/{port}/{channel}"))
}

pub fn next_sequence_send(port: &str, channel: &str) -> Vec<u8> {
    key(format!("{MODULE}/seq/send/{port}/{channel}"))
}

pub fn next_sequence_recv(port: &str, channel: &str) -> Vec<u8> {
    key(format!("{MODULE}/seq/recv/{port}/{channel}"))
}

pub fn next_sequence_ack(port: &str, channel: &str) -> Vec<u8> {
    key(format!("{MODULE}/seq/ack/{port}/{channel}"))
}

pub fn commitment(port: &str, channel: &str, sequence: u64) -> Vec<u8> {
    key(format!("{MODULE}/commitments/{port}/{channel}/{sequence}"))
}

pub fn receipt(port: &str, channel: &str, sequence: u64) -> Vec<u8> {
    key(format!("{MODULE}/receipts/{port}/{channel}/{sequence}"))
}

pub fn ack(port: &str, channel: &str, sequence: u64) -> Vec<u8> {
    key(format!("{MODULE}/acks/{port}/{channel}/{sequence}"))
}

/// Counter for the next generated identifier of `kind` (`client`, `connection`, `channel`).
pub fn next_id(kind: &str) -> Vec<u8> {
    key(format!("{MODULE}/next/{kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_path_safe() {
        for good in ["client-0", "transfer", "channel-12", "a.b"] {
            check_id("id", good).unwrap();
        }
        for bad in ["", "x", "a/b", "Upper", "ü-1", &"a".repeat(65)] {
            assert_eq!(
                check_id("id", bad).unwrap_err().code,
                codes::BAD_ARGS,
                "{bad}"
            );
        }
        assert_eq!(
            consensus("client-0", 7),
            b"interop/clients/client-0/consensus/00000000000000000007".to_vec()
        );
    }
}
