//! `GET /v1/events`: Server-Sent Events of finalized blocks and receipt events.
//!
//! A stream replays from storage (`from_height`, or the `Last-Event-ID` a reconnecting
//! browser sends) and then follows the chain live, woken by `Ledger::finalize` rather than by
//! polling. Memory per connection is bounded: one block's transaction hashes plus at most
//! [`MAX_QUEUED`] (+ one transaction's worth of) events; storage reads run on the blocking
//! pool in chunks of [`CHUNK_TXS`]. Event ids are `H` for a block and `H/T/E` for event `E` of
//! transaction `T` in block `H`, so a resumed stream continues exactly after the last id.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use meridian_bank::BankEvent;
use meridian_node::Ledger;
use meridian_notary::Notarized;
use meridian_types::{Address, Event, Hash32};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{codes, ApiError};
use crate::views::EventView;

/// Transactions whose receipts one blocking read handles.
pub const CHUNK_TXS: usize = 256;
/// Events buffered per connection before the stream stops reading ahead.
pub const MAX_QUEUED: usize = 128;
/// Most values in one comma-separated filter.
pub const MAX_FILTER_VALUES: usize = 16;
/// Keep-alive comment interval (also how fast a vanished client is noticed).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A decoded event: JSON view plus every address it names.
pub fn decode_event(e: &Event) -> Option<(Value, Vec<Address>)> {
    let a = |x: &Address| x.to_string();
    match e.module.as_str() {
        meridian_bank::NAME => Some(match BankEvent::decode(&e.kind, &e.data).ok()? {
            BankEvent::AssetCreated {
                symbol,
                issuer,
                decimals,
                max_supply,
            } => (
                json!({"symbol": symbol, "issuer": a(&issuer), "decimals": decimals,
                       "max_supply": max_supply.to_string()}),
                vec![issuer],
            ),
            BankEvent::Minted { symbol, to, amount } => (
                json!({"symbol": symbol, "to": a(&to), "amount": amount.to_string()}),
                vec![to],
            ),
            BankEvent::Transferred {
                symbol,
                from,
                to,
                amount,
            } => (
                json!({"symbol": symbol, "from": a(&from), "to": a(&to),
                       "amount": amount.to_string()}),
                vec![from, to],
            ),
            BankEvent::Burned {
                symbol,
                from,
                amount,
            } => (
                json!({"symbol": symbol, "from": a(&from), "amount": amount.to_string()}),
                vec![from],
            ),
        }),
        meridian_notary::NAME if e.kind == Notarized::KIND => {
            let n = Notarized::decode(&e.data).ok()?;
            Some((
                json!({"doc_hash": hex::encode(n.doc_hash), "owner": a(&n.owner),
                       "timestamp_ms": n.timestamp_ms}),
                vec![n.owner],
            ))
        }
        meridian_identity_module::MODULE => {
            use meridian_identity_module::IdentityEvent as E;
            let v = match meridian_identity_module::decode_event(&e.kind, &e.data)? {
                E::MemberRegistered {
                    org,
                    role,
                    name,
                    cert_id,
                    rotated,
                } => json!({"org": org, "role": role, "name": name,
                            "cert_id": hex::encode(cert_id), "rotated": rotated}),
                E::CertRevoked { ca_id, serial } => {
                    json!({"ca_id": hex::encode(ca_id), "serial": hex::encode(serial)})
                }
                E::ProposalCreated {
                    id,
                    org,
                    deadline_height,
                } => json!({"id": id, "org": org, "deadline_height": deadline_height}),
                E::Voted { id, org, approve } => {
                    json!({"id": id, "org": org, "approve": approve})
                }
                E::ProposalExecuted { id } | E::ProposalRejected { id } => json!({"id": id}),
                E::ProposalFailed { id, code, reason } => {
                    json!({"id": id, "code": code, "reason": reason})
                }
                E::ValidatorAdded { name, public_key } => {
                    json!({"name": name, "public_key": hex::encode(public_key)})
                }
                E::ValidatorRemoved { public_key } => {
                    json!({"public_key": hex::encode(public_key)})
                }
                E::ValidatorReplaced { old_key, new_key } => {
                    json!({"old_key": hex::encode(old_key), "new_key": hex::encode(new_key)})
                }
                E::ParamSet { name, value } => json!({"name": name, "value": value}),
                E::ContractFrozen { name, frozen } => json!({"name": name, "frozen": frozen}),
                E::ContractUpgradeApproved { name, code_hash } => {
                    json!({"name": name, "code_hash": hex::encode(code_hash)})
                }
                E::CallApproved {
                    module,
                    method,
                    args_hash,
                } => json!({"module": module, "method": method,
                            "args_hash": hex::encode(args_hash)}),
                // Events added to the module after this build stay undecoded.
                #[allow(unreachable_patterns)]
                _ => return None,
            };
            Some((v, Vec::new()))
        }
        meridian_contract::NAME => decode_contract_event(&e.kind, &e.data),
        _ => None,
    }
}

