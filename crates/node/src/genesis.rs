//! Genesis: the chain's identity, suite and initial validator set.

use meridian_crypto::{PublicKey, Suite};
use meridian_types::{Block, ChainId, Header, Writer};
use serde::{Deserialize, Serialize};

use crate::ledger::LedgerError;

/// State keys written at genesis (outside every module's key space).
pub const GENESIS_KEYS: [&str; 2] = ["chain/params", "chain/validators"];

/// A validator listed in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    pub name: String,
    /// Public key in the suite's canonical encoding, hex.
    pub public_key: String,
}

/// Everything every node must agree on before the first block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    pub chain_id: String,
    /// `sm` or `intl`.
    pub suite: String,
    pub timestamp_ms: u64,
    pub validators: Vec<GenesisValidator>,
}

impl Genesis {
    /// Checks the genesis and returns its parsed parts.
    pub fn parse(&self) -> Result<(ChainId, Suite, Vec<PublicKey>), LedgerError> {
        let chain_id = ChainId::new(self.chain_id.clone()).map_err(|_| {
            LedgerError::Genesis("chain_id must be 1-64 chars of [a-z0-9._-]".into())
        })?;
        let suite: Suite = self
            .suite
            .parse()
            .map_err(|_| LedgerError::Genesis("suite must be `sm` or `intl`".into()))?;
        if self.validators.is_empty() {
            return Err(LedgerError::Genesis(
                "at least one validator is required".into(),
            ));
        }
        let mut keys = Vec::new();
        for v in &self.validators {
            let raw = hex::decode(&v.public_key).map_err(|_| {
                LedgerError::Genesis(format!("validator {}: public_key is not hex", v.name))
            })?;
            let pk = PublicKey::from_bytes(suite, &raw)
                .map_err(|e| LedgerError::Genesis(format!("validator {}: {e}", v.name)))?;
            if keys.contains(&pk) {
                return Err(LedgerError::Genesis(format!(
                    "validator {} is listed twice",
                    v.name
                )));
            }
            keys.push(pk);
        }
        Ok((chain_id, suite, keys))
    }

    /// The genesis state writes.
    pub(crate) fn state_writes(
        &self,
        suite: Suite,
        keys: &[PublicKey],
    ) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut params = Writer::new();
        params.str(&self.chain_id);
        params.u8(suite.tag());
        params.u64(self.timestamp_ms);
        let mut vals = Writer::new();
        vals.len(keys.len());
        for (v, k) in self.validators.iter().zip(keys) {
            vals.str(&v.name);
            vals.bytes(k.as_bytes());
        }
        vec![
            (
                GENESIS_KEYS[0].as_bytes().to_vec(),
                Some(params.into_bytes()),
            ),
            (GENESIS_KEYS[1].as_bytes().to_vec(), Some(vals.into_bytes())),
        ]
    }

    /// The genesis block for a given state root.
    pub(crate) fn block(&self, chain_id: ChainId, state_root: [u8; 32]) -> Block {
        Block {
            header: Header {
                chain_id,
                height: 0,
                parent: [0; 32],
                timestamp_ms: self.timestamp_ms,
                view: 0,
                proposer: Vec::new(),
                tx_root: [0; 32],
                receipts_root: [0; 32],
                state_root,
            },
            txs: Vec::new(),
        }
    }

    /// Canonical bytes (for fingerprinting a genesis file).
    pub fn fingerprint_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(&self.chain_id);
        w.str(&self.suite);
        w.u64(self.timestamp_ms);
        for v in &self.validators {
            w.str(&v.name);
            w.str(&v.public_key);
        }
        w.into_bytes()
    }
}
