//! Genesis: the chain's identity, suite and initial validator set.

use meridian_crypto::{PublicKey, Suite};
use meridian_types::{
    Block, ChainConfig, ChainId, Encode, Header, ValidatorEntry, ValidatorSet, Writer,
    CHAIN_CONFIG_KEY, VALIDATORS_KEY,
};
use serde::{Deserialize, Serialize};

use crate::ledger::LedgerError;

/// State keys written at genesis (outside every module's key space).
pub const GENESIS_KEYS: [&str; 3] = ["chain/params", "chain/validators", "chain/config"];

/// A validator listed in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    pub name: String,
    /// Public key in the suite's canonical encoding, hex.
    pub public_key: String,
}

/// A genesis state write: key and value.
type GenesisWrite = (Vec<u8>, Option<Vec<u8>>);

/// A founding organisation of a certificate-mode chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisOrg {
    pub id: String,
    /// The organisation CA's certificate, PEM.
    pub ca_cert: String,
}

/// Roles allowed to send a call (`<module>.<method>` or `<module>.*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisPolicy {
    pub call: String,
    pub roles: Vec<String>,
}

/// Everything every node must agree on before the first block.
///
/// With `orgs` the chain runs in certificate mode (see `meridian_identity_module`): `members`
/// lists the certificates (PEM) registered at genesis — every validator's `consensus`
/// certificate and the first admins — and `policies` the roles allowed per call (the defaults
/// when empty). Without `orgs` the chain is open: any valid signature may transact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    pub chain_id: String,
    /// `sm` or `intl`.
    pub suite: String,
    pub timestamp_ms: u64,
    pub validators: Vec<GenesisValidator>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<GenesisOrg>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<GenesisPolicy>,
    /// Blocks per consensus epoch (validator-set changes apply at epoch boundaries); fixed for
    /// the life of the chain. Default 256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_blocks: Option<u64>,
    /// Faults the validator set must tolerate (it never shrinks below `3f + 1`). Default: the
    /// most the genesis validators tolerate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_tolerance: Option<u32>,
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

    /// The chain parameters genesis sets (checked against the validator count).
    pub fn chain_config(&self) -> Result<ChainConfig, LedgerError> {
        let mut c = ChainConfig::defaults(self.validators.len());
        if let Some(e) = self.epoch_blocks {
            c.epoch_blocks = e;
        }
        if let Some(f) = self.fault_tolerance {
            c.fault_tolerance = f;
        }
        c.check(self.validators.len())
            .map_err(|e| LedgerError::Genesis(format!("chain parameters: {e}")))?;
        Ok(c)
    }

    /// Certificate-mode state writes (none for an open chain). Checks the genesis invariants:
    /// every member certificate verifies at genesis time and every validator holds a
    /// `consensus` certificate.
    fn identity_writes(
        &self,
        suite: Suite,
        keys: &[PublicKey],
    ) -> Result<Vec<GenesisWrite>, LedgerError> {
        use meridian_identity_module as idm;
        if self.orgs.is_empty() {
            if !self.members.is_empty() || !self.policies.is_empty() {
                return Err(LedgerError::Genesis(
                    "members and policies need at least one org".into(),
                ));
            }
            return Ok(Vec::new());
        }
        let orgs: Vec<idm::GenesisOrg<'_>> = self
            .orgs
            .iter()
            .map(|o| idm::GenesisOrg {
                id: &o.id,
                ca_cert: o.ca_cert.as_bytes(),
            })
            .collect();
        let members: Vec<&[u8]> = self.members.iter().map(|m| m.as_bytes()).collect();
        let policies: Vec<(String, Vec<String>)> = if self.policies.is_empty() {
            idm::default_policies()
        } else {
            self.policies
                .iter()
                .map(|p| (p.call.clone(), p.roles.clone()))
                .collect()
        };
        let hash = crate::ChainHash(suite);
        let address_of = |k: &[u8]| meridian_types::Address::from_public_key(&hash, k);
        let writes = idm::genesis_writes(
            suite,
            self.timestamp_ms / 1000,
            &orgs,
            &members,
            &policies,
            &address_of,
        )
        .map_err(LedgerError::Genesis)?;
        // Every validator must be a registered `consensus` member.
        for (v, k) in self.validators.iter().zip(keys) {
            let ok = self.members.iter().any(|pem| {
                meridian_identity::Certificate::parse(pem.as_bytes()).is_ok_and(|c| {
                    c.role().ok() == Some(meridian_identity::Role::Consensus)
                        && c.public_key().to_bytes() == k.as_bytes()
                })
            });
            if !ok {
                return Err(LedgerError::Genesis(format!(
                    "validator {} has no consensus certificate among members",
                    v.name
                )));
            }
        }
        Ok(writes.into_iter().map(|(k, v)| (k, Some(v))).collect())
    }

    /// The genesis state writes.
    pub(crate) fn state_writes(
        &self,
        suite: Suite,
        keys: &[PublicKey],
    ) -> Result<Vec<GenesisWrite>, LedgerError> {
        let mut params = Writer::new();
        params.str(&self.chain_id);
        params.u8(suite.tag());
        params.u64(self.timestamp_ms);
        let vals = ValidatorSet(
            self.validators
                .iter()
                .zip(keys)
                .map(|(v, k)| ValidatorEntry {
                    name: v.name.clone(),
                    public_key: k.as_bytes().to_vec(),
                })
                .collect(),
        );
        let mut writes = vec![
            (
                GENESIS_KEYS[0].as_bytes().to_vec(),
                Some(params.into_bytes()),
            ),
            (VALIDATORS_KEY.to_vec(), Some(vals.encode())),
            (
                CHAIN_CONFIG_KEY.to_vec(),
                Some(self.chain_config()?.encode()),
            ),
        ];
        writes.extend(self.identity_writes(suite, keys)?);
        Ok(writes)
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
        for o in &self.orgs {
            w.str(&o.id);
            w.str(&o.ca_cert);
        }
        for m in &self.members {
            w.str(m);
        }
        for p in &self.policies {
            w.str(&p.call);
            for r in &p.roles {
                w.str(r);
            }
        }
        if let Some(e) = self.epoch_blocks {
            w.str("epoch_blocks");
            w.u64(e);
        }
        if let Some(f) = self.fault_tolerance {
            w.str("fault_tolerance");
            w.u32(f);
        }
        w.into_bytes()
    }
}
