//! One chain as the relayer sees it: a node's API, the relayer's own fee-payer key on that
//! chain, and the interop identifiers of the path on this side.

use std::time::Duration;

use meridian_client::{Client, ClientError, EventFilter, StreamItem, Wallet};
use meridian_interop::client::decode_client;
use meridian_interop::{
    paths, ChannelEnd, ClientState, HeaderUpdate, Ordering, SignedHeader, ValidatorSetProof,
};
use meridian_interop_module::{InteropCall, InteropEvent};
use meridian_types::{decode_exact, Header, ValidatorSet, VALIDATORS_KEY};

use crate::{RelayerError, Result};

/// Most transactions in one `POST /v1/txs/batch`.
const MAX_BATCH_TXS: usize = 512;

/// Most keys in one `POST /v1/state/batch`.
const MAX_STATE_KEYS: usize = 256;

/// Budget of one `relay` transaction: argument bytes (the call limit less room for the
/// envelope) and events (the per-transaction limit less the `relayed` summary), so that
/// every message fits. A message over its estimate is refused alone and relayed next step.
const RELAY_ARGS_BUDGET: usize = meridian_types::MAX_CALL_ARGS_LEN - 512;
const RELAY_EVENTS_BUDGET: usize = meridian_types::MAX_EVENTS_PER_TX - 4;

/// Events a relayed message may emit (an update one; a receive its own two and the
/// application's; an acknowledgement or timeout its own and a refund's).
fn estimated_events(call: &InteropCall) -> usize {
    match call {
        InteropCall::UpdateClient { .. } => 1,
        InteropCall::RecvPacket { .. } => 4,
        _ => 3,
    }
}

/// Packs relayer messages, in order, into as few `relay` calls as the budgets allow.
fn pack_relay(calls: Vec<InteropCall>) -> Vec<Vec<InteropCall>> {
    let mut out: Vec<Vec<InteropCall>> = Vec::new();
    let (mut bytes, mut events) = (0, 0);
    for call in calls {
        let size = call.method().len() + call.args().len() + 16;
        let ev = estimated_events(&call);
        let full = out.last().is_none_or(|last| {
            last.len() >= meridian_interop_module::relay::MAX_RELAY_MESSAGES
                || bytes + size > RELAY_ARGS_BUDGET
                || events + ev > RELAY_EVENTS_BUDGET
        });
        if full {
            out.push(Vec::new());
            (bytes, events) = (0, 0);
        }
        bytes += size;
        events += ev;
        out.last_mut().expect("pushed above").push(call);
    }
    out
}

/// How long to wait for a submitted transaction to be final.
const COMMIT_WAIT: Duration = Duration::from_secs(60);

/// One side of a path.
pub struct Endpoint {
    /// A name for logs, metrics and the state file (e.g. the chain id).
    pub name: String,
    pub client: Client,
    /// The relayer's fee-payer key on this chain (`None`: read-only end, e.g. the source of a
    /// one-off state proof).
    pub wallet: Option<Wallet>,
    /// The light client on this chain that tracks the other chain.
    pub client_id: String,
}

impl Endpoint {
    fn err(&self, source: ClientError) -> RelayerError {
        RelayerError::Client {
            chain: self.name.clone(),
            source,
        }
    }

    /// Signs `call` with the next nonce.
    fn build_tx(&mut self, call: meridian_types::Call) -> Result<meridian_types::SignedTx> {
        self.build_batch(vec![call])?
            .pop()
            .ok_or_else(|| RelayerError::Protocol(format!("{}: nothing signed", self.name)))
    }

    /// Signs `calls` with consecutive nonces (one status read for the whole batch: per-tx
    /// reads cost a round trip each, and over a slow link the first transactions of a large
    /// batch expired before the last was signed). Fields are borrowed apart: the wallet
    /// mutably, the client not.
    fn build_batch(
        &mut self,
        calls: Vec<meridian_types::Call>,
    ) -> Result<Vec<meridian_types::SignedTx>> {
        let Endpoint {
            name,
            client,
            wallet,
            ..
        } = self;
        let wallet = wallet
            .as_mut()
            .ok_or_else(|| RelayerError::Protocol(format!("{name}: no key to sign with")))?;
        wallet
            .build_batch(client, calls)
            .map_err(|e| RelayerError::Client {
                chain: name.clone(),
                source: e,
            })
    }

