//! Crypto suites and hashing.
//!
//! A chain picks exactly one [`Suite`] in genesis and uses it for every signature (transactions,
//! consensus votes, p2p identities) and every hash (block ids, state tree):
//!
//! | suite  | signatures | hash    | AEAD         |
//! |--------|------------|---------|--------------|
//! | `sm`   | SM2        | SM3     | SM4-GCM      |
//! | `intl` | Ed25519    | SHA-256 | AES-256-GCM  |
//!
//! Both hashes have 32-byte outputs, so every structure that stores a digest has one shape
//! ([`Digest32`]) whatever the suite.

use crate::CryptoError;
use bytes::BufMut;
use commonware_codec::{Buf, Error as CodecError, FixedSize, Read, ReadExt, Write};
use commonware_math::algebra::Random;
use commonware_parallel::Strategy;
use commonware_utils::{Array, Span};
use core::{fmt, ops::Deref, str::FromStr};
use rand_core::CryptoRng;
use sha2::Digest as _;

/// The crypto suite of a chain.
///
/// The `u8` tag ([`Suite::tag`]) is part of encodings that must stay stable: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suite {
    /// Chinese commercial cryptography: SM2 / SM3 / SM4 (GM/T 0003, GB/T 32905, GB/T 32907).
    Sm,
    /// International: Ed25519 / SHA-256 / AES-256-GCM (plus P-256 verification).
    Intl,
}

impl Suite {
    /// Every suite, in tag order.
    pub const ALL: [Suite; 2] = [Suite::Sm, Suite::Intl];

    /// Canonical lower-case name, as written in genesis and config files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Suite::Sm => "sm",
            Suite::Intl => "intl",
        }
    }

    /// Stable one-byte tag used in binary encodings.
    pub const fn tag(self) -> u8 {
        match self {
            Suite::Sm => 1,
            Suite::Intl => 2,
        }
    }

    /// Inverse of [`Suite::tag`].
    pub const fn from_tag(tag: u8) -> Result<Self, CryptoError> {
        match tag {
            1 => Ok(Suite::Sm),
            2 => Ok(Suite::Intl),
            _ => Err(CryptoError::UnknownSuite),
        }
    }

    /// Length of an encoded public key: SM2 compressed SEC1 (33) or Ed25519 (32).
    pub const fn public_key_len(self) -> usize {
        match self {
            Suite::Sm => crate::sm2dsa::PUBLIC_KEY_LEN,
            Suite::Intl => 32,
        }
    }

    /// Length of an encoded signature: SM2 `r || s` (64) or Ed25519 (64).
    pub const fn signature_len(self) -> usize {
        64
    }

    /// Length of an encoded private key (32 for both suites).
    pub const fn private_key_len(self) -> usize {
        32
    }

    /// One-shot hash with the suite's hash function (SM3 or SHA-256).
    pub fn hash(self, data: &[u8]) -> Digest32 {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finalize()
    }

    /// Incremental hasher with the suite's hash function.
    pub fn hasher(self) -> Hasher {
        Hasher::new(self)
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Suite {
    type Err = CryptoError;

    /// Parses `"sm"` or `"intl"` (exact, lower case: genesis files are canonical).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sm" => Ok(Suite::Sm),
            "intl" => Ok(Suite::Intl),
            _ => Err(CryptoError::UnknownSuite),
        }
    }
}

/// A 32-byte digest (SM3 or SHA-256 output).
///
/// Implements commonware's [`commonware_cryptography::Digest`] so it can be the block digest type
/// of consensus for both suites.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// The bytes of the digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses from a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| CryptoError::MalformedEncoding)
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl From<[u8; 32]> for Digest32 {
    fn from(value: [u8; 32]) -> Self {
        Self(value)
    }
}

impl From<Digest32> for [u8; 32] {
    fn from(value: Digest32) -> Self {
        value.0
    }
}

impl AsRef<[u8]> for Digest32 {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Deref for Digest32 {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest32({})", hex::encode(self.0))
    }
}

impl fmt::Display for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Write for Digest32 {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.write(buf);
    }
}

impl Read for Digest32 {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self(<[u8; 32]>::read(buf)?))
    }
}

impl FixedSize for Digest32 {
    const SIZE: usize = 32;
}

impl Span for Digest32 {}
impl Array for Digest32 {}

impl Random for Digest32 {
    fn random(mut rng: impl CryptoRng) -> Self {
        let mut out = [0u8; 32];
        rng.fill_bytes(&mut out);
        Self(out)
    }
}

impl commonware_cryptography::Digest for Digest32 {
    const EMPTY: Self = Self([0u8; 32]);
}

#[derive(Clone)]
enum HasherInner {
    Sm3(sm3::Sm3),
    Sha256(sha2::Sha256),
}

/// Incremental hasher for the chain's suite (SM3 or SHA-256).
///
/// Other crates hash structures field by field; this keeps them suite-agnostic.
#[derive(Clone)]
pub struct Hasher {
    inner: HasherInner,
}

impl Hasher {
    /// A fresh hasher for `suite`.
    pub fn new(suite: Suite) -> Self {
        let inner = match suite {
            Suite::Sm => HasherInner::Sm3(sm3::Sm3::new()),
            Suite::Intl => HasherInner::Sha256(sha2::Sha256::new()),
        };
        Self { inner }
    }

