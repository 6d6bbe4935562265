//! Integration tests for meridian-storage (one binary, one module per concern).

mod common;
mod durability;
mod ordered;
mod pipeline;
mod proofs;
mod props;
mod roundtrip;
