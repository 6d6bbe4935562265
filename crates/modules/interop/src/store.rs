//! Reading and writing the module's state, and the one place approvals are consumed.

use meridian_crypto::PublicKey;
use meridian_execution::{ModuleError, TxContext};
use meridian_interop::channel::decode_stored;
use meridian_interop::client::{decode_client, decode_consensus, decode_keys, encode_keys};
use meridian_interop::{
    codes, paths, proof, ChannelEnd, ClientState, ConnectionEnd, ConsensusState, InteropError,
};
use meridian_types::Encode;

use crate::module_err;

pub(crate) fn err(code: &'static str, message: impl Into<String>) -> ModuleError {
    ModuleError::new(code, message)
}

/// On a chain with organisations, `interop.<method>` with exactly `args` must have been
/// approved by governance, and each approval is used once.
pub(crate) fn use_approval(
    ctx: &mut TxContext<'_>,
    method: &str,
    args: &[u8],
) -> Result<(), ModuleError> {
    if ctx
        .get(meridian_identity_module::ORGS_KEY.as_bytes())
        .is_none()
    {
        return Ok(());
    }
    let hash = ctx.hash(args);
    let approved = meridian_identity_module::approved_call_key(paths::MODULE, method, &hash);
    let Some(approval) = ctx.get(&approved) else {
        return Err(err(
            codes::NOT_APPROVED,
            format!(
                "interop.{method} needs a governance approval of these arguments (hash {})",
                hex::encode(hash)
            ),
        ));
    };
    // Per method: two methods' arguments may encode to the same bytes (two identifiers), and
    // each approval is its own. The approval's value names its proposal; each proposal's
    // approval is used once, and a later proposal may approve the same call again.
    let used = format!(
        "{}/approvals_used/{method}/{}",
        paths::MODULE,
        hex::encode(hash)
    )
    .into_bytes();
    if ctx.get(&used).as_deref() == Some(approval.as_slice()) {
        return Err(err(
            codes::NOT_APPROVED,
            format!(
                "the approval of interop.{method} with these arguments was already used; \
                 approve it again to repeat it"
            ),
        ));
    }
    ctx.set(used, approval)
}

/// Allocates the next identifier of `kind` (`client-0`, `connection-0`, `channel-0`, ...).
pub(crate) fn next_id(ctx: &mut TxContext<'_>, kind: &str) -> Result<String, ModuleError> {
    let key = paths::next_id(kind);
    let n = read_u64(ctx, &key)?;
    ctx.set(key, (n + 1).to_be_bytes().to_vec())?;
    Ok(format!("{kind}-{n}"))
}

pub(crate) fn read_u64(ctx: &TxContext<'_>, key: &[u8]) -> Result<u64, ModuleError> {
    match ctx.get(key) {
        None => Ok(0),
        Some(v) => v
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| err(codes::CORRUPT_STATE, "counter is not 8 bytes")),
    }
}

pub(crate) fn write_u64(ctx: &mut TxContext<'_>, key: Vec<u8>, v: u64) -> Result<(), ModuleError> {
    ctx.set(key, v.to_be_bytes().to_vec())
}

pub(crate) fn client(ctx: &TxContext<'_>, id: &str) -> Result<ClientState, ModuleError> {
    let raw = ctx
        .get(&paths::client(id))
        .ok_or_else(|| err(codes::UNKNOWN_CLIENT, format!("no client {id}")))?;
    decode_client(&raw).map_err(module_err)
}

pub(crate) fn save_client(
    ctx: &mut TxContext<'_>,
    id: &str,
    c: &ClientState,
) -> Result<(), ModuleError> {
    ctx.set(paths::client(id), c.encode())
}

pub(crate) fn consensus(
    ctx: &TxContext<'_>,
    id: &str,
    height: u64,
) -> Result<Option<ConsensusState>, ModuleError> {
    ctx.get(&paths::consensus(id, height))
        .map(|raw| decode_consensus(&raw).map_err(module_err))
        .transpose()
}

