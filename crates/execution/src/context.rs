//! What a module sees while executing one transaction.

use crate::overlay::{StateRead, WriteSet};
use crate::ModuleError;
use meridian_types::{Address, ChainId, Event, Hash32, HashFn};

/// The module allowed to write `chain/validators` and `chain/config` besides its own keys.
pub const CHAIN_GOVERNANCE_MODULE: &str = "identity";

/// Per-transaction execution context: the caller, the block environment, a private write
/// buffer over the block's state, and the events emitted so far.
pub struct TxContext<'a> {
    module: &'static str,
    base: &'a dyn StateRead,
    writes: WriteSet,
    events: Vec<Event>,
    hash: &'a dyn HashFn,
    /// Address of the transaction's signer.
    pub sender: Address,
    pub chain_id: &'a ChainId,
    pub height: u64,
    /// Block time (header timestamp), milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub tx_hash: Hash32,
}

impl<'a> TxContext<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        module: &'static str,
        base: &'a dyn StateRead,
        hash: &'a dyn HashFn,
        sender: Address,
        chain_id: &'a ChainId,
        height: u64,
        time_ms: u64,
        tx_hash: Hash32,
    ) -> Self {
        Self {
            module,
            base,
            writes: WriteSet::new(),
            events: Vec::new(),
            hash,
            sender,
            chain_id,
            height,
            time_ms,
            tx_hash,
        }
    }

    fn check_key(&self, key: &[u8]) -> Result<(), ModuleError> {
        let prefix = self.module.as_bytes();
        let own = key.len() > prefix.len() && key.starts_with(prefix) && key[prefix.len()] == b'/';
        // Alliance governance is the only writer of the chain-level validator set and
        // parameters (consensus reads them at epoch boundaries).
        let chain_level = self.module == CHAIN_GOVERNANCE_MODULE
            && (key == meridian_types::VALIDATORS_KEY || key == meridian_types::CHAIN_CONFIG_KEY);
        if own || chain_level {
            Ok(())
        } else {
            Err(ModuleError::new(
                crate::codes::FORBIDDEN_KEY,
                format!("module {} may only write its own keys", self.module),
            ))
        }
    }

    /// Reads any key (modules may read each other's public state).
    /// The account address of a public key (the suite's address derivation).
    pub fn address_of(&self, public_key: &[u8]) -> Address {
        Address::from_public_key(self.hash, public_key)
    }

    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(v) => v.clone(),
            None => self.base.get(key),
        }
    }

    pub fn set(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ModuleError> {
        self.check_key(&key)?;
        self.writes.insert(key, Some(value));
        Ok(())
    }

    pub fn delete(&mut self, key: Vec<u8>) -> Result<(), ModuleError> {
        self.check_key(&key)?;
        self.writes.insert(key, None);
        Ok(())
    }

    /// Emits an event attributed to the calling module.
    pub fn emit(&mut self, kind: &str, data: Vec<u8>) -> Result<(), ModuleError> {
        if self.events.len() >= meridian_types::MAX_EVENTS_PER_TX
            || data.len() > meridian_types::MAX_EVENT_DATA_LEN
        {
            return Err(ModuleError::new(
                "tx.too_many_events",
                "event limit exceeded",
            ));
        }
        self.events.push(Event {
            module: self.module.to_string(),
            kind: kind.to_string(),
            data,
        });
        Ok(())
    }

    /// The chain's hash function.
    pub fn hash(&self, data: &[u8]) -> Hash32 {
        self.hash.hash(data)
    }

    pub(crate) fn finish(self) -> (WriteSet, Vec<Event>) {
        (self.writes, self.events)
    }
}
