//! Proofs of counterparty state (ICS-23's role), checked against a consensus state's root.
//!
//! The proof format is `meridian_storage`'s state-proof encoding (docs/spec/storage.md): a
//! bounded, canonical encoding of a JMT sparse-Merkle path. Here we add what a cross-chain
//! verifier needs on top: the proof must use the *counterparty's* hash suite, must be the one
//! canonical encoding of itself (re-encoding gives the same bytes), is at most
//! [`MAX_STATE_PROOF_LEN`](meridian_storage::MAX_STATE_PROOF_LEN) bytes and 256 levels deep, and
//! keys are bounded.

use meridian_crypto::Suite;
use meridian_storage::{HashKind, StateProof, StorageError};

pub use meridian_storage::MAX_STATE_PROOF_LEN;

use crate::client::{ClientState, ConsensusState};
use crate::error::{codes, InteropError};

/// Longest key a proof may be asked about.
pub const MAX_PROOF_KEY_LEN: usize = 512;
/// Longest value a membership proof may be asked about.
pub const MAX_PROOF_VALUE_LEN: usize = 64 * 1024;

/// The state-hash of a suite (SM3 for `sm`, SHA-256 for `intl`).
pub fn hash_kind(suite: Suite) -> HashKind {
    match suite {
        Suite::Sm => HashKind::Sm3,
        Suite::Intl => HashKind::Sha256,
    }
}

fn decode(client: &ClientState, key: &[u8], proof: &[u8]) -> Result<StateProof, InteropError> {
    if key.is_empty() || key.len() > MAX_PROOF_KEY_LEN {
        return Err(InteropError::new(
            codes::PROOF_MALFORMED,
            format!("proof key must be 1..={MAX_PROOF_KEY_LEN} bytes"),
        ));
    }
    let p = StateProof::decode(proof)
        .map_err(|e| InteropError::new(codes::PROOF_MALFORMED, e.to_string()))?;
    if p.encode() != proof {
        return Err(InteropError::new(
            codes::PROOF_MALFORMED,
            "proof is not in canonical form",
        ));
    }
    if p.hash_kind() != hash_kind(client.suite) {
        return Err(InteropError::new(
            codes::PROOF_MALFORMED,
            format!("proof uses another hash than the {} suite's", client.suite),
        ));
    }
    Ok(p)
}

fn invalid(e: StorageError) -> InteropError {
    InteropError::new(codes::PROOF_INVALID, e.to_string())
}

/// Checks that the counterparty's state at `consensus` maps `key` to `value`.
pub fn verify_membership(
    client: &ClientState,
    consensus: &ConsensusState,
    key: &[u8],
    value: &[u8],
    proof: &[u8],
) -> Result<(), InteropError> {
    if value.len() > MAX_PROOF_VALUE_LEN {
        return Err(InteropError::new(
            codes::PROOF_MALFORMED,
            "proven value too long",
        ));
    }
    decode(client, key, proof)?
        .verify(consensus.state_root, key, Some(value))
        .map_err(invalid)
}

/// Checks that `key` is absent from the counterparty's state at `consensus`.
pub fn verify_non_membership(
    client: &ClientState,
    consensus: &ConsensusState,
    key: &[u8],
    proof: &[u8],
) -> Result<(), InteropError> {
    decode(client, key, proof)?
        .verify(consensus.state_root, key, None)
        .map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestChain;

    #[test]
    fn proofs_prove_exactly_their_claim() {
        for suite in [Suite::Sm, Suite::Intl] {
            let mut chain = TestChain::new("region-a", suite, 4, 100, 1_000, 1);
            let present = b"notary/record/abc".to_vec();
            chain.commit(vec![(present.clone(), Some(b"v1".to_vec()))], 10);
            let h = chain.signed_header(1).header;
            let client =
                ClientState::new(chain.chain_id.clone(), suite, 100, 1_000_000, 0, 1).unwrap();
            let cs = ConsensusState {
                timestamp_ms: h.timestamp_ms,
                state_root: h.state_root,
                header_hash: [0; 32],
            };
            let (v, proof) = chain.prove(&present, 1);
            assert_eq!(v.as_deref(), Some(&b"v1"[..]));
            verify_membership(&client, &cs, &present, b"v1", &proof).unwrap();
            // Another value, another key (wrong path), absence of a present key: all invalid.
            let code = |r: Result<(), InteropError>| r.unwrap_err().code;
            assert_eq!(
                code(verify_membership(&client, &cs, &present, b"v2", &proof)),
                codes::PROOF_INVALID
            );
            assert_eq!(
                code(verify_membership(
                    &client,
                    &cs,
                    b"notary/record/abd",
                    b"v1",
                    &proof
                )),
                codes::PROOF_INVALID
            );
            assert_eq!(
                code(verify_non_membership(&client, &cs, &present, &proof)),
                codes::PROOF_INVALID
            );
            let absent = b"notary/record/zzz".to_vec();
            let (none, absent_proof) = chain.prove(&absent, 1);
            assert!(none.is_none());
            verify_non_membership(&client, &cs, &absent, &absent_proof).unwrap();
            // A non-membership proof of another key does not show our key absent.
            assert_eq!(
                code(verify_non_membership(&client, &cs, &present, &absent_proof)),
                codes::PROOF_INVALID
            );
            // Against another root (another height's state): invalid.
            chain.commit(vec![(present.clone(), Some(b"v2".to_vec()))], 10);
            let (_, newer) = chain.prove(&present, 2);
            assert_eq!(
                code(verify_membership(&client, &cs, &present, b"v2", &newer)),
                codes::PROOF_INVALID
            );
            // Non-canonical or foreign encodings are malformed.
            let mut trailing = proof.clone();
            trailing.push(0);
            assert_eq!(
                code(verify_membership(&client, &cs, &present, b"v1", &trailing)),
                codes::PROOF_MALFORMED
            );
            let mut other_suite = proof.clone();
            other_suite[1] = if other_suite[1] == 1 { 2 } else { 1 };
            assert_eq!(
                code(verify_membership(
                    &client,
                    &cs,
                    &present,
                    b"v1",
                    &other_suite
                )),
                codes::PROOF_MALFORMED
            );
            assert_eq!(
                code(verify_membership(&client, &cs, &[], b"v1", &proof)),
                codes::PROOF_MALFORMED
            );
            assert_eq!(
                code(verify_membership(
                    &client,
                    &cs,
                    &present,
                    b"v1",
                    &vec![1; MAX_STATE_PROOF_LEN_PLUS]
                )),
                codes::PROOF_MALFORMED
            );
        }
    }

    const MAX_STATE_PROOF_LEN_PLUS: usize = meridian_storage::MAX_STATE_PROOF_LEN + 1;
}
