//! The transaction pool.
//!
//! Admission runs the cheap checks first (size, decoding, chain id, expiry, nonce window,
//! capacity) and the signature check last, exactly once per transaction per node: the
//! [`VerifiedSet`] remembers what this node already verified so block execution does not
//! verify the same signature again. On a 2-core machine with 4 validators signature checks set
//! the throughput ceiling, so every avoided verification is throughput.
//!
//! Memory is bounded: a global transaction and byte cap, and a per-sender cap that also bounds
//! how far ahead of its committed nonce a sender may queue.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use meridian_types::{Address, ChainId, Encode, Hash32, HashFn, SignedTx, MAX_TX_BYTES};

/// Why a transaction was refused. `code()` strings are stable and shared with the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    #[error("transaction is {0} bytes, above the limit of {MAX_TX_BYTES}")]
    Oversized(usize),
    #[error("transaction bytes do not decode: {0}")]
    Malformed(String),
    #[error("transaction is for chain {got}, this chain is {expected}")]
    WrongChain { got: String, expected: String },
    #[error("signature does not verify for the sender key under this chain's domain")]
    BadSignature,
    #[error("transaction expired at height {expiry}; the chain is at {height}")]
    Expired { expiry: u64, height: u64 },
    #[error("nonce {got} was already used; the sender's next nonce is {next}")]
    StaleNonce { got: u64, next: u64 },
    #[error("transaction is already in the pool")]
    Replayed,
    #[error("another pooled transaction already uses nonce {0} for this sender")]
    NonceTaken(u64),
    #[error("sender has {0} pending transactions, the per-sender limit")]
    SenderFull(usize),
    #[error("pool is full")]
    PoolFull,
    /// The chain's access control refuses the signer (certificate mode): unknown member,
    /// expired / not yet valid / revoked certificate, untrusted CA, or a role the call's
    /// policy does not allow.
    #[error("{message}")]
    Denied { code: &'static str, message: String },
}

impl MempoolError {
    pub fn code(&self) -> &'static str {
        match self {
            MempoolError::Oversized(_) => "tx.oversized",
            MempoolError::Malformed(_) => "tx.malformed",
            MempoolError::WrongChain { .. } => "tx.wrong_chain",
            MempoolError::BadSignature => "tx.bad_signature",
            MempoolError::Expired { .. } => "tx.expired",
            MempoolError::StaleNonce { .. } => "tx.stale_nonce",
            MempoolError::Replayed => "tx.replayed",
            MempoolError::NonceTaken(_) => "tx.nonce_taken",
            MempoolError::SenderFull(_) => "mempool.sender_full",
            MempoolError::PoolFull => "mempool.full",
            MempoolError::Denied { code, .. } => code,
        }
    }

    /// Every code, for metrics and API documentation.
    pub const ALL_CODES: [&'static str; 16] = [
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
}

/// Pool limits.
#[derive(Clone, Debug)]
pub struct MempoolConfig {
    pub max_txs: usize,
    pub max_bytes: usize,
    pub max_per_sender: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_txs: 200_000,
            max_bytes: 256 * 1024 * 1024,
            max_per_sender: 1024,
        }
    }
}

/// Remembers `(tx hash, signature)` pairs this node verified, bounded FIFO.
#[derive(Debug)]
pub struct VerifiedSet {
    cap: usize,
    set: HashSet<(Hash32, Vec<u8>)>,
    order: VecDeque<(Hash32, Vec<u8>)>,
}

