//! The node's HTTP/JSON API (axum).
//!
//! Every error is JSON `{"code": "...", "message": "..."}` with a stable code from
//! [`ERROR_CODES`]; caller mistakes are 4xx, never 500. Binary values (keys, hashes, proofs,
//! transactions) travel as lowercase hex. Request bodies are capped
//! ([`ApiOptions::max_body_bytes`]) and each client IP has a token bucket
//! ([`ApiOptions::rate_limit`]).
//!
//! One table ([`routes`]) drives both the router and the OpenAPI document served at
//! `GET /openapi.json`, so the two cannot disagree. `README.md` lists the routes for people.
//!
//! ```no_run
//! # async fn run(submitter: meridian_node::Submitter) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8600").await?;
//! meridian_api::serve(listener, meridian_api::ApiContext::new(submitter)).await
//! # }
//! ```

// The OpenAPI schema table is one `json!` literal; it outgrew the default 128 levels.
#![recursion_limit = "256"]

mod error;
mod events;
mod extract;
mod handlers;
mod metrics;
mod openapi;
mod ratelimit;
mod views;

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use meridian_node::{Ledger, Submitter};

pub use error::{
    codes, status_of, ApiError, ErrorCode, ACCESS_CODES, CONTRACT_CODES, CONTRACT_OWN_ERROR,
    ERROR_CODES,
};
pub use events::{decode_event, BlockEventView, ChainEventView};
pub use handlers::{
    DEFAULT_COMMIT_WAIT, DEFAULT_PROPOSALS_PAGE, MAX_COMMIT_WAIT, MAX_PROPOSALS_PAGE,
};
pub use ratelimit::RateLimit;
pub use views::*;

/// Default largest request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Default most concurrent `/v1/events` streams.
pub const MAX_EVENT_STREAMS: usize = 256;

/// Default largest `/v1/txs/batch` body.
pub const MAX_BATCH_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default longest time to receive a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest time for one request (body included), except event streams and the
/// `commit` wait, which has its own bound.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default most open connections.
pub const MAX_CONNECTIONS: usize = 4096;
/// Default most fuel one contract query (`POST /v1/contracts/{name}/query`) may use; also the
/// fuel of a query that names none. Queries are free for the caller and run on the node's
/// CPU, so the cap is node-local and much lower than a transaction's
/// (`meridian_contract::MAX_FUEL_PER_TX`).
pub const MAX_QUERY_FUEL: u64 = 50_000_000;

/// Limits of one API server.
#[derive(Clone, Debug)]
pub struct ApiOptions {
    pub max_body_bytes: usize,
    /// Body limit of `/v1/txs/batch` only.
    pub max_batch_body_bytes: usize,
    pub rate_limit: RateLimit,
    pub max_event_streams: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    /// Most fuel one contract query may use (and the fuel of one that names none).
    pub max_query_fuel: u64,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: MAX_BODY_BYTES,
            max_batch_body_bytes: MAX_BATCH_BODY_BYTES,
            rate_limit: RateLimit::default(),
            max_event_streams: MAX_EVENT_STREAMS,
            header_read_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_query_fuel: MAX_QUERY_FUEL,
        }
    }
}

/// A configured p2p peer, as `/v1/peers` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub name: String,
    /// Hex of the suite encoding.
    pub public_key: String,
    pub address: String,
    pub is_self: bool,
}

/// Returns the consensus runtime's Prometheus text (used to see which peers are connected).
pub type RuntimeMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Everything the API serves from.
#[derive(Clone)]
pub struct ApiContext {
    pub submitter: Submitter,
    pub peers: Vec<PeerInfo>,
    pub options: ApiOptions,
    pub runtime_metrics: Option<RuntimeMetrics>,
}

impl ApiContext {
    pub fn new(submitter: Submitter) -> Self {
        Self {
            submitter,
            peers: Vec::new(),
            options: ApiOptions::default(),
            runtime_metrics: None,
        }
    }
    pub fn with_peers(mut self, peers: Vec<PeerInfo>) -> Self {
        self.peers = peers;
        self
    }
    pub fn with_options(mut self, options: ApiOptions) -> Self {
        self.options = options;
        self
    }
    pub fn with_runtime_metrics(mut self, f: RuntimeMetrics) -> Self {
        self.runtime_metrics = Some(f);
        self
    }
}

