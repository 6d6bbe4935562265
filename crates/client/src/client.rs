//! The blocking HTTP client.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use meridian_api::{
    BlockView, ContractInfo, ContractQueryView, ContractView, ReceiptView, StateView, StatusView,
    SubmitBatchView, SubmitView, TxView,
};
use meridian_bank::{asset_key, balance_key, decode_asset, decode_balance, Asset};
use meridian_crypto::{PublicKey, Suite};
use meridian_execution::nonce_key;
use meridian_node::ChainHash;
use meridian_notary::{decode_record, record_key, Record};
use meridian_storage::verify_state_proof;
use meridian_types::{
    decode_exact, verify_merkle_proof, Address, ChainId, Encode, Hash32, HashFn as _, Header,
    MerkleProof, SignedTx, ValidatorSet, VALIDATORS_KEY,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{ClientError, Result};
use crate::trust::{Finality, TrustAnchor};

/// Default node API address (`meridian init` gives node 0 port 8600).
pub const DEFAULT_NODE_URL: &str = "http://127.0.0.1:8600";
/// Timeout of ordinary requests.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The node caps a commit wait at this (see `meridian_api::MAX_COMMIT_WAIT`).
pub const MAX_COMMIT_WAIT: Duration = Duration::from_secs(60);

/// How [`Client::submit`] waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmitMode {
    /// Return once the node admitted the transaction to its mempool.
    Async,
    /// Return once the transaction is final (or fail with `api.commit_timeout`).
    Commit { timeout: Duration },
}

/// Roles allowed to send a call, as [`Client::policy_at`] resolved them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyInfo {
    pub call: String,
    /// `open` or `certificate`.
    pub mode: String,
    pub roles: Vec<String>,
    /// `call`, `module`, `default` or `open`.
    pub rule: String,
    /// The policy entry that applied (`<module>.<method>` or `<module>.*`).
    pub policy: Option<String>,
}

/// A value read from the state, with the proof already checked.
#[derive(Clone, Debug)]
pub struct Verified<T> {
    pub value: T,
    pub key: Vec<u8>,
    /// Height of the header the proof was checked against.
    pub height: u64,
    /// That header's state root.
    pub state_root: Hash32,
    /// Hash of that header (the block id).
    pub block_hash: Hash32,
    pub header: Header,
    /// Whether the header's finality was checked against a trust anchor.
    pub finality: Finality,
}

impl<T> Verified<T> {
    /// Same provenance, another value (used by the typed decoders).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Verified<U> {
        Verified {
            value: f(self.value),
            key: self.key,
            height: self.height,
            state_root: self.state_root,
            block_hash: self.block_hash,
            header: self.header,
            finality: self.finality,
        }
    }

    fn try_map<U>(self, f: impl FnOnce(T) -> Result<U>) -> Result<Verified<U>> {
        let Verified {
            value,
            key,
            height,
            state_root,
            block_hash,
            header,
            finality,
        } = self;
        Ok(Verified {
            value: f(value)?,
            key,
            height,
            state_root,
            block_hash,
            header,
            finality,
        })
    }
}

/// Many state values read at one height, every proof checked against that one header (whose
/// finality is checked once, with a trust anchor).
#[derive(Clone, Debug)]
pub struct VerifiedStates {
    pub height: u64,
    pub header: Header,
    pub finality: Finality,
    /// One per asked key, in order: the value (`None` = proven absent) and the encoded proof,
    /// which a relayer hands on to another chain.
    pub items: Vec<(Option<Vec<u8>>, Vec<u8>)>,
}

/// A block whose header hash was recomputed (and its certificate checked with a trust anchor).
#[derive(Clone, Debug)]
pub struct VerifiedBlock {
    pub view: BlockView,
    pub header: Header,
    pub finality: Finality,
}

/// A transaction read back from the node: its hash recomputed from its bytes and its Merkle
/// inclusion proof checked against the `tx_root` of its block's header (whose certificate is
/// checked with a trust anchor). The receipt is the node's word: receipts are not proven yet.
#[derive(Clone, Debug)]
pub struct VerifiedTx {
    pub view: TxView,
    pub tx: SignedTx,
    /// The header of the block that includes it.
    pub header: Header,
    pub finality: Finality,
}

/// A committed transaction whose receipt says `ok`.
#[derive(Clone, Debug)]
pub struct Committed {
    pub hash: Hash32,
    pub receipt: ReceiptView,
}

impl Committed {
    /// The id of the proposal this transaction opened (its `identity.proposal_created`
    /// event), if it opened one.
    pub fn proposal_id(&self) -> Option<u64> {
        use meridian_identity_module::{decode_event, IdentityEvent, MODULE};
        self.receipt.events.iter().find_map(|e| {
            if e.module != MODULE {
                return None;
            }
            match decode_event(&e.kind, &hex::decode(&e.data).ok()?)? {
                IdentityEvent::ProposalCreated { id, .. } => Some(id),
                _ => None,
            }
        })
    }