/// Events of the `contract` module: its own (`code_stored`: the code hash; `deployed`,
/// `upgraded`: the contract name) and those contracts emit (kind `<contract>.<kind>`, data
/// the contract's — JSON for SDK contracts), decoded when the data is a JSON object. The
/// addresses of a contract event are the `0x…` strings among its top-level values.
fn decode_contract_event(kind: &str, data: &[u8]) -> Option<(Value, Vec<Address>)> {
    match kind {
        "code_stored" => {
            let h: [u8; 32] = data.try_into().ok()?;
            Some((json!({"code_hash": hex::encode(h)}), Vec::new()))
        }
        "deployed" | "upgraded" => {
            let name = std::str::from_utf8(data).ok()?;
            Some((json!({"name": name}), Vec::new()))
        }
        _ if kind.contains('.') => {
            let v: Value = serde_json::from_slice(data).ok()?;
            let addresses = v
                .as_object()?
                .values()
                .filter_map(|x| Address::from_hex(x.as_str()?).ok())
                .collect();
            Some((v, addresses))
        }
        _ => None,
    }
}

/// Query of `/v1/events`.
#[derive(Deserialize, Default)]
pub(crate) struct EventsQuery {
    from_height: Option<u64>,
    /// End the stream once block `to_height` and all its events were sent (a bounded read of
    /// history, e.g. a relayer's scan up to the tip it saw).
    to_height: Option<u64>,
    module: Option<String>,
    kind: Option<String>,
    address: Option<String>,
    blocks: Option<bool>,
}

/// What a client asked to see.
#[derive(Default)]
struct Filter {
    modules: Vec<String>,
    kinds: Vec<String>,
    addresses: Vec<Address>,
    blocks: bool,
}

fn names(v: Option<&str>, what: &str) -> Result<Vec<String>, ApiError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let out: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
    let ok = |s: &String| {
        !s.is_empty()
            && s.len() <= meridian_types::MAX_NAME_LEN
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
    };
    if out.len() > MAX_FILTER_VALUES || !out.iter().all(ok) {
        return Err(ApiError::code(
            codes::BAD_FILTER,
            format!("{what} must be up to {MAX_FILTER_VALUES} comma-separated names of [a-z0-9_.]"),
        ));
    }
    Ok(out)
}

impl Filter {
    fn parse(q: &EventsQuery) -> Result<Self, ApiError> {
        let mut addresses = Vec::new();
        if let Some(a) = &q.address {
            for s in a.split(',') {
                addresses.push(Address::from_hex(s.trim()).map_err(|_| {
                    ApiError::code(
                        codes::BAD_ADDRESS,
                        "address must be 20 bytes of hex (comma-separated for several)",
                    )
                })?);
            }
            if addresses.len() > MAX_FILTER_VALUES {
                return Err(ApiError::code(
                    codes::BAD_FILTER,
                    format!("at most {MAX_FILTER_VALUES} addresses"),
                ));
            }
        }
        Ok(Self {
            modules: names(q.module.as_deref(), "module")?,
            kinds: names(q.kind.as_deref(), "kind")?,
            addresses,
            blocks: q.blocks.unwrap_or(true),
        })
    }