pub(crate) fn save_consensus(
    ctx: &mut TxContext<'_>,
    id: &str,
    height: u64,
    cs: &ConsensusState,
) -> Result<(), ModuleError> {
    ctx.set(paths::consensus(id, height), cs.encode())
}

pub(crate) fn validator_set(
    ctx: &TxContext<'_>,
    id: &str,
    c: &ClientState,
    epoch: u64,
) -> Result<Vec<PublicKey>, ModuleError> {
    let raw = ctx.get(&paths::validators(id, epoch)).ok_or_else(|| {
        err(
            codes::UNKNOWN_EPOCH,
            format!(
                "client {id} does not know the validators of epoch {epoch} of {} yet: \
                 submit the last header of epoch {} first",
                c.chain_id,
                epoch.saturating_sub(1)
            ),
        )
    })?;
    decode_keys(c.suite, &raw).map_err(module_err)
}

pub(crate) fn save_validator_set(
    ctx: &mut TxContext<'_>,
    id: &str,
    epoch: u64,
    keys: &[PublicKey],
) -> Result<(), ModuleError> {
    ctx.set(paths::validators(id, epoch), encode_keys(keys))
}

pub(crate) fn connection(ctx: &TxContext<'_>, id: &str) -> Result<ConnectionEnd, ModuleError> {
    let raw = ctx
        .get(&paths::connection(id))
        .ok_or_else(|| err(codes::UNKNOWN_CONNECTION, format!("no connection {id}")))?;
    decode_stored(&raw).map_err(module_err)
}

pub(crate) fn channel(
    ctx: &TxContext<'_>,
    port: &str,
    channel: &str,
) -> Result<ChannelEnd, ModuleError> {
    let raw = ctx.get(&paths::channel(port, channel)).ok_or_else(|| {
        err(
            codes::UNKNOWN_CHANNEL,
            format!("no channel {port}/{channel}"),
        )
    })?;
    decode_stored(&raw).map_err(module_err)
}

/// `interop/clients/{id}/floor`: after a substitution, the lowest height proofs may use.
pub(crate) fn floor_key(id: &str) -> Vec<u8> {
    let mut k = paths::client(id);
    k.extend_from_slice(b"/floor");
    k
}

/// What a proof is about: a value at a counterparty key, or its absence.
pub(crate) enum Claim<'a> {
    Present(&'a [u8]),
    Absent,
}

/// Checks a claim about the counterparty's state at `height`, as tracked by client `id`: the
/// client must be active (judged at this block's time) and have a consensus state at exactly
/// that height.
pub(crate) fn verify(
    ctx: &TxContext<'_>,
    id: &str,
    height: u64,
    key: &[u8],
    claim: Claim<'_>,
    proof_bytes: &[u8],
) -> Result<(ClientState, ConsensusState), ModuleError> {
    let c = client(ctx, id)?;
    let latest = consensus(ctx, id, c.latest_height)?.ok_or_else(|| {
        err(
            codes::CORRUPT_STATE,
            "client without its latest consensus state",
        )
    })?;
    c.ensure_active(&latest, ctx.time_ms).map_err(module_err)?;
    let floor = read_u64(ctx, &floor_key(id))?;
    if height < floor {
        return Err(err(
            codes::NO_CONSENSUS_STATE,
            format!("client {id} was substituted at height {floor}: prove at a later height"),
        ));
    }
    let cs = consensus(ctx, id, height)?.ok_or_else(|| {
        err(
            codes::NO_CONSENSUS_STATE,
            format!("client {id} has no verified header at height {height}: update it first"),
        )
    })?;
    let r: Result<(), InteropError> = match claim {
        Claim::Present(v) => proof::verify_membership(&c, &cs, key, v, proof_bytes),
        Claim::Absent => proof::verify_non_membership(&c, &cs, key, proof_bytes),
    };
    r.map_err(module_err)?;
    Ok((c, cs))
}
