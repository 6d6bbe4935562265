//! Trust anchor: the genesis validator set, used to check finalization certificates.
//!
//! A state proof only shows that a value is in the state whose root is in a header. Whether that
//! header is *final* is the node's word — unless the client checks the header's finalization
//! certificate against validators it already trusts. Giving the client the chain's
//! `genesis.toml` (the same file every validator starts from) turns "the node says" into "a
//! quorum of the validators signed it". Governance changes the set at epoch boundaries; the
//! client follows those changes from genesis (`Client` does the walk): the last block of each
//! epoch must carry a certificate of that epoch's set, and the next set is `chain/validators`
//! proven against that block's state root.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use meridian_crypto::{PublicKey, Suite};
use meridian_node::{ChainHash, Genesis};
use meridian_types::{ChainId, Header};

use crate::error::{ClientError, Result};

/// How a header's finality was established.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finality {
    /// No trust anchor configured: the header is the one the node reports as finalized.
    ReportedByNode,
    /// The finalization certificate verified: a quorum of the validators of the header's epoch
    /// (followed from genesis) signed it.
    Certified {
        validators: usize,
        epoch: u64,
        view: u64,
    },
    /// Height 0: matches the trusted genesis (chain id, time) and needs no certificate.
    Genesis,
}

impl std::fmt::Display for Finality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finality::ReportedByNode => {
                f.write_str("finality reported by the node (pass --genesis to check certificates)")
            }
            Finality::Certified {
                validators,
                epoch,
                view,
            } => write!(
                f,
                "finalization certificate verified: quorum of the {validators} validators of \
                 epoch {epoch} (view {view})"
            ),
            Finality::Genesis => f.write_str("genesis header matches the trusted genesis"),
        }
    }
}

/// The validators a client trusts, from the chain's genesis, and the sets of later epochs it
/// has verified so far.
#[derive(Clone, Debug)]
pub struct TrustAnchor {
    pub chain_id: ChainId,
    pub suite: Suite,
    /// The genesis validator set (epoch 0).
    pub validators: Vec<PublicKey>,
    pub genesis_timestamp_ms: u64,
    /// Blocks per consensus epoch (from genesis).
    pub epoch_blocks: u64,
    /// Verified validator sets by epoch (a missing epoch has the set of the newest one below).
    sets: Arc<Mutex<BTreeMap<u64, Vec<PublicKey>>>>,
}

impl TrustAnchor {
    pub fn from_genesis(g: &Genesis) -> Result<Self> {
        let (chain_id, suite, validators) = g
            .parse()
            .map_err(|e| ClientError::BadInput(format!("genesis: {e}")))?;
        let epoch_blocks = g
            .chain_config()
            .map_err(|e| ClientError::BadInput(format!("genesis: {e}")))?
            .epoch_blocks;
        let sets = BTreeMap::from([(0, validators.clone())]);
        Ok(Self {
            chain_id,
            suite,
            validators,
            genesis_timestamp_ms: g.timestamp_ms,
            epoch_blocks,
            sets: Arc::new(Mutex::new(sets)),
        })
    }

    /// The consensus epoch of a height.
    pub fn epoch_of(&self, height: u64) -> u64 {
        height / self.epoch_blocks.max(1)
    }

    /// The last height of `epoch` (its boundary block, signed by its own set).
    pub fn last_height_of(&self, epoch: u64) -> u64 {
        (epoch + 1)
            .saturating_mul(self.epoch_blocks.max(1))
            .saturating_sub(1)
    }

    /// The newest verified set at or below `epoch`, with the epoch it was verified for.
    pub fn known_set(&self, epoch: u64) -> (u64, Vec<PublicKey>) {
        let sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        sets.range(..=epoch)
            .next_back()
            .map(|(e, s)| (*e, s.clone()))
            .unwrap_or((0, self.validators.clone()))
    }

    /// Records the verified set of `epoch` (see [`Client`](crate::Client) for the walk).
    pub fn learn(&self, epoch: u64, validators: Vec<PublicKey>) {
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        sets.insert(epoch, validators);
    }