    /// The suite this hasher belongs to.
    pub const fn suite(&self) -> Suite {
        match self.inner {
            HasherInner::Sm3(_) => Suite::Sm,
            HasherInner::Sha256(_) => Suite::Intl,
        }
    }

    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        match &mut self.inner {
            HasherInner::Sm3(h) => sm3::Digest::update(h, data),
            HasherInner::Sha256(h) => h.update(data),
        }
        self
    }

    /// Returns the digest of everything absorbed.
    pub fn finalize(self) -> Digest32 {
        match self.inner {
            HasherInner::Sm3(h) => Digest32(sm3::Digest::finalize(h).into()),
            HasherInner::Sha256(h) => Digest32(h.finalize().into()),
        }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("suite", &self.suite())
            .finish()
    }
}

/// SM3 as a commonware [`commonware_cryptography::Hasher`] (digest type [`Digest32`]).
///
/// Use it wherever commonware needs a hasher on an `sm` chain (e.g. block digests, marshal),
/// so that no SHA-256 sits on the critical path.
#[derive(Clone, Debug, Default)]
pub struct Sm3Hasher(sm3::Sm3);

/// SHA-256 as a commonware [`commonware_cryptography::Hasher`] with digest type [`Digest32`]
/// (so both suites share one digest type).
#[derive(Clone, Debug, Default)]
pub struct Sha256Hasher(sha2::Sha256);

macro_rules! impl_cw_hasher {
    ($name:ident, $inner:ty) => {
        impl commonware_cryptography::Hasher for $name {
            type Digest = Digest32;

            fn hash(parts: &[&[u8]]) -> Digest32 {
                let mut h = <$inner as sha2::Digest>::new();
                for p in parts {
                    sha2::Digest::update(&mut h, p);
                }
                Digest32(sha2::Digest::finalize(h).into())
            }

            fn hash_pair(
                left: &[&[u8]],
                right: &[&[u8]],
                _strategy: &impl Strategy,
            ) -> (Digest32, Digest32) {
                (Self::hash(left), Self::hash(right))
            }

            fn update(&mut self, bytes: &[u8]) -> &mut Self {
                sha2::Digest::update(&mut self.0, bytes);
                self
            }

            fn finalize(mut self) -> (Self, Digest32) {
                let out = sha2::Digest::finalize_reset(&mut self.0);
                (self, Digest32(out.into()))
            }
        }
    };
}

impl_cw_hasher!(Sm3Hasher, sm3::Sm3);
impl_cw_hasher!(Sha256Hasher, sha2::Sha256);

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Copying, DecodeExt, Encode};
    use commonware_cryptography::Hasher as _;

    fn hx(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn suite_names_and_tags_roundtrip() {
        for s in Suite::ALL {
            assert_eq!(s.as_str().parse::<Suite>().unwrap(), s);
            assert_eq!(Suite::from_tag(s.tag()).unwrap(), s);
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(Suite::Sm.tag(), 1);
        assert_eq!(Suite::Intl.tag(), 2);
        assert_eq!("SM".parse::<Suite>(), Err(CryptoError::UnknownSuite));
        assert_eq!(Suite::from_tag(0), Err(CryptoError::UnknownSuite));
        assert_eq!(Suite::from_tag(3), Err(CryptoError::UnknownSuite));
    }

    /// GB/T 32905-2016 Appendix A, example 1: SM3("abc").
    #[test]
    fn sm3_vector_abc() {
        assert_eq!(
            Suite::Sm.hash(b"abc").0.to_vec(),
            hx("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        );
    }

    /// GB/T 32905-2016 Appendix A, example 2: SM3("abcd" x 16), a 512-bit message.
    #[test]
    fn sm3_vector_512_bit() {
        let msg = b"abcd".repeat(16);
        assert_eq!(msg.len() * 8, 512);
        assert_eq!(
            Suite::Sm.hash(&msg).0.to_vec(),
            hx("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
        );
    }

    /// FIPS 180-2 Appendix B.1: SHA-256("abc").
    #[test]
    fn sha256_vector_abc() {
        assert_eq!(
            Suite::Intl.hash(b"abc").0.to_vec(),
            hx("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        for s in Suite::ALL {
            let mut h = s.hasher();
            h.update(b"ab").update(b"").update(b"c");
            assert_eq!(h.suite(), s);
            assert_eq!(h.finalize(), s.hash(b"abc"));
        }
        assert_ne!(Suite::Sm.hash(b"x"), Suite::Intl.hash(b"x"));
    }

    #[test]
    fn commonware_hashers_match_suite_hash() {
        assert_eq!(Sm3Hasher::hash(&[b"a", b"bc"]), Suite::Sm.hash(b"abc"));
        assert_eq!(Sha256Hasher::hash(&[b"ab", b"c"]), Suite::Intl.hash(b"abc"));
        let mut h = Sm3Hasher::default();
        h.update(b"abc");
        let (mut h, d) = h.finalize();
        assert_eq!(d, Suite::Sm.hash(b"abc"));
        // finalize resets the state
        h.update(b"abc");
        assert_eq!(h.finalize().1, d);
    }

    #[test]
    fn digest_codec_roundtrip() {
        let d = Suite::Sm.hash(b"abc");
        let enc = d.encode();
        assert_eq!(enc.len(), 32);
        assert_eq!(Digest32::decode(enc).unwrap(), d);
        assert!(Digest32::decode(Copying(&[0u8; 31])).is_err());
        assert_eq!(Digest32::from_slice(d.as_ref()).unwrap(), d);
        assert!(Digest32::from_slice(&[0u8; 33]).is_err());
        assert_eq!(d.to_string(), d.to_hex());
    }
}
