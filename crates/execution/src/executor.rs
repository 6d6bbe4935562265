//! Block execution.

use std::collections::BTreeMap;
use std::sync::Arc;

use meridian_types::{
    merkle_root, tx_root, Address, Call, ChainId, Encode, Event, Hash32, HashFn, Receipt, SignedTx,
    SignerId,
};

use crate::context::TxContext;
use crate::overlay::{Overlay, StateRead, WriteSet};
use crate::{codes, Module, ModuleError};

/// Checks a transaction's signature. The node implements it with a verify-once cache, so a
/// signature checked when the transaction entered the mempool is not checked again here.
pub trait TxAuthenticator {
    fn authenticate(&self, tx: &SignedTx, tx_hash: &Hash32) -> bool;
}

/// Why a signer may not send a call: a stable code (`auth.unknown_member`, `auth.denied`,
/// `cert.revoked`, ...) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub code: &'static str,
    pub message: String,
}

/// Who may send what, decided from the state the transaction executes on (so a revocation or a
/// policy change earlier in the same block applies to the rest of it). Consulted for every
/// transaction after its signature and nonce are checked and before its call runs.
pub trait AccessControl: Send + Sync {
    /// The signer's identity for the receipt (`None` on a chain without certificates), or why
    /// the signer may not make this call.
    fn authorize(
        &self,
        state: &dyn StateRead,
        env: &BlockEnv,
        sender: &Address,
        sender_key: &[u8],
        call: &Call,
    ) -> Result<Option<SignerId>, Denial>;
}

/// The block being executed.
#[derive(Clone, Debug)]
pub struct BlockEnv {
    pub chain_id: ChainId,
    pub height: u64,
    pub time_ms: u64,
}

/// How to treat a transaction that may not be included at all (bad signature, wrong chain,
/// expired, wrong nonce): a proposer drops it; a verifier rejects the whole block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecMode {
    Propose,
    Verify,
}

/// Why a transaction cannot be included in a block. Stable codes via `code()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("transaction is for chain {0}")]
    WrongChain(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("transaction expired at height {expiry}, block height is {height}")]
    Expired { expiry: u64, height: u64 },
    #[error("nonce {got}, expected {expected}")]
    BadNonce { got: u64, expected: u64 },
    #[error("transaction appears twice in the block")]
    Duplicate,
    #[error("{}: {}", .0.code, .0.message)]
    Denied(Denial),
}

impl AdmissionError {
    pub fn code(&self) -> &'static str {
        match self {
            AdmissionError::WrongChain(_) => codes::WRONG_CHAIN,
            AdmissionError::BadSignature => codes::BAD_SIGNATURE,
            AdmissionError::Expired { .. } => codes::EXPIRED,
            AdmissionError::BadNonce { .. } => codes::BAD_NONCE,
            AdmissionError::Duplicate => codes::DUPLICATE,
            AdmissionError::Denied(d) => d.code,
        }
    }
}

/// The result of executing a block.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Transactions actually included, in order (in `Propose` mode some may have been dropped).
    pub txs: Vec<SignedTx>,
    pub tx_hashes: Vec<Hash32>,
    pub receipts: Vec<Receipt>,
    /// All state writes of the block, ordered by key.
    pub writes: WriteSet,
    /// Merkle root over the hashes of the full signed transaction encodings.
    pub tx_root: Hash32,
    /// Merkle root over the hashes of the encoded receipts.
    pub receipts_root: Hash32,
    /// Transactions dropped in `Propose` mode, with the reason.
    pub dropped: Vec<(Hash32, AdmissionError)>,
}

/// What one transaction did, before it is given its place in the block.
pub(crate) enum TxEffect {
    /// Inadmissible: dropped by a proposer, fatal to the block for a verifier.
    Rejected(AdmissionError),
    Included(Included),
}

/// An included transaction's effects.
pub(crate) struct Included {
    pub(crate) sender: Address,
    pub(crate) signer: Option<SignerId>,
    /// The call's writes (none if it failed), then the sender's next nonce.
    pub(crate) writes: WriteSet,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) events: Vec<Event>,
    pub(crate) gas_used: u64,
}

