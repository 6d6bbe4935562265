//! Example contract: food supply-chain traceability (食品供应链追踪追溯), a multi-party scenario of
//! seed 003.
//!
//! The **admin** (whoever instantiates) registers participants, one role per address:
//! `producer`, `processor`, `logistics`, `retailer`. A producer creates a **lot**; every custody
//! change is then appended by the **receiving** participant, who attests where it took the lot
//! over and the hash of its off-chain record (inspection report, temperature log, waybill …).
//! The block height, block time and transaction hash are recorded with each step.
//!
//! Custody rules (the successor roles of the current holder's role):
//!
//! | holder's role | who may take the lot over next |
//! |---|---|
//! | producer  | a processor |
//! | processor | another processor (multi-stage processing) or logistics |
//! | logistics | another logistics provider (carrier hand-over, warehouse) or a retailer |
//! | retailer  | nobody: the trail is closed |
//!
//! So a trail always reads `producer, processor+, logistics+, retailer?`: no stage is skipped
//! and none is revisited. A repeat needs a different address (`already_holder`); producers only
//! create lots (`wrong_role`). Anyone who knows a lot id reads its whole trail, in pages.

#![deny(unsafe_code)]

pub use meridian_contract_sdk::Hash32;

use meridian_contract_sdk::{ensure, fail, Address, ContractError, Ctx, Item, Map, Order};
use serde::{Deserialize, Serialize};

/// Stable error codes (the chain reports them as `<contract name>.<code>`).
pub mod codes {
    /// Only the admin registers and revokes participants.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The address already has a role.
    pub const ALREADY_REGISTERED: &str = "already_registered";
    /// The caller (or the address to revoke) is not a registered participant.
    pub const NOT_REGISTERED: &str = "not_registered";
    /// The caller's registration was revoked.
    pub const REVOKED: &str = "revoked";
    /// The caller's role cannot do this at all (a non-producer creating a lot, a producer
    /// taking custody).
    pub const WRONG_ROLE: &str = "wrong_role";
    /// The caller's role is not a successor of the holder's role (a skipped or revisited
    /// stage).
    pub const OUT_OF_ORDER: &str = "out_of_order";
    /// The lot reached a retailer; no more custody steps.
    pub const LOT_CLOSED: &str = "lot_closed";
    /// The caller already holds the lot.
    pub const ALREADY_HOLDER: &str = "already_holder";
    /// A lot with that id exists.
    pub const LOT_EXISTS: &str = "lot_exists";
    /// No lot with that id.
    pub const LOT_NOT_FOUND: &str = "lot_not_found";
    /// Lot id not 1..=64 of `[A-Za-z0-9._:-]`.
    pub const INVALID_LOT_ID: &str = "invalid_lot_id";
    /// A text field (name, product, location) empty, too long or with control characters.
    pub const INVALID_TEXT: &str = "invalid_text";
    /// The trail's step counter overflowed.
    pub const OVERFLOW: &str = "overflow";
}

/// Longest lot id.
pub const MAX_LOT_ID_LEN: usize = 64;
/// Longest name / product / location, bytes.
pub const MAX_TEXT_LEN: usize = 128;
/// Default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page (the host's range cap).
pub const MAX_LIMIT: u32 = 100;

/// A participant's role in the chain of custody.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Grows / makes the food; creates lots.
    Producer,
    /// Processes (slaughter, packing, …).
    Processor,
    /// Transports and stores.
    Logistics,
    /// Sells to consumers.
    Retailer,
}

impl Role {
    /// The roles that may take a lot over from a holder with this role (see the module docs).
    pub fn successors(self) -> &'static [Role] {
        match self {
            Role::Producer => &[Role::Processor],
            Role::Processor => &[Role::Processor, Role::Logistics],
            Role::Logistics => &[Role::Logistics, Role::Retailer],
            Role::Retailer => &[],
        }
    }
}

/// A registered participant.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    /// Address.
    pub address: Address,
    /// Role.
    pub role: Role,
    /// Display name (company).
    pub name: String,
    /// `false` once revoked: the participant can no longer act (its past steps stay).
    pub active: bool,
}

/// A lot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    /// Id, chosen by the producer.
    pub lot_id: String,
    /// What it is.
    pub product: String,
    /// Who created it.
    pub producer: Address,
    /// Current holder.
    pub holder: Address,
    /// The holder's role.
    pub holder_role: Role,
    /// Number of trail steps (creation included).
    pub steps: u32,
}

