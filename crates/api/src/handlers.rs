//! Route handlers. Storage reads run on the blocking pool (`spawn_blocking`): a block can be
//! megabytes to decode and fjall reads may touch disk.

use std::collections::HashSet;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use meridian_node::{Ledger, GENESIS_KEYS};
use meridian_types::{merkle_proof, Address, Block, Encode, Hash32, Reader};
use serde::Deserialize;

use crate::error::{codes, ApiError};
use crate::events::{self, EventsQuery, StreamSlot};
use crate::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery, ConnectInfoIp};
use crate::views::*;
use crate::AppState;

/// Longest `commit` wait.
pub const MAX_COMMIT_WAIT: Duration = Duration::from_secs(60);
/// `commit` wait when `timeout_ms` is absent.
pub const DEFAULT_COMMIT_WAIT: Duration = Duration::from_secs(10);

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Runs `f` with the ledger on the blocking pool.
async fn read<T: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&Ledger) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let l = s.ledger().clone();
    tokio::task::spawn_blocking(move || f(&l))
        .await
        .map_err(ApiError::internal)?
}

fn parse_hash(s: &str) -> Result<Hash32, ApiError> {
    let raw = hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map_err(|_| ApiError::code(codes::BAD_HASH, "hash must be 64 hex characters"))?;
    raw.try_into()
        .map_err(|_| ApiError::code(codes::BAD_HASH, "hash must be 32 bytes"))
}

fn parse_address(s: &str) -> Result<Address, ApiError> {
    Address::from_hex(s).map_err(|_| {
        ApiError::code(
            codes::BAD_ADDRESS,
            "address must be 40 hex characters (0x optional)",
        )
    })
}

fn parse_symbol(s: &str) -> Result<String, ApiError> {
    let ok = !s.is_empty()
        && s.len() <= meridian_bank::MAX_SYMBOL_LEN
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(s.to_string())
    } else {
        Err(ApiError::code(
            codes::BAD_SYMBOL,
            "symbol must be 1-16 characters of [A-Z0-9]",
        ))
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("stored {what} does not decode: {e}"))
}