pub(crate) struct Inner {
    submitter: Submitter,
    peers: Vec<PeerInfo>,
    options: ApiOptions,
    runtime_metrics: Option<RuntimeMetrics>,
    limiter: Option<ratelimit::Limiter>,
    streams: Arc<AtomicUsize>,
    stats: metrics::ApiStats,
    openapi: String,
}

#[derive(Clone)]
pub(crate) struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    fn ledger(&self) -> &Arc<Ledger> {
        self.inner.submitter.ledger()
    }

    /// Charges `ip` for `n` more requests' worth of tokens (batches pay per transaction).
    fn take_tokens(&self, ip: IpAddr, n: usize) -> Result<(), ApiError> {
        let Some(l) = &self.inner.limiter else {
            return Ok(());
        };
        if n == 0 {
            return Ok(());
        }
        let cost = u32::try_from(n).unwrap_or(u32::MAX);
        // The request's own token is already taken: the whole batch is `n + 1`.
        let never = (n as f64) + 1.0 > l.burst();
        let taken = if never {
            Err(u64::MAX)
        } else {
            l.take(ip, Instant::now(), cost)
        };
        taken.map_err(|secs| {
            self.inner
                .stats
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
            if secs == u64::MAX {
                ApiError::code(
                    codes::RATE_LIMITED,
                    format!("a batch of {} exceeds this node's rate-limit burst", n + 1),
                )
            } else {
                ApiError::code(
                    codes::RATE_LIMITED,
                    format!("batch exceeds the rate limit for {ip}; retry in {secs} s"),
                )
                .with_retry_after(secs)
            }
        })
    }
}

/// HTTP method of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Where a parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
    Header,
}

/// One documented parameter; `ty` is hash, address, symbol, hex, u64, bool or string.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub location: ParamIn,
    pub ty: &'static str,
    pub description: &'static str,
}

/// What a route answers with on success.
#[derive(Clone, Copy, Debug)]
pub enum Resp {
    /// JSON with the named component schema.
    Json(&'static str),
    Text(&'static str),
    EventStream(&'static str),
    Document,
}

/// One route: its documentation (the handler sits beside it in the private table).
#[derive(Clone, Debug)]
pub struct RouteDoc {
    pub method: Method,
    pub path: &'static str,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    /// Request body schema.
    pub body: Option<&'static str>,
    /// The body may also be `application/octet-stream` and is limited by
    /// [`ApiOptions::max_batch_body_bytes`] instead of `max_body_bytes`.
    pub binary_body: bool,
    pub response: Resp,
    /// Codes this route raises besides `api.rate_limited` and `api.internal`.
    pub errors: &'static [&'static str],
}

const fn path(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: ParamIn::Path,
        ty,
        description,
    }
}
const fn query(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: ParamIn::Query,
        ty,
        description,
    }
}
const HEIGHT_Q: Param = query(
    "height",
    "u64",
    "finalized height to answer at (default: latest)",
);
const TX_CODES: &[&str] = &[
    codes::BAD_QUERY,
    codes::BAD_MODE,
    codes::COMMIT_TIMEOUT,
    "tx.oversized",
    "tx.malformed",
    "tx.wrong_chain",
    "tx.bad_signature",
    "tx.expired",
    "tx.stale_nonce",
    "tx.replayed",
    "tx.nonce_taken",
    "mempool.sender_full",
    "mempool.full",
    "auth.unknown_member",
    "auth.denied",
    "cert.expired",
    "cert.not_yet_valid",
    "cert.revoked",
    "cert.unknown_ca",
];
const STATE_CODES: &[&str] = &[codes::BAD_QUERY, codes::NOT_FOUND];
const CONTRACT_NAME: Param = path(
    "name",
    "string",
    "contract name: 1-48 of [a-z0-9_], starting with a letter",
);
const CONTRACT_INFO_CODES: &[&str] = &[
    codes::BAD_PATH,
    codes::BAD_QUERY,
    codes::NOT_FOUND,
    meridian_contract::codes::BAD_NAME,
    meridian_contract::codes::NOT_FOUND,
];
/// Every code a query can end with: [`CONTRACT_CODES`] and a bad path.
const CONTRACT_QUERY_CODES: &[&str] = &[
    codes::BAD_PATH,
    meridian_contract::codes::BAD_NAME,
    meridian_contract::codes::BAD_FUEL,
    meridian_contract::codes::NOT_FOUND,
    meridian_contract::codes::FROZEN,
    meridian_contract::codes::BAD_CODE,
    meridian_contract::codes::OUT_OF_FUEL,
    meridian_contract::codes::TRAP,
    meridian_contract::codes::STACK_OVERFLOW,
    meridian_contract::codes::RETURN_TOO_LARGE,
    meridian_contract::codes::BAD_POINTER,
    meridian_contract::codes::READ_ONLY,
    meridian_contract::codes::BAD_ERROR,
    CONTRACT_OWN_ERROR,
];