/// One step of a lot's trail. Step 0 is the creation by the producer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 0, 1, … per lot.
    pub seq: u32,
    /// The participant that took custody (the producer for step 0).
    pub holder: Address,
    /// Its role.
    pub role: Role,
    /// Where.
    pub location: String,
    /// Hash of the participant's off-chain record of the step.
    pub data_hash: Hash32,
    /// Block height.
    pub height: u64,
    /// Block time, ms since the Unix epoch.
    pub time_ms: u64,
    /// The transaction.
    pub tx_hash: Hash32,
}

const ADMIN: Item<Address> = Item::new("admin");
const PARTICIPANTS: Map<Address, Participant> = Map::new("p");
const LOTS: Map<String, Lot> = Map::new("lot");
/// (lot id, seq) → step.
const TRAIL: Map<(String, u32), Step> = Map::new("t");

/// Instantiate message: `{}`; the caller becomes the admin.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {}

/// Execute messages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Admin: registers `address` with `role`.
    Register {
        /// Participant.
        address: Address,
        /// Role.
        role: Role,
        /// Display name, 1..=128 bytes.
        name: String,
    },
    /// Admin: revokes a participant.
    Revoke {
        /// Participant.
        address: Address,
    },
    /// Producer: creates a lot it holds (trail step 0).
    CreateLot {
        /// New lot id, 1..=64 of `[A-Za-z0-9._:-]`.
        lot_id: String,
        /// Product description, 1..=128 bytes.
        product: String,
        /// Where, 1..=128 bytes.
        location: String,
        /// Hash of the production record.
        data_hash: Hash32,
    },
    /// A successor of the holder's role takes custody (appends a trail step).
    Receive {
        /// Lot id.
        lot_id: String,
        /// Where, 1..=128 bytes.
        location: String,
        /// Hash of the receiver's record.
        data_hash: Hash32,
    },
}

/// Query messages (anyone).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// → [`ConfigResponse`].
    Config {},
    /// → [`Participant`].
    Participant {
        /// Address.
        address: Address,
    },
    /// → [`ParticipantsResponse`], by address.
    Participants {
        /// Last address of the previous page.
        #[serde(default)]
        start_after: Option<Address>,
        /// Page size (default 20, max 100).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// → [`Lot`].
    Lot {
        /// Lot id.
        lot_id: String,
    },
    /// → [`LotsResponse`], by lot id.
    Lots {
        /// Last lot id of the previous page.
        #[serde(default)]
        start_after: Option<String>,
        /// Page size (default 20, max 100).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// → [`TrailResponse`]: the lot's steps with seq > `start_after`, in order.
    Trail {
        /// Lot id.
        lot_id: String,
        /// Last seq of the previous page.
        #[serde(default)]
        start_after: Option<u32>,
        /// Page size (default 20, max 100).
        #[serde(default)]
        limit: Option<u32>,
    },
}

/// `config` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigResponse {
    /// The admin.
    pub admin: Address,
}

/// `participants` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ParticipantsResponse {
    /// The page.
    pub participants: Vec<Participant>,
}

/// `lots` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LotsResponse {
    /// The page.
    pub lots: Vec<Lot>,
}

/// `trail` response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TrailResponse {
    /// The lot.
    pub lot_id: String,
    /// Total number of steps.
    pub total: u32,
    /// The page.
    pub steps: Vec<Step>,
}

/// Response of `create_lot` and `receive`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StepResponse {
    /// The lot.
    pub lot_id: String,
    /// Seq of the appended step.
    pub seq: u32,
}

/// `<contract>.registered` / `<contract>.revoked` event data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ParticipantEvent {
    /// Participant.
    pub address: Address,
    /// Role.
    pub role: Role,
}

/// `<contract>.lot_created` / `<contract>.custody` event data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CustodyEvent {
    /// Lot.
    pub lot_id: String,
    /// Seq of the step.
    pub seq: u32,
    /// Previous holder (`None` for the creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    /// New holder.
    pub to: Address,
    /// Its role.
    pub role: Role,
    /// Where.
    pub location: String,
    /// Record hash.
    pub data_hash: Hash32,
}

