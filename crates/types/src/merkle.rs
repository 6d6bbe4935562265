//! Binary Merkle trees over 32-byte leaves, for transaction and receipt roots and inclusion
//! proofs. Leaves and inner nodes are domain-separated (`0x00`/`0x01` prefixes) so a leaf can
//! never be passed off as an inner node; an odd node is promoted unchanged. The empty tree's
//! root is all zeros.

use crate::codec::{decode_seq, CodecError, Decode, Encode, Reader, Writer};
use crate::{Hash32, HashFn};

fn leaf(h: &(impl HashFn + ?Sized), item: &Hash32) -> Hash32 {
    let mut buf = [0u8; 33];
    buf[1..].copy_from_slice(item);
    h.hash(&buf)
}

fn node(h: &(impl HashFn + ?Sized), l: &Hash32, r: &Hash32) -> Hash32 {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(l);
    buf[33..].copy_from_slice(r);
    h.hash(&buf)
}

fn next_level(h: &(impl HashFn + ?Sized), level: &[Hash32]) -> Vec<Hash32> {
    level
        .chunks(2)
        .map(|c| {
            if c.len() == 2 {
                node(h, &c[0], &c[1])
            } else {
                c[0]
            }
        })
        .collect()
}

/// Root over `items` (already hashes, e.g. transaction ids).
pub fn merkle_root(h: &(impl HashFn + ?Sized), items: &[Hash32]) -> Hash32 {
    if items.is_empty() {
        return [0u8; 32];
    }
    let mut level: Vec<Hash32> = items.iter().map(|i| leaf(h, i)).collect();
    while level.len() > 1 {
        level = next_level(h, &level);
    }
    level[0]
}

/// Inclusion proof of one leaf: its index, the tree size and the sibling path bottom-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleProof {
    pub index: u32,
    pub size: u32,
    pub siblings: Vec<Hash32>,
}

impl Encode for MerkleProof {
    fn encode_to(&self, w: &mut Writer) {
        w.u32(self.index);
        w.u32(self.size);
        w.len(self.siblings.len());
        for s in &self.siblings {
            w.fixed(s);
        }
    }
}

struct H32(Hash32);
impl Decode for H32 {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(H32(r.array("hash")?))
    }
}

impl Decode for MerkleProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let index = r.u32("proof.index")?;
        let size = r.u32("proof.size")?;
        let siblings = decode_seq::<H32>(r, 40, "proof.siblings")?
            .into_iter()
            .map(|h| h.0)
            .collect();
        Ok(MerkleProof {
            index,
            size,
            siblings,
        })
    }
}

/// Proof for `items[index]`, or `None` if out of range.
pub fn merkle_proof(
    h: &(impl HashFn + ?Sized),
    items: &[Hash32],
    index: usize,
) -> Option<MerkleProof> {
    if index >= items.len() {
        return None;
    }
    let mut siblings = Vec::new();
    let mut level: Vec<Hash32> = items.iter().map(|i| leaf(h, i)).collect();
    let mut i = index;
    while level.len() > 1 {
        let sib = i ^ 1;
        if sib < level.len() {
            siblings.push(level[sib]);
        }
        level = next_level(h, &level);
        i /= 2;
    }
    Some(MerkleProof {
        index: u32::try_from(index).ok()?,
        size: u32::try_from(items.len()).ok()?,
        siblings,
    })
}

/// Checks that `item` sits at `proof.index` in a tree with root `root`.
pub fn verify_merkle_proof(
    h: &(impl HashFn + ?Sized),
    root: &Hash32,
    item: &Hash32,
    proof: &MerkleProof,
) -> bool {
    if proof.index >= proof.size {
        return false;
    }
    let mut acc = leaf(h, item);
    let mut i = proof.index as usize;
    let mut len = proof.size as usize;
    let mut sibs = proof.siblings.iter();
    while len > 1 {
        let sib = i ^ 1;
        if sib < len {
            let Some(s) = sibs.next() else { return false };
            acc = if i.is_multiple_of(2) {
                node(h, &acc, s)
            } else {
                node(h, s, &acc)
            };
        }
        i /= 2;
        len = len.div_ceil(2);
    }
    sibs.next().is_none() && &acc == root
}
