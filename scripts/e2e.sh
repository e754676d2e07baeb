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

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
idp_port=$(free_port)
data=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

IDP_PORT="$idp_port" IDP_REDIRECT_URIS="http://127.0.0.1:$port/api/v1/auth/callback" \
  scripts/dev-idp/start.sh >"$data/dev-idp.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$idp_port/.well-known/openid-configuration" >/dev/null && break; sleep 0.1; done

SLUICE__LISTEN="127.0.0.1:$port" \
SLUICE__DATA_DIR="$data" \
SLUICE__CONSOLE__DIR="$PWD/frontend/dist" \
SLUICE__AUTH__PUBLIC_URL="http://127.0.0.1:$port" \
SLUICE__AUTH__OIDC__ISSUER_URL="http://127.0.0.1:$idp_port" \
SLUICE__AUTH__OIDC__CLIENT_ID=sluice \
SLUICE__AUTH__OIDC__CLIENT_SECRET=sluice-dev-secret \
SLUICE__ENGINE__DEFAULT_CLUSTER_URL="$SLUICE_TEST_FLINK_URL" \
SLUICE__ENGINE__SQL_RUNNER_JAR="$SLUICE_TEST_SQL_RUNNER" \
SLUICE__ENGINE__RECONCILE_INTERVAL_MS=1000 \
SLUICE__JOB_METRICS__INTERVAL_MS=2000 \
  target/debug/sluice serve >"$data/sluice.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$data/sluice.log"; exit 1; }

echo "== console tests in Chromium against http://127.0.0.1:$port"
status=0
(cd frontend && SLUICE_URL="http://127.0.0.1:$port" SCREENSHOTS_DIR="$PWD/e2e/screenshots" node --test e2e/) || status=$?
if [ "$status" -ne 0 ]; then
  echo "== the server's log (last 80 lines)"
  tail -n 80 "$data/sluice.log"
fi
exit "$status"
