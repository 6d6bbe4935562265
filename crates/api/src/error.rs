//! Errors: JSON `{"code", "message"}` with a stable code, and the one table of codes.
//!
//! [`ERROR_CODES`] is the source of truth for each code's HTTP status; the OpenAPI document
//! lists it and the contract tests walk it, so a code cannot be added without a test.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response as HttpResponse, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use meridian_contract::codes as contract;
use serde_json::json;

/// Stable error codes raised by the API itself (transaction codes come from the mempool).
pub mod codes {
    pub const NOT_FOUND: &str = "api.not_found";
    pub const NO_ROUTE: &str = "api.no_route";
    pub const METHOD_NOT_ALLOWED: &str = "api.method_not_allowed";
    pub const BAD_HASH: &str = "api.bad_hash";
    pub const BAD_HEIGHT: &str = "api.bad_height";
    pub const BAD_KEY: &str = "api.bad_key";
    pub const BAD_ADDRESS: &str = "api.bad_address";
    pub const BAD_SYMBOL: &str = "api.bad_symbol";
    pub const BAD_PATH: &str = "api.bad_path";
    pub const BAD_QUERY: &str = "api.bad_query";
    pub const BAD_MODE: &str = "api.bad_mode";
    pub const BAD_FILTER: &str = "api.bad_filter";
    pub const BAD_JSON: &str = "api.bad_json";
    pub const BAD_BODY: &str = "api.bad_body";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "api.unsupported_media_type";
    pub const BODY_TOO_LARGE: &str = "api.body_too_large";
    pub const BAD_REQUEST: &str = "api.bad_request";
    pub const RATE_LIMITED: &str = "api.rate_limited";
    pub const TOO_MANY_STREAMS: &str = "api.too_many_streams";
    pub const COMMIT_TIMEOUT: &str = "api.commit_timeout";
    pub const TX_PENDING: &str = "api.tx_pending";
    pub const BATCH_TOO_LARGE: &str = "api.batch_too_large";
    pub const REQUEST_TIMEOUT: &str = "api.request_timeout";
    pub const INTERNAL: &str = "api.internal";
    /// No governance proposal has the id (the identity module's code for the same refusal).
    pub const NO_PROPOSAL: &str = "identity.no_proposal";
}

/// One stable error code.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCode {
    pub code: &'static str,
    pub status: u16,
    pub meaning: &'static str,
}

const fn e(code: &'static str, status: u16, meaning: &'static str) -> ErrorCode {
    ErrorCode {
        code,
        status,
        meaning,
    }
}

