//! Light client of a Meridian chain (ICS-02 semantics).
//!
//! What the client trusts: the validator set governance gave it for one epoch of the
//! counterparty. Everything else is derived:
//!
//! * a header is final when its finalization certificate carries signatures of a quorum of
//!   *distinct* validators of the header's epoch (`meridian_crypto::finality`); the signatures
//!   are bound to the counterparty's chain id, so the same keys on another chain prove nothing;
//! * the set of epoch `e + 1` is `chain/validators` in the state of the last block of epoch `e`
//!   (its boundary block, signed by the set of `e`), proven against that block's state root —
//!   so the set only ever changes through headers signed by the previous set;
//! * a header must be younger than the trusting period and not further in the future than the
//!   allowed clock drift, both judged by the *host* chain's block time;
//! * two valid headers at one height, or a later header with an earlier time, are misbehaviour:
//!   the client freezes and verifies nothing until governance substitutes it.
//!
//! Updates only move forward (a header below the latest one is refused unless it is the stored
//! one); a header at a height already stored is a no-op if identical, misbehaviour if not.

use meridian_crypto::{finality, PublicKey, Suite};
use meridian_types::{
    decode_exact, ChainId, CodecError, Decode, Encode, Header, Reader, ValidatorSet, Writer,
    MAX_VALIDATORS, VALIDATORS_KEY,
};

use crate::error::{codes, InteropError};
use crate::proof;

/// Longest finalization certificate accepted (a bitmap and one 64-byte signature per
/// validator, plus the proposal).
pub const MAX_CERTIFICATE_LEN: usize = 64 * MAX_VALIDATORS + 1024;
/// Longest encoded `chain/validators` value accepted in a set transition.
pub const MAX_VALIDATOR_SET_LEN: usize = MAX_VALIDATORS * (4 + 64 + 4 + 65) + 4;
/// Largest trusting period a client may be created with (one year).
pub const MAX_TRUSTING_PERIOD_MS: u64 = 366 * 24 * 3600 * 1000;
/// Largest clock drift a client may allow (ten minutes).
pub const MAX_CLOCK_DRIFT_MS: u64 = 10 * 60 * 1000;

/// The state of a light client, stored by the host chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientState {
    /// The counterparty's chain id; headers of any other chain id are refused.
    pub chain_id: ChainId,
    /// The counterparty's crypto suite (its signatures, header hash and state hash).
    pub suite: Suite,
    /// The counterparty's consensus epoch length (its genesis `epoch_blocks`).
    pub epoch_blocks: u64,
    /// How long a verified header stays usable as a basis for trust.
    pub trusting_period_ms: u64,
    /// How far a header's time may run ahead of the host's block time.
    pub max_clock_drift_ms: u64,
    /// Highest verified height.
    pub latest_height: u64,
    /// `0` while active; the height of the detected misbehaviour once frozen.
    pub frozen_height: u64,
}

/// What the host remembers of one verified counterparty header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsensusState {
    pub timestamp_ms: u64,
    /// The counterparty's state root after that block: proofs are checked against it.
    pub state_root: [u8; 32],
    /// The header's hash (the counterparty's suite hash): tells a duplicate from a conflict.
    pub header_hash: [u8; 32],
}

/// A header and its finalization certificate, as a relayer fetches them from a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeader {
    pub header: Header,
    pub certificate: Vec<u8>,
}

/// The counterparty's next validator set, proven against a boundary header's state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSetProof {
    /// The raw `chain/validators` value (a [`ValidatorSet`] encoding).
    pub validators: Vec<u8>,
    /// A state proof of `chain/validators ↦ validators`.
    pub proof: Vec<u8>,
}

/// One client update: a finalized header, plus — exactly when the header is the last block of
/// its epoch — the set that signs the next epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderUpdate {
    pub signed: SignedHeader,
    pub next_validators: Option<ValidatorSetProof>,
}

/// Evidence that the counterparty's validators signed two incompatible histories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misbehaviour {
    pub a: SignedHeader,
    pub b: SignedHeader,
}

/// Whether a client may verify anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStatus {
    Active,
    /// Misbehaviour was detected at this height.
    Frozen(u64),
    /// The latest verified header is older than the trusting period.
    Expired,
}

