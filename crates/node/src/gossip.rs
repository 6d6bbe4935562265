//! Transaction gossip: every transaction a node admits is relayed to its peers in batches.
//!
//! A batch is a `u16` count followed by length-prefixed encoded transactions (canonical codec
//! rules), at most [`MAX_BATCH_TXS`] per message. Received transactions go through the same
//! admission as client submissions (including the once-per-node signature check); ones that
//! are refused, e.g. already pooled, are simply not relayed again, which ends the flood.

use std::sync::Arc;

use commonware_p2p::{Receiver, Recipients, Sender};
use futures::channel::mpsc;
use futures::{FutureExt as _, StreamExt as _};
use meridian_mempool::MempoolError;
use meridian_types::{Hash32, Reader, Writer, MAX_TX_BYTES};

use crate::ledger::Ledger;

/// Most transactions in one gossip message.
pub const MAX_BATCH_TXS: usize = 512;
/// Queue of locally admitted transactions waiting to be relayed.
pub const GOSSIP_QUEUE: usize = 65_536;

/// Encodes a batch.
pub fn encode_batch(txs: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u16(u16::try_from(txs.len()).unwrap_or(u16::MAX));
    for t in txs {
        w.bytes(t);
    }
    w.into_bytes()
}

/// Decodes a batch from an untrusted peer.
pub fn decode_batch(raw: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut r = Reader::new(raw);
    let n = r.u16("batch.count").ok()? as usize;
    if n > MAX_BATCH_TXS {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(r.bytes(MAX_TX_BYTES, "batch.tx").ok()?);
    }
    r.finish().ok()?;
    Some(out)
}

/// Submits transactions to the local ledger and queues them for gossip. Cheap to clone.
#[derive(Clone)]
pub struct Submitter {
    ledger: Arc<Ledger>,
    queue: mpsc::Sender<Vec<u8>>,
}

impl Submitter {
    /// Admits `raw` into the local pool and, on success, queues it for relay.
    pub fn submit(&self, raw: Vec<u8>) -> Result<Hash32, MempoolError> {
        let h = self.ledger.submit(&raw)?;
        // A full relay queue only delays spreading: the transaction is pooled here and this
        // node proposes it when it leads.
        let _ = self.queue.clone().try_send(raw);
        Ok(h)
    }
    /// Admits many transactions (see [`Ledger::submit_batch`]) and queues the accepted ones
    /// for relay. Results are in input order.
    pub fn submit_batch(&self, raws: Vec<Vec<u8>>) -> Vec<Result<Hash32, MempoolError>> {
        let results = self.ledger.submit_batch(&raws);
        let mut queue = self.queue.clone();
        for (raw, r) in raws.into_iter().zip(&results) {
            if r.is_ok() {
                let _ = queue.try_send(raw);
            }
        }
        results
    }
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }
}

/// Creates the submitter and the receiving half for [`run_gossip`].
pub fn submitter(ledger: Arc<Ledger>) -> (Submitter, mpsc::Receiver<Vec<u8>>) {
    let (tx, rx) = mpsc::channel(GOSSIP_QUEUE);
    (Submitter { ledger, queue: tx }, rx)
}

/// Relays local transactions and admits peers' transactions until both sides close.
pub async fn run_gossip<S, R>(
    ledger: Arc<Ledger>,
    mut sender: S,
    mut receiver: R,
    mut local: mpsc::Receiver<Vec<u8>>,
) where
    S: Sender,
    R: Receiver,
{
    loop {
        futures::select! {
            msg = receiver.recv().fuse() => {
                let Ok((_peer, buf)) = msg else { return };
                let Some(txs) = decode_batch(buf.as_ref()) else { continue };
                // Peers' transactions are not re-relayed: every validator hears from the
                // submitting node directly (full mesh), which keeps gossip traffic linear.
                let _ = ledger.submit_batch(&txs);
            }
            first = local.next() => {
                let Some(first) = first else { return };
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH_TXS {
                    match local.try_recv() {
                        Ok(t) => batch.push(t),
                        _ => break,
                    }
                }
                sender.send(Recipients::All, encode_batch(&batch), false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_roundtrip_and_bounds() {
        let txs = vec![vec![1, 2, 3], vec![], vec![9; 100]];
        assert_eq!(decode_batch(&encode_batch(&txs)).unwrap(), txs);
        let mut raw = encode_batch(&txs);
        raw.push(0);
        assert!(decode_batch(&raw).is_none());
        let mut w = Writer::new();
        w.u16(u16::MAX);
        assert!(decode_batch(&w.into_bytes()).is_none());
    }
}
