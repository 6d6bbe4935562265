//! Checking a block's finalization certificate without running consensus: light clients
//! (`meridian-interop`), the client SDK, audits.
//!
//! A certificate is commonware simplex's `Finalization` encoding: the proposal (round, parent
//! view, block digest) and the scheme's certificate — a bitmap of signer indices into the
//! sorted validator set plus one signature per set bit. A bitmap cannot name a validator twice,
//! and each signature is checked against the key at its index, so a quorum is always a quorum of
//! *distinct* validators. Votes are signed under the chain's `ConsensusVote` domain, so a
//! certificate of one chain never verifies for another chain id, even with the same keys.
//!
//! Verification is deterministic: the batch-verification coefficients come from a hash of the
//! inputs (as Ed25519 batch verifiers derive them from a transcript), never from a global RNG —
//! every validator of a chain that runs a light client reaches the same verdict.

use commonware_codec::Decode as _;
use commonware_consensus::simplex::scheme::Scheme as SimplexScheme;
use commonware_consensus::simplex::types::Finalization;
use commonware_consensus::Viewable as _;
use commonware_parallel::Sequential;
use commonware_utils::ordered::Set;
use sha2::{Digest as _, Sha256};

use crate::{Digest32, Domain, PublicKey, SigningKind, Suite};

/// Why a finalization certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FinalityError {
    #[error("chain id is not a valid signing domain")]
    BadChainId,
    #[error("validator set is empty")]
    NoValidators,
    #[error("validator key {0} is not a consensus key of suite {1}")]
    WrongKeyType(usize, Suite),
    #[error("validator set lists a key twice")]
    DuplicateValidator,
    #[error("certificate does not decode: {0}")]
    Malformed(String),
    #[error("certificate finalizes another block")]
    OtherBlock,
    #[error("signatures do not verify, or fewer than a quorum of the validators signed")]
    BadSignatures,
}

impl FinalityError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            FinalityError::BadChainId => "finality.bad_chain_id",
            FinalityError::NoValidators => "finality.no_validators",
            FinalityError::WrongKeyType(..) => "finality.wrong_key_type",
            FinalityError::DuplicateValidator => "finality.duplicate_validator",
            FinalityError::Malformed(_) => "finality.malformed",
            FinalityError::OtherBlock => "finality.other_block",
            FinalityError::BadSignatures => "finality.bad_signatures",
        }
    }
}

