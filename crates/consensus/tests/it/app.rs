//! A hash-chain test application: each block's "state root" is
//! `H(parent_root || height || proposer)`, so verify re-executes and compares, like the real
//! executor does with its JMT root.

use bytes::{BufMut, Bytes};
use commonware_codec::{
    Buf, Encode, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt, Write,
};
use commonware_consensus::{types::Height, Heightable};
use commonware_cryptography::{
    sha256::{Digest, Sha256},
    Digestible, Hasher, PublicKey,
};
use meridian_consensus::{
    tx_root, Ancestors, Application, BlockContext, ChainBlock, Digested, EpochMembers,
    MeridianBlock,
};
use meridian_crypto::Digest32;
use meridian_types::{ChainId, Header};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

const MAX_PROPOSER: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestBlock {
    pub parent: Digest,
    pub height: u64,
    pub timestamp_ms: u64,
    pub proposer: Bytes,
    pub state_root: Digest,
}

impl Write for TestBlock {
    fn write(&self, buf: &mut impl BufMut) {
        self.parent.write(buf);
        self.height.write(buf);
        self.timestamp_ms.write(buf);
        self.proposer.write(buf);
        self.state_root.write(buf);
    }
}

impl EncodeSize for TestBlock {
    fn encode_size(&self) -> usize {
        self.parent.encode_size()
            + self.height.encode_size()
            + self.timestamp_ms.encode_size()
            + self.proposer.encode_size()
            + self.state_root.encode_size()
    }
}

impl Read for TestBlock {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            parent: Digest::read(buf)?,
            height: u64::read(buf)?,
            timestamp_ms: u64::read(buf)?,
            proposer: Bytes::read_cfg(buf, &RangeCfg::from(..=MAX_PROPOSER))?,
            state_root: Digest::read(buf)?,
        })
    }
}

impl Digestible for TestBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        Sha256::hash(&[&self.encode()])
    }
}

impl Heightable for TestBlock {
    fn height(&self) -> Height {
        Height::new(self.height)
    }
}

impl commonware_consensus::Block for TestBlock {
    fn parent(&self) -> Digest {
        self.parent
    }
}

impl commonware_consensus::BoundedBlock for TestBlock {
    fn max_encode_size(_: &()) -> usize {
        32 + 8 + 8 + 10 + MAX_PROPOSER + 32
    }
}

pub fn next_root(parent_root: &[u8], height: u64, proposer: &[u8]) -> [u8; 32] {
    Sha256::hash(&[parent_root, &height.to_be_bytes(), proposer]).0
}

/// A block type the hash-chain app can build and check: "executing" a block means computing
/// `next_root(parent.state_root, height, proposer)`.
pub trait HashChain:
    ChainBlock + commonware_consensus::BoundedBlock + Clone + std::fmt::Debug
{
    fn codec_config() -> Self::Cfg;
    fn genesis() -> Self;
    fn child(parent: &Self, height: u64, view: u64, timestamp_ms: u64, proposer: Vec<u8>) -> Self;
    fn timestamp_ms(&self) -> u64;
    fn proposer(&self) -> &[u8];
    fn state_root(&self) -> [u8; 32];
}

impl HashChain for TestBlock {
    fn codec_config() {}

    fn genesis() -> Self {
        TestBlock {
            parent: Sha256::hash(&[b"meridian-test-genesis-parent"]),
            height: 0,
            timestamp_ms: 0,
            proposer: Bytes::new(),
            state_root: Sha256::hash(&[b"meridian-test-genesis-state"]),
        }
    }

    fn child(parent: &Self, height: u64, _view: u64, timestamp_ms: u64, proposer: Vec<u8>) -> Self {
        TestBlock {
            parent: parent.digest(),
            height,
            timestamp_ms,
            state_root: Digest::from(next_root(&parent.state_root, height, &proposer)),
            proposer: Bytes::from(proposer),
        }
    }

    fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    fn proposer(&self) -> &[u8] {
        &self.proposer
    }

    fn state_root(&self) -> [u8; 32] {
        self.state_root.0
    }
}

/// Meridian's real block type (`meridian-types`), hashed with the suite hash `H`.
impl<H: Hasher<Digest = Digest32>> HashChain for MeridianBlock<H> {
    fn codec_config() -> usize {
        meridian_types::MAX_BLOCK_BYTES
    }

    fn genesis() -> Self {
        let mut block = meridian_types::Block {
            header: Header {
                chain_id: ChainId::new(crate::harness::CHAIN_ID).unwrap(),
                height: 0,
                parent: [0; 32],
                timestamp_ms: 0,
                view: 0,
                proposer: Vec::new(),
                tx_root: [0; 32],
                receipts_root: [0; 32],
                state_root: Sha256::hash(&[b"meridian-test-genesis-state"]).0,
            },
            txs: Vec::new(),
        };
        block.header.tx_root = tx_root::<H>(&block);
        MeridianBlock::new(block)
    }

    fn child(parent: &Self, height: u64, view: u64, timestamp_ms: u64, proposer: Vec<u8>) -> Self {
        let mut block = meridian_types::Block {
            header: Header {
                chain_id: parent.block().header.chain_id.clone(),
                height,
                parent: parent.id().0,
                timestamp_ms,
                view,
                state_root: next_root(&parent.block().header.state_root, height, &proposer),
                proposer,
                tx_root: [0; 32],
                receipts_root: [0; 32],
            },
            txs: Vec::new(),
        };
        block.header.tx_root = tx_root::<H>(&block);
        MeridianBlock::new(block)
    }

