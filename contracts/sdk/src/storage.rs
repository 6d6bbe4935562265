//! Typed state: [`Item`] (one key) and [`Map`] (a namespace of keys). Values are JSON.
//!
//! Layout (stable; changing it is a state migration):
//! * `Item::new("k")` stores under the raw key `k`.
//! * `Map::new("ns")` stores key `K` under `u16be(len(ns)) || ns || key_bytes(K)`. The length
//!   prefix keeps one map's keys from running into another's or an item's.
//! * Key bytes ([`Key`]): strings and byte strings as is, addresses as 20 bytes, unsigned
//!   integers big-endian (so ranges sort numerically), a pair `(A, B)` as
//!   `u16be(len(a)) || a || b`.

use crate::ctx::RawEntry;
use std::borrow::Borrow;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ctx::{prefix_end, Ctx, RangeIter};
use crate::error::{codes, ContractError};
use crate::limits::{MAX_RANGE_LIMIT, MAX_VALUE_LEN};
use crate::types::{Address, Order};

fn encode_value<T: Serialize + ?Sized>(what: &str, v: &T) -> Result<Vec<u8>, ContractError> {
    let b = serde_json::to_vec(v)
        .map_err(|e| ContractError::new(codes::SERIALIZE, format!("{what}: {e}")))?;
    if b.len() > MAX_VALUE_LEN {
        return Err(ContractError::new(
            codes::SERIALIZE,
            format!("{what}: value of {} bytes is over 64 KiB", b.len()),
        ));
    }
    Ok(b)
}

fn decode_value<T: DeserializeOwned>(what: &str, b: &[u8]) -> Result<T, ContractError> {
    serde_json::from_slice(b)
        .map_err(|e| ContractError::new(codes::BAD_STATE, format!("{what}: {e}")))
}

/// A single JSON value under a fixed storage key.
pub struct Item<T> {
    key: &'static str,
    _t: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Item<T> {
    /// The item stored under `key`.
    pub const fn new(key: &'static str) -> Self {
        Item {
            key,
            _t: PhantomData,
        }
    }

    /// The storage key.
    pub fn key(&self) -> &'static [u8] {
        self.key.as_bytes()
    }

    /// The value; `not_found` if absent.
    pub fn load(&self, ctx: &Ctx) -> Result<T, ContractError> {
        self.may_load(ctx)?
            .ok_or_else(|| ContractError::not_found(format!("{} not found", self.key)))
    }

    /// The value, if present.
    pub fn may_load(&self, ctx: &Ctx) -> Result<Option<T>, ContractError> {
        ctx.get(self.key())
            .map(|b| decode_value(self.key, &b))
            .transpose()
    }

    /// `true` if a value is stored.
    pub fn exists(&self, ctx: &Ctx) -> bool {
        ctx.get(self.key()).is_some()
    }

    /// Stores `value`.
    pub fn save(&self, ctx: &mut Ctx, value: &T) -> Result<(), ContractError> {
        let b = encode_value(self.key, value)?;
        ctx.set(self.key(), &b);
        Ok(())
    }

    /// Deletes the value.
    pub fn remove(&self, ctx: &mut Ctx) {
        ctx.remove(self.key())
    }

    /// Loads (`None` if absent), applies `f`, saves and returns the result.
    pub fn update<E: From<ContractError>>(
        &self,
        ctx: &mut Ctx,
        f: impl FnOnce(Option<T>) -> Result<T, E>,
    ) -> Result<T, E> {
        let new = f(self.may_load(ctx)?)?;
        self.save(ctx, &new)?;
        Ok(new)
    }
}

/// A map key: appends its storage bytes (see the module docs for the encoding).
pub trait Key {
    /// Appends the key's bytes.
    fn write_key(&self, out: &mut Vec<u8>);

    /// The key's bytes.
    fn key_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_key(&mut v);
        v
    }
}

/// A map key type that can be read back from its bytes (for ranges).
pub trait KeyDecode: Sized {
    /// The key from exactly its bytes, `None` if they are not a valid encoding.
    fn decode_key(bytes: &[u8]) -> Option<Self>;
}

