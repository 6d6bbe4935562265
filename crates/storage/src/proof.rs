//! State proofs: a self-contained, canonical, bounded encoding of jmt's `SparseMerkleProof`.
//!
//! # Encoding (format 1)
//!
//! ```text
//! u8      format            = 0x01
//! u8      hash suite        0x01 SM3 | 0x02 SHA-256
//! u8      leaf flag         0x00 none | 0x01 followed by:
//!   [32]    leaf key hash
//!   [32]    leaf value hash
//! u16 BE  sibling count n   n <= 256
//! n × sibling, bottom level first:
//!   u8 0x00 placeholder (empty subtree)
//!   u8 0x01 internal  [32] left child hash ‖ [32] right child hash
//!   u8 0x02 leaf      [32] key hash ‖ [32] value hash
//! ```
//!
//! Nothing may follow the last sibling. Every proof therefore has exactly one encoding and the
//! whole encoding is at most [`MAX_STATE_PROOF_LEN`] bytes, which `decode` checks before reading
//! anything. We do not ship jmt's own serde/borsh form: it carries a `u32` length prefix that a
//! hostile peer controls and it is a jmt implementation detail; this format is ours to freeze.
//!
//! # Verification
//!
//! Verification is jmt's own (`SparseMerkleProof::verify`): the decoded proof is handed back to
//! jmt, so prover and verifier cannot drift apart. The key is hashed with the suite hash; a
//! present value proves membership, `None` proves non-membership (either an empty subtree on the
//! key's path or a different leaf occupying it).

use jmt::proof::SparseMerkleProof;
use jmt::{KeyHash, RootHash, SimpleHasher};

use crate::hash::Suite;
use crate::{HashKind, Sha256Hasher, Sm3Hasher, StorageError};

const FORMAT: u8 = 1;
const MAX_SIBLINGS: usize = 256;
const HEADER_LEN: usize = 3;
const LEAF_LEN: usize = 64;
const SIBLING_MAX_LEN: usize = 1 + 64;

/// Upper bound on an encoded [`StateProof`]: 16,709 bytes.
pub const MAX_STATE_PROOF_LEN: usize = HEADER_LEN + LEAF_LEN + 2 + MAX_SIBLINGS * SIBLING_MAX_LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Leaf {
    key_hash: [u8; 32],
    value_hash: [u8; 32],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sibling {
    Placeholder,
    Internal { left: [u8; 32], right: [u8; 32] },
    Leaf(Leaf),
}

/// A membership or non-membership proof for one key against one state root.
///
/// Obtain one from [`Store::get_with_proof`](crate::Store::get_with_proof); ship it with
/// [`StateProof::encode`]; check it with [`verify_state_proof`] or [`StateProof::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateProof {
    kind: HashKind,
    leaf: Option<Leaf>,
    siblings: Vec<Sibling>,
}

