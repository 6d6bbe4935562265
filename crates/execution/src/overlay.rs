//! Layered state views.

use std::collections::BTreeMap;

/// Read access to a state snapshot.
pub trait StateRead {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
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
}

impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        BTreeMap::get(self, key).cloned()
    }
}
