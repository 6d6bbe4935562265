//! Main chain / side chain data exchange over ordered `sidechain` channels
//! (docs/spec/interop.md §17; seed 003 主侧链数据交换).
//!
//! The side chain submits data records (`send_data`); each travels as a packet on an ordered
//! channel, so the main chain — which tracks the side chain through its light client and
//! checks every packet against a side-chain header its validators finalized — receives the
//! records exactly in the order they were submitted, none skipped, none twice. The main chain
//! stores each at `interop/sidechain/{channel}/{seq}` and emits `side_data`. A timeout closes
//! the channel (§8.3): an ordered stream cannot skip a record.

use meridian_crypto::Suite;
use meridian_execution::{ModuleError, TxContext};
use meridian_interop::{codes, paths, Ordering, Packet};
use meridian_types::{decode_exact, Address, CodecError, Decode, Encode, Reader, Writer};

use crate::events::{emit, InteropEvent};
use crate::packets;
use crate::store::{self, err};

/// Port of the side-chain data application.
pub const PORT: &str = "sidechain";
/// Channel version of `sidechain` channels (always ordered).
pub const VERSION: &str = "meridian-sidechain-1";
/// Longest record key.
pub const MAX_KEY_LEN: usize = 256;
/// Longest record value (the packet data stays within its 3,072-byte bound).
pub const MAX_VALUE_LEN: usize = 2048;

/// One side-chain data record: who submitted it on the side chain, a key and a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideData {
    pub sender: Address,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

impl Encode for SideData {
    fn encode_to(&self, w: &mut Writer) {
        self.sender.encode_to(w);
        w.bytes(&self.key);
        w.bytes(&self.value);
    }
}

impl Decode for SideData {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let d = SideData {
            sender: Address::decode_from(r)?,
            key: r.bytes(MAX_KEY_LEN, "key")?,
            value: r.bytes(MAX_VALUE_LEN, "value")?,
        };
        if d.key.is_empty() {
            return Err(CodecError::Invalid("empty key"));
        }
        Ok(d)
    }
}

/// `interop/sidechain/{channel}/{seq}`: the record received as packet `seq` on `channel`
/// (value: the `SideData` encoding).
pub fn record_key(channel: &str, sequence: u64) -> Vec<u8> {
    format!("{}/sidechain/{channel}/{sequence}", paths::MODULE).into_bytes()
}

/// Side chain: send `key ↦ value` over ordered `sidechain` channel `channel`.
pub(crate) fn send(
    ctx: &mut TxContext<'_>,
    suite: Suite,
    channel: &str,
    key: Vec<u8>,
    value: Vec<u8>,
    timeout_height: u64,
    timeout_timestamp_ms: u64,
) -> Result<(), ModuleError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || value.len() > MAX_VALUE_LEN {
        return Err(err(
            codes::BAD_ARGS,
            format!("key must be 1..={MAX_KEY_LEN} bytes, value at most {MAX_VALUE_LEN}"),
        ));
    }
    ordered(ctx, channel)?;
    let data = SideData {
        sender: ctx.sender,
        key,
        value,
    };
    packets::send(
        ctx,
        suite,
        PORT,
        channel,
        data.encode(),
        timeout_height,
        timeout_timestamp_ms,
    )?;
    Ok(())
}

fn ordered(ctx: &TxContext<'_>, channel: &str) -> Result<(), ModuleError> {
    if store::channel(ctx, PORT, channel)?.ordering != Ordering::Ordered {
        return Err(err(
            codes::BAD_STATE,
            format!("{PORT}/{channel} is not ordered: side-chain data needs an ordered channel"),
        ));
    }
    Ok(())
}

/// Main chain: record the side-chain data (ordering was enforced by the receive step).
pub(crate) fn on_recv(ctx: &mut TxContext<'_>, packet: &Packet) -> Result<Vec<u8>, ModuleError> {
    ordered(ctx, &packet.dest_channel)?;
    let data: SideData = decode_exact(&packet.data)
        .map_err(|e| err(codes::BAD_ARGS, format!("side-chain data: {e}")))?;
    let value_hash = ctx.hash(&data.value);
    ctx.set(
        record_key(&packet.dest_channel, packet.sequence),
        packet.data.clone(),
    )?;
    emit(
        ctx,
        InteropEvent::SideData {
            channel: packet.dest_channel.clone(),
            sequence: packet.sequence,
            sender: data.sender,
            key: data.key,
            value_hash,
        },
    )?;
    Ok(vec![1])
}