fn valid_lot_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LOT_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn text(what: &str, s: &str) -> Result<(), ContractError> {
    ensure!(
        !s.is_empty() && s.len() <= MAX_TEXT_LEN && !s.chars().any(char::is_control),
        codes::INVALID_TEXT,
        "{what} must be 1..={MAX_TEXT_LEN} bytes without control characters"
    );
    Ok(())
}

/// Instantiate handler.
pub fn instantiate(ctx: &mut Ctx, _msg: InstantiateMsg) -> Result<ConfigResponse, ContractError> {
    let admin = ctx.env().caller;
    ADMIN.save(ctx, &admin)?;
    Ok(ConfigResponse { admin })
}

/// The caller's active registration.
fn active(ctx: &Ctx, who: Address) -> Result<Participant, ContractError> {
    let Some(p) = PARTICIPANTS.may_load(ctx, &who)? else {
        fail!(
            codes::NOT_REGISTERED,
            "{who} is not a registered participant"
        );
    };
    ensure!(p.active, codes::REVOKED, "{who}'s registration was revoked");
    Ok(p)
}

fn load_lot(ctx: &Ctx, lot_id: &str) -> Result<Lot, ContractError> {
    match LOTS.may_load(ctx, lot_id)? {
        Some(l) => Ok(l),
        None => fail!(codes::LOT_NOT_FOUND, "no lot {lot_id:?}"),
    }
}

/// Appends step `lot.steps` held by `holder`, updates and saves the lot, emits the event.
fn append(
    ctx: &mut Ctx,
    mut lot: Lot,
    holder: &Participant,
    location: String,
    data_hash: Hash32,
    kind: &str,
) -> Result<StepResponse, ContractError> {
    let env = ctx.env().clone();
    let seq = lot.steps;
    let Some(next) = seq.checked_add(1).filter(|n| *n < u32::MAX) else {
        fail!(codes::OVERFLOW, "the trail of {} is full", lot.lot_id);
    };
    let from = (seq > 0).then_some(lot.holder);
    TRAIL.save(
        ctx,
        &(lot.lot_id.clone(), seq),
        &Step {
            seq,
            holder: holder.address,
            role: holder.role,
            location: location.clone(),
            data_hash,
            height: env.height,
            time_ms: env.time_ms,
            tx_hash: Hash32(env.tx_hash),
        },
    )?;
    lot.steps = next;
    lot.holder = holder.address;
    lot.holder_role = holder.role;
    LOTS.save(ctx, &lot.lot_id, &lot)?;
    ctx.emit(
        kind,
        &CustodyEvent {
            lot_id: lot.lot_id.clone(),
            seq,
            from,
            to: holder.address,
            role: holder.role,
            location,
            data_hash,
        },
    )?;
    Ok(StepResponse {
        lot_id: lot.lot_id,
        seq,
    })
}