/// What an accepted update does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Store `consensus` at `height`; if `next_set` is given, it is the validator set of epoch
    /// `next_set.0`.
    Updated {
        height: u64,
        consensus: ConsensusState,
        next_set: Option<(u64, Vec<PublicKey>)>,
    },
    /// The very header already stored: nothing to do.
    AlreadyKnown,
    /// A validly signed header that contradicts what the client verified: freeze at `height`.
    Misbehaviour { height: u64, reason: String },
}

fn err(code: &'static str, message: impl Into<String>) -> InteropError {
    InteropError::new(code, message)
}

impl ClientState {
    /// A client trusting `chain_id` (suite `suite`, `epoch_blocks` per epoch) from a header at
    /// `height` onwards. Parameters are checked here, once.
    pub fn new(
        chain_id: ChainId,
        suite: Suite,
        epoch_blocks: u64,
        trusting_period_ms: u64,
        max_clock_drift_ms: u64,
        height: u64,
    ) -> Result<Self, InteropError> {
        if epoch_blocks < 2 {
            return Err(err(
                codes::BAD_ARGS,
                "epoch_blocks must be at least 2 (as on every Meridian chain)",
            ));
        }
        if trusting_period_ms == 0 || trusting_period_ms > MAX_TRUSTING_PERIOD_MS {
            return Err(err(
                codes::BAD_ARGS,
                format!("trusting_period_ms must be 1..={MAX_TRUSTING_PERIOD_MS}"),
            ));
        }
        if max_clock_drift_ms > MAX_CLOCK_DRIFT_MS {
            return Err(err(
                codes::BAD_ARGS,
                format!("max_clock_drift_ms must be at most {MAX_CLOCK_DRIFT_MS}"),
            ));
        }
        Ok(Self {
            chain_id,
            suite,
            epoch_blocks,
            trusting_period_ms,
            max_clock_drift_ms,
            latest_height: height,
            frozen_height: 0,
        })
    }

    /// The counterparty's revision: the number after the chain id's last `-` (0 if none). A
    /// new revision is a new chain id, so it needs a new client (or a substitution).
    pub fn revision(&self) -> u64 {
        revision_of(self.chain_id.as_str())
    }

    /// The counterparty's consensus epoch of `height`.
    pub fn epoch_of(&self, height: u64) -> u64 {
        height / self.epoch_blocks
    }

    /// Whether `height` is the last block of its epoch.
    pub fn is_boundary(&self, height: u64) -> bool {
        (height + 1).is_multiple_of(self.epoch_blocks)
    }

    /// Active, frozen or expired, given the latest consensus state and the host's time.
    pub fn status(&self, latest: &ConsensusState, now_ms: u64) -> ClientStatus {
        if self.frozen_height != 0 {
            ClientStatus::Frozen(self.frozen_height)
        } else if latest.timestamp_ms.saturating_add(self.trusting_period_ms) <= now_ms {
            ClientStatus::Expired
        } else {
            ClientStatus::Active
        }
    }

    /// Refuses anything but an active client, with the matching code.
    pub fn ensure_active(&self, latest: &ConsensusState, now_ms: u64) -> Result<(), InteropError> {
        match self.status(latest, now_ms) {
            ClientStatus::Active => Ok(()),
            ClientStatus::Frozen(h) => Err(err(
                codes::CLIENT_FROZEN,
                format!(
                    "client of {} is frozen (misbehaviour at height {h})",
                    self.chain_id
                ),
            )),
            ClientStatus::Expired => Err(err(
                codes::CLIENT_EXPIRED,
                format!(
                    "client of {}: the latest header is older than the trusting period",
                    self.chain_id
                ),
            )),
        }
    }

    /// Checks that `signed` is a header of this client's chain finalized by a quorum of `set`
    /// (the validators of its epoch) and returns what would be stored for it. No time checks.
    pub fn verify_signed_header(
        &self,
        set: &[PublicKey],
        signed: &SignedHeader,
    ) -> Result<ConsensusState, InteropError> {
        let h = &signed.header;
        if h.chain_id != self.chain_id {
            return Err(err(
                codes::WRONG_CHAIN,
                format!(
                    "header of chain {} given to a client of {}",
                    h.chain_id, self.chain_id
                ),
            ));
        }
        if h.height == 0 {
            return Err(err(codes::BAD_ARGS, "a genesis header has no certificate"));
        }
        let digest = self.suite.hash(&h.encode()).0;
        finality::verify_finalization(
            self.suite,
            self.chain_id.as_str(),
            set,
            &signed.certificate,
            digest,
        )
        .map_err(|e| {
            err(
                codes::BAD_CERTIFICATE,
                format!("height {}: {} ({})", h.height, e, e.code()),
            )
        })?;
        Ok(ConsensusState {
            timestamp_ms: h.timestamp_ms,
            state_root: h.state_root,
            header_hash: digest,
        })
    }

