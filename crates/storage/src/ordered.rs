//! A versioned, key-ordered index of the state keys under [`ORDERED_PREFIXES`].
//!
//! # Why
//!
//! The JMT is ordered by key *hash*, so it cannot answer "the entries with `start <= key < end`
//! in key order". Contract storage needs exactly that, so the keys under a few prefixes are
//! indexed a second time, in raw-key order, next to the tree (not part of the state root: the
//! index is a local view of data the root already commits to).
//!
//! # Layout (`ordered` keyspace)
//!
//! Key: `escape(raw key) ‖ 0x00 0x00 ‖ BE(u64::MAX - version)`, where `escape` writes a `0x00`
//! byte as `0x00 0xFF` and every other byte as is. The escaped, terminated key is prefix-free and
//! sorts exactly like the raw key, so entries sort by raw key and then by version, **newest
//! first**. Value: as in `jmt_values` (`0` = deleted at this version, `1 ‖ bytes` = set).
//!
//! Only writes whose key is under an ordered prefix produce an entry, in the same atomic commit
//! batch as the rest of the block; other writes (balances, nonces) pay nothing.
//!
//! # Reads
//!
//! A read at committed bound `b` takes, per raw key, the newest entry with version `<= b` and
//! skips deletions: the same answer as a point read of that key bounded by `b` (see the
//! [`state`](crate::state) module docs for where `b` comes from). A prepared state merges its own
//! and its unfinalized ancestors' ordered writes (newer layers win) over that.
//!
//! # Stores created before the index
//!
//! They open with an empty `ordered` keyspace and are not back-filled: nothing wrote keys under
//! an ordered prefix before the index existed, so the empty index is complete.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

use fjall::{Keyspace, KvPair};

use crate::codec;
use crate::StorageError;

/// Key prefixes whose keys are also indexed in key order, so that
/// [`PreparedState::range`](crate::PreparedState::range) and
/// [`Store::range_latest`](crate::Store::range_latest) work under them.
///
/// Must equal `meridian_execution::ORDERED_PREFIXES` (a test in `meridian-node` checks it).
/// Changing the list for an existing chain needs a re-index: keys written under a newly added
/// prefix before the change are not in the index.
pub const ORDERED_PREFIXES: &[&[u8]] = &[b"contract/store/"];

/// `(key, value)` pairs of a range read, in the order asked for.
pub type RangeEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// One present entry.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// Writes under the ordered prefixes by raw key; `None` deletes.
pub(crate) type OrderedWrites = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Entries of one group (raw key) read one by one before a range read jumps over the rest with
/// a new seek instead (keys with a long history).
pub(crate) const RESEEK_AFTER: usize = 16;

/// `true` if `key` is under an ordered prefix (and so is indexed).
#[inline]
pub(crate) fn is_ordered(key: &[u8]) -> bool {
    ORDERED_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// `true` if `[start, end)` contains some key under an ordered prefix.
pub(crate) fn touches_ordered(start: &[u8], end: &[u8]) -> bool {
    start < end
        && ORDERED_PREFIXES.iter().any(|p| {
            // Keys under `p` are exactly `[p, prefix_end(p))`.
            end > *p && prefix_end(p).is_none_or(|pe| start < pe.as_slice())
        })
}

/// Smallest key greater than every key starting with `prefix` (`None`: no such key).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// `escape(raw) ‖ 0x00 0x00`: the group prefix of all index entries of `raw`.
pub(crate) fn group_key(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 2 + 8);
    for &b in raw {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// Index key of `raw` written at `version`.
pub(crate) fn index_key(raw: &[u8], version: u64) -> Vec<u8> {
    with_version(&group_key(raw), version)
}

fn with_version(group: &[u8], version: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(group.len() + 8);
    out.extend_from_slice(group);
    out.extend_from_slice(&(u64::MAX - version).to_be_bytes());
    out
}

/// Splits an index key into its group prefix and version.
fn split_index_key(key: &[u8]) -> Result<(&[u8], u64), StorageError> {
    if key.len() < 10 {
        return Err(StorageError::Corrupt("ordered index key: too short".into()));
    }
    let (group, inv) = key.split_at(key.len() - 8);
    if !group.ends_with(&[0, 0]) {
        return Err(StorageError::Corrupt(
            "ordered index key: no terminator".into(),
        ));
    }
    Ok((
        group,
        u64::MAX - codec::decode_u64(inv, "ordered index version")?,
    ))
}

/// The raw key of a group prefix.
fn decode_group(group: &[u8]) -> Result<Vec<u8>, StorageError> {
    let bad = || StorageError::Corrupt("ordered index key: bad escape".into());
    let mut out = Vec::with_capacity(group.len());
    let mut it = group.iter();
    while let Some(&b) = it.next() {
        if b != 0 {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(0xFF) => out.push(0),
            Some(0) if it.as_slice().is_empty() => return Ok(out),
            _ => return Err(bad()),
        }
    }
    Err(bad())
}

fn is_empty(lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            a >= b
        }
        _ => false,
    }
}

