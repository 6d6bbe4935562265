//! Trust anchor: the genesis validator set, used to check finalization certificates.
//!
//! A state proof only shows that a value is in the state whose root is in a header. Whether that
//! header is *final* is the node's word — unless the client checks the header's finalization
//! certificate against validators it already trusts. Giving the client the chain's
//! `genesis.toml` (the same file every validator starts from) turns "the node says" into "a
//! quorum of the genesis validators signed it". The validator set is fixed at genesis for now;
//! when governance can change it, the anchor will follow the signed changes from genesis.

use std::path::Path;

use meridian_consensus::{verify_finalization, Ed25519Scheme, Sm2Scheme};
use meridian_crypto::{Digest32, PublicKey, Suite};
use meridian_node::{ChainHash, Genesis};
use meridian_types::{ChainId, Header};

use crate::error::{ClientError, Result};

/// How a header's finality was established.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finality {
    /// No trust anchor configured: the header is the one the node reports as finalized.
    ReportedByNode,
    /// The finalization certificate verified: a quorum of the trusted validators signed it.
    Certified { validators: usize, view: u64 },
    /// Height 0: matches the trusted genesis (chain id, time) and needs no certificate.
    Genesis,
}

impl std::fmt::Display for Finality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finality::ReportedByNode => {
                f.write_str("finality reported by the node (pass --genesis to check certificates)")
            }
            Finality::Certified { validators, view } => write!(
                f,
                "finalization certificate verified: quorum of the {validators} genesis \
                 validators (view {view})"
            ),
            Finality::Genesis => f.write_str("genesis header matches the trusted genesis"),
        }
    }
}

/// The validators a client trusts, from the chain's genesis.
#[derive(Clone, Debug)]
pub struct TrustAnchor {
    pub chain_id: ChainId,
    pub suite: Suite,
    pub validators: Vec<PublicKey>,
    pub genesis_timestamp_ms: u64,
}

impl TrustAnchor {
    pub fn from_genesis(g: &Genesis) -> Result<Self> {
        let (chain_id, suite, validators) = g
            .parse()
            .map_err(|e| ClientError::BadInput(format!("genesis: {e}")))?;
        Ok(Self {
            chain_id,
            suite,
            validators,
            genesis_timestamp_ms: g.timestamp_ms,
        })
    }

    /// Reads a `genesis.toml` as written by `meridian init`.
    pub fn from_genesis_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ClientError::io(path, e))?;
        let g: Genesis = toml::from_str(&text)
            .map_err(|e| ClientError::BadInput(format!("{}: {e}", path.display())))?;
        Self::from_genesis(&g)
    }

    /// Checks that `certificate` finalizes exactly `header` on this chain.
    pub fn verify(&self, header: &Header, certificate: &[u8]) -> Result<Finality> {
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
        let digest = Digest32(header.hash(&ChainHash(self.suite)));
        let mut rng = rand::rng();
        let chain = self.chain_id.as_str();
        let view = match self.suite {
            Suite::Sm => {
                let keys: Vec<_> = self
                    .validators
                    .iter()
                    .filter_map(|k| match k {
                        PublicKey::Sm2(p) => Some(p.clone()),
                        PublicKey::Ed25519(_) => None,
                    })
                    .collect();
                verify_finalization::<Sm2Scheme, Digest32, _>(
                    &mut rng,
                    chain,
                    &keys,
                    certificate,
                    &digest,
                )
            }
            Suite::Intl => {
                let keys: Vec<_> = self
                    .validators
                    .iter()
                    .filter_map(|k| match k {
                        PublicKey::Ed25519(p) => Some(p.clone()),
                        PublicKey::Sm2(_) => None,
                    })
                    .collect();
                verify_finalization::<Ed25519Scheme, Digest32, _>(
                    &mut rng,
                    chain,
                    &keys,
                    certificate,
                    &digest,
                )
            }
        }
        .map_err(|e| bad(format!("height {}: {e}", header.height)))?;
        Ok(Finality::Certified {
            validators: self.validators.len(),
            view,
        })
    }
}