impl<T: Key + ?Sized> Key for &T {
    fn write_key(&self, out: &mut Vec<u8>) {
        (**self).write_key(out)
    }
}

impl Key for str {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes())
    }
}

impl Key for String {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes())
    }
}

impl KeyDecode for String {
    fn decode_key(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl Key for [u8] {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self)
    }
}

impl Key for Vec<u8> {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self)
    }
}

impl KeyDecode for Vec<u8> {
    fn decode_key(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

impl<const N: usize> Key for [u8; N] {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self)
    }
}

impl<const N: usize> KeyDecode for [u8; N] {
    fn decode_key(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok()
    }
}

impl Key for Address {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0)
    }
}

impl KeyDecode for Address {
    fn decode_key(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Address)
    }
}

macro_rules! uint_key {
    ($($t:ty),*) => {$(
        impl Key for $t {
            fn write_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes())
            }
        }
        impl KeyDecode for $t {
            fn decode_key(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(<$t>::from_be_bytes)
            }
        }
    )*};
}
uint_key!(u8, u16, u32, u64, u128);

impl<A: Key, B: Key> Key for (A, B) {
    fn write_key(&self, out: &mut Vec<u8>) {
        let a = self.0.key_bytes();
        let len = u16::try_from(a.len()).expect("tuple key component over 65535 bytes");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&a);
        self.1.write_key(out)
    }
}

impl<A: KeyDecode, B: KeyDecode> KeyDecode for (A, B) {
    fn decode_key(bytes: &[u8]) -> Option<Self> {
        let (len, rest) = bytes.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return None;
        }
        let (a, b) = rest.split_at(len);
        Some((A::decode_key(a)?, B::decode_key(b)?))
    }
}

/// JSON values under `namespace`, keyed by `K` (the owned key type: `String`, `Address`,
/// `u64`, `(Address, Address)`, …). Lookups borrow like `HashMap`: `Map<String, _>` takes
/// `&str`, `Map<Address, _>` takes `&Address`.
pub struct Map<K, V> {
    namespace: &'static str,
    _kv: PhantomData<fn() -> (K, V)>,
}

impl<K, V: Serialize + DeserializeOwned> Map<K, V> {
    /// The map under `namespace` (≤ 65535 bytes; keep it short: it is in every key).
    pub const fn new(namespace: &'static str) -> Self {
        Map {
            namespace,
            _kv: PhantomData,
        }
    }

    /// `u16be(len(ns)) || ns`: the prefix of every key of the map.
    pub fn prefix(&self) -> Vec<u8> {
        let ns = self.namespace.as_bytes();
        let len = u16::try_from(ns.len()).expect("map namespace over 65535 bytes");
        let mut p = Vec::with_capacity(2 + ns.len());
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(ns);
        p
    }

    /// The full storage key of `key`.
    pub fn storage_key<Q: Key + ?Sized>(&self, key: &Q) -> Vec<u8>
    where
        K: Borrow<Q>,
    {
        let mut k = self.prefix();
        key.write_key(&mut k);
        k
    }

    /// The value under `key`; `not_found` if absent.
    pub fn load<Q: Key + ?Sized>(&self, ctx: &Ctx, key: &Q) -> Result<V, ContractError>
    where
        K: Borrow<Q>,
    {
        self.may_load(ctx, key)?
            .ok_or_else(|| ContractError::not_found(format!("{} entry not found", self.namespace)))
    }

    /// The value under `key`, if any.
    pub fn may_load<Q: Key + ?Sized>(&self, ctx: &Ctx, key: &Q) -> Result<Option<V>, ContractError>
    where
        K: Borrow<Q>,
    {
        ctx.get(&self.storage_key(key))
            .map(|b| decode_value(self.namespace, &b))
            .transpose()
    }

    /// `true` if `key` has a value.
    pub fn has<Q: Key + ?Sized>(&self, ctx: &Ctx, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        ctx.get(&self.storage_key(key)).is_some()
    }

    /// Stores `value` under `key`.
    pub fn save<Q: Key + ?Sized>(
        &self,
        ctx: &mut Ctx,
        key: &Q,
        value: &V,
    ) -> Result<(), ContractError>
    where
        K: Borrow<Q>,
    {
        let b = encode_value(self.namespace, value)?;
        ctx.set(&self.storage_key(key), &b);
        Ok(())
    }

