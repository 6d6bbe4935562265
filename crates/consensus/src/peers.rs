//! Telling the p2p layer who may connect in each epoch.
//!
//! At every epoch boundary consensus hands the new [`EpochMembers`] to a [`PeerTracker`]: the
//! validators become the network's primary peers, followers its secondary peers, and everyone
//! else is dropped. Peer-set ids are epoch numbers, so they only ever grow.

use crate::application::EpochMembers;
use commonware_cryptography::PublicKey;
use commonware_p2p::{Address, AddressableTrackedPeers, TrackedPeers};
use commonware_utils::ordered::{Map, Set};
use std::{collections::BTreeMap, sync::Arc};
use tracing::warn;

/// Receives the members of every epoch consensus enters.
pub trait PeerTracker<P: PublicKey>: Clone + Send + Sync + 'static {
    fn track(&mut self, epoch: u64, members: &EpochMembers<P>);
}

/// For networks that find peers by key alone (commonware's simulated network, any
/// [`commonware_p2p::Manager`]).
#[derive(Clone)]
pub struct TrackKeys<M>(pub M);

impl<M> PeerTracker<M::PublicKey> for TrackKeys<M>
where
    M: commonware_p2p::Manager + Sync,
{
    fn track(&mut self, epoch: u64, members: &EpochMembers<M::PublicKey>) {
        let peers = TrackedPeers::new(
            Set::from_iter_dedup(members.validators.iter().cloned()),
            Set::from_iter_dedup(members.followers.iter().cloned()),
        );
        let _ = self.0.track(epoch, peers);
    }
}

/// For networks that dial known addresses ([`commonware_p2p::authenticated::lookup`]): the
/// address book comes from the node's configuration. A member without a configured address
/// cannot be reached and is logged.
#[derive(Clone)]
pub struct TrackAddresses<M, P> {
    manager: M,
    addresses: Arc<BTreeMap<P, Address>>,
}

impl<M, P: PublicKey> TrackAddresses<M, P> {
    pub fn new(manager: M, addresses: BTreeMap<P, Address>) -> Self {
        Self {
            manager,
            addresses: Arc::new(addresses),
        }
    }

    fn map(&self, epoch: u64, keys: &[P]) -> Map<P, Address> {
        let mut out = Vec::new();
        for key in keys {
            match self.addresses.get(key) {
                Some(addr) => out.push((key.clone(), addr.clone())),
                None => warn!(epoch, peer = ?key, "epoch member has no configured address"),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        Map::try_from(out).unwrap_or_default()
    }
}

impl<M, P> PeerTracker<P> for TrackAddresses<M, P>
where
    P: PublicKey,
    M: commonware_p2p::AddressableManager<PublicKey = P> + Sync,
{
    fn track(&mut self, epoch: u64, members: &EpochMembers<P>) {
        let primary = self.map(epoch, &members.validators);
        let followers: Vec<P> = members
            .followers
            .iter()
            .filter(|k| !members.validators.contains(k))
            .cloned()
            .collect();
        let secondary = self.map(epoch, &followers);
        let _ = self
            .manager
            .track(epoch, AddressableTrackedPeers::new(primary, secondary));
    }
}
