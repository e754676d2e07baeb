#!/usr/bin/env bash
# Holds the server to its API document: schemathesis (PyPI, pinned in
# scripts/test-tools/requirements.txt) runs every check it has against a fresh Sluice
# (the debug build, SQLite in a temporary directory) with a seeded account and real ids
# (scripts/fuzz-api/seed.py), a bounded number of examples per operation. Every check is
# on (set in scripts/fuzz-api/schemathesis.toml, where the few operations whose rules no
# schema can state are named with the reason). Any 5xx or any answer the document does
# not describe fails the run.
#
# Left out: the two operations that make Sluice call an address the fuzzer would
# choose (registering a cluster, creating a notification channel); the seeded cluster
# and channel point at a closed port on this machine.
#
#   scripts/fuzz-api.sh [EXAMPLES_PER_OPERATION]      (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-${SLUICE_FUZZ_EXAMPLES:-20}}"

scripts/test-tools/install.sh
tools=.engine/test-tools
cargo build --quiet --bin sluice
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export SLUICE__DATA_DIR="$dir" SLUICE_CONFIG="$dir/none.toml" SLUICE__LISTEN="127.0.0.1:$port"
# The fuzzer's own account, and a second person in it for the member routes.
SLUICE_FUZZ_TOKEN="$(./target/debug/sluice admin create-account --name Fuzzed --owner-email owner@example.com 2>/dev/null)"
export SLUICE_FUZZ_TOKEN
./target/debug/sluice serve >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
account="$(curl -fsS -H "Authorization: Bearer $SLUICE_FUZZ_TOKEN" "$base/api/v1/account" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
member_id() {
  ./target/debug/sluice admin add-member --account-id "$account" --email "$1" --role member >/dev/null 2>>"$dir/member.out"
  curl -fsS -H "Authorization: Bearer $SLUICE_FUZZ_TOKEN" "$base/api/v1/account/members" |
    python3 -c 'import json, sys; print(next(m["user_id"] for m in json.load(sys.stdin)["items"] if m["email"] == sys.argv[1]))' "$1"
}
member="$(member_id member@example.com)"
spare_member="$(member_id spare@example.com)"
seeded="$(python3 scripts/fuzz-api/seed.py "$base" "$SLUICE_FUZZ_TOKEN" "$member" "$spare_member")"
while IFS='=' read -r name value; do export "$name=$value"; done <<<"$seeded"

t0=$SECONDS
status=0
"$tools/bin/schemathesis" --config-file scripts/fuzz-api/schemathesis.toml run "$base/api/v1/openapi.json" \
  --max-examples "$examples" --phases examples,coverage,fuzzing --workers 1 \
  --exclude-operation-id register_cluster --exclude-operation-id create_channel \
  --seed 20261204 --no-color || status=$?
echo "schemathesis: $((SECONDS - t0))s, exit $status"
if [ "$status" -ne 0 ]; then
  echo "== the server's log (last 40 lines)"
  tail -n 40 "$dir/server.log"
fi
exit "$status"
