//! Example contract: a counter.
//!
//! * instantiate `{"start": 5}` (the caller becomes the creator)
//! * execute `{"increment": {"by": 2}}` → `{"count": 7}`, event `counter.incremented`
//! * execute `{"reset": {}}` (creator only) → `{"count": 0}`, event `counter.reset`
//! * query `{"get": {}}` → `{"count": 7, "creator": "0x…"}`
//! * migrate `null` → `{"count": …}` (state is kept)
//!
//! Cross-chain (docs/spec/interop.md §16): the counter increments a counter on another chain.
//!
//! * execute `{"remote_increment": {"channel": "channel-1", "target": "counter", "by": 2,
//!   "timeout_height": 0, "timeout_timestamp_ms": 1700000600000}}` sends
//!   `{"increment": {"by": 2}}` to contract `target` at the other end of interop channel
//!   `channel` (port `contract`; `target` must be allowlisted there) → `{"count": …}` (this
//!   counter's, unchanged), event `counter.remote_sent` with the packet sequence;
//! * `interop_ack` (called by the chain when the call is acknowledged or times out) records
//!   the outcome — the remote count, the error, or the timeout — and emits
//!   `counter.remote_done`;
//! * query `{"remote": {"channel": "channel-1", "sequence": 1}}` → the call's record.

#![deny(unsafe_code)]

use meridian_contract_sdk::{
    ensure, Address, ContractError, Ctx, InteropAck, InteropOutcome, Item, Map,
};
use serde::{Deserialize, Serialize};

/// Stored state.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Current count.
    pub count: u64,
    /// Who instantiated the contract; the only one who may reset it.
    pub creator: Address,
}

const STATE: Item<State> = Item::new("state");
/// Cross-chain calls by (channel, sequence).
const REMOTE: Map<(String, u64), RemoteCall> = Map::new("remote");

/// A cross-chain increment and, once settled, its outcome.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RemoteCall {
    /// The target contract on the other chain.
    pub target: String,
    /// The increment asked for.
    pub by: u64,
    /// `pending`, `ok`, `error` or `timeout`.
    pub status: String,
    /// The remote counter's count after the increment (status `ok`).
    pub remote_count: Option<u64>,
    /// Why it failed (status `error`).
    pub error: Option<String>,
}

/// Event data of `counter.remote_sent` and `counter.remote_done`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RemoteEvent {
    /// Source channel.
    pub channel: String,
    /// Packet sequence.
    pub sequence: u64,
    /// Status after the event.
    pub status: String,
}

/// Instantiate message.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// Initial count.
    pub start: u64,
}

/// Execute messages.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Adds `by` (overflow is an error).
    Increment {
        /// Amount to add.
        by: u64,
    },
    /// Sets the count to zero. Creator only.
    Reset {},
    /// Increments counter `target` on the chain at the other end of interop channel
    /// `channel` by `by` (at least one timeout must be non-zero).
    RemoteIncrement {
        /// Source channel (port `contract`).
        channel: String,
        /// Target contract on the other chain.
        target: String,
        /// Amount to add there.
        by: u64,
        /// Counterparty height at which the call times out (0: none).
        #[serde(default)]
        timeout_height: u64,
        /// Time (ms) at which the call times out (0: none).
        #[serde(default)]
        timeout_timestamp_ms: u64,
    },
}

/// Query messages.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// The count and creator.
    Get {},
    /// A cross-chain call's record.
    Remote {
        /// Source channel.
        channel: String,
        /// Packet sequence.
        sequence: u64,
    },
}

/// Query responses.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum QueryResponse {
    /// `get`.
    State(State),
    /// `remote`.
    Remote(RemoteCall),
}

/// Response of execute and migrate.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CountResponse {
    /// The count after the call.
    pub count: u64,
}

/// Event data of `counter.incremented` and `counter.reset`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CountEvent {
    /// Who called.
    pub by_caller: Address,
    /// The count before.
    pub from: u64,
    /// The count after.
    pub to: u64,
}

/// Instantiate handler.
pub fn instantiate(ctx: &mut Ctx, msg: InstantiateMsg) -> Result<CountResponse, ContractError> {
    let creator = ctx.env().caller;
    STATE.save(
        ctx,
        &State {
            count: msg.start,
            creator,
        },
    )?;
    Ok(CountResponse { count: msg.start })
}

/// Execute handler.
pub fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<CountResponse, ContractError> {
    if let ExecuteMsg::RemoteIncrement {
        channel,
        target,
        by,
        timeout_height,
        timeout_timestamp_ms,
    } = msg
    {
        return remote_increment(
            ctx,
            channel,
            target,
            by,
            timeout_height,
            timeout_timestamp_ms,
        );
    }
    let mut state = STATE.load(ctx)?;
    let caller = ctx.env().caller;
    let from = state.count;
    let kind = match msg {
        ExecuteMsg::Increment { by } => {
            let to = from.checked_add(by);
            ensure!(to.is_some(), "overflow", "{from} + {by} overflows u64");
            state.count = to.unwrap_or(from);
            "incremented"
        }
        ExecuteMsg::Reset {} => {
            ensure!(
                caller == state.creator,
                "unauthorized",
                "only the creator {} may reset",
                state.creator
            );
            state.count = 0;
            "reset"
        }
        ExecuteMsg::RemoteIncrement { .. } => unreachable!("handled above"),
    };
    STATE.save(ctx, &state)?;
    ctx.emit(
        kind,
        &CountEvent {
            by_caller: caller,
            from,
            to: state.count,
        },
    )?;
    Ok(CountResponse { count: state.count })
}