    /// Deletes `key`.
    pub fn remove<Q: Key + ?Sized>(&self, ctx: &mut Ctx, key: &Q)
    where
        K: Borrow<Q>,
    {
        ctx.remove(&self.storage_key(key))
    }

    /// Loads `key` (`None` if absent), applies `f`, saves and returns the result.
    pub fn update<Q: Key + ?Sized, E: From<ContractError>>(
        &self,
        ctx: &mut Ctx,
        key: &Q,
        f: impl FnOnce(Option<V>) -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Borrow<Q>,
    {
        let new = f(self.may_load(ctx, key)?)?;
        self.save(ctx, key, &new)?;
        Ok(new)
    }
}

impl<K: Key + KeyDecode, V: Serialize + DeserializeOwned> Map<K, V> {
    fn bounds(&self, start: Option<&K>, end: Option<&K>) -> (Vec<u8>, Option<Vec<u8>>) {
        let start = match start {
            Some(k) => self.storage_key(k),
            None => self.prefix(),
        };
        let end = match end {
            Some(k) => Some(self.storage_key(k)),
            None => prefix_end(&self.prefix()),
        };
        (start, end)
    }

    fn decode_entry(&self, (k, v): RawEntry) -> Result<(K, V), ContractError> {
        let plen = self.prefix().len();
        let key = k.get(plen..).and_then(K::decode_key).ok_or_else(|| {
            ContractError::new(
                codes::BAD_STATE,
                format!("{}: undecodable key", self.namespace),
            )
        })?;
        Ok((key, decode_value(self.namespace, &v)?))
    }

    /// One host range call over the map: keys with `start <= key < end` (`None`: the map's
    /// first / past its last key), at most `limit` (clamped to 100), in `order`.
    pub fn range(
        &self,
        ctx: &Ctx,
        start: Option<&K>,
        end: Option<&K>,
        limit: u32,
        order: Order,
    ) -> Result<Vec<(K, V)>, ContractError> {
        let (s, e) = self.bounds(start, end);
        ctx.range(&s, e.as_deref(), limit, order)
            .into_iter()
            .map(|kv| self.decode_entry(kv))
            .collect()
    }

    /// A page for a paged query: up to `limit` (clamped to 1..=100) entries strictly after
    /// `start_after` in ascending order (from the first key if `None`). Pass the last key of
    /// a page as `start_after` to get the next one.
    pub fn page(
        &self,
        ctx: &Ctx,
        start_after: Option<&K>,
        limit: u32,
    ) -> Result<Vec<(K, V)>, ContractError> {
        let limit = limit.clamp(1, MAX_RANGE_LIMIT);
        let (_, end) = self.bounds(None, None);
        let start = match start_after {
            // `key || 0x00` is the smallest key after `key` (a key that long cannot exist, so
            // the host returns what follows).
            Some(k) => match crate::ctx::key_successor(&self.storage_key(k)) {
                Some(s) => s,
                None => return Ok(Vec::new()),
            },
            None => self.prefix(),
        };
        ctx.range(&start, end.as_deref(), limit, Order::Ascending)
            .into_iter()
            .map(|kv| self.decode_entry(kv))
            .collect()
    }

    /// Every entry of the map in `order`, fetched lazily 100 at a time.
    pub fn iter<'a>(&'a self, ctx: &'a Ctx, order: Order) -> MapIter<'a, K, V> {
        let (s, e) = self.bounds(None, None);
        MapIter {
            map: self,
            inner: ctx.range_iter(&s, e.as_deref(), order, MAX_RANGE_LIMIT),
        }
    }
}

/// Iterator over a whole [`Map`], from [`Map::iter`].
pub struct MapIter<'a, K, V> {
    map: &'a Map<K, V>,
    inner: RangeIter<'a>,
}

impl<K: Key + KeyDecode, V: Serialize + DeserializeOwned> Iterator for MapIter<'_, K, V> {
    type Item = Result<(K, V), ContractError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|kv| self.map.decode_entry(kv))
    }
}
