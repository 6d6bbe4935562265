//! Client lifecycle: create (governance), update (anyone), misbehaviour (anyone), substitute
//! (governance).

use meridian_crypto::{PublicKey, Suite};
use meridian_execution::{ModuleError, TxContext};
use meridian_interop::client::check_set;
use meridian_interop::{
    codes, paths, ClientState, ClientStatus, HeaderUpdate, Misbehaviour, SignedHeader,
    UpdateOutcome,
};
use meridian_types::ChainId;

use crate::events::{emit, InteropEvent};
use crate::module_err;
use crate::store::{self, err};

pub(crate) struct NewClient {
    pub chain_id: ChainId,
    pub suite: Suite,
    pub epoch_blocks: u64,
    pub trusting_period_ms: u64,
    pub max_clock_drift_ms: u64,
    pub validators: Vec<Vec<u8>>,
    pub header: SignedHeader,
}

pub(crate) fn create(ctx: &mut TxContext<'_>, n: NewClient) -> Result<(), ModuleError> {
    if n.chain_id == *ctx.chain_id {
        return Err(err(
            codes::WRONG_CHAIN,
            "a chain does not track itself with a light client",
        ));
    }
    let height = n.header.header.height;
    let c = ClientState::new(
        n.chain_id,
        n.suite,
        n.epoch_blocks,
        n.trusting_period_ms,
        n.max_clock_drift_ms,
        height,
    )
    .map_err(module_err)?;
    let set = n
        .validators
        .iter()
        .map(|k| PublicKey::from_bytes(n.suite, k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(codes::BAD_VALIDATOR_SET, e.to_string()))?;
    check_set(&set, n.suite).map_err(module_err)?;
    let cs = c
        .check_initial(&set, &n.header, ctx.time_ms)
        .map_err(module_err)?;
    let id = store::next_id(ctx, "client")?;
    store::save_client(ctx, &id, &c)?;
    store::save_consensus(ctx, &id, height, &cs)?;
    store::save_validator_set(ctx, &id, c.epoch_of(height), &set)?;
    emit(
        ctx,
        InteropEvent::ClientCreated {
            client_id: id,
            chain_id: c.chain_id.clone(),
            height,
        },
    )
}

pub(crate) fn update(
    ctx: &mut TxContext<'_>,
    id: &str,
    update: &HeaderUpdate,
) -> Result<(), ModuleError> {
    let mut c = store::client(ctx, id)?;
    let latest = store::consensus(ctx, id, c.latest_height)?.ok_or_else(|| {
        err(
            codes::CORRUPT_STATE,
            "client without its latest consensus state",
        )
    })?;
    let height = update.signed.header.height;
    below_floor(ctx, id, height)?;
    let set = store::validator_set(ctx, id, &c, c.epoch_of(height))?;
    let existing = store::consensus(ctx, id, height)?;
    match c
        .check_update(&latest, &set, existing.as_ref(), update, ctx.time_ms)
        .map_err(module_err)?
    {
        UpdateOutcome::Updated {
            height,
            consensus,
            next_set,
        } => {
            store::save_consensus(ctx, id, height, &consensus)?;
            if let Some((epoch, keys)) = next_set {
                store::save_validator_set(ctx, id, epoch, &keys)?;
            }
            c.latest_height = height;
            store::save_client(ctx, id, &c)?;
            emit(
                ctx,
                InteropEvent::ClientUpdated {
                    client_id: id.to_string(),
                    height,
                },
            )
        }
        // Two relayers racing with the same header: the second is a no-op, not a failure.
        UpdateOutcome::AlreadyKnown => Ok(()),
        UpdateOutcome::Misbehaviour { height, reason } => freeze(ctx, id, c, height, reason),
    }
}

/// After a substitution, headers below the floor belong to the history the client was
/// recovered from (possibly the fork that froze it): they neither update the client nor count
/// as evidence against it, or anyone could freeze the recovered client again by replaying
/// them.
fn below_floor(ctx: &TxContext<'_>, id: &str, height: u64) -> Result<(), ModuleError> {
    let floor = store::read_u64(ctx, &store::floor_key(id))?;
    if height < floor {
        return Err(err(
            codes::STALE_HEADER,
            format!("client {id} was substituted at height {floor}: height {height} is below it"),
        ));
    }
    Ok(())
}

fn freeze(
    ctx: &mut TxContext<'_>,
    id: &str,
    mut c: ClientState,
    height: u64,
    reason: String,
) -> Result<(), ModuleError> {
    c.frozen_height = height.max(1);
    store::save_client(ctx, id, &c)?;
    emit(
        ctx,
        InteropEvent::ClientFrozen {
            client_id: id.to_string(),
            height: c.frozen_height,
            reason: reason.chars().take(256).collect(),
        },
    )
}

pub(crate) fn misbehaviour(
    ctx: &mut TxContext<'_>,
    id: &str,
    m: &Misbehaviour,
) -> Result<(), ModuleError> {
    let c = store::client(ctx, id)?;
    if c.frozen_height != 0 {
        return Err(err(
            codes::CLIENT_FROZEN,
            format!("client {id} is already frozen"),
        ));
    }
    below_floor(ctx, id, m.a.header.height.min(m.b.header.height))?;
    let set_a = store::validator_set(ctx, id, &c, c.epoch_of(m.a.header.height))?;
    let set_b = store::validator_set(ctx, id, &c, c.epoch_of(m.b.header.height))?;
    let height = c
        .check_misbehaviour(&set_a, &set_b, m)
        .map_err(module_err)?;
    freeze(ctx, id, c, height, "misbehaviour evidence submitted".into())
}

pub(crate) fn substitute(
    ctx: &mut TxContext<'_>,
    subject_id: &str,
    substitute_id: &str,
) -> Result<(), ModuleError> {
    if subject_id == substitute_id {
        return Err(err(
            codes::BAD_SUBSTITUTE,
            "a client cannot substitute itself",
        ));
    }
    let subject = store::client(ctx, subject_id)?;
    let latest = store::consensus(ctx, subject_id, subject.latest_height)?.ok_or_else(|| {
        err(
            codes::CORRUPT_STATE,
            "client without its latest consensus state",
        )
    })?;
    if subject.status(&latest, ctx.time_ms) == ClientStatus::Active {
        return Err(err(
            codes::BAD_SUBSTITUTE,
            format!(
                "client {subject_id} is active: only a frozen or expired client is substituted"
            ),
        ));
    }
    let sub = store::client(ctx, substitute_id)?;
    let sub_latest = store::consensus(ctx, substitute_id, sub.latest_height)?.ok_or_else(|| {
        err(
            codes::CORRUPT_STATE,
            "client without its latest consensus state",
        )
    })?;
    subject
        .check_substitute(&sub, &sub_latest, ctx.time_ms)
        .map_err(module_err)?;
    if sub.latest_height <= subject.latest_height {
        return Err(err(
            codes::BAD_SUBSTITUTE,
            format!(
                "the substitute must have verified a height above the subject's {}",
                subject.latest_height
            ),
        ));
    }
    let epoch = sub.epoch_of(sub.latest_height);
    let set = store::validator_set(ctx, substitute_id, &sub, epoch)?;
    // The subject continues from the substitute's latest verified header; everything it
    // verified before (possibly a fork that froze it) is below the floor and never used again.
    store::save_consensus(ctx, subject_id, sub.latest_height, &sub_latest)?;
    store::save_validator_set(ctx, subject_id, epoch, &set)?;
    if let Ok(next) = store::validator_set(ctx, substitute_id, &sub, epoch + 1) {
        store::save_validator_set(ctx, subject_id, epoch + 1, &next)?;
    }
    store::save_client(ctx, subject_id, &sub)?;
    store::write_u64(ctx, store::floor_key(subject_id), sub.latest_height)?;
    emit(
        ctx,
        InteropEvent::ClientSubstituted {
            subject: subject_id.to_string(),
            substitute: substitute_id.to_string(),
        },
    )
}

/// `interop/proven/{client}/{height:020}/{hex of the key's hash}` → `0x01 ‖ value hash` if the
/// key was present at that height of the counterparty, `0x00` if it was absent.
pub fn proven_key(client_id: &str, height: u64, key_hash: &[u8; 32]) -> Vec<u8> {
    format!(
        "{}/proven/{client_id}/{height:020}/{}",
        paths::MODULE,
        hex::encode(key_hash)
    )
    .into_bytes()
}

/// Verifies a counterparty state fact and records it (see `InteropCall::ProveState`).
pub(crate) fn prove_state(
    ctx: &mut TxContext<'_>,
    client_id: &str,
    height: u64,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), ModuleError> {
    let claim = match value {
        Some(v) => store::Claim::Present(v),
        None => store::Claim::Absent,
    };
    let (c, _) = store::verify(ctx, client_id, height, key, claim, proof)?;
    let key_hash = ctx.hash(key);
    let (record, value_hash) = match value {
        Some(v) => {
            let h = ctx.hash(v);
            let mut r = vec![1];
            r.extend_from_slice(&h);
            (r, h)
        }
        None => (vec![0], [0; 32]),
    };
    ctx.set(proven_key(client_id, height, &key_hash), record)?;
    emit(
        ctx,
        InteropEvent::StateProven {
            client_id: client_id.to_string(),
            chain_id: c.chain_id,
            height,
            key: key.to_vec(),
            present: value.is_some(),
            value_hash,
        },
    )
}