    fn check_time(&self, header: &Header, now_ms: u64) -> Result<(), InteropError> {
        if header.timestamp_ms.saturating_add(self.trusting_period_ms) <= now_ms {
            return Err(err(
                codes::HEADER_EXPIRED,
                format!(
                    "header {} (time {}) is older than the trusting period at time {now_ms}",
                    header.height, header.timestamp_ms
                ),
            ));
        }
        if header.timestamp_ms > now_ms.saturating_add(self.max_clock_drift_ms) {
            return Err(err(
                codes::HEADER_IN_FUTURE,
                format!(
                    "header {} (time {}) is beyond the allowed drift of {} ms at time {now_ms}",
                    header.height, header.timestamp_ms, self.max_clock_drift_ms
                ),
            ));
        }
        Ok(())
    }

    /// Checks the first header of a new client (governance's trusted header and set).
    pub fn check_initial(
        &self,
        set: &[PublicKey],
        signed: &SignedHeader,
        now_ms: u64,
    ) -> Result<ConsensusState, InteropError> {
        check_set(set, self.suite)?;
        if self.is_boundary(signed.header.height) {
            // Its successor epoch's set would be unknown and the client could never advance.
            return Err(err(
                codes::BAD_ARGS,
                "a client starts from a header inside an epoch, not from its last block",
            ));
        }
        if signed.header.height != self.latest_height {
            return Err(err(
                codes::BAD_ARGS,
                "the trusted header must be at the client's initial height",
            ));
        }
        let cs = self.verify_signed_header(set, signed)?;
        self.check_time(&signed.header, now_ms)?;
        Ok(cs)
    }

