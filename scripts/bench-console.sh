#!/usr/bin/env bash
# Benchmark of the web console: bundle sizes and the project page's load (first paint,
# ready, interactive) in Debian's Chromium, cold, at full CPU speed and slowed 4x,
# against the release build of Sluice serving the production bundle. Prints figures.
#   RUNS=7 scripts/bench-console.sh
#   CONSOLE_DIR=/tmp/before/frontend/dist scripts/bench-console.sh   # another build, e.g. an earlier commit's
#   PROFILE=dev scripts/bench-console.sh                            # the debug build of Sluice (quicker to build)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${CONSOLE_DIR:-}" ] || scripts/build-console.sh >/dev/null
PROFILE="${PROFILE:-release}"
cargo build --profile "$PROFILE" --quiet --bin sluice
if [ "$PROFILE" = dev ]; then bin=target/debug/sluice; else bin="target/$PROFILE/sluice"; fi
# shellcheck source=scripts/console-server.sh
. scripts/console-server.sh
SLUICE_BIN="$bin" start_console_server
(cd frontend && SLUICE_URL="$SLUICE_URL" CONSOLE_DIR="${CONSOLE_DIR:-}" node bench/load.mjs)