/// The query route documents every contract code.
#[cfg(test)]
#[test]
fn query_route_documents_every_contract_code() {
    for c in CONTRACT_CODES {
        assert!(
            CONTRACT_QUERY_CODES.contains(&c.code),
            "{} undocumented",
            c.code
        );
    }
}

/// The submit route documents every admission code; keep the list in step with the mempool.
#[cfg(test)]
#[test]
fn submit_route_documents_every_admission_code() {
    for code in meridian_mempool::MempoolError::ALL_CODES {
        assert!(TX_CODES.contains(&code), "{code} missing from TX_CODES");
    }
}

#[allow(clippy::too_many_arguments)]
fn route(
    method: Method,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    params: &'static [Param],
    response: Resp,
    errors: &'static [&'static str],
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        id,
        tag,
        summary,
        params,
        body: None,
        binary_body: false,
        response,
        errors,
    }
}

/// The route table: documentation and handler of every route.
fn table() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    use handlers as h;
    use Method::{Get, Post};
    vec![
        (
            route(
                Get,
                "/openapi.json",
                "openapi",
                "meta",
                "This OpenAPI document",
                &[],
                Resp::Document,
                &[],
            ),
            get(h::openapi),
        ),
        (
            route(
                Get,
                "/metrics",
                "metrics",
                "meta",
                "Prometheus metrics (text format 0.0.4); every name starts with meridian_",
                &[],
                Resp::Text("Prometheus text exposition"),
                &[],
            ),
            get(h::metrics),
        ),
        (
            route(
                Get,
                "/v1/status",
                "status",
                "node",
                "Chain id, suite, finalized height, state root, mempool size",
                &[],
                Resp::Json("Status"),
                &[],
            ),
            get(h::status),
        ),
        (
            route(
                Get,
                "/v1/validators",
                "validators",
                "node",
                "Genesis validator set (names, keys, addresses) with its state proof",
                &[HEIGHT_Q],
                Resp::Json("Validators"),
                STATE_CODES,
            ),
            get(h::validators),
        ),
        (
            route(
                Get,
                "/v1/peers",
                "peers",
                "node",
                "Configured p2p peers and whether each is connected",
                &[],
                Resp::Json("Peers"),
                &[],
            ),
            get(h::peers),
        ),
        (
            RouteDoc {
                body: Some("SubmitRequest"),
                ..route(
                    Post,
                    "/v1/txs",
                    "submit_tx",
                    "transactions",
                    "Submit a signed transaction: async (pooled) or commit (wait until final)",
                    const {
                        &[
                            query("mode", "string", "async (default) or commit"),
                            query(
                                "timeout_ms",
                                "u64",
                                "commit wait, default 10000, at most 60000",
                            ),
                        ]
                    },
                    Resp::Json("Submit"),
                    TX_CODES,
                )
            },
            post(h::submit_tx),
        ),
        (
            RouteDoc {
                body: Some("SubmitBatchRequest"),
                binary_body: true,
                ..route(
                    Post,
                    "/v1/txs/batch",
                    "submit_batch",
                    "transactions",
                    "Submit up to 512 signed transactions at once (async): binary or JSON; one \
                     outcome per transaction, in order; rate-limited per transaction",
                    &[],
                    Resp::Json("SubmitBatch"),
                    const { &[codes::BATCH_TOO_LARGE, "tx.malformed"] },
                )
            },
            post(h::submit_batch),
        ),
        (
            RouteDoc {
                body: Some("TxOutcomesRequest"),
                ..route(
                    Post,
                    "/v1/txs/outcomes",
                    "tx_outcomes",
                    "transactions",
                    "What became of up to 512 transactions (final with the receipt's height, \
                     code and message; pending; unknown): the node's word, no proofs",
                    &[],
                    Resp::Json("TxOutcomes"),
                    const { &[codes::BATCH_TOO_LARGE, codes::BAD_HASH, codes::BAD_BODY] },
                )
            },
            post(h::tx_outcomes),
        ),
        (
            route(
                Get,
                "/v1/txs/{hash}",
                "get_tx",
                "transactions",
                "A finalized transaction, its receipt and its Merkle inclusion proof",
                const { &[path("hash", "hash", "transaction id")] },
                Resp::Json("Tx"),
                &[
                    codes::BAD_HASH,
                    codes::BAD_PATH,
                    codes::NOT_FOUND,
                    codes::TX_PENDING,
                ],
            ),
            get(h::get_tx),
        ),
        (
            route(
                Get,
                "/v1/blocks/latest",
                "latest_block",
                "blocks",
                "Latest finalized block with its certificate",
                &[],
                Resp::Json("Block"),
                &[],
            ),
            get(h::latest_block),
        ),
        (
            route(
                Get,
                "/v1/blocks/{height}",
                "block_by_height",
                "blocks",
                "Finalized block by height with its certificate",
                const { &[path("height", "u64", "block height")] },
                Resp::Json("Block"),
                &[codes::BAD_HEIGHT, codes::BAD_PATH, codes::NOT_FOUND],
            ),
            get(h::block_by_height),
        ),
        (
            route(
                Get,
                "/v1/blocks/by-hash/{hash}",
                "block_by_hash",
                "blocks",
                "Finalized block by id with its certificate",
                const { &[path("hash", "hash", "block id")] },
                Resp::Json("Block"),
                &[codes::BAD_HASH, codes::BAD_PATH, codes::NOT_FOUND],
            ),
            get(h::block_by_hash),
        ),
        (
            route(
                Get,
                "/v1/headers/latest",
                "latest_header",
                "blocks",
                "Latest finalized header with its certificate (a light-client anchor)",
                &[],
                Resp::Json("Header"),
                &[],
            ),
            get(h::latest_header),
        ),
        (
            route(
                Get,
                "/v1/state/{key}",
                "get_state",
                "state",
                "Raw state value with its JMT proof and the header it verifies against",
                const { &[path("key", "hex", "state key, hex"), HEIGHT_Q] },
                Resp::Json("State"),
                &[
                    codes::BAD_KEY,
                    codes::BAD_PATH,
                    codes::BAD_QUERY,
                    codes::NOT_FOUND,
                ],
            ),
            get(h::get_state),
        ),
        (
            RouteDoc {
                body: Some("StatesRequest"),
                ..route(
                    Post,
                    "/v1/state/batch",
                    "get_states",
                    "state",
                    "Up to 256 raw state values at one finalized height (latest unless asked), \
                     each with its JMT proof against that height's header",
                    &[],
                    Resp::Json("States"),
                    const {
                        &[
                            codes::BATCH_TOO_LARGE,
                            codes::BAD_KEY,
                            codes::BAD_BODY,
                            codes::NOT_FOUND,
                        ]
                    },
                )
            },
            post(h::get_states),
        ),
        (
            route(
                Get,
                "/v1/bank/balance/{symbol}/{address}",
                "bank_balance",
                "state",
                "Balance of an address in an asset, with proof",
                const {
                    &[
                        path("symbol", "symbol", "asset symbol"),
                        path("address", "address", "account address"),
                        HEIGHT_Q,
                    ]
                },
                Resp::Json("Balance"),
                &[
                    codes::BAD_SYMBOL,
                    codes::BAD_ADDRESS,
                    codes::BAD_PATH,
                    codes::BAD_QUERY,
                    codes::NOT_FOUND,
                ],
            ),
            get(h::bank_balance),
        ),
        (
            route(
                Get,
                "/v1/bank/assets/{symbol}",
                "bank_asset",
                "state",
                "Asset definition and supply, with proof (asset is null when absent)",
                const { &[path("symbol", "symbol", "asset symbol"), HEIGHT_Q] },
                Resp::Json("Asset"),
                &[
                    codes::BAD_SYMBOL,
                    codes::BAD_PATH,
                    codes::BAD_QUERY,
                    codes::NOT_FOUND,
                ],
            ),
            get(h::bank_asset),
        ),
        (
            route(
                Get,
                "/v1/notary/{doc_hash}",
                "notary_record",
                "state",
                "Notarisation record of a document hash, with proof (record is null when absent)",
                const {
                    &[
                        path("doc_hash", "hash", "suite hash of the document"),
                        HEIGHT_Q,
                    ]
                },
                Resp::Json("Notary"),
                &[
                    codes::BAD_HASH,
                    codes::BAD_PATH,
                    codes::BAD_QUERY,
                    codes::NOT_FOUND,
                ],
            ),
            get(h::notary_record),
        ),
        (
            route(
                Get,
                "/v1/identity/members/{address}",
                "identity_member",
                "state",
                "A registered member's certificate (org, role, name, cert id, revocation), with \
                 proof (member is null when absent; api.not_found on an open chain)",
                const { &[path("address", "address", "account address"), HEIGHT_Q] },
                Resp::Json("Member"),
                &[
                    codes::BAD_ADDRESS,
                    codes::BAD_PATH,
                    codes::BAD_QUERY,
                    codes::NOT_FOUND,
                ],
            ),
            get(h::identity_member),
        ),
        (
            route(
                Get,
                "/v1/identity/policies/{call}",
                "identity_policy",
                "state",
                "Roles allowed to send <module>.<method>, resolved (own policy, module-wide, \
                 default; every role on an open chain), with proof of the rule that applied",
                const {
                    &[
                        path("call", "string", "<module>.<method>, e.g. bank.transfer"),
                        HEIGHT_Q,
                    ]
                },
                Resp::Json("Policy"),
                &[codes::BAD_PATH, codes::BAD_QUERY, codes::NOT_FOUND],
            ),
            get(h::identity_policy),
        ),
        (
            route(
                Get,
                "/v1/identity/proposals/{id}",
                "identity_proposal",
                "state",
                "A governance proposal (proposer, action, threshold, deadline, votes per \
                 organisation, status), with proof; identity.no_proposal when no proposal has \
                 this id",
                const { &[path("id", "u64", "proposal id (1, 2, ...)"), HEIGHT_Q] },
                Resp::Json("Proposal"),
                &[
                    codes::BAD_PATH,
                    codes::BAD_QUERY,
                    codes::NOT_FOUND,
                    codes::NO_PROPOSAL,
                ],
            ),
            get(h::identity_proposal),
        ),
        (
            route(
                Get,
                "/v1/identity/proposals",
                "identity_proposals",
                "state",
                "Governance proposals in id order from `from`, each with its proof, and the \
                 next id with its proof, all at one height",
                const {
                    &[
                        query("from", "u64", "first proposal id (default 1)"),
                        query(
                            "limit",
                            "u64",
                            "at most this many (default 20, at most 100)",
                        ),
                        HEIGHT_Q,
                    ]
                },
                Resp::Json("Proposals"),
                STATE_CODES,
            ),
            get(h::identity_proposals),
        ),
        (
            route(
                Get,
                "/v1/contracts/{name}",
                "contract_info",
                "contracts",
                "A deployed contract (code hash, creator, deployed height, version, \
                 allow_reentry, frozen, approved upgrade), with the proof of \
                 contract/meta/<name>; contract.not_found when none has this name",
                const { &[CONTRACT_NAME, HEIGHT_Q] },
                Resp::Json("Contract"),
                CONTRACT_INFO_CODES,
            ),
            get(h::contract_info),
        ),
        (
            RouteDoc {
                body: Some("ContractQueryRequest"),
                ..route(
                    Post,
                    "/v1/contracts/{name}/query",
                    "contract_query",
                    "contracts",
                    "Run the contract's read-only `query` entry point on the latest finalized \
                     state with the JSON text of `msg` as its message and at most `fuel` fuel \
                     (this node's cap, `[api] max_query_fuel`, 50,000,000 by default, when \
                     absent; more is refused). The answer is this node's execution, not \
                     proven. A failed run is 4xx with the contract's stable code",
                    const { &[CONTRACT_NAME] },
                    Resp::Json("ContractQuery"),
                    CONTRACT_QUERY_CODES,
                )
            },
            post(h::contract_query),
        ),
        (
            route(
                Get,
                "/v1/events",
                "events",
                "events",
                "Server-Sent Events of finalized blocks and receipt events",
                const {
                    &[
                        query(
                            "from_height",
                            "u64",
                            "replay from this height, then follow live (default: next block)",
                        ),
                        query(
                            "to_height",
                            "u64",
                            "end the stream after this block and all its events (default: never)",
                        ),
                        query(
                            "module",
                            "string",
                            "only events of these modules (comma-separated)",
                        ),
                        query("kind", "string", "only these event types (comma-separated)"),
                        query(
                            "address",
                            "string",
                            "only events whose sender or any named address is one of these",
                        ),
                        query("blocks", "bool", "send `block` events (default true)"),
                        Param {
                            name: "Last-Event-ID",
                            location: ParamIn::Header,
                            ty: "string",
                            description: "resume exactly after this event id (H or H/T/E)",
                        },
                    ]
                },
                Resp::EventStream(
                    "`event: block` (data: BlockEvent schema, id H) for each finalized block, \
                     then `event: event` (data: ChainEvent schema, id H/T/E) for each matching \
                     receipt event; comments keep the connection alive",
                ),
                &[
                    codes::BAD_QUERY,
                    codes::BAD_FILTER,
                    codes::BAD_ADDRESS,
                    codes::TOO_MANY_STREAMS,
                ],
            ),
            get(h::events),
        ),
    ]
}