    fn reset_nonce(&mut self) {
        if let Some(w) = self.wallet.as_mut() {
            w.reset_nonce();
        }
    }

    pub(crate) fn status(&self) -> Result<Tip> {
        let b = self.client.latest_header().map_err(|e| self.err(e))?;
        Ok(Tip {
            height: b.height,
            time_ms: b.timestamp_ms,
        })
    }

    pub(crate) fn latest_time_ms(&self) -> Result<u64> {
        Ok(self.status()?.time_ms)
    }

    fn value(&self, key: &[u8], height: Option<u64>) -> Result<Option<Vec<u8>>> {
        let v = self.client.state(key, height).map_err(|e| self.err(e))?;
        Ok(v.value)
    }

    /// The encoded proof of `key` (present or absent) at `height`.
    pub fn proof(&self, key: &[u8], height: u64) -> Result<Vec<u8>> {
        let v = self
            .client
            .state_view(key, Some(height))
            .map_err(|e| self.err(e))?;
        hex::decode(&v.proof).map_err(|_| RelayerError::Protocol("proof is not hex".into()))
    }

    /// The values of `keys` at one height (the latest unless given), in requests of
    /// [`MAX_STATE_KEYS`] made concurrently; returns the height read at.
    ///
    /// Without proofs: the node's word is enough to decide what is pending (a wrong answer
    /// costs a refused delivery or a delay, never a forgery: the other chain checks the
    /// proofs it is given), and proofs were most of the cost of these reads.
    pub(crate) fn values(
        &self,
        keys: &[Vec<u8>],
        height: Option<u64>,
    ) -> Result<(u64, Vec<Option<Vec<u8>>>)> {
        self.read_chunked(keys, height, |c, h| self.client.state_values(c, h))
    }

    /// The encoded proofs (present or absent) of `keys` at `height`, each checked against the
    /// header at `height` (in concurrent requests of [`MAX_STATE_KEYS`]).
    pub fn proofs(&self, keys: &[Vec<u8>], height: u64) -> Result<Vec<Vec<u8>>> {
        let (_, items) = self.read_chunked(keys, Some(height), |c, h| {
            self.client.states(c, h).map(|v| (v.height, v.items))
        })?;
        Ok(items.into_iter().map(|(_, p)| p).collect())
    }

    /// `read` over `keys` in requests of [`MAX_STATE_KEYS`]: the first fixes the height when
    /// none is given, the rest read at it concurrently. Returns the height and the results
    /// in key order.
    fn read_chunked<T: Send>(
        &self,
        keys: &[Vec<u8>],
        height: Option<u64>,
        read: impl Fn(&[Vec<u8>], Option<u64>) -> meridian_client::Result<(u64, Vec<T>)> + Sync,
    ) -> Result<(u64, Vec<T>)> {
        let Some(first) = keys.chunks(MAX_STATE_KEYS).next() else {
            return Ok((height.unwrap_or(0), Vec::new()));
        };
        let (at, mut out) = read(first, height).map_err(|e| self.err(e))?;
        let chunks: Vec<&[Vec<u8>]> = keys.chunks(MAX_STATE_KEYS).skip(1).collect();
        let rest = crate::par_map(&chunks, |c| {
            Ok(read(c, Some(at)).map_err(|e| self.err(e))?.1)
        })?;
        out.extend(rest.into_iter().flatten());
        Ok((at, out))
    }

