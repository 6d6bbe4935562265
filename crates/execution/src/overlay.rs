//! Layered state views.

use std::collections::BTreeMap;

/// Read access to a state snapshot.
pub trait StateRead {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;

    /// Entries with `start <= key < end` in key order (`descending` reverses it), at most
    /// `limit`. Only key spaces the storage keeps ordered ([`ORDERED_PREFIXES`]) may be ranged;
    /// a range outside them returns nothing, because the tree itself is ordered by key hash.
    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Vec<(Vec<u8>, Vec<u8>)>;
}

/// Key prefixes whose keys storage also indexes in key order, so [`StateRead::range`] works
/// under them. Contract storage is the one user; keep the list short, every indexed write costs.
pub const ORDERED_PREFIXES: &[&[u8]] = &[b"contract/store/"];

/// `true` if `[start, end)` lies inside one ordered prefix.
pub fn is_ordered_range(start: &[u8], end: &[u8]) -> bool {
    ORDERED_PREFIXES
        .iter()
        .any(|p| start.starts_with(p) && end.starts_with(p))
}

/// Merges buffered `writes` over `base`'s range: the buffer wins, `None` hides a base entry.
pub fn range_through(
    writes: &WriteSet,
    base: &dyn StateRead,
    start: &[u8],
    end: &[u8],
    limit: usize,
    descending: bool,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    if limit == 0 || start >= end {
        return Vec::new();
    }
    // Ask the base for enough entries to survive deletions hidden in the buffer.
    let local: Vec<(&Vec<u8>, &Option<Vec<u8>>)> = if descending {
        writes.range(start.to_vec()..end.to_vec()).rev().collect()
    } else {
        writes.range(start.to_vec()..end.to_vec()).collect()
    };
    let deleted = local.iter().filter(|(_, v)| v.is_none()).count();
    let below = base.range(start, end, limit.saturating_add(deleted), descending);
    let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = below
        .into_iter()
        .filter(|(k, _)| !writes.contains_key(k))
        .collect();
    for (k, v) in local {
        if let Some(v) = v {
            merged.insert(k.clone(), v.clone());
        }
    }
    if descending {
        merged.into_iter().rev().take(limit).collect()
    } else {
        merged.into_iter().take(limit).collect()
    }
}

/// Ordered writes; `None` deletes. Ordered so every node hands storage the same sequence.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Buffered writes over a base view. Reads see the buffer first.
pub struct Overlay<'a> {
    base: &'a dyn StateRead,
    writes: WriteSet,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn StateRead) -> Self {
        Self {
            base,
            writes: WriteSet::new(),
        }
    }
    pub fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.writes.insert(key, value);
    }
    pub fn merge(&mut self, writes: WriteSet) {
        self.writes.extend(writes);
    }
    pub fn into_writes(self) -> WriteSet {
        self.writes
    }
}

impl StateRead for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(v) => v.clone(),
            None => self.base.get(key),
        }
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        range_through(&self.writes, self.base, start, end, limit, descending)
    }
}

impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        BTreeMap::get(self, key).cloned()
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        if start >= end || !is_ordered_range(start, end) {
            return Vec::new();
        }
        let it = BTreeMap::range(self, start.to_vec()..end.to_vec());
        let pick = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        if descending {
            it.rev().take(limit).map(pick).collect()
        } else {
            it.take(limit).map(pick).collect()
        }
    }
}
