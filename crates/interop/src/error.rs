//! One error type with stable codes (`interop.*`), shared by the module, the API and the relayer.

/// Stable error codes.
pub mod codes {
    pub const BAD_ARGS: &str = "interop.bad_args";
    pub const UNKNOWN_CLIENT: &str = "interop.unknown_client";
    pub const CLIENT_FROZEN: &str = "interop.client_frozen";
    pub const CLIENT_EXPIRED: &str = "interop.client_expired";
    pub const WRONG_CHAIN: &str = "interop.wrong_chain";
    pub const BAD_CERTIFICATE: &str = "interop.bad_certificate";
    pub const UNKNOWN_EPOCH: &str = "interop.unknown_epoch";
    pub const HEADER_EXPIRED: &str = "interop.header_expired";
    pub const HEADER_IN_FUTURE: &str = "interop.header_in_future";
    pub const STALE_HEADER: &str = "interop.stale_header";
    pub const BAD_VALIDATOR_SET: &str = "interop.bad_validator_set";
    pub const NOT_MISBEHAVIOUR: &str = "interop.not_misbehaviour";
    pub const BAD_SUBSTITUTE: &str = "interop.bad_substitute";
    pub const NO_CONSENSUS_STATE: &str = "interop.no_consensus_state";
    pub const PROOF_MALFORMED: &str = "interop.proof_malformed";
    pub const PROOF_INVALID: &str = "interop.proof_invalid";
    pub const UNKNOWN_CONNECTION: &str = "interop.unknown_connection";
    pub const UNKNOWN_CHANNEL: &str = "interop.unknown_channel";
    pub const BAD_STATE: &str = "interop.bad_state";
    pub const PORT_NOT_ALLOWED: &str = "interop.port_not_allowed";
    pub const BAD_TIMEOUT: &str = "interop.bad_timeout";
    pub const PACKET_TIMED_OUT: &str = "interop.packet_timed_out";
    pub const PACKET_NOT_TIMED_OUT: &str = "interop.packet_not_timed_out";
    pub const ALREADY_RECEIVED: &str = "interop.already_received";
    pub const OUT_OF_ORDER: &str = "interop.out_of_order";
    pub const NO_COMMITMENT: &str = "interop.no_commitment";
    pub const COMMITMENT_MISMATCH: &str = "interop.commitment_mismatch";
    pub const NOT_APPROVED: &str = "interop.not_approved";
    pub const RATE_LIMITED: &str = "interop.rate_limited";
    pub const BAD_DENOM: &str = "interop.bad_denom";
    pub const CORRUPT_STATE: &str = "interop.corrupt_state";
}

/// An interop failure: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct InteropError {
    pub code: &'static str,
    pub message: String,
}

impl InteropError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<meridian_types::CodecError> for InteropError {
    fn from(e: meridian_types::CodecError) -> Self {
        InteropError::new(codes::BAD_ARGS, e.to_string())
    }
}
