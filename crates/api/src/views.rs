//! JSON shapes of responses. Binary values are lowercase hex, addresses `0x` + 40 hex, and
//! `u128` amounts decimal strings (JSON numbers lose precision above 2^53). The OpenAPI
//! schemas in `openapi.rs` describe these structs; a contract test checks real responses
//! against them.

use meridian_types::Receipt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::decode_event;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StatusView {
    pub chain_id: String,
    pub suite: String,
    pub height: u64,
    pub block_hash: String,
    pub state_root: String,
    pub mempool_size: usize,
    /// Size of the validator set in the finalized state (changes apply from the next epoch).
    pub validators: usize,
    /// Consensus epoch of the next block.
    #[serde(default)]
    pub epoch: u64,
    /// Blocks per consensus epoch (genesis).
    #[serde(default)]
    pub epoch_blocks: u64,
    /// Most transactions this node puts in a block it proposes.
    pub max_block_txs: usize,
    /// Most bytes of transactions in a block it proposes.
    pub max_block_bytes: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SubmitView {
    pub hash: String,
    pub status: String,
    pub receipt: Option<ReceiptView>,
}

/// Outcome of one transaction of a batch.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BatchItemView {
    /// Transaction id when accepted.
    pub hash: Option<String>,
    /// `"ok"` or the admission code.
    pub code: String,
    pub message: String,
}

/// What became of one transaction asked about in `POST /v1/txs/outcomes` (the node's word,
/// no proof: for proof fetch `/v1/txs/{hash}`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TxOutcomeView {
    pub hash: String,
    /// `final`, `pending` (in this node's mempool) or `unknown`.
    pub status: String,
    /// Final only: the block height and the receipt's code and message.
    pub height: Option<u64>,
    pub code: Option<String>,
    pub message: Option<String>,
    /// Final only: the receipt's events (a relayer reads a `relay` transaction's per-message
    /// outcomes here).
    #[serde(default)]
    pub events: Vec<EventView>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TxOutcomesView {
    /// One per asked hash, in order.
    pub outcomes: Vec<TxOutcomeView>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SubmitBatchView {
    pub accepted: usize,
    pub rejected: usize,
    /// One entry per submitted transaction, in order.
    pub results: Vec<BatchItemView>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct EventView {
    pub module: String,
    pub kind: String,
    pub data: String,
    /// The typed event as JSON, for modules this node knows (bank, notary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<Value>,
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
    /// The signer's organisation on a certificate-mode chain (null on an open chain).
    #[serde(default)]
    pub signer_org: Option<String>,
    /// The id of the signer's certificate on a certificate-mode chain.
    #[serde(default)]
    pub signer_cert_id: Option<String>,
    /// Fuel a contract call consumed (0 for native module calls).
    #[serde(default)]
    pub gas_used: u64,
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
            signer_org: r.signer.as_ref().map(|s| s.org.clone()),
            signer_cert_id: r.signer.as_ref().map(|s| hex::encode(s.cert_id)),
            gas_used: r.gas_used,
            events: r.events.iter().map(EventView::from).collect(),
        }
    }
}

impl From<&meridian_types::Event> for EventView {
    fn from(e: &meridian_types::Event) -> Self {
        EventView {
            module: e.module.clone(),
            kind: e.kind.clone(),
            data: hex::encode(&e.data),
            decoded: decode_event(e).map(|d| d.0),
        }
    }
}

