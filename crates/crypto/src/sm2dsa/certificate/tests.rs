use super::*;
use bytes::Bytes;
use commonware_codec::{Decode as _, Encode as _};
use commonware_cryptography::{
    certificate::{Membership, Scheme as _, Verifier as _},
    sha256::Digest as Sha256Digest,
};
use commonware_parallel::Sequential;
use commonware_utils::{non_empty, test_rng, N3f1, TryCollect as _};

const NAMESPACE: &[u8] = b"MERIDIAN\x04test\x02";
const MESSAGE: &[u8] = b"vote for block 7";

#[derive(Clone, Debug)]
pub struct TestSubject {
    pub message: Bytes,
}

impl Subject for TestSubject {
    type Namespace = Vec<u8>;

    fn namespace<'a>(&self, derived: &'a Self::Namespace) -> &'a [u8] {
        derived.as_ref()
    }

    fn message(&self) -> Bytes {
        self.message.clone()
    }
}

crate::impl_certificate_sm2!(TestSubject, Vec<u8>, N3f1);

fn subject() -> TestSubject {
    TestSubject {
        message: Bytes::from_static(MESSAGE),
    }
}

fn setup(namespace: &[u8], n: u8) -> (Vec<Scheme>, Scheme) {
    let keys: Vec<PrivateKey> = (0..n)
        .map(|i| PrivateKey::derive_from_seed(&[i; 32]))
        .collect();
    let participants: Set<PublicKey> = keys.iter().map(|k| k.public_key()).try_collect().unwrap();
    let mut signers: Vec<Scheme> = keys
        .into_iter()
        .map(|k| Scheme::signer(namespace, participants.clone(), k).unwrap())
        .collect();
    signers.sort_by_key(|s| s.me().unwrap().index());
    (signers, Scheme::verifier(namespace, participants))
}

fn votes(schemes: &[Scheme]) -> Vec<Attestation<Scheme>> {
    schemes
        .iter()
        .map(|s| s.sign::<Sha256Digest>(subject()).unwrap())
        .collect()
}

#[test]
fn four_signers_assemble_and_verify() {
    let (schemes, verifier) = setup(NAMESPACE, 4);
    let mut rng = test_rng();
    let atts = votes(&schemes);
    for (i, a) in atts.iter().enumerate() {
        assert_eq!(a.signer.get() as usize, i);
        assert!(verifier.verify_attestation::<_, Sha256Digest>(
            &mut rng,
            subject(),
            a,
            &Sequential
        ));
    }
    // Quorum for n = 4 (f = 1) is 3.
    let cert = verifier
        .assemble(
            atts.iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter()
                .try_into_nonempty(),
            &Sequential,
        )
        .unwrap();
    assert_eq!(cert.signers.count(), 3);
    assert!(verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &cert,
        &Sequential
    ));
    // All four, given out of order, are sorted by signer.
    let mut rev = atts.clone();
    rev.reverse();
    let cert4 = verifier
        .assemble(rev.into_iter().try_into_nonempty(), &Sequential)
        .unwrap();
    assert_eq!(
        cert4.signers.iter().map(|p| p.get()).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    assert!(verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &cert4,
        &Sequential
    ));
    assert!(verifier.verify_certificates::<_, Sha256Digest, _>(
        &mut rng,
        non_empty![(subject(), &cert), (subject(), &cert4)],
        &Sequential
    ));

    // Codec roundtrip, bounded by the committee size.
    let bytes = cert4.encode();
    assert!(bytes.len() <= Scheme::max_certificate_size(4));
    let back =
        Certificate::decode_cfg(bytes.clone(), &verifier.certificate_codec_config()).unwrap();
    assert_eq!(back, cert4);
    assert!(verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &back,
        &Sequential
    ));
    // A committee of 3 cannot decode a 4-signer certificate.
    assert!(Certificate::decode_cfg(bytes, &3usize).is_err());
}

trait TryIntoNonEmpty: Iterator + Sized {
    fn try_into_nonempty(self) -> NonEmpty<Self> {
        NonEmpty::try_new(self).unwrap()
    }
}
impl<I: Iterator> TryIntoNonEmpty for I {}

#[test]
fn wrong_namespace_and_message_are_rejected() {
    let (schemes, verifier) = setup(NAMESPACE, 4);
    let (other_schemes, other_verifier) = setup(b"MERIDIAN\x05other\x02", 4);
    let mut rng = test_rng();
    // A vote signed under another chain's namespace (same keys) does not verify here.
    let foreign = other_schemes[0].sign::<Sha256Digest>(subject()).unwrap();
    assert!(!verifier.verify_attestation::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &foreign,
        &Sequential
    ));
    let cert = verifier
        .assemble(votes(&schemes).into_iter().try_into_nonempty(), &Sequential)
        .unwrap();
    assert!(!other_verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &cert,
        &Sequential
    ));
    // Different message.
    let other_subject = TestSubject {
        message: Bytes::from_static(b"vote for block 8"),
    };
    assert!(!verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        other_subject,
        &cert,
        &Sequential
    ));
}

