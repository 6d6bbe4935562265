//! The relayer: an untrusted courier between two Meridian chains.
//!
//! It reads finalized headers, certificates, state proofs and interop events from one chain's
//! API and submits them as ordinary transactions to the other chain, whose `interop` module
//! verifies everything. So a relayer can delay, never forge; any number may run at once.
//!
//! Work is derived from chain state, not remembered: a packet is relayed while its commitment
//! exists on the source and the destination has no receipt; an acknowledgement is relayed
//! while the commitment exists; a packet past its timeout on the destination is timed out on
//! the source. The relayer keeps only a cache (packet data seen in `send_packet` events and
//! acknowledgements seen in `write_ack` events, plus how far it has scanned) in a state file,
//! so a restart continues where it stopped; losing the file only costs a rescan. A duplicate
//! delivery (another relayer was faster) is refused by the chain (`interop.already_received`,
//! `interop.no_commitment`) and counted, not retried.

mod chain;
mod metrics;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meridian_interop::{codes, paths, Acknowledgement, ChannelEnd, Ordering, Packet};
use meridian_interop_module::{InteropCall, InteropEvent};
use serde::{Deserialize, Serialize};

pub use chain::Endpoint;
pub use metrics::Metrics;

/// Relayer failures (I/O, API, decoding). Chain refusals of duplicates are not errors.
#[derive(Debug, thiserror::Error)]
pub enum RelayerError {
    #[error("{chain}: {source}")]
    Client {
        chain: String,
        #[source]
        source: meridian_client::ClientError,
    },
    #[error("{0}")]
    Protocol(String),
    #[error("state file {path}: {message}")]
    State { path: PathBuf, message: String },
}

pub type Result<T> = std::result::Result<T, RelayerError>;

/// What the relayer remembers between steps and restarts (a cache: chain state decides).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RelayerState {
    /// Highest height scanned for events, per chain name.
    pub scanned: BTreeMap<String, u64>,
    /// Packets seen sent and not yet settled, per source lane (`chain/port/channel`):
    /// sequence → packet (hex).
    pub in_flight: BTreeMap<String, BTreeMap<u64, String>>,
    /// Acknowledgements seen written, per destination lane (`chain/port/channel`):
    /// sequence → ack (hex).
    pub acks: BTreeMap<String, BTreeMap<u64, String>>,
}

impl RelayerState {
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| RelayerError::State {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(RelayerError::State {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        }
    }

    /// Writes atomically (temporary file, then rename), so a crash leaves the old or the new
    /// state, never half of one.
    pub fn save(&self, path: &Path) -> Result<()> {
        let err = |e: std::io::Error| RelayerError::State {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let tmp = path.with_extension("tmp");
        // Compact: with thousands of packets in flight the file is rewritten every step.
        let text = serde_json::to_string(self).unwrap_or_default();
        std::fs::write(&tmp, text).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }
}

/// What one step did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StepReport {
    pub client_updates: usize,
    pub packets_received: usize,
    pub acks_relayed: usize,
    pub timeouts_relayed: usize,
    /// Deliveries another relayer (or an earlier run) had already made.
    pub duplicates: usize,
    /// Transactions the destination refused for another reason (logged).
    pub refused: usize,
}

impl StepReport {
    pub fn is_idle(&self) -> bool {
        *self == StepReport::default()
    }

    fn add(&mut self, o: &StepReport) {
        self.client_updates += o.client_updates;
        self.packets_received += o.packets_received;
        self.acks_relayed += o.acks_relayed;
        self.timeouts_relayed += o.timeouts_relayed;
        self.duplicates += o.duplicates;
        self.refused += o.refused;
    }
}

/// Default most receives (and, separately, acknowledgements and timeouts) relayed in one
/// direction per step, over all channels (`Relayer::batch`). A step costs about two blocks whatever its size
/// (the deliveries' and the acknowledgements' finality), so larger steps relay more per
/// second; the bound keeps one step's requests and memory modest.
pub const DEFAULT_BATCH: usize = 2000;

/// One channel the relayer serves: its port (the same on both chains) and each chain's end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPair {
    pub port: String,
    pub a_channel: String,
    pub b_channel: String,
}