/// Inclusion proof of a transaction: `leaf` (suite hash of the full signed encoding) sits at
/// `index` of the Merkle tree whose root is the header's `tx_root`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TxProofView {
    pub leaf: String,
    pub index: u32,
    pub size: u32,
    /// Sibling hashes bottom-up (`meridian_types::MerkleProof::siblings`).
    pub siblings: Vec<String>,
    /// Hex of the encoded `MerkleProof`.
    pub proof: String,
    pub tx_root: String,
    pub block_hash: String,
    /// Hex of the encoded header that carries `tx_root`.
    pub header: String,
    /// Hex of the block's finalization certificate.
    pub certificate: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TxView {
    pub hash: String,
    pub tx: String,
    pub height: u64,
    pub index: u32,
    pub receipt: ReceiptView,
    pub inclusion: TxProofView,
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

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct HeaderView {
    pub hash: String,
    pub height: u64,
    pub parent: String,
    pub timestamp_ms: u64,
    pub view: u64,
    pub proposer: String,
    pub tx_root: String,
    pub receipts_root: String,
    pub state_root: String,
    pub tx_count: usize,
    pub header: String,
    pub certificate: String,
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

/// Many state values at one height, each with its proof against the one header (what a
/// relayer checks and proves per step: one request instead of one per key).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StatesView {
    pub height: u64,
    /// Hex of the encoded finalized header every proof verifies against.
    pub header: String,
    pub state_root: String,
    /// One per asked key, in order.
    pub items: Vec<StateItemView>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StateItemView {
    pub key: String,
    /// Hex value, or null when absent (non-membership proof).
    pub value: Option<String>,
    /// Null when asked for values only (`"proofs": false`: the node's word, no proof).
    pub proof: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BalanceView {
    pub symbol: String,
    pub address: String,
    /// Decimal string (base units).
    pub balance: String,
    #[serde(flatten)]
    pub state: StateView,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    pub symbol: String,
    pub decimals: u8,
    pub max_supply: String,
    pub supply: String,
    pub issuer: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AssetView {
    pub symbol: String,
    /// Null when no such asset exists (the proof shows its absence).
    pub asset: Option<AssetInfo>,
    #[serde(flatten)]
    pub state: StateView,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub doc_hash: String,
    pub owner: String,
    pub timestamp_ms: u64,
    pub height: u64,
    pub tx_hash: String,
    /// Hex of the metadata bytes.
    pub metadata: String,
    /// The metadata as text when it is UTF-8.
    pub metadata_text: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct NotaryView {
    pub doc_hash: String,
    /// Null when the document was never registered (the proof shows its absence).
    pub record: Option<RecordView>,
    #[serde(flatten)]
    pub state: StateView,
}

/// A registered member of a certificate-mode chain.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// The member's current certificate, PEM.
    pub cert_pem: String,
    pub org: String,
    pub role: String,
    pub name: String,
    /// Suite hash of the certificate's DER.
    pub cert_id: String,
    /// Id of the issuing CA's certificate.
    pub ca_id: String,
    /// Certificate serial, hex.
    pub serial: String,
    pub not_before: u64,
    pub not_after: u64,
    /// On the chain's revocation list at this height (state key `revoked_key`).
    pub revoked: bool,
    /// State key of the revocation entry (its proof: `GET /v1/state/{revoked_key}`).
    pub revoked_key: String,
}

impl MemberInfo {
    /// The view of a stored member record and its parsed certificate (the node answers with
    /// it; the SDK rebuilds it from proven state). Fails only if the certificate cannot be
    /// re-encoded as PEM.
    pub fn new(
        record: &meridian_identity_module::MemberRecord,
        cert: &meridian_identity::Certificate,
        revoked: bool,
        revoked_key: &[u8],
    ) -> Result<Self, String> {
        Ok(MemberInfo {
            cert_pem: cert.to_pem().map_err(|e| e.to_string())?,
            org: cert.org().unwrap_or_default().to_string(),
            role: cert.role().map(|r| r.to_string()).unwrap_or_default(),
            name: cert.name().unwrap_or_default().to_string(),
            cert_id: hex::encode(record.cert_id),
            ca_id: hex::encode(record.ca_id),
            serial: cert.serial().to_hex(),
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            revoked,
            revoked_key: hex::encode(revoked_key),
        })
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct MemberView {
    pub address: String,
    /// Null when the address has no registered certificate (the proof shows its absence).
    pub member: Option<MemberInfo>,
    #[serde(flatten)]
    pub state: StateView,
}

/// Roles allowed to send a call, resolved as the executor resolves them.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct PolicyView {
    /// `<module>.<method>`.
    pub call: String,
    /// `open` (no organisations: any valid signature may send anything) or `certificate`.
    pub mode: String,
    /// Roles allowed (on an open chain: every built-in role).
    pub roles: Vec<String>,
    /// Which rule applied: `call` (its own policy), `module` (`<module>.*`), `default` (the
    /// chain-wide default) or `open`.
    pub rule: String,
    /// The policy entry that applied (`<module>.<method>` or `<module>.*`), null for
    /// `default` and `open`.
    pub policy: Option<String>,
    /// The proof is of the state key of the policy that applied; for `default` of the
    /// module-wide key's absence (the call's own key: `GET /v1/state`), for `open` of the
    /// mode key's absence.
    #[serde(flatten)]
    pub state: StateView,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ValidatorView {
    pub name: String,
    pub public_key: String,
    pub address: String,
}

/// The genesis validator set, proven: `chain/validators` in the state.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ValidatorsView {
    pub validators: Vec<ValidatorView>,
    #[serde(flatten)]
    pub state: StateView,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    pub name: String,
    pub public_key: String,
    pub address: String,
    /// This node's own entry.
    pub is_self: bool,
    /// Whether an authenticated p2p connection is up; null for this node or when the node
    /// does not report connections.
    pub connected: Option<bool>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct PeersView {
    pub peers: Vec<PeerView>,
    /// Configured peers other than this node.
    pub configured: usize,
    /// Connected peers, or null when unknown.
    pub connected: Option<usize>,
}

/// One organisation's vote on a proposal.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct VoteView {
    pub org: String,
    pub approve: bool,
}

/// A governance proposal of the identity module, decoded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProposalInfo {
    pub id: u64,
    /// Organisation of the admin who proposed it (its vote is the first yes).
    pub proposer_org: String,
    /// What it does when it passes: `{"kind": "add_org", "org": ..., "ca_der": hex}` and so on
    /// (see [`action_json`]).
    pub action: Value,
    /// `majority`, `two-thirds`, `all` or `any:N`.
    pub threshold: String,
    /// Last height at which votes count.
    pub deadline_height: u64,
    /// `open`, `executed` or `rejected`.
    pub status: String,
    /// One entry per organisation that voted, in voting order (a later vote replaces an
    /// organisation's earlier one).
    pub votes: Vec<VoteView>,
}

impl From<&meridian_identity_module::Proposal> for ProposalInfo {
    fn from(p: &meridian_identity_module::Proposal) -> Self {
        use meridian_identity_module::Status;
        Self {
            id: p.id,
            proposer_org: p.proposer_org.clone(),
            action: action_json(&p.action),
            threshold: threshold_name(p.threshold),
            deadline_height: p.deadline_height,
            status: match p.status {
                Status::Open => "open",
                Status::Executed => "executed",
                Status::Rejected => "rejected",
            }
            .into(),
            votes: p
                .votes
                .iter()
                .map(|(org, approve)| VoteView {
                    org: org.clone(),
                    approve: *approve,
                })
                .collect(),
        }
    }
}

/// `majority`, `two-thirds`, `all` or `any:N` (what `meridian gov propose --threshold` takes).
pub fn threshold_name(t: meridian_identity_module::Threshold) -> String {
    use meridian_identity_module::Threshold;
    match t {
        Threshold::Majority => "majority".into(),
        Threshold::TwoThirds => "two-thirds".into(),
        Threshold::All => "all".into(),
        Threshold::AnyN(n) => format!("any:{n}"),
    }
}

/// The `kind` names of governance actions, as [`action_json`] writes them.
pub const ACTION_KINDS: &[&str] = &[
    "add_org",
    "remove_org",
    "trust_ca",
    "set_policy",
    "revoke_cert",
    "add_validator",
    "remove_validator",
    "replace_validator",
    "set_param",
    "freeze_contract",
    "approve_contract_upgrade",
    "approve_call",
    "unknown",
];

/// A governance action as JSON: `kind` and the action's fields, DER, ids and keys as hex.
/// A kind this build does not know is `{"kind": "unknown", "encoding": hex}`.
pub fn action_json(a: &meridian_identity_module::Action) -> Value {
    use meridian_identity_module::Action;
    use meridian_types::Encode as _;
    match a {
        Action::AddOrg { org, ca_der } => {
            serde_json::json!({"kind": "add_org", "org": org, "ca_der": hex::encode(ca_der)})
        }
        Action::RemoveOrg { org } => serde_json::json!({"kind": "remove_org", "org": org}),
        Action::TrustCa { org, ca_der } => {
            serde_json::json!({"kind": "trust_ca", "org": org, "ca_der": hex::encode(ca_der)})
        }
        Action::SetPolicy { call, roles } => {
            serde_json::json!({"kind": "set_policy", "call": call, "roles": roles})
        }
        Action::RevokeCert { ca_id, serial } => serde_json::json!({
            "kind": "revoke_cert", "ca_id": hex::encode(ca_id), "serial": hex::encode(serial),
        }),
        Action::AddValidator { name, public_key } => serde_json::json!({
            "kind": "add_validator", "name": name, "public_key": hex::encode(public_key),
        }),
        Action::RemoveValidator { public_key } => serde_json::json!({
            "kind": "remove_validator", "public_key": hex::encode(public_key),
        }),
        Action::ReplaceValidator {
            old_key,
            name,
            new_key,
        } => serde_json::json!({
            "kind": "replace_validator", "old_key": hex::encode(old_key), "name": name,
            "new_key": hex::encode(new_key),
        }),
        Action::SetParam { name, value } => {
            serde_json::json!({"kind": "set_param", "name": name, "value": value})
        }
        Action::FreezeContract { name, frozen } => {
            serde_json::json!({"kind": "freeze_contract", "name": name, "frozen": frozen})
        }
        Action::ApproveContractUpgrade { name, code_hash } => serde_json::json!({
            "kind": "approve_contract_upgrade", "name": name, "code_hash": hex::encode(code_hash),
        }),
        Action::ApproveCall {
            module,
            method,
            args_hash,
        } => serde_json::json!({
            "kind": "approve_call", "module": module, "method": method,
            "args_hash": hex::encode(args_hash),
        }),
        // Kinds added to the module after this build.
        #[allow(unreachable_patterns)]
        _ => serde_json::json!({"kind": "unknown", "encoding": hex::encode(a.encode())}),
    }
}

/// A proposal with the proof of its state entry (`identity/gov/proposal/<id>`).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ProposalView {
    pub proposal: ProposalInfo,
    #[serde(flatten)]
    pub state: StateView,
}

/// A page of proposals, all proven at one height.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ProposalsView {
    /// The id the next proposal will get (ids are 1, 2, ...; 1 when there was none).
    pub next_id: u64,
    /// Proposals `from..` in id order, at most `limit`.
    pub proposals: Vec<ProposalView>,
    /// Proof of the next-id entry (`identity/gov/next`; absent when there was no proposal).
    #[serde(flatten)]
    pub state: StateView,
}

/// A deployed contract (`contract/meta/<name>`), with governance's decisions about it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ContractInfo {
    pub name: String,
    /// The contract's own account (bank balances): `H("meridian/contract/" || name)[..20]`.
    pub address: String,
    /// Suite hash of the wasm code it runs.
    pub code_hash: String,
    /// Who deployed it (the only one who may carry out an approved upgrade).
    pub creator: String,
    pub deployed_height: u64,
    /// 1 at deployment, +1 per upgrade.
    pub version: u32,
    /// Whether a contract already on the call stack may be called again.
    pub allow_reentry: bool,
    /// Frozen by governance at this height (state key `frozen_key`, present = frozen).
    pub frozen: bool,
    /// State key of the freeze flag (its proof: `GET /v1/state/{frozen_key}`).
    pub frozen_key: String,
    /// Code hash governance approved as this contract's next code, if any (state key
    /// `upgrade_key`).
    pub approved_upgrade: Option<String>,
    /// State key of the approved upgrade (its proof: `GET /v1/state/{upgrade_key}`).
    pub upgrade_key: String,
}

impl ContractInfo {
    /// The view of a stored contract record and governance's flags about it (the node answers
    /// with it; the SDK rebuilds it from proven state).
    pub fn new(
        name: &str,
        meta: &meridian_contract::ContractMeta,
        address: &meridian_types::Address,
        frozen: bool,
        approved_upgrade: Option<&[u8]>,
    ) -> Self {
        ContractInfo {
            name: name.to_string(),
            address: address.to_string(),
            code_hash: hex::encode(meta.code_hash),
            creator: meta.creator.to_string(),
            deployed_height: meta.deployed_height,
            version: meta.version,
            allow_reentry: meta.allow_reentry,
            frozen,
            frozen_key: hex::encode(meridian_contract::frozen_key(name)),
            approved_upgrade: approved_upgrade.map(hex::encode),
            upgrade_key: hex::encode(meridian_contract::approved_upgrade_key(name)),
        }
    }
}

/// A contract with the proof of its record (`contract/meta/<name>`).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ContractView {
    pub contract: ContractInfo,
    #[serde(flatten)]
    pub state: StateView,
}

/// The answer of a read-only contract query. Not proven: it is this node's execution of the
/// contract on its latest finalized state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ContractQueryView {
    pub contract: String,
    /// Finalized height whose state the query ran on.
    pub height: u64,
    /// Fuel the query used.
    pub gas_used: u64,
    /// The contract's return data parsed as JSON, or `{"hex": "..."}` when it is not JSON.
    pub result: Value,
}

/// The `result` of a query: the return bytes as JSON when they parse, else `{"hex": ...}`.
pub fn query_result(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| serde_json::json!({"hex": hex::encode(bytes)}))
}
