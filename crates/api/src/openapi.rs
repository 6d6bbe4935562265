//! The OpenAPI 3.0 document, built from the route table and [`ERROR_CODES`] by hand with
//! `serde_json` (no derive-macro framework in the build). Schemas mirror `views.rs`; the
//! contract tests validate real responses against them, so a drift fails a test.

use serde_json::{json, Map, Value};

use crate::error::{codes, status_of, ACCESS_CODES, CONTRACT_CODES, ERROR_CODES};
use crate::{Method, ParamIn, Resp, RouteDoc};

/// Codes any route may return besides its own.
const COMMON_ERRORS: &[&str] = &[codes::RATE_LIMITED, codes::INTERNAL];

fn string(desc: &str) -> Value {
    json!({"type": "string", "description": desc})
}
fn hex(desc: &str) -> Value {
    json!({"type": "string", "pattern": "^([0-9a-f]{2})*$", "description": desc})
}
fn h32(desc: &str) -> Value {
    json!({"type": "string", "pattern": "^[0-9a-f]{64}$", "description": desc})
}
fn address(desc: &str) -> Value {
    json!({"type": "string", "pattern": "^0x[0-9a-f]{40}$", "description": desc})
}
fn amount(desc: &str) -> Value {
    json!({"type": "string", "pattern": "^[0-9]+$", "description": desc})
}
fn int(desc: &str) -> Value {
    json!({"type": "integer", "format": "int64", "minimum": 0, "description": desc})
}
fn boolean(desc: &str) -> Value {
    json!({"type": "boolean", "description": desc})
}
/// OpenAPI 3.0 ignores siblings of `$ref`, so a nullable reference goes through `allOf`.
fn nullable(mut v: Value) -> Value {
    if v.get("$ref").is_some() {
        return json!({"allOf": [v], "nullable": true});
    }
    v["nullable"] = Value::Bool(true);
    v
}
fn array(items: Value, desc: &str) -> Value {
    json!({"type": "array", "items": items, "description": desc})
}
fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An object whose listed properties are all required (optional ones are `nullable`
/// unless named in `optional`), closed to other properties.
fn object(desc: &str, props: Vec<(&str, Value)>, optional: &[&str]) -> Value {
    let required: Vec<&str> = props
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !optional.contains(k))
        .collect();
    let mut m = Map::new();
    for (k, v) in props {
        m.insert(k.to_string(), v);
    }
    json!({"type": "object", "description": desc, "properties": m, "required": required,
           "additionalProperties": false})
}

fn state_props() -> Vec<(&'static str, Value)> {
    vec![
        ("key", hex("state key")),
        (
            "value",
            nullable(hex("value, null when absent (non-membership proof)")),
        ),
        (
            "proof",
            hex("encoded JMT proof; check with meridian_storage::verify_state_proof"),
        ),
        ("height", int("height of the header the proof is against")),
        (
            "header",
            hex("encoded finalized header whose state_root the proof verifies against"),
        ),
        ("state_root", h32("state root of that header")),
    ]
}