    pub(crate) fn read_u64_at(&self, key: &[u8], height: u64) -> Result<u64> {
        match self.value(key, Some(height))? {
            None => Ok(0),
            Some(v) => v
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| RelayerError::Protocol("counter is not 8 bytes".into())),
        }
    }

    pub(crate) fn channel_end(&self, port: &str, channel: &str) -> Result<ChannelEnd> {
        let raw = self
            .value(&paths::channel(port, channel), None)?
            .ok_or_else(|| {
                RelayerError::Protocol(format!("{}: no channel {port}/{channel}", self.name))
            })?;
        decode_exact(&raw).map_err(|e| RelayerError::Protocol(format!("channel end: {e}")))
    }

    pub(crate) fn client_state(&self) -> Result<ClientState> {
        let raw = self
            .value(&paths::client(&self.client_id), None)?
            .ok_or_else(|| {
                RelayerError::Protocol(format!("{}: no client {}", self.name, self.client_id))
            })?;
        decode_client(&raw).map_err(|e| RelayerError::Protocol(e.to_string()))
    }

    /// The consensus state this chain's client stored for the counterparty's `height`.
    pub(crate) fn consensus_state(
        &self,
        height: u64,
    ) -> Result<Option<meridian_interop::ConsensusState>> {
        self.value(&paths::consensus(&self.client_id, height), None)?
            .map(|raw| {
                meridian_interop::client::decode_consensus(&raw)
                    .map_err(|e| RelayerError::Protocol(e.to_string()))
            })
            .transpose()
    }

    /// Interop events from height `from` to the current tip; returns the tip too.
    pub(crate) fn interop_events_since(&self, from: u64) -> Result<(u64, Vec<InteropEvent>)> {
        let tip = self.status()?.height;
        if from > tip {
            return Ok((tip, Vec::new()));
        }
        let filter = EventFilter {
            modules: vec![meridian_interop_module::NAME.to_string()],
            kinds: vec!["send_packet".into(), "write_ack".into()],
            addresses: Vec::new(),
            blocks: false,
        };
        // Bounded by the tip: the stream ends after the tip block's last event (stopping at
        // the tip's `block` item would lose the events that follow it in that block).
        let stream = self
            .client
            .events_between(&filter, from, tip)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in stream {
            if let StreamItem::Event(e) = item.map_err(|e| self.err(e))? {
                let data = hex::decode(&e.event.data)
                    .map_err(|_| RelayerError::Protocol("event data is not hex".into()))?;
                match InteropEvent::decode(&e.event.kind, &data) {
                    Ok(ev) => out.push(ev),
                    Err(err) => tracing::warn!("undecodable interop event: {err}"),
                }
            }
        }
        Ok((tip, out))
    }

    /// The finalized header at `height` with its certificate.
    pub fn signed_header(&self, height: u64) -> Result<SignedHeader> {
        let b = self.client.block(height).map_err(|e| self.err(e))?;
        let header: Header = decode_exact(
            &hex::decode(&b.header).map_err(|_| RelayerError::Protocol("header hex".into()))?,
        )
        .map_err(|e| RelayerError::Protocol(format!("header: {e}")))?;
        let certificate = hex::decode(&b.certificate)
            .map_err(|_| RelayerError::Protocol("certificate hex".into()))?;
        Ok(SignedHeader {
            header,
            certificate,
        })
    }

    /// The update for `height`: its header, plus the next set when it ends an epoch.
    pub fn header_update(&self, height: u64, epoch_blocks: u64) -> Result<HeaderUpdate> {
        let signed = self.signed_header(height)?;
        let next_validators = if (height + 1).is_multiple_of(epoch_blocks.max(1)) {
            let v = self
                .client
                .state_view(VALIDATORS_KEY, Some(height))
                .map_err(|e| self.err(e))?;
            let validators = v
                .value
                .as_deref()
                .map(hex::decode)
                .transpose()
                .map_err(|_| RelayerError::Protocol("value hex".into()))?
                .ok_or_else(|| RelayerError::Protocol("no validator set in state".into()))?;
            Some(ValidatorSetProof {
                validators,
                proof: hex::decode(&v.proof)
                    .map_err(|_| RelayerError::Protocol("proof hex".into()))?,
            })
        } else {
            None
        };
        Ok(HeaderUpdate {
            signed,
            next_validators,
        })
    }

    /// Signs and submits `calls` in order (consecutive nonces, one batch) and waits for each;
    /// returns each receipt's code (`ok` or the refusal).
    pub fn submit_all(&mut self, calls: Vec<InteropCall>) -> Result<Vec<String>> {
        let calls = calls.into_iter().map(InteropCall::into_call).collect();
        Ok(self
            .submit_calls(calls)?
            .into_iter()
            .map(|o| o.code)
            .collect())
    }

    /// Submits relayer messages (client updates, receives, acknowledgements, timeouts) packed
    /// into `relay` transactions, and waits for them; returns each message's outcome, in
    /// order (`ok` or the code it was refused with).
    pub fn submit_relayed(&mut self, messages: Vec<InteropCall>) -> Result<Vec<String>> {
        let packs = pack_relay(messages);
        let sizes: Vec<usize> = packs.iter().map(Vec::len).collect();
        let calls = packs
            .into_iter()
            .map(|messages| InteropCall::Relay { messages }.into_call())
            .collect();
        let outcomes = self.submit_calls(calls)?;
        let mut codes = Vec::with_capacity(sizes.iter().sum());
        for (n, o) in sizes.into_iter().zip(outcomes) {
            let per_message = (o.code == "ok")
                .then(|| {
                    o.events.iter().find_map(|e| match e {
                        InteropEvent::Relayed { outcomes } if outcomes.len() == n => {
                            Some(outcomes.clone())
                        }
                        _ => None,
                    })
                })
                .flatten();
            match per_message {
                Some(each) => codes.extend(each),
                None if o.code == "ok" => {
                    codes.extend(std::iter::repeat_n("relayer.no_relayed_event".into(), n))
                }
                // Refused whole: no message applied (or the transaction was not admitted).
                None => codes.extend(std::iter::repeat_n(o.code, n)),
            }
        }
        Ok(codes)
    }

    /// Signs and submits `calls` in order and waits for the last; returns each one's receipt
    /// code and interop events (a code alone when it was not admitted or is not final).
    fn submit_calls(&mut self, calls: Vec<meridian_types::Call>) -> Result<Vec<Outcome>> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let raws: Vec<Vec<u8>> = self
            .build_batch(calls)?
            .iter()
            .map(meridian_types::Encode::encode)
            .collect();
        // The API takes at most 512 transactions per request; nonces stay consecutive across
        // the requests, in order.
        let mut results = Vec::with_capacity(raws.len());
        for chunk in raws.chunks(MAX_BATCH_TXS) {
            match self.client.submit_batch(chunk) {
                Ok(v) => results.extend(v.results),
                Err(e) => {
                    self.reset_nonce();
                    return Err(self.err(e));
                }
            }
        }
        let rejected = results.iter().any(|r| r.hash.is_none());
        let submitted = std::time::Instant::now();
        // Wait for the last admitted one first: one sender's consecutive nonces, so once it is
        // final the others are too, and their receipts are read without waiting.
        if let Some(last) = results.iter().rev().find_map(|r| r.hash.as_deref()) {
            let mut h = [0u8; 32];
            if let Some(b) = hex::decode(last).ok().filter(|b| b.len() == 32) {
                h.copy_from_slice(&b);
                match self.client.wait_tx(&h, COMMIT_WAIT) {
                    Ok(_) | Err(ClientError::TxFailed { .. }) => {}
                    Err(e) => {
                        self.reset_nonce();
                        return Err(self.err(e));
                    }
                }
            }
        }
        let finalized = submitted.elapsed();
        // Every outcome in one request per 512: the last one is final, so are the others.
        let admitted: Vec<[u8; 32]> = results
            .iter()
            .filter_map(|r| r.hash.as_deref())
            .filter_map(|h| hex::decode(h).ok()?.try_into().ok())
            .collect();
        let mut told = Vec::with_capacity(admitted.len());
        for chunk in admitted.chunks(MAX_BATCH_TXS) {
            match self.client.tx_outcomes(chunk) {
                Ok(o) => told.extend(o),
                Err(e) => {
                    self.reset_nonce();
                    return Err(self.err(e));
                }
            }
        }
        let mut told = told.into_iter();
        let mut outcomes = Vec::with_capacity(results.len());
        for item in &results {
            if item.hash.is_none() {
                outcomes.push(Outcome {
                    code: item.code.clone(),
                    events: Vec::new(),
                });
                continue;
            }
            outcomes.push(match told.next() {
                Some(o) if o.status == "final" => Outcome {
                    code: o.code.unwrap_or_default(),
                    events: interop_events(&o.events),
                },
                Some(o) => Outcome {
                    code: format!("relayer.not_final_{}", o.status),
                    events: Vec::new(),
                },
                None => Outcome {
                    code: "relayer.bad_hash".to_string(),
                    events: Vec::new(),
                },
            });
        }
        tracing::debug!(
            chain = %self.name,
            txs = results.len(),
            final_ms = finalized.as_millis() as u64,
            receipts_ms = (submitted.elapsed() - finalized).as_millis() as u64,
            "submit timing"
        );
        if rejected {
            // An admission refusal leaves a nonce gap: ask the node again next time.
            self.reset_nonce();
        }
        Ok(outcomes)
    }

    /// Submits `calls` and requires every one to succeed; returns the receipts' interop events.
    pub fn submit_ok(&mut self, calls: Vec<InteropCall>) -> Result<Vec<InteropEvent>> {
        let mut events = Vec::new();
        for c in calls {
            let method = c.method();
            let tx = self.build_tx(c.into_call())?;
            let done = match self.client.commit(&tx, COMMIT_WAIT) {
                Ok(d) => d,
                Err(e) => {
                    self.reset_nonce();
                    return Err(RelayerError::Protocol(format!(
                        "{}: interop.{method}: {e}",
                        self.name
                    )));
                }
            };
            events.extend(interop_events(&done.receipt.events));
        }
        Ok(events)
    }

    /// The `create_client` call that makes another chain track this one from its latest
    /// header, trusting the validator set of that header's epoch as this node reports it.
    /// (On a chain with organisations that call needs a governance approval of exactly these
    /// arguments first.)
    pub fn create_client_call(&self, trusting_period_ms: u64) -> Result<InteropCall> {
        let status = self.client.status().map_err(|e| self.err(e))?;
        let chain = self.client.chain().map_err(|e| self.err(e))?;
        let eb = status.epoch_blocks.max(2);
        // A client never starts from an epoch's last block (it would not know the next set).
        let height = if (status.height + 1).is_multiple_of(eb) {
            status.height - 1
        } else {
            status.height
        };
        let epoch = height / eb;
        // The set that signs epoch e is the one in state at the end of epoch e − 1.
        let set_height = if epoch == 0 { 0 } else { epoch * eb - 1 };
        let raw = self
            .value(VALIDATORS_KEY, Some(set_height))?
            .ok_or_else(|| RelayerError::Protocol("no validator set in state".into()))?;
        let set = ValidatorSet::decode_exact(&raw)
            .map_err(|e| RelayerError::Protocol(format!("validator set: {e}")))?;
        Ok(InteropCall::CreateClient {
            chain_id: chain.chain_id,
            suite: chain.suite,
            epoch_blocks: eb,
            trusting_period_ms,
            max_clock_drift_ms: 10_000,
            validators: set.0.into_iter().map(|v| v.public_key).collect(),
            header: self.signed_header(height)?,
        })
    }
}