/// Verifies that `certificate` finalizes the block whose header hash is `block_digest` on chain
/// `chain_id` (suite `suite`), signed by a quorum of `validators` (the set of the block's
/// epoch, each key listed once). Returns the consensus view of the finalization.
pub fn verify_finalization(
    suite: Suite,
    chain_id: &str,
    validators: &[PublicKey],
    certificate: &[u8],
    block_digest: [u8; 32],
) -> Result<u64, FinalityError> {
    if validators.is_empty() {
        return Err(FinalityError::NoValidators);
    }
    let namespace = Domain::new(chain_id, SigningKind::ConsensusVote)
        .map_err(|_| FinalityError::BadChainId)?
        .prefix()
        .to_vec();
    let digest = Digest32(block_digest);
    match suite {
        Suite::Sm => {
            let keys = validators
                .iter()
                .enumerate()
                .map(|(i, k)| match k {
                    PublicKey::Sm2(p) => Ok(p.clone()),
                    _ => Err(FinalityError::WrongKeyType(i, suite)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let set = distinct(keys)?;
            let verifier = crate::simplex_sm2::Scheme::verifier(&namespace, set);
            check::<crate::simplex_sm2::Scheme>(&verifier, certificate, &digest)
        }
        Suite::Intl => {
            let keys = validators
                .iter()
                .enumerate()
                .map(|(i, k)| match k {
                    PublicKey::Ed25519(p) => Ok(p.clone()),
                    _ => Err(FinalityError::WrongKeyType(i, suite)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let set = distinct(keys)?;
            let verifier =
                commonware_consensus::simplex::scheme::ed25519::Scheme::verifier(&namespace, set);
            check::<commonware_consensus::simplex::scheme::ed25519::Scheme>(
                &verifier,
                certificate,
                &digest,
            )
        }
    }
}

fn distinct<K: Ord + Clone>(keys: Vec<K>) -> Result<Set<K>, FinalityError> {
    let n = keys.len();
    let set = Set::from_iter_dedup(keys);
    if set.len() != n {
        return Err(FinalityError::DuplicateValidator);
    }
    Ok(set)
}

fn check<S>(verifier: &S, certificate: &[u8], digest: &Digest32) -> Result<u64, FinalityError>
where
    S: SimplexScheme<Digest32>,
{
    let finalization = Finalization::<S, Digest32>::decode_cfg(
        bytes::Bytes::copy_from_slice(certificate),
        &verifier.certificate_codec_config(),
    )
    .map_err(|e| FinalityError::Malformed(e.to_string()))?;
    if &finalization.proposal.payload != digest {
        return Err(FinalityError::OtherBlock);
    }
    let mut rng = TranscriptRng::new(certificate, &digest.0);
    if !finalization.verify(&mut rng, verifier, &Sequential) {
        return Err(FinalityError::BadSignatures);
    }
    Ok(finalization.view().get())
}

/// SHA-256 in counter mode over a hash of everything being verified: batch-verification
/// randomness that the submitter cannot choose independently of the batch, and that every
/// verifier reproduces.
struct TranscriptRng {
    seed: [u8; 32],
    counter: u64,
    buf: [u8; 32],
    used: usize,
}

impl TranscriptRng {
    fn new(certificate: &[u8], digest: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"meridian/finality/batch-rng/v1");
        h.update((certificate.len() as u64).to_be_bytes());
        h.update(certificate);
        h.update(digest);
        Self {
            seed: h.finalize().into(),
            counter: 0,
            buf: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(self.counter.to_be_bytes());
        self.buf = h.finalize().into();
        self.counter += 1;
        self.used = 0;
    }
}

impl rand_core::TryRng for TranscriptRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for byte in dst {
            if self.used == self.buf.len() {
                self.refill();
            }
            *byte = self.buf[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TranscriptRng {}

/// Test support: signs finalizations with a set of validator keys, as a running chain would.
/// Used by light-client tests in other crates; not for production signing.
pub mod testing {
    use super::*;
    use commonware_codec::Encode as _;
    use commonware_consensus::simplex::types::{Finalize, Proposal};
    use commonware_consensus::types::{Epoch, Round, View};
    use commonware_utils::iter::NonEmpty;

    use crate::PrivateKey;

    /// Signs a finalization of `block_digest` at `view` by the validators in `signers` (indices
    /// into `keys`, the whole validator set). Returns the certificate bytes.
    pub fn sign_finalization(
        chain_id: &str,
        keys: &[PrivateKey],
        signers: &[usize],
        view: u64,
        block_digest: [u8; 32],
    ) -> Vec<u8> {
        let namespace = Domain::new(chain_id, SigningKind::ConsensusVote)
            .expect("chain id")
            .prefix()
            .to_vec();
        let proposal = Proposal::new(
            Round::new(Epoch::zero(), View::new(view)),
            View::new(view.saturating_sub(1)),
            Digest32(block_digest),
        );
        match &keys[0] {
            PrivateKey::Sm2(_) => {
                type S = crate::simplex_sm2::Scheme;
                let secret = |k: &PrivateKey| match k {
                    PrivateKey::Sm2(s) => s.clone(),
                    _ => panic!("mixed suites"),
                };
                let set = Set::from_iter_dedup(keys.iter().map(|k| secret(k).public_key()));
                let schemes: Vec<S> = signers
                    .iter()
                    .map(|&i| S::signer(&namespace, set.clone(), secret(&keys[i])).expect("member"))
                    .collect();
                assemble(&S::verifier(&namespace, set), &schemes, proposal)
            }
            PrivateKey::Ed25519(_) => {
                type S = commonware_consensus::simplex::scheme::ed25519::Scheme;
                let secret = |k: &PrivateKey| match k {
                    PrivateKey::Ed25519(s) => s.clone(),
                    _ => panic!("mixed suites"),
                };
                let set = Set::from_iter_dedup(
                    keys.iter()
                        .map(|k| commonware_cryptography::Signer::public_key(&secret(k))),
                );
                let schemes: Vec<S> = signers
                    .iter()
                    .map(|&i| S::signer(&namespace, set.clone(), secret(&keys[i])).expect("member"))
                    .collect();
                assemble(&S::verifier(&namespace, set), &schemes, proposal)
            }
            PrivateKey::P256(_) => panic!("P-256 keys never vote"),
        }
    }

    /// Every signer's finalize vote on `proposal`, assembled into certificate bytes.
    fn assemble<S: SimplexScheme<Digest32>>(
        verifier: &S,
        signers: &[S],
        proposal: Proposal<Digest32>,
    ) -> Vec<u8> {
        let votes: Vec<Finalize<S, Digest32>> = signers
            .iter()
            .map(|s| Finalize::sign(s, proposal.clone()).expect("sign"))
            .collect();
        Finalization::from_finalizes(
            verifier,
            NonEmpty::try_new(votes.iter()).expect("signers"),
            &Sequential,
        )
        .expect("assemble")
        .encode()
        .to_vec()
    }

    /// Rewrites a certificate of 3 signers among 4 validators (as made by
    /// [`sign_finalization`] with signers `[i, j, k]`) into one signed by its first two only:
    /// well-formed, valid signatures, below the quorum. (Commonware refuses to assemble such a
    /// certificate, so tests of "less than a quorum" build it by hand.)
    pub fn drop_last_signer(certificate: &[u8]) -> Vec<u8> {
        // Tail: bit count (1 byte, 4) | bitmap (1 byte) | signature count (1 byte) | 3 × 64.
        let sig = 64;
        let n = certificate.len();
        let count_at = n - 3 * sig - 1;
        let bitmap_at = count_at - 1;
        assert_eq!(certificate[bitmap_at - 1], 4, "four validators");
        assert_eq!(certificate[count_at], 3, "three signatures");
        let bitmap = certificate[bitmap_at];
        // Signatures follow index order: the last one belongs to the highest index (lowest-order
        // bit first in commonware's bitmap).
        let highest = 7 - bitmap.leading_zeros();
        let mut out = certificate[..bitmap_at].to_vec();
        out.push(bitmap & !(1 << highest));
        out.push(2);
        out.extend_from_slice(&certificate[count_at + 1..n - sig]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::sign_finalization;
    use super::*;
    use crate::PrivateKey;

    fn keys(suite: Suite, n: u8) -> Vec<PrivateKey> {
        (0..n)
            .map(|i| PrivateKey::from_seed(suite, &[i + 1; 32]))
            .collect()
    }

    #[test]
    fn quorum_of_distinct_validators_on_this_chain_only() {
        for suite in [Suite::Intl, Suite::Sm] {
            let ks = keys(suite, 4);
            let pks: Vec<_> = ks.iter().map(|k| k.public_key()).collect();
            let d = [7u8; 32];
            let cert = sign_finalization("chain-a", &ks, &[0, 1, 3], 9, d);
            assert_eq!(verify_finalization(suite, "chain-a", &pks, &cert, d), Ok(9));
            // Another block, another chain id with the same keys.
            assert_eq!(
                verify_finalization(suite, "chain-a", &pks, &cert, [8; 32]),
                Err(FinalityError::OtherBlock)
            );
            assert_eq!(
                verify_finalization(suite, "chain-b", &pks, &cert, d),
                Err(FinalityError::BadSignatures)
            );
            // Two of four is below the quorum of three.
            let weak = super::testing::drop_last_signer(&cert);
            assert_eq!(
                verify_finalization(suite, "chain-a", &pks, &weak, d),
                Err(FinalityError::BadSignatures)
            );
            // A set listing a key twice is refused outright.
            let mut dup = pks.clone();
            dup[3] = dup[0].clone();
            assert_eq!(
                verify_finalization(suite, "chain-a", &dup, &cert, d),
                Err(FinalityError::DuplicateValidator)
            );
            // Garbage and truncation.
            assert!(matches!(
                verify_finalization(suite, "chain-a", &pks, &cert[..cert.len() - 1], d),
                Err(FinalityError::Malformed(_))
            ));
        }
    }

    #[test]
    fn one_signature_counted_twice_is_refused() {
        // Signers {0, 1, 2}: replace validator 2's signature by a copy of validator 0's, so the
        // bitmap claims three signers while only two validators signed.
        let suite = Suite::Intl;
        let ks = keys(suite, 4);
        let pks: Vec<_> = ks.iter().map(|k| k.public_key()).collect();
        let d = [5u8; 32];
        let cert = sign_finalization("chain-a", &ks, &[0, 1, 2], 3, d);
        let sig = 64;
        let n = cert.len();
        let mut forged = cert.clone();
        let first = cert[n - 3 * sig..n - 2 * sig].to_vec();
        forged[n - sig..].copy_from_slice(&first);
        assert_eq!(
            verify_finalization(suite, "chain-a", &pks, &forged, d),
            Err(FinalityError::BadSignatures)
        );
    }
}
