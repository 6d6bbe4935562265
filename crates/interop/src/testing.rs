//! A counterparty chain for tests (feature `testing`): real JMT state (`meridian_storage`),
//! real headers, real finalization certificates signed by its validator keys. Nothing here is
//! mocked from the verifier's point of view — only consensus is replaced by "every validator
//! signs".

use std::collections::BTreeMap;

use meridian_crypto::finality::testing::sign_finalization;
use meridian_crypto::{PrivateKey, PublicKey, Suite};
use meridian_storage::{BlockCommit, Store};
use meridian_types::{ChainId, Encode, Header, ValidatorEntry, ValidatorSet, VALIDATORS_KEY};

use crate::client::{HeaderUpdate, SignedHeader, ValidatorSetProof};
use crate::proof::hash_kind;

type Writes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// A chain that commits blocks on demand.
pub struct TestChain {
    pub chain_id: ChainId,
    pub suite: Suite,
    pub epoch_blocks: u64,
    store: Store,
    _dir: tempfile::TempDir,
    /// Signing keys by epoch (epoch `e + 1` learns the set in state at the end of `e`).
    signing: BTreeMap<u64, Vec<PrivateKey>>,
    /// The set currently written in `chain/validators`.
    current: Vec<PrivateKey>,
    headers: Vec<SignedHeader>,
    pub time_ms: u64,
}

fn set_value(keys: &[PrivateKey]) -> Vec<u8> {
    ValidatorSet(
        keys.iter()
            .enumerate()
            .map(|(i, k)| ValidatorEntry {
                name: format!("v{i}"),
                public_key: k.public_key().as_bytes().to_vec(),
            })
            .collect(),
    )
    .encode()
}

impl TestChain {
    /// Genesis at `time_ms` with `n` validators derived from `seed`.
    pub fn new(
        chain_id: &str,
        suite: Suite,
        n: u8,
        epoch_blocks: u64,
        time_ms: u64,
        seed: u8,
    ) -> Self {
        let keys: Vec<_> = (0..n)
            .map(|i| PrivateKey::from_seed(suite, &[seed.wrapping_add(i); 32]))
            .collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), hash_kind(suite)).expect("store");
        let state = store
            .prepare(
                None,
                0,
                vec![(VALIDATORS_KEY.to_vec(), Some(set_value(&keys)))],
            )
            .expect("genesis");
        let chain_id = ChainId::new(chain_id).expect("chain id");
        let header = Header {
            chain_id: chain_id.clone(),
            height: 0,
            parent: [0; 32],
            timestamp_ms: time_ms,
            view: 0,
            proposer: Vec::new(),
            tx_root: [0; 32],
            receipts_root: [0; 32],
            state_root: state.root(),
        };
        store
            .commit(BlockCommit {
                height: 0,
                block_hash: suite.hash(&header.encode()).0,
                block: header.encode(),
                certificate: Vec::new(),
                txs: Vec::new(),
                receipts: Vec::new(),
                state,
            })
            .expect("commit genesis");
        Self {
            chain_id,
            suite,
            epoch_blocks,
            store,
            _dir: dir,
            signing: BTreeMap::from([(0, keys.clone())]),
            current: keys,
            headers: vec![SignedHeader {
                header,
                certificate: Vec::new(),
            }],
            time_ms,
        }
    }

    pub fn height(&self) -> u64 {
        self.headers.len() as u64 - 1
    }

    /// The validator keys of `epoch` (as a verifier sees them).
    pub fn validators(&self, epoch: u64) -> Vec<PublicKey> {
        self.keys_of(epoch).iter().map(|k| k.public_key()).collect()
    }

    /// The signing keys of `epoch` (tests forge with them).
    pub fn keys_of(&self, epoch: u64) -> &[PrivateKey] {
        self.signing
            .range(..=epoch)
            .next_back()
            .map(|(_, k)| k.as_slice())
            .expect("genesis set")
    }

    /// Writes a new validator set into state with the next block; it signs from the epoch
    /// after the one that block ends.
    pub fn replace_validators(&mut self, keys: Vec<PrivateKey>) {
        self.current = keys;
    }

    /// Commits the next block with `writes`, `advance_ms` after the previous one, signed by
    /// every validator of its epoch. Returns its signed header.
    pub fn commit(&mut self, mut writes: Writes, advance_ms: u64) -> SignedHeader {
        let height = self.height() + 1;
        self.time_ms += advance_ms;
        writes.push((VALIDATORS_KEY.to_vec(), Some(set_value(&self.current))));
        let state = self.store.prepare(None, height, writes).expect("prepare");
        let parent = self
            .suite
            .hash(&self.headers[height as usize - 1].header.encode())
            .0;
        let header = Header {
            chain_id: self.chain_id.clone(),
            height,
            parent,
            timestamp_ms: self.time_ms,
            view: height,
            proposer: Vec::new(),
            tx_root: [0; 32],
            receipts_root: [0; 32],
            state_root: state.root(),
        };
        let epoch = height / self.epoch_blocks;
        let signed = self.sign(&header, epoch, None);
        self.store
            .commit(BlockCommit {
                height,
                block_hash: self.suite.hash(&header.encode()).0,
                block: header.encode(),
                certificate: signed.certificate.clone(),
                txs: Vec::new(),
                receipts: Vec::new(),
                state,
            })
            .expect("commit");
        if (height + 1).is_multiple_of(self.epoch_blocks) {
            self.signing.insert(epoch + 1, self.current.clone());
        }
        self.headers.push(signed.clone());
        signed
    }

    /// Signs `header` with the keys of `epoch`; `signers` picks validator indices (all if
    /// `None`).
    pub fn sign(&self, header: &Header, epoch: u64, signers: Option<&[usize]>) -> SignedHeader {
        let keys = self.keys_of(epoch);
        let all: Vec<usize> = (0..keys.len()).collect();
        let digest = self.suite.hash(&header.encode()).0;
        let certificate = sign_finalization(
            self.chain_id.as_str(),
            keys,
            signers.unwrap_or(&all),
            header.view.max(1),
            digest,
        );
        SignedHeader {
            header: header.clone(),
            certificate,
        }
    }

    pub fn signed_header(&self, height: u64) -> SignedHeader {
        self.headers[height as usize].clone()
    }

    /// The update a relayer would submit for `height` (with the next set at a boundary).
    pub fn update(&self, height: u64) -> HeaderUpdate {
        let signed = self.signed_header(height);
        let next_validators = (height + 1).is_multiple_of(self.epoch_blocks).then(|| {
            let (value, proof) = self.prove(VALIDATORS_KEY, height);
            ValidatorSetProof {
                validators: value.expect("validators in state"),
                proof,
            }
        });
        HeaderUpdate {
            signed,
            next_validators,
        }
    }

    /// The value of `key` at `height` and its encoded proof.
    pub fn prove(&self, key: &[u8], height: u64) -> (Option<Vec<u8>>, Vec<u8>) {
        let (value, proof) = self.store.get_with_proof(key, height).expect("proof");
        (value, proof.encode())
    }
}