impl ChannelPair {
    fn end(&self, on_a: bool) -> &str {
        if on_a {
            &self.a_channel
        } else {
            &self.b_channel
        }
    }
}

/// The state-file key of one chain's end of a channel.
fn lane(chain: &str, port: &str, channel: &str) -> String {
    format!("{chain}/{port}/{channel}")
}

/// A relayer between two chains, on any number of channels of one connection (or several).
pub struct Relayer {
    pub a: Endpoint,
    pub b: Endpoint,
    pub channels: Vec<ChannelPair>,
    pub state: RelayerState,
    state_path: Option<PathBuf>,
    pub metrics: Metrics,
    /// Most receives (acknowledgements, timeouts) per direction per step ([`DEFAULT_BATCH`]).
    pub batch: usize,
}

impl Relayer {
    pub fn new(
        a: Endpoint,
        b: Endpoint,
        channels: Vec<ChannelPair>,
        state_path: Option<PathBuf>,
    ) -> Result<Self> {
        let state = match &state_path {
            Some(p) => RelayerState::load(p)?,
            None => RelayerState::default(),
        };
        let mut r = Self {
            a,
            b,
            channels,
            state,
            state_path,
            metrics: Metrics::default(),
            batch: DEFAULT_BATCH,
        };
        r.adopt_single_channel_state();
        Ok(r)
    }

    /// State files written before the relayer served several channels keyed packets and acks
    /// by chain name alone; they belonged to the transfer channel.
    fn adopt_single_channel_state(&mut self) {
        let Some(t) = self
            .channels
            .iter()
            .find(|c| c.port == meridian_interop::transfer::PORT)
            .cloned()
        else {
            return;
        };
        for (name, channel) in [(&self.a.name, &t.a_channel), (&self.b.name, &t.b_channel)] {
            let key = lane(name, &t.port, channel);
            for map in [&mut self.state.in_flight, &mut self.state.acks] {
                if let Some(old) = map.remove(name.as_str()) {
                    map.entry(key.clone()).or_default().extend(old);
                }
            }
        }
    }

    /// One pass: scan both chains, relay A→B and B→A, persist the state.
    pub fn step(&mut self) -> Result<StepReport> {
        let started = std::time::Instant::now();
        self.scan(true)?;
        self.scan(false)?;
        let scanned = started.elapsed();
        let mut report = self.relay(true)?;
        report.add(&self.relay(false)?);
        tracing::debug!(
            scan_ms = scanned.as_millis() as u64,
            step_ms = started.elapsed().as_millis() as u64,
            "step timing"
        );
        report.client_updates += self.refresh(true)?;
        report.client_updates += self.refresh(false)?;
        if let Some(p) = &self.state_path {
            self.state.save(p)?;
        }
        self.metrics.record(&report);
        Ok(report)
    }

    fn ends_mut(&mut self, a_to_b: bool) -> (&mut Endpoint, &mut Endpoint) {
        if a_to_b {
            (&mut self.a, &mut self.b)
        } else {
            (&mut self.b, &mut self.a)
        }
    }

    fn ends(&self, a_to_b: bool) -> (&Endpoint, &Endpoint) {
        if a_to_b {
            (&self.a, &self.b)
        } else {
            (&self.b, &self.a)
        }
    }

    /// Keeps an idle client from expiring: once its latest verified header is older than a
    /// third of the trusting period, update it to the counterparty's tip.
    fn refresh(&mut self, a_to_b: bool) -> Result<usize> {
        let (src, dst) = self.ends_mut(a_to_b);
        let client = dst.client_state()?;
        let Some(latest) = dst.consensus_state(client.latest_height)? else {
            return Ok(0);
        };
        let now = dst.latest_time_ms()?;
        if now.saturating_sub(latest.timestamp_ms) < client.trusting_period_ms / 3 {
            return Ok(0);
        }
        let (_, n) = chain::update_client(src, dst)?;
        Ok(n)
    }

