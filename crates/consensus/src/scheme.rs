//! Certificate schemes for votes, one per crypto suite, and the chain-bound namespaces.

use commonware_cryptography::{certificate, ed25519, Signer};
use commonware_utils::ordered::Set;

/// A vote/certificate scheme whose validator identity key is also the node's p2p identity key.
///
/// The adapter builds the scheme itself from the chain id, so no caller can forget to bind votes
/// to the chain. Implemented for `intl` (Ed25519); the `sm` (SM2) suite implements it beside its
/// scheme type.
pub trait ConsensusScheme: certificate::Scheme {
    /// The private key that signs votes and authenticates p2p connections.
    type Signer: Signer<PublicKey = Self::PublicKey>;

    /// A scheme that signs with `signer`; `None` if `signer` is not among `participants`.
    fn signer(namespace: &[u8], participants: Set<Self::PublicKey>, signer: Self::Signer)
        -> Option<Self>;

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

/// Namespace for consensus votes of chain `chain_id`. Every vote signature covers it (simplex
/// appends `_NOTARIZE`, `_NULLIFY`, `_FINALIZE`), so a vote or certificate of one chain never
/// verifies on another.
pub fn consensus_namespace(chain_id: &[u8]) -> Vec<u8> {
    namespaced(b"meridian/consensus/", chain_id)
}

/// Namespace for the p2p handshake of chain `chain_id`: nodes of different chains refuse to
/// connect even if they share keys.
pub fn p2p_namespace(chain_id: &[u8]) -> Vec<u8> {
    namespaced(b"meridian/p2p/", chain_id)
}

fn namespaced(tag: &[u8], chain_id: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tag.len() + chain_id.len());
    out.extend_from_slice(tag);
    out.extend_from_slice(chain_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_bind_chain_id() {
        assert_ne!(consensus_namespace(b"a"), consensus_namespace(b"b"));
        assert_ne!(consensus_namespace(b"a"), p2p_namespace(b"a"));
        assert!(consensus_namespace(b"chain-1").ends_with(b"chain-1"));
    }
}
