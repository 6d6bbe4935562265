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
use meridian_consensus::{Ancestors, Application, BlockContext, Digested};
use std::{
    collections::BTreeMap,
    convert::Infallible,
    marker::PhantomData,
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

pub fn next_root(parent_root: &Digest, height: u64, proposer: &[u8]) -> Digest {
    Sha256::hash(&[parent_root.as_ref(), &height.to_be_bytes(), proposer])
}

pub fn genesis() -> TestBlock {
    TestBlock {
        parent: Sha256::hash(&[b"meridian-test-genesis-parent"]),
        height: 0,
        timestamp_ms: 0,
        proposer: Bytes::new(),
        state_root: Sha256::hash(&[b"meridian-test-genesis-state"]),
    }
}

/// One finalized block as the application persisted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
    pub digest: Digest,
    pub state_root: Digest,
    pub certificate: Option<Bytes>,
}

/// The application's "durable" store: shared between a crashed instance and its restart, as a
/// disk would be.
#[derive(Default, Debug)]
pub struct Store {
    pub finalized: BTreeMap<u64, Finalized>,
    pub deliveries: u64,
    pub redeliveries: u64,
}

pub struct TestApp<P> {
    pub store: Arc<Mutex<Store>>,
    _marker: PhantomData<fn() -> P>,
}

impl<P> Clone for TestApp<P> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            _marker: PhantomData,
        }
    }
}

impl<P> Default for TestApp<P> {
    fn default() -> Self {
        Self {
            store: Arc::default(),
            _marker: PhantomData,
        }
    }
}

impl<P> TestApp<P> {
    pub fn height(&self) -> Option<u64> {
        self.store
            .lock()
            .unwrap()
            .finalized
            .last_key_value()
            .map(|(h, _)| *h)
    }

    pub fn digest_at(&self, height: u64) -> Option<Digest> {
        self.store
            .lock()
            .unwrap()
            .finalized
            .get(&height)
            .map(|f| f.digest)
    }

    pub fn history(&self) -> BTreeMap<u64, Finalized> {
        self.store.lock().unwrap().finalized.clone()
    }
}

impl<P: PublicKey> Application<TestBlock, P> for TestApp<P> {
    type Error = Infallible;

    fn genesis(&self) -> TestBlock {
        genesis()
    }

    async fn propose(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<TestBlock>,
        _ancestors: Ancestors<TestBlock>,
    ) -> Option<TestBlock> {
        let proposer = Bytes::from(context.leader.encode().to_vec());
        Some(TestBlock {
            parent: parent.digest(),
            height: context.height,
            timestamp_ms: context.now_ms.max(parent.inner().timestamp_ms + 1),
            state_root: next_root(&parent.inner().state_root, context.height, &proposer),
            proposer,
        })
    }

    async fn verify(
        &mut self,
        context: BlockContext<P>,
        parent: Digested<TestBlock>,
        block: Digested<TestBlock>,
        _ancestors: Ancestors<TestBlock>,
    ) -> bool {
        let block = block.inner();
        let parent = parent.inner();
        block.proposer.as_ref() == context.leader.encode().as_ref()
            && block.timestamp_ms > parent.timestamp_ms
            && block.state_root == next_root(&parent.state_root, block.height, &block.proposer)
    }

    async fn finalized(
        &mut self,
        block: Digested<TestBlock>,
        certificate: Option<Bytes>,
    ) -> Result<(), Infallible> {
        let mut store = self.store.lock().unwrap();
        store.deliveries += 1;
        let height = block.inner().height;
        let entry = Finalized {
            digest: block.digest(),
            state_root: block.inner().state_root,
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
                block.inner().parent,
                "finalized chain broken at {height}"
            );
        }
        store.finalized.insert(height, entry);
        Ok(())
    }
}
