//! Checking a stored finalization certificate outside consensus (API, light clients, audits).

use crate::{
    error::Error,
    scheme::{consensus_namespace, ConsensusScheme},
};
use commonware_codec::Decode as _;
use commonware_consensus::{
    simplex::{scheme::Scheme as SimplexScheme, types::Finalization},
    Viewable as _,
};
use commonware_cryptography::Digest;
use commonware_parallel::Sequential;
use commonware_utils::ordered::Set;
use rand_core::CryptoRng;

/// Verifies `certificate` (the bytes handed to `Application::finalized`) as a finalization of
/// the block `digest` by a quorum of `participants` on chain `chain_id`. Returns the consensus
/// view it was finalized in.
pub fn verify_finalization<S, D, R>(
    rng: &mut R,
    chain_id: &str,
    participants: &[S::PublicKey],
    certificate: &[u8],
    digest: &D,
) -> Result<u64, Error>
where
    S: ConsensusScheme + SimplexScheme<D>,
    D: Digest,
    R: CryptoRng,
{
    let namespace = consensus_namespace(chain_id)?;
    let verifier = S::verifier(
        &namespace,
        Set::from_iter_dedup(participants.iter().cloned()),
    );
    let finalization = Finalization::<S, D>::decode_cfg(
        bytes::Bytes::copy_from_slice(certificate),
        &verifier.certificate_codec_config(),
    )
    .map_err(|e| Error::InvalidCertificate(format!("decode: {e}")))?;
    if &finalization.proposal.payload != digest {
        return Err(Error::InvalidCertificate(
            "certificate names another block".into(),
        ));
    }
    if !finalization.verify(rng, &verifier, &Sequential) {
        return Err(Error::InvalidCertificate("signatures do not verify".into()));
    }
    Ok(finalization.view().get())
}