fn remote_increment(
    ctx: &mut Ctx,
    channel: String,
    target: String,
    by: u64,
    timeout_height: u64,
    timeout_timestamp_ms: u64,
) -> Result<CountResponse, ContractError> {
    let count = STATE.load(ctx)?.count;
    let sequence = ctx
        .interop_send(
            &channel,
            &target,
            &ExecuteMsg::Increment { by },
            timeout_height,
            timeout_timestamp_ms,
        )
        .map_err(|e| ContractError::new("remote_failed", format!("{}: {}", e.code, e.message)))?;
    let status = "pending".to_string();
    REMOTE.save(
        ctx,
        &(channel.clone(), sequence),
        &RemoteCall {
            target,
            by,
            status: status.clone(),
            remote_count: None,
            error: None,
        },
    )?;
    ctx.emit(
        "remote_sent",
        &RemoteEvent {
            channel,
            sequence,
            status,
        },
    )?;
    Ok(CountResponse { count })
}

/// `interop_ack` handler: the chain reports how a cross-chain increment ended.
pub fn interop_ack(ctx: &mut Ctx, ack: InteropAck) -> Result<(), ContractError> {
    let key = (ack.channel.clone(), ack.sequence);
    let mut call = REMOTE.load(ctx, &key)?;
    match ack.outcome {
        InteropOutcome::Success(data) => {
            let resp: CountResponse = meridian_contract_sdk::serde_json::from_slice(&data)
                .map_err(|e| ContractError::new("bad_remote_response", e.to_string()))?;
            call.status = "ok".into();
            call.remote_count = Some(resp.count);
        }
        InteropOutcome::Error(e) => {
            call.status = "error".into();
            call.error = Some(e);
        }
        InteropOutcome::Timeout => call.status = "timeout".into(),
    }
    REMOTE.save(ctx, &key, &call)?;
    ctx.emit(
        "remote_done",
        &RemoteEvent {
            channel: ack.channel,
            sequence: ack.sequence,
            status: call.status,
        },
    )
}

/// Query handler.
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<QueryResponse, ContractError> {
    match msg {
        QueryMsg::Get {} => STATE.load(ctx).map(QueryResponse::State),
        QueryMsg::Remote { channel, sequence } => REMOTE
            .load(ctx, &(channel, sequence))
            .map(QueryResponse::Remote),
    }
}

/// Migrate handler: keeps the state.
pub fn migrate(ctx: &mut Ctx, _msg: ()) -> Result<CountResponse, ContractError> {
    Ok(CountResponse {
        count: STATE.load(ctx)?.count,
    })
}

