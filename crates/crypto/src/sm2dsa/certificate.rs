//! SM2 attributable certificate scheme for commonware's `certificate::Scheme`.
//!
//! This is the SM2 counterpart of `commonware_cryptography::secp256r1::certificate` /
//! `ed25519::certificate`: a certificate is a signer bitmap plus one SM2 signature per signer
//! (ordered by signer index), verified one signature at a time (SM2 has no batch verification).
//! Each participant's identity key *is* its SM2 signing key (the ed25519 shape), so an `sm`
//! chain uses SM2 for p2p identity and votes alike.
//!
//! [`Generic`] holds the cryptography; [`impl_certificate_sm2!`](crate::impl_certificate_sm2)
//! generates a protocol-specific `Scheme` wrapper for a subject type, exactly like
//! `impl_certificate_secp256r1!`. For simplex, enable the `simplex` feature and use
//! `meridian_crypto::simplex_sm2::Scheme`.

use super::{PrivateKey, PublicKey, Signature};
use bytes::BufMut;
use commonware_codec::{
    types::lazy::Lazy, util::max_items_size, Buf, EncodeSize, Error, FixedSize, Read, ReadRangeExt,
    Write,
};
use commonware_cryptography::certificate::{
    AssemblyError, Attestation, Namespace, Scheme, Signers, Subject, Verification,
};
use commonware_utils::{
    bitmap::BitMap,
    iter::NonEmpty,
    ordered::{Quorum, Set},
    Participant, Widen,
};
use rand_core::CryptoRng;
use std::collections::BTreeSet;

/// Generic SM2 certificate scheme, parameterised by the pre-computed namespace type.
#[derive(Clone, Debug)]
pub struct Generic<N: Namespace> {
    /// Participants (identity = signing keys), in canonical order.
    pub participants: Set<PublicKey>,
    /// Our index and key, when this instance can sign.
    pub signer: Option<(Participant, PrivateKey)>,
    /// Pre-computed namespace(s) for this subject type.
    pub namespace: N,
}

impl<N: Namespace> Generic<N> {
    /// A signing instance; `None` if `private_key` is not a participant.
    pub fn signer(
        namespace: &[u8],
        participants: Set<PublicKey>,
        private_key: PrivateKey,
    ) -> Option<Self> {
        let index = participants.index(&private_key.public_key())?;
        Some(Self {
            participants,
            signer: Some((index, private_key)),
            namespace: N::derive(namespace),
        })
    }

    /// A verify-only instance.
    pub fn verifier(namespace: &[u8], participants: Set<PublicKey>) -> Self {
        Self {
            participants,
            signer: None,
            namespace: N::derive(namespace),
        }
    }

    /// The index this instance signs at, if any.
    pub fn signer_index(&self) -> Option<Participant> {
        self.signer.as_ref().map(|(index, _)| *index)
    }

    /// Signs a subject.
    pub fn sign<S>(&self, subject: impl Subject<Namespace = N>) -> Option<Attestation<S>>
    where
        S: Scheme<Signature = Signature>,
    {
        let (index, private_key) = self.signer.as_ref()?;
        let signature =
            private_key.sign_namespaced(subject.namespace(&self.namespace), &subject.message());
        Some(Attestation {
            signer: *index,
            signature: signature.into(),
        })
    }

    /// Verifies one attestation.
    pub fn verify_attestation<S>(
        &self,
        subject: impl Subject<Namespace = N>,
        attestation: &Attestation<S>,
    ) -> bool
    where
        S: Scheme<Signature = Signature>,
    {
        let Some(public_key) = self.participants.key(attestation.signer) else {
            return false;
        };
        let Some(signature) = attestation.signature.get() else {
            return false;
        };
        public_key.verify_namespaced(
            subject.namespace(&self.namespace),
            &subject.message(),
            signature,
        )
    }

    /// Verifies attestations one by one; returns the valid ones and the invalid signers.
    pub fn verify_attestations<S, R, I>(
        &self,
        _rng: &mut R,
        subject: impl Subject<Namespace = N>,
        attestations: I,
    ) -> Verification<S>
    where
        S: Scheme<Signature = Signature>,
        R: CryptoRng,
        I: IntoIterator<Item = Attestation<S>>,
    {
        let namespace = subject.namespace(&self.namespace);
        let message = subject.message();
        let mut invalid = BTreeSet::new();
        let mut verified = Vec::new();
        for attestation in attestations {
            let ok = match (
                self.participants.key(attestation.signer),
                attestation.signature.get(),
            ) {
                (Some(pk), Some(sig)) => pk.verify_namespaced(namespace, &message, sig),
                _ => false,
            };
            if ok {
                verified.push(attestation);
            } else {
                invalid.insert(attestation.signer);
            }
        }
        Verification::new(verified, invalid.into_iter().collect())
    }