    /// What happened to proposal `id` in this transaction (`None`: still open, or not
    /// touched).
    pub fn proposal_outcome(&self, id: u64) -> Option<ProposalOutcome> {
        use meridian_identity_module::{decode_event, IdentityEvent, MODULE};
        self.receipt.events.iter().find_map(|e| {
            if e.module != MODULE {
                return None;
            }
            match decode_event(&e.kind, &hex::decode(&e.data).ok()?)? {
                IdentityEvent::ProposalExecuted { id: x } if x == id => {
                    Some(ProposalOutcome::Executed)
                }
                IdentityEvent::ProposalRejected { id: x } if x == id => {
                    Some(ProposalOutcome::Rejected)
                }
                IdentityEvent::ProposalFailed {
                    id: x,
                    code,
                    reason,
                } if x == id => Some(ProposalOutcome::Failed { code, reason }),
                _ => None,
            }
        })
    }
}

/// How a proposal closed in a transaction ([`Committed::proposal_outcome`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalOutcome {
    /// It reached its threshold and its action was applied.
    Executed,
    /// Enough organisations voted no that it can no longer pass.
    Rejected,
    /// It reached its threshold but no longer applied (the state changed since it was
    /// proposed): closed as rejected, nothing changed; `code` names the broken rule.
    Failed { code: String, reason: String },
}

impl ProposalOutcome {
    /// The proposal's stored status after this outcome: `executed` or `rejected`.
    pub fn status(&self) -> &'static str {
        match self {
            ProposalOutcome::Executed => "executed",
            ProposalOutcome::Rejected | ProposalOutcome::Failed { .. } => "rejected",
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

/// A node's chain identity, read once from `/v1/status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainInfo {
    pub chain_id: ChainId,
    pub suite: Suite,
}

/// Blocking client of one node's HTTP API.
///
/// Every state read is verified: the JMT proof is checked against the state root of the header
/// the node returned, and — when a [`TrustAnchor`] is set — that header's finalization
/// certificate is checked against the genesis validators. A node can refuse to answer but
/// cannot make the client accept a wrong value.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    trust: Option<TrustAnchor>,
    chain: OnceLock<ChainInfo>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("trust_anchor", &self.trust.is_some())
            .finish()
    }
}