impl Included {
    /// The receipt of the transaction at position `index` among the block's included ones,
    /// and its writes.
    pub(crate) fn into_receipt(
        self,
        tx_hash: Hash32,
        height: u64,
        index: u32,
    ) -> (Receipt, WriteSet) {
        let receipt = Receipt {
            tx_hash,
            height,
            index,
            sender: self.sender,
            code: self.code,
            message: self.message,
            events: self.events,
            signer: self.signer,
            gas_used: self.gas_used,
        };
        (receipt, self.writes)
    }
}

/// A receipt's index: its position among the block's included transactions.
pub(crate) fn receipt_index(included_before: usize) -> u32 {
    u32::try_from(included_before).unwrap_or(u32::MAX)
}

impl BlockOutcome {
    /// Appends an included transaction and hands back its writes.
    pub(crate) fn include(
        &mut self,
        tx: SignedTx,
        tx_hash: Hash32,
        height: u64,
        included: Included,
    ) -> WriteSet {
        let index = receipt_index(self.txs.len());
        let (receipt, writes) = included.into_receipt(tx_hash, height, index);
        self.receipts.push(receipt);
        self.tx_hashes.push(tx_hash);
        self.txs.push(tx);
        writes
    }

    /// Sets the block's writes and computes the roots.
    pub(crate) fn seal(&mut self, hash: &dyn HashFn, writes: WriteSet) {
        self.writes = writes;
        self.tx_root = tx_root(hash, &self.txs);
        let receipt_hashes: Vec<Hash32> = self
            .receipts
            .iter()
            .map(|r| hash.hash(&r.encode()))
            .collect();
        self.receipts_root = merkle_root(hash, &receipt_hashes);
    }
}

/// State key of an account's next nonce.
pub fn nonce_key(addr: &Address) -> Vec<u8> {
    let mut k = b"auth/nonce/".to_vec();
    k.extend_from_slice(&addr.0);
    k
}

