#!/usr/bin/env bash
# Builds and starts Sluice on this machine with the embedded SQLite database under
# ./data (created on first start). Extra arguments go to `sluice serve`'s environment
# via SLUICE__* variables or sluice.toml; see README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin sluice
exec ./target/release/sluice serve "$@"
