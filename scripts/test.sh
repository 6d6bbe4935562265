#!/usr/bin/env bash
# The README's test command: builds everything and runs every test in the workspace
# (unit, property, deterministic-cluster and OS-process tests; benches run as smoke tests).
# Needs only the Rust toolchain (rustup adds the wasm32 target for contracts).
set -euo pipefail
cd "$(dirname "$0")/.."
# Contracts compile to wasm32 inside the tests (crates/wasm-build); a missing target fails them.
rustup target add wasm32-unknown-unknown
cargo test --workspace --all-targets "$@"