    fn matches(&self, sender: &Address, e: &Event, named: &[Address]) -> bool {
        (self.modules.is_empty() || self.modules.contains(&e.module))
            && (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && (self.addresses.is_empty()
                || self
                    .addresses
                    .iter()
                    .any(|a| a == sender || named.contains(a)))
    }
}

/// Where a resumed stream continues inside its first block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resume {
    height: u64,
    /// `(tx, event)` of the last delivered event; `None` when only the block event was.
    after: Option<(usize, usize)>,
}

fn parse_last_event_id(s: &str) -> Result<Resume, ApiError> {
    let bad = || {
        ApiError::code(
            codes::BAD_FILTER,
            "Last-Event-ID must be H or H/T/E as sent in an event id",
        )
    };
    let parts: Vec<&str> = s.trim().split('/').collect();
    let num = |p: &str| p.parse::<u64>().map_err(|_| bad());
    match parts.as_slice() {
        [h] => Ok(Resume {
            height: num(h)?,
            after: None,
        }),
        [h, t, e] => Ok(Resume {
            height: num(h)?,
            after: Some((num(t)? as usize, num(e)? as usize)),
        }),
        _ => Err(bad()),
    }
}

/// Payload of a `block` event.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BlockEventView {
    pub height: u64,
    pub hash: String,
    pub parent: String,
    pub timestamp_ms: u64,
    pub tx_count: usize,
    pub state_root: String,
}

/// Payload of an `event` event (one receipt event).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ChainEventView {
    pub height: u64,
    pub tx_hash: String,
    pub tx_index: u32,
    pub event_index: u32,
    pub sender: String,
    #[serde(flatten)]
    pub event: EventView,
}

/// Counts open streams; the slot is released when the stream (connection) is dropped.
pub(crate) struct StreamSlot(Arc<AtomicUsize>);

