//! The SM2 certificate scheme instantiated for commonware simplex (feature `simplex`).
//!
//! `commonware_consensus::simplex::scheme::secp256r1` is just
//! `impl_certificate_secp256r1!(Subject<'a, D>, Namespace, N3f1)`; this module is the same line
//! for SM2. It lives here (behind a feature, so plain users of this crate do not build
//! commonware-consensus) because the subject and namespace types belong to commonware-consensus.
//!
//! ```ignore
//! use meridian_crypto::{simplex_sm2, sm2dsa, Domain, SigningKind};
//! let namespace = Domain::new(chain_id, SigningKind::ConsensusVote)?.prefix().to_vec();
//! let participants: Set<sm2dsa::PublicKey> = keys.iter().map(|k| k.public_key()).try_collect()?;
//! let scheme = simplex_sm2::Scheme::signer(&namespace, participants, my_sm2_key).unwrap();
//! // `scheme` implements `commonware_consensus::simplex::scheme::Scheme<D>` for any digest `D`.
//! ```

use commonware_consensus::simplex::{scheme::Namespace, types::Subject};
use commonware_utils::N3f1;

crate::impl_certificate_sm2!(Subject<'a, D>, Namespace, N3f1);

/// Keys and schemes for an `n`-validator SM2 committee, in participant order (tests, devnet).
#[derive(Clone, Debug)]
pub struct Fixture {
    /// Participant identity (= signing) keys, sorted.
    pub participants: Vec<crate::sm2dsa::PublicKey>,
    /// Private keys, same order.
    pub private_keys: Vec<crate::sm2dsa::PrivateKey>,
    /// One signing scheme per participant, same order.
    pub schemes: Vec<Scheme>,
    /// A verify-only scheme.
    pub verifier: Scheme,
}

/// Builds a committee of `n` SM2 validators from `seed` (deterministic).
pub fn fixture(seed: u64, namespace: &[u8], n: u32) -> Fixture {
    use commonware_utils::{ordered::Set, TryCollect as _};
    let mut keys: Vec<crate::sm2dsa::PrivateKey> = (0..u64::from(n))
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&seed.to_be_bytes());
            s[8..16].copy_from_slice(&i.to_be_bytes());
            crate::sm2dsa::PrivateKey::derive_from_seed(&s)
        })
        .collect();
    keys.sort_by_key(|k| k.public_key());
    let participants: Vec<_> = keys.iter().map(|k| k.public_key()).collect();
    let set: Set<crate::sm2dsa::PublicKey> = match participants.iter().cloned().try_collect() {
        Ok(set) => set,
        Err(_) => unreachable!("distinct seeds give distinct keys"),
    };
    let schemes = keys
        .iter()
        .filter_map(|k| Scheme::signer(namespace, set.clone(), k.clone()))
        .collect();
    Fixture {
        participants,
        private_keys: keys,
        schemes,
        verifier: Scheme::verifier(namespace, set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Digest32, Domain, SigningKind, Suite};
    use commonware_codec::{DecodeExt as _, Encode as _, Read as _};
    use commonware_consensus::{
        simplex::types::{Finalization, Finalize, Notarization, Notarize, Proposal},
        types::{Epoch, Round, View},
    };
    use commonware_cryptography::certificate::{Scheme as _, Verifier as _};
    use commonware_parallel::Sequential;
    use commonware_utils::{test_rng, N3f1};

    fn assert_simplex_scheme<S: commonware_consensus::simplex::scheme::Scheme<Digest32>>() {}

    #[test]
    fn is_a_simplex_scheme() {
        assert_simplex_scheme::<Scheme>();
        assert!(<Scheme as commonware_cryptography::certificate::Scheme>::is_attributable());
        let _ = N3f1;
    }

    fn proposal(view: u64, payload: &[u8]) -> Proposal<Digest32> {
        Proposal::new(
            Round::new(Epoch::new(0), View::new(view)),
            View::new(view - 1),
            Suite::Sm.hash(payload),
        )
    }

    #[test]
    fn notarize_and_finalize_with_four_validators() {
        let ns = Domain::new("meridian-test", SigningKind::ConsensusVote).unwrap();
        let f = fixture(7, ns.prefix(), 4);
        assert_eq!(f.schemes.len(), 4);
        let p = proposal(5, b"block");
        let mut rng = test_rng();

        let votes: Vec<_> = f
            .schemes
            .iter()
            .map(|s| Notarize::sign(s, p.clone()).unwrap())
            .collect();
        for v in &votes {
            assert!(v.verify(&mut rng, &f.verifier, &Sequential));
        }
        let cert = Notarization::from_notarizes(
            &f.verifier,
            commonware_utils::iter::NonEmpty::try_new(votes.iter().take(3)).unwrap(),
            &Sequential,
        )
        .unwrap();
        assert!(cert.verify(&mut rng, &f.verifier, &Sequential));
        // Codec roundtrip of the certificate, bounded by the committee size.
        let bytes = cert.certificate.encode();
        let back = crate::sm2dsa::certificate::Certificate::read_cfg(
            &mut commonware_codec::Copying(&bytes),
            &f.verifier.certificate_codec_config(),
        )
        .unwrap();
        assert_eq!(back, cert.certificate);

        // A notarization certificate does not verify as a finalization (namespace differs).
        let as_final = Finalization::<Scheme, Digest32> {
            proposal: p.clone(),
            certificate: cert.certificate.clone(),
        };
        assert!(!as_final.verify(&mut rng, &f.verifier, &Sequential));

        // Finalize votes assemble into a valid finalization.
        let fin: Vec<_> = f
            .schemes
            .iter()
            .map(|s| Finalize::sign(s, p.clone()).unwrap())
            .collect();
        let fcert = Finalization::from_finalizes(
            &f.verifier,
            commonware_utils::iter::NonEmpty::try_new(fin.iter()).unwrap(),
            &Sequential,
        )
        .unwrap();
        assert!(fcert.verify(&mut rng, &f.verifier, &Sequential));

        // Another chain's committee (different namespace) rejects it.
        let other = Domain::new("meridian-other", SigningKind::ConsensusVote).unwrap();
        let f2 = fixture(7, other.prefix(), 4);
        assert!(!fcert.verify(&mut rng, &f2.verifier, &Sequential));
        assert!(!votes[0].verify(&mut rng, &f2.verifier, &Sequential));

        let _ = crate::sm2dsa::PublicKey::decode(f.participants[0].encode()).unwrap();
        assert_eq!(f.schemes[1].me().unwrap().index().get(), 1);
    }
}