    /// Assembles a certificate (signatures are *not* re-verified: pass verified attestations).
    pub fn assemble<S, I>(&self, attestations: NonEmpty<I>) -> Result<Certificate, AssemblyError>
    where
        S: Scheme<Signature = Signature>,
        I: Iterator<Item = Attestation<S>>,
    {
        let mut entries = Vec::new();
        for Attestation { signer, signature } in attestations {
            self.participants
                .key(signer)
                .ok_or(AssemblyError::UnknownSigner(signer))?;
            let signature = signature
                .get()
                .cloned()
                .ok_or(AssemblyError::MalformedSignature(signer))?;
            entries.push((signer, signature));
        }
        entries.sort_by_key(|(signer, _)| *signer);
        let (signer, signatures): (Vec<Participant>, Vec<_>) = entries.into_iter().unzip();
        let signers = Signers::try_from((&self.participants, signer))?;
        let required = self.participants.quorum::<S::Faults>();
        let found = u32::try_from(signers.count()).unwrap_or(u32::MAX);
        if found < required {
            return Err(AssemblyError::InsufficientAttestations(required, found));
        }
        Ok(Certificate {
            signers,
            signatures: signatures.into_iter().map(Lazy::from).collect(),
        })
    }

    /// Verifies a certificate: shape, quorum, then every signature.
    pub fn verify_certificate<S, R>(
        &self,
        _rng: &mut R,
        subject: impl Subject<Namespace = N>,
        certificate: &Certificate,
    ) -> bool
    where
        S: Scheme,
        R: CryptoRng,
    {
        if certificate.signers.len() != self.participants.len()
            || certificate.signers.count() != certificate.signatures.len()
            || certificate.signers.count() < Widen::widen(self.participants.quorum::<S::Faults>())
        {
            return false;
        }
        let namespace = subject.namespace(&self.namespace);
        let message = subject.message();
        for (signer, signature) in certificate.signers.iter().zip(&certificate.signatures) {
            let Some(public_key) = self.participants.key(signer) else {
                return false;
            };
            let Some(signature) = signature.get() else {
                return false;
            };
            if !public_key.verify_namespaced(namespace, &message, signature) {
                return false;
            }
        }
        true
    }

    /// Individual signatures are attributable evidence.
    pub const fn is_attributable() -> bool {
        true
    }

    /// SM2 has no batch verification.
    pub const fn is_batchable() -> bool {
        false
    }

    /// Upper bound of an encoded certificate for `participants` participants.
    pub fn max_certificate_size(participants: u32) -> usize {
        BitMap::<1>::max_encode_size(u64::from(participants))
            + max_items_size(participants as usize, Signature::SIZE)
    }

    /// Codec config bounding a certificate to this participant set.
    pub fn certificate_codec_config(&self) -> usize {
        self.participants.len()
    }

    /// Codec config without a participant bound.
    pub const fn certificate_codec_config_unbounded() -> usize {
        u32::MAX as usize
    }
}

/// An SM2 certificate: signer bitmap + one signature per signer, ordered by index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Certificate {
    /// Participants that signed.
    pub signers: Signers,
    /// Their signatures, ordered by signer index (decoded lazily).
    pub signatures: Vec<Lazy<Signature>>,
}

impl Write for Certificate {
    fn write(&self, writer: &mut impl BufMut) {
        self.signers.write(writer);
        self.signatures.write(writer);
    }
}

impl EncodeSize for Certificate {
    fn encode_size(&self) -> usize {
        self.signers.encode_size() + self.signatures.encode_size()
    }
}

impl Read for Certificate {
    /// Maximum number of participants.
    type Cfg = usize;

    fn read_cfg(reader: &mut impl Buf, participants: &usize) -> Result<Self, Error> {
        let signers = Signers::read_cfg(reader, participants)?;
        if signers.count() == 0 {
            return Err(Error::Invalid(
                "meridian_crypto::sm2dsa::certificate::Certificate",
                "Certificate contains no signers",
            ));
        }
        let signatures = Vec::<Lazy<Signature>>::read_range(reader, ..=*participants)?;
        if signers.count() != signatures.len() {
            return Err(Error::Invalid(
                "meridian_crypto::sm2dsa::certificate::Certificate",
                "Signers and signatures counts differ",
            ));
        }
        Ok(Self {
            signers,
            signatures,
        })
    }
}

