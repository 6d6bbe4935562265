//! The client's one error type, with stable codes for scripts.

use std::path::PathBuf;

/// Everything the SDK can fail with. [`ClientError::code`] is stable: scripts and the CLI's
/// `--json` output match on it, never on the message.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node answered with an error document `{code, message}` (its code is kept verbatim,
    /// e.g. `tx.stale_nonce`, `api.not_found`).
    #[error("node refused ({status} {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// No answer from the node (connection refused, DNS, reset).
    #[error("cannot reach node at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// The node did not answer in time.
    #[error("request to {url} timed out")]
    Timeout { url: String },
    /// The node answered something that is not what the API promises.
    #[error("unexpected answer from node: {0}")]
    BadResponse(String),
    /// A state proof does not verify against the header it came with.
    #[error("proof does not verify: {0}")]
    ProofInvalid(String),
    /// A header's finalization certificate does not verify against the trusted validators.
    #[error("finality not proven: {0}")]
    CertificateInvalid(String),
    /// The transaction was final but its module refused it (code from the receipt).
    #[error("transaction {hash} failed ({code}): {message}")]
    TxFailed {
        hash: String,
        code: String,
        message: String,
    },
    /// A contract tooling step failed on this machine before anything reached a node:
    /// building (`contract.build_failed`) or the VM's validation of the built code
    /// (`contract.bad_code`, `contract.code_too_large`, ...: what the chain would answer).
    #[error("{message}")]
    Contract { code: String, message: String },
    /// The caller passed something unusable (bad address, symbol, hash, ...).
    #[error("{0}")]
    BadInput(String),
    /// The key's suite is not the chain's suite.
    #[error("key suite {key} does not match the chain's suite {chain}")]
    SuiteMismatch { key: String, chain: String },
    /// Wrong passphrase, or the key file was tampered with (AEAD cannot tell them apart).
    #[error("wrong passphrase for key {name} (or the key file was modified)")]
    WrongPassphrase { name: String },
    #[error("no key named {name} in {dir}")]
    KeyNotFound { name: String, dir: PathBuf },
    #[error("a key named {name} already exists in {dir}")]
    KeyExists { name: String, dir: PathBuf },
    /// The key file does not parse or its parameters are out of bounds.
    #[error("key file {path}: {message}")]
    KeyFileInvalid { path: PathBuf, message: String },
    /// A passphrase was needed and none could be obtained.
    #[error("{0}")]
    NoPassphrase(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ClientError {
    /// A stable, namespaced code.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api { code, .. }
            | ClientError::TxFailed { code, .. }
            | ClientError::Contract { code, .. } => code,
            ClientError::Unreachable { .. } => "client.unreachable",
            ClientError::Timeout { .. } => "client.timeout",
            ClientError::BadResponse(_) => "client.bad_response",
            ClientError::ProofInvalid(_) => "client.proof_invalid",
            ClientError::CertificateInvalid(_) => "client.certificate_invalid",
            ClientError::BadInput(_) => "client.bad_input",
            ClientError::SuiteMismatch { .. } => "client.suite_mismatch",
            ClientError::WrongPassphrase { .. } => "keystore.wrong_passphrase",
            ClientError::KeyNotFound { .. } => "keystore.not_found",
            ClientError::KeyExists { .. } => "keystore.exists",
            ClientError::KeyFileInvalid { .. } => "keystore.invalid_file",
            ClientError::NoPassphrase(_) => "keystore.no_passphrase",
            ClientError::Io { .. } => "client.io",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ClientError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bad_response(what: impl std::fmt::Display) -> Self {
        ClientError::BadResponse(what.to_string())
    }
}

/// Result alias of the SDK.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
