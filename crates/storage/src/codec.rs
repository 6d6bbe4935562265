//! On-disk key and value layouts (local to this node; not a wire format).
//!
//! Integers are big-endian so that lexicographic key order equals numeric order (range scans
//! over heights and versions, future pruning by version).

use jmt::storage::{Node, NodeKey};
use jmt::KeyHash;

use crate::StorageError;

/// Keys of the `meta` keyspace.
pub(crate) mod meta {
    /// Format version of the on-disk layout.
    pub(crate) const FORMAT: &[u8] = b"format";
    /// Hash suite tag (one byte, see `HashKind::tag`).
    pub(crate) const HASH_KIND: &[u8] = b"hash_kind";
    /// Latest committed height (u64 BE).
    pub(crate) const LATEST: &[u8] = b"latest";
    /// Prefix: `root` ‖ height BE → 32-byte state root.
    pub(crate) const ROOT: &[u8] = b"root";
    /// Prefix: `bhash` ‖ height BE → 32-byte block hash.
    pub(crate) const BLOCK_HASH: &[u8] = b"bhash";

    /// Present once `latest_values` holds the newest version of every key (stores made before
    /// the index existed build it on open).
    pub(crate) const LATEST_INDEX: &[u8] = b"latest_index";

    pub(crate) const FORMAT_V1: [u8; 1] = [1];

    pub(crate) fn at(prefix: &[u8], height: u64) -> Vec<u8> {
        let mut k = Vec::with_capacity(prefix.len() + 8);
        k.extend_from_slice(prefix);
        k.extend_from_slice(&height.to_be_bytes());
        k
    }
}

pub(crate) fn u64_key(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

pub(crate) fn decode_u64(bytes: &[u8], what: &'static str) -> Result<u64, StorageError> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt(format!("{what}: expected 8 bytes")))?;
    Ok(u64::from_be_bytes(arr))
}

pub(crate) fn decode_hash(bytes: &[u8], what: &'static str) -> Result<[u8; 32], StorageError> {
    bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt(format!("{what}: expected 32 bytes")))
}

/// JMT node key: version BE ‖ borsh(nibble path).
pub(crate) fn node_key(key: &NodeKey) -> Result<Vec<u8>, StorageError> {
    let mut out = Vec::with_capacity(8 + 8 + 32);
    out.extend_from_slice(&key.version().to_be_bytes());
    borsh::to_writer(&mut out, key.nibble_path())
        .map_err(|e| StorageError::Corrupt(format!("encode node key: {e}")))?;
    Ok(out)
}

pub(crate) fn encode_node(node: &Node) -> Result<Vec<u8>, StorageError> {
    borsh::to_vec(node).map_err(|e| StorageError::Corrupt(format!("encode node: {e}")))
}

pub(crate) fn decode_node(bytes: &[u8]) -> Result<Node, StorageError> {
    borsh::from_slice(bytes).map_err(|e| StorageError::Corrupt(format!("decode node: {e}")))
}

/// Versioned value key: key hash ‖ version BE. Newest-≤-v lookup is a reverse range scan.
pub(crate) fn value_key(key_hash: &KeyHash, version: u64) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(&key_hash.0);
    out[32..].copy_from_slice(&version.to_be_bytes());
    out
}

/// Newest value of a key: version BE ‖ versioned value (as [`encode_value`]).
pub(crate) fn encode_latest(version: u64, encoded_value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + encoded_value.len());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(encoded_value);
    out
}

/// Splits a `latest_values` entry into its version and encoded value.
pub(crate) fn split_latest(bytes: &[u8]) -> Result<(u64, &[u8]), StorageError> {
    if bytes.len() < 9 {
        return Err(StorageError::Corrupt("latest value: too short".into()));
    }
    let (v, rest) = bytes.split_at(8);
    Ok((decode_u64(v, "latest value version")?, rest))
}

/// Versioned value: `0` = deleted at this version, `1` ‖ bytes = value.
pub(crate) fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(v) => {
            let mut out = Vec::with_capacity(1 + v.len());
            out.push(1);
            out.extend_from_slice(v);
            out
        }
    }
}

pub(crate) fn decode_value(bytes: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
    match bytes.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) => Ok(Some(rest.to_vec())),
        _ => Err(StorageError::Corrupt("state value: bad tag".into())),
    }
}

/// Transaction record: height BE ‖ index BE (u32) ‖ encoded transaction.
pub(crate) fn encode_tx(height: u64, index: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + bytes.len());
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

pub(crate) fn decode_tx(bytes: &[u8]) -> Result<(u64, u32, Vec<u8>), StorageError> {
    if bytes.len() < 12 {
        return Err(StorageError::Corrupt("transaction record too short".into()));
    }
    let (h, rest) = bytes.split_at(8);
    let (i, tx) = rest.split_at(4);
    let height = decode_u64(h, "tx height")?;
    let index = u32::from_be_bytes(
        i.try_into()
            .map_err(|_| StorageError::Corrupt("tx index".into()))?,
    );
    Ok((height, index, tx.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_roundtrip() {
        assert_eq!(decode_value(&encode_value(None)).ok(), Some(None));
        assert_eq!(
            decode_value(&encode_value(Some(b"x"))).ok(),
            Some(Some(b"x".to_vec()))
        );
        assert_eq!(
            decode_value(&encode_value(Some(b""))).ok(),
            Some(Some(Vec::new()))
        );
        assert!(decode_value(&[]).is_err());
        assert!(decode_value(&[0, 1]).is_err());
        assert!(decode_value(&[2]).is_err());
    }

    #[test]
    fn tx_roundtrip() {
        let enc = encode_tx(7, 3, b"tx");
        assert_eq!(decode_tx(&enc).ok(), Some((7, 3, b"tx".to_vec())));
        assert!(decode_tx(&enc[..11]).is_err());
    }

    #[test]
    fn value_keys_sort_by_version() {
        let kh = KeyHash([9; 32]);
        assert!(value_key(&kh, 1) < value_key(&kh, 2));
        assert!(value_key(&kh, 255) < value_key(&kh, 256));
    }
}