/// Execute handler.
pub fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<Option<StepResponse>, ContractError> {
    let caller = ctx.env().caller;
    match msg {
        ExecuteMsg::Register {
            address,
            role,
            name,
        } => {
            let admin = ADMIN.load(ctx)?;
            ensure!(
                caller == admin,
                codes::UNAUTHORIZED,
                "only the admin {admin} registers participants"
            );
            text("name", &name)?;
            ensure!(
                !PARTICIPANTS.has(ctx, &address),
                codes::ALREADY_REGISTERED,
                "{address} is already registered"
            );
            PARTICIPANTS.save(
                ctx,
                &address,
                &Participant {
                    address,
                    role,
                    name,
                    active: true,
                },
            )?;
            ctx.emit("registered", &ParticipantEvent { address, role })?;
            Ok(None)
        }
        ExecuteMsg::Revoke { address } => {
            let admin = ADMIN.load(ctx)?;
            ensure!(
                caller == admin,
                codes::UNAUTHORIZED,
                "only the admin {admin} revokes participants"
            );
            let mut p = active(ctx, address)?;
            p.active = false;
            PARTICIPANTS.save(ctx, &address, &p)?;
            ctx.emit(
                "revoked",
                &ParticipantEvent {
                    address,
                    role: p.role,
                },
            )?;
            Ok(None)
        }
        ExecuteMsg::CreateLot {
            lot_id,
            product,
            location,
            data_hash,
        } => {
            let me = active(ctx, caller)?;
            ensure!(
                me.role == Role::Producer,
                codes::WRONG_ROLE,
                "only producers create lots; {caller} is {:?}",
                me.role
            );
            ensure!(
                valid_lot_id(&lot_id),
                codes::INVALID_LOT_ID,
                "lot id must be 1..={MAX_LOT_ID_LEN} of [A-Za-z0-9._:-]"
            );
            text("product", &product)?;
            text("location", &location)?;
            ensure!(
                !LOTS.has(ctx, &lot_id),
                codes::LOT_EXISTS,
                "lot {lot_id:?} exists"
            );
            let lot = Lot {
                lot_id,
                product,
                producer: caller,
                holder: caller,
                holder_role: Role::Producer,
                steps: 0,
            };
            append(ctx, lot, &me, location, data_hash, "lot_created").map(Some)
        }
        ExecuteMsg::Receive {
            lot_id,
            location,
            data_hash,
        } => {
            let me = active(ctx, caller)?;
            ensure!(
                me.role != Role::Producer,
                codes::WRONG_ROLE,
                "producers create lots; they do not take custody"
            );
            text("location", &location)?;
            let lot = load_lot(ctx, &lot_id)?;
            let allowed = lot.holder_role.successors();
            ensure!(
                !allowed.is_empty(),
                codes::LOT_CLOSED,
                "lot {lot_id:?} reached a retailer; its trail is closed"
            );
            ensure!(
                lot.holder != caller,
                codes::ALREADY_HOLDER,
                "{caller} already holds lot {lot_id:?}"
            );
            ensure!(
                allowed.contains(&me.role),
                codes::OUT_OF_ORDER,
                "lot {lot_id:?} is held by a {:?}; the next holder must be one of {allowed:?}, not {:?}",
                lot.holder_role,
                me.role
            );
            append(ctx, lot, &me, location, data_hash, "custody").map(Some)
        }
    }
}

/// A query's response: serialized as the inner value.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum QueryResponse {
    /// `config`.
    Config(ConfigResponse),
    /// `participant`.
    Participant(Participant),
    /// `participants`.
    Participants(ParticipantsResponse),
    /// `lot`.
    Lot(Lot),
    /// `lots`.
    Lots(LotsResponse),
    /// `trail`.
    Trail(TrailResponse),
}

fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Query handler.
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<QueryResponse, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => QueryResponse::Config(ConfigResponse {
            admin: ADMIN.load(ctx)?,
        }),
        QueryMsg::Participant { address } => match PARTICIPANTS.may_load(ctx, &address)? {
            Some(p) => QueryResponse::Participant(p),
            None => fail!(codes::NOT_REGISTERED, "{address} is not registered"),
        },
        QueryMsg::Participants { start_after, limit } => {
            QueryResponse::Participants(ParticipantsResponse {
                participants: PARTICIPANTS
                    .page(ctx, start_after.as_ref(), page_limit(limit))?
                    .into_iter()
                    .map(|(_, p)| p)
                    .collect(),
            })
        }
        QueryMsg::Lot { lot_id } => QueryResponse::Lot(load_lot(ctx, &lot_id)?),
        QueryMsg::Lots { start_after, limit } => QueryResponse::Lots(LotsResponse {
            lots: LOTS
                .page(ctx, start_after.as_ref(), page_limit(limit))?
                .into_iter()
                .map(|(_, l)| l)
                .collect(),
        }),
        QueryMsg::Trail {
            lot_id,
            start_after,
            limit,
        } => {
            let lot = load_lot(ctx, &lot_id)?;
            // Steps never reach seq u32::MAX (see `append`), so (lot, u32::MAX) bounds the lot.
            let from = start_after.map_or(0, |s| s.saturating_add(1));
            let steps = TRAIL
                .range(
                    ctx,
                    Some(&(lot_id.clone(), from)),
                    Some(&(lot_id.clone(), u32::MAX)),
                    page_limit(limit),
                    Order::Ascending,
                )?
                .into_iter()
                .map(|(_, s)| s)
                .collect();
            QueryResponse::Trail(TrailResponse {
                lot_id,
                total: lot.steps,
                steps,
            })
        }
    })
}

meridian_contract_sdk::entry!(instantiate = instantiate, execute = execute, query = query);

#[cfg(test)]
mod tests;
