//! Meridian's consensus adapter: a chain application on commonware simplex.
//!
//! # How a block becomes final
//!
//! 1. The view's leader asks the [`Application`] to [`propose`](Application::propose) a child of
//!    the parent simplex chose. The full block is pushed to peers (buffered broadcast); simplex
//!    only ever votes on its digest.
//! 2. Every validator fetches the block by digest and asks its application to
//!    [`verify`](Application::verify) it against the parent: re-execute, compare the state root.
//!    Only then does it vote to notarize.
//! 3. A quorum of notarize votes certifies the block; a quorum of finalize votes finalizes it
//!    (two network hops). Votes are signed under a namespace that contains the chain id
//!    ([`consensus_namespace`]), so a vote of one chain never verifies on another.
//! 4. Marshal stores the block and its finalization certificate, then hands it to
//!    [`finalized`](Application::finalized) in height order, at least once. A validator that was
//!    down or starts late backfills missing blocks and certificates from peers and is handed the
//!    same blocks in the same order.
//!
//! # Using it
//!
//! Implement [`Application`] for your executor + storage, pick a [`ConsensusScheme`]
//! ([`Ed25519Scheme`] for the `intl` suite, [`Sm2Scheme`] for `sm`), register the five p2p [`channel`]s and call
//! [`start_validator`]. On real sockets, [`net::run_validator`] does the p2p part (authenticated,
//! encrypted links; only configured peers may connect). Tests use commonware's deterministic
//! runtime and simulated network; see `tests/it`.

mod adapter;
mod application;
mod block;
mod certificate;
mod chain_block;
mod delivery;
mod error;
pub mod net;
mod peers;
mod scheme;
mod validator;

pub use application::{Ancestors, Application, BlockContext, EpochMembers};
pub use block::ChainBlock;
pub use certificate::verify_finalization;
pub use chain_block::{tx_root, MeridianBlock};
pub use commonware_cryptography::Digested;
pub use error::Error;
pub use peers::{PeerTracker, TrackAddresses, TrackKeys};
pub use scheme::{consensus_namespace, p2p_namespace, ConsensusScheme, Ed25519Scheme, Sm2Scheme};
pub use validator::{channel, start_validator, Channels, Timeouts, Validator, ValidatorConfig};