    /// Reads new `send_packet` (from this end of a served channel) and `write_ack` (on one)
    /// events.
    fn scan(&mut self, use_a: bool) -> Result<()> {
        let end = if use_a { &self.a } else { &self.b };
        let from = self
            .state
            .scanned
            .get(&end.name)
            .map(|h| h + 1)
            .unwrap_or(1);
        let (tip, events) = end.interop_events_since(from)?;
        let name = end.name.clone();
        let served = |port: &str, channel: &str| {
            self.channels
                .iter()
                .any(|c| c.port == port && c.end(use_a) == channel)
        };
        let mut sent = Vec::new();
        let mut written = Vec::new();
        for ev in events {
            match ev {
                InteropEvent::SendPacket(p) if served(&p.source_port, &p.source_channel) => {
                    sent.push(p)
                }
                InteropEvent::WriteAck {
                    port,
                    channel,
                    sequence,
                    ack,
                } if served(&port, &channel) => written.push((port, channel, sequence, ack)),
                _ => {}
            }
        }
        for p in sent {
            self.state
                .in_flight
                .entry(lane(&name, &p.source_port, &p.source_channel))
                .or_default()
                .insert(p.sequence, hex::encode(meridian_types::Encode::encode(&p)));
        }
        for (port, channel, sequence, ack) in written {
            self.state
                .acks
                .entry(lane(&name, &port, &channel))
                .or_default()
                .insert(sequence, hex::encode(meridian_types::Encode::encode(&ack)));
        }
        self.state
            .scanned
            .insert(name, tip.max(from.saturating_sub(1)));
        Ok(())
    }

    /// Relays everything pending from `src` to `dst` on every served channel: receives on
    /// `dst`; acknowledgements and timeouts back on `src`. Each side gets one batch that starts
    /// with the client update its proofs need; the two batches go to different chains, so they
    /// are submitted and waited for at the same time.
    fn relay(&mut self, a_to_b: bool) -> Result<StepReport> {
        let mut report = StepReport::default();
        let mut to_recv = Vec::new();
        let mut to_timeout = Vec::new();
        let mut to_ack = Vec::new();
        let classify = std::time::Instant::now();
        for pair in self.channels.clone() {
            self.pending(a_to_b, &pair, &mut to_recv, &mut to_ack, &mut to_timeout)?;
        }
        tracing::debug!(
            a_to_b,
            check_ms = classify.elapsed().as_millis() as u64,
            "classify timing"
        );
        let batch = self.batch;
        let checked = std::time::Instant::now();
        let (src, dst) = self.ends_mut(a_to_b);
        let (src, dst) = (&mut *src, &mut *dst);
        // To `dst`: the update of its client of `src`, then the deliveries.
        let mut to_dst = (0, Vec::new());
        if !to_recv.is_empty() {
            let (height, updates) = chain::update_calls(src, dst)?;
            let packets = &to_recv[..to_recv.len().min(batch)];
            let keys: Vec<Vec<u8>> = packets
                .iter()
                .map(|p| paths::commitment(&p.source_port, &p.source_channel, p.sequence))
                .collect();
            let proofs = src.proofs(&keys, height)?;
            to_dst = (updates.len(), updates);
            to_dst.1.extend(
                packets
                    .iter()
                    .zip(proofs)
                    .map(|(p, proof)| InteropCall::RecvPacket {
                        packet: p.clone(),
                        proof_height: height,
                        proof,
                    }),
            );
        }
        // To `src`: the update of its client of `dst`, then acknowledgements and timeouts.
        let mut to_src = (0, 0, Vec::new());
        if !to_ack.is_empty() || !to_timeout.is_empty() {
            let (height, updates) = chain::update_calls(dst, src)?;
            let acked = &to_ack[..to_ack.len().min(batch)];
            let keys: Vec<Vec<u8>> = acked
                .iter()
                .map(|(p, _)| paths::ack(&p.dest_port, &p.dest_channel, p.sequence))
                .collect();
            let proofs = dst.proofs(&keys, height)?;
            let acks: Vec<InteropCall> = acked
                .iter()
                .zip(proofs)
                .map(|((p, ack), proof)| InteropCall::Acknowledge {
                    packet: p.clone(),
                    ack: ack.clone(),
                    proof_height: height,
                    proof,
                })
                .collect();
            let mut calls = updates;
            let n_updates = calls.len();
            let n_acks = acks.len();
            calls.extend(acks);
            for (p, ordering) in to_timeout.iter().take(batch) {
                let (key, next) = match ordering {
                    Ordering::Unordered => {
                        (paths::receipt(&p.dest_port, &p.dest_channel, p.sequence), 0)
                    }
                    Ordering::Ordered => {
                        let key = paths::next_sequence_recv(&p.dest_port, &p.dest_channel);
                        let next = dst.read_u64_at(&key, height)?;
                        (key, next)
                    }
                };
                let proof = dst.proof(&key, height)?;
                calls.push(InteropCall::Timeout {
                    packet: p.clone(),
                    proof_height: height,
                    proof,
                    next_sequence_recv: next,
                });
            }
            to_src = (n_updates, n_acks, calls);
        }
        let proved = checked.elapsed();
        let (dst_outcome, src_outcome) = std::thread::scope(|s| {
            let (n_up, calls) = to_dst;
            let dst_job = s.spawn(move || dst.submit_relayed(calls).map(|o| (n_up, o)));
            let (n_up, n_acks, calls) = to_src;
            let src_outcome = src.submit_relayed(calls).map(|o| (n_up, n_acks, o));
            let dst_outcome = dst_job
                .join()
                .map_err(|_| RelayerError::Protocol("a relayer worker thread panicked".into()))
                .and_then(|r| r);
            (dst_outcome, src_outcome)
        });
        tracing::debug!(
            a_to_b,
            prove_ms = proved.as_millis() as u64,
            submit_ms = (checked.elapsed() - proved).as_millis() as u64,
            "relay timing"
        );
        let (n_up, outcome) = dst_outcome?;
        let (updated, outcome) = outcome.split_at(n_up.min(outcome.len()));
        report.client_updates += count_updates(updated);
        tally(outcome, &mut report, |r| r.packets_received += 1);
        let (n_up, n_acks, outcome) = src_outcome?;
        let (updated, outcome) = outcome.split_at(n_up.min(outcome.len()));
        report.client_updates += count_updates(updated);
        let (ack_part, timeout_part) = outcome.split_at(n_acks.min(outcome.len()));
        tally(ack_part, &mut report, |r| r.acks_relayed += 1);
        tally(timeout_part, &mut report, |r| r.timeouts_relayed += 1);
        Ok(report)
    }