fn with_state(mut props: Vec<(&'static str, Value)>) -> Vec<(&'static str, Value)> {
    props.extend(state_props());
    props
}

fn block_props(txs: (&'static str, Value)) -> Vec<(&'static str, Value)> {
    vec![
        ("hash", h32("block id: suite hash of the encoded header")),
        ("height", int("")),
        ("parent", h32("parent block id")),
        (
            "timestamp_ms",
            int("proposer's clock, ms since the Unix epoch"),
        ),
        ("view", int("consensus view")),
        ("proposer", hex("proposer's consensus public key")),
        (
            "tx_root",
            h32("Merkle root over the full signed transactions"),
        ),
        ("receipts_root", h32("")),
        ("state_root", h32("JMT root after this block")),
        txs,
        ("header", hex("encoded header")),
        (
            "certificate",
            hex("encoded finalization certificate (empty for genesis)"),
        ),
    ]
}

fn schemas() -> Value {
    let decoded = json!({"type": "object", "additionalProperties": true,
                         "description": "the event as JSON for modules this node knows"});
    let event_props = || {
        vec![
            ("module", string("")),
            ("kind", string("event type, e.g. transferred")),
            ("data", hex("module's canonical encoding of the event")),
            ("decoded", decoded.clone()),
        ]
    };
    let event = object("a typed receipt event", event_props(), &["decoded"]);
    let receipt = object(
        "outcome of a finalized transaction",
        vec![
            ("tx_hash", h32("transaction id")),
            ("height", int("")),
            ("index", int("position in the block")),
            ("sender", address("")),
            ("code", string("\"ok\" or a stable module error code")),
            ("message", string("")),
            ("events", array(schema_ref("Event"), "")),
            (
                "signer_org",
                nullable(string("signer's organisation (certificate mode)")),
            ),
            (
                "signer_cert_id",
                nullable(h32("signer's certificate id (certificate mode)")),
            ),
            (
                "gas_used",
                int("fuel a contract call consumed (0 for native modules)"),
            ),
        ],
        &[],
    );
    let mut chain_event = vec![
        ("height", int("")),
        ("tx_hash", h32("")),
        ("tx_index", int("")),
        ("event_index", int("")),
        ("sender", address("transaction sender")),
    ];
    chain_event.extend(event_props());
    json!({
        "Error": object("every error", vec![
            ("code", string("stable code; the table is x-error-codes at the document root")),
            ("message", string("human-readable detail")),
        ], &[]),
        "Status": object("node status", vec![
            ("chain_id", string("")),
            ("suite", json!({"type": "string", "enum": ["sm", "intl"]})),
            ("height", int("latest finalized height")),
            ("block_hash", h32("")),
            ("state_root", h32("")),
            ("mempool_size", int("")),
            ("validators", int("validators in the finalized state (in force from the next epoch)")),
            ("epoch", int("consensus epoch of the next block")),
            ("epoch_blocks", int("blocks per consensus epoch (genesis)")),
            ("max_block_txs", int("most transactions in a block this node proposes")),
            ("max_block_bytes", int("most transaction bytes in a block this node proposes")),
        ], &[]),
        "SubmitRequest": object("a signed transaction", vec![
            ("tx", hex("canonical encoding of the signed transaction")),
        ], &[]),
        "Submit": object("submission outcome", vec![
            ("hash", h32("transaction id")),
            ("status", json!({"type": "string", "enum": ["accepted", "committed"]})),
            ("receipt", nullable(schema_ref("Receipt"))),
        ], &[]),
        "SubmitBatchRequest": object("signed transactions, at most 512", vec![
            ("txs", array(hex("canonical encoding of a signed transaction"), "")),
        ], &[]),
        "BatchItem": object("outcome of one transaction of a batch", vec![
            ("hash", nullable(h32("transaction id when accepted"))),
            ("code", string("\"ok\" or the admission code")),
            ("message", string("")),
        ], &[]),
        "SubmitBatch": object("batch outcome", vec![
            ("accepted", int("")),
            ("rejected", int("")),
            ("results", array(schema_ref("BatchItem"), "one per transaction, in order")),
        ], &[]),
        "TxOutcomesRequest": object("transaction ids, at most 512", vec![
            ("hashes", array(h32("transaction id"), "")),
        ], &["hashes"]),
        "TxOutcome": object("what became of one transaction", vec![
            ("hash", h32("transaction id")),
            ("status", json!({"type": "string", "enum": ["final", "pending", "unknown"]})),
            ("height", nullable(int("block height (final only)"))),
            ("code", nullable(string("receipt code (final only)"))),
            ("message", nullable(string("receipt message (final only)"))),
            ("events", array(schema_ref("Event"), "receipt events (final only; empty otherwise)")),
        ], &[]),
        "TxOutcomes": object("outcomes, one per asked hash, in order", vec![
            ("outcomes", array(schema_ref("TxOutcome"), "")),
        ], &[]),
        "Event": event,
        "Receipt": receipt,
        "TxInclusion": object("Merkle inclusion proof of the transaction in its block", vec![
            ("leaf", h32("suite hash of the full signed encoding")),
            ("index", int("")),
            ("size", int("transactions in the block")),
            ("siblings", array(h32(""), "sibling hashes bottom-up")),
            ("proof", hex("encoded MerkleProof; check with meridian_types::verify_merkle_proof")),
            ("tx_root", h32("")),
            ("block_hash", h32("")),
            ("header", hex("encoded header carrying tx_root")),
            ("certificate", hex("finalization certificate of the block")),
        ], &[]),
        "Tx": object("a finalized transaction", vec![
            ("hash", h32("")),
            ("tx", hex("signed transaction")),
            ("height", int("")),
            ("index", int("")),
            ("receipt", schema_ref("Receipt")),
            ("inclusion", schema_ref("TxInclusion")),
        ], &[]),
        "Block": object("a finalized block", block_props(
            ("tx_hashes", array(h32(""), "transaction ids in order"))), &[]),
        "Header": object("a finalized header", block_props(
            ("tx_count", int("transactions in the block"))), &[]),
        "State": object("a state value with its proof", state_props(), &[]),
        "StatesRequest": object("state keys (hex, at most 256) and an optional height", vec![
            ("keys", array(hex("state key"), "")),
            ("height", nullable(int("finalized height; the latest when absent"))),
            ("proofs", json!({"type": "boolean", "description": "false: values only, no proofs (the node's word); default true"})),
        ], &["keys"]),
        "States": object("state values at one height, each with its proof", vec![
            ("height", int("height of the header every proof is against")),
            ("header", hex("encoded finalized header")),
            ("state_root", h32("")),
            ("items", array(schema_ref("StateItem"), "one per asked key, in order")),
        ], &[]),
        "StateItem": object("a state value with its proof", vec![
            ("key", hex("state key")),
            ("value", nullable(hex("value, null when absent (non-membership proof)"))),
            ("proof", nullable(hex("encoded JMT proof against the response's header; null when proofs were not asked for"))),
        ], &[]),
        "Balance": object("a bank balance with its proof", with_state(vec![
            ("symbol", string("")),
            ("address", address("")),
            ("balance", amount("base units")),
        ]), &[]),
        "AssetInfo": object("an asset", vec![
            ("symbol", string("")),
            ("decimals", int("")),
            ("max_supply", amount("")),
            ("supply", amount("")),
            ("issuer", address("")),
        ], &[]),
        "Asset": object("a bank asset with its proof", with_state(vec![
            ("symbol", string("")),
            ("asset", nullable(schema_ref("AssetInfo"))),
        ]), &[]),
        "Record": object("a notarisation record", vec![
            ("doc_hash", h32("")),
            ("owner", address("")),
            ("timestamp_ms", int("block time of the registration")),
            ("height", int("")),
            ("tx_hash", h32("")),
            ("metadata", hex("")),
            ("metadata_text", nullable(string("metadata when it is UTF-8"))),
        ], &[]),
        "Notary": object("a notary record with its proof", with_state(vec![
            ("doc_hash", h32("")),
            ("record", nullable(schema_ref("Record"))),
        ]), &[]),
        "MemberInfo": object("a registered member", vec![
            ("cert_pem", string("the member's current certificate, PEM")),
            ("org", string("organisation (subject O)")),
            ("role", string("role (subject OU)")),
            ("name", string("name (subject CN)")),
            ("cert_id", h32("suite hash of the certificate's DER")),
            ("ca_id", h32("id of the issuing CA's certificate")),
            ("serial", hex("certificate serial")),
            ("not_before", int("unix seconds")),
            ("not_after", int("unix seconds, inclusive")),
            ("revoked", boolean("on the chain's revocation list at this height")),
            ("revoked_key", hex("state key of the revocation entry")),
        ], &[]),
        "Member": object("a member's certificate with its proof", with_state(vec![
            ("address", address("")),
            ("member", nullable(schema_ref("MemberInfo"))),
        ]), &[]),
        "Policy": object("roles allowed to send a call, with the proof of the rule that applied",
            with_state(vec![
            ("call", string("<module>.<method>")),
            ("mode", json!({"type": "string", "enum": ["open", "certificate"]})),
            ("roles", array(string(""), "roles allowed")),
            ("rule", json!({"type": "string", "enum": ["call", "module", "default", "open"]})),
            ("policy", nullable(string("the policy entry that applied"))),
        ]), &[]),
        "Action": object("what a governance proposal does when it passes: `kind` and that \
            kind's fields (DER, ids and keys as hex)", vec![
            ("kind", json!({"type": "string", "enum": crate::views::ACTION_KINDS})),
            ("org", string("add_org, remove_org, trust_ca: the organisation")),
            ("ca_der", hex("add_org, trust_ca: the CA certificate, DER")),
            ("call", string("set_policy: <module>.<method> or <module>.*")),
            ("roles", array(string(""), "set_policy: roles allowed")),
            ("ca_id", h32("revoke_cert: id of the issuing CA's certificate")),
            ("serial", hex("revoke_cert: certificate serial")),
            ("name", string("add_validator, replace_validator: validator name; set_param: \
                parameter (fault_tolerance, max_block_txs, max_block_bytes); \
                freeze_contract, approve_contract_upgrade: contract name")),
            ("frozen", boolean("freeze_contract: true freezes, false lifts the freeze")),
            ("code_hash", h32("approve_contract_upgrade: hash of the approved code")),
            ("public_key", hex("add_validator, remove_validator: consensus key, suite encoding")),
            ("old_key", hex("replace_validator: the validator's current key")),
            ("new_key", hex("replace_validator: its new key")),
            ("value", int("set_param: the new value")),
            ("module", string("approve_call: the module that gates the call, e.g. interop")),
            ("method", string("approve_call: the method, e.g. create_client")),
            ("args_hash", h32("approve_call: suite hash of the call's exact argument bytes \
                (used once)")),
            ("encoding", hex("unknown: the action's canonical encoding")),
        ], &["org", "ca_der", "call", "roles", "ca_id", "serial", "name", "public_key",
             "old_key", "new_key", "value", "frozen", "code_hash", "module", "method",
             "args_hash", "encoding"]),
        "Vote": object("one organisation's vote", vec![
            ("org", string("")),
            ("approve", boolean("")),
        ], &[]),
        "ProposalInfo": object("a governance proposal", vec![
            ("id", int("")),
            ("proposer_org", string("organisation of the proposing admin (its first yes)")),
            ("action", schema_ref("Action")),
            ("threshold", string("majority, two-thirds, all or any:N")),
            ("deadline_height", int("last height at which votes count")),
            ("status", json!({"type": "string", "enum": ["open", "executed", "rejected"]})),
            ("votes", array(schema_ref("Vote"), "one per organisation that voted")),
        ], &[]),
        "Proposal": object("a governance proposal with its proof", with_state(vec![
            ("proposal", schema_ref("ProposalInfo")),
        ]), &[]),
        "Proposals": object("a page of proposals, each with its proof, and the next id with \
            its proof, all at one height", with_state(vec![
            ("next_id", int("id of the next proposal (1 when there was none)")),
            ("proposals", array(schema_ref("Proposal"), "in id order")),
        ]), &[]),
        "ContractInfo": object("a deployed contract", vec![
            ("name", string("")),
            ("address", address("the contract's own account (bank balances)")),
            ("code_hash", h32("suite hash of the wasm code it runs")),
            ("creator", address("who deployed it (carries out approved upgrades)")),
            ("deployed_height", int("")),
            ("version", int("1 at deployment, +1 per upgrade")),
            ("allow_reentry", boolean("a contract already on the call stack may call it again")),
            ("frozen", boolean("frozen by governance at this height")),
            ("frozen_key", hex("state key of the freeze flag (present = frozen)")),
            ("approved_upgrade", nullable(h32("code hash governance approved for an upgrade"))),
            ("upgrade_key", hex("state key of the approved upgrade")),
        ], &[]),
        "Contract": object("a deployed contract with the proof of contract/meta/<name>",
            with_state(vec![("contract", schema_ref("ContractInfo"))]), &[]),
        "ContractQueryRequest": object("a read-only contract query", vec![
            ("msg", json!({"nullable": true, "description":
                "any JSON value; its JSON text is the contract's query message"})),
            ("fuel", int("most fuel the query may use (default and maximum: the node's cap)")),
        ], &["fuel"]),
        "ContractQuery": object("the answer of a contract query (this node's execution, not \
            proven)", vec![
            ("contract", string("")),
            ("height", int("finalized height whose state the query ran on")),
            ("gas_used", int("fuel the query used")),
            ("result", json!({"nullable": true, "description":
                "the contract's return data parsed as JSON, or {\"hex\": ...} when it is \
                 not JSON"})),
        ], &[]),
        "Validator": object("a genesis validator", vec![
            ("name", string("")),
            ("public_key", hex("suite encoding")),
            ("address", address("")),
        ], &[]),
        "Validators": object("the validator set with its proof (state key chain/validators)",
            with_state(vec![("validators", array(schema_ref("Validator"), ""))]), &[]),
        "Peer": object("a configured p2p peer", vec![
            ("name", string("")),
            ("public_key", hex("")),
            ("address", string("host:port")),
            ("is_self", boolean("this node's own entry")),
            ("connected", nullable(boolean("null for this node or when unknown"))),
        ], &[]),
        "Peers": object("configured peers", vec![
            ("peers", array(schema_ref("Peer"), "")),
            ("configured", int("peers other than this node")),
            ("connected", nullable(int("connected peers, null when unknown"))),
        ], &[]),
        "BlockEvent": object("SSE `block` event data (id: H)", vec![
            ("height", int("")),
            ("hash", h32("")),
            ("parent", h32("")),
            ("timestamp_ms", int("")),
            ("tx_count", int("")),
            ("state_root", h32("")),
        ], &[]),
        "ChainEvent": object("SSE `event` event data (id: H/T/E)", chain_event, &["decoded"]),
    })
}

fn param_schema(ty: &str) -> Value {
    match ty {
        "hash" => json!({"type": "string", "pattern": "^(0x)?[0-9a-fA-F]{64}$"}),
        "address" => json!({"type": "string", "pattern": "^(0x)?[0-9a-fA-F]{40}$"}),
        "symbol" => json!({"type": "string", "pattern": "^[A-Z0-9]{1,16}$"}),
        "hex" => json!({"type": "string", "pattern": "^([0-9a-fA-F]{2})+$"}),
        "u64" => json!({"type": "integer", "format": "int64", "minimum": 0}),
        "bool" => json!({"type": "boolean"}),
        _ => json!({"type": "string"}),
    }
}

fn error_response(codes_here: &[&str], status: u16) -> Value {
    let list: Vec<&str> = codes_here
        .iter()
        .copied()
        .filter(|c| status_of(c).as_u16() == status)
        .collect();
    json!({
        "description": format!("codes: {}", list.join(", ")),
        "content": {"application/json": {"schema": schema_ref("Error")}},
    })
}

fn operation(r: &RouteDoc) -> Value {
    let params: Vec<Value> = r
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": match p.location { ParamIn::Path => "path", ParamIn::Query => "query",
                                         ParamIn::Header => "header" },
                "required": matches!(p.location, ParamIn::Path),
                "description": p.description,
                "schema": param_schema(p.ty),
            })
        })
        .collect();
    let mut responses = Map::new();
    let ok = match r.response {
        Resp::Json(name) => json!({
            "description": "success",
            "content": {"application/json": {"schema": schema_ref(name)}},
        }),
        Resp::Text(desc) => json!({
            "description": desc,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }),
        Resp::EventStream(desc) => json!({
            "description": desc,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }),
        Resp::Document => json!({
            "description": "this document",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }),
    };
    responses.insert("200".into(), ok);
    let mut all: Vec<&str> = r.errors.to_vec();
    all.extend_from_slice(COMMON_ERRORS);
    if r.body.is_some() {
        all.extend_from_slice(&[
            codes::BAD_JSON,
            codes::BAD_BODY,
            codes::UNSUPPORTED_MEDIA_TYPE,
            codes::BODY_TOO_LARGE,
        ]);
    }
    let mut statuses: Vec<u16> = all.iter().map(|c| status_of(c).as_u16()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    for st in statuses {
        responses.insert(st.to_string(), error_response(&all, st));
    }
    let mut op = json!({
        "operationId": r.id,
        "summary": r.summary,
        "tags": [r.tag],
        "parameters": params,
        "responses": responses,
        "x-error-codes": all,
    });
    if let Some(b) = r.body {
        op["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema_ref(b)}},
        });
        if r.binary_body {
            op["requestBody"]["content"]["application/octet-stream"] = json!({
                "schema": {"type": "string", "format": "binary",
                           "description": "u16 big-endian count, then each signed transaction \
                               as a length-prefixed byte string (docs/spec/chain.md)"},
            });
        }
    }
    op
}

/// The whole document.
pub(crate) fn document(routes: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        let m = match r.method {
            Method::Get => "get",
            Method::Post => "post",
        };
        entry[m] = operation(r);
    }
    let codes: Vec<Value> = ERROR_CODES
        .iter()
        .chain(ACCESS_CODES)
        .chain(CONTRACT_CODES)
        .map(|e| json!({"code": e.code, "status": e.status, "meaning": e.meaning}))
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Meridian node API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "HTTP/JSON API of one Meridian validator. Binary values are \
                lowercase hex, addresses 0x + 40 hex, u128 amounts decimal strings. Every \
                error is {code, message}; caller mistakes are 4xx. State answers carry a JMT \
                proof and the finalized header it verifies against.",
        },
        "paths": paths,
        "components": {"schemas": schemas()},
        "x-error-codes": codes,
    })
}