/// Every route's documentation, in table order.
pub fn routes() -> Vec<RouteDoc> {
    table().into_iter().map(|(d, _)| d).collect()
}

/// The OpenAPI 3.0 document.
pub fn openapi() -> serde_json::Value {
    openapi::document(&routes())
}

/// Refuses over-rate clients and counts responses.
async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(l) = &s.inner.limiter {
        let ip = extract::client_ip(req.extensions());
        if let Err(secs) = l.check(ip, Instant::now()) {
            s.inner.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            let r = ApiError::code(
                codes::RATE_LIMITED,
                format!("too many requests from {ip}; retry in {secs} s"),
            )
            .with_retry_after(secs)
            .into_response();
            s.inner.stats.record(r.status());
            return r;
        }
    }
    // Event streams live as long as the client wants; a commit wait has its own bound.
    let limit = match req.uri().path() {
        "/v1/events" => None,
        "/v1/txs" => Some(MAX_COMMIT_WAIT + s.inner.options.request_timeout),
        _ => Some(s.inner.options.request_timeout),
    };
    let r = match limit {
        None => next.run(req).await,
        Some(d) => match tokio::time::timeout(d, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::code(
                codes::REQUEST_TIMEOUT,
                format!("request not completed within {} ms", d.as_millis()),
            )
            .into_response(),
        },
    };
    s.inner.stats.record(r.status());
    r
}