/// Generates an SM2 certificate `Scheme` for a protocol subject type, like commonware's
/// `impl_certificate_secp256r1!` (all paths go through `meridian_crypto`, so the calling crate
/// needs no extra dependencies).
///
/// ```ignore
/// // simplex: (this is what `meridian_crypto::simplex_sm2` does)
/// meridian_crypto::impl_certificate_sm2!(
///     commonware_consensus::simplex::types::Subject<'a, D>,
///     commonware_consensus::simplex::scheme::Namespace,
///     commonware_utils::N3f1
/// );
/// ```
#[macro_export]
macro_rules! impl_certificate_sm2 {
    ($subject:ty, $namespace:ty, $faults:ty) => {
        /// SM2 certificate scheme (identity key = SM2 signing key).
        #[derive(Clone, Debug)]
        pub struct Scheme {
            generic: $crate::sm2dsa::certificate::Generic<$namespace>,
            member: Option<$crate::__private::commonware_utils::Participant>,
        }

        impl Scheme {
            /// A signing instance; `None` if `private_key` is not a participant.
            pub fn signer(
                namespace: &[u8],
                participants: $crate::__private::commonware_utils::ordered::Set<
                    $crate::sm2dsa::PublicKey,
                >,
                private_key: $crate::sm2dsa::PrivateKey,
            ) -> Option<Self> {
                Some(Self {
                    generic: $crate::sm2dsa::certificate::Generic::signer(
                        namespace,
                        participants,
                        private_key,
                    )?,
                    member: None,
                })
            }

            /// A verify-only instance (observers, light clients).
            pub fn verifier(
                namespace: &[u8],
                participants: $crate::__private::commonware_utils::ordered::Set<
                    $crate::sm2dsa::PublicKey,
                >,
            ) -> Self {
                Self {
                    generic: $crate::sm2dsa::certificate::Generic::verifier(
                        namespace,
                        participants,
                    ),
                    member: None,
                }
            }

            /// A participant without its signing key: verifies, and reports its membership.
            pub fn member(
                namespace: &[u8],
                participants: $crate::__private::commonware_utils::ordered::Set<
                    $crate::sm2dsa::PublicKey,
                >,
                public_key: &$crate::sm2dsa::PublicKey,
            ) -> Option<Self> {
                let member = $crate::__private::commonware_utils::ordered::Quorum::index(
                    &participants,
                    public_key,
                )?;
                Some(Self {
                    generic: $crate::sm2dsa::certificate::Generic::verifier(
                        namespace,
                        participants,
                    ),
                    member: Some(member),
                })
            }
        }

        impl $crate::__private::commonware_cryptography::certificate::Verifier for Scheme {
            type Subject<'a, D: $crate::__private::commonware_cryptography::Digest> = $subject;
            type Faults = $faults;
            type PublicKey = $crate::sm2dsa::PublicKey;
            type Certificate = $crate::sm2dsa::certificate::Certificate;

            fn verify_certificate<R, D>(
                &self,
                rng: &mut R,
                subject: Self::Subject<'_, D>,
                certificate: &Self::Certificate,
                _strategy: &impl $crate::__private::commonware_parallel::Strategy,
            ) -> bool
            where
                R: $crate::__private::rand_core::CryptoRng,
                D: $crate::__private::commonware_cryptography::Digest,
            {
                self.generic
                    .verify_certificate::<Self, _>(rng, subject, certificate)
            }

            fn verify_certificates<'a, R, D, I>(
                &self,
                rng: &mut R,
                certificates: $crate::__private::commonware_utils::iter::NonEmpty<I>,
                _strategy: &impl $crate::__private::commonware_parallel::Strategy,
            ) -> bool
            where
                R: $crate::__private::rand_core::CryptoRng,
                D: $crate::__private::commonware_cryptography::Digest,
                I: Iterator<Item = (Self::Subject<'a, D>, &'a Self::Certificate)>,
            {
                for (subject, certificate) in certificates {
                    if !self
                        .generic
                        .verify_certificate::<Self, _>(rng, subject, certificate)
                    {
                        return false;
                    }
                }
                true
            }

            fn is_batchable() -> bool {
                $crate::sm2dsa::certificate::Generic::<$namespace>::is_batchable()
            }

            fn max_certificate_size(participants: u32) -> usize {
                $crate::sm2dsa::certificate::Generic::<$namespace>::max_certificate_size(
                    participants,
                )
            }

            fn certificate_codec_config(
                &self,
            ) -> <Self::Certificate as $crate::__private::commonware_codec::Read>::Cfg {
                self.generic.certificate_codec_config()
            }

            fn certificate_codec_config_unbounded(
            ) -> <Self::Certificate as $crate::__private::commonware_codec::Read>::Cfg {
                $crate::sm2dsa::certificate::Generic::<$namespace>::certificate_codec_config_unbounded()
            }
        }

        impl $crate::__private::commonware_cryptography::certificate::Scheme for Scheme {
            type Signature = $crate::sm2dsa::Signature;

            fn me(&self) -> Option<$crate::__private::commonware_cryptography::certificate::Membership> {
                self.generic
                    .signer_index()
                    .map($crate::__private::commonware_cryptography::certificate::Membership::Signer)
                    .or(self
                        .member
                        .map($crate::__private::commonware_cryptography::certificate::Membership::Member))
            }

            fn participants(
                &self,
            ) -> &$crate::__private::commonware_utils::ordered::Set<Self::PublicKey> {
                &self.generic.participants
            }

            fn sign<D: $crate::__private::commonware_cryptography::Digest>(
                &self,
                subject: Self::Subject<'_, D>,
            ) -> Option<$crate::__private::commonware_cryptography::certificate::Attestation<Self>>
            {
                self.generic.sign(subject)
            }

            fn verify_attestation<R, D>(
                &self,
                _rng: &mut R,
                subject: Self::Subject<'_, D>,
                attestation: &$crate::__private::commonware_cryptography::certificate::Attestation<
                    Self,
                >,
                _strategy: &impl $crate::__private::commonware_parallel::Strategy,
            ) -> bool
            where
                R: $crate::__private::rand_core::CryptoRng,
                D: $crate::__private::commonware_cryptography::Digest,
            {
                self.generic.verify_attestation(subject, attestation)
            }

            fn verify_attestations<R, D, I>(
                &self,
                rng: &mut R,
                subject: Self::Subject<'_, D>,
                attestations: I,
                _strategy: &impl $crate::__private::commonware_parallel::Strategy,
            ) -> $crate::__private::commonware_cryptography::certificate::Verification<Self>
            where
                R: $crate::__private::rand_core::CryptoRng,
                D: $crate::__private::commonware_cryptography::Digest,
                I: IntoIterator<
                    Item = $crate::__private::commonware_cryptography::certificate::Attestation<Self>,
                >,
            {
                self.generic.verify_attestations(rng, subject, attestations)
            }

            fn optimistic_assemble<'a, R, D, I, J>(
                &self,
                rng: &mut R,
                subject: Self::Subject<'_, D>,
                pending: I,
                verified: J,
                strategy: &impl $crate::__private::commonware_parallel::Strategy,
            ) -> Result<
                Self::Certificate,
                $crate::__private::commonware_cryptography::certificate::Verification<Self>,
            >
            where
                R: $crate::__private::rand_core::CryptoRng,
                D: $crate::__private::commonware_cryptography::Digest,
                I: IntoIterator<
                    Item = $crate::__private::commonware_cryptography::certificate::Attestation<Self>,
                >,
                I::IntoIter: ExactSizeIterator + Send,
                J: IntoIterator<
                    Item = &'a $crate::__private::commonware_cryptography::certificate::Attestation<
                        Self,
                    >,
                >,
                J::IntoIter: Send,
            {
                $crate::__private::commonware_cryptography::certificate::verify_then_assemble::<
                    Self,
                    _,
                    D,
                    _,
                    _,
                >(self, rng, subject, pending, verified, strategy)
            }

            fn assemble<I>(
                &self,
                attestations: $crate::__private::commonware_utils::iter::NonEmpty<I>,
                _strategy: &impl $crate::__private::commonware_parallel::Strategy,
            ) -> Result<
                Self::Certificate,
                $crate::__private::commonware_cryptography::certificate::AssemblyError,
            >
            where
                I: Iterator<
                        Item = $crate::__private::commonware_cryptography::certificate::Attestation<
                            Self,
                        >,
                    > + Send,
            {
                self.generic.assemble::<Self, _>(attestations)
            }

            fn is_attributable() -> bool {
                $crate::sm2dsa::certificate::Generic::<$namespace>::is_attributable()
            }
        }
    };
}

#[cfg(test)]
mod tests;
