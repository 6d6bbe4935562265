//! Domain separation for every signature.
//!
//! A signature must only ever be valid in the context it was made for: a transaction for chain
//! `A` must not verify on chain `B`, and a consensus vote must not double as a transaction. So
//! every signature made through this crate covers a [`Domain`] — the chain id and a
//! [`SigningKind`] — and never the bare message.
//!
//! # Wire format (frozen)
//!
//! The domain *prefix* is
//!
//! ```text
//! P = "MERIDIAN" || u8(len(chain_id)) || chain_id || u8(kind)
//! ```
//!
//! and the bytes actually signed are commonware's namespaced framing of the message under `P`
//! ([`commonware_utils::union_unique`]):
//!
//! ```text
//! signed = varint(len(P)) || P || msg
//! ```
//!
//! Why the extra varint: commonware's `Signer::sign(namespace, msg)` (used by consensus and p2p)
//! always frames `namespace` this way, and commonware's Ed25519 offers no un-framed signing. Using
//! `P` as the namespace makes a signature from [`crate::PrivateKey::sign`] byte-identical to
//! `Signer::sign(&domain.prefix(), msg)` through the commonware traits, for both suites. `P` is
//! self-delimiting (length-prefixed chain id, fixed-size tag), so distinct domains never produce
//! the same signed bytes.

use crate::CryptoError;
use commonware_utils::union_unique;

/// Magic prefix of every domain.
pub const DOMAIN_MAGIC: &[u8; 8] = b"MERIDIAN";

/// Maximum chain id length in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;

/// First tag available to [`SigningKind::Other`]; lower tags are reserved for named kinds.
pub const FIRST_OTHER_KIND: u8 = 0x80;

/// What a signature authorises. The tag ([`SigningKind::tag`]) is frozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningKind {
    /// A client transaction (tag `0x01`).
    Transaction,
    /// Consensus votes and certificates (tag `0x02`); use the domain prefix as the simplex
    /// namespace.
    ConsensusVote,
    /// Node identity in the p2p handshake (tag `0x03`); use the prefix as the p2p namespace.
    P2pHandshake,
    /// Application-defined kinds; the tag must be `>= 0x80` so it never collides with a
    /// named kind added later.
    Other(u8),
}

impl SigningKind {
    /// The stable tag byte.
    pub const fn tag(self) -> u8 {
        match self {
            SigningKind::Transaction => 0x01,
            SigningKind::ConsensusVote => 0x02,
            SigningKind::P2pHandshake => 0x03,
            SigningKind::Other(t) => t,
        }
    }

    /// Parses a tag; `0x00` and unassigned tags below `0x80` are rejected.
    pub const fn from_tag(tag: u8) -> Result<Self, CryptoError> {
        match tag {
            0x01 => Ok(SigningKind::Transaction),
            0x02 => Ok(SigningKind::ConsensusVote),
            0x03 => Ok(SigningKind::P2pHandshake),
            t if t >= FIRST_OTHER_KIND => Ok(SigningKind::Other(t)),
            _ => Err(CryptoError::InvalidSigningKind),
        }
    }

    const fn is_valid(self) -> bool {
        match self {
            SigningKind::Other(t) => t >= FIRST_OTHER_KIND,
            _ => true,
        }
    }
}

/// The context a signature is bound to: chain id + kind. See the module docs for the format.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Domain {
    chain_id: String,
    kind: SigningKind,
    prefix: Vec<u8>,
}

