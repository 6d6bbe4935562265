//! SM2 signatures (GM/T 0003-2012 / GB/T 32918) as commonware signer types.
//!
//! [`PrivateKey`], [`PublicKey`] and [`Signature`] implement commonware's
//! [`Signer`](commonware_cryptography::Signer), [`PrivateKey`](commonware_cryptography::PrivateKey),
//! [`Verifier`](commonware_cryptography::Verifier), [`PublicKey`](commonware_cryptography::PublicKey)
//! and [`Signature`](commonware_cryptography::Signature) traits (shape copied from
//! `commonware_cryptography::secp256r1::standard`), so an `sm` chain can use SM2 for consensus
//! votes ([`certificate`]) and p2p identities with no Ed25519 anywhere on its critical path.
//!
//! # What is signed
//!
//! `Signer::sign(namespace, msg)` signs `union_unique(namespace, msg)` =
//! `varint(len(namespace)) || namespace || msg`, exactly as commonware's own schemes do. SM2 then
//! computes `e = SM3(Z_A || that)` where `Z_A` (GM/T 0009) binds the signer's distinguishing ID
//! and public key. Signing is deterministic (RFC 6979 nonce derivation with SM3, as in the `sm2`
//! crate), so signing the same message twice gives the same signature.
//!
//! # Encodings (frozen)
//!
//! - private key: 32-byte big-endian scalar `d`, `1 <= d < n`;
//! - public key: 33-byte compressed SEC1 point (`02|03 || x`);
//! - signature: 64 bytes `r || s`, each big-endian, `1 <= r, s < n`.
//!
//! SM2 signatures are not malleable the way ECDSA's `(r, -s)` is (forging a second valid
//! `(r, s')` for the same message needs the private key), so no low-s rule is needed.
//!
//! # Distinguishing ID
//!
//! The codec (and therefore consensus and p2p) always uses [`DEFAULT_DISTID`]
//! `"1234567812345678"`, the GM/T 0009 default. A custom ID is supported through
//! [`PrivateKey::from_bytes_with_distid`] / [`PublicKey::from_bytes_with_distid`] /
//! [`PublicKey::with_distid`]; the ID is not part of the key encoding, so both sides must agree
//! on it out of band (e.g. from a certificate).

pub mod certificate;

use crate::{CryptoError, Domain};
use bytes::BufMut;
use commonware_codec::{Buf, Error as CodecError, FixedSize, Read, ReadExt, Write};
use commonware_cryptography::Secret;
use commonware_math::algebra::Random;
use commonware_utils::{union_unique, Array, Span};
use core::{
    cmp::Ordering,
    fmt,
    hash::{Hash, Hasher},
    ops::Deref,
};
use rand_core::{CryptoRng, Infallible, TryCryptoRng, TryRng};
use sm2::{
    dsa::{
        signature::{RandomizedSigner as _, Signer as _, Verifier as _},
        Signature as InnerSignature, SigningKey, VerifyingKey,
    },
    elliptic_curve::sec1::ToSec1Point,
    NonZeroScalar,
};
use sm3::Digest as _;
use zeroize::Zeroizing;

/// Default distinguishing ID of GM/T 0009-2012 (`"1234567812345678"`).
pub const DEFAULT_DISTID: &str = "1234567812345678";
/// Longest accepted distinguishing ID in bytes (ENTL is a 16-bit count of *bits*).
pub const MAX_DISTID_LEN: usize = (u16::MAX / 8) as usize;
/// Encoded private key length.
pub const PRIVATE_KEY_LEN: usize = 32;
/// Encoded (compressed SEC1) public key length.
pub const PUBLIC_KEY_LEN: usize = 33;
/// Encoded signature length (`r || s`).
pub const SIGNATURE_LEN: usize = 64;

const CURVE: &str = "sm2";
const SEED_DOMAIN: &[u8] = b"MERIDIAN/SM2-KEYGEN/v1";

// sm2p256v1 parameters (GM/T 0003.5), used for the explicit Z_A computation.
const CURVE_A: &str = "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc";
const CURVE_B: &str = "28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93";
const GEN_X: &str = "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7";
const GEN_Y: &str = "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0";

fn check_distid(distid: &str) -> Result<(), CryptoError> {
    if distid.len() > MAX_DISTID_LEN {
        return Err(CryptoError::InvalidDistId);
    }
    Ok(())
}

