#!/usr/bin/env bash
# The README's test command: builds everything and runs every test in the workspace.
# Needs only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --bins
cargo test --workspace --all-targets
