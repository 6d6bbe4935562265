//! Meridian's core data types: chain ids, addresses, transactions, blocks, headers, receipts and
//! events, with their canonical encoding ([`codec`]).
//!
//! This crate is pure (no I/O, no clocks) and knows nothing about concrete cryptography: hashing
//! goes through the [`HashFn`] trait, which the crypto suite implements, so the same types serve
//! an `sm` (SM3) chain and an `intl` (SHA-256) chain.

mod block;
mod chain_state;
pub mod codec;
mod limits;
mod merkle;
mod receipt;
mod tx;

pub use block::{tx_root, Block, Header};
pub use chain_state::{
    ChainConfig, ValidatorEntry, ValidatorSet, CHAIN_CONFIG_KEY, CHAIN_PARAMS, MAX_VALIDATORS,
    MAX_VALIDATOR_NAME_LEN, VALIDATORS_KEY,
};
pub use codec::{decode_exact, CodecError, Decode, Encode, Reader, Writer};
pub use limits::*;
pub use merkle::{merkle_proof, merkle_root, verify_merkle_proof, MerkleProof};
pub use receipt::{Event, Receipt, SignerId};
pub use tx::{Call, ChainId, SignedTx, TxBody};

/// A 32-byte digest produced by the chain's suite hash.
pub type Hash32 = [u8; 32];

/// The chain's hash function (SM3 on `sm` chains, SHA-256 on `intl` chains).
pub trait HashFn {
    fn hash(&self, data: &[u8]) -> Hash32;
}

/// An account address: the first 20 bytes of the suite hash of the account's encoded public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// Derives the address of a public key under the chain's hash.
    pub fn from_public_key(hash: &(impl HashFn + ?Sized), public_key: &[u8]) -> Self {
        let d = hash.hash(public_key);
        let mut a = [0u8; 20];
        a.copy_from_slice(&d[..20]);
        Address(a)
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Result<Self, CodecError> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        let raw = hex::decode(s).map_err(|_| CodecError::Invalid("address"))?;
        let arr: [u8; 20] = raw.try_into().map_err(|_| CodecError::Invalid("address"))?;
        Ok(Address(arr))
    }
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", self.to_hex())
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", self.to_hex())
    }
}

impl Encode for Address {
    fn encode_to(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for Address {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Address(r.array("address")?))
    }
}

#[cfg(test)]
mod proptests;