/// Present entries of the committed index in `[start, end)` as of a committed bound, in key
/// order (or reversed), produced lazily so a read stops as soon as its limit is met.
pub(crate) struct Committed<'a> {
    ks: &'a Keyspace,
    bound: u64,
    descending: bool,
    reseek_after: usize,
    /// What is left to scan, in index-key space (narrowed by re-seeks).
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    iter: Option<fjall::Iter>,
    done: bool,
    /// Group prefix of the entries being looked at.
    group: Option<Vec<u8>>,
    /// Ascending: the group's answer (newest entry `<= bound`) was already taken.
    answered: bool,
    /// Descending: encoded value of the newest entry `<= bound` of `group` seen so far.
    best: Option<fjall::Slice>,
    /// Entries of `group` read so far (or skipped since the answer).
    seen: usize,
    /// Descending: an entry of the next group, read while finishing the previous one.
    pending: Option<KvPair>,
}

impl<'a> Committed<'a> {
    pub(crate) fn new(
        ks: &'a Keyspace,
        start: &[u8],
        end: &[u8],
        bound: u64,
        descending: bool,
        reseek_after: usize,
    ) -> Self {
        Committed {
            ks,
            bound,
            descending,
            reseek_after: reseek_after.max(1),
            lo: Bound::Included(group_key(start)),
            hi: Bound::Excluded(group_key(end)),
            iter: None,
            done: false,
            group: None,
            answered: false,
            best: None,
            seen: 0,
            pending: None,
        }
    }

    /// The next present entry, or `None` when the range is exhausted.
    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>, StorageError> {
        if self.descending {
            self.next_descending()
        } else {
            self.next_ascending()
        }
    }

    fn pull(&mut self) -> Result<Option<KvPair>, StorageError> {
        if let Some(kv) = self.pending.take() {
            return Ok(Some(kv));
        }
        if self.done {
            return Ok(None);
        }
        let iter = match &mut self.iter {
            Some(iter) => iter,
            None => {
                if is_empty(&self.lo, &self.hi) {
                    self.done = true;
                    return Ok(None);
                }
                self.iter
                    .insert(self.ks.range((self.lo.clone(), self.hi.clone())))
            }
        };
        let guard = if self.descending {
            iter.next_back()
        } else {
            iter.next()
        };
        match guard {
            None => {
                self.done = true;
                self.iter = None;
                Ok(None)
            }
            Some(guard) => Ok(Some(guard.into_inner()?)),
        }
    }

    /// Forward order within a group is newest first: the first entry `<= bound` is the answer,
    /// everything after it is history.
    fn next_ascending(&mut self) -> Result<Option<Entry>, StorageError> {
        loop {
            let Some((key, value)) = self.pull()? else {
                return Ok(None);
            };
            let (group, version) = split_index_key(&key)?;
            if self.group.as_deref() != Some(group) {
                self.group = Some(group.to_vec());
                self.answered = false;
                self.seen = 0;
            }
            if self.answered || version > self.bound {
                self.seen += 1;
                if self.seen >= self.reseek_after {
                    // Jump: past this key's history, or to its newest entry `<= bound`.
                    self.lo = if self.answered {
                        Bound::Excluded(with_version(group, 0))
                    } else {
                        Bound::Included(with_version(group, self.bound))
                    };
                    self.iter = None;
                    self.seen = 0;
                }
                continue;
            }
            self.answered = true;
            self.seen = 0;
            if let Some(v) = codec::decode_value(&value)? {
                return Ok(Some((decode_group(group)?, v)));
            }
        }
    }

