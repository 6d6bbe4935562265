//! Suite-level keys and signatures: one type whatever the chain's suite.
//!
//! [`PrivateKey`], [`PublicKey`] and [`Signature`] are enums over the suite's algorithms (SM2 for
//! `sm`; Ed25519 for `intl`, plus ECDSA P-256 as a transaction key of members whose certificates
//! are P-256 — consensus and p2p on `intl` stay Ed25519). Application code (transactions, mempool, genesis) uses these and
//! never matches on the algorithm. Consensus and p2p use the per-algorithm types directly
//! ([`crate::sm2dsa`], [`commonware_cryptography::ed25519`]) because commonware is generic over them.
//!
//! # Encodings
//!
//! - *raw* ([`PublicKey::as_bytes`], [`Signature::as_bytes`], [`PrivateKey::to_bytes`]): the
//!   algorithm's canonical bytes, decoded with the suite known from context
//!   (`from_bytes(suite, ..)`): SM2 public key 33-byte compressed SEC1, SM2 signature 64-byte
//!   `r || s`, Ed25519 public key 32, Ed25519 signature 64, P-256 public key 33-byte compressed
//!   SEC1, P-256 signature 64-byte `r || s` (low `s`), private keys 32. On `intl` a 33-byte key
//!   is P-256 and a 32-byte key Ed25519; a signature is parsed for its key
//!   ([`PublicKey::parse_signature`]).
//! - *tagged* (`to_tagged_bytes` / `from_tagged_bytes`, and the commonware codec impls):
//!   `u8(algorithm tag) || raw`, self-describing, fixed size per algorithm. The algorithm tag is
//!   the suite tag for the suite's main algorithm (1 SM2, 2 Ed25519) and 3 for P-256.

use crate::ecdsa_p256::{P256PrivateKey, P256PublicKey, P256Signature};
use crate::{sm2dsa, CryptoError, Domain, Suite};
use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, ReadExt, Write};
use commonware_cryptography::{ed25519, Signer as _, Verifier as _};
use commonware_math::algebra::Random;
use core::fmt;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

fn decode_exact<T: ReadExt>(bytes: &[u8]) -> Option<T> {
    let mut buf = commonware_codec::Copying(bytes);
    let value = T::read(&mut buf).ok()?;
    if bytes::Buf::has_remaining(&buf) {
        return None;
    }
    Some(value)
}

/// Tag of P-256 in tagged encodings (1 and 2 are the suite tags of SM2 and Ed25519).
pub const P256_TAG: u8 = 3;

/// The algorithm of a tagged encoding.
enum Alg {
    Suite(Suite),
    P256,
}

fn split_tag(bytes: &[u8]) -> Result<(Alg, &[u8]), CryptoError> {
    let (&tag, rest) = bytes.split_first().ok_or(CryptoError::MalformedEncoding)?;
    if tag == P256_TAG {
        return Ok((Alg::P256, rest));
    }
    Ok((Alg::Suite(Suite::from_tag(tag)?), rest))
}

/// A signing key of either suite. Secrets are zeroized on drop; `Debug` never prints them.
#[derive(Clone)]
pub enum PrivateKey {
    /// SM2 (suite `sm`).
    Sm2(sm2dsa::PrivateKey),
    /// Ed25519 (suite `intl`), commonware's implementation.
    Ed25519(ed25519::PrivateKey),
    /// ECDSA P-256 (suite `intl`, transaction keys only).
    P256(P256PrivateKey),
}

