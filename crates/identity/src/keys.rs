//! Public keys carried in certificates ([`PublicKeyInfo`]) and CA signing keys ([`SigningKey`]).
//!
//! Signatures here are *raw X.509 signatures* over the DER of a `TBSCertificate`: no Meridian
//! domain prefix (that is what makes them verifiable by OpenSSL/GmSSL/Go and by ChainMaker or
//! Fabric tooling). They are therefore a different signing path from
//! `meridian_crypto::PrivateKey::sign`, which always binds a chain id and signing kind.

use crate::{Algorithm, IdentityError};
use core::fmt;
use der::{
    asn1::{BitString, UintRef},
    Any, Decode, Encode, Sequence,
};
use ed25519_dalek::Signer as _;
use meridian_crypto::{ed25519, sm2dsa, Suite};
use p256::ecdsa::signature::Verifier as _;
use rand_core::CryptoRng;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

use crate::algorithm::oid;

/// Length of [`PublicKeyInfo::key_identifier`] (RFC 7093 method 1: leftmost 160 bits).
pub const KEY_ID_LEN: usize = 20;

/// A P-256 public key, kept as the validated uncompressed SEC1 point `04 || x || y`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct P256PublicKey([u8; 65]);

impl P256PublicKey {
    /// Parses a 33-byte compressed or 65-byte uncompressed SEC1 point (on the curve, not the
    /// identity).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        if bytes.len() != 33 && bytes.len() != 65 {
            return Err(IdentityError::InvalidKey(
                "P-256 key must be 33 or 65 bytes",
            ));
        }
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map_err(|_| IdentityError::InvalidKey("not a P-256 point"))?;
        Ok(Self::from_verifying_key(&key))
    }

    fn from_verifying_key(key: &p256::ecdsa::VerifyingKey) -> Self {
        let point = key.to_sec1_point(false);
        let mut raw = [0u8; 65];
        let bytes = point.as_bytes();
        // A valid, non-identity point always encodes to 65 uncompressed bytes.
        if bytes.len() == raw.len() {
            raw.copy_from_slice(bytes);
        }
        Self(raw)
    }

    /// Uncompressed SEC1 `04 || x || y`.
    pub const fn as_uncompressed(&self) -> &[u8; 65] {
        &self.0
    }

    /// Compressed SEC1 `02|03 || x`.
    pub fn to_compressed(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = 0x02 | (self.0[64] & 1);
        out[1..].copy_from_slice(&self.0[1..33]);
        out
    }

    fn verifying_key(&self) -> Result<p256::ecdsa::VerifyingKey, IdentityError> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.0)
            .map_err(|_| IdentityError::InvalidKey("not a P-256 point"))
    }
}

impl fmt::Debug for P256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P256PublicKey({})", hex::encode(self.to_compressed()))
    }
}

/// The subject public key of a certificate.
///
/// SM2 keys always carry the default distinguishing ID `"1234567812345678"` (the one used for
/// certificate signatures); Ed25519 keys are the same type as `meridian_crypto`'s `intl` keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PublicKeyInfo {
    /// SM2 (`sm` suite).
    Sm2(sm2dsa::PublicKey),
    /// ECDSA P-256 (`intl` suite; certificates only — Meridian never signs transactions with it).
    P256(P256PublicKey),
    /// Ed25519 (`intl` suite).
    Ed25519(ed25519::PublicKey),
}

