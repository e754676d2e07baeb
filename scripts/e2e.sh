#!/usr/bin/env bash
# End-to-end tests of the web console: Debian's Chromium, driven by playwright-core,
# against a real Sluice (the debug build, SQLite in a fresh directory) with the
# development identity provider and a real Flink cluster. Screenshots of the main pages
# land in frontend/e2e/screenshots/.
#
# Needs SLUICE_TEST_FLINK_URL and SLUICE_TEST_SQL_RUNNER (scripts/test.sh sets both),
# Node.js, and /usr/bin/chromium (installed from Debian when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SLUICE_TEST_FLINK_URL:?the console tests deploy to a real Flink cluster: set SLUICE_TEST_FLINK_URL}"
: "${SLUICE_TEST_SQL_RUNNER:?set SLUICE_TEST_SQL_RUNNER (scripts/build-sql-runner.sh prints it)}"

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Chromium from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "== building the console"
scripts/build-console.sh
cargo build --quiet --bin sluice

# shellcheck source=scripts/console-server.sh
. scripts/console-server.sh
start_console_server

echo "== console tests in Chromium against $SLUICE_URL"
status=0
(cd frontend && SLUICE_URL="$SLUICE_URL" SCREENSHOTS_DIR="$PWD/e2e/screenshots" node --test e2e/) || status=$?
if [ "$status" -ne 0 ]; then
  echo "== the server's log (last 80 lines)"
  tail -n 80 "$SLUICE_LOG"
fi
exit "$status"