impl StreamSlot {
    pub(crate) fn acquire(count: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamSlot(count.clone()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Block {
    height: u64,
    tx_hashes: Vec<Hash32>,
    next_tx: usize,
}

struct Cursor {
    ledger: Arc<Ledger>,
    filter: Arc<Filter>,
    height: u64,
    block: Option<Block>,
    queue: VecDeque<SseEvent>,
    resume: Option<Resume>,
    to_height: Option<u64>,
    _slot: StreamSlot,
}

fn sse<T: Serialize>(kind: &str, id: String, data: &T) -> SseEvent {
    SseEvent::default()
        .event(kind)
        .id(id)
        .data(serde_json::to_string(data).unwrap_or_default())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// A block's event (if wanted) and its transaction hashes.
type Loaded = (Option<SseEvent>, Vec<Hash32>);

/// Loads block `height`: its block event (if wanted) and its transaction hashes.
fn load_block(
    ledger: &Ledger,
    height: u64,
    filter: &Filter,
    skip_block_event: bool,
) -> Result<Option<Loaded>, String> {
    let Some(b) = ledger.block(height).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let h = ledger.hasher();
    let hashes: Vec<Hash32> = b.txs.iter().map(|t| t.hash(&h)).collect();
    let ev = (filter.blocks && !skip_block_event).then(|| {
        sse(
            "block",
            height.to_string(),
            &BlockEventView {
                height,
                hash: hex::encode(b.hash(&h)),
                parent: hex::encode(b.header.parent),
                timestamp_ms: b.header.timestamp_ms,
                tx_count: b.txs.len(),
                state_root: hex::encode(b.header.state_root),
            },
        )
    });
    Ok(Some((ev, hashes)))
}

/// Reads receipts of `block.tx_hashes[next_tx..]` until a chunk is done or enough events wait.
fn read_chunk(
    ledger: &Ledger,
    filter: &Filter,
    mut block: Block,
    resume: Option<Resume>,
) -> Result<(Block, Vec<SseEvent>), String> {
    let mut out = Vec::new();
    let end = (block.next_tx + CHUNK_TXS).min(block.tx_hashes.len());
    while block.next_tx < end && out.len() < MAX_QUEUED {
        let t = block.next_tx;
        block.next_tx += 1;
        let Some(r) = ledger
            .receipt(&block.tx_hashes[t])
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        for (i, e) in r.events.iter().enumerate() {
            if let Some(Resume {
                height,
                after: Some(after),
            }) = resume
            {
                if height == block.height && (t, i) <= after {
                    continue;
                }
            }
            let decoded = decode_event(e);
            let named = decoded.as_ref().map_or(&[][..], |d| &d.1[..]);
            if !filter.matches(&r.sender, e, named) {
                continue;
            }
            let view = ChainEventView {
                height: block.height,
                tx_hash: hex::encode(block.tx_hashes[t]),
                tx_index: r.index,
                event_index: i as u32,
                sender: r.sender.to_string(),
                event: EventView {
                    module: e.module.clone(),
                    kind: e.kind.clone(),
                    data: hex::encode(&e.data),
                    decoded: decoded.map(|d| d.0),
                },
            };
            out.push(sse("event", format!("{}/{t}/{i}", block.height), &view));
        }
    }
    Ok((block, out))
}

impl Cursor {
    /// The next SSE event, waiting for new blocks when caught up; `None` ends the stream.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Some(ev);
            }
            if let Some(block) = self.block.take() {
                if block.next_tx >= block.tx_hashes.len() {
                    self.height += 1;
                    self.resume = None;
                    continue;
                }
                let (l, f, r) = (self.ledger.clone(), self.filter.clone(), self.resume);
                match blocking(move || read_chunk(&l, &f, block, r)).await? {
                    Ok((block, events)) => {
                        self.block = Some(block);
                        self.queue.extend(events);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "event stream stopped on a storage error");
                        return None;
                    }
                }
                continue;
            }
            let height = self.height;
            if self.to_height.is_some_and(|to| height > to) {
                return None;
            }
            if height > self.ledger.finalized_height() {
                // height >= 1 here: the finalized height is at least 0.
                self.ledger.finalized_above(height - 1).await;
                continue;
            }
            let skip = self.resume.is_some_and(|r| r.height == height);
            let (l, f) = (self.ledger.clone(), self.filter.clone());
            match blocking(move || load_block(&l, height, &f, skip)).await? {
                Ok(Some((ev, tx_hashes))) => {
                    self.queue.extend(ev);
                    self.block = Some(Block {
                        height,
                        tx_hashes,
                        next_tx: 0,
                    });
                }
                Ok(None) => {
                    // Finalized height moved ahead of the block read; try again shortly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event stream stopped on a storage error");
                    return None;
                }
            }
        }
    }
}