/// Computes `Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)` (GM/T 0009 §5,
/// GM/T 0003.2 §5.5) for a public key given as `x || y` (64 bytes).
pub fn compute_za(distid: &str, public_xy: &[u8; 64]) -> Result<[u8; 32], CryptoError> {
    check_distid(distid)?;
    // MAX_DISTID_LEN * 8 fits in u16.
    let entl = (distid.len() * 8) as u16;
    let mut h = sm3::Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(distid.as_bytes());
    for c in [CURVE_A, CURVE_B, GEN_X, GEN_Y] {
        let mut buf = [0u8; 32];
        // Constant, valid hex: cannot fail; keep the error path anyway.
        hex::decode_to_slice(c, &mut buf).map_err(|_| CryptoError::InvalidPublicKey)?;
        h.update(buf);
    }
    h.update(public_xy);
    Ok(h.finalize().into())
}

/// A deterministic stream (SM3 in counter mode) used only to re-randomise the RFC 6979 nonce in
/// the ~2^-256-probability case where SM2 signing rejects `k`.
struct RetryRng {
    seed: [u8; 32],
    counter: u64,
}

impl TryRng for RetryRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(32) {
            self.counter = self.counter.wrapping_add(1);
            let block: [u8; 32] = sm3::Sm3::new()
                .chain_update(self.seed)
                .chain_update(self.counter.to_be_bytes())
                .finalize()
                .into();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for RetryRng {}

/// SM2 private key. Zeroized on drop; `Debug`/`Display` never print it.
#[derive(Clone)]
pub struct PrivateKey {
    raw: Secret<[u8; PRIVATE_KEY_LEN]>,
    key: Secret<SigningKey>,
    public: PublicKey,
}

impl PrivateKey {
    fn from_scalar(scalar: NonZeroScalar, distid: &str) -> Result<Self, CryptoError> {
        check_distid(distid)?;
        let key = SigningKey::from_nonzero_scalar(distid, scalar)
            .map_err(|_| CryptoError::InvalidPrivateKey)?;
        let raw = Zeroizing::new(<[u8; PRIVATE_KEY_LEN]>::from(key.to_bytes()));
        let public = PublicKey::from_verifying_key(key.verifying_key().clone());
        Ok(Self {
            raw: Secret::new(*raw),
            key: Secret::new(key),
            public,
        })
    }

    /// Parses a 32-byte scalar (`1 <= d < n`) with the default distinguishing ID.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        Self::from_bytes_with_distid(bytes, DEFAULT_DISTID)
    }

    /// Parses a 32-byte scalar with a custom distinguishing ID.
    pub fn from_bytes_with_distid(bytes: &[u8], distid: &str) -> Result<Self, CryptoError> {
        if bytes.len() != PRIVATE_KEY_LEN {
            return Err(CryptoError::InvalidPrivateKey);
        }
        // Rejects zero and values >= n (no silent reduction: the encoding stays canonical).
        let scalar = NonZeroScalar::try_from(bytes).map_err(|_| CryptoError::InvalidPrivateKey)?;
        Self::from_scalar(scalar, distid)
    }

    /// Generates a key from a cryptographically secure RNG (rejection sampling of `d`).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            let mut bytes = Zeroizing::new([0u8; PRIVATE_KEY_LEN]);
            rng.fill_bytes(bytes.as_mut());
            if let Ok(key) = Self::from_bytes(bytes.as_ref()) {
                return key;
            }
        }
    }

    /// Derives a key deterministically from a 32-byte seed (tests, devnet key generation):
    /// `d = SM3("MERIDIAN/SM2-KEYGEN/v1" || seed || u32_be(i))` for the first `i` that gives a
    /// valid scalar.
    pub fn derive_from_seed(seed: &[u8; 32]) -> Self {
        let mut counter: u32 = 0;
        loop {
            let d = Zeroizing::new(<[u8; 32]>::from(
                sm3::Sm3::new()
                    .chain_update(SEED_DOMAIN)
                    .chain_update(seed)
                    .chain_update(counter.to_be_bytes())
                    .finalize(),
            ));
            if let Ok(key) = Self::from_bytes(d.as_ref()) {
                return key;
            }
            counter = counter.wrapping_add(1);
        }
    }

    /// The secret scalar, big-endian (wiped when the returned value drops).
    pub fn to_bytes(&self) -> Zeroizing<[u8; PRIVATE_KEY_LEN]> {
        Zeroizing::new(self.raw.expose(|r| *r))
    }

    /// The distinguishing ID this key signs with.
    pub fn distid(&self) -> &str {
        self.public.distid()
    }

    /// The matching public key (same distinguishing ID).
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// Signs `msg` in `domain` (see [`crate::domain`] for the exact bytes).
    pub fn sign_domain(&self, domain: &Domain, msg: &[u8]) -> Signature {
        self.sign_namespaced(domain.prefix(), msg)
    }

    /// Signs `union_unique(namespace, msg)`; identical to `Signer::sign`.
    pub fn sign_namespaced(&self, namespace: &[u8], msg: &[u8]) -> Signature {
        self.sign_raw(&union_unique(namespace, msg))
    }

    /// Signs exactly `payload` (SM2 still prepends `Z_A` inside the hash). Only for interop
    /// and standard vectors: prefer [`Self::sign_domain`].
    pub fn sign_raw(&self, payload: &[u8]) -> Signature {
        self.key.expose(|key| {
            if let Ok(sig) = key.try_sign(payload) {
                return Signature::from_inner(sig);
            }
            // RFC 6979 produced a rejected k (probability ~2^-256): re-derive with extra data.
            let seed: [u8; 32] = sm3::Sm3::digest(payload).into();
            let mut rng = RetryRng { seed, counter: 0 };
            loop {
                if let Ok(sig) = key.try_sign_with_rng(&mut rng, payload) {
                    return Signature::from_inner(sig);
                }
            }
        })
    }
}

