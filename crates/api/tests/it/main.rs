//! API contract tests: a real ledger (storage, mempool, modules) behind the real router on a
//! loopback socket, exercised over HTTP.

mod batch;
mod contracts;
mod endpoints;
mod errors;
mod events;
mod governance;
mod harness;
mod schema;