/// Every code the API can return, with its HTTP status.
pub const ERROR_CODES: &[ErrorCode] = &[
    e(
        codes::NOT_FOUND,
        404,
        "the block, transaction or height does not exist (yet)",
    ),
    e(codes::NO_ROUTE, 404, "no route has this path"),
    e(
        codes::NO_PROPOSAL,
        404,
        "no governance proposal has this id at that height (ids are 1, 2, ...)",
    ),
    e(
        codes::TX_PENDING,
        404,
        "the transaction is in this node's mempool but not final yet; ask again later",
    ),
    e(
        codes::BATCH_TOO_LARGE,
        413,
        "a batch holds more transactions than /v1/txs/batch accepts",
    ),
    e(
        codes::REQUEST_TIMEOUT,
        408,
        "the request (headers, body or handling) took longer than the server allows",
    ),
    e(
        codes::METHOD_NOT_ALLOWED,
        405,
        "the route exists but not for this method; see the Allow header",
    ),
    e(codes::BAD_HASH, 400, "a hash is not 64 hex characters"),
    e(
        codes::BAD_HEIGHT,
        400,
        "a height is not a non-negative integer",
    ),
    e(
        codes::BAD_KEY,
        400,
        "a state key is not 1-1024 bytes of hex",
    ),
    e(
        codes::BAD_ADDRESS,
        400,
        "an address is not 20 bytes of hex (0x optional)",
    ),
    e(
        codes::BAD_SYMBOL,
        400,
        "an asset symbol is not 1-16 of [A-Z0-9]",
    ),
    e(codes::BAD_PATH, 400, "a path segment does not decode"),
    e(
        codes::BAD_QUERY,
        400,
        "the query string does not parse (wrong type or value)",
    ),
    e(codes::BAD_MODE, 400, "submit mode is not async or commit"),
    e(
        codes::BAD_FILTER,
        400,
        "an event filter or Last-Event-ID is invalid",
    ),
    e(codes::BAD_JSON, 400, "the body is not valid JSON"),
    e(
        codes::BAD_BODY,
        422,
        "the JSON body does not have the expected fields",
    ),
    e(
        codes::UNSUPPORTED_MEDIA_TYPE,
        415,
        "the body is not sent as application/json",
    ),
    e(
        codes::BODY_TOO_LARGE,
        413,
        "the body exceeds the size limit",
    ),
    e(codes::BAD_REQUEST, 400, "any other malformed request"),
    e(
        codes::RATE_LIMITED,
        429,
        "this client exceeded its request rate; see Retry-After",
    ),
    e(
        codes::TOO_MANY_STREAMS,
        503,
        "the node serves its maximum number of event streams",
    ),
    e(
        codes::COMMIT_TIMEOUT,
        504,
        "the transaction was accepted but not final within timeout_ms",
    ),
    e(
        codes::INTERNAL,
        500,
        "a fault of this node (storage), never the caller's input",
    ),
    e(
        "tx.oversized",
        400,
        "the encoded transaction exceeds 20 KiB",
    ),
    e(
        "tx.malformed",
        400,
        "the transaction is not hex or does not decode",
    ),
    e(
        "tx.wrong_chain",
        400,
        "the transaction names another chain id",
    ),
    e(
        "tx.bad_signature",
        400,
        "the signature does not verify for the sender under this chain's domain",
    ),
    e(
        "tx.expired",
        400,
        "the transaction's expiry height has passed",
    ),
    e("tx.stale_nonce", 400, "the nonce was already used"),
    e("tx.replayed", 400, "the transaction is already pooled"),
    e(
        "tx.nonce_taken",
        400,
        "another pooled transaction of the sender uses this nonce",
    ),
    e(
        "mempool.sender_full",
        503,
        "the sender has the maximum number of pending transactions",
    ),
    e("mempool.full", 503, "the mempool is full"),
];