/// What became of one submitted transaction.
struct Outcome {
    code: String,
    events: Vec<InteropEvent>,
}

/// The interop events among a receipt's (others, and undecodable ones, skipped).
fn interop_events(events: &[meridian_client::EventView]) -> Vec<InteropEvent> {
    events
        .iter()
        .filter(|e| e.module == meridian_interop_module::NAME)
        .filter_map(|e| {
            let data = hex::decode(&e.data).ok()?;
            InteropEvent::decode(&e.kind, &data).ok()
        })
        .collect()
}

/// A chain's latest finalized height and block time.
pub(crate) struct Tip {
    pub height: u64,
    pub time_ms: u64,
}

/// The `update_client` calls that bring `dst`'s client of `src` up to `src`'s latest height,
/// walking every epoch boundary in between (each carries the next validator set), and the
/// height `dst` can verify proofs at once they are executed. No calls: already there.
pub fn update_calls(src: &Endpoint, dst: &Endpoint) -> Result<(u64, Vec<InteropCall>)> {
    let client = dst.client_state()?;
    let tip = src.status()?.height;
    if tip <= client.latest_height {
        return Ok((client.latest_height, Vec::new()));
    }
    let eb = client.epoch_blocks.max(1);
    let mut heights = Vec::new();
    let mut epoch = client.latest_height / eb;
    loop {
        let boundary = (epoch + 1) * eb - 1;
        if boundary >= tip {
            break;
        }
        if boundary > client.latest_height {
            heights.push(boundary);
        }
        epoch += 1;
    }
    heights.push(tip);
    let mut calls = Vec::with_capacity(heights.len());
    for h in &heights {
        calls.push(InteropCall::UpdateClient {
            client_id: dst.client_id.clone(),
            update: src.header_update(*h, eb)?,
        });
    }
    Ok((tip, calls))
}

