#!/usr/bin/env bash
# Benchmark of the web console: bundle sizes and the project page's load (first paint,
# ready, interactive) in Debian's Chromium, cold, at full CPU speed and slowed 4x,
# against the release build of Sluice serving the production bundle. Prints figures.
#   RUNS=7 scripts/bench-console.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-console.sh >/dev/null
cargo build --release --quiet --bin sluice
# shellcheck source=scripts/console-server.sh
. scripts/console-server.sh
SLUICE_BIN=target/release/sluice start_console_server
(cd frontend && SLUICE_URL="$SLUICE_URL" node bench/load.mjs)
