//! What a module sees while executing one transaction.

use crate::overlay::{range_through, StateRead, WriteSet};
use crate::{Module, ModuleError};
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
    /// Fuel a contract call consumed; reported in the receipt even when the call fails.
    gas_used: u64,
}

/// What a nested call left behind: its writes and events, to keep with
/// [`TxContext::absorb`] or drop to revert it.
pub struct ChildOutcome {
    writes: WriteSet,
    events: Vec<Event>,
}

impl ChildOutcome {
    /// How many events the nested call emitted.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }
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
            gas_used: 0,
        }
    }

    /// A context for a read-only query outside any block (e.g. a contract's `query` entry
    /// point served by the API): reads see `base`; anything written is dropped with it.
    pub fn for_query(
        module: &'static str,
        base: &'a dyn StateRead,
        hash: &'a dyn HashFn,
        chain_id: &'a ChainId,
        height: u64,
        time_ms: u64,
    ) -> Self {
        Self::new(
            module,
            base,
            hash,
            Address([0; 20]),
            chain_id,
            height,
            time_ms,
            [0; 32],
        )
    }

    /// A nested context for `module` acting as `sender`: it reads this context's writes, keeps
    /// its own write buffer, and is checked against `module`'s key space. Used by the contract
    /// module for contract-to-contract calls (whose writes are dropped if the callee fails) and
    /// to call native modules from a contract's own account.
    pub fn child(&self, module: &'static str, sender: Address) -> TxContext<'_> {
        TxContext {
            module,
            base: self,
            writes: WriteSet::new(),
            events: Vec::new(),
            hash: self.hash,
            sender,
            chain_id: self.chain_id,
            height: self.height,
            time_ms: self.time_ms,
            tx_hash: self.tx_hash,
            gas_used: 0,
        }
    }

    /// Ends a nested context (see [`Self::child`]).
    pub fn into_outcome(self) -> ChildOutcome {
        ChildOutcome {
            writes: self.writes,
            events: self.events,
        }
    }

    /// Keeps a nested call's writes and events. Its writes were checked against its own
    /// module's key space when made, so they are not checked again here.
    pub fn absorb(&mut self, outcome: ChildOutcome) -> Result<(), ModuleError> {
        if self.events.len() + outcome.events.len() > meridian_types::MAX_EVENTS_PER_TX {
            return Err(ModuleError::new(
                "tx.too_many_events",
                "event limit exceeded",
            ));
        }
        self.writes.extend(outcome.writes);
        self.events.extend(outcome.events);
        Ok(())
    }

    /// Runs `method` of native `module` as `sender` in a nested context and keeps its effects
    /// only if it succeeds.
    pub fn call_module(
        &mut self,
        module: &dyn Module,
        sender: Address,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        let mut child = self.child(module.name(), sender);
        module.execute(&mut child, method, args)?;
        let outcome = child.into_outcome();
        self.absorb(outcome)
    }

    /// Records the fuel a contract call consumed (kept on failure too).
    pub fn set_gas_used(&mut self, gas: u64) {
        self.gas_used = gas;
    }

    /// How many events this context has emitted or kept so far.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// The module this context writes for.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// Entries with `start <= key < end` as this transaction sees them (its own writes over the
    /// block's state); see [`StateRead::range`] for which key spaces are ordered.
    pub fn range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        range_through(&self.writes, self.base, start, end, limit, descending)
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

    /// The account address of a public key (the suite's address derivation).
    pub fn address_of(&self, public_key: &[u8]) -> Address {
        Address::from_public_key(self.hash, public_key)
    }

    /// Reads any key (modules may read each other's public state).
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
            || kind.is_empty()
            || kind.len() > meridian_types::MAX_EVENT_KIND_LEN
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

    pub(crate) fn finish(self) -> (WriteSet, Vec<Event>, u64) {
        (self.writes, self.events, self.gas_used)
    }
}

impl StateRead for TxContext<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        TxContext::get(self, key)
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        descending: bool,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        TxContext::range(self, start, end, limit, descending)
    }
}