/// Brings `dst`'s client of `src` up to `src`'s latest height and waits for it. Returns the
/// height `dst` can now verify proofs at, and how many updates were submitted.
pub fn update_client(src: &Endpoint, dst: &mut Endpoint) -> Result<(u64, usize)> {
    let (tip, calls) = update_calls(src, dst)?;
    let n = calls.len();
    if n == 0 {
        return Ok((tip, 0));
    }
    let codes = dst.submit_all(calls)?;
    if let Some(bad) = codes.iter().find(|c| *c != "ok") {
        return Err(RelayerError::Protocol(format!(
            "{}: client update refused: {bad}",
            dst.name
        )));
    }
    Ok((tip, n))
}

/// The identifiers of a freshly opened path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OpenedPath {
    pub a_client: String,
    pub b_client: String,
    pub a_connection: String,
    pub b_connection: String,
    pub a_channel: String,
    pub b_channel: String,
}

fn created_client(events: &[InteropEvent]) -> Result<String> {
    events
        .iter()
        .find_map(|e| match e {
            InteropEvent::ClientCreated { client_id, .. } => Some(client_id.clone()),
            _ => None,
        })
        .ok_or_else(|| RelayerError::Protocol("no client_created event".into()))
}

fn connection_id(events: &[InteropEvent]) -> Result<String> {
    events
        .iter()
        .find_map(|e| match e {
            InteropEvent::Connection { connection_id, .. } => Some(connection_id.clone()),
            _ => None,
        })
        .ok_or_else(|| RelayerError::Protocol("no connection event".into()))
}