/// Builds the router for one node.
pub fn router(ctx: ApiContext) -> Router {
    let table = table();
    let docs: Vec<RouteDoc> = table.iter().map(|(d, _)| d.clone()).collect();
    let state = AppState {
        inner: Arc::new(Inner {
            limiter: ratelimit::Limiter::new(ctx.options.rate_limit),
            submitter: ctx.submitter,
            peers: ctx.peers,
            options: ctx.options.clone(),
            runtime_metrics: ctx.runtime_metrics,
            streams: Arc::new(AtomicUsize::new(0)),
            stats: metrics::ApiStats::default(),
            openapi: openapi::document(&docs).to_string(),
        }),
    };
    let mut r = Router::new();
    for (doc, handler) in table {
        let handler = if doc.binary_body {
            handler.layer(DefaultBodyLimit::max(ctx.options.max_batch_body_bytes))
        } else {
            handler
        };
        r = r.route(doc.path, handler);
    }
    r.fallback(handlers::no_route)
        .layer(DefaultBodyLimit::max(ctx.options.max_body_bytes))
        .layer(middleware::map_response(error::json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Serves the API on `listener` until the future is dropped. Client addresses feed the rate
/// limiter.
///
/// Each connection must send a request's headers within
/// [`ApiOptions::header_read_timeout`] (idle keep-alive connections included), and at most
/// [`ApiOptions::max_connections`] are served at once; more wait in the listen backlog.
pub async fn serve(listener: tokio::net::TcpListener, ctx: ApiContext) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let header_timeout = ctx.options.header_read_timeout;
    let slots = Arc::new(tokio::sync::Semaphore::new(
        ctx.options.max_connections.max(1),
    ));
    let app = router(ctx);
    loop {
        let permit = slots
            .clone()
            .acquire_owned()
            .await
            .map_err(std::io::Error::other)?;
        let (stream, remote) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors and similar: back off instead of spinning.
                tracing::warn!(error = %e, "api accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut().insert(ConnectInfo(remote));
                    let app = app.clone();
                    async move {
                        use tower::ServiceExt as _;
                        app.oneshot(req).await
                    }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %remote, "api connection ended");
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests;