impl PublicKeyInfo {
    /// The certificate algorithm this key signs with.
    pub const fn algorithm(&self) -> Algorithm {
        match self {
            PublicKeyInfo::Sm2(_) => Algorithm::Sm2Sm3,
            PublicKeyInfo::P256(_) => Algorithm::EcdsaP256Sha256,
            PublicKeyInfo::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// Parses raw key bytes: SM2 and P-256 as 33-byte compressed or 65-byte uncompressed SEC1,
    /// Ed25519 as 32 bytes.
    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Result<Self, IdentityError> {
        match algorithm {
            Algorithm::Sm2Sm3 => sm2dsa::PublicKey::from_bytes(bytes)
                .map(PublicKeyInfo::Sm2)
                .map_err(|_| IdentityError::InvalidKey("not an SM2 point")),
            Algorithm::EcdsaP256Sha256 => P256PublicKey::from_sec1_bytes(bytes).map(Self::P256),
            Algorithm::Ed25519 => {
                let arr: &[u8; 32] = bytes
                    .try_into()
                    .map_err(|_| IdentityError::InvalidKey("Ed25519 key must be 32 bytes"))?;
                // Reject encodings that are not points at all.
                ed25519_dalek::VerifyingKey::from_bytes(arr)
                    .map_err(|_| IdentityError::InvalidKey("not an Ed25519 point"))?;
                match meridian_crypto::PublicKey::from_bytes(Suite::Intl, bytes) {
                    Ok(meridian_crypto::PublicKey::Ed25519(k)) => Ok(PublicKeyInfo::Ed25519(k)),
                    _ => Err(IdentityError::InvalidKey("not an Ed25519 key")),
                }
            }
        }
    }

    /// P-256 key from SEC1 bytes (33 or 65).
    pub fn p256_from_sec1(bytes: &[u8]) -> Result<Self, IdentityError> {
        P256PublicKey::from_sec1_bytes(bytes).map(Self::P256)
    }

    /// Canonical short bytes: SM2 and P-256 as 33-byte compressed SEC1, Ed25519 as 32 bytes.
    /// For SM2 and Ed25519 this equals `meridian_crypto::PublicKey::as_bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            PublicKeyInfo::Sm2(k) => k.as_bytes().to_vec(),
            PublicKeyInfo::P256(k) => k.to_compressed().to_vec(),
            PublicKeyInfo::Ed25519(k) => k.as_ref().to_vec(),
        }
    }

    /// The `subjectPublicKey` BIT STRING contents: uncompressed SEC1 (65 bytes) for SM2 and
    /// P-256, the 32-byte key for Ed25519.
    pub fn subject_public_key_bytes(&self) -> Vec<u8> {
        match self {
            PublicKeyInfo::Sm2(k) => k.to_uncompressed().to_vec(),
            PublicKeyInfo::P256(k) => k.as_uncompressed().to_vec(),
            PublicKeyInfo::Ed25519(k) => k.as_ref().to_vec(),
        }
    }

    /// Key identifier (subject/authority key identifier extensions): the leftmost 160 bits of
    /// the suite hash (SM3 for SM2, SHA-256 otherwise) of [`Self::subject_public_key_bytes`]
    /// (RFC 7093 §2 method 1, with SM3 in place of SHA-256 for SM2 keys).
    pub fn key_identifier(&self) -> [u8; KEY_ID_LEN] {
        let digest = self
            .algorithm()
            .suite()
            .hash(&self.subject_public_key_bytes());
        let mut out = [0u8; KEY_ID_LEN];
        out.copy_from_slice(&digest.as_bytes()[..KEY_ID_LEN]);
        out
    }

    /// The matching `meridian_crypto` key (SM2, Ed25519, or P-256 as an `intl` transaction key).
    pub fn to_crypto_public_key(&self) -> Option<meridian_crypto::PublicKey> {
        match self {
            PublicKeyInfo::Sm2(k) => Some(meridian_crypto::PublicKey::Sm2(k.clone())),
            PublicKeyInfo::Ed25519(k) => Some(meridian_crypto::PublicKey::Ed25519(k.clone())),
            PublicKeyInfo::P256(k) => {
                meridian_crypto::ecdsa_p256::P256PublicKey::from_sec1_bytes(&k.to_compressed())
                    .ok()
                    .map(meridian_crypto::PublicKey::P256)
            }
        }
    }