fn channel_id(events: &[InteropEvent]) -> Result<String> {
    events
        .iter()
        .find_map(|e| match e {
            InteropEvent::Channel { channel, .. } => Some(channel.clone()),
            _ => None,
        })
        .ok_or_else(|| RelayerError::Protocol("no channel event".into()))
}

/// Creates a client on each chain where `client_id` is empty (each tracking the other).
pub fn create_clients(a: &mut Endpoint, b: &mut Endpoint, trusting_period_ms: u64) -> Result<()> {
    if a.client_id.is_empty() {
        let call = b.create_client_call(trusting_period_ms)?;
        a.client_id = created_client(&a.submit_ok(vec![call])?)?;
    }
    if b.client_id.is_empty() {
        let call = a.create_client_call(trusting_period_ms)?;
        b.client_id = created_client(&b.submit_ok(vec![call])?)?;
    }
    Ok(())
}

/// Runs the connection handshake between the two chains' clients; returns (A's, B's)
/// connection ids. On a chain with organisations `conn_open_init` and `conn_open_try` need
/// governance approvals first.
pub fn open_connection(a: &mut Endpoint, b: &mut Endpoint) -> Result<(String, String)> {
    let a_conn = connection_id(&a.submit_ok(vec![InteropCall::ConnOpenInit {
        client_id: a.client_id.clone(),
        counterparty_client_id: b.client_id.clone(),
    }])?)?;
    let (h, _) = update_client(a, b)?;
    let proof = a.proof(&paths::connection(&a_conn), h)?;
    let b_conn = connection_id(&b.submit_ok(vec![InteropCall::ConnOpenTry {
        client_id: b.client_id.clone(),
        counterparty_client_id: a.client_id.clone(),
        counterparty_connection_id: a_conn.clone(),
        proof_height: h,
        proof,
    }])?)?;
    let (h, _) = update_client(b, a)?;
    let proof = b.proof(&paths::connection(&b_conn), h)?;
    a.submit_ok(vec![InteropCall::ConnOpenAck {
        connection_id: a_conn.clone(),
        counterparty_connection_id: b_conn.clone(),
        proof_height: h,
        proof,
    }])?;
    let (h, _) = update_client(a, b)?;
    let proof = a.proof(&paths::connection(&a_conn), h)?;
    b.submit_ok(vec![InteropCall::ConnOpenConfirm {
        connection_id: b_conn.clone(),
        proof_height: h,
        proof,
    }])?;
    Ok((a_conn, b_conn))
}

