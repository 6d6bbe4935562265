//! Entry points (§4): `() -> i32`, `0` success, `1` error set with `set_error`.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec;
use crate::ctx::Ctx;
use crate::error::{codes, ContractError};
use crate::sys;
use crate::types::InteropAck;

/// A contract's entry points as plain functions, for the native mock host
/// ([`MockHost`](crate::testing::MockHost)). [`entry!`](crate::entry!) defines one as
/// `ENTRY_POINTS`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EntryPoints {
    /// `instantiate` (deploy).
    pub instantiate: Option<fn() -> i32>,
    /// `execute` (call).
    pub execute: Option<fn() -> i32>,
    /// `query` (read-only).
    pub query: Option<fn() -> i32>,
    /// `migrate` (upgrade).
    pub migrate: Option<fn() -> i32>,
    /// `interop_ack` (outcome of a cross-chain call this contract sent).
    pub interop_ack: Option<fn() -> i32>,
}

impl EntryPoints {
    /// No entry points.
    pub const NONE: EntryPoints = EntryPoints {
        instantiate: None,
        execute: None,
        query: None,
        migrate: None,
        interop_ack: None,
    };
}

fn report(e: &ContractError) -> i32 {
    sys::set_error(e.code().as_bytes(), e.message().as_bytes());
    1
}

/// Decodes the input message; an empty input reads as JSON `null` (so `()` / `Option`
/// messages need no input).
fn read_msg<M: DeserializeOwned>() -> Result<M, ContractError> {
    let input = sys::input();
    let input: &[u8] = if input.is_empty() { b"null" } else { &input };
    serde_json::from_slice(input).map_err(|e| ContractError::bad_msg(e.to_string()))
}

fn finish<R: Serialize, E: Into<ContractError>>(r: Result<R, E>) -> i32 {
    match r {
        Ok(v) => match serde_json::to_vec(&v) {
            Ok(b) => {
                sys::set_return(&b);
                0
            }
            Err(e) => report(&ContractError::new(
                codes::SERIALIZE,
                format!("response: {e}"),
            )),
        },
        Err(e) => report(&e.into()),
    }
}

/// Runs an instantiate / execute / migrate handler.
pub fn run_mut<M, R, E, F>(f: F) -> i32
where
    M: DeserializeOwned,
    R: Serialize,
    E: Into<ContractError>,
    F: FnOnce(&mut Ctx, M) -> Result<R, E>,
{
    install_panic_hook();
    match read_msg::<M>() {
        Ok(msg) => finish(f(&mut Ctx::__new(), msg)),
        Err(e) => report(&e),
    }
}

/// Runs a query handler.
pub fn run_query<M, R, E, F>(f: F) -> i32
where
    M: DeserializeOwned,
    R: Serialize,
    E: Into<ContractError>,
    F: FnOnce(&Ctx, M) -> Result<R, E>,
{
    install_panic_hook();
    match read_msg::<M>() {
        Ok(msg) => finish(f(&Ctx::__new(), msg)),
        Err(e) => report(&e),
    }
}

/// Runs an `interop_ack` handler: the input is the host's binary `InteropAck` (§7), not JSON;
/// the handler returns nothing.
pub fn run_interop_ack<E, F>(f: F) -> i32
where
    E: Into<ContractError>,
    F: FnOnce(&mut Ctx, InteropAck) -> Result<(), E>,
{
    install_panic_hook();
    let ack = match codec::decode_interop_ack(&sys::input()) {
        Ok(ack) => ack,
        Err(e) => {
            return report(&ContractError::bad_msg(format!(
                "interop acknowledgement: {}",
                e.0
            )))
        }
    };
    match f(&mut Ctx::__new(), ack) {
        Ok(()) => 0,
        Err(e) => report(&e.into()),
    }
}

/// On wasm a panic calls the `abort` import with the panic message (→ `contract.trap` with
/// that message). Natively panics unwind into the mock host, which reports them the same way.
fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|info| sys::abort(&info.to_string())));
        });
    }
}

/// Defines a contract's entry points from typed handlers:
///
/// ```ignore
/// meridian_contract_sdk::entry!(
///     instantiate = init,      // fn(&mut Ctx, InitMsg)    -> Result<impl Serialize, E>
///     execute = exec,          // fn(&mut Ctx, ExecMsg)    -> Result<impl Serialize, E>
///     query = query,           // fn(&Ctx, QueryMsg)       -> Result<impl Serialize, E>
///     migrate = migrate_fn,    // fn(&mut Ctx, MigrateMsg) -> Result<impl Serialize, E>
///     interop_ack = on_ack,    // fn(&mut Ctx, InteropAck) -> Result<(), E>
/// );
/// ```
///
/// Each is optional (deploy needs `instantiate`, calls `execute`, queries `query`, upgrades
/// `migrate`; `interop_ack` receives the outcome of calls sent with
/// [`Ctx::interop_send`](crate::Ctx::interop_send), its input is the host's binary
/// [`InteropAck`](crate::InteropAck)); `E: Into<ContractError>`. Messages are `serde::Deserialize` from the input's
/// JSON (bad JSON ⇒ error `bad_msg`); the `Ok` value is returned as JSON; an `Err` becomes the
/// typed error `<contract>.<code>`.
///
/// On wasm32 this generates the `#[export_name]` `extern "C" fn() -> i32` exports. On every
/// target it defines `pub const ENTRY_POINTS: EntryPoints` for the mock host. Invoke it once,
/// at the crate root.
#[macro_export]
macro_rules! entry {
    ($($kind:ident = $handler:path),+ $(,)?) => {
        $( $crate::__entry_export!($kind, $handler); )+

        /// This contract's entry points, for `meridian_contract_sdk::testing::MockHost`.
        #[allow(clippy::needless_update)] // all given: `..NONE` is a no-op
        pub const ENTRY_POINTS: $crate::EntryPoints = $crate::EntryPoints {
            $( $kind: ::core::option::Option::Some($crate::__entry_fn!($kind, $handler)), )+
            ..$crate::EntryPoints::NONE
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __entry_fn {
    (query, $handler:path) => {{
        fn __meridian_entry() -> i32 {
            $crate::__private::run_query($handler)
        }
        __meridian_entry as fn() -> i32
    }};
    (interop_ack, $handler:path) => {{
        fn __meridian_entry() -> i32 {
            $crate::__private::run_interop_ack($handler)
        }
        __meridian_entry as fn() -> i32
    }};
    ($kind:ident, $handler:path) => {{
        fn __meridian_entry() -> i32 {
            $crate::__private::run_mut($handler)
        }
        __meridian_entry as fn() -> i32
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __entry_export {
    (instantiate, $handler:path) => {
        $crate::__entry_export!(@export "instantiate", __meridian_export_instantiate, run_mut, $handler);
    };
    (execute, $handler:path) => {
        $crate::__entry_export!(@export "execute", __meridian_export_execute, run_mut, $handler);
    };
    (migrate, $handler:path) => {
        $crate::__entry_export!(@export "migrate", __meridian_export_migrate, run_mut, $handler);
    };
    (query, $handler:path) => {
        $crate::__entry_export!(@export "query", __meridian_export_query, run_query, $handler);
    };
    (interop_ack, $handler:path) => {
        $crate::__entry_export!(@export "interop_ack", __meridian_export_interop_ack, run_interop_ack, $handler);
    };
    (@export $name:literal, $fn:ident, $run:ident, $handler:path) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        #[export_name = $name]
        pub extern "C" fn $fn() -> i32 {
            $crate::__private::$run($handler)
        }
    };
}