    /// Judges an update. `latest` is the consensus state at `latest_height`; `set` is the
    /// stored validator set of the header's epoch (the caller reports a missing one as
    /// `interop.unknown_epoch`); `existing` is the consensus state already stored at the
    /// header's height, if any.
    pub fn check_update(
        &self,
        latest: &ConsensusState,
        set: &[PublicKey],
        existing: Option<&ConsensusState>,
        update: &HeaderUpdate,
        now_ms: u64,
    ) -> Result<UpdateOutcome, InteropError> {
        self.ensure_active(latest, now_ms)?;
        let header = &update.signed.header;
        let height = header.height;
        let cs = self.verify_signed_header(set, &update.signed)?;
        // Evidence first: a validly signed contradiction freezes the client whatever its age.
        if let Some(old) = existing {
            return Ok(if old.header_hash == cs.header_hash {
                UpdateOutcome::AlreadyKnown
            } else {
                UpdateOutcome::Misbehaviour {
                    height,
                    reason: format!("two finalized headers at height {height}"),
                }
            });
        }
        if height <= self.latest_height {
            return Err(err(
                codes::STALE_HEADER,
                format!(
                    "height {height} is not above the client's latest height {}",
                    self.latest_height
                ),
            ));
        }
        if header.timestamp_ms < latest.timestamp_ms {
            return Ok(UpdateOutcome::Misbehaviour {
                height,
                reason: format!(
                    "time goes backwards: height {height} at {} after height {} at {}",
                    header.timestamp_ms, self.latest_height, latest.timestamp_ms
                ),
            });
        }
        self.check_time(header, now_ms)?;
        let next_set = match (&update.next_validators, self.is_boundary(height)) {
            (Some(p), true) => {
                if p.validators.len() > MAX_VALIDATOR_SET_LEN {
                    return Err(err(codes::BAD_VALIDATOR_SET, "validator set too long"));
                }
                proof::verify_membership(
                    self,
                    &cs,
                    VALIDATORS_KEY,
                    &p.validators,
                    &p.proof,
                )?;
                let set = ValidatorSet::decode_exact(&p.validators)
                    .map_err(|e| err(codes::BAD_VALIDATOR_SET, e.to_string()))?;
                let keys = set
                    .0
                    .iter()
                    .map(|v| PublicKey::from_bytes(self.suite, &v.public_key))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(codes::BAD_VALIDATOR_SET, e.to_string()))?;
                check_set(&keys, self.suite)?;
                Some((self.epoch_of(height) + 1, keys))
            }
            (None, true) => {
                return Err(err(
                    codes::BAD_VALIDATOR_SET,
                    format!(
                        "height {height} ends epoch {}: the next validator set and its proof are required",
                        self.epoch_of(height)
                    ),
                ))
            }
            (Some(_), false) => {
                return Err(err(
                    codes::BAD_VALIDATOR_SET,
                    format!("height {height} does not end an epoch: no validator set expected"),
                ))
            }
            (None, false) => None,
        };
        Ok(UpdateOutcome::Updated {
            height,
            consensus: cs,
            next_set,
        })
    }

    /// Checks submitted evidence: both headers of this chain, each finalized by the set of its
    /// epoch (`set_a`, `set_b`), and contradictory — same height and different hashes, or a
    /// higher height with an earlier time. Returns the height to freeze at.
    pub fn check_misbehaviour(
        &self,
        set_a: &[PublicKey],
        set_b: &[PublicKey],
        m: &Misbehaviour,
    ) -> Result<u64, InteropError> {
        let a = self.verify_signed_header(set_a, &m.a)?;
        let b = self.verify_signed_header(set_b, &m.b)?;
        let (ha, hb) = (&m.a.header, &m.b.header);
        let conflicting = ha.height == hb.height && a.header_hash != b.header_hash;
        let backwards = (ha.height < hb.height && hb.timestamp_ms < ha.timestamp_ms)
            || (hb.height < ha.height && ha.timestamp_ms < hb.timestamp_ms);
        if !(conflicting || backwards) {
            return Err(err(
                codes::NOT_MISBEHAVIOUR,
                "the two headers are consistent",
            ));
        }
        Ok(ha.height.min(hb.height).max(1))
    }

    /// Checks that `substitute` may replace this (frozen or expired) client: same chain, and
    /// itself active.
    pub fn check_substitute(
        &self,
        substitute: &ClientState,
        substitute_latest: &ConsensusState,
        now_ms: u64,
    ) -> Result<(), InteropError> {
        if substitute.chain_id != self.chain_id || substitute.suite != self.suite {
            return Err(err(
                codes::BAD_SUBSTITUTE,
                format!(
                    "a client of {} cannot substitute a client of {}",
                    substitute.chain_id, self.chain_id
                ),
            ));
        }
        substitute
            .ensure_active(substitute_latest, now_ms)
            .map_err(|e| err(codes::BAD_SUBSTITUTE, e.message))
    }
}