    /// Whether `key` (a node, transaction or p2p key) is this certificate key. Compares the
    /// curve point only, so an SM2 key bound to a custom distinguishing ID still matches.
    pub fn matches(&self, key: &meridian_crypto::PublicKey) -> bool {
        match (self, key) {
            (PublicKeyInfo::Sm2(a), meridian_crypto::PublicKey::Sm2(b)) => {
                a.as_bytes() == b.as_bytes()
            }
            (PublicKeyInfo::Ed25519(a), meridian_crypto::PublicKey::Ed25519(b)) => {
                a.as_ref() == b.as_ref()
            }
            (PublicKeyInfo::P256(a), meridian_crypto::PublicKey::P256(b)) => {
                a.to_compressed().as_slice() == b.as_bytes()
            }
            _ => false,
        }
    }

    /// Verifies an X.509 signature value (`signatureValue` BIT STRING contents) over `msg`
    /// (the DER of a `TBSCertificate`) with this key's algorithm.
    ///
    /// Any failure (wrong length, bad DER, out-of-range scalars, mismatch) is
    /// [`IdentityError::BadSignature`]. ECDSA high-`s` signatures are accepted (issuers do not
    /// normalise `s`); Ed25519 uses `verify_strict` (rejects small-order keys and `R`).
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<(), IdentityError> {
        let ok = match self {
            PublicKeyInfo::Sm2(k) => decode_ec_signature(signature)
                .and_then(|(r, s)| sm2dsa::Signature::from_scalars(&r, &s).ok())
                .is_some_and(|sig| k.verify_raw(msg, &sig)),
            PublicKeyInfo::P256(k) => {
                let key = k.verifying_key()?;
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify(msg, &sig).is_ok())
            }
            PublicKeyInfo::Ed25519(k) => {
                let sig: Option<[u8; 64]> = signature.try_into().ok();
                let key: Option<&[u8; 32]> = k.as_ref().try_into().ok();
                match (sig, key) {
                    (Some(sig), Some(key)) => ed25519_dalek::VerifyingKey::from_bytes(key)
                        .is_ok_and(|vk| {
                            vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig))
                                .is_ok()
                        }),
                    _ => false,
                }
            }
        };
        if ok {
            Ok(())
        } else {
            Err(IdentityError::BadSignature)
        }
    }

    /// DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, IdentityError> {
        self.to_spki()?
            .to_der()
            .map_err(|_| IdentityError::InvalidKey("cannot encode SubjectPublicKeyInfo"))
    }

    /// Parses a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, IdentityError> {
        let spki = SubjectPublicKeyInfoOwned::from_der(der)
            .map_err(|_| IdentityError::Malformed("bad SubjectPublicKeyInfo"))?;
        Self::from_spki(&spki)
    }

    pub(crate) fn to_spki(&self) -> Result<SubjectPublicKeyInfoOwned, IdentityError> {
        let algorithm = match self {
            PublicKeyInfo::Sm2(_) => ec_algorithm(oid::SM2P256V1)?,
            PublicKeyInfo::P256(_) => ec_algorithm(oid::PRIME256V1)?,
            PublicKeyInfo::Ed25519(_) => AlgorithmIdentifierOwned {
                oid: oid::ED25519,
                parameters: None,
            },
        };
        let subject_public_key = BitString::from_bytes(&self.subject_public_key_bytes())
            .map_err(|_| IdentityError::InvalidKey("cannot encode public key"))?;
        Ok(SubjectPublicKeyInfoOwned {
            algorithm,
            subject_public_key,
        })
    }

    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, IdentityError> {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or(IdentityError::Malformed(
                "public key bit string has unused bits",
            ))?;
        let alg = &spki.algorithm;
        let algorithm = if alg.oid == oid::ID_EC_PUBLIC_KEY {
            let curve = alg
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                .ok_or(IdentityError::Malformed("EC key without named curve"))?;
            if curve == oid::SM2P256V1 {
                Algorithm::Sm2Sm3
            } else if curve == oid::PRIME256V1 {
                Algorithm::EcdsaP256Sha256
            } else {
                return Err(IdentityError::WrongAlgorithm("unsupported elliptic curve"));
            }
        } else if alg.oid == oid::ED25519 {
            if alg.parameters.is_some() {
                return Err(IdentityError::Malformed("Ed25519 key with parameters"));
            }
            Algorithm::Ed25519
        } else {
            return Err(IdentityError::WrongAlgorithm(
                "unsupported public key algorithm",
            ));
        };
        Self::from_bytes(algorithm, bits)
            .map_err(|_| IdentityError::Malformed("invalid subject public key"))
    }
}