/// Verifies `proof_bytes` (a [`StateProof`] encoding) against a trusted state `root` (from a
/// finalized header).
///
/// `value = Some(v)` checks that `key` maps to `v`; `value = None` checks that `key` is absent.
/// Errors: `storage.proof_malformed` for undecodable bytes or a proof of another suite,
/// `storage.proof_invalid` when the proof does not prove the claim.
pub fn verify_state_proof(
    kind: HashKind,
    root: [u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
    proof_bytes: &[u8],
) -> Result<(), StorageError> {
    let proof = StateProof::decode(proof_bytes)?;
    if proof.kind != kind {
        return Err(StorageError::ProofMalformed(
            "proof is for another hash suite",
        ));
    }
    proof.verify(root, key, value)
}

impl StateProof {
    /// The hash suite this proof was produced with.
    pub fn hash_kind(&self) -> HashKind {
        self.kind
    }

    /// Number of sibling hashes (the depth of the proven path).
    pub fn sibling_count(&self) -> usize {
        self.siblings.len()
    }

    /// Checks the claim `key ↦ value` (`None`: key absent) against `root`.
    pub fn verify(
        &self,
        root: [u8; 32],
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), StorageError> {
        match self.kind {
            HashKind::Sm3 => self.verify_with::<Sm3Hasher>(root, key, value),
            HashKind::Sha256 => self.verify_with::<Sha256Hasher>(root, key, value),
        }
    }

    fn verify_with<H: SimpleHasher>(
        &self,
        root: [u8; 32],
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), StorageError> {
        let proof = self.to_jmt::<H>()?;
        proof
            .verify(RootHash(root), KeyHash::with::<H>(key), value)
            .map_err(|e| StorageError::ProofInvalid(e.to_string()))
    }

    /// Canonical encoding (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(HEADER_LEN + LEAF_LEN + 2 + self.siblings.len() * SIBLING_MAX_LEN);
        out.push(FORMAT);
        out.push(self.kind.tag());
        match &self.leaf {
            None => out.push(0),
            Some(leaf) => {
                out.push(1);
                out.extend_from_slice(&leaf.key_hash);
                out.extend_from_slice(&leaf.value_hash);
            }
        }
        // `siblings.len() <= 256` is an invariant of every constructor.
        let n = u16::try_from(self.siblings.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        for s in &self.siblings {
            match s {
                Sibling::Placeholder => out.push(0),
                Sibling::Internal { left, right } => {
                    out.push(1);
                    out.extend_from_slice(left);
                    out.extend_from_slice(right);
                }
                Sibling::Leaf(leaf) => {
                    out.push(2);
                    out.extend_from_slice(&leaf.key_hash);
                    out.extend_from_slice(&leaf.value_hash);
                }
            }
        }
        out
    }

    /// Decodes hostile bytes: length-checked up front, every count bounded, no trailing bytes,
    /// never panics.
    pub fn decode(bytes: &[u8]) -> Result<StateProof, StorageError> {
        if bytes.len() > MAX_STATE_PROOF_LEN {
            return Err(StorageError::ProofMalformed("proof too long"));
        }
        let mut r = Reader { buf: bytes };
        if r.u8()? != FORMAT {
            return Err(StorageError::ProofMalformed("unknown proof format"));
        }
        let kind = HashKind::from_tag(r.u8()?)
            .ok_or(StorageError::ProofMalformed("unknown hash suite"))?;
        let leaf = match r.u8()? {
            0 => None,
            1 => Some(r.leaf()?),
            _ => return Err(StorageError::ProofMalformed("bad leaf flag")),
        };
        let n = usize::from(u16::from_be_bytes(r.array()?));
        if n > MAX_SIBLINGS {
            return Err(StorageError::ProofMalformed("too many siblings"));
        }
        let mut siblings = Vec::with_capacity(n);
        for _ in 0..n {
            siblings.push(match r.u8()? {
                0 => Sibling::Placeholder,
                1 => Sibling::Internal {
                    left: r.array()?,
                    right: r.array()?,
                },
                2 => Sibling::Leaf(r.leaf()?),
                _ => return Err(StorageError::ProofMalformed("bad sibling tag")),
            });
        }
        if !r.buf.is_empty() {
            return Err(StorageError::ProofMalformed("trailing bytes"));
        }
        Ok(StateProof {
            kind,
            leaf,
            siblings,
        })
    }

    /// Converts a jmt proof. jmt keeps the proof's fields private; its borsh form is the only
    /// way in and out, so we translate between that layout (Option tag, u32 LE count, enum tag
    /// per sibling: 0 placeholder, 1 internal, 2 leaf) and ours. Tests pin the round trip.
    pub(crate) fn from_jmt<H: Suite>(
        proof: &SparseMerkleProof<H>,
    ) -> Result<StateProof, StorageError> {
        let kind = H::KIND;
        let bytes = borsh::to_vec(proof)
            .map_err(|e| StorageError::Tree(format!("encode jmt proof: {e}")))?;
        let layout = || StorageError::Tree("unexpected jmt proof layout".into());
        let mut r = Reader { buf: &bytes };
        let leaf = match r.u8().map_err(|_| layout())? {
            0 => None,
            1 => Some(r.leaf().map_err(|_| layout())?),
            _ => return Err(layout()),
        };
        let n = u32::from_le_bytes(r.array().map_err(|_| layout())?);
        let n = usize::try_from(n).map_err(|_| layout())?;
        if n > MAX_SIBLINGS {
            return Err(StorageError::Tree("jmt proof deeper than 256".into()));
        }
        let mut siblings = Vec::with_capacity(n);
        for _ in 0..n {
            siblings.push(match r.u8().map_err(|_| layout())? {
                0 => Sibling::Placeholder,
                1 => Sibling::Internal {
                    left: r.array().map_err(|_| layout())?,
                    right: r.array().map_err(|_| layout())?,
                },
                2 => Sibling::Leaf(r.leaf().map_err(|_| layout())?),
                _ => return Err(layout()),
            });
        }
        if !r.buf.is_empty() {
            return Err(layout());
        }
        Ok(StateProof {
            kind,
            leaf,
            siblings,
        })
    }

    fn to_jmt<H: SimpleHasher>(&self) -> Result<SparseMerkleProof<H>, StorageError> {
        let mut b = Vec::with_capacity(1 + LEAF_LEN + 4 + self.siblings.len() * SIBLING_MAX_LEN);
        match &self.leaf {
            None => b.push(0),
            Some(leaf) => {
                b.push(1);
                b.extend_from_slice(&leaf.key_hash);
                b.extend_from_slice(&leaf.value_hash);
            }
        }
        let n = u32::try_from(self.siblings.len())
            .map_err(|_| StorageError::ProofMalformed("too many siblings"))?;
        b.extend_from_slice(&n.to_le_bytes());
        for s in &self.siblings {
            match s {
                Sibling::Placeholder => b.push(0),
                Sibling::Internal { left, right } => {
                    b.push(1);
                    b.extend_from_slice(left);
                    b.extend_from_slice(right);
                }
                Sibling::Leaf(leaf) => {
                    b.push(2);
                    b.extend_from_slice(&leaf.key_hash);
                    b.extend_from_slice(&leaf.value_hash);
                }
            }
        }
        borsh::from_slice(&b).map_err(|_| StorageError::ProofMalformed("not a jmt proof"))
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StorageError> {
        if self.buf.len() < n {
            return Err(StorageError::ProofMalformed("truncated proof"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, StorageError> {
        Ok(self.array::<1>()?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StorageError> {
        self.take(N)?
            .try_into()
            .map_err(|_| StorageError::ProofMalformed("truncated proof"))
    }

    fn leaf(&mut self) -> Result<Leaf, StorageError> {
        Ok(Leaf {
            key_hash: self.array()?,
            value_hash: self.array()?,
        })
    }
}