/// Runs the channel handshake for `port` (the same port on both chains) over the open
/// connection `a_conn`/`b_conn`; returns (A's, B's) channel ids.
pub fn open_channel(
    a: &mut Endpoint,
    b: &mut Endpoint,
    (a_conn, b_conn): (&str, &str),
    port: &str,
    ordering: Ordering,
    version: &str,
) -> Result<(String, String)> {
    let a_chan = channel_id(&a.submit_ok(vec![InteropCall::ChanOpenInit {
        port: port.to_string(),
        connection_id: a_conn.to_string(),
        counterparty_port: port.to_string(),
        ordering,
        version: version.to_string(),
    }])?)?;
    let (h, _) = update_client(a, b)?;
    let proof = a.proof(&paths::channel(port, &a_chan), h)?;
    let b_chan = channel_id(&b.submit_ok(vec![InteropCall::ChanOpenTry {
        port: port.to_string(),
        connection_id: b_conn.to_string(),
        counterparty_port: port.to_string(),
        counterparty_channel: a_chan.clone(),
        ordering,
        version: version.to_string(),
        proof_height: h,
        proof,
    }])?)?;
    let (h, _) = update_client(b, a)?;
    let proof = b.proof(&paths::channel(port, &b_chan), h)?;
    a.submit_ok(vec![InteropCall::ChanOpenAck {
        port: port.to_string(),
        channel: a_chan.clone(),
        counterparty_channel: b_chan.clone(),
        proof_height: h,
        proof,
    }])?;
    let (h, _) = update_client(a, b)?;
    let proof = a.proof(&paths::channel(port, &a_chan), h)?;
    b.submit_ok(vec![InteropCall::ChanOpenConfirm {
        port: port.to_string(),
        channel: b_chan.clone(),
        proof_height: h,
        proof,
    }])?;
    Ok((a_chan, b_chan))
}

/// Creates the missing clients, a connection and a transfer channel of `ordering`. On a chain
/// with organisations, `create_client`, `conn_open_init` and `conn_open_try` need governance
/// approvals of their exact arguments first (the `meridian interop` CLI prints them).
pub fn open_transfer_path(
    a: &mut Endpoint,
    b: &mut Endpoint,
    ordering: Ordering,
    trusting_period_ms: u64,
) -> Result<OpenedPath> {
    create_clients(a, b, trusting_period_ms)?;
    let (a_conn, b_conn) = open_connection(a, b)?;
    let (a_chan, b_chan) = open_channel(
        a,
        b,
        (&a_conn, &b_conn),
        meridian_interop::transfer::PORT,
        ordering,
        meridian_interop::transfer::VERSION,
    )?;
    Ok(OpenedPath {
        a_client: a.client_id.clone(),
        b_client: b.client_id.clone(),
        a_connection: a_conn,
        b_connection: b_conn,
        a_channel: a_chan,
        b_channel: b_chan,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recv(sequence: u64, proof_len: usize) -> InteropCall {
        InteropCall::RecvPacket {
            packet: meridian_interop::Packet {
                sequence,
                source_port: "transfer".into(),
                source_channel: "channel-0".into(),
                dest_port: "transfer".into(),
                dest_channel: "channel-0".into(),
                data: vec![7; 120],
                timeout_height: 100,
                timeout_timestamp_ms: 0,
            },
            proof_height: 9,
            proof: vec![1; proof_len],
        }
    }

    #[test]
    fn relay_packs_keep_order_and_fit_the_transaction_limits() {
        let calls: Vec<InteropCall> = (1..=100).map(|s| recv(s, 900)).collect();
        let packs = pack_relay(calls.clone());
        assert!(packs.len() > 1 && packs.len() < 20, "{} packs", packs.len());
        assert_eq!(packs.concat(), calls, "every message once, in order");
        for p in &packs {
            let call = InteropCall::Relay {
                messages: p.clone(),
            }
            .into_call();
            assert!(call.args.len() <= meridian_types::MAX_CALL_ARGS_LEN);
            let events: usize = p.iter().map(estimated_events).sum();
            assert!(events < meridian_types::MAX_EVENTS_PER_TX);
            let decoded = InteropCall::decode("relay", &call.args).expect("decodes");
            assert_eq!(
                decoded,
                InteropCall::Relay {
                    messages: p.clone()
                }
            );
        }
        // Large proofs: fewer per transaction, still within the argument limit.
        for p in pack_relay((1..=10).map(|s| recv(s, 6_000)).collect()) {
            assert!(p.len() <= 2);
        }
        assert!(pack_relay(Vec::new()).is_empty());
    }
}
