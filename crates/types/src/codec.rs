//! Canonical, bounded binary encoding for everything Meridian hashes or signs.
//!
//! Why our own and not serde: a hash or a signature must cover exactly one byte string per
//! value, and a decoder fed by the network must refuse oversized input *before* allocating.
//! The rules are deliberately small so another implementation can follow them:
//!
//! * integers are fixed-width big-endian (`u8`, `u16`, `u32`, `u64`);
//! * `bool` is one byte, `0` or `1` (anything else is rejected);
//! * byte strings and UTF-8 strings are a `u32` length followed by the bytes; every decode site
//!   passes a maximum length, checked before any allocation;
//! * sequences are a `u32` count followed by the items, with a maximum count;
//! * `Option<T>` is a `0`/`1` tag byte followed by `T` when present;
//! * enums are a `u8` tag followed by the variant's fields;
//! * a top-level decode must consume every byte ([`decode_exact`]).

use thiserror::Error;

/// Why a byte string could not be decoded. Codes are stable (`code()`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error("input ended early while reading {0}")]
    UnexpectedEnd(&'static str),
    #[error("{what} has length {len}, above the limit {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{0} has an invalid value")]
    Invalid(&'static str),
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
}

impl CodecError {
    /// Stable error code for clients.
    pub fn code(&self) -> &'static str {
        "malformed"
    }
}

/// Append-only writer; encoding is infallible.
#[derive(Default, Debug)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u128(&mut self, v: u128) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }
    /// Fixed-size bytes: no length prefix (the reader knows the size).
    pub fn fixed(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// Length-prefixed bytes. Lengths above `u32::MAX` cannot occur: every field is bounded far
    /// below that by its decoder, and encoders only see values that were built within bounds.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(v);
    }
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Cursor over untrusted input. Every read is bounds-checked.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError::UnexpectedEnd(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    pub fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        Ok(self.take(1, what)?[0])
    }
    pub fn u16(&mut self, what: &'static str) -> Result<u16, CodecError> {
        let mut a = [0u8; 2];
        a.copy_from_slice(self.take(2, what)?);
        Ok(u16::from_be_bytes(a))
    }
    pub fn u32(&mut self, what: &'static str) -> Result<u32, CodecError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_be_bytes(a))
    }
    pub fn u64(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_be_bytes(a))
    }
    pub fn u128(&mut self, what: &'static str) -> Result<u128, CodecError> {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.take(16, what)?);
        Ok(u128::from_be_bytes(a))
    }
    pub fn bool(&mut self, what: &'static str) -> Result<bool, CodecError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(CodecError::Invalid(what)),
        }
    }
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], CodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    /// Length-prefixed bytes, refusing lengths above `max` before allocating.
    pub fn bytes(&mut self, max: usize, what: &'static str) -> Result<Vec<u8>, CodecError> {
        let len = self.len(max, what)?;
        Ok(self.take(len, what)?.to_vec())
    }
    pub fn string(&mut self, max: usize, what: &'static str) -> Result<String, CodecError> {
        let raw = self.bytes(max, what)?;
        String::from_utf8(raw).map_err(|_| CodecError::Invalid(what))
    }
    /// A sequence count, bounded by `max`.
    pub fn len(&mut self, max: usize, what: &'static str) -> Result<usize, CodecError> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(CodecError::TooLong { what, len, max });
        }
        Ok(len)
    }
    /// Fails unless every byte was consumed.
    pub fn finish(self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError::TrailingBytes(self.buf.len()))
        }
    }
}

/// A type with one canonical encoding.
pub trait Encode {
    fn encode_to(&self, w: &mut Writer);
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        w.into_bytes()
    }
}

/// A type decodable from untrusted bytes with its own built-in bounds.
pub trait Decode: Sized {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError>;
}

/// Decode a value that must span the whole input.
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T, CodecError> {
    let mut r = Reader::new(bytes);
    let v = T::decode_from(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// Encode a bounded sequence.
pub fn encode_seq<T: Encode>(w: &mut Writer, items: &[T]) {
    w.len(items.len());
    for it in items {
        it.encode_to(w);
    }
}

/// Decode a sequence of at most `max` items.
pub fn decode_seq<T: Decode>(
    r: &mut Reader<'_>,
    max: usize,
    what: &'static str,
) -> Result<Vec<T>, CodecError> {
    let n = r.len(max, what)?;
    // Each item takes at least one byte: never reserve more than the input could hold.
    let mut out = Vec::with_capacity(n.min(r.remaining()));
    for _ in 0..n {
        out.push(T::decode_from(r)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_respect_bound_before_allocating() {
        let mut w = Writer::new();
        w.u32(u32::MAX);
        let buf = w.into_bytes();
        let err = Reader::new(&buf).bytes(16, "field").unwrap_err();
        assert!(matches!(err, CodecError::TooLong { max: 16, .. }));
    }

    #[test]
    fn truncated_and_trailing_are_rejected() {
        let mut w = Writer::new();
        w.bytes(b"hello");
        let buf = w.into_bytes();
        assert!(Reader::new(&buf[..buf.len() - 1]).bytes(16, "f").is_err());
        let mut long = buf.clone();
        long.push(0);
        let mut r = Reader::new(&long);
        r.bytes(16, "f").unwrap();
        assert_eq!(r.finish(), Err(CodecError::TrailingBytes(1)));
    }

    #[test]
    fn bool_is_strict() {
        assert!(Reader::new(&[2]).bool("b").is_err());
    }
}