fn ec_algorithm(
    curve: der::asn1::ObjectIdentifier,
) -> Result<AlgorithmIdentifierOwned, IdentityError> {
    Ok(AlgorithmIdentifierOwned {
        oid: oid::ID_EC_PUBLIC_KEY,
        parameters: Some(
            Any::encode_from(&curve)
                .map_err(|_| IdentityError::InvalidKey("cannot encode curve"))?,
        ),
    })
}

impl From<meridian_crypto::PublicKey> for PublicKeyInfo {
    /// SM2 keys are re-bound to the default distinguishing ID (the one certificates use).
    fn from(key: meridian_crypto::PublicKey) -> Self {
        match key {
            meridian_crypto::PublicKey::Sm2(k) => {
                let k = k.with_distid(sm2dsa::DEFAULT_DISTID).unwrap_or(k);
                PublicKeyInfo::Sm2(k)
            }
            meridian_crypto::PublicKey::Ed25519(k) => PublicKeyInfo::Ed25519(k),
            meridian_crypto::PublicKey::P256(k) => {
                PublicKeyInfo::P256(P256PublicKey::from_verifying_key(k.verifying_key()))
            }
        }
    }
}

impl TryFrom<&PublicKeyInfo> for meridian_crypto::PublicKey {
    type Error = IdentityError;

    /// Fails only for a P-256 point that does not re-encode (never for a parsed certificate).
    fn try_from(key: &PublicKeyInfo) -> Result<Self, IdentityError> {
        key.to_crypto_public_key()
            .ok_or(IdentityError::InvalidKey("not a P-256 point"))
    }
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279; GM/T 0009 `SM2Signature`).
#[derive(Sequence)]
struct EcSignatureValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// DER `(r, s)` from 32-byte big-endian scalars.
fn encode_ec_signature(r: &[u8], s: &[u8]) -> Result<Vec<u8>, IdentityError> {
    let enc = |_: der::Error| IdentityError::InvalidKey("cannot encode signature");
    EcSignatureValue {
        r: UintRef::new(r).map_err(enc)?,
        s: UintRef::new(s).map_err(enc)?,
    }
    .to_der()
    .map_err(enc)
}

/// Strict DER `(r, s)` → 32-byte big-endian scalars; `None` if malformed or > 32 bytes.
fn decode_ec_signature(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let value = EcSignatureValue::from_der(der).ok()?;
    Some((pad32(value.r.as_bytes())?, pad32(value.s.as_bytes())?))
}

fn pad32(bytes: &[u8]) -> Option<[u8; 32]> {
    if bytes.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(bytes);
    Some(out)
}

#[derive(Clone)]
enum SigningKeyInner {
    Sm2(sm2dsa::PrivateKey),
    P256(p256::ecdsa::SigningKey),
    Ed25519 {
        key: ed25519_dalek::SigningKey,
        public: ed25519::PublicKey,
    },
}

/// A certificate signing key (a CA's key, or any key that signs raw X.509 TBS bytes).
///
/// Secrets are zeroized on drop; `Debug` prints only the algorithm and public key.
#[derive(Clone)]
pub struct SigningKey(SigningKeyInner);

impl SigningKey {
    /// Length of [`SigningKey::to_bytes`] for every algorithm.
    pub const LEN: usize = 32;