/// HTTP status of a code (500 for a code missing from the table, which a test forbids).
/// ([`ERROR_CODES`], then [`ACCESS_CODES`], then [`CONTRACT_CODES`]).
pub fn status_of(code: &str) -> StatusCode {
    ERROR_CODES
        .iter()
        .chain(ACCESS_CODES)
        .chain(CONTRACT_CODES)
        .find(|c| c.code == code)
        .and_then(|c| StatusCode::from_u16(c.status).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Refusals by the access control of a certificate-mode chain (the identity module), 403: the
/// caller is known and not allowed. Only a chain with organisations raises them, so they are
/// walked by the certificate-mode tests, not by the open-chain contract walk of `ERROR_CODES`.
pub const ACCESS_CODES: &[ErrorCode] = &[
    e(
        "auth.unknown_member",
        403,
        "the signer has no registered certificate on this chain (register one first)",
    ),
    e(
        "auth.denied",
        403,
        "the signer's role may not make this call under the chain's policy",
    ),
    e(
        "cert.expired",
        403,
        "the signer's (or its CA's) certificate has expired",
    ),
    e(
        "cert.not_yet_valid",
        403,
        "the signer's (or its CA's) certificate is not valid yet",
    ),
    e(
        "cert.revoked",
        403,
        "the signer's certificate is on the chain's revocation list",
    ),
    e(
        "cert.unknown_ca",
        403,
        "the CA that issued the signer's certificate is not trusted by the chain",
    ),
];

/// How a contract's own error code is documented: the contract's name, a dot and the code
/// the contract chose (`counter.bad_msg`, `token.insufficient_funds`), spec §3.
pub const CONTRACT_OWN_ERROR: &str = "<contract>.<code>";

/// Refusals of the contract routes (`/v1/contracts/...`): the `contract.*` codes of
/// docs/spec/contracts.md §3 a read-only query can end with, and [`CONTRACT_OWN_ERROR`]. The
/// walk in `tests/it/contracts.rs` provokes every one of them.
///
/// A query that ran and failed is 422 (the request was well-formed; the contract refused it
/// or broke), never 500. Codes the VM cannot raise in a query (`contract.call_depth`,
/// `contract.reentrancy`: nested calls are writes; `contract.memory_limit`: checked when the
/// code was stored) would also answer 422; `contract.corrupt` (stored state that does not
/// decode) is a node fault, `api.internal`.
pub const CONTRACT_CODES: &[ErrorCode] = &[
    e(
        contract::BAD_NAME,
        400,
        "a contract name is not 1-48 of [a-z0-9_] starting with a letter, or is reserved",
    ),
    e(
        contract::BAD_FUEL,
        400,
        "a query's fuel is 0 or above this node's query cap ([api] max_query_fuel, default 50,000,000)",
    ),
    e(
        contract::NOT_FOUND,
        404,
        "no contract is deployed under this name (at that height)",
    ),
    e(
        contract::FROZEN,
        403,
        "alliance governance froze the contract: its calls and queries are refused",
    ),
    e(
        contract::BAD_CODE,
        422,
        "the contract's code has no `query` entry point (or no longer validates)",
    ),
    e(
        contract::OUT_OF_FUEL,
        422,
        "the query used all its fuel; retry with more (up to the node's cap)",
    ),
    e(
        contract::TRAP,
        422,
        "the contract trapped (unreachable, out-of-bounds access, panic/abort, bad status)",
    ),
    e(
        contract::STACK_OVERFLOW,
        422,
        "the contract recursed deeper than the VM allows",
    ),
    e(
        contract::RETURN_TOO_LARGE,
        422,
        "the contract's return or error data exceeds 64 KiB",
    ),
    e(
        contract::BAD_POINTER,
        422,
        "the contract passed a host function a pointer outside its memory",
    ),
    e(
        contract::READ_ONLY,
        422,
        "the query tried to write (storage, events, transfers, contract calls)",
    ),
    e(
        contract::BAD_ERROR,
        422,
        "the contract failed without a valid error code",
    ),
    e(
        CONTRACT_OWN_ERROR,
        422,
        "the contract's own typed error, coded <contract>.<code> (e.g. counter.bad_msg); the \
         message is the contract's",
    ),
];

/// A JSON error with a stable code.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with an explicit status (prefer [`ApiError::code`]).
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }
    /// An error whose status comes from [`ERROR_CODES`].
    pub fn code(code: &str, message: impl Into<String>) -> Self {
        Self::new(status_of(code), code, message)
    }
    pub(crate) fn not_found(what: &str) -> Self {
        Self::code(codes::NOT_FOUND, format!("{what} not found"))
    }
    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %e, "api internal error");
        Self::code(codes::INTERNAL, e.to_string())
    }
    /// A contract run that failed with `code` (a [`CONTRACT_CODES`] code, a contract's own
    /// `<contract>.<code>`, or a host's): its table status, else 422. Stored contract state
    /// that does not decode is the node's fault (`api.internal`), never the caller's.
    pub(crate) fn contract_run(code: &str, message: impl Into<String>) -> Self {
        if code == contract::CORRUPT {
            return Self::internal(message.into());
        }
        let status = CONTRACT_CODES
            .iter()
            .find(|c| c.code == code)
            .and_then(|c| StatusCode::from_u16(c.status).ok())
            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        Self::new(status, code, message)
    }
    pub(crate) fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn error_code(&self) -> &str {
        &self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// Turns any error response that is not already JSON (axum's own 405, rejections we did not
/// wrap) into `{code, message}`, keeping headers such as `Allow`.
pub(crate) async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => codes::NO_ROUTE,
        StatusCode::METHOD_NOT_ALLOWED => codes::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE => codes::BODY_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => codes::UNSUPPORTED_MEDIA_TYPE,
        s if s.is_server_error() => codes::INTERNAL,
        _ => codes::BAD_REQUEST,
    };
    let message = if status == StatusCode::METHOD_NOT_ALLOWED {
        // axum adds `Allow` after the middleware runs, so it is not readable here.
        "method not allowed on this route; the Allow header lists the methods".to_string()
    } else if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_string()
    } else {
        text
    };
    let body = json!({"code": code, "message": message}).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    HttpResponse::from_parts(parts, Body::from(body))
}
