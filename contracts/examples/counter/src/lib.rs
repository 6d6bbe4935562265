//! Example contract: a counter.
//!
//! * instantiate `{"start": 5}` (the caller becomes the creator)
//! * execute `{"increment": {"by": 2}}` → `{"count": 7}`, event `counter.incremented`
//! * execute `{"reset": {}}` (creator only) → `{"count": 0}`, event `counter.reset`
//! * query `{"get": {}}` → `{"count": 7, "creator": "0x…"}`
//! * migrate `null` → `{"count": …}` (state is kept)

#![deny(unsafe_code)]

use meridian_contract_sdk::{ensure, Address, ContractError, Ctx, Item};
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
}

/// Query messages.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// The count and creator.
    Get {},
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

/// Query handler.
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<State, ContractError> {
    match msg {
        QueryMsg::Get {} => STATE.load(ctx),
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
        h.query(&QueryMsg::Get {}).unwrap()
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
