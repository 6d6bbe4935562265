//! Meridian's Rust client SDK: keys, transactions, queries with proofs.
//!
//! The CLI (`meridian keys|tx|query|status`) is a thin layer over this crate, so everything it
//! does a program can do too.
//!
//! ```no_run
//! use std::time::Duration;
//! use meridian_client::{Client, Keystore, Wallet, Document, TrustAnchor};
//! # fn main() -> meridian_client::Result<()> {
//! // A client of one node. The trust anchor (the chain's genesis) makes every read also check
//! // the finalization certificate of the header the proof is checked against.
//! let client = Client::new("http://127.0.0.1:8600")
//!     .with_trust_anchor(TrustAnchor::from_genesis_file("devnet/genesis.toml".as_ref())?);
//!
//! // Keys are encrypted at rest (argon2id + the suite's AEAD).
//! let keys = Keystore::new(Keystore::default_dir()?);
//! let key = keys.unlock("alice", b"passphrase")?;
//!
//! // A wallet signs with the right chain id, nonce and expiry.
//! let mut alice = Wallet::connect(&client, key)?;
//! let me = alice.address();
//! let tx = alice.create_asset(&client, "CNY", 2, 1_000_000)?;
//! client.commit(&tx, Duration::from_secs(30))?; // errors unless the receipt is `ok`
//! client.commit(&alice.mint(&client, "CNY", me, 500)?, Duration::from_secs(30))?;
//!
//! // Reads come back verified: value + height + state root of the finalized header.
//! let bal = client.balance("CNY", &me)?;
//! println!("{} at height {} (root {})", bal.value, bal.height, hex::encode(bal.state_root));
//!
//! // Notarize a document: only its hash goes on chain.
//! let (tx, doc) = alice.notarize(&client, Document::Bytes(b"contract.pdf bytes"), b"contract.pdf")?;
//! client.commit(&tx, Duration::from_secs(30))?;
//! assert!(client.notary_record(&doc)?.value.is_some());
//! # Ok(()) }
//! ```
//!
//! Governance on a certificate-mode chain: an organisation admin's wallet opens a proposal,
//! the other organisations' admins vote, and the proposal is read back verified.
//!
//! ```no_run
//! # use std::time::Duration;
//! # use meridian_client::{Action, Client, Threshold, Wallet};
//! # fn gov(client: &Client, org0: &mut Wallet, org1: &mut Wallet) -> meridian_client::Result<()> {
//! let wait = Duration::from_secs(30);
//! let action = Action::SetPolicy { call: "bank.mint".into(), roles: vec!["admin".into()] };
//! let opened = client.commit(&org0.propose(client, action, Threshold::Majority, 10_000)?, wait)?;
//! let id = opened.proposal_id().expect("identity.propose emits proposal_created");
//! let voted = client.commit(&org1.vote(client, id, true)?, wait)?;
//! println!("{:?}", voted.proposal_outcome(id)); // Some(Executed) once the threshold is met
//! let p = client.proposal_at(id, None)?; // proven; `None` would be proven absence
//! println!("{:?} at height {}", p.value.map(|p| p.status), p.height);
//! # Ok(()) }
//! ```
//!
//! Contracts: upload code in parts, deploy, call, query, read the proven record.
//!
//! ```no_run
//! # use std::time::Duration;
//! # use meridian_client::{Client, Wallet};
//! # fn contracts(client: &Client, alice: &mut Wallet, wasm: &[u8]) -> meridian_client::Result<()> {
//! let wait = Duration::from_secs(30);
//! for part in alice.upload_code(client, wasm)? {   // none if the code is already stored
//!     client.commit(&part, wait)?;
//! }
//! let hash = meridian_client::code_hash(client.chain()?.suite, wasm);
//! let deploy = alice.deploy_contract(client, "counter", hash, br#"{"start": 5}"#, 100_000_000, false)?;
//! client.commit(&deploy, wait)?;
//! let call = alice.call_contract(client, "counter", br#"{"increment": {"by": 2}}"#, 10_000_000)?;
//! println!("gas used: {}", client.commit(&call, wait)?.receipt.gas_used);
//! let q = client.contract_query("counter", &serde_json::json!({"get": {}}), None)?;
//! println!("{} at height {}", q.result, q.height);       // {"count":7,...}
//! let info = client.contract_info("counter")?;           // proven record
//! println!("{:?}", info.value.map(|c| c.version));
//! # Ok(()) }
//! ```
//!
//! Errors are one enum, [`ClientError`], whose [`ClientError::code`] is stable (the node's own
//! codes such as `tx.stale_nonce` pass through unchanged).

mod client;
mod error;
mod events;
pub mod keystore;
mod trust;
mod wallet;

pub use client::{
    parse_hash, ChainInfo, Client, Committed, PolicyInfo, ProposalOutcome, SubmitMode, Verified,
    VerifiedBlock, VerifiedStates, VerifiedTx, DEFAULT_NODE_URL, MAX_COMMIT_WAIT, REQUEST_TIMEOUT,
};
pub use error::{ClientError, Result};
pub use events::{EventFilter, EventStream, StreamItem};
pub use keystore::{KdfParams, KeyFile, KeyInfo, Keystore};
pub use trust::{Finality, TrustAnchor};
pub use wallet::{
    check_symbol, code_hash, document_hash, hash_file, parse_threshold, Document, Wallet,
    DEFAULT_EXPIRY_BLOCKS,
};

/// Re-exported so callers need not depend on the view crate for JSON types.
pub use meridian_api::{
    action_json, threshold_name, BatchItemView, BlockView, ContractInfo, ContractQueryView,
    EventView, MemberInfo, ProposalInfo, ReceiptView, StateView, StatusView, SubmitBatchView,
    SubmitView, TxView,
};
/// Contract limits and names the builders check (docs/spec/contracts.md).
pub use meridian_contract::{
    check_name as check_contract_name, MAX_CODE_LEN, MAX_FUEL_PER_TX, MAX_MSG_LEN, MAX_PART_LEN,
};
/// Governance types (proposals, actions, thresholds) of the identity module.
pub use meridian_identity_module::{Action, Proposal, Status as ProposalStatus, Threshold};
