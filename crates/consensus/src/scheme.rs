//! Certificate schemes for votes, one per crypto suite, and the chain-bound namespaces.

use crate::error::Error;
use commonware_cryptography::{certificate, ed25519, Signer};
use commonware_utils::ordered::Set;
use meridian_crypto::{Domain, SigningKind};

/// A vote/certificate scheme whose validator identity key is also the node's p2p identity key.
///
/// The adapter builds the scheme itself from the chain id, so no caller can forget to bind votes
/// to the chain. Implemented for both suites: [`Ed25519Scheme`] (`intl`) and [`Sm2Scheme`] (`sm`).
pub trait ConsensusScheme: certificate::Scheme {
    /// The private key that signs votes and authenticates p2p connections.
    type Signer: Signer<PublicKey = Self::PublicKey>;

    /// A scheme that signs with `signer`; `None` if `signer` is not among `participants`.
    fn signer(
        namespace: &[u8],
        participants: Set<Self::PublicKey>,
        signer: Self::Signer,
    ) -> Option<Self>;

    /// A scheme that only verifies certificates (light clients, auditors, tests).
    fn verifier(namespace: &[u8], participants: Set<Self::PublicKey>) -> Self;
}

impl ConsensusScheme for commonware_consensus::simplex::scheme::ed25519::Scheme {
    type Signer = ed25519::PrivateKey;

    fn signer(
        namespace: &[u8],
        participants: Set<Self::PublicKey>,
        signer: Self::Signer,
    ) -> Option<Self> {
        Self::signer(namespace, participants, signer)
    }

    fn verifier(namespace: &[u8], participants: Set<Self::PublicKey>) -> Self {
        Self::verifier(namespace, participants)
    }
}

/// The `intl` suite's scheme: Ed25519 votes, certificates are lists of Ed25519 signatures.
pub type Ed25519Scheme = commonware_consensus::simplex::scheme::ed25519::Scheme;

/// The `sm` suite's scheme: SM2 votes (GM/T 0003, deterministic nonces), SM2 p2p identities.
pub type Sm2Scheme = meridian_crypto::simplex_sm2::Scheme;

impl ConsensusScheme for Sm2Scheme {
    type Signer = meridian_crypto::sm2dsa::PrivateKey;

    fn signer(
        namespace: &[u8],
        participants: Set<Self::PublicKey>,
        signer: Self::Signer,
    ) -> Option<Self> {
        Self::signer(namespace, participants, signer)
    }

    fn verifier(namespace: &[u8], participants: Set<Self::PublicKey>) -> Self {
        Self::verifier(namespace, participants)
    }
}

/// Namespace for consensus votes of chain `chain_id`: the suite-wide domain prefix
/// (`meridian_crypto::Domain`, kind `ConsensusVote`). Every vote signature covers it (simplex
/// appends `_NOTARIZE`, `_NULLIFY`, `_FINALIZE`), so a vote or certificate of one chain never
/// verifies on another, nor as a transaction or handshake signature.
pub fn consensus_namespace(chain_id: &str) -> Result<Vec<u8>, Error> {
    domain(chain_id, SigningKind::ConsensusVote)
}

/// Namespace for the p2p handshake of chain `chain_id` (kind `P2pHandshake`): nodes of
/// different chains refuse to connect even if they share keys.
pub fn p2p_namespace(chain_id: &str) -> Result<Vec<u8>, Error> {
    domain(chain_id, SigningKind::P2pHandshake)
}

fn domain(chain_id: &str, kind: SigningKind) -> Result<Vec<u8>, Error> {
    Domain::new(chain_id, kind)
        .map(|d| d.prefix().to_vec())
        .map_err(|e| Error::InvalidConfig(format!("chain_id: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_bind_chain_id() {
        let ns = |c| consensus_namespace(c).unwrap();
        assert_ne!(ns("a"), ns("b"));
        assert_ne!(ns("a"), p2p_namespace("a").unwrap());
        assert!(consensus_namespace("").is_err());
    }
}
