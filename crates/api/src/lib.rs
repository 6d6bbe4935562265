//! The node's HTTP/JSON API (axum).
//!
//! Every error is JSON `{"code": "...", "message": "..."}` with a stable code; caller mistakes
//! are 4xx, never 500. Binary values (keys, hashes, proofs, transactions) travel as lowercase
//! hex. Request bodies are capped at [`MAX_BODY_BYTES`].
//!
//! Routes (all under `/v1`):
//! * `POST /v1/txs` — body `{"tx": "<hex of the encoded signed transaction>"}`, query
//!   `mode=async|commit` and `timeout_ms` (commit waits until the transaction is final).
//! * `GET /v1/txs/{hash}` — the transaction, its receipt and its location.
//! * `GET /v1/blocks/latest`, `GET /v1/blocks/{height}` — header, transaction hashes and the
//!   finalization certificate.
//! * `GET /v1/state/{key_hex}?height=` — a state value with its JMT proof and the finalized
//!   header the proof verifies against.
//! * `GET /v1/status` — chain id, suite, height, state root, mempool size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use meridian_node::{Ledger, Submitter};
use meridian_types::{Block, Encode, Hash32, Receipt};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest `commit` wait.
pub const MAX_COMMIT_WAIT: Duration = Duration::from_secs(60);

/// A JSON error with a stable code.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "api.not_found",
            format!("{what} not found"),
        )
    }
    fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api.internal",
            e.to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Clone)]
struct AppState {
    submitter: Submitter,
}

impl AppState {
    fn ledger(&self) -> &Arc<Ledger> {
        self.submitter.ledger()
    }
}

/// Builds the router for one node.
pub fn router(submitter: Submitter) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/txs", post(submit_tx))
        .route("/v1/txs/{hash}", get(get_tx))
        .route("/v1/blocks/latest", get(latest_block))
        .route("/v1/blocks/{height}", get(block_by_height))
        .route("/v1/state/{key}", get(get_state))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(AppState { submitter })
}

/// Serves the API on `listener` until the future is dropped.
pub async fn serve(listener: tokio::net::TcpListener, submitter: Submitter) -> std::io::Result<()> {
    axum::serve(listener, router(submitter)).await
}