    /// Backward order within a group is oldest first: the answer is the last entry `<= bound`
    /// before the group ends.
    fn next_descending(&mut self) -> Result<Option<Entry>, StorageError> {
        loop {
            let Some((key, value)) = self.pull()? else {
                return self.finish_group();
            };
            let (group, version) = split_index_key(&key)?;
            if self.group.as_deref() != Some(group) {
                let out = self.finish_group()?;
                self.group = Some(group.to_vec());
                self.seen = 0;
                if out.is_some() {
                    self.pending = Some((key, value));
                    return Ok(out);
                }
            }
            if version <= self.bound {
                self.best = Some(value);
            }
            self.seen += 1;
            if self.seen >= self.reseek_after {
                // Long history: look the answer up directly, continue below this key.
                let group = group.to_vec();
                self.best = self.newest_at_most_bound(&group)?;
                self.hi = Bound::Excluded(group);
                self.iter = None;
                self.seen = 0;
            }
        }
    }

    fn finish_group(&mut self) -> Result<Option<Entry>, StorageError> {
        let (Some(group), Some(best)) = (self.group.take(), self.best.take()) else {
            return Ok(None);
        };
        match codec::decode_value(&best)? {
            Some(v) => Ok(Some((decode_group(&group)?, v))),
            None => Ok(None),
        }
    }

    fn newest_at_most_bound(&self, group: &[u8]) -> Result<Option<fjall::Slice>, StorageError> {
        let lo = with_version(group, self.bound);
        let hi = with_version(group, 0);
        match self.ks.range(lo..=hi).next() {
            None => Ok(None),
            Some(guard) => Ok(Some(guard.value()?)),
        }
    }
}

