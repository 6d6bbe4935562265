#!/usr/bin/env bash
# The README's test command: builds everything and runs every test in the workspace
# (unit, property, deterministic-cluster and OS-process tests; benches run as smoke tests).
# Needs only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets "$@"