impl VerifiedSet {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            set: HashSet::new(),
            order: VecDeque::new(),
        }
    }
    pub fn contains(&self, tx_hash: &Hash32, signature: &[u8]) -> bool {
        self.set.contains(&(*tx_hash, signature.to_vec()))
    }
    pub fn insert(&mut self, tx_hash: Hash32, signature: Vec<u8>) {
        let k = (tx_hash, signature);
        if self.set.insert(k.clone()) {
            self.order.push_back(k);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// A decoded transaction with the values admission derives from it, each computed once.
pub struct Admission {
    pub tx: SignedTx,
    pub encoded_len: usize,
    /// The transaction id (suite hash of the encoded body).
    pub tx_hash: Hash32,
    pub sender: Address,
}

impl Admission {
    pub fn new(tx: SignedTx, encoded_len: usize, hash: &dyn HashFn) -> Self {
        let tx_hash = tx.hash(hash);
        let sender = Address::from_public_key(hash, &tx.body.sender);
        Self {
            tx,
            encoded_len,
            tx_hash,
            sender,
        }
    }
}

struct Entry {
    tx: SignedTx,
    sender: Address,
    bytes: usize,
}

/// What the pool needs to know about the chain to admit a transaction.
pub struct ChainView<'a> {
    pub chain_id: &'a ChainId,
    /// Height of the next block (transactions with `expiry_height` below it are expired).
    pub next_height: u64,
}

/// The pool itself. Not thread-safe: the node wraps it in a lock.
pub struct Mempool {
    cfg: MempoolConfig,
    by_hash: HashMap<Hash32, Entry>,
    by_sender: BTreeMap<Address, BTreeMap<u64, Hash32>>,
    bytes: usize,
}

impl Mempool {
    pub fn new(cfg: MempoolConfig) -> Self {
        Self {
            cfg,
            by_hash: HashMap::new(),
            by_sender: BTreeMap::new(),
            bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    pub fn contains(&self, h: &Hash32) -> bool {
        self.by_hash.contains_key(h)
    }

    /// Admits raw transaction bytes. `next_nonce` gives a sender's next nonce in the latest
    /// committed state; `verify` checks the signature and is called at most once, after every
    /// cheaper check passed. On success the hash is also recorded in `verified`.
    pub fn insert_bytes(
        &mut self,
        raw: &[u8],
        hash: &dyn HashFn,
        view: &ChainView<'_>,
        next_nonce: impl Fn(&Address) -> u64,
        verified: &mut VerifiedSet,
        verify: impl FnOnce(&SignedTx) -> bool,
    ) -> Result<Hash32, MempoolError> {
        if raw.len() > MAX_TX_BYTES {
            return Err(MempoolError::Oversized(raw.len()));
        }
        let tx =
            SignedTx::decode_untrusted(raw).map_err(|e| MempoolError::Malformed(e.to_string()))?;
        self.insert(tx, raw.len(), hash, view, next_nonce, verified, verify)
    }

    /// Admits a decoded transaction; see [`Mempool::insert_bytes`].
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &mut self,
        tx: SignedTx,
        encoded_len: usize,
        hash: &dyn HashFn,
        view: &ChainView<'_>,
        next_nonce: impl Fn(&Address) -> u64,
        verified: &mut VerifiedSet,
        verify: impl FnOnce(&SignedTx) -> bool,
    ) -> Result<Hash32, MempoolError> {
        let admission = Admission::new(tx, encoded_len, hash);
        self.check(&admission, view, &next_nonce)?;
        if !verified.contains(&admission.tx_hash, &admission.tx.signature) {
            if !verify(&admission.tx) {
                return Err(MempoolError::BadSignature);
            }
            verified.insert(admission.tx_hash, admission.tx.signature.clone());
        }
        self.insert_verified(admission, view, &next_nonce)
    }

    /// Every admission check except the signature, cheapest first. Callers that verify the
    /// signature outside the pool's lock run this first, so a transaction that would be refused
    /// anyway costs no signature verification.
    pub fn check(
        &self,
        a: &Admission,
        view: &ChainView<'_>,
        next_nonce: &impl Fn(&Address) -> u64,
    ) -> Result<(), MempoolError> {
        let tx = &a.tx;
        if a.encoded_len > MAX_TX_BYTES {
            return Err(MempoolError::Oversized(a.encoded_len));
        }
        if &tx.body.chain_id != view.chain_id {
            return Err(MempoolError::WrongChain {
                got: tx.body.chain_id.to_string(),
                expected: view.chain_id.to_string(),
            });
        }
        if tx.body.expiry_height < view.next_height {
            return Err(MempoolError::Expired {
                expiry: tx.body.expiry_height,
                height: view.next_height,
            });
        }
        if self.by_hash.contains_key(&a.tx_hash) {
            return Err(MempoolError::Replayed);
        }
        let next = next_nonce(&a.sender);
        if tx.body.nonce < next {
            return Err(MempoolError::StaleNonce {
                got: tx.body.nonce,
                next,
            });
        }
        let queued = self.by_sender.get(&a.sender);
        if queued.is_some_and(|q| q.contains_key(&tx.body.nonce)) {
            return Err(MempoolError::NonceTaken(tx.body.nonce));
        }
        let pending = queued.map_or(0, |q| q.len());
        let window = u64::try_from(self.cfg.max_per_sender).unwrap_or(u64::MAX);
        if pending >= self.cfg.max_per_sender || tx.body.nonce - next >= window {
            return Err(MempoolError::SenderFull(pending));
        }
        if self.by_hash.len() >= self.cfg.max_txs || self.bytes + a.encoded_len > self.cfg.max_bytes
        {
            return Err(MempoolError::PoolFull);
        }
        Ok(())
    }

    /// Pools a transaction whose signature the caller has verified. The cheap checks run again
    /// because the pool may have changed since [`Mempool::check`].
    pub fn insert_verified(
        &mut self,
        a: Admission,
        view: &ChainView<'_>,
        next_nonce: &impl Fn(&Address) -> u64,
    ) -> Result<Hash32, MempoolError> {
        self.check(&a, view, next_nonce)?;
        self.by_sender
            .entry(a.sender)
            .or_default()
            .insert(a.tx.body.nonce, a.tx_hash);
        self.bytes += a.encoded_len;
        self.by_hash.insert(
            a.tx_hash,
            Entry {
                tx: a.tx,
                sender: a.sender,
                bytes: a.encoded_len,
            },
        );
        Ok(a.tx_hash)
    }

    /// Picks transactions for a block: for each sender, consecutive nonces starting at its next
    /// nonce in the proposal's parent state; senders are interleaved round-robin so one busy
    /// account cannot starve others. Stops at `max_txs` or `max_bytes`.
    pub fn select(
        &self,
        max_txs: usize,
        max_bytes: usize,
        next_nonce: impl Fn(&Address) -> u64,
    ) -> Vec<SignedTx> {
        let mut queues: Vec<std::vec::IntoIter<&Hash32>> = Vec::new();
        for (sender, q) in &self.by_sender {
            let first = next_nonce(sender);
            let run: Vec<&Hash32> = q
                .range(first..)
                .zip(first..)
                .take_while(|((nonce, _), expect)| *nonce == expect)
                .map(|((_, h), _)| h)
                .collect();
            if !run.is_empty() {
                queues.push(run.into_iter());
            }
        }
        let mut out = Vec::new();
        let mut bytes = 0usize;
        'outer: while !queues.is_empty() {
            let mut i = 0;
            while i < queues.len() {
                match queues[i].next() {
                    Some(h) => {
                        let Some(e) = self.by_hash.get(h) else {
                            i += 1;
                            continue;
                        };
                        if out.len() >= max_txs || bytes + e.bytes > max_bytes {
                            break 'outer;
                        }
                        bytes += e.bytes;
                        out.push(e.tx.clone());
                        i += 1;
                    }
                    None => {
                        queues.swap_remove(i);
                    }
                }
            }
        }
        out
    }

    /// Drops transactions that can no longer execute: included (nonce below the next nonce of
    /// a sender in `touched`, the senders of the block just committed) or expired at
    /// `next_height`.
    pub fn prune(
        &mut self,
        next_height: u64,
        touched: &BTreeSet<Address>,
        next_nonce: impl Fn(&Address) -> u64,
    ) {
        let mut dead = Vec::new();
        for (sender, q) in &self.by_sender {
            // Only a block's own senders can have advanced their nonce: reading the state for
            // every pooled sender would cost a storage read per sender per block.
            let next = if touched.contains(sender) {
                next_nonce(sender)
            } else {
                0
            };
            for (nonce, h) in q {
                let expired = self
                    .by_hash
                    .get(h)
                    .is_some_and(|e| e.tx.body.expiry_height < next_height);
                if *nonce < next || expired {
                    dead.push(*h);
                }
            }
        }
        for h in dead {
            self.remove(&h);
        }
    }

    /// Removes one transaction.
    pub fn remove(&mut self, h: &Hash32) {
        if let Some(e) = self.by_hash.remove(h) {
            self.bytes -= e.bytes;
            if let Some(q) = self.by_sender.get_mut(&e.sender) {
                q.remove(&e.tx.body.nonce);
                if q.is_empty() {
                    self.by_sender.remove(&e.sender);
                }
            }
        }
    }

    /// Encoded bytes of a pooled transaction (for gossip).
    pub fn get_encoded(&self, h: &Hash32) -> Option<Vec<u8>> {
        self.by_hash.get(h).map(|e| e.tx.encode())
    }
}

#[cfg(test)]
mod tests;
