//! Errors of the consensus adapter.

/// Why a validator could not be started or stopped running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable; the message names the field.
    #[error("invalid consensus config: {0}")]
    InvalidConfig(String),
    /// The local signer's public key is not in the participant set, so it could never vote.
    #[error("local signer is not a participant of the validator set")]
    NotAParticipant,
    /// Opening the consensus archives failed. Storage failures are fatal for the instance.
    #[error("consensus storage: {0}")]
    Storage(String),
    /// The application reported that it could not persist a finalized block. The validator stops
    /// rather than acknowledge a block it did not keep.
    #[error("application failed to apply finalized block at height {height}: {reason}")]
    Application {
        /// Height of the block that failed.
        height: u64,
        /// The application's error, rendered.
        reason: String,
    },
    /// The validator's tasks stopped (aborted, or the runtime shut down).
    #[error("validator stopped")]
    Stopped,
    /// A finalization certificate is malformed, names another block or does not verify.
    #[error("invalid finalization certificate: {0}")]
    InvalidCertificate(String),
    /// Networking setup failed.
    #[error("p2p: {0}")]
    Network(String),
}