/// Merges `local` (prepared layers' writes in the range, newest layer already applied; `None`
/// deletes) over `committed`, in order, keeping the first `limit` present entries.
///
/// `committed` is consumed lazily, so however many of its entries `local` hides or replaces,
/// exactly `limit` entries come out whenever the merged range holds that many.
pub(crate) fn merge(
    local: OrderedWrites,
    mut committed: Option<Committed<'_>>,
    limit: usize,
    descending: bool,
) -> Result<RangeEntries, StorageError> {
    let mut next_committed = move || match &mut committed {
        Some(cursor) => cursor.next_entry(),
        None => Ok(None),
    };
    let local: Vec<(Vec<u8>, Option<Vec<u8>>)> = if descending {
        local.into_iter().rev().collect()
    } else {
        local.into_iter().collect()
    };
    let mut local = local.into_iter();
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let mut l = local.next();
    let mut c = next_committed()?;
    while out.len() < limit {
        let order = match (&l, &c) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((lk, _)), Some((ck, _))) => {
                let o = lk.cmp(ck);
                if descending {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if order == Ordering::Greater {
            out.extend(c.take());
            c = next_committed()?;
            continue;
        }
        if order == Ordering::Equal {
            // The layer's write replaces (or deletes) the committed entry.
            c = next_committed()?;
        }
        if let Some((k, Some(v))) = l.take() {
            out.push((k, v));
        }
        l = local.next();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_preserves_order_and_roundtrips() {
        let keys: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            vec![0, 0xFF],
            vec![0, 1],
            vec![1],
            vec![1, 0],
            vec![0xFF],
            vec![0xFF, 0],
            vec![0xFF, 0xFF],
            b"contract/store/".to_vec(),
            b"contract/store/\0".to_vec(),
        ];
        for a in &keys {
            assert_eq!(decode_group(&group_key(a)).unwrap(), *a);
            for b in &keys {
                for (va, vb) in [(0, 0), (0, u64::MAX), (5, 3), (u64::MAX, 0)] {
                    let (ka, kb) = (index_key(a, va), index_key(b, vb));
                    let expected = a.cmp(b).then(vb.cmp(&va));
                    assert_eq!(ka.cmp(&kb), expected, "{a:?}@{va} vs {b:?}@{vb}");
                }
            }
            let key = index_key(a, 42);
            let (g, v) = split_index_key(&key).unwrap();
            assert_eq!((g, v), (group_key(a).as_slice(), 42));
        }
        assert!(decode_group(&[0]).is_err());
        assert!(decode_group(&[0, 1, 0, 0]).is_err());
        assert!(decode_group(&[0, 0, 1]).is_err());
        assert!(split_index_key(&[0; 9]).is_err());
    }

    #[test]
    fn prefix_checks() {
        assert!(is_ordered(b"contract/store/x"));
        assert!(is_ordered(b"contract/store/"));
        assert!(!is_ordered(b"contract/store"));
        assert!(!is_ordered(b"bank/x"));
        assert!(touches_ordered(b"contract/store/a", b"contract/store/b"));
        assert!(touches_ordered(b"a", b"z"));
        assert!(touches_ordered(b"contract/", b"contract/store/\0"));
        assert!(!touches_ordered(b"contract/", b"contract/store/"));
        assert!(!touches_ordered(b"contract/store0", b"z"));
        assert!(!touches_ordered(b"contract/store/b", b"contract/store/a"));
        assert!(!touches_ordered(b"contract/store/a", b"contract/store/a"));
        assert_eq!(prefix_end(b"a\xFF\xFF"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xFF"), None);
    }

    /// Every re-seek threshold (1 = seek at every entry, `usize::MAX` = never) gives the
    /// answer of a plain model, at every bound, in both directions.
    #[test]
    fn reseek_thresholds_agree_with_model() {
        let dir = tempfile::tempdir().unwrap();
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let ks = db
            .keyspace("ordered", fjall::KeyspaceCreateOptions::default)
            .unwrap();
        // history[v] = writes at version v.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let raw = |i: u64| {
            let mut k = b"contract/store/".to_vec();
            k.extend_from_slice(&[(i % 3) as u8, (i / 3) as u8]);
            k
        };
        type History = Vec<Vec<(Vec<u8>, Option<Vec<u8>>)>>;
        let mut history: History = Vec::new();
        for version in 0..40u64 {
            let mut writes = Vec::new();
            for _ in 0..(next() % 4) {
                let key = raw(next() % 7);
                let value = (next() % 3 != 0).then(|| version.to_be_bytes().to_vec());
                ks.insert(
                    index_key(&key, version),
                    codec::encode_value(value.as_deref()),
                )
                .unwrap();
                writes.push((key, value));
            }
            history.push(writes);
        }
        let lo = raw(1);
        let hi = raw(19);
        for bound in 0..40u64 {
            let mut model = BTreeMap::new();
            for writes in &history[..=bound as usize] {
                for (k, v) in writes {
                    match v {
                        Some(v) => model.insert(k.clone(), v.clone()),
                        None => model.remove(k),
                    };
                }
            }
            for (start, end) in [(&raw(0), &raw(21)), (&lo, &hi)] {
                let asc: Vec<_> = model
                    .range(start.clone()..end.clone())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let desc: Vec<_> = asc.iter().rev().cloned().collect();
                for reseek in [1, 2, 3, usize::MAX] {
                    for (descending, expected) in [(false, &asc), (true, &desc)] {
                        let mut cursor = Committed::new(&ks, start, end, bound, descending, reseek);
                        let mut got = Vec::new();
                        while let Some(e) = cursor.next_entry().unwrap() {
                            got.push(e);
                        }
                        assert_eq!(
                            &got, expected,
                            "bound {bound} reseek {reseek} desc {descending}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn merge_honours_limit_through_deletions() {
        let local: OrderedWrites = [
            (b"a".to_vec(), None),
            (b"b".to_vec(), Some(b"B".to_vec())),
            (b"d".to_vec(), None),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            merge(local.clone(), None, 5, false).unwrap(),
            vec![(b"b".to_vec(), b"B".to_vec())]
        );
        assert_eq!(merge(local, None, 0, true).unwrap(), vec![]);
    }
}