    /// Sorts the packets in flight from `src` on one channel into those to receive, to
    /// acknowledge and to time out; forgets settled ones.
    fn pending(
        &mut self,
        a_to_b: bool,
        pair: &ChannelPair,
        to_recv: &mut Vec<Packet>,
        to_ack: &mut Vec<(Packet, Acknowledgement)>,
        to_timeout: &mut Vec<(Packet, Ordering)>,
    ) -> Result<()> {
        let (src, dst) = self.ends(a_to_b);
        let src_lane = lane(&src.name, &pair.port, pair.end(a_to_b));
        let dst_lane = lane(&dst.name, &pair.port, pair.end(!a_to_b));
        // The oldest packets of the lane, twice what a step sends: those received and
        // waiting for their acknowledgement do not crowd out new ones.
        let in_flight: Vec<(u64, Packet)> = self
            .state
            .in_flight
            .get(&src_lane)
            .map(|m| {
                m.iter()
                    .take(self.batch.saturating_mul(2))
                    .filter_map(|(s, h)| Some((*s, decode_hex::<Packet>(h)?)))
                    .collect()
            })
            .unwrap_or_default();
        if in_flight.is_empty() {
            return Ok(());
        }
        let dst_channel: ChannelEnd = dst.channel_end(&pair.port, pair.end(!a_to_b))?;
        let dst_status = dst.status()?;
        // Two bulk reads: which commitments the source still holds, which packets the
        // destination has received.
        let commitments: Vec<Vec<u8>> = in_flight
            .iter()
            .map(|(_, p)| paths::commitment(&p.source_port, &p.source_channel, p.sequence))
            .collect();
        let (_, committed) = src.values(&commitments, None)?;
        let received: Vec<bool> = match dst_channel.ordering {
            Ordering::Unordered => {
                let receipts: Vec<Vec<u8>> = in_flight
                    .iter()
                    .map(|(_, p)| paths::receipt(&p.dest_port, &p.dest_channel, p.sequence))
                    .collect();
                dst.values(&receipts, None)?
                    .1
                    .iter()
                    .map(Option::is_some)
                    .collect()
            }
            Ordering::Ordered => {
                let key = paths::next_sequence_recv(&pair.port, pair.end(!a_to_b));
                let next = dst.read_u64_at(&key, dst_status.height)?;
                in_flight.iter().map(|(_, p)| next > p.sequence).collect()
            }
        };
        let seen = committed
            .iter()
            .zip(received)
            .map(|(c, r)| (c.is_some(), r));
        let mut settled = Vec::new();
        for ((seq, packet), (committed, received)) in in_flight.into_iter().zip(seen) {
            if !committed {
                settled.push(seq);
            } else if received {
                if let Some(ack) = self
                    .state
                    .acks
                    .get(&dst_lane)
                    .and_then(|m| m.get(&seq))
                    .and_then(|h| decode_hex::<Acknowledgement>(h))
                {
                    to_ack.push((packet, ack));
                }
            } else if packet.timed_out_at(dst_status.height, dst_status.time_ms) {
                to_timeout.push((packet, dst_channel.ordering));
            } else {
                to_recv.push(packet);
            }
        }
        for seq in settled {
            if let Some(m) = self.state.in_flight.get_mut(&src_lane) {
                m.remove(&seq);
            }
            if let Some(m) = self.state.acks.get_mut(&dst_lane) {
                m.remove(&seq);
            }
        }
        Ok(())
    }
}

