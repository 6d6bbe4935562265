//! # meridian-storage
//!
//! Persistent storage of a Meridian node: finalized blocks, their finalization certificates,
//! transactions, receipts, and the **authenticated world state** — a Jellyfish Merkle Tree (JMT)
//! hashed with the chain's suite hash (SM3 or SHA-256), stored in [fjall](https://docs.rs/fjall).
//!
//! The crate is byte-oriented on purpose: it never decodes blocks or transactions (that is the
//! types crate's job), so it stores opaque encoded bytes keyed by 32-byte hashes and heights.
//!
//! ## The model in four steps
//!
//! 1. **Open** a [`Store`] with the suite chosen in genesis ([`HashKind`]).
//! 2. **Prepare** the state of each executed block with [`Store::prepare`]: it applies the block's
//!    writes to the tree in memory and returns an [`Arc<PreparedState>`](PreparedState) whose
//!    [`root`](PreparedState::root) goes in the block header. Nothing is written. A prepared state
//!    can be the parent of the next one: a BFT pipeline executes height `h+2` on an unfinalized
//!    `h+1`, and competing blocks at one height can be prepared side by side.
//! 3. **Commit** a finalized block with [`Store::commit`]: block, certificate, transactions,
//!    receipts, tree nodes and values, root and latest height go to disk in **one** atomic,
//!    fsynced batch. A node killed at any moment restarts at the last committed height with
//!    everything that was finalized before it.
//! 4. **Read**: blocks, transactions and receipts by height or hash, and state values with a
//!    [`StateProof`] of membership or non-membership that anyone holding a finalized header can
//!    check with [`verify_state_proof`]. Keys under [`ORDERED_PREFIXES`] (contract storage) can
//!    also be read as key-ordered ranges: [`PreparedState::range`], [`Store::range_latest`],
//!    [`Store::range_at`].
//!
//! ## Versions
//!
//! Height `h` is JMT version `h`. Height 0 is genesis: its state (the genesis allocations) is
//! version 0 and its root is in the genesis header. The root in the header of block `h` is the
//! root *after* executing block `h`.
//!
//! ## Example
//!
//! ```
//! use meridian_storage::{verify_state_proof, BlockCommit, HashKind, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path(), HashKind::Sm3)?;
//!
//! // Genesis (height 0): allocate a balance.
//! let genesis = store.prepare(None, 0, vec![(b"bal/alice".to_vec(), Some(b"100".to_vec()))])?;
//! store.commit(BlockCommit {
//!     height: 0,
//!     block_hash: [0; 32],
//!     block: b"genesis block".to_vec(),
//!     certificate: vec![],
//!     txs: vec![],
//!     receipts: vec![],
//!     state: genesis.clone(),
//! })?;
//!
//! // Pipelining: block 1 is executed, and block 2 is executed on top of it before 1 finalizes.
//! let s1 = store.prepare(None, 1, vec![(b"bal/alice".to_vec(), Some(b"90".to_vec()))])?;
//! let s2 = store.prepare(Some(&s1), 2, vec![(b"bal/bob".to_vec(), Some(b"10".to_vec()))])?;
//! assert_eq!(s2.get(b"bal/alice")?, Some(b"90".to_vec())); // sees its unfinalized parent
//! assert_eq!(store.get_latest(b"bal/alice")?, Some(b"100".to_vec())); // disk is untouched
//!
//! for (h, state) in [(1, s1), (2, s2)] {
//!     store.commit(BlockCommit {
//!         height: h,
//!         block_hash: [h as u8; 32],
//!         block: vec![],
//!         certificate: b"cert".to_vec(),
//!         txs: vec![],
//!         receipts: vec![],
//!         state,
//!     })?;
//! }
//!
//! // A light client holding header 2 (and so its state root) checks a balance...
//! let root = store.root_at(2)?.ok_or("not committed")?;
//! let (value, proof) = store.get_with_proof(b"bal/bob", 2)?;
//! verify_state_proof(HashKind::Sm3, root, b"bal/bob", value.as_deref(), &proof.encode())?;
//! // ...and the absence of an account.
//! let (none, proof) = store.get_with_proof(b"bal/carol", 2)?;
//! assert!(none.is_none());
//! verify_state_proof(HashKind::Sm3, root, b"bal/carol", None, &proof.encode())?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Failure model
//!
//! A failed write is fatal for the instance ([`StorageError::is_fatal`]): the store poisons
//! itself and the node must stop; on restart fjall replays its journal, which contains whole
//! commit batches only. Caller mistakes (height gaps, stale branches, bad proofs) return errors
//! with stable [`codes`](StorageError::code) and change nothing.
//!
//! ## Not (yet) here
//!
//! Pruning of stale tree nodes (jmt reports them; we keep every version so proofs at any
//! committed height work) and state-sync restore (`jmt::restore`).

mod codec;
mod error;
mod hash;
mod ordered;
mod proof;
mod state;
mod store;

pub use error::StorageError;
pub use hash::{HashKind, Sha256Hasher, Sm3Hasher, EMPTY_ROOT};
pub use ordered::{RangeEntries, ORDERED_PREFIXES};
pub use proof::{verify_state_proof, StateProof, MAX_STATE_PROOF_LEN};
pub use state::PreparedState;
pub use store::{BlockCommit, CommitOutcome, Store, StoredTx};