fn read_nonce(state: &dyn StateRead, addr: &Address) -> u64 {
    state
        .get(&nonce_key(addr))
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// Runs transactions through the registered modules.
#[derive(Clone)]
pub struct Executor {
    modules: BTreeMap<&'static str, Arc<dyn Module>>,
    access: Option<Arc<dyn AccessControl>>,
}

impl Executor {
    pub fn new(modules: Vec<Arc<dyn Module>>) -> Self {
        Self {
            modules: modules.into_iter().map(|m| (m.name(), m)).collect(),
            access: None,
        }
    }

    /// Adds an access-control layer (certificates, roles, policies).
    pub fn with_access(mut self, access: Arc<dyn AccessControl>) -> Self {
        self.access = Some(access);
        self
    }

    /// Asks the access-control layer (if any) whether `tx`'s signer may make its call.
    pub fn authorize(
        &self,
        state: &dyn StateRead,
        env: &BlockEnv,
        sender: &Address,
        tx: &SignedTx,
    ) -> Result<Option<SignerId>, Denial> {
        match &self.access {
            None => Ok(None),
            Some(a) => a.authorize(state, env, sender, &tx.body.sender, &tx.body.call),
        }
    }

    /// The next nonce an account must use, as seen by `state`.
    pub fn next_nonce(state: &dyn StateRead, addr: &Address) -> u64 {
        read_nonce(state, addr)
    }

    /// Checks whether a transaction may be included at `env` given `state`.
    pub fn admit(
        &self,
        hash: &dyn HashFn,
        auth: &dyn TxAuthenticator,
        state: &dyn StateRead,
        env: &BlockEnv,
        tx: &SignedTx,
        tx_hash: &Hash32,
    ) -> Result<(Address, Option<SignerId>), AdmissionError> {
        if tx.body.chain_id != env.chain_id {
            return Err(AdmissionError::WrongChain(tx.body.chain_id.to_string()));
        }
        if tx.body.expiry_height < env.height {
            return Err(AdmissionError::Expired {
                expiry: tx.body.expiry_height,
                height: env.height,
            });
        }
        let sender = Address::from_public_key(hash, &tx.body.sender);
        let expected = read_nonce(state, &sender);
        if tx.body.nonce != expected {
            return Err(AdmissionError::BadNonce {
                got: tx.body.nonce,
                expected,
            });
        }
        if !auth.authenticate(tx, tx_hash) {
            return Err(AdmissionError::BadSignature);
        }
        let signer = self
            .authorize(state, env, &sender, tx)
            .map_err(AdmissionError::Denied)?;
        Ok((sender, signer))
    }

    /// Executes `txs` in order on top of `base`.
    ///
    /// In [`ExecMode::Verify`] any inadmissible transaction makes the whole block invalid
    /// (returned as `Err((index, reason))`); in [`ExecMode::Propose`] it is dropped.
    pub fn execute_block(
        &self,
        hash: &dyn HashFn,
        auth: &dyn TxAuthenticator,
        base: &dyn StateRead,
        env: &BlockEnv,
        txs: Vec<SignedTx>,
        mode: ExecMode,
    ) -> Result<BlockOutcome, (usize, AdmissionError)> {
        let mut block_state = Overlay::new(base);
        let mut out = BlockOutcome::default();
        let mut seen = std::collections::HashSet::new();
        for (i, tx) in txs.into_iter().enumerate() {
            let tx_hash = tx.hash(hash);
            let duplicate = seen.contains(&tx_hash);
            match self.apply_tx(hash, auth, &block_state, env, &tx, &tx_hash, duplicate) {
                TxEffect::Rejected(e) => match mode {
                    ExecMode::Verify => return Err((i, e)),
                    ExecMode::Propose => out.dropped.push((tx_hash, e)),
                },
                TxEffect::Included(included) => {
                    seen.insert(tx_hash);
                    let writes = out.include(tx, tx_hash, env.height, included);
                    block_state.merge(writes);
                }
            }
        }
        out.seal(hash, block_state.into_writes());
        Ok(out)
    }

    /// One transaction of a block on `state` (the block's state before it): admission, then
    /// the call. `duplicate` says whether the same transaction was already included earlier in
    /// the block. Shared by the sequential and the parallel executor, so both run the exact
    /// same per-transaction logic.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply_tx(
        &self,
        hash: &dyn HashFn,
        auth: &dyn TxAuthenticator,
        state: &dyn StateRead,
        env: &BlockEnv,
        tx: &SignedTx,
        tx_hash: &Hash32,
        duplicate: bool,
    ) -> TxEffect {
        let admitted = if duplicate {
            Err(AdmissionError::Duplicate)
        } else {
            self.admit(hash, auth, state, env, tx, tx_hash)
        };
        let (sender, signer) = match admitted {
            Ok(s) => s,
            Err(e) => return TxEffect::Rejected(e),
        };
        let (result, gas_used) = self.run_call(hash, state, env, tx, sender, *tx_hash);
        let (mut writes, code, message, events) = match result {
            Ok((writes, events)) => (writes, codes::OK.to_string(), String::new(), events),
            Err(e) => {
                // Cut on a character boundary: a module's (or a contract's) message is
                // arbitrary UTF-8, and `String::truncate` inside a character panics.
                let mut msg = e.message;
                let mut end = msg.len().min(meridian_types::MAX_ERROR_MESSAGE_LEN);
                while !msg.is_char_boundary(end) {
                    end -= 1;
                }
                msg.truncate(end);
                (WriteSet::new(), e.code, msg, Vec::new())
            }
        };
        // The nonce advances whether or not the call succeeded.
        writes.insert(
            nonce_key(&sender),
            Some((tx.body.nonce + 1).to_be_bytes().to_vec()),
        );
        TxEffect::Included(Included {
            sender,
            signer,
            writes,
            code,
            message,
            events,
            gas_used,
        })
    }

    fn run_call(
        &self,
        hash: &dyn HashFn,
        state: &dyn StateRead,
        env: &BlockEnv,
        tx: &SignedTx,
        sender: Address,
        tx_hash: Hash32,
    ) -> (
        Result<(WriteSet, Vec<meridian_types::Event>), ModuleError>,
        u64,
    ) {
        let call = &tx.body.call;
        let Some(module) = self.modules.get(call.module.as_str()) else {
            let e = ModuleError::new(codes::UNKNOWN_MODULE, format!("no module {}", call.module));
            return (Err(e), 0);
        };
        let mut ctx = TxContext::new(
            module.name(),
            state,
            hash,
            sender,
            &env.chain_id,
            env.height,
            env.time_ms,
            tx_hash,
        );
        let result = module.execute(&mut ctx, &call.method, &call.args);
        let (writes, events, gas_used) = ctx.finish();
        (result.map(|()| (writes, events)), gas_used)
    }
}