/// Successful client updates among `codes`; a refused one is logged (another relayer may
/// have updated to the same height first, and then the deliveries still verify).
fn count_updates(codes: &[String]) -> usize {
    for c in codes.iter().filter(|c| *c != "ok") {
        tracing::warn!(code = %c, "client update refused");
    }
    codes.iter().filter(|c| *c == "ok").count()
}

fn tally(outcome: &[String], report: &mut StepReport, ok: impl Fn(&mut StepReport)) {
    for code in outcome {
        match code.as_str() {
            "ok" => ok(report),
            c if c == codes::ALREADY_RECEIVED || c == codes::NO_COMMITMENT => {
                report.duplicates += 1
            }
            other => {
                tracing::warn!(code = other, "relayed transaction refused");
                report.refused += 1;
            }
        }
    }
}

/// Most concurrent API requests the relayer makes to one chain.
const PARALLEL_REQUESTS: usize = 8;

/// `f` over `items` on up to [`PARALLEL_REQUESTS`] threads, results in order. The relayer's
/// reads (commitment and receipt checks, proofs, receipts) are independent HTTP requests;
/// done one by one they, not the chains, bounded the packets relayed per second.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    if items.len() <= 1 {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(PARALLEL_REQUESTS);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| {
                let f = &f;
                s.spawn(move || chunk.iter().map(f).collect::<Result<Vec<R>>>())
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            let part = h
                .join()
                .map_err(|_| RelayerError::Protocol("a relayer worker thread panicked".into()))??;
            out.extend(part);
        }
        Ok(out)
    })
}

fn decode_hex<T: meridian_types::Decode>(h: &str) -> Option<T> {
    meridian_types::decode_exact(&hex::decode(h).ok()?).ok()
}

pub use chain::{
    create_clients, open_channel, open_connection, open_transfer_path, update_calls, update_client,
    OpenedPath,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_a_restart_and_metrics_render() {
        let dir = std::env::temp_dir().join(format!("relayer-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert_eq!(RelayerState::load(&path).unwrap(), RelayerState::default());
        let mut s = RelayerState::default();
        s.scanned.insert("meridian-a".into(), 42);
        s.in_flight
            .entry("meridian-a".into())
            .or_default()
            .insert(3, "00ff".into());
        s.save(&path).unwrap();
        assert_eq!(RelayerState::load(&path).unwrap(), s);
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            RelayerState::load(&path),
            Err(RelayerError::State { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();

        let m = Metrics::default();
        m.record(&StepReport {
            packets_received: 2,
            duplicates: 1,
            ..StepReport::default()
        });
        let text = m.render();
        assert!(
            text.contains("meridian_relayer_packets_received_total 2"),
            "{text}"
        );
        assert!(
            text.contains("meridian_relayer_duplicates_total 1"),
            "{text}"
        );
        assert!(text.contains("meridian_relayer_steps_total 1"), "{text}");
    }
}