impl Domain {
    /// Builds a domain. The chain id must be 1..=64 bytes; `Other(t)` needs `t >= 0x80`.
    pub fn new(chain_id: impl Into<String>, kind: SigningKind) -> Result<Self, CryptoError> {
        let chain_id = chain_id.into();
        let len = chain_id.len();
        if len == 0 || len > MAX_CHAIN_ID_LEN {
            return Err(CryptoError::InvalidChainId);
        }
        if !kind.is_valid() {
            return Err(CryptoError::InvalidSigningKind);
        }
        let mut prefix = Vec::with_capacity(DOMAIN_MAGIC.len() + 2 + len);
        prefix.extend_from_slice(DOMAIN_MAGIC);
        // `len <= 64` was checked above.
        prefix.push(len as u8);
        prefix.extend_from_slice(chain_id.as_bytes());
        prefix.push(kind.tag());
        Ok(Self {
            chain_id,
            kind,
            prefix,
        })
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The signing kind.
    pub const fn kind(&self) -> SigningKind {
        self.kind
    }

    /// `P = "MERIDIAN" || u8(len) || chain_id || u8(kind)`: pass this as the commonware
    /// `namespace` (simplex, p2p) to get the same separation there.
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The exact bytes a signature over `msg` in this domain covers:
    /// `varint(len(P)) || P || msg`.
    pub fn signing_payload(&self, msg: &[u8]) -> Vec<u8> {
        union_unique(&self.prefix, msg)
    }

    /// Decodes a prefix produced by [`Domain::prefix`] (strict: no trailing bytes).
    pub fn from_prefix(prefix: &[u8]) -> Result<Self, CryptoError> {
        let rest = prefix
            .strip_prefix(DOMAIN_MAGIC.as_slice())
            .ok_or(CryptoError::MalformedEncoding)?;
        let (&len, rest) = rest.split_first().ok_or(CryptoError::MalformedEncoding)?;
        let len = usize::from(len);
        if rest.len() != len + 1 {
            return Err(CryptoError::MalformedEncoding);
        }
        let chain_id =
            core::str::from_utf8(&rest[..len]).map_err(|_| CryptoError::MalformedEncoding)?;
        let kind = SigningKind::from_tag(rest[len])?;
        Self::new(chain_id, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prefix_layout_is_frozen() {
        let d = Domain::new("meridian-sh", SigningKind::Transaction).unwrap();
        let mut expect = b"MERIDIAN".to_vec();
        expect.push(11);
        expect.extend_from_slice(b"meridian-sh");
        expect.push(0x01);
        assert_eq!(d.prefix(), expect.as_slice());
        // signed bytes = varint(len P) || P || msg
        let payload = d.signing_payload(b"hi");
        assert_eq!(payload[0] as usize, expect.len());
        assert_eq!(&payload[1..1 + expect.len()], expect.as_slice());
        assert_eq!(&payload[1 + expect.len()..], b"hi");
    }

    #[test]
    fn rejects_bad_chain_ids_and_kinds() {
        assert_eq!(
            Domain::new("", SigningKind::Transaction),
            Err(CryptoError::InvalidChainId)
        );
        assert_eq!(
            Domain::new("x".repeat(65), SigningKind::Transaction),
            Err(CryptoError::InvalidChainId)
        );
        assert!(Domain::new("x".repeat(64), SigningKind::Transaction).is_ok());
        assert_eq!(
            Domain::new("c", SigningKind::Other(0x10)),
            Err(CryptoError::InvalidSigningKind)
        );
        assert!(Domain::new("c", SigningKind::Other(0x80)).is_ok());
        assert_eq!(
            SigningKind::from_tag(0),
            Err(CryptoError::InvalidSigningKind)
        );
        assert_eq!(
            SigningKind::from_tag(0x04),
            Err(CryptoError::InvalidSigningKind)
        );
    }

    #[test]
    fn distinct_domains_have_distinct_prefixes() {
        let a = Domain::new("a", SigningKind::Transaction).unwrap();
        let b = Domain::new("b", SigningKind::Transaction).unwrap();
        let c = Domain::new("a", SigningKind::ConsensusVote).unwrap();
        assert_ne!(a.prefix(), b.prefix());
        assert_ne!(a.prefix(), c.prefix());
    }

    #[test]
    fn from_prefix_rejects_garbage() {
        assert!(Domain::from_prefix(b"").is_err());
        assert!(Domain::from_prefix(b"MERIDIAN").is_err());
        assert!(Domain::from_prefix(b"MERIDIAN\x01a").is_err());
        assert!(Domain::from_prefix(b"MERIDIAN\x01a\x01\x00").is_err());
        assert!(Domain::from_prefix(b"MERIDIAN\x01\xff\x01").is_err());
        assert!(Domain::from_prefix(b"XERIDIAN\x01a\x01").is_err());
        assert!(Domain::from_prefix(b"MERIDIAN\x01a\x01").is_ok());
    }

    proptest! {
        #[test]
        fn prefix_roundtrip(chain in "[a-z0-9-]{1,64}", tag in prop_oneof![Just(1u8), Just(2), Just(3), 0x80u8..=0xff]) {
            let kind = SigningKind::from_tag(tag).unwrap();
            let d = Domain::new(chain.clone(), kind).unwrap();
            prop_assert_eq!(kind.tag(), tag);
            let back = Domain::from_prefix(d.prefix()).unwrap();
            prop_assert_eq!(back, d);
        }
    }
}
