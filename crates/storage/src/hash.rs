//! Hash suites for the state tree.
//!
//! The JMT is generic over a [`jmt::SimpleHasher`]; a chain picks its suite in genesis, so the
//! node only learns it at run time. [`HashKind`] is that run-time choice; [`Sm3Hasher`] and
//! [`Sha256Hasher`] are the two compile-time hashers the store dispatches to.
//!
//! Both hashers are implemented here (rather than relying on jmt's blanket impl for `Digest`)
//! because jmt links `digest` 0.10 while the workspace uses the RustCrypto 0.11 generation
//! (`sm3` 0.5, `sha2` 0.11).

use sha2::Digest as _;

/// Root of an empty state tree. jmt uses a fixed placeholder (not a hash), so it is the same for
/// both suites.
pub const EMPTY_ROOT: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// The hash function of a chain's crypto suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashKind {
    /// SM3 (GB/T 32905), the `sm` suite.
    Sm3,
    /// SHA-256 (FIPS 180-4), the `intl` suite.
    Sha256,
}

impl HashKind {
    /// Hashes `data` with this suite's hash.
    pub fn hash(self, data: &[u8]) -> [u8; 32] {
        match self {
            HashKind::Sm3 => <Sm3Hasher as jmt::SimpleHasher>::hash(data),
            HashKind::Sha256 => <Sha256Hasher as jmt::SimpleHasher>::hash(data),
        }
    }

    /// Short stable name: `"sm3"` or `"sha256"`.
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Sm3 => "sm3",
            HashKind::Sha256 => "sha256",
        }
    }

    /// One-byte tag used on disk and in proof encodings.
    pub(crate) fn tag(self) -> u8 {
        match self {
            HashKind::Sm3 => 1,
            HashKind::Sha256 => 2,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(HashKind::Sm3),
            2 => Some(HashKind::Sha256),
            _ => None,
        }
    }
}

/// Ties a hasher type back to its run-time [`HashKind`].
pub(crate) trait Suite: jmt::SimpleHasher {
    const KIND: HashKind;
}

impl Suite for Sm3Hasher {
    const KIND: HashKind = HashKind::Sm3;
}

impl Suite for Sha256Hasher {
    const KIND: HashKind = HashKind::Sha256;
}

/// SM3 as a [`jmt::SimpleHasher`].
#[derive(Clone, Default)]
pub struct Sm3Hasher(sm3::Sm3);

impl jmt::SimpleHasher for Sm3Hasher {
    fn new() -> Self {
        Self(sm3::Sm3::new())
    }

    fn update(&mut self, data: &[u8]) {
        sm3::Digest::update(&mut self.0, data);
    }

    fn finalize(self) -> [u8; 32] {
        sm3::Digest::finalize(self.0).into()
    }
}

/// SHA-256 as a [`jmt::SimpleHasher`].
#[derive(Clone, Default)]
pub struct Sha256Hasher(sha2::Sha256);

impl jmt::SimpleHasher for Sha256Hasher {
    fn new() -> Self {
        Self(sha2::Sha256::new())
    }

    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }

    fn finalize(self) -> [u8; 32] {
        sha2::Digest::finalize(self.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sm3_standard_vector_abc() {
        // GB/T 32905-2016, example 1.
        assert_eq!(
            hex(&HashKind::Sm3.hash(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn sha256_standard_vector_abc() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            hex(&HashKind::Sha256.hash(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tags_roundtrip() {
        for k in [HashKind::Sm3, HashKind::Sha256] {
            assert_eq!(HashKind::from_tag(k.tag()), Some(k));
        }
        assert_eq!(HashKind::from_tag(0), None);
        assert_eq!(HashKind::from_tag(3), None);
    }
}