    fn timestamp_ms(&self) -> u64 {
        self.block().header.timestamp_ms
    }

    fn proposer(&self) -> &[u8] {
        &self.block().header.proposer
    }

    fn state_root(&self) -> [u8; 32] {
        self.block().header.state_root
    }
}

/// One finalized block as the application persisted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized<D> {
    pub digest: D,
    pub state_root: [u8; 32],
    pub certificate: Option<Bytes>,
}

/// The application's "durable" store: shared between a crashed instance and its restart, as a
/// disk would be.
#[derive(Debug)]
pub struct Store<D> {
    pub finalized: BTreeMap<u64, Finalized<D>>,
    pub deliveries: u64,
    pub redeliveries: u64,
    /// Simulates a storage failure when asked to apply this height.
    pub fail_at: Option<u64>,
}

impl<D> Default for Store<D> {
    fn default() -> Self {
        Self {
            finalized: BTreeMap::new(),
            deliveries: 0,
            redeliveries: 0,
            fail_at: None,
        }
    }
}

/// Validator sets by the height from which the application's "state" records them (shared by
/// every app of a cluster, like chain state): `members_at(h)` is the newest entry at or below `h`.
pub type Schedule<P> = Arc<Mutex<BTreeMap<u64, EpochMembers<P>>>>;

pub struct TestApp<B: HashChain, P> {
    pub store: Arc<Mutex<Store<B::Digest>>>,
    pub schedule: Schedule<P>,
}

impl<B: HashChain, P> Clone for TestApp<B, P> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            schedule: self.schedule.clone(),
        }
    }
}

impl<B: HashChain, P> TestApp<B, P> {
    /// A fresh app whose chain state follows `schedule`.
    pub fn new(schedule: Schedule<P>) -> Self {
        Self {
            store: Arc::default(),
            schedule,
        }
    }
}

/// A schedule with one fixed validator set.
pub fn fixed<P>(validators: Vec<P>) -> Schedule<P> {
    let mut m = BTreeMap::new();
    m.insert(
        0,
        EpochMembers {
            validators,
            followers: Vec::new(),
        },
    );
    Arc::new(Mutex::new(m))
}

impl<B: HashChain, P> TestApp<B, P> {
    pub fn height(&self) -> Option<u64> {
        self.store
            .lock()
            .unwrap()
            .finalized
            .last_key_value()
            .map(|(h, _)| *h)
    }

    pub fn digest_at(&self, height: u64) -> Option<B::Digest> {
        self.store
            .lock()
            .unwrap()
            .finalized
            .get(&height)
            .map(|f| f.digest)
    }

    pub fn history(&self) -> BTreeMap<u64, Finalized<B::Digest>> {
        self.store.lock().unwrap().finalized.clone()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("disk full")]
pub struct DiskFull;

impl<B: HashChain, P: PublicKey> Application<B, P> for TestApp<B, P> {
    type Error = DiskFull;

    fn genesis(&self) -> B {
        B::genesis()
    }

    async fn propose(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<B>,
        _ancestors: Ancestors<B>,
    ) -> Option<B> {
        let parent = parent.inner();
        let timestamp = context.now_ms.max(parent.timestamp_ms() + 1);
        Some(B::child(
            parent,
            context.height,
            context.view,
            timestamp,
            context.leader.encode().to_vec(),
        ))
    }

    async fn verify(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<B>,
        block: Digested<B>,
        _ancestors: Ancestors<B>,
    ) -> bool {
        let (block, parent) = (block.inner(), parent.inner());
        let height = block.height().get();
        block.proposer() == context.leader.encode().as_ref()
            && block.timestamp_ms() > parent.timestamp_ms()
            && block.state_root() == next_root(&parent.state_root(), height, block.proposer())
    }

    fn members_at(&self, height: u64) -> Result<EpochMembers<P>, DiskFull> {
        self.schedule
            .lock()
            .unwrap()
            .range(..=height)
            .next_back()
            .map(|(_, m)| m.clone())
            .ok_or(DiskFull)
    }

    async fn finalized(
        &mut self,
        block: Digested<B>,
        certificate: Option<Bytes>,
    ) -> Result<(), DiskFull> {
        let mut store = self.store.lock().unwrap();
        store.deliveries += 1;
        let height = block.height().get();
        if store.fail_at == Some(height) {
            return Err(DiskFull);
        }
        let entry = Finalized {
            digest: block.digest(),
            state_root: block.inner().state_root(),
            certificate,
        };
        if let Some(existing) = store.finalized.get(&height) {
            // At-least-once delivery: a redelivered block must be the same block.
            assert_eq!(
                existing.digest, entry.digest,
                "two different finalized blocks at {height}"
            );
            store.redeliveries += 1;
            return Ok(());
        }
        if height > 0 {
            let parent = store
                .finalized
                .get(&(height - 1))
                .unwrap_or_else(|| panic!("finalized {height} delivered before its parent"));
            assert_eq!(
                parent.digest,
                block.inner().parent(),
                "finalized chain broken at {height}"
            );
        }
        store.finalized.insert(height, entry);
        Ok(())
    }
}
