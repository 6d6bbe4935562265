//! Cross-chain verification between Meridian chains — the pure half of interop.
//!
//! A chain never trusts a relayer or a router: it trusts a *light client* of the counterparty,
//! created by its own governance from a trusted validator set, and believes a counterparty fact
//! only with a state proof against a header that a quorum of the counterparty's validators
//! finalized. This crate holds everything both ends (and the relayer) must agree on, with no
//! I/O, no clock and no storage — the on-chain `interop` module feeds it inputs:
//!
//! * [`client`]: light client state, header updates (with validator-set transitions at epoch
//!   boundaries), misbehaviour detection and freezing, trusting period and clock drift
//!   (semantics of ICS-02);
//! * [`proof`]: membership and non-membership proofs of counterparty state against a stored
//!   root, size- and depth-bounded, canonical (ICS-23's role);
//! * [`paths`]: the store keys every chain writes and proves (ICS-24's role);
//! * [`channel`]: connection and channel ends, packets, acknowledgements and their commitments
//!   (ICS-03/04 data);
//! * [`transfer`]: the token-transfer packet and denomination traces (ICS-20 data).
//!
//! The protocol is specified in `docs/spec/interop.md`; the test vectors there are checked by
//! this crate's tests.

pub mod channel;
pub mod client;
mod error;
pub mod paths;
pub mod proof;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod transfer;

pub use channel::{
    Acknowledgement, ChannelEnd, ChannelState, ConnectionEnd, ConnectionState, Ordering, Packet,
};
pub use client::{
    ClientState, ClientStatus, ConsensusState, HeaderUpdate, Misbehaviour, SignedHeader,
    UpdateOutcome, ValidatorSetProof,
};
pub use error::{codes, InteropError};
pub use proof::{verify_membership, verify_non_membership};
pub use transfer::TransferData;