pub(crate) async fn status(State(s): State<AppState>) -> ApiResult<StatusView> {
    read(&s, |l| {
        let b = l.finalized_block().map_err(ApiError::internal)?;
        // The set governance left in force (genesis' until a change), not the genesis list.
        let (validators, _) = l
            .members_at(b.header.height, &[])
            .map_err(ApiError::internal)?;
        let epoch_blocks = l.epoch_blocks();
        Ok(Json(StatusView {
            chain_id: l.chain_id().to_string(),
            suite: l.suite().to_string(),
            height: b.header.height,
            block_hash: hex::encode(b.hash(&l.hasher())),
            state_root: hex::encode(b.header.state_root),
            mempool_size: l.mempool_len(),
            validators: validators.len(),
            epoch: (b.header.height + 1) / epoch_blocks.max(1),
            epoch_blocks,
            max_block_txs: l.block_limits().0,
            max_block_bytes: l.block_limits().1,
        }))
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct SubmitBody {
    tx: String,
}

#[derive(Deserialize)]
pub(crate) struct SubmitQuery {
    mode: Option<String>,
    timeout_ms: Option<u64>,
}

pub(crate) async fn submit_tx(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<SubmitQuery>,
    ApiJson(body): ApiJson<SubmitBody>,
) -> ApiResult<SubmitView> {
    let commit = match q.mode.as_deref() {
        None | Some("async") => false,
        Some("commit") => true,
        Some(other) => {
            return Err(ApiError::code(
                codes::BAD_MODE,
                format!("mode must be async or commit, not {other}"),
            ))
        }
    };
    let raw = hex::decode(body.tx.trim())
        .map_err(|_| ApiError::code("tx.malformed", "tx must be hex"))?;
    let sub = s.inner.submitter.clone();
    let hash = tokio::task::spawn_blocking(move || sub.submit(raw))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::code(e.code(), e.to_string()))?;
    if !commit {
        return Ok(Json(SubmitView {
            hash: hex::encode(hash),
            status: "accepted".into(),
            receipt: None,
        }));
    }
    let wait = q
        .timeout_ms
        .map_or(DEFAULT_COMMIT_WAIT, Duration::from_millis)
        .min(MAX_COMMIT_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let ledger = s.ledger().clone();
    loop {
        // Read the height before the receipt: a block finalized in between wakes the wait.
        let height = ledger.finalized_height();
        let l = ledger.clone();
        let receipt = tokio::task::spawn_blocking(move || l.receipt(&hash))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        if let Some(r) = receipt {
            return Ok(Json(SubmitView {
                hash: hex::encode(hash),
                status: "committed".into(),
                receipt: Some(ReceiptView::from(&r)),
            }));
        }
        tokio::select! {
            _ = ledger.finalized_above(height) => {}
            _ = tokio::time::sleep_until(deadline) => {
                return Err(ApiError::code(
                    codes::COMMIT_TIMEOUT,
                    format!(
                        "accepted but not final within {} ms; query /v1/txs/{}",
                        wait.as_millis(),
                        hex::encode(hash)
                    ),
                ));
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct BatchBody {
    txs: Vec<String>,
}

/// Most transactions in one `/v1/txs/batch` request (one gossip message's worth).
pub const MAX_SUBMIT_BATCH: usize = meridian_node::gossip::MAX_BATCH_TXS;

/// `api.batch_too_large`: a request listed `n` `what`s, more than `max`.
fn too_many(n: usize, max: usize, what: &str) -> ApiError {
    ApiError::code(
        codes::BATCH_TOO_LARGE,
        format!("{n} {what} in one request; at most {max}"),
    )
}

/// Splits a batch body: `application/octet-stream` is the binary batch encoding (`u16` count,
/// then each signed transaction as a length-prefixed byte string), `application/json` is
/// `{"txs": ["hex", ...]}`.
fn parse_batch(content_type: &str, body: &[u8]) -> Result<Vec<Vec<u8>>, ApiError> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/octet-stream" => {
            let count = Reader::new(body)
                .u16("batch.count")
                .map_err(|e| ApiError::code(codes::BAD_BODY, e.to_string()))?;
            if usize::from(count) > MAX_SUBMIT_BATCH {
                return Err(too_many(count.into(), MAX_SUBMIT_BATCH, "transactions"));
            }
            meridian_node::gossip::decode_batch(body).ok_or_else(|| {
                ApiError::code(
                    codes::BAD_BODY,
                    "batch does not decode: u16 count, then length-prefixed transactions",
                )
            })
        }
        "application/json" => {
            let v: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::code(codes::BAD_JSON, e.to_string()))?;
            let b: BatchBody = crate::extract::from_object(v)?;
            if b.txs.len() > MAX_SUBMIT_BATCH {
                return Err(too_many(b.txs.len(), MAX_SUBMIT_BATCH, "transactions"));
            }
            b.txs
                .iter()
                .map(|t| {
                    hex::decode(t.trim())
                        .map_err(|_| ApiError::code("tx.malformed", "every tx must be hex"))
                })
                .collect()
        }
        _ => Err(ApiError::code(
            codes::UNSUPPORTED_MEDIA_TYPE,
            "send application/octet-stream (binary batch) or application/json",
        )),
    }
}

pub(crate) async fn submit_batch(
    State(s): State<AppState>,
    ConnectInfoIp(ip): ConnectInfoIp,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<SubmitBatchView> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let raws = parse_batch(ct, &body)?;
    // The guard took one token for the request; a batch pays one per transaction.
    s.take_tokens(ip, raws.len().saturating_sub(1))?;
    let sub = s.inner.submitter.clone();
    let results = tokio::task::spawn_blocking(move || sub.submit_batch(raws))
        .await
        .map_err(ApiError::internal)?;
    let results: Vec<BatchItemView> = results
        .into_iter()
        .map(|r| match r {
            Ok(h) => BatchItemView {
                hash: Some(hex::encode(h)),
                code: "ok".into(),
                message: String::new(),
            },
            Err(e) => BatchItemView {
                hash: None,
                code: e.code().into(),
                message: e.to_string(),
            },
        })
        .collect();
    let accepted = results.iter().filter(|r| r.code == "ok").count();
    Ok(Json(SubmitBatchView {
        accepted,
        rejected: results.len() - accepted,
        results,
    }))
}

#[derive(Deserialize)]
pub(crate) struct OutcomesBody {
    hashes: Vec<String>,
}

fn at_most(n: usize, max: usize, what: &str) -> Result<(), ApiError> {
    if n > max {
        return Err(too_many(n, max, what));
    }
    Ok(())
}

/// Outcomes of up to [`MAX_SUBMIT_BATCH`] transactions in one request: what a sender of a
/// batch waits for. Receipts only, no inclusion proofs (building one hashes the whole block).
pub(crate) async fn tx_outcomes(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<OutcomesBody>,
) -> ApiResult<TxOutcomesView> {
    at_most(body.hashes.len(), MAX_SUBMIT_BATCH, "hashes")?;
    let hashes = body
        .hashes
        .iter()
        .map(|h| parse_hash(h))
        .collect::<Result<Vec<_>, _>>()?;
    read(&s, move |l| {
        let mut outcomes = Vec::with_capacity(hashes.len());
        for h in hashes {
            let receipt = l.receipt(&h).map_err(ApiError::internal)?;
            let (status, height, code, message, events) = match receipt {
                Some(r) => (
                    "final",
                    Some(r.height),
                    Some(r.code.clone()),
                    Some(r.message.clone()),
                    r.events.iter().map(EventView::from).collect(),
                ),
                None if l.is_pooled(&h) => ("pending", None, None, None, Vec::new()),
                None => ("unknown", None, None, None, Vec::new()),
            };
            outcomes.push(TxOutcomeView {
                hash: hex::encode(h),
                status: status.into(),
                height,
                code,
                message,
                events,
            });
        }
        Ok(Json(TxOutcomesView { outcomes }))
    })
    .await
}

pub(crate) async fn get_tx(
    State(s): State<AppState>,
    ApiPath(hash): ApiPath<String>,
) -> ApiResult<TxView> {
    let h = parse_hash(&hash)?;
    read(&s, move |l| {
        let Some(stored) = l.store().transaction(&h).map_err(ApiError::internal)? else {
            if l.is_pooled(&h) {
                return Err(ApiError::code(
                    codes::TX_PENDING,
                    "the transaction is in this node's mempool, not final yet",
                ));
            }
            return Err(ApiError::not_found("transaction"));
        };
        let receipt = l
            .receipt(&h)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("receipt missing for a stored transaction"))?;
        let block = l
            .block(stored.height)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("block missing for a stored transaction"))?;
        let hasher = l.hasher();
        let leaves: Vec<Hash32> = block.txs.iter().map(|t| l.hash(&t.encode())).collect();
        let proof = merkle_proof(&hasher, &leaves, stored.index as usize)
            .ok_or_else(|| ApiError::internal("transaction index outside its block"))?;
        let cert = l
            .certificate(stored.height)
            .map_err(ApiError::internal)?
            .unwrap_or_default();
        Ok(Json(TxView {
            hash: hex::encode(h),
            tx: hex::encode(&stored.bytes),
            height: stored.height,
            index: stored.index,
            receipt: ReceiptView::from(&receipt),
            inclusion: TxProofView {
                leaf: hex::encode(l.hash(&stored.bytes)),
                index: proof.index,
                size: proof.size,
                siblings: proof.siblings.iter().map(hex::encode).collect(),
                proof: hex::encode(proof.encode()),
                tx_root: hex::encode(block.header.tx_root),
                block_hash: hex::encode(block.hash(&hasher)),
                header: hex::encode(block.header.encode()),
                certificate: hex::encode(cert),
            },
        }))
    })
    .await
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

pub(crate) async fn latest_block(State(s): State<AppState>) -> ApiResult<BlockView> {
    read(&s, |l| {
        let b = l.finalized_block().map_err(ApiError::internal)?;
        Ok(Json(block_view(l, &b)?))
    })
    .await
}

fn parse_height(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::code(codes::BAD_HEIGHT, "height must be a non-negative integer"))
}

pub(crate) async fn block_by_height(
    State(s): State<AppState>,
    ApiPath(height): ApiPath<String>,
) -> ApiResult<BlockView> {
    let height = parse_height(&height)?;
    read(&s, move |l| {
        let b = l
            .block(height)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found("block"))?;
        Ok(Json(block_view(l, &b)?))
    })
    .await
}

