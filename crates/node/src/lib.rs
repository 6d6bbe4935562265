//! The Meridian node's application: the ledger that consensus drives.
//!
//! [`Ledger`] owns storage, the executor with the native modules, and the mempool. Consensus
//! asks it to *propose* a block on a parent, to *verify* a peer's block by re-executing it and
//! reproducing its roots, and to *finalize* a block with its certificate. Blocks that are
//! proposed or verified but not yet final keep their speculative state in memory
//! ([`meridian_storage::PreparedState`]), so a BFT engine that pipelines (a child on an
//! unfinalized parent) works without touching disk; finalization persists block, receipts and
//! state atomically.
//!
//! The ledger is synchronous and runtime-agnostic: the consensus adapter calls it from async
//! code, the tests call it directly.

mod app;
mod genesis;
pub mod gossip;
mod hash;
mod ledger;
pub mod metrics;
mod notify;

pub use app::{LedgerApp, DEFAULT_EMPTY_BLOCK_WAIT};
/// The block type consensus carries (the suite hash `H` computes its id).
pub type NodeBlock<H> = meridian_consensus::MeridianBlock<H>;
pub use genesis::{Genesis, GenesisOrg, GenesisPolicy, GenesisValidator, GENESIS_KEYS};
pub use gossip::{run_gossip, submitter, Submitter};
pub use hash::ChainHash;
pub use ledger::{Ledger, LedgerConfig, LedgerError, StateQuery};
pub use metrics::Metrics;
pub use notify::{Above, HeightNotify};

/// Builds, signs and encodes a transaction (used by tests, benchmarks and the client).
pub fn sign_tx(
    key: &meridian_crypto::PrivateKey,
    chain_id: &meridian_types::ChainId,
    nonce: u64,
    expiry_height: u64,
    call: meridian_types::Call,
) -> meridian_types::SignedTx {
    use meridian_types::Encode;
    let body = meridian_types::TxBody {
        chain_id: chain_id.clone(),
        sender: key.public_key().as_bytes().to_vec(),
        nonce,
        expiry_height,
        call,
    };
    let domain = tx_domain(chain_id);
    let sig = key.sign(&domain, &body.encode());
    meridian_types::SignedTx {
        body,
        signature: sig.as_bytes().to_vec(),
    }
}

/// The signing domain of transactions on `chain_id`.
pub fn tx_domain(chain_id: &meridian_types::ChainId) -> meridian_crypto::Domain {
    // A ChainId is always a valid domain chain id (same length and charset rules).
    meridian_crypto::Domain::new(chain_id.as_str(), meridian_crypto::SigningKind::Transaction)
        .unwrap_or_else(|_| unreachable!("ChainId rules are stricter than Domain rules"))
}

#[cfg(test)]
mod tests;