meridian_contract_sdk::entry!(
    instantiate = instantiate,
    execute = execute,
    query = query,
    migrate = migrate,
    interop_ack = interop_ack,
);

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_contract_sdk::testing::{addr, EntryKind, MockHost};

    fn setup(start: u64) -> MockHost {
        let mut h = MockHost::new("counter", ENTRY_POINTS);
        h.set_caller(addr("creator"));
        let r = h.instantiate(&InstantiateMsg { start }).unwrap();
        assert_eq!(r.json::<CountResponse>(), CountResponse { count: start });
        h
    }

    fn get(h: &MockHost) -> State {
        match h.query(&QueryMsg::Get {}).unwrap() {
            QueryResponse::State(s) => s,
            other => panic!("{other:?}"),
        }
    }

    fn remote(h: &MockHost, sequence: u64) -> RemoteCall {
        match h
            .query(&QueryMsg::Remote {
                channel: "channel-1".into(),
                sequence,
            })
            .unwrap()
        {
            QueryResponse::Remote(r) => r,
            other => panic!("{other:?}"),
        }
    }

    fn send_remote(h: &mut MockHost, by: u64) -> u64 {
        h.execute(&ExecuteMsg::RemoteIncrement {
            channel: "channel-1".into(),
            target: "counter".into(),
            by,
            timeout_height: 0,
            timeout_timestamp_ms: 1_700_000_600_000,
        })
        .unwrap();
        h.interop_sent().last().unwrap().sequence
    }

    fn ack(sequence: u64, by: u64, outcome: InteropOutcome) -> InteropAck {
        InteropAck {
            channel: "channel-1".into(),
            sequence,
            target: "counter".into(),
            msg: meridian_contract_sdk::serde_json::to_vec(&ExecuteMsg::Increment { by }).unwrap(),
            outcome,
        }
    }

    #[test]
    fn remote_increment_sends_and_records_each_outcome() {
        let mut h = setup(1);
        assert_eq!(send_remote(&mut h, 2), 1);
        let sent = h.interop_sent();
        assert_eq!(sent[0].source, "counter");
        assert_eq!(sent[0].target, "counter");
        assert_eq!(sent[0].msg, br#"{"increment":{"by":2}}"#);
        assert_eq!(remote(&h, 1).status, "pending");
        assert_eq!(send_remote(&mut h, 3), 2);
        assert_eq!(send_remote(&mut h, 4), 3);
        assert_eq!(get(&h).count, 1, "the local count does not move");

        h.interop_ack(&ack(
            1,
            2,
            InteropOutcome::Success(br#"{"count":7}"#.to_vec()),
        ))
        .unwrap();
        let r = remote(&h, 1);
        assert_eq!((r.status.as_str(), r.remote_count), ("ok", Some(7)));
        h.interop_ack(&ack(
            2,
            3,
            InteropOutcome::Error("interop.contract_not_allowed: no".into()),
        ))
        .unwrap();
        let r = remote(&h, 2);
        assert_eq!(r.status, "error");
        assert!(r.error.unwrap().contains("contract_not_allowed"));
        h.interop_ack(&ack(3, 4, InteropOutcome::Timeout)).unwrap();
        assert_eq!(remote(&h, 3).status, "timeout");
        let done: Vec<_> = h
            .events()
            .into_iter()
            .filter(|e| e.kind == "counter.remote_done")
            .map(|e| e.json::<RemoteEvent>().status)
            .collect();
        assert_eq!(done, ["ok", "error", "timeout"]);
        // An acknowledgement of a call never sent is an error.
        let e = h
            .interop_ack(&ack(9, 1, InteropOutcome::Timeout))
            .unwrap_err();
        assert_eq!(e.code, "counter.not_found");
    }

    fn inc(h: &mut MockHost, by: u64) -> Result<u64, String> {
        h.execute(&ExecuteMsg::Increment { by })
            .map(|r| r.json::<CountResponse>().count)
            .map_err(|e| e.code)
    }

    #[test]
    fn instantiate_records_start_and_creator() {
        let mut h = setup(5);
        assert_eq!(
            get(&h),
            State {
                count: 5,
                creator: addr("creator")
            }
        );
        // The wire format is what the CLI sends.
        let raw = h
            .call("counter", EntryKind::Query, br#"{"get":{}}"#)
            .expect("raw JSON query")
            .data;
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            format!(r#"{{"count":5,"creator":"{}"}}"#, addr("creator"))
        );
    }

    #[test]
    fn increment_adds_and_emits() {
        let mut h = setup(5);
        h.set_caller(addr("someone"));
        assert_eq!(inc(&mut h, 2), Ok(7));
        assert_eq!(inc(&mut h, 0), Ok(7));
        assert_eq!(get(&h).count, 7);
        let ev = h.events();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].kind, "counter.incremented");
        assert_eq!(
            ev[0].json::<CountEvent>(),
            CountEvent {
                by_caller: addr("someone"),
                from: 5,
                to: 7
            }
        );
    }

    #[test]
    fn overflow_is_an_error_and_changes_nothing() {
        let mut h = setup(u64::MAX - 1);
        assert_eq!(inc(&mut h, 2), Err("counter.overflow".into()));
        assert_eq!(get(&h).count, u64::MAX - 1);
        assert!(h.events().is_empty());
        assert_eq!(inc(&mut h, 1), Ok(u64::MAX));
    }

    #[test]
    fn only_the_creator_resets() {
        let mut h = setup(3);
        inc(&mut h, 4).unwrap();
        h.set_caller(addr("mallory"));
        let e = h.execute(&ExecuteMsg::Reset {}).unwrap_err();
        assert_eq!(e.code, "counter.unauthorized");
        assert_eq!(get(&h).count, 7);
        h.set_caller(addr("creator"));
        let r = h.execute(&ExecuteMsg::Reset {}).unwrap();
        assert_eq!(r.json::<CountResponse>().count, 0);
        assert_eq!(get(&h).count, 0);
        let last = h.events().pop().unwrap();
        assert_eq!(last.kind, "counter.reset");
        assert_eq!(last.json::<CountEvent>().from, 7);
    }

    #[test]
    fn bad_messages_and_uninitialised_state() {
        let mut h = MockHost::new("counter", ENTRY_POINTS);
        // Not instantiated: execute fails with the SDK's not_found.
        assert_eq!(inc(&mut h, 1), Err("counter.not_found".into()));
        for bad in [
            &br#"{"increment":{"by":-1}}"#[..],
            br#"{"increment":{}}"#,
            br#"{"explode":{}}"#,
            b"[]",
        ] {
            let e = h.call("counter", EntryKind::Execute, bad).unwrap_err();
            assert_eq!(
                e.code,
                "counter.bad_msg",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn migrate_keeps_state() {
        let mut h = setup(9);
        let r = h.migrate(&()).unwrap();
        assert_eq!(r.json::<CountResponse>().count, 9);
        assert_eq!(get(&h).count, 9);
    }
}