#[test]
fn verify_attestations_filters_invalid() {
    let (schemes, verifier) = setup(NAMESPACE, 4);
    let (other_schemes, _) = setup(b"elsewhere", 4);
    let mut rng = test_rng();
    let mut atts = votes(&schemes);
    atts[2] = other_schemes[2].sign::<Sha256Digest>(subject()).unwrap();
    let res =
        verifier.verify_attestations::<_, Sha256Digest, _>(&mut rng, subject(), atts, &Sequential);
    assert_eq!(res.verified.len(), 3);
    assert_eq!(res.invalid, vec![Participant::new(2)]);
}

#[test]
fn assembly_and_verification_reject_bad_certificates() {
    let (schemes, verifier) = setup(NAMESPACE, 4);
    let mut rng = test_rng();
    let atts = votes(&schemes);
    // Sub-quorum.
    assert!(matches!(
        verifier.assemble(
            atts.iter().take(2).cloned().try_into_nonempty(),
            &Sequential
        ),
        Err(AssemblyError::InsufficientAttestations(3, 2))
    ));
    // Duplicate signer.
    let dup = vec![atts[0].clone(), atts[0].clone(), atts[1].clone()];
    assert!(matches!(
        verifier.assemble(dup.into_iter().try_into_nonempty(), &Sequential),
        Err(AssemblyError::DuplicateSigner(_))
    ));
    // Unknown signer.
    let mut unknown = atts[0].clone();
    unknown.signer = Participant::new(9);
    assert!(!verifier.verify_attestation::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &unknown,
        &Sequential
    ));
    assert!(matches!(
        verifier.assemble(vec![unknown].into_iter().try_into_nonempty(), &Sequential),
        Err(AssemblyError::UnknownSigner(_))
    ));
    // Corrupted signature inside a certificate.
    let mut cert = verifier
        .assemble(atts.iter().cloned().try_into_nonempty(), &Sequential)
        .unwrap();
    let other = schemes[0]
        .sign::<Sha256Digest>(TestSubject {
            message: Bytes::from_static(b"x"),
        })
        .unwrap();
    cert.signatures[1] = other.signature;
    assert!(!verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &cert,
        &Sequential
    ));
    // Signers / signatures count mismatch.
    let mut short = verifier
        .assemble(atts.iter().cloned().try_into_nonempty(), &Sequential)
        .unwrap();
    short.signatures.pop();
    assert!(!verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &short,
        &Sequential
    ));
    // A 4-member certificate checked by a 5-member committee.
    let (_, verifier5) = setup(NAMESPACE, 5);
    let cert4 = verifier
        .assemble(atts.into_iter().try_into_nonempty(), &Sequential)
        .unwrap();
    assert!(!verifier5.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &cert4,
        &Sequential
    ));
}

#[test]
fn membership_and_roles() {
    let (schemes, verifier) = setup(NAMESPACE, 4);
    assert!(verifier.me().is_none());
    assert!(verifier.sign::<Sha256Digest>(subject()).is_none());
    assert_eq!(
        schemes[3].me(),
        Some(Membership::Signer(Participant::new(3)))
    );
    let participants = verifier.participants().clone();
    let pk = participants.key(Participant::new(1)).unwrap().clone();
    let member = Scheme::member(NAMESPACE, participants.clone(), &pk).unwrap();
    assert_eq!(member.me(), Some(Membership::Member(Participant::new(1))));
    assert!(member.sign::<Sha256Digest>(subject()).is_none());
    let outsider = PrivateKey::derive_from_seed(&[99u8; 32]);
    assert!(Scheme::member(NAMESPACE, participants.clone(), &outsider.public_key()).is_none());
    assert!(Scheme::signer(NAMESPACE, participants, outsider).is_none());
    assert!(Scheme::is_attributable());
    assert!(!Scheme::is_batchable());
}

#[test]
fn optimistic_assemble_verifies_pending() {
    let (schemes, verifier) = setup(NAMESPACE, 4);
    let mut rng = test_rng();
    let atts = votes(&schemes);
    let cert = verifier
        .optimistic_assemble::<_, Sha256Digest, _, _>(
            &mut rng,
            subject(),
            atts.clone(),
            std::iter::empty(),
            &Sequential,
        )
        .ok()
        .unwrap();
    assert!(verifier.verify_certificate::<_, Sha256Digest>(
        &mut rng,
        subject(),
        &cert,
        &Sequential
    ));
    let (other, _) = setup(b"elsewhere", 4);
    let mut bad = atts;
    bad[0] = other[0].sign::<Sha256Digest>(subject()).unwrap();
    match verifier.optimistic_assemble::<_, Sha256Digest, _, _>(
        &mut rng,
        subject(),
        bad,
        std::iter::empty(),
        &Sequential,
    ) {
        Ok(_) => panic!("a bad attestation must not certify"),
        Err(v) => assert_eq!(v.invalid, vec![Participant::new(0)]),
    }
}