impl Client {
    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:8600`).
    pub fn new(base_url: impl Into<String>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .into();
        Self {
            base: base_url.into().trim_end_matches('/').to_string(),
            agent,
            trust: None,
            chain: OnceLock::new(),
        }
    }

    /// Checks every header's finalization certificate against `anchor` from now on.
    pub fn with_trust_anchor(mut self, anchor: TrustAnchor) -> Self {
        self.trust = Some(anchor);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn trust_anchor(&self) -> Option<&TrustAnchor> {
        self.trust.as_ref()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn read<T: DeserializeOwned>(
        url: &str,
        res: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        check_status(url, res)?
            .body_mut()
            .read_json()
            .map_err(|e| map_transport(url, e))
    }

    pub(crate) fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let url = self.url(path);
        Self::read(&url, self.agent.get(&url).call())
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> Result<StatusView> {
        self.get("/v1/status")
    }

    /// The node's chain id and suite (cached after the first call). With a trust anchor, a node
    /// of another chain is refused here.
    pub fn chain(&self) -> Result<ChainInfo> {
        if let Some(c) = self.chain.get() {
            return Ok(c.clone());
        }
        let s = self.status()?;
        let info = ChainInfo {
            chain_id: ChainId::new(s.chain_id.clone())
                .map_err(|_| ClientError::bad_response(format!("chain id {:?}", s.chain_id)))?,
            suite: s
                .suite
                .parse()
                .map_err(|_| ClientError::bad_response(format!("suite {:?}", s.suite)))?,
        };
        if let Some(t) = &self.trust {
            if t.chain_id != info.chain_id || t.suite != info.suite {
                return Err(ClientError::CertificateInvalid(format!(
                    "the node serves chain {} ({}), the trusted genesis is {} ({})",
                    info.chain_id, info.suite, t.chain_id, t.suite
                )));
            }
        }
        Ok(self.chain.get_or_init(|| info).clone())
    }

    fn hasher(&self) -> Result<ChainHash> {
        Ok(ChainHash(self.chain()?.suite))
    }

    /// Submits a signed transaction.
    pub fn submit(&self, tx: &SignedTx, mode: SubmitMode) -> Result<SubmitView> {
        self.submit_raw(&tx.encode(), mode)
    }

    /// Submits an encoded signed transaction.
    pub fn submit_raw(&self, raw: &[u8], mode: SubmitMode) -> Result<SubmitView> {
        let (query, http_timeout) = match mode {
            SubmitMode::Async => ("mode=async".to_string(), REQUEST_TIMEOUT),
            SubmitMode::Commit { timeout } => {
                let t = timeout.min(MAX_COMMIT_WAIT);
                (
                    format!("mode=commit&timeout_ms={}", t.as_millis()),
                    t + REQUEST_TIMEOUT,
                )
            }
        };
        let url = self.url(&format!("/v1/txs?{query}"));
        let res = self
            .agent
            .post(&url)
            .config()
            .timeout_global(Some(http_timeout))
            .build()
            .send_json(serde_json::json!({ "tx": hex::encode(raw) }));
        Self::read(&url, res)
    }

    /// Submits up to 512 encoded signed transactions in one binary request
    /// (`POST /v1/txs/batch`); one outcome per transaction, in order.
    pub fn submit_batch(&self, raws: &[Vec<u8>]) -> Result<SubmitBatchView> {
        let url = self.url("/v1/txs/batch");
        let res = self
            .agent
            .post(&url)
            .header("content-type", "application/octet-stream")
            .send(&meridian_node::gossip::encode_batch(raws)[..]);
        Self::read(&url, res)
    }

    /// What became of up to 512 transactions (`POST /v1/txs/outcomes`): final with the
    /// receipt's height and code, pending, or unknown — the node's word, without proofs.
    pub fn tx_outcomes(&self, hashes: &[Hash32]) -> Result<Vec<meridian_api::TxOutcomeView>> {
        let url = self.url("/v1/txs/outcomes");
        let body = serde_json::json!({
            "hashes": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
        });
        let res = self.agent.post(&url).send_json(body);
        let v: meridian_api::TxOutcomesView = Self::read(&url, res)?;
        if v.outcomes.len() != hashes.len() {
            return Err(ClientError::bad_response(format!(
                "asked about {} transactions, told about {}",
                hashes.len(),
                v.outcomes.len()
            )));
        }
        Ok(v.outcomes)
    }

    /// Submits and waits for finality; a receipt other than `ok` is [`ClientError::TxFailed`].
    pub fn commit(&self, tx: &SignedTx, timeout: Duration) -> Result<Committed> {
        let v = self.submit(tx, SubmitMode::Commit { timeout })?;
        let receipt = v.receipt.ok_or_else(|| {
            ClientError::bad_response(format!("commit of {} returned no receipt", v.hash))
        })?;
        Self::committed(&v.hash, receipt)
    }

    fn committed(hash: &str, receipt: ReceiptView) -> Result<Committed> {
        if receipt.code != "ok" {
            return Err(ClientError::TxFailed {
                hash: hash.into(),
                code: receipt.code,
                message: receipt.message,
            });
        }
        Ok(Committed {
            hash: parse_hash(hash).map_err(ClientError::bad_response)?,
            receipt,
        })
    }

    /// `GET /v1/txs/{hash}`: the transaction is decoded, its hash recomputed and its inclusion
    /// proven against its block's header, so the node cannot answer with another transaction or
    /// one that is not in the block it names.
    pub fn tx(&self, hash: &Hash32) -> Result<VerifiedTx> {
        let view: TxView = self.get(&format!("/v1/txs/{}", hex::encode(hash)))?;
        let hasher = self.hasher()?;
        let raw = hex::decode(&view.tx).map_err(|_| ClientError::bad_response("tx is not hex"))?;
        let tx = SignedTx::decode_untrusted(&raw)
            .map_err(|e| ClientError::bad_response(format!("tx does not decode: {e}")))?;
        if tx.hash(&hasher) != *hash {
            return Err(ClientError::bad_response(
                "the node returned a transaction with another hash",
            ));
        }
        let inc = &view.inclusion;
        let header = self.decode_header(&inc.header)?;
        if header.height != view.height || header.chain_id != self.chain()?.chain_id {
            return Err(ClientError::bad_response(
                "inclusion header is not the block the transaction names",
            ));
        }
        let proof_raw = hex::decode(&inc.proof)
            .map_err(|_| ClientError::bad_response("inclusion proof is not hex"))?;
        let proof: MerkleProof = decode_exact(&proof_raw)
            .map_err(|e| ClientError::bad_response(format!("inclusion proof: {e}")))?;
        // The leaf is the hash of the full signed encoding (signature included).
        let leaf = hasher.hash(&raw);
        if proof.index != view.index
            || !verify_merkle_proof(&hasher, &header.tx_root, &leaf, &proof)
        {
            return Err(ClientError::ProofInvalid(format!(
                "transaction is not at index {} of block {}",
                view.index, view.height
            )));
        }
        let finality = self.finality_of(&header, Some(&inc.certificate))?;
        Ok(VerifiedTx {
            view,
            tx,
            header,
            finality,
        })
    }

    /// Polls `/v1/txs/{hash}` until the transaction is final; `TxFailed` if its receipt is not ok.
    pub fn wait_tx(&self, hash: &Hash32, timeout: Duration) -> Result<Committed> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.tx(hash) {
                Ok(t) => return Self::committed(&hex::encode(hash), t.view.receipt),
                Err(ClientError::Api { status: 404, .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(ClientError::Api { status: 404, .. }) => {
                    return Err(ClientError::Timeout {
                        url: self.url(&format!("/v1/txs/{}", hex::encode(hash))),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET /v1/blocks/{height}` without checks (see [`Client::verified_block`]).
    pub fn block(&self, height: u64) -> Result<BlockView> {
        self.get(&format!("/v1/blocks/{height}"))
    }

    /// `GET /v1/blocks/latest` without checks.
    pub fn latest_block(&self) -> Result<BlockView> {
        self.get("/v1/blocks/latest")
    }

    /// `GET /v1/headers/latest` without checks: the tip's header fields and certificate,
    /// without the block's transaction list (cheap to poll).
    pub fn latest_header(&self) -> Result<meridian_api::HeaderView> {
        self.get("/v1/headers/latest")
    }