impl PrivateKey {
    /// A fresh P-256 key (for an `intl` member whose certificate is P-256).
    pub fn generate_p256<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::P256(P256PrivateKey::generate(rng))
    }

    /// Generates a fresh key for `suite` from a cryptographically secure RNG.
    pub fn generate<R: CryptoRng + ?Sized>(suite: Suite, rng: &mut R) -> Self {
        match suite {
            Suite::Sm => Self::Sm2(sm2dsa::PrivateKey::generate(rng)),
            Suite::Intl => Self::Ed25519(ed25519::PrivateKey::random(rng)),
        }
    }

    /// Deterministic key from a 32-byte seed (tests, devnet keygen). Ed25519: the seed *is* the
    /// RFC 8032 secret key. SM2: see [`sm2dsa::PrivateKey::derive_from_seed`].
    pub fn from_seed(suite: Suite, seed: &[u8; 32]) -> Self {
        match suite {
            Suite::Sm => Self::Sm2(sm2dsa::PrivateKey::derive_from_seed(seed)),
            Suite::Intl => {
                // Any 32 bytes are a valid Ed25519 secret, so this cannot fail.
                match Self::from_bytes(Suite::Intl, seed) {
                    Ok(key) => key,
                    Err(_) => unreachable!("every 32-byte string is an Ed25519 secret key"),
                }
            }
        }
    }

    /// Parses the 32 raw secret bytes for `suite`.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        match suite {
            Suite::Sm => sm2dsa::PrivateKey::from_bytes(bytes).map(Self::Sm2),
            Suite::Intl => decode_exact::<ed25519::PrivateKey>(bytes)
                .map(Self::Ed25519)
                .ok_or(CryptoError::InvalidPrivateKey),
        }
    }

    /// The 32 raw secret bytes (wiped when dropped).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        match self {
            Self::Sm2(k) => k.to_bytes(),
            Self::P256(k) => k.to_bytes(),
            Self::Ed25519(k) => {
                let mut buf = Zeroizing::new(Vec::with_capacity(32));
                k.write(&mut *buf);
                let mut out = Zeroizing::new([0u8; 32]);
                out.copy_from_slice(&buf[..32.min(buf.len())]);
                out
            }
        }
    }

    /// Tagged secret bytes `u8(algorithm tag) || raw` (for key files).
    pub fn to_tagged_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(33));
        out.push(self.tag());
        out.extend_from_slice(self.to_bytes().as_ref());
        out
    }

    /// Inverse of [`Self::to_tagged_bytes`].
    pub fn from_tagged_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match split_tag(bytes)? {
            (Alg::Suite(suite), rest) => Self::from_bytes(suite, rest),
            (Alg::P256, rest) => P256PrivateKey::from_bytes(rest).map(Self::P256),
        }
    }

    const fn tag(&self) -> u8 {
        match self {
            Self::P256(_) => P256_TAG,
            _ => self.suite().tag(),
        }
    }

    /// The key's suite.
    pub const fn suite(&self) -> Suite {
        match self {
            Self::Sm2(_) => Suite::Sm,
            Self::Ed25519(_) | Self::P256(_) => Suite::Intl,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Sm2(k) => PublicKey::Sm2(k.public_key()),
            Self::Ed25519(k) => PublicKey::Ed25519(k.public_key()),
            Self::P256(k) => PublicKey::P256(k.public_key()),
        }
    }

    /// Signs `msg` bound to `domain` (chain id + kind); see [`crate::domain`] for the bytes.
    pub fn sign(&self, domain: &Domain, msg: &[u8]) -> Signature {
        match self {
            Self::Sm2(k) => Signature::Sm2(k.sign_domain(domain, msg)),
            Self::Ed25519(k) => Signature::Ed25519(k.sign(domain.prefix(), msg)),
            Self::P256(k) => Signature::P256(k.sign(domain, msg)),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, [REDACTED])", self.suite())
    }
}

/// A verification key of either suite.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PublicKey {
    /// SM2 (suite `sm`), 33-byte compressed encoding.
    Sm2(sm2dsa::PublicKey),
    /// Ed25519 (suite `intl`), 32 bytes.
    Ed25519(ed25519::PublicKey),
    /// ECDSA P-256 (suite `intl`, transaction keys only), 33-byte compressed SEC1.
    P256(P256PublicKey),
}