    /// Reads a `genesis.toml` as written by `meridian init`.
    pub fn from_genesis_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ClientError::io(path, e))?;
        let g: Genesis = toml::from_str(&text)
            .map_err(|e| ClientError::BadInput(format!("{}: {e}", path.display())))?;
        Self::from_genesis(&g)
    }

    /// Checks that `certificate` finalizes exactly `header` on this chain, with the validator
    /// set of the header's epoch (which must already be known: see [`Self::known_set`]).
    pub fn verify(&self, header: &Header, certificate: &[u8]) -> Result<Finality> {
        let epoch = self.epoch_of(header.height);
        let (known, set) = self.known_set(epoch);
        if known != epoch {
            return Err(ClientError::CertificateInvalid(format!(
                "the validator set of epoch {epoch} is not known yet (follow it from genesis)"
            )));
        }
        self.verify_with(header, certificate, &set)
    }

    /// Checks that `certificate` finalizes exactly `header` on this chain, signed by a quorum
    /// of `validators`.
    pub fn verify_with(
        &self,
        header: &Header,
        certificate: &[u8],
        validators: &[PublicKey],
    ) -> Result<Finality> {
        let bad = |m: String| ClientError::CertificateInvalid(m);
        if header.chain_id != self.chain_id {
            return Err(bad(format!(
                "header is for chain {}, the trusted genesis is {}",
                header.chain_id, self.chain_id
            )));
        }
        if header.height == 0 {
            return if header.timestamp_ms == self.genesis_timestamp_ms && header.parent == [0; 32] {
                Ok(Finality::Genesis)
            } else {
                Err(bad(
                    "genesis header does not match the trusted genesis".into()
                ))
            };
        }
        if certificate.is_empty() {
            return Err(bad(format!(
                "the node sent no certificate for height {}",
                header.height
            )));
        }
        let digest = header.hash(&ChainHash(self.suite));
        let view = meridian_crypto::finality::verify_finalization(
            self.suite,
            self.chain_id.as_str(),
            validators,
            certificate,
            digest,
        )
        .map_err(|e| bad(format!("height {}: {e}", header.height)))?;
        Ok(Finality::Certified {
            validators: validators.len(),
            epoch: self.epoch_of(header.height),
            view,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_crypto::PrivateKey;
    use meridian_node::GenesisValidator;

    #[test]
    fn epochs_need_their_own_validator_set() {
        let key = PrivateKey::from_seed(Suite::Intl, &[3; 32]);
        let g = Genesis {
            chain_id: "trust-test".into(),
            suite: "intl".into(),
            timestamp_ms: 1,
            validators: vec![GenesisValidator {
                name: "v".into(),
                public_key: hex::encode(key.public_key().as_bytes()),
            }],
            orgs: Vec::new(),
            members: Vec::new(),
            policies: Vec::new(),
            epoch_blocks: Some(4),
            fault_tolerance: None,
        };
        let anchor = TrustAnchor::from_genesis(&g).unwrap();
        assert_eq!((anchor.epoch_of(3), anchor.epoch_of(4)), (0, 1));
        assert_eq!(anchor.last_height_of(0), 3);
        let header = Header {
            chain_id: anchor.chain_id.clone(),
            height: 9,
            parent: [1; 32],
            timestamp_ms: 5,
            view: 1,
            proposer: Vec::new(),
            tx_root: [0; 32],
            receipts_root: [0; 32],
            state_root: [0; 32],
        };
        // Epoch 2's set was never followed: the genesis set is not good enough.
        let err = anchor.verify(&header, &[1, 2, 3]).unwrap_err();
        assert!(err.to_string().contains("epoch 2"), "{err}");
        assert_eq!(anchor.known_set(2).0, 0);
        anchor.learn(2, vec![key.public_key()]);
        assert_eq!(anchor.known_set(5).0, 2);
        // Known now; the (garbage) certificate itself is what fails.
        let err = anchor.verify(&header, &[1, 2, 3]).unwrap_err();
        assert!(!err.to_string().contains("not known"), "{err}");
    }
}