    /// A block whose header decodes to the claimed fields and hash; with a trust anchor, its
    /// certificate is verified too.
    pub fn verified_block(&self, height: u64) -> Result<VerifiedBlock> {
        let view = self.block(height)?;
        let header = self.decode_header(&view.header)?;
        if header.height != height || view.height != height {
            return Err(ClientError::bad_response(format!(
                "asked for block {height}, got {}",
                header.height
            )));
        }
        let hash = header.hash(&self.hasher()?);
        if view.hash != hex::encode(hash) || view.state_root != hex::encode(header.state_root) {
            return Err(ClientError::bad_response(
                "block hash or state root does not match its header",
            ));
        }
        let finality = self.finality_of(&header, Some(&view.certificate))?;
        Ok(VerifiedBlock {
            view,
            header,
            finality,
        })
    }

    fn decode_header(&self, hex_header: &str) -> Result<Header> {
        let raw =
            hex::decode(hex_header).map_err(|_| ClientError::bad_response("header is not hex"))?;
        decode_exact(&raw).map_err(|e| ClientError::bad_response(format!("header: {e}")))
    }

    /// With a trust anchor: fetch (unless given) and verify the header's certificate.
    fn finality_of(&self, header: &Header, certificate_hex: Option<&str>) -> Result<Finality> {
        let Some(anchor) = &self.trust else {
            return Ok(Finality::ReportedByNode);
        };
        let cert_hex = match certificate_hex {
            Some(c) => c.to_string(),
            None => self.block(header.height)?.certificate,
        };
        let cert = hex::decode(cert_hex)
            .map_err(|_| ClientError::bad_response("certificate is not hex"))?;
        self.follow_validator_sets(anchor, anchor.epoch_of(header.height))?;
        anchor.verify(header, &cert)
    }