impl PartialEq for PrivateKey {
    fn eq(&self, other: &Self) -> bool {
        let same = self.raw.expose(|a| {
            other.raw.expose(|b| {
                a.iter()
                    .zip(b.iter())
                    .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                    == 0
            })
        });
        same && self.distid() == other.distid()
    }
}

impl Eq for PrivateKey {}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sm2::PrivateKey([REDACTED], public={})", self.public)
    }
}

impl fmt::Display for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Random for PrivateKey {
    fn random(mut rng: impl CryptoRng) -> Self {
        Self::generate(&mut rng)
    }
}

impl Write for PrivateKey {
    fn write(&self, buf: &mut impl BufMut) {
        self.raw.expose(|raw| raw.write(buf));
    }
}

impl Read for PrivateKey {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let raw = Zeroizing::new(<[u8; PRIVATE_KEY_LEN]>::read(buf)?);
        Self::from_bytes(raw.as_ref())
            .map_err(|_| CodecError::Invalid(CURVE, "invalid private key"))
    }
}

impl FixedSize for PrivateKey {
    const SIZE: usize = PRIVATE_KEY_LEN;
}

impl commonware_cryptography::Signer for PrivateKey {
    type Signature = Signature;
    type PublicKey = PublicKey;

    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn sign(&self, namespace: &[u8], msg: &[u8]) -> Signature {
        self.sign_namespaced(namespace, msg)
    }
}

impl commonware_cryptography::PrivateKey for PrivateKey {}

/// SM2 public key (compressed SEC1) bound to a distinguishing ID, with `Z_A` precomputed.
#[derive(Clone)]
pub struct PublicKey {
    raw: [u8; PUBLIC_KEY_LEN],
    key: VerifyingKey,
}

impl PublicKey {
    fn from_verifying_key(key: VerifyingKey) -> Self {
        let mut raw = [0u8; PUBLIC_KEY_LEN];
        let point = key.to_sec1_point(true);
        // A valid non-identity point always compresses to 33 bytes.
        raw.copy_from_slice(&point.as_bytes()[..PUBLIC_KEY_LEN.min(point.as_bytes().len())]);
        Self { raw, key }
    }

    /// Parses a 33-byte compressed or 65-byte uncompressed SEC1 point (default ID). The point
    /// must be on the curve and not the identity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        Self::from_bytes_with_distid(bytes, DEFAULT_DISTID)
    }

    /// Like [`Self::from_bytes`] with a custom distinguishing ID.
    pub fn from_bytes_with_distid(bytes: &[u8], distid: &str) -> Result<Self, CryptoError> {
        check_distid(distid)?;
        if bytes.len() != PUBLIC_KEY_LEN && bytes.len() != 65 {
            return Err(CryptoError::InvalidPublicKey);
        }
        let key = VerifyingKey::from_sec1_bytes(distid, bytes)
            .map_err(|_| CryptoError::InvalidPublicKey)?;
        let pk = Self::from_verifying_key(key);
        // Reject non-canonical compressed encodings (e.g. x >= p that the parser reduced).
        if bytes.len() == PUBLIC_KEY_LEN && bytes != pk.raw {
            return Err(CryptoError::InvalidPublicKey);
        }
        Ok(pk)
    }

    /// The same point bound to another distinguishing ID.
    pub fn with_distid(&self, distid: &str) -> Result<Self, CryptoError> {
        Self::from_bytes_with_distid(&self.raw, distid)
    }

    /// The distinguishing ID.
    pub fn distid(&self) -> &str {
        self.key.distid()
    }

    /// Compressed SEC1 bytes (the canonical encoding).
    pub const fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.raw
    }

    /// Uncompressed SEC1 bytes `04 || x || y`.
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        let p = self.key.to_sec1_point(false);
        let bytes = p.as_bytes();
        if bytes.len() == 65 {
            out.copy_from_slice(bytes);
        }
        out
    }

    /// `Z_A` for this key and its distinguishing ID (GM/T 0009).
    pub fn za(&self) -> [u8; 32] {
        let unc = self.to_uncompressed();
        let mut xy = [0u8; 64];
        xy.copy_from_slice(&unc[1..]);
        // The distid was validated when the key was built.
        compute_za(self.distid(), &xy).unwrap_or([0u8; 32])
    }

    /// Verifies `sig` over `msg` in `domain`.
    pub fn verify_domain(
        &self,
        domain: &Domain,
        msg: &[u8],
        sig: &Signature,
    ) -> Result<(), CryptoError> {
        if self.verify_namespaced(domain.prefix(), msg, sig) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Verifies a signature over `union_unique(namespace, msg)`; identical to `Verifier::verify`.
    pub fn verify_namespaced(&self, namespace: &[u8], msg: &[u8], sig: &Signature) -> bool {
        self.verify_raw(&union_unique(namespace, msg), sig)
    }

    /// Verifies a signature over exactly `payload` (interop / standard vectors only).
    pub fn verify_raw(&self, payload: &[u8], sig: &Signature) -> bool {
        self.key.verify(payload, &sig.inner).is_ok()
    }

    /// The underlying `sm2` crate key (for interop).
    pub const fn inner(&self) -> &VerifyingKey {
        &self.key
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw && self.distid() == other.distid()
    }
}