    /// Generates a fresh key from a cryptographically secure RNG.
    pub fn generate<R: CryptoRng + ?Sized>(algorithm: Algorithm, rng: &mut R) -> Self {
        if algorithm == Algorithm::Sm2Sm3 {
            return Self(SigningKeyInner::Sm2(sm2dsa::PrivateKey::generate(rng)));
        }
        loop {
            let mut bytes = Zeroizing::new([0u8; Self::LEN]);
            rng.fill_bytes(bytes.as_mut());
            // Ed25519 accepts every seed; P-256 rejects 0 and >= n (probability ~2^-32).
            if let Ok(key) = Self::from_bytes(algorithm, bytes.as_ref()) {
                return key;
            }
        }
    }

    /// Parses 32 secret bytes: the SM2 / P-256 scalar `d` (big-endian, `1 <= d < n`) or the
    /// RFC 8032 Ed25519 seed.
    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Result<Self, IdentityError> {
        if bytes.len() != Self::LEN {
            return Err(IdentityError::InvalidKey("private key must be 32 bytes"));
        }
        let inner = match algorithm {
            Algorithm::Sm2Sm3 => SigningKeyInner::Sm2(
                sm2dsa::PrivateKey::from_bytes(bytes)
                    .map_err(|_| IdentityError::InvalidKey("invalid SM2 scalar"))?,
            ),
            Algorithm::EcdsaP256Sha256 => SigningKeyInner::P256(
                p256::ecdsa::SigningKey::from_slice(bytes)
                    .map_err(|_| IdentityError::InvalidKey("invalid P-256 scalar"))?,
            ),
            Algorithm::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; Self::LEN]);
                seed.copy_from_slice(bytes);
                let key = ed25519_dalek::SigningKey::from_bytes(&seed);
                let public = match PublicKeyInfo::from_bytes(
                    Algorithm::Ed25519,
                    key.verifying_key().as_bytes(),
                )? {
                    PublicKeyInfo::Ed25519(pk) => pk,
                    _ => return Err(IdentityError::InvalidKey("invalid Ed25519 seed")),
                };
                SigningKeyInner::Ed25519 { key, public }
            }
        };
        Ok(Self(inner))
    }

    /// The 32 secret bytes (see [`Self::from_bytes`]); wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        match &self.0 {
            SigningKeyInner::Sm2(k) => k.to_bytes(),
            SigningKeyInner::P256(k) => {
                let mut out = Zeroizing::new([0u8; 32]);
                let bytes = Zeroizing::new(k.to_bytes());
                out.copy_from_slice(bytes.as_slice());
                out
            }
            SigningKeyInner::Ed25519 { key, .. } => Zeroizing::new(key.to_bytes()),
        }
    }

    /// The algorithm this key signs with.
    pub const fn algorithm(&self) -> Algorithm {
        match &self.0 {
            SigningKeyInner::Sm2(_) => Algorithm::Sm2Sm3,
            SigningKeyInner::P256(_) => Algorithm::EcdsaP256Sha256,
            SigningKeyInner::Ed25519 { .. } => Algorithm::Ed25519,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKeyInfo {
        match &self.0 {
            SigningKeyInner::Sm2(k) => PublicKeyInfo::Sm2(k.public_key()),
            SigningKeyInner::P256(k) => {
                PublicKeyInfo::P256(P256PublicKey::from_verifying_key(k.verifying_key()))
            }
            SigningKeyInner::Ed25519 { public, .. } => PublicKeyInfo::Ed25519(public.clone()),
        }
    }

    /// Signs `msg` (raw, no domain prefix) and returns the X.509 `signatureValue` bytes:
    /// DER `(r, s)` for SM2-with-SM3 (SM3 over `Z_A || msg`, default ID) and ECDSA P-256/SHA-256
    /// (RFC 6979 deterministic), the 64-byte signature for Ed25519.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, IdentityError> {
        match &self.0 {
            SigningKeyInner::Sm2(k) => {
                let sig = k.sign_raw(msg);
                let raw = sig.as_bytes();
                encode_ec_signature(&raw[..32], &raw[32..])
            }
            SigningKeyInner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(msg);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            SigningKeyInner::Ed25519 { key, .. } => Ok(key.sign(msg).to_bytes().to_vec()),
        }
    }
}