impl PublicKey {
    /// Parses raw public key bytes for `suite` (SM2: 33-byte compressed; 65-byte uncompressed
    /// is also accepted and normalised; `intl`: 32 bytes Ed25519, 33-byte compressed or 65-byte
    /// uncompressed SEC1 P-256).
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        match suite {
            Suite::Sm => sm2dsa::PublicKey::from_bytes(bytes).map(Self::Sm2),
            Suite::Intl if bytes.len() == 32 => decode_exact::<ed25519::PublicKey>(bytes)
                .map(Self::Ed25519)
                .ok_or(CryptoError::InvalidPublicKey),
            Suite::Intl => P256PublicKey::from_sec1_bytes(bytes).map(Self::P256),
        }
    }

    /// The canonical raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Sm2(k) => k.as_ref(),
            Self::Ed25519(k) => k.as_ref(),
            Self::P256(k) => k.as_bytes(),
        }
    }

    const fn tag(&self) -> u8 {
        match self {
            Self::P256(_) => P256_TAG,
            _ => self.suite().tag(),
        }
    }

    /// `u8(algorithm tag) || raw`.
    pub fn to_tagged_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.as_bytes().len());
        out.push(self.tag());
        out.extend_from_slice(self.as_bytes());
        out
    }

    /// Inverse of [`Self::to_tagged_bytes`] (strict length).
    pub fn from_tagged_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match split_tag(bytes)? {
            (Alg::Suite(suite), rest) => {
                if rest.len() != suite.public_key_len() {
                    return Err(CryptoError::InvalidPublicKey);
                }
                Self::from_bytes(suite, rest)
            }
            (Alg::P256, rest) if rest.len() == crate::ecdsa_p256::PUBLIC_KEY_LEN => {
                P256PublicKey::from_sec1_bytes(rest).map(Self::P256)
            }
            (Alg::P256, _) => Err(CryptoError::InvalidPublicKey),
        }
    }

    /// The key's suite.
    pub const fn suite(&self) -> Suite {
        match self {
            Self::Sm2(_) => Suite::Sm,
            Self::Ed25519(_) | Self::P256(_) => Suite::Intl,
        }
    }

    /// Parses raw signature bytes made by this key's algorithm.
    pub fn parse_signature(&self, bytes: &[u8]) -> Result<Signature, CryptoError> {
        match self {
            Self::P256(_) => P256Signature::from_bytes(bytes).map(Signature::P256),
            _ => Signature::from_bytes(self.suite(), bytes),
        }
    }

    /// Verifies `sig` over `msg` in `domain`. Errors: `SuiteMismatch` if the signature is of
    /// the other suite, `BadSignature` if it does not verify.
    pub fn verify(&self, domain: &Domain, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        let ok = match (self, sig) {
            (Self::Sm2(k), Signature::Sm2(s)) => k.verify_namespaced(domain.prefix(), msg, s),
            (Self::Ed25519(k), Signature::Ed25519(s)) => k.verify(domain.prefix(), msg, s),
            (Self::P256(k), Signature::P256(s)) => k.verify(domain, msg, s),
            _ => return Err(CryptoError::SuiteMismatch),
        };
        if ok {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Parses `sig_bytes` for this key's suite and verifies; the one call a mempool needs.
    pub fn verify_bytes(
        &self,
        domain: &Domain,
        msg: &[u8],
        sig_bytes: &[u8],
    ) -> Result<(), CryptoError> {
        let sig = self.parse_signature(sig_bytes)?;
        self.verify(domain, msg, &sig)
    }
}

/// One signature to check in [`verify_batch`].
pub struct BatchItem<'a> {
    pub public_key: &'a PublicKey,
    pub msg: &'a [u8],
    pub signature: &'a Signature,
}

/// Checks many signatures in one `domain`; `true` only if every one verifies.
///
/// Ed25519 uses randomised batch verification (about half the cost of one-by-one checks on
/// large batches), so `rng` must be unpredictable to whoever chose the signatures. SM2 has no
/// batch equation and is checked one by one, as is P-256. On `false` the caller checks items one by one to
/// find the bad ones. An empty batch is `true`.
pub fn verify_batch<R: CryptoRng>(rng: &mut R, domain: &Domain, items: &[BatchItem<'_>]) -> bool {
    let mut ed = Vec::with_capacity(items.len());
    for it in items {
        match (it.public_key, it.signature) {
            (PublicKey::Ed25519(k), Signature::Ed25519(s)) => ed.push((k, it.msg, s)),
            (PublicKey::Sm2(k), Signature::Sm2(s)) => {
                if !k.verify_namespaced(domain.prefix(), it.msg, s) {
                    return false;
                }
            }
            (PublicKey::P256(k), Signature::P256(s)) => {
                if !k.verify(domain, it.msg, s) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    if ed.is_empty() {
        return true;
    }
    use commonware_cryptography::{BatchEntry, BatchVerifier as _};
    let ns = domain.prefix();
    ed25519::PublicKey::verify_batch(
        rng,
        &ed,
        |_, (k, msg, sig)| BatchEntry {
            namespace: ns,
            message: msg,
            public_key: k,
            signature: sig,
        },
        &commonware_parallel::Sequential,
    )
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({}, {})",
            self.suite(),
            hex::encode(self.as_bytes())
        )
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.suite(), hex::encode(self.as_bytes()))
    }
}

/// A signature of either suite (64 bytes for both).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signature {
    /// SM2 `r || s`.
    Sm2(sm2dsa::Signature),
    /// Ed25519 `R || S`.
    Ed25519(ed25519::Signature),
    /// ECDSA P-256 `r || s`, low `s`.
    P256(P256Signature),
}