impl Eq for PublicKey {}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw
            .cmp(&other.raw)
            .then_with(|| self.distid().cmp(other.distid()))
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl AsRef<[u8]> for PublicKey {
    fn as_ref(&self) -> &[u8] {
        &self.raw
    }
}

impl Deref for PublicKey {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.raw
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.raw))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.raw))
    }
}

impl Write for PublicKey {
    fn write(&self, buf: &mut impl BufMut) {
        self.raw.write(buf);
    }
}

impl Read for PublicKey {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let raw = <[u8; PUBLIC_KEY_LEN]>::read(buf)?;
        Self::from_bytes(&raw).map_err(|_| CodecError::Invalid(CURVE, "invalid public key"))
    }
}

impl FixedSize for PublicKey {
    const SIZE: usize = PUBLIC_KEY_LEN;
}

impl Span for PublicKey {}
impl Array for PublicKey {}

impl commonware_cryptography::Verifier for PublicKey {
    type Signature = Signature;

    fn verify(&self, namespace: &[u8], msg: &[u8], sig: &Signature) -> bool {
        self.verify_namespaced(namespace, msg, sig)
    }
}

impl commonware_cryptography::PublicKey for PublicKey {}

/// SM2 signature `r || s`.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    raw: [u8; SIGNATURE_LEN],
    inner: InnerSignature,
}

impl Signature {
    fn from_inner(inner: InnerSignature) -> Self {
        let raw: [u8; SIGNATURE_LEN] = inner.to_bytes().into();
        Self { raw, inner }
    }

    /// Parses `r || s` (64 bytes, `1 <= r, s < n`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != SIGNATURE_LEN {
            return Err(CryptoError::MalformedSignature);
        }
        let inner =
            InnerSignature::from_slice(bytes).map_err(|_| CryptoError::MalformedSignature)?;
        Ok(Self::from_inner(inner))
    }

    /// Builds from the two 32-byte big-endian scalars.
    pub fn from_scalars(r: &[u8; 32], s: &[u8; 32]) -> Result<Self, CryptoError> {
        let mut raw = [0u8; SIGNATURE_LEN];
        raw[..32].copy_from_slice(r);
        raw[32..].copy_from_slice(s);
        Self::from_bytes(&raw)
    }

    /// The canonical 64 bytes.
    pub const fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.raw
    }
}

impl Hash for Signature {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl Ord for Signature {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}

impl PartialOrd for Signature {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        &self.raw
    }
}

impl Deref for Signature {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.raw
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.raw))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.raw))
    }
}

impl Write for Signature {
    fn write(&self, buf: &mut impl BufMut) {
        self.raw.write(buf);
    }
}

impl Read for Signature {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let raw = <[u8; SIGNATURE_LEN]>::read(buf)?;
        Self::from_bytes(&raw).map_err(|_| CodecError::Invalid(CURVE, "invalid signature"))
    }
}

impl FixedSize for Signature {
    const SIZE: usize = SIGNATURE_LEN;
}

impl Span for Signature {}
impl Array for Signature {}

impl commonware_cryptography::Signature for Signature {}

#[cfg(test)]
mod tests;