fn parse_hash(s: &str) -> Result<Hash32, ApiError> {
    let raw = hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map_err(|_| ApiError::bad("api.bad_hash", "hash must be 64 hex characters"))?;
    raw.try_into()
        .map_err(|_| ApiError::bad("api.bad_hash", "hash must be 32 bytes"))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StatusView {
    pub chain_id: String,
    pub suite: String,
    pub height: u64,
    pub block_hash: String,
    pub state_root: String,
    pub mempool_size: usize,
    pub validators: usize,
}

async fn status(State(s): State<AppState>) -> ApiResult<StatusView> {
    let l = s.ledger();
    let b = l.finalized_block().map_err(ApiError::internal)?;
    Ok(Json(StatusView {
        chain_id: l.chain_id().to_string(),
        suite: l.suite().to_string(),
        height: b.header.height,
        block_hash: hex::encode(b.hash(&l.hasher())),
        state_root: hex::encode(b.header.state_root),
        mempool_size: l.mempool_len(),
        validators: l.validators().len(),
    }))
}

#[derive(Deserialize)]
struct SubmitBody {
    tx: String,
}

#[derive(Deserialize)]
struct SubmitQuery {
    mode: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SubmitView {
    pub hash: String,
    pub status: String,
    pub receipt: Option<ReceiptView>,
}

async fn submit_tx(
    State(s): State<AppState>,
    Query(q): Query<SubmitQuery>,
    body: Result<Json<SubmitBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<SubmitView> {
    let Json(body) = body.map_err(|e| ApiError::new(e.status(), "api.bad_body", e.body_text()))?;
    let commit = match q.mode.as_deref() {
        None | Some("async") => false,
        Some("commit") => true,
        Some(other) => {
            return Err(ApiError::bad(
                "api.bad_mode",
                format!("mode must be async or commit, not {other}"),
            ))
        }
    };
    let raw =
        hex::decode(body.tx.trim()).map_err(|_| ApiError::bad("tx.malformed", "tx must be hex"))?;
    let sub = s.submitter.clone();
    let hash = tokio::task::spawn_blocking(move || sub.submit(raw))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            let status = if e.code().starts_with("mempool.") {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::BAD_REQUEST
            };
            ApiError::new(status, e.code(), e.to_string())
        })?;
    if !commit {
        return Ok(Json(SubmitView {
            hash: hex::encode(hash),
            status: "accepted".into(),
            receipt: None,
        }));
    }
    let wait = Duration::from_millis(q.timeout_ms.unwrap_or(10_000)).min(MAX_COMMIT_WAIT);
    let deadline = Instant::now() + wait;
    loop {
        if let Some(r) = s.ledger().receipt(&hash).map_err(ApiError::internal)? {
            return Ok(Json(SubmitView {
                hash: hex::encode(hash),
                status: "committed".into(),
                receipt: Some(ReceiptView::from(&r)),
            }));
        }
        if Instant::now() >= deadline {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "api.commit_timeout",
                format!(
                    "not final within {} ms; query /v1/txs/{}",
                    wait.as_millis(),
                    hex::encode(hash)
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EventView {
    pub module: String,
    pub kind: String,
    pub data: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ReceiptView {
    pub tx_hash: String,
    pub height: u64,
    pub index: u32,
    pub sender: String,
    pub code: String,
    pub message: String,
    pub events: Vec<EventView>,
}

impl From<&Receipt> for ReceiptView {
    fn from(r: &Receipt) -> Self {
        Self {
            tx_hash: hex::encode(r.tx_hash),
            height: r.height,
            index: r.index,
            sender: r.sender.to_string(),
            code: r.code.clone(),
            message: r.message.clone(),
            events: r
                .events
                .iter()
                .map(|e| EventView {
                    module: e.module.clone(),
                    kind: e.kind.clone(),
                    data: hex::encode(&e.data),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TxView {
    pub hash: String,
    pub tx: String,
    pub height: u64,
    pub index: u32,
    pub receipt: ReceiptView,
}

async fn get_tx(State(s): State<AppState>, Path(hash): Path<String>) -> ApiResult<TxView> {
    let h = parse_hash(&hash)?;
    let l = s.ledger();
    let stored = l
        .store()
        .transaction(&h)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("transaction"))?;
    let receipt = l
        .receipt(&h)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("receipt"))?;
    Ok(Json(TxView {
        hash: hex::encode(h),
        tx: hex::encode(&stored.bytes),
        height: stored.height,
        index: stored.index,
        receipt: ReceiptView::from(&receipt),
    }))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BlockView {
    pub hash: String,
    pub height: u64,
    pub parent: String,
    pub timestamp_ms: u64,
    pub view: u64,
    pub proposer: String,
    pub tx_root: String,
    pub receipts_root: String,
    pub state_root: String,
    pub tx_hashes: Vec<String>,
    /// Hex of the encoded header (what the block hash covers).
    pub header: String,
    /// Hex of the encoded finalization certificate (empty for genesis).
    pub certificate: String,
}

fn block_view(l: &Ledger, b: &Block) -> Result<BlockView, ApiError> {
    let h = &b.header;
    let cert = l
        .certificate(h.height)
        .map_err(ApiError::internal)?
        .unwrap_or_default();
    Ok(BlockView {
        hash: hex::encode(b.hash(&l.hasher())),
        height: h.height,
        parent: hex::encode(h.parent),
        timestamp_ms: h.timestamp_ms,
        view: h.view,
        proposer: hex::encode(&h.proposer),
        tx_root: hex::encode(h.tx_root),
        receipts_root: hex::encode(h.receipts_root),
        state_root: hex::encode(h.state_root),
        tx_hashes: b
            .txs
            .iter()
            .map(|t| hex::encode(t.hash(&l.hasher())))
            .collect(),
        header: hex::encode(h.encode()),
        certificate: hex::encode(cert),
    })
}

async fn latest_block(State(s): State<AppState>) -> ApiResult<BlockView> {
    let l = s.ledger();
    let b = l.finalized_block().map_err(ApiError::internal)?;
    Ok(Json(block_view(l, &b)?))
}

async fn block_by_height(
    State(s): State<AppState>,
    Path(height): Path<String>,
) -> ApiResult<BlockView> {
    let height: u64 = height
        .parse()
        .map_err(|_| ApiError::bad("api.bad_height", "height must be a non-negative integer"))?;
    let l = s.ledger();
    let b = l
        .block(height)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("block"))?;
    Ok(Json(block_view(l, &b)?))
}

#[derive(Deserialize)]
struct StateQueryParams {
    height: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StateView {
    pub key: String,
    /// Hex value, or null when the key is absent (the proof is then a non-membership proof).
    pub value: Option<String>,
    pub proof: String,
    pub height: u64,
    /// Hex of the encoded finalized header whose `state_root` the proof verifies against.
    pub header: String,
    pub state_root: String,
}

async fn get_state(
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<StateQueryParams>,
) -> ApiResult<StateView> {
    let key = hex::decode(&key).map_err(|_| ApiError::bad("api.bad_key", "key must be hex"))?;
    if key.is_empty() || key.len() > 1024 {
        return Err(ApiError::bad("api.bad_key", "key must be 1-1024 bytes"));
    }
    let l = s.ledger();
    if let Some(h) = q.height {
        if h > l.finalized_height() {
            return Err(ApiError::not_found("height"));
        }
    }
    let r = l.query(&key, q.height).map_err(|e| match e.code() {
        "ledger.not_found" => ApiError::not_found("height"),
        _ => ApiError::internal(e),
    })?;
    Ok(Json(StateView {
        key: hex::encode(&r.key),
        value: r.value.as_ref().map(hex::encode),
        proof: hex::encode(r.proof.encode()),
        height: r.header.height,
        header: hex::encode(r.header.encode()),
        state_root: hex::encode(r.header.state_root),
    }))
}
