//! The SDK against a real node stack: a single-validator ledger (real storage, mempool,
//! execution, JMT proofs) served by the real `meridian_api` router on a loopback port, with a
//! block producer thread standing in for consensus (it proposes and finalizes like a
//! one-validator simplex would). The 4-process network with real certificates is exercised
//! through the CLI in `bin/meridian/tests/cli.rs`.

mod contracts;
mod gov;
mod net;
mod sdk;