pub(crate) async fn block_by_hash(
    State(s): State<AppState>,
    ApiPath(hash): ApiPath<String>,
) -> ApiResult<BlockView> {
    let hash = parse_hash(&hash)?;
    read(&s, move |l| {
        let height = l
            .store()
            .height_of(&hash)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found("block"))?;
        let b = l
            .block(height)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found("block"))?;
        Ok(Json(block_view(l, &b)?))
    })
    .await
}

pub(crate) async fn latest_header(State(s): State<AppState>) -> ApiResult<HeaderView> {
    // The header alone: decoding the block and hashing each of its transactions (as
    // `/v1/blocks/latest` does) is what made polling the tip expensive under load.
    read(&s, |l| {
        let (h, tx_count) = l
            .header_and_tx_count(l.finalized_height())
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("no finalized block"))?;
        let cert = l
            .certificate(h.height)
            .map_err(ApiError::internal)?
            .unwrap_or_default();
        Ok(Json(HeaderView {
            hash: hex::encode(h.hash(&l.hasher())),
            height: h.height,
            parent: hex::encode(h.parent),
            timestamp_ms: h.timestamp_ms,
            view: h.view,
            proposer: hex::encode(&h.proposer),
            tx_root: hex::encode(h.tx_root),
            receipts_root: hex::encode(h.receipts_root),
            state_root: hex::encode(h.state_root),
            tx_count,
            header: hex::encode(h.encode()),
            certificate: hex::encode(cert),
        }))
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct HeightQuery {
    height: Option<u64>,
}

/// A state value with its proof at `height` (latest finalized when `None`).
fn state_at(l: &Ledger, key: &[u8], height: Option<u64>) -> Result<StateView, ApiError> {
    if let Some(h) = height {
        if h > l.finalized_height() {
            return Err(ApiError::not_found("height"));
        }
    }
    let r = l.query(key, height).map_err(|e| match e.code() {
        "ledger.not_found" => ApiError::not_found("height"),
        _ => ApiError::internal(e),
    })?;
    Ok(StateView {
        key: hex::encode(&r.key),
        value: r.value.as_ref().map(hex::encode),
        proof: hex::encode(r.proof.encode()),
        height: r.header.height,
        header: hex::encode(r.header.encode()),
        state_root: hex::encode(r.header.state_root),
    })
}

fn value_of(v: &StateView) -> Result<Option<Vec<u8>>, ApiError> {
    v.value
        .as_deref()
        .map(hex::decode)
        .transpose()
        .map_err(ApiError::internal)
}

pub(crate) async fn get_state(
    State(s): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<StateView> {
    let key = hex::decode(&key).map_err(|_| ApiError::code(codes::BAD_KEY, "key must be hex"))?;
    if key.is_empty() || key.len() > 1024 {
        return Err(ApiError::code(codes::BAD_KEY, "key must be 1-1024 bytes"));
    }
    read(&s, move |l| Ok(Json(state_at(l, &key, q.height)?))).await
}

/// Most keys in one `POST /v1/state/batch`.
pub const MAX_STATE_BATCH: usize = 256;

#[derive(Deserialize)]
pub(crate) struct StatesBody {
    keys: Vec<String>,
    #[serde(default)]
    height: Option<u64>,
    /// `false`: values only, no proofs (cheaper for both sides when the caller only needs
    /// the node's word, e.g. a relayer deciding what is pending).
    #[serde(default = "yes")]
    proofs: bool,
}

fn yes() -> bool {
    true
}

/// Up to [`MAX_STATE_BATCH`] raw state values at one finalized height (the latest unless
/// asked), each with its proof against that height's header.
pub(crate) async fn get_states(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<StatesBody>,
) -> ApiResult<StatesView> {
    at_most(body.keys.len(), MAX_STATE_BATCH, "keys")?;
    if body.keys.is_empty() {
        return Err(ApiError::code(codes::BAD_KEY, "ask for at least one key"));
    }
    let keys = body
        .keys
        .iter()
        .map(|k| {
            let key =
                hex::decode(k).map_err(|_| ApiError::code(codes::BAD_KEY, "key must be hex"))?;
            if key.is_empty() || key.len() > 1024 {
                return Err(ApiError::code(codes::BAD_KEY, "key must be 1-1024 bytes"));
            }
            Ok(key)
        })
        .collect::<Result<Vec<_>, _>>()?;
    read(&s, move |l| {
        let height = body.height.unwrap_or_else(|| l.finalized_height());
        if height > l.finalized_height() {
            return Err(ApiError::not_found("height"));
        }
        let mut items = Vec::with_capacity(keys.len());
        let mut at = None;
        for key in &keys {
            if body.proofs {
                let v = state_at(l, key, Some(height))?;
                at.get_or_insert((v.height, v.header, v.state_root));
                items.push(StateItemView {
                    key: v.key,
                    value: v.value,
                    proof: Some(v.proof),
                });
            } else {
                let value = l.value_at(key, height).map_err(|e| match e.code() {
                    "ledger.not_found" => ApiError::not_found("height"),
                    _ => ApiError::internal(e),
                })?;
                items.push(StateItemView {
                    key: hex::encode(key),
                    value: value.as_ref().map(hex::encode),
                    proof: None,
                });
            }
        }
        let (height, header, state_root) = match at {
            Some(at) => at,
            None => {
                let header = l
                    .header(height)
                    .map_err(ApiError::internal)?
                    .ok_or_else(|| ApiError::not_found("height"))?;
                (
                    header.height,
                    hex::encode(header.encode()),
                    hex::encode(header.state_root),
                )
            }
        };
        Ok(Json(StatesView {
            height,
            header,
            state_root,
            items,
        }))
    })
    .await
}

pub(crate) async fn bank_balance(
    State(s): State<AppState>,
    ApiPath((symbol, address)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<BalanceView> {
    let symbol = parse_symbol(&symbol)?;
    let addr = parse_address(&address)?;
    read(&s, move |l| {
        let state = state_at(l, &meridian_bank::balance_key(&symbol, &addr), q.height)?;
        let balance = meridian_bank::decode_balance(value_of(&state)?.as_deref())
            .map_err(|e| corrupt("balance", e))?;
        Ok(Json(BalanceView {
            symbol,
            address: addr.to_string(),
            balance: balance.to_string(),
            state,
        }))
    })
    .await
}

pub(crate) async fn bank_asset(
    State(s): State<AppState>,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<AssetView> {
    let symbol = parse_symbol(&symbol)?;
    read(&s, move |l| {
        let state = state_at(l, &meridian_bank::asset_key(&symbol), q.height)?;
        let asset = match value_of(&state)? {
            None => None,
            Some(v) => {
                let a = meridian_bank::decode_asset(&v).map_err(|e| corrupt("asset", e))?;
                Some(AssetInfo {
                    symbol: a.symbol,
                    decimals: a.decimals,
                    max_supply: a.max_supply.to_string(),
                    supply: a.supply.to_string(),
                    issuer: a.issuer.to_string(),
                })
            }
        };
        Ok(Json(AssetView {
            symbol,
            asset,
            state,
        }))
    })
    .await
}

pub(crate) async fn notary_record(
    State(s): State<AppState>,
    ApiPath(doc_hash): ApiPath<String>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<NotaryView> {
    let doc = parse_hash(&doc_hash)?;
    read(&s, move |l| {
        let state = state_at(l, &meridian_notary::record_key(&doc), q.height)?;
        let record = match value_of(&state)? {
            None => None,
            Some(v) => {
                let r = meridian_notary::decode_record(&v).map_err(|e| corrupt("record", e))?;
                Some(RecordView {
                    doc_hash: hex::encode(r.doc_hash),
                    owner: r.owner.to_string(),
                    timestamp_ms: r.timestamp_ms,
                    height: r.height,
                    tx_hash: hex::encode(r.tx_hash),
                    metadata: hex::encode(&r.metadata),
                    metadata_text: String::from_utf8(r.metadata).ok(),
                })
            }
        };
        Ok(Json(NotaryView {
            doc_hash: hex::encode(doc),
            record,
            state,
        }))
    })
    .await
}

pub(crate) async fn identity_member(
    State(s): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<MemberView> {
    use meridian_identity_module as idm;
    let addr = parse_address(&address)?;
    read(&s, move |l| {
        let mode = state_at(l, idm::MODE_KEY.as_bytes(), q.height)?;
        if mode.value.is_none() {
            return Err(ApiError::code(
                codes::NOT_FOUND,
                "this chain is open (no organisations): it has no members",
            ));
        }
        let state = state_at(l, &idm::member_key(&addr), Some(mode.height))?;
        let member = match value_of(&state)? {
            None => None,
            Some(v) => {
                let m = idm::MemberRecord::decode_exact(&v)
                    .map_err(|e| corrupt("member", e.message))?;
                let cert = meridian_identity::Certificate::from_der(&m.der)
                    .map_err(|e| corrupt("member certificate", e))?;
                let revoked_key = idm::revoked_key(&m.ca_id, cert.serial().as_bytes());
                let revoked = state_at(l, &revoked_key, Some(mode.height))?
                    .value
                    .is_some();
                Some(
                    MemberInfo::new(&m, &cert, revoked, &revoked_key)
                        .map_err(|e| corrupt("member certificate", e))?,
                )
            }
        };
        Ok(Json(MemberView {
            address: addr.to_string(),
            member,
            state,
        }))
    })
    .await
}

/// `<module>.<method>`: 1-64 of `a-z 0-9 _` each side.
fn parse_call(s: &str) -> Result<(String, String), ApiError> {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 64
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    match s.split_once('.') {
        Some((m, f)) if part(m) && part(f) => Ok((m.to_string(), f.to_string())),
        _ => Err(ApiError::code(
            codes::BAD_PATH,
            "call must be <module>.<method> (a-z 0-9 _), e.g. bank.transfer",
        )),
    }
}

pub(crate) async fn identity_policy(
    State(s): State<AppState>,
    ApiPath(call): ApiPath<String>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<PolicyView> {
    use meridian_identity_module as idm;
    let (module, method) = parse_call(&call)?;
    read(&s, move |l| {
        let call = format!("{module}.{method}");
        let mode = state_at(l, idm::MODE_KEY.as_bytes(), q.height)?;
        let h = Some(mode.height);
        if mode.value.is_none() {
            return Ok(Json(PolicyView {
                call,
                mode: "open".into(),
                roles: meridian_identity::Role::BUILTIN
                    .iter()
                    .map(|r| r.to_string())
                    .collect(),
                rule: "open".into(),
                policy: None,
                state: mode,
            }));
        }
        let wide = format!("{module}.*");
        let mut last = None;
        for (rule, key) in [("call", &call), ("module", &wide)] {
            let state = state_at(l, &idm::policy_key(key), h)?;
            if let Some(v) = value_of(&state)? {
                let p = idm::Policy::decode_exact(&v).map_err(|e| corrupt("policy", e.message))?;
                return Ok(Json(PolicyView {
                    call: call.clone(),
                    mode: "certificate".into(),
                    roles: p.roles,
                    rule: rule.into(),
                    policy: Some(key.clone()),
                    state,
                }));
            }
            last = Some(state);
        }
        Ok(Json(PolicyView {
            call,
            mode: "certificate".into(),
            roles: idm::DEFAULT_ROLES.iter().map(|r| r.to_string()).collect(),
            rule: "default".into(),
            policy: None,
            state: last.ok_or_else(|| ApiError::internal("no policy read"))?,
        }))
    })
    .await
}

/// Most proposals in one `/v1/identity/proposals` page.
pub const MAX_PROPOSALS_PAGE: u64 = 100;
/// Page size when `limit` is absent.
pub const DEFAULT_PROPOSALS_PAGE: u64 = 20;

fn parse_proposal_id(s: &str) -> Result<u64, ApiError> {
    s.parse().map_err(|_| {
        ApiError::code(
            codes::BAD_PATH,
            "proposal id must be a non-negative integer",
        )
    })
}

/// The proposal stored under `id` with its proof at `height` (`None` when absent).
fn proposal_at(l: &Ledger, id: u64, height: Option<u64>) -> Result<Option<ProposalView>, ApiError> {
    use meridian_identity_module as idm;
    let state = state_at(l, &idm::governance::proposal_key(id), height)?;
    let Some(raw) = value_of(&state)? else {
        return Ok(None);
    };
    let p: idm::Proposal =
        meridian_types::decode_exact(&raw).map_err(|e| corrupt("proposal", e))?;
    Ok(Some(ProposalView {
        proposal: ProposalInfo::from(&p),
        state,
    }))
}

pub(crate) async fn identity_proposal(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<ProposalView> {
    let id = parse_proposal_id(&id)?;
    read(&s, move |l| {
        let height = q.height.unwrap_or_else(|| l.finalized_height());
        proposal_at(l, id, q.height)?.map(Json).ok_or_else(|| {
            ApiError::code(
                codes::NO_PROPOSAL,
                format!("no governance proposal {id} at height {height}"),
            )
        })
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct ProposalsQuery {
    from: Option<u64>,
    limit: Option<u64>,
    height: Option<u64>,
}

pub(crate) async fn identity_proposals(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ProposalsQuery>,
) -> ApiResult<ProposalsView> {
    use meridian_identity_module as idm;
    let limit = q.limit.unwrap_or(DEFAULT_PROPOSALS_PAGE);
    if limit == 0 || limit > MAX_PROPOSALS_PAGE {
        return Err(ApiError::code(
            codes::BAD_QUERY,
            format!("limit must be 1..={MAX_PROPOSALS_PAGE}"),
        ));
    }
    let from = q.from.unwrap_or(1).max(1);
    read(&s, move |l| {
        let state = state_at(l, &idm::governance::next_proposal_key(), q.height)?;
        let next_id = match value_of(&state)? {
            None => 1,
            Some(v) => <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("next proposal id", "not 8 bytes"))?,
        };
        let end = next_id.min(from.saturating_add(limit));
        let mut proposals = Vec::new();
        for id in from..end {
            // Proposals are never deleted: every id below `next_id` is present.
            if let Some(p) = proposal_at(l, id, Some(state.height))? {
                proposals.push(p);
            }
        }
        Ok(Json(ProposalsView {
            next_id,
            proposals,
            state,
        }))
    })
    .await
}

/// A contract name as the `contract` module accepts it.
fn parse_contract_name(s: &str) -> Result<String, ApiError> {
    meridian_contract::check_name(s)
        .map(|()| s.to_string())
        .map_err(|e| ApiError::code(meridian_contract::codes::BAD_NAME, e.message))
}

pub(crate) async fn contract_info(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<ContractView> {
    let name = parse_contract_name(&name)?;
    read(&s, move |l| {
        let state = state_at(l, &meridian_contract::meta_key(&name), q.height)?;
        let Some(raw) = value_of(&state)? else {
            return Err(ApiError::code(
                meridian_contract::codes::NOT_FOUND,
                format!(
                    "no contract named {name} at height {} (GET /v1/state/{} proves it)",
                    state.height, state.key
                ),
            ));
        };
        let meta: meridian_contract::ContractMeta =
            meridian_types::decode_exact(&raw).map_err(|e| corrupt("contract meta", e))?;
        let at = Some(state.height);
        let frozen = state_at(l, &meridian_contract::frozen_key(&name), at)?
            .value
            .is_some();
        let approved = value_of(&state_at(
            l,
            &meridian_contract::approved_upgrade_key(&name),
            at,
        )?)?;
        let address = meridian_contract::contract_address(&l.hasher(), &name);
        Ok(Json(ContractView {
            contract: ContractInfo::new(&name, &meta, &address, frozen, approved.as_deref()),
            state,
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryBody {
    /// Any JSON value; its JSON text is the contract's message.
    msg: serde_json::Value,
    fuel: Option<u64>,
}

pub(crate) async fn contract_query(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<QueryBody>,
) -> ApiResult<ContractQueryView> {
    use meridian_contract::codes as c;
    let name = parse_contract_name(&name)?;
    let cap = s.inner.options.max_query_fuel;
    let fuel = body.fuel.unwrap_or(cap);
    if fuel == 0 || fuel > cap {
        return Err(ApiError::code(
            c::BAD_FUEL,
            format!("fuel must be 1..={cap} (this node's query cap)"),
        ));
    }
    let msg = body.msg.to_string().into_bytes();
    read(&s, move |l| {
        let (height, out) = l
            .contract_query(&name, &msg, fuel)
            .map_err(ApiError::internal)?;
        match out.result {
            Ok(data) => Ok(Json(ContractQueryView {
                contract: name,
                height,
                gas_used: out.fuel_used,
                result: query_result(&data),
            })),
            Err(e) => {
                let code = e.code().into_owned();
                let text = e.to_string();
                // Host and contract errors display as "<code>: <message>"; the code has its
                // own field.
                let text = text.strip_prefix(&format!("{code}: ")).unwrap_or(&text);
                Err(ApiError::contract_run(
                    &code,
                    format!("{text} (height {height}, gas_used {})", out.fuel_used),
                ))
            }
        }
    })
    .await
}

/// Decodes the genesis `chain/validators` value: count, then (name, public key) pairs.
fn decode_validators(l: &Ledger, raw: &[u8]) -> Result<Vec<ValidatorView>, ApiError> {
    let mut r = Reader::new(raw);
    let bad = |e| corrupt("validator set", e);
    let n = r.len(1 << 16, "validators").map_err(bad)?;
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let name = r.string(1024, "validator.name").map_err(bad)?;
        let key = r
            .bytes(meridian_types::MAX_PUBLIC_KEY_LEN, "validator.key")
            .map_err(bad)?;
        out.push(ValidatorView {
            name,
            address: l.address_of(&key).to_string(),
            public_key: hex::encode(key),
        });
    }
    r.finish().map_err(bad)?;
    Ok(out)
}

pub(crate) async fn validators(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<HeightQuery>,
) -> ApiResult<ValidatorsView> {
    read(&s, move |l| {
        let state = state_at(l, GENESIS_KEYS[1].as_bytes(), q.height)?;
        let raw = value_of(&state)?
            .ok_or_else(|| ApiError::internal("the validator set is missing from the state"))?;
        Ok(Json(ValidatorsView {
            validators: decode_validators(l, &raw)?,
            state,
        }))
    })
    .await
}

/// Public keys (hex) that the p2p layer reports connected, from the runtime's Prometheus
/// text: commonware's tracker exports `..._directory_connected{peer="<hex key>"}` per peer.
pub(crate) fn connected_keys(runtime_metrics: &str) -> HashSet<String> {
    runtime_metrics
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("directory_connected{"))
        .filter_map(|l| {
            let start = l.find("peer=\"")? + 6;
            let end = start + l[start..].find('"')?;
            Some(l[start..end].to_ascii_lowercase())
        })
        .collect()
}

pub(crate) fn peers_view(s: &AppState) -> PeersView {
    let connected = s
        .inner
        .runtime_metrics
        .as_ref()
        .map(|f| connected_keys(&f()));
    let peers: Vec<PeerView> = s
        .inner
        .peers
        .iter()
        .map(|p| PeerView {
            name: p.name.clone(),
            public_key: p.public_key.clone(),
            address: p.address.clone(),
            is_self: p.is_self,
            connected: match &connected {
                Some(set) if !p.is_self => Some(set.contains(&p.public_key.to_ascii_lowercase())),
                _ => None,
            },
        })
        .collect();
    PeersView {
        configured: peers.iter().filter(|p| !p.is_self).count(),
        connected: connected
            .as_ref()
            .map(|_| peers.iter().filter(|p| p.connected == Some(true)).count()),
        peers,
    }
}

pub(crate) async fn peers(State(s): State<AppState>) -> Json<PeersView> {
    Json(peers_view(&s))
}

pub(crate) async fn events(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last_id = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::code(codes::BAD_FILTER, "Last-Event-ID is not ASCII"))?,
        ),
    };
    let slot = StreamSlot::acquire(&s.inner.streams, s.inner.options.max_event_streams)
        .ok_or_else(|| {
            ApiError::code(
                codes::TOO_MANY_STREAMS,
                format!(
                    "this node serves at most {} event streams; retry later",
                    s.inner.options.max_event_streams
                ),
            )
        })?;
    Ok(events::stream(s.ledger().clone(), &q, last_id, slot)?.into_response())
}

pub(crate) async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    let node = read(&s, |l| {
        Ok(l.metrics().render(l.finalized_height(), l.mempool_len()))
    })
    .await?;
    let mut text = node;
    let peers = peers_view(&s);
    crate::metrics::render_api(&mut text, &s, &peers);
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

pub(crate) async fn openapi(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.inner.openapi.clone(),
    )
        .into_response()
}

pub(crate) async fn no_route() -> ApiError {
    ApiError::code(codes::NO_ROUTE, "no route has this path; see /openapi.json")
}