/// A trusted validator set must be non-empty, of the suite's consensus key type, and list each
/// key once.
pub fn check_set(set: &[PublicKey], suite: Suite) -> Result<(), InteropError> {
    if set.is_empty() || set.len() > MAX_VALIDATORS {
        return Err(err(
            codes::BAD_VALIDATOR_SET,
            format!("a validator set has 1..={MAX_VALIDATORS} keys"),
        ));
    }
    for (i, k) in set.iter().enumerate() {
        let ok = matches!(
            (suite, k),
            (Suite::Sm, PublicKey::Sm2(_)) | (Suite::Intl, PublicKey::Ed25519(_))
        );
        if !ok {
            return Err(err(
                codes::BAD_VALIDATOR_SET,
                format!("key {i} is not a consensus key of suite {suite}"),
            ));
        }
        if set[..i].contains(k) {
            return Err(err(
                codes::BAD_VALIDATOR_SET,
                format!("key {i} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// The revision number of a chain id (`meridian-a-2` → 2; no numeric suffix → 0).
pub fn revision_of(chain_id: &str) -> u64 {
    chain_id
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// Encodes a validator set as stored by the host: a count and each key's bytes.
pub fn encode_keys(keys: &[PublicKey]) -> Vec<u8> {
    let mut w = Writer::new();
    w.len(keys.len());
    for k in keys {
        w.bytes(k.as_bytes());
    }
    w.into_bytes()
}

/// Decodes [`encode_keys`] for `suite`.
pub fn decode_keys(suite: Suite, bytes: &[u8]) -> Result<Vec<PublicKey>, InteropError> {
    let mut r = Reader::new(bytes);
    let n = r.len(MAX_VALIDATORS, "validators")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let raw = r.bytes(65, "validator.key")?;
        out.push(
            PublicKey::from_bytes(suite, &raw)
                .map_err(|e| err(codes::CORRUPT_STATE, e.to_string()))?,
        );
    }
    r.finish()?;
    Ok(out)
}

fn suite_tag(s: Suite) -> u8 {
    match s {
        Suite::Sm => 1,
        Suite::Intl => 2,
    }
}

fn suite_from_tag(t: u8) -> Result<Suite, CodecError> {
    match t {
        1 => Ok(Suite::Sm),
        2 => Ok(Suite::Intl),
        _ => Err(CodecError::Invalid("client.suite")),
    }
}

impl Encode for ClientState {
    fn encode_to(&self, w: &mut Writer) {
        self.chain_id.encode_to(w);
        w.u8(suite_tag(self.suite));
        w.u64(self.epoch_blocks);
        w.u64(self.trusting_period_ms);
        w.u64(self.max_clock_drift_ms);
        w.u64(self.latest_height);
        w.u64(self.frozen_height);
    }
}

impl Decode for ClientState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            chain_id: ChainId::decode_from(r)?,
            suite: suite_from_tag(r.u8("client.suite")?)?,
            epoch_blocks: r.u64("client.epoch_blocks")?,
            trusting_period_ms: r.u64("client.trusting_period_ms")?,
            max_clock_drift_ms: r.u64("client.max_clock_drift_ms")?,
            latest_height: r.u64("client.latest_height")?,
            frozen_height: r.u64("client.frozen_height")?,
        })
    }
}

impl Encode for ConsensusState {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.timestamp_ms);
        w.fixed(&self.state_root);
        w.fixed(&self.header_hash);
    }
}

impl Decode for ConsensusState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            timestamp_ms: r.u64("consensus.timestamp_ms")?,
            state_root: r.array("consensus.state_root")?,
            header_hash: r.array("consensus.header_hash")?,
        })
    }
}

impl Encode for SignedHeader {
    fn encode_to(&self, w: &mut Writer) {
        self.header.encode_to(w);
        w.bytes(&self.certificate);
    }
}

impl Decode for SignedHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            header: Header::decode_from(r)?,
            certificate: r.bytes(MAX_CERTIFICATE_LEN, "header.certificate")?,
        })
    }
}

impl Encode for ValidatorSetProof {
    fn encode_to(&self, w: &mut Writer) {
        w.bytes(&self.validators);
        w.bytes(&self.proof);
    }
}

impl Decode for ValidatorSetProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            validators: r.bytes(MAX_VALIDATOR_SET_LEN, "update.validators")?,
            proof: r.bytes(
                meridian_storage::MAX_STATE_PROOF_LEN,
                "update.validators_proof",
            )?,
        })
    }
}

impl Encode for HeaderUpdate {
    fn encode_to(&self, w: &mut Writer) {
        self.signed.encode_to(w);
        match &self.next_validators {
            None => w.u8(0),
            Some(p) => {
                w.u8(1);
                p.encode_to(w);
            }
        }
    }
}

impl Decode for HeaderUpdate {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let signed = SignedHeader::decode_from(r)?;
        let next_validators = match r.u8("update.next_validators")? {
            0 => None,
            1 => Some(ValidatorSetProof::decode_from(r)?),
            _ => return Err(CodecError::Invalid("update.next_validators")),
        };
        Ok(Self {
            signed,
            next_validators,
        })
    }
}

impl Encode for Misbehaviour {
    fn encode_to(&self, w: &mut Writer) {
        self.a.encode_to(w);
        self.b.encode_to(w);
    }
}

impl Decode for Misbehaviour {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            a: SignedHeader::decode_from(r)?,
            b: SignedHeader::decode_from(r)?,
        })
    }
}

/// Decodes a stored client state.
pub fn decode_client(bytes: &[u8]) -> Result<ClientState, InteropError> {
    decode_exact(bytes).map_err(|e| err(codes::CORRUPT_STATE, e.to_string()))
}

/// Decodes a stored consensus state.
pub fn decode_consensus(bytes: &[u8]) -> Result<ConsensusState, InteropError> {
    decode_exact(bytes).map_err(|e| err(codes::CORRUPT_STATE, e.to_string()))
}

#[cfg(test)]
mod tests;