    /// Learns the validator set of every epoch up to `epoch` that the anchor does not know yet:
    /// the last block of each known epoch must be certified by that epoch's set, and the next
    /// set is `chain/validators` proven against that block's state root.
    fn follow_validator_sets(&self, anchor: &TrustAnchor, epoch: u64) -> Result<()> {
        loop {
            let (known, set) = anchor.known_set(epoch);
            if known >= epoch {
                return Ok(());
            }
            let boundary = anchor.last_height_of(known);
            let view = self.block(boundary)?;
            let header = self.decode_header(&view.header)?;
            if header.height != boundary {
                return Err(ClientError::bad_response(format!(
                    "asked for block {boundary}, got {}",
                    header.height
                )));
            }
            let cert = hex::decode(&view.certificate)
                .map_err(|_| ClientError::bad_response("certificate is not hex"))?;
            anchor.verify_with(&header, &cert, &set)?;
            let st = self.state_view(VALIDATORS_KEY, Some(boundary))?;
            let (proven_at, value) = self.proven_value(VALIDATORS_KEY, Some(boundary), &st)?;
            if proven_at != header {
                return Err(ClientError::bad_response(
                    "validator set proven against another header",
                ));
            }
            let value =
                value.ok_or_else(|| ClientError::bad_response("no validator set in state"))?;
            let next = ValidatorSet::decode_exact(&value)
                .map_err(|e| ClientError::bad_response(format!("validator set: {e}")))?
                .0
                .iter()
                .map(|v| PublicKey::from_bytes(anchor.suite, &v.public_key))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| ClientError::bad_response(format!("validator key: {e}")))?;
            anchor.learn(known + 1, next);
        }
    }

    /// `GET /v1/state/{key}` without checks: the raw answer.
    pub fn state_view(&self, key: &[u8], height: Option<u64>) -> Result<StateView> {
        let mut path = format!("/v1/state/{}", hex::encode(key));
        if let Some(h) = height {
            path.push_str(&format!("?height={h}"));
        }
        self.get(&path)
    }

    /// The values at `keys` (at most 256) at one finalized height — the latest, or `height` —
    /// in one request, each proof verified against the one header.
    pub fn states(&self, keys: &[Vec<u8>], height: Option<u64>) -> Result<VerifiedStates> {
        let url = self.url("/v1/state/batch");
        let body = serde_json::json!({
            "keys": keys.iter().map(hex::encode).collect::<Vec<_>>(),
            "height": height,
        });
        let v: meridian_api::StatesView = Self::read(&url, self.agent.post(&url).send_json(body))?;
        if v.items.len() != keys.len() {
            return Err(ClientError::bad_response(format!(
                "asked for {} keys, told about {}",
                keys.len(),
                v.items.len()
            )));
        }
        let mut items = Vec::with_capacity(keys.len());
        let mut header = None;
        for (key, item) in keys.iter().zip(v.items) {
            let view = StateView {
                key: item.key,
                value: item.value,
                proof: item
                    .proof
                    .ok_or_else(|| ClientError::bad_response("a state item without its proof"))?,
                height: v.height,
                header: v.header.clone(),
                state_root: v.state_root.clone(),
            };
            let (h, value) = self.proven_value(key, height, &view)?;
            let proof = hex::decode(&view.proof)
                .map_err(|_| ClientError::bad_response("proof is not hex"))?;
            header.get_or_insert(h);
            items.push((value, proof));
        }
        let header = header.ok_or_else(|| ClientError::bad_response("no state in the answer"))?;
        let finality = self.finality_of(&header, None)?;
        Ok(VerifiedStates {
            height: header.height,
            header,
            finality,
            items,
        })
    }

    /// The values at `keys` (at most 256) at one finalized height — the latest, or `height` —
    /// without proofs: the node's word, for callers that act on it only as a hint (a relayer
    /// deciding what is pending; the chain it relays to checks everything). Returns the
    /// height read at.
    pub fn state_values(
        &self,
        keys: &[Vec<u8>],
        height: Option<u64>,
    ) -> Result<(u64, Vec<Option<Vec<u8>>>)> {
        let url = self.url("/v1/state/batch");
        let body = serde_json::json!({
            "keys": keys.iter().map(hex::encode).collect::<Vec<_>>(),
            "height": height,
            "proofs": false,
        });
        let v: meridian_api::StatesView = Self::read(&url, self.agent.post(&url).send_json(body))?;
        if v.items.len() != keys.len() || height.is_some_and(|h| h != v.height) {
            return Err(ClientError::bad_response(format!(
                "asked for {} keys at {height:?}, told about {} at {}",
                keys.len(),
                v.items.len(),
                v.height
            )));
        }
        let mut values = Vec::with_capacity(keys.len());
        for (key, item) in keys.iter().zip(v.items) {
            if item.key != hex::encode(key) {
                return Err(ClientError::bad_response(
                    "the node answered for another key",
                ));
            }
            values.push(
                item.value
                    .as_deref()
                    .map(hex::decode)
                    .transpose()
                    .map_err(|_| ClientError::bad_response("value is not hex"))?,
            );
        }
        Ok((v.height, values))
    }

    /// The value at `key` (`None` = absent, proven by a non-membership proof) at the latest
    /// finalized height or at `height`, verified against the header the node returned.
    pub fn state(&self, key: &[u8], height: Option<u64>) -> Result<Verified<Option<Vec<u8>>>> {
        let v = self.state_view(key, height)?;
        self.verify_state_view(key, height, &v)
    }

    /// The header and value of a state answer for `key`, with the proof checked against that
    /// header's state root (but not yet the header's finality).
    fn proven_value(
        &self,
        key: &[u8],
        height: Option<u64>,
        v: &StateView,
    ) -> Result<(Header, Option<Vec<u8>>)> {
        let header = self.decode_header(&v.header)?;
        if v.key != hex::encode(key) {
            return Err(ClientError::bad_response(
                "the node answered for another key",
            ));
        }
        if header.height != v.height || height.is_some_and(|h| h != header.height) {
            return Err(ClientError::bad_response(format!(
                "asked for height {height:?}, got a header at {}",
                header.height
            )));
        }
        if header.chain_id != self.chain()?.chain_id {
            return Err(ClientError::bad_response("header of another chain"));
        }
        let value = v
            .value
            .as_deref()
            .map(hex::decode)
            .transpose()
            .map_err(|_| ClientError::bad_response("value is not hex"))?;
        let proof =
            hex::decode(&v.proof).map_err(|_| ClientError::bad_response("proof is not hex"))?;
        verify_state_proof(
            self.hasher()?.state_hash_kind(),
            header.state_root,
            key,
            value.as_deref(),
            &proof,
        )
        .map_err(|e| ClientError::ProofInvalid(e.to_string()))?;
        Ok((header, value))
    }

    /// Checks a state answer (of `/v1/state` or of a decoded route that carries the same
    /// fields) for `key` at `height` (`None` = any finalized height).
    pub fn verify_state_view(
        &self,
        key: &[u8],
        height: Option<u64>,
        v: &StateView,
    ) -> Result<Verified<Option<Vec<u8>>>> {
        let (header, value) = self.proven_value(key, height, v)?;
        let hasher = self.hasher()?;
        let finality = self.finality_of(&header, None)?;
        Ok(Verified {
            value,
            key: key.to_vec(),
            height: header.height,
            state_root: header.state_root,
            block_hash: header.hash(&hasher),
            header,
            finality,
        })
    }

    /// Balance of `owner` in asset `symbol` (0 when absent), verified.
    pub fn balance(&self, symbol: &str, owner: &Address) -> Result<Verified<u128>> {
        self.balance_at(symbol, owner, None)
    }

    /// [`Client::balance`] at a past finalized height (`None` = latest).
    pub fn balance_at(
        &self,
        symbol: &str,
        owner: &Address,
        height: Option<u64>,
    ) -> Result<Verified<u128>> {
        self.state(&balance_key(symbol, owner), height)?
            .try_map(|v| decode_balance(v.as_deref()).map_err(ClientError::bad_response))
    }

    /// Definition and supply of asset `symbol` (`None` when it does not exist), verified.
    pub fn asset(&self, symbol: &str) -> Result<Verified<Option<Asset>>> {
        self.asset_at(symbol, None)
    }

    /// [`Client::asset`] at a past finalized height (`None` = latest).
    pub fn asset_at(&self, symbol: &str, height: Option<u64>) -> Result<Verified<Option<Asset>>> {
        self.state(&asset_key(symbol), height)?.try_map(|v| {
            v.map(|b| decode_asset(&b).map_err(ClientError::bad_response))
                .transpose()
        })
    }

    /// The notary record of a document hash (`None` = never registered, proven), verified.
    pub fn notary_record(&self, doc_hash: &Hash32) -> Result<Verified<Option<Record>>> {
        self.notary_record_at(doc_hash, None)
    }

    /// [`Client::notary_record`] at a past finalized height (`None` = latest).
    pub fn notary_record_at(
        &self,
        doc_hash: &Hash32,
        height: Option<u64>,
    ) -> Result<Verified<Option<Record>>> {
        self.state(&record_key(doc_hash), height)?.try_map(|v| {
            v.map(|b| decode_record(&b).map_err(ClientError::bad_response))
                .transpose()
        })
    }

    /// The registered certificate of `addr` on a certificate-mode chain (`None` = not a
    /// member, proven), with its revocation status read (and proven) at the same height.
    /// On an open chain: `Api { code: "api.not_found" }`.
    pub fn member_at(
        &self,
        addr: &Address,
        height: Option<u64>,
    ) -> Result<Verified<Option<meridian_api::MemberInfo>>> {
        use meridian_identity_module as idm;
        let mode = self.state(idm::MODE_KEY.as_bytes(), height)?;
        if mode.value.is_none() {
            return Err(ClientError::Api {
                status: 404,
                code: "api.not_found".into(),
                message: "this chain is open (no organisations): it has no members".into(),
            });
        }
        let h = Some(mode.height);
        let v = self.state(&idm::member_key(addr), h)?;
        let rec = match &v.value {
            None => None,
            Some(raw) => {
                let m = idm::MemberRecord::decode_exact(raw)
                    .map_err(|e| ClientError::bad_response(e.message))?;
                let cert = meridian_identity::Certificate::from_der(&m.der)
                    .map_err(|e| ClientError::bad_response(e.to_string()))?;
                let rk = idm::revoked_key(&m.ca_id, cert.serial().as_bytes());
                let revoked = self.state(&rk, h)?.value.is_some();
                Some(
                    meridian_api::MemberInfo::new(&m, &cert, revoked, &rk)
                        .map_err(ClientError::bad_response)?,
                )
            }
        };
        Ok(v.map(|_| rec))
    }

    /// The roles allowed to send `call` (`<module>.<method>`), resolved as the executor does
    /// (own policy, `<module>.*`, the default; every role on an open chain); every state read
    /// it depends on is proven at one height.
    pub fn policy_at(&self, call: &str, height: Option<u64>) -> Result<Verified<PolicyInfo>> {
        use meridian_identity_module as idm;
        let Some((module, _)) = call.split_once('.') else {
            return Err(ClientError::BadInput(format!(
                "{call:?} is not <module>.<method> (e.g. bank.transfer)"
            )));
        };
        let mode = self.state(idm::MODE_KEY.as_bytes(), height)?;
        if mode.value.is_none() {
            return Ok(mode.map(|_| PolicyInfo {
                call: call.to_string(),
                mode: "open".into(),
                roles: meridian_identity::Role::BUILTIN
                    .iter()
                    .map(|r| r.to_string())
                    .collect(),
                rule: "open".into(),
                policy: None,
            }));
        }
        let h = Some(mode.height);
        let wide = format!("{module}.*");
        let mut last = None;
        for (rule, key) in [("call", call), ("module", wide.as_str())] {
            let v = self.state(&idm::policy_key(key), h)?;
            if let Some(raw) = &v.value {
                let p = idm::Policy::decode_exact(raw)
                    .map_err(|e| ClientError::bad_response(e.message))?;
                return Ok(v.map(|_| PolicyInfo {
                    call: call.to_string(),
                    mode: "certificate".into(),
                    roles: p.roles,
                    rule: rule.into(),
                    policy: Some(key.to_string()),
                }));
            }
            last = Some(v);
        }
        let v = last.ok_or_else(|| ClientError::bad_response("no policy read"))?;
        Ok(v.map(|_| PolicyInfo {
            call: call.to_string(),
            mode: "certificate".into(),
            roles: idm::DEFAULT_ROLES.iter().map(|r| r.to_string()).collect(),
            rule: "default".into(),
            policy: None,
        }))
    }

    /// Governance proposal `id` of the identity module (`None` = no such proposal, proven),
    /// decoded from the proven state entry at the latest finalized height or at `height`.
    pub fn proposal_at(
        &self,
        id: u64,
        height: Option<u64>,
    ) -> Result<Verified<Option<meridian_identity_module::Proposal>>> {
        use meridian_identity_module as idm;
        self.state(&idm::governance::proposal_key(id), height)?
            .try_map(|v| v.map(|raw| decode_proposal(id, &raw)).transpose())
    }

    /// The id the next proposal will get (1 when there was none), verified.
    pub fn next_proposal_id(&self, height: Option<u64>) -> Result<Verified<u64>> {
        use meridian_identity_module as idm;
        self.state(&idm::governance::next_proposal_key(), height)?
            .try_map(|v| decode_next_id(v.as_deref()))
    }

    /// Up to `limit` (at most [`meridian_api::MAX_PROPOSALS_PAGE`]) proposals from id `from`
    /// on, in id order, from `GET /v1/identity/proposals`. Every entry and the next id are
    /// proven at one height, and the page is checked to be complete (ids `from..` without
    /// gaps up to the next id or the limit), so a node cannot hide a proposal in it.
    pub fn proposals(
        &self,
        from: u64,
        limit: u64,
        height: Option<u64>,
    ) -> Result<Verified<Vec<meridian_identity_module::Proposal>>> {
        use meridian_identity_module as idm;
        let from = from.max(1);
        let mut path = format!("/v1/identity/proposals?from={from}&limit={limit}");
        if let Some(h) = height {
            path.push_str(&format!("&height={h}"));
        }
        let page: meridian_api::ProposalsView = self.get(&path)?;
        let next = self
            .verify_state_view(&idm::governance::next_proposal_key(), height, &page.state)?
            .try_map(|v| decode_next_id(v.as_deref()))?;
        if page.next_id != next.value {
            return Err(ClientError::bad_response(
                "next_id differs from its proven value",
            ));
        }
        let at = Some(next.height);
        let expected = next.value.saturating_sub(from).min(limit);
        if page.proposals.len() as u64 != expected {
            return Err(ClientError::bad_response(format!(
                "expected {expected} proposals from {from}, got {}",
                page.proposals.len()
            )));
        }
        let mut out = Vec::with_capacity(page.proposals.len());
        for (id, item) in (from..).zip(&page.proposals) {
            let v = self.verify_state_view(&idm::governance::proposal_key(id), at, &item.state)?;
            let raw = v.value.ok_or_else(|| {
                ClientError::bad_response(format!("proposal {id} is below the next id but absent"))
            })?;
            out.push(decode_proposal(id, &raw)?);
        }
        Ok(next.map(|_| out))
    }

    /// The id of the trusted CA that issued `cert` (`None` when no CA trusted for the
    /// certificate's organisation did), from proven reads of the organisation's CA list and
    /// each CA at one height. Used to name a certificate on chain for revocation.
    pub fn trusted_issuer(
        &self,
        cert: &meridian_identity::Certificate,
    ) -> Result<Verified<Option<[u8; 32]>>> {
        use meridian_identity_module as idm;
        let org = cert.org().unwrap_or_default();
        let index = self.state(&idm::org_key(org), None)?;
        let h = Some(index.height);
        let cas = match &index.value {
            None => Vec::new(),
            Some(raw) => {
                idm::OrgRecord::decode_exact(raw)
                    .map_err(|e| ClientError::bad_response(e.message))?
                    .cas
            }
        };
        for id in cas {
            let Some(raw) = self.state(&idm::ca_key(&id), h)?.value else {
                continue;
            };
            let rec = idm::CaRecord::decode_exact(&raw)
                .map_err(|e| ClientError::bad_response(e.message))?;
            let Ok(ca) = meridian_identity::Certificate::from_der(&rec.der) else {
                continue;
            };
            if ca.subject_name_der() == cert.issuer_name_der()
                && cert.verify_signature(ca.public_key()).is_ok()
            {
                return Ok(index.map(|_| Some(id)));
            }
        }
        Ok(index.map(|_| None))
    }

    /// Whether code with hash `code_hash` is stored on chain (`contract/code/<hash>`),
    /// verified. Stored code is never deleted, so `true` stays true.
    pub fn code_stored(&self, code_hash: &Hash32) -> Result<Verified<bool>> {
        Ok(self
            .state(&meridian_contract::code_key(code_hash), None)?
            .map(|v| v.is_some()))
    }

    /// Contract `name` (`None` = no such contract, proven) at the latest finalized height.
    pub fn contract_info(&self, name: &str) -> Result<Verified<Option<ContractInfo>>> {
        self.contract_info_at(name, None)
    }

    /// Contract `name` at a finalized height (`None` = latest), from
    /// `GET /v1/contracts/{name}`: its record is proven against the header the node returned,
    /// governance's freeze flag and approved upgrade are proven at the same height, and the
    /// node's decoded fields must be exactly the proven ones. On `contract.not_found` the
    /// absence is proven with a state read, so a node cannot hide a contract.
    pub fn contract_info_at(
        &self,
        name: &str,
        height: Option<u64>,
    ) -> Result<Verified<Option<ContractInfo>>> {
        meridian_contract::check_name(name).map_err(|e| ClientError::BadInput(e.message))?;
        let key = meridian_contract::meta_key(name);
        let mut path = format!("/v1/contracts/{name}");
        if let Some(h) = height {
            path.push_str(&format!("?height={h}"));
        }
        let (meta, claimed) = match self.get::<ContractView>(&path) {
            Ok(view) => {
                let meta = self.verify_state_view(&key, height, &view.state)?;
                (meta, Some(view.contract))
            }
            Err(ClientError::Api { code, .. }) if code == meridian_contract::codes::NOT_FOUND => {
                (self.state(&key, height)?, None)
            }
            Err(e) => return Err(e),
        };
        let at = Some(meta.height);
        let info = match &meta.value {
            None => None,
            Some(raw) => {
                let m: meridian_contract::ContractMeta = decode_exact(raw)
                    .map_err(|e| ClientError::bad_response(format!("contract {name}: {e}")))?;
                let frozen = self
                    .state(&meridian_contract::frozen_key(name), at)?
                    .value
                    .is_some();
                let approved = self
                    .state(&meridian_contract::approved_upgrade_key(name), at)?
                    .value;
                let address = meridian_contract::contract_address(&self.hasher()?, name);
                Some(ContractInfo::new(
                    name,
                    &m,
                    &address,
                    frozen,
                    approved.as_deref(),
                ))
            }
        };
        match (&claimed, &info) {
            (Some(c), Some(p)) if c != p => Err(ClientError::bad_response(
                "the node's contract fields differ from the proven state",
            )),
            (None, Some(_)) => Err(ClientError::bad_response(format!(
                "the node says there is no contract {name}, the proven state has one"
            ))),
            _ => Ok(meta.map(|_| info)),
        }
    }

    /// Runs contract `name`'s read-only `query` entry point on the node's latest finalized
    /// state (`POST /v1/contracts/{name}/query`) with the JSON text of `msg` and at most
    /// `fuel` fuel (`None`: the node's cap, 50,000,000 by default). The answer is the node's
    /// execution, not proven. A failed run is [`ClientError::Api`] with the contract's code
    /// (`contract.out_of_fuel`, `counter.bad_msg`, `contract.not_found`, ...).
    pub fn contract_query(
        &self,
        name: &str,
        msg: &serde_json::Value,
        fuel: Option<u64>,
    ) -> Result<ContractQueryView> {
        meridian_contract::check_name(name).map_err(|e| ClientError::BadInput(e.message))?;
        let mut body = serde_json::json!({ "msg": msg });
        if let Some(f) = fuel {
            body["fuel"] = f.into();
        }
        let url = self.url(&format!("/v1/contracts/{name}/query"));
        Self::read(&url, self.agent.post(&url).send_json(body))
    }

    /// The next nonce of `addr` in the latest finalized state, verified. Transactions still in
    /// a mempool are not counted; [`crate::Wallet`] tracks those itself.
    pub fn next_nonce(&self, addr: &Address) -> Result<u64> {
        let v = self.state(&nonce_key(addr), None)?;
        match v.value {
            None => Ok(0),
            Some(b) => <[u8; 8]>::try_from(b.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| ClientError::bad_response("nonce is not 8 bytes")),
        }
    }

    /// Polls `/v1/status` until the node has finalized `height`.
    pub fn wait_for_height(&self, height: u64, timeout: Duration) -> Result<StatusView> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = self.status();
            if let Ok(s) = &last {
                if s.height >= height {
                    return last;
                }
            }
            if Instant::now() >= deadline {
                return match last {
                    Err(e) => Err(e),
                    Ok(_) => Err(ClientError::Timeout {
                        url: self.url("/v1/status"),
                    }),
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn decode_proposal(id: u64, raw: &[u8]) -> Result<meridian_identity_module::Proposal> {
    let p: meridian_identity_module::Proposal =
        decode_exact(raw).map_err(|e| ClientError::bad_response(format!("proposal {id}: {e}")))?;
    if p.id != id {
        return Err(ClientError::bad_response(format!(
            "proposal stored under id {id} names id {}",
            p.id
        )));
    }
    Ok(p)
}

fn decode_next_id(v: Option<&[u8]>) -> Result<u64> {
    match v {
        None => Ok(1),
        Some(b) => <[u8; 8]>::try_from(b)
            .map(u64::from_be_bytes)
            .map_err(|_| ClientError::bad_response("next proposal id is not 8 bytes")),
    }
}

fn map_transport(url: &str, e: ureq::Error) -> ClientError {
    match e {
        ureq::Error::Timeout(_) => ClientError::Timeout { url: url.into() },
        ureq::Error::Json(e) => ClientError::bad_response(format!("{url}: {e}")),
        ureq::Error::BadUri(m) => ClientError::BadInput(format!("bad node URL {url}: {m}")),
        e => ClientError::Unreachable {
            url: url.into(),
            message: e.to_string(),
        },
    }
}

/// The response on 2xx; otherwise the node's `{code, message}` as [`ClientError::Api`].
pub(crate) fn check_status(
    url: &str,
    res: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<ureq::http::Response<ureq::Body>> {
    let mut res = res.map_err(|e| map_transport(url, e))?;
    let status = res.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(res);
    }
    let text = res
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => ClientError::Api {
            status,
            code: b.code,
            message: b.message,
        },
        Err(_) => ClientError::Api {
            status,
            code: format!("http.{status}"),
            message: text.chars().take(200).collect(),
        },
    })
}

/// Parses 64 hex characters (optional `0x`) into a hash.
pub fn parse_hash(s: &str) -> std::result::Result<Hash32, String> {
    let raw = hex::decode(s.trim().strip_prefix("0x").unwrap_or(s.trim()))
        .map_err(|_| format!("{s:?} is not hex"))?;
    raw.try_into()
        .map_err(|_| format!("{s:?} is not a 32-byte hash (64 hex characters)"))
}