impl TryFrom<&meridian_crypto::PrivateKey> for SigningKey {
    type Error = IdentityError;

    /// Uses the same secret for certificate signing. SM2 keys are re-bound to the default
    /// distinguishing ID. Fails only if the secret bytes are invalid (which they never are for a
    /// key `meridian_crypto` built).
    fn try_from(key: &meridian_crypto::PrivateKey) -> Result<Self, IdentityError> {
        let algorithm = match key {
            meridian_crypto::PrivateKey::Sm2(_) => Algorithm::Sm2Sm3,
            meridian_crypto::PrivateKey::Ed25519(_) => Algorithm::Ed25519,
            meridian_crypto::PrivateKey::P256(_) => Algorithm::EcdsaP256Sha256,
        };
        Self::from_bytes(algorithm, key.to_bytes().as_ref())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey({}, [REDACTED], public={})",
            self.algorithm(),
            hex::encode(self.public_key().to_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn sign_verify_all_algorithms() {
        let mut rng = StdRng::seed_from_u64(1);
        for alg in Algorithm::ALL {
            let key = SigningKey::generate(alg, &mut rng);
            assert_eq!(key.algorithm(), alg);
            let pk = key.public_key();
            assert_eq!(pk.algorithm(), alg);
            let sig = key.sign(b"tbs").unwrap();
            pk.verify(b"tbs", &sig).unwrap();
            assert_eq!(
                pk.verify(b"tbS", &sig).unwrap_err().code(),
                "cert.bad_signature"
            );
            // Key bytes roundtrip.
            let again = SigningKey::from_bytes(alg, key.to_bytes().as_ref()).unwrap();
            assert_eq!(again.public_key(), pk);
            // Raw key bytes and SPKI roundtrip.
            assert_eq!(PublicKeyInfo::from_bytes(alg, &pk.to_bytes()).unwrap(), pk);
            let spki = pk.to_spki_der().unwrap();
            assert_eq!(PublicKeyInfo::from_spki_der(&spki).unwrap(), pk);
        }
    }

    #[test]
    fn sm2_signature_is_standard_za_sm3() {
        // Independent check with the `sm2` crate's prehash verifier: the signature must verify
        // over e = SM3(Z_A || M), where Z_A is computed explicitly (GM/T 0009) for the default
        // distinguishing ID "1234567812345678".
        use sm2::dsa::signature::hazmat::PrehashVerifier as _;
        use sm3::Digest as _;
        let key = SigningKey::from_bytes(Algorithm::Sm2Sm3, &[0x11; 32]).unwrap();
        let sig = key.sign(b"message").unwrap();
        let (r, s) = decode_ec_signature(&sig).unwrap();
        let PublicKeyInfo::Sm2(pk) = key.public_key() else {
            panic!("sm2")
        };
        let mut xy = [0u8; 64];
        xy.copy_from_slice(&pk.to_uncompressed()[1..]);
        let za = sm2dsa::compute_za("1234567812345678", &xy).unwrap();
        let e = sm3::Sm3::new()
            .chain_update(za)
            .chain_update(b"message")
            .finalize();
        let vk = sm2::dsa::VerifyingKey::from_sec1_bytes("1234567812345678", &pk.to_uncompressed())
            .unwrap();
        let mut raw = [0u8; 64];
        raw[..32].copy_from_slice(&r);
        raw[32..].copy_from_slice(&s);
        let inner = sm2::dsa::Signature::from_slice(&raw).unwrap();
        vk.verify_prehash(&e, &inner).unwrap();
        // Wrong ID => different Z_A => no match.
        let za_other = sm2dsa::compute_za("ALICE123@YAHOO.COM", &xy).unwrap();
        let e_other = sm3::Sm3::new()
            .chain_update(za_other)
            .chain_update(b"message")
            .finalize();
        assert!(vk.verify_prehash(&e_other, &inner).is_err());
    }

    #[test]
    fn der_signature_is_strict() {
        let key = SigningKey::from_bytes(Algorithm::Sm2Sm3, &[0x22; 32]).unwrap();
        let sig = key.sign(b"m").unwrap();
        let mut trailing = sig.clone();
        trailing.push(0);
        assert!(decode_ec_signature(&trailing).is_none());
        assert!(decode_ec_signature(&[]).is_none());
        assert!(decode_ec_signature(&sig).is_some());
    }

    #[test]
    fn crypto_key_conversions() {
        for suite in Suite::ALL {
            let sk = meridian_crypto::PrivateKey::from_seed(suite, &[9; 32]);
            let pk = sk.public_key();
            let info = PublicKeyInfo::from(pk.clone());
            assert!(info.matches(&pk));
            assert_eq!(meridian_crypto::PublicKey::try_from(&info).unwrap(), pk);
            assert_eq!(info.to_bytes(), pk.as_bytes());
            // The certificate signing key derived from the same secret has the same public key.
            let signing = SigningKey::try_from(&sk).unwrap();
            assert_eq!(signing.public_key(), info);
            let sig = signing.sign(b"tbs").unwrap();
            info.verify(b"tbs", &sig).unwrap();
            assert_eq!(signing.algorithm().suite(), suite);
        }
        let p256 = SigningKey::from_bytes(Algorithm::EcdsaP256Sha256, &[3; 32]).unwrap();
        let info = p256.public_key();
        // A P-256 certificate key is an intl transaction key.
        let tx_key = meridian_crypto::PublicKey::try_from(&info).unwrap();
        assert!(matches!(tx_key, meridian_crypto::PublicKey::P256(_)));
        assert!(info.matches(&tx_key));
        assert_eq!(PublicKeyInfo::from(tx_key.clone()), info);
        assert_eq!(tx_key.as_bytes(), info.to_bytes().as_slice());
        let sec1 = info.to_bytes();
        assert_eq!(sec1.len(), 33);
        assert_eq!(PublicKeyInfo::p256_from_sec1(&sec1).unwrap(), info);
        let PublicKeyInfo::P256(k) = &info else {
            panic!("p256")
        };
        assert_eq!(
            PublicKeyInfo::p256_from_sec1(k.as_uncompressed()).unwrap(),
            info
        );
        // meridian_crypto's own P-256 verifier accepts our signatures.
        let sig = p256.sign(b"x509").unwrap();
        meridian_crypto::verify_p256(&sec1, b"x509", &sig).unwrap();
    }

    #[test]
    fn bad_key_bytes() {
        assert_eq!(
            SigningKey::from_bytes(Algorithm::Sm2Sm3, &[0; 32])
                .unwrap_err()
                .code(),
            "cert.invalid_key"
        );
        assert!(SigningKey::from_bytes(Algorithm::EcdsaP256Sha256, &[0xff; 32]).is_err());
        assert!(SigningKey::from_bytes(Algorithm::Ed25519, &[0; 31]).is_err());
        assert!(PublicKeyInfo::from_bytes(Algorithm::Sm2Sm3, &[2; 33]).is_err());
        assert!(PublicKeyInfo::from_bytes(Algorithm::EcdsaP256Sha256, &[4; 65]).is_err());
        assert!(PublicKeyInfo::from_bytes(Algorithm::Ed25519, &[1; 33]).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let key = SigningKey::from_bytes(Algorithm::Ed25519, &[0x42; 32]).unwrap();
        let dbg = format!("{key:?}");
        assert!(!dbg.contains(&hex::encode([0x42; 32])));
        assert!(dbg.contains("REDACTED"));
    }
}