impl Signature {
    /// Parses raw signature bytes for `suite`'s main algorithm (exactly 64 bytes; SM2 or
    /// Ed25519). A P-256 signature is parsed with [`PublicKey::parse_signature`].
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        match suite {
            Suite::Sm => sm2dsa::Signature::from_bytes(bytes).map(Self::Sm2),
            Suite::Intl => decode_exact::<ed25519::Signature>(bytes)
                .map(Self::Ed25519)
                .ok_or(CryptoError::MalformedSignature),
        }
    }

    /// The canonical raw 64 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Sm2(s) => s.as_ref(),
            Self::Ed25519(s) => s.as_ref(),
            Self::P256(s) => s.as_bytes(),
        }
    }

    const fn tag(&self) -> u8 {
        match self {
            Self::P256(_) => P256_TAG,
            _ => self.suite().tag(),
        }
    }

    /// `u8(algorithm tag) || raw`.
    pub fn to_tagged_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(65);
        out.push(self.tag());
        out.extend_from_slice(self.as_bytes());
        out
    }

    /// Inverse of [`Self::to_tagged_bytes`].
    pub fn from_tagged_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match split_tag(bytes)? {
            (Alg::Suite(suite), rest) => Self::from_bytes(suite, rest),
            (Alg::P256, rest) => P256Signature::from_bytes(rest).map(Self::P256),
        }
    }

    /// The signature's suite.
    pub const fn suite(&self) -> Suite {
        match self {
            Self::Sm2(_) => Suite::Sm,
            Self::Ed25519(_) | Self::P256(_) => Suite::Intl,
        }
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signature({}, {})",
            self.suite(),
            hex::encode(self.as_bytes())
        )
    }
}

// Commonware codec: the tagged encoding, so these enums can sit inside codec'd wire types.

impl Write for PublicKey {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.tag());
        buf.put_slice(self.as_bytes());
    }
}

impl EncodeSize for PublicKey {
    fn encode_size(&self) -> usize {
        1 + self.as_bytes().len()
    }
}

impl Read for PublicKey {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let tag = u8::read(buf)?;
        if tag == P256_TAG {
            let raw = <[u8; crate::ecdsa_p256::PUBLIC_KEY_LEN]>::read(buf)?;
            return P256PublicKey::from_sec1_bytes(&raw)
                .map(Self::P256)
                .map_err(|_| CodecError::Invalid("PublicKey", "not a P-256 point"));
        }
        match Suite::from_tag(tag) {
            Ok(Suite::Sm) => sm2dsa::PublicKey::read(buf).map(Self::Sm2),
            Ok(Suite::Intl) => ed25519::PublicKey::read(buf).map(Self::Ed25519),
            Err(_) => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

impl Write for Signature {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.tag());
        buf.put_slice(self.as_bytes());
    }
}

impl EncodeSize for Signature {
    fn encode_size(&self) -> usize {
        1 + self.as_bytes().len()
    }
}

impl Read for Signature {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let tag = u8::read(buf)?;
        if tag == P256_TAG {
            let raw = <[u8; 64]>::read(buf)?;
            return P256Signature::from_bytes(&raw)
                .map(Self::P256)
                .map_err(|_| CodecError::Invalid("Signature", "not a strict P-256 signature"));
        }
        match Suite::from_tag(tag) {
            Ok(Suite::Sm) => sm2dsa::Signature::read(buf).map(Self::Sm2),
            Ok(Suite::Intl) => ed25519::Signature::read(buf).map(Self::Ed25519),
            Err(_) => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

#[cfg(test)]
mod tests;