/// Builds the SSE response (the handler checks the stream limit first).
pub(crate) fn stream(
    ledger: Arc<Ledger>,
    q: &EventsQuery,
    last_event_id: Option<&str>,
    slot: StreamSlot,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static>, ApiError> {
    let filter = Filter::parse(q)?;
    let resume = last_event_id.map(parse_last_event_id).transpose()?;
    let height = match (resume, q.from_height) {
        (Some(r), _) => r.height,
        (None, Some(h)) => h,
        (None, None) => ledger.finalized_height() + 1,
    };
    if q.to_height.is_some_and(|to| to < height) {
        return Err(ApiError::code(
            codes::BAD_FILTER,
            format!("to_height must be at least the starting height {height}"),
        ));
    }
    let cursor = Cursor {
        ledger,
        filter: Arc::new(filter),
        height,
        block: None,
        queue: VecDeque::new(),
        resume,
        to_height: q.to_height,
        _slot: slot,
    };
    let s = futures::stream::unfold(cursor, |mut c| async move {
        let ev = c.next().await?;
        Some((Ok::<_, Infallible>(ev), c))
    });
    Ok(Sse::new(s).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_event_id_forms() {
        assert_eq!(
            parse_last_event_id("7").unwrap(),
            Resume {
                height: 7,
                after: None
            }
        );
        assert_eq!(
            parse_last_event_id("7/2/0").unwrap(),
            Resume {
                height: 7,
                after: Some((2, 0))
            }
        );
        for bad in ["", "x", "1/2", "1/2/3/4", "-1"] {
            assert_eq!(
                parse_last_event_id(bad).unwrap_err().error_code(),
                codes::BAD_FILTER
            );
        }
    }

    /// Every identity event kind decodes (none is left as raw data), `call_approved` with its
    /// fields.
    #[test]
    fn identity_events_decode() {
        use meridian_identity_module::IdentityEvent as E;
        use meridian_types::Encode as _;
        let key = vec![2; 33];
        let all = [
            E::MemberRegistered {
                org: "org1".into(),
                role: "member".into(),
                name: "alice".into(),
                cert_id: [1; 32],
                rotated: false,
            },
            E::CertRevoked {
                ca_id: [1; 32],
                serial: vec![3],
            },
            E::ProposalCreated {
                id: 1,
                org: "org1".into(),
                deadline_height: 9,
            },
            E::Voted {
                id: 1,
                org: "org1".into(),
                approve: true,
            },
            E::ProposalExecuted { id: 1 },
            E::ProposalRejected { id: 1 },
            E::ProposalFailed {
                id: 1,
                code: "x.y".into(),
                reason: "gone".into(),
            },
            E::ValidatorAdded {
                name: "v".into(),
                public_key: key.clone(),
            },
            E::ValidatorRemoved {
                public_key: key.clone(),
            },
            E::ValidatorReplaced {
                old_key: key.clone(),
                new_key: key,
            },
            E::ParamSet {
                name: "p".into(),
                value: 1,
            },
            E::ContractFrozen {
                name: "c".into(),
                frozen: true,
            },
            E::ContractUpgradeApproved {
                name: "c".into(),
                code_hash: [1; 32],
            },
            E::CallApproved {
                module: "interop".into(),
                method: "create_client".into(),
                args_hash: [0xab; 32],
            },
        ];
        let kinds: Vec<&str> = all.iter().map(E::kind).collect();
        assert_eq!(kinds, meridian_identity_module::EVENT_KINDS);
        for ev in all {
            let e = Event {
                module: meridian_identity_module::MODULE.into(),
                kind: ev.kind().into(),
                data: ev.encode(),
            };
            let (v, _) = decode_event(&e).unwrap_or_else(|| panic!("{} not decoded", ev.kind()));
            if ev.kind() == "call_approved" {
                assert_eq!(
                    v,
                    json!({"module": "interop", "method": "create_client",
                           "args_hash": "ab".repeat(32)})
                );
            }
        }
    }

    #[test]
    fn approve_call_action_renders() {
        let a = meridian_identity_module::Action::ApproveCall {
            module: "interop".into(),
            method: "conn_open_init".into(),
            args_hash: [7; 32],
        };
        let v = crate::views::action_json(&a);
        assert_eq!(
            v,
            json!({"kind": "approve_call", "module": "interop", "method": "conn_open_init",
                   "args_hash": "07".repeat(32)})
        );
        assert!(crate::views::ACTION_KINDS.contains(&"approve_call"));
    }

    #[test]
    fn filters_validate() {
        let q = EventsQuery {
            module: Some("bank,notary".into()),
            kind: Some("Transferred".into()),
            ..Default::default()
        };
        assert_eq!(
            Filter::parse(&q).err().unwrap().error_code(),
            codes::BAD_FILTER
        );
        let q = EventsQuery {
            address: Some("0x12".into()),
            ..Default::default()
        };
        assert_eq!(
            Filter::parse(&q).err().unwrap().error_code(),
            codes::BAD_ADDRESS
        );
    }
}
