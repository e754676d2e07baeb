#!/usr/bin/env bash
# API benchmark. In one run, on the same release server, it measures requests per
# second and p99 latency of an authenticated list call (GET /api/v1/projects/{id}/jobs,
# one page of 50 SQL drafts) made by the account owner and by a project viewer (whose
# role is resolved and checked by the authorizer on every request), against /healthz,
# on SQLite and then PostgreSQL, and prints the ratios to /healthz for each. The ratio is the figure to compare between
# runs: these machines are noisy, and wrk shares the 2 cores with the server.
#
#   scripts/bench-api.sh                 # 10 s per measurement, 16 connections
#   DURATION=30s CONNECTIONS=32 scripts/bench-api.sh
#   BASELINE_BIN=/path/to/older/sluice scripts/bench-api.sh
#                                        # also measures an older build, alternating with
#                                        # this one on each backend, to compare in one run
#   SLUICE_BIN=/path/to/sluice ...       # measure that binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
PG_URL="${SLUICE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
export PGOPTIONS="--client-min-messages=warning"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)"
  apt-get install -y -qq wrk >/dev/null
fi
if [ -n "${SLUICE_BIN:-}" ]; then
  BIN="$SLUICE_BIN"
else
  cargo build --release --quiet --bin sluice
  BIN="$PWD/target/release/sluice"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

# wrk prints "Requests/sec:  1234.56" and, with --latency, "99%  1.23ms".
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
p99_ms() {
  awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.3f\n", v }' "$1"
}

results=()
measure() {
  local backend=$1 url=$2 label=${3:-$1} BIN=${4:-$BIN}
  local dir port pid token project base db=""
  dir=$(mktemp -d)
  port=$(free_port)
  base="http://127.0.0.1:$port"
  if [ "$backend" = postgres ]; then
    db="sluice_bench_$$"
    psql "$PG_URL/postgres" -qc "drop database if exists $db" -c "create database $db" >/dev/null
    url="$PG_URL/$db"
  fi
  export SLUICE__DATA_DIR="$dir" SLUICE__LISTEN="127.0.0.1:$port" SLUICE__DATABASE__URL="$url"
  token=$("$BIN" admin create-account --name bench --owner-email bench@example.com 2>"$dir/created.txt")
  account=$(awk '/created account/ { print $3 }' "$dir/created.txt")
  # Request logs at info would measure the terminal; keep warnings only.
  RUST_LOG=warn "$BIN" serve 2>"$dir/server.log" &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
  auth="Authorization: Bearer $token"
  project=$(curl -fs "$base/api/v1/projects" -H "$auth" -H 'content-type: application/json' -d '{"name":"bench"}' | json_id)
  for i in $(seq 1 50); do
    curl -fs "$base/api/v1/projects/$project/jobs" -H "$auth" -H 'content-type: application/json' \
      -d "{\"name\":\"job-$i\",\"content\":{\"kind\":\"sql\",\"sql\":\"CREATE TABLE s$i (id BIGINT) WITH ('connector'='datagen');\\nINSERT INTO blackhole SELECT * FROM s$i;\"}}" >/dev/null
  done
  viewer=$("$BIN" admin add-member --account-id "$account" --email viewer@example.com \
    --project-id "$project" --project-role viewer 2>/dev/null)
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$base/healthz" >"$dir/health.txt"
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" "$base/api/v1/projects/$project/jobs" >"$dir/list.txt"
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $viewer" \
    "$base/api/v1/projects/$project/jobs" >"$dir/viewer.txt"
  for f in list viewer; do
    if grep -q "Non-2xx" "$dir/$f.txt"; then echo "the $f call failed during the run:" >&2; cat "$dir/$f.txt" >&2; fi
  done
  kill -TERM "$pid"; wait "$pid" || true
  results+=("$label $(rps "$dir/health.txt") $(p99_ms "$dir/health.txt") $(rps "$dir/list.txt") $(p99_ms "$dir/list.txt") $(rps "$dir/viewer.txt") $(p99_ms "$dir/viewer.txt")")
  rm -rf "$dir"
  unset SLUICE__DATA_DIR SLUICE__LISTEN SLUICE__DATABASE__URL
  [ -n "$db" ] && psql "$PG_URL/postgres" -qc "drop database if exists $db with (force)" >/dev/null
  return 0
}

for backend in sqlite postgres; do
  if [ -n "${BASELINE_BIN:-}" ]; then
    measure "$backend" "" "$backend-baseline" "$BASELINE_BIN"
  fi
  measure "$backend" ""
done

echo
echo "wrk: 1 thread, $CONNECTIONS connections, $DURATION each; list = GET /api/v1/projects/{id}/jobs (50 jobs, bearer token)"
printf '%-18s %-16s %10s %10s %10s %10s\n' backend call rps p99_ms rps_ratio p99_ratio
for r in "${results[@]}"; do
  read -r b hr hp lr lp vr vp <<<"$r"
  awk -v b="$b" -v hr="$hr" -v hp="$hp" -v lr="$lr" -v lp="$lp" -v vr="$vr" -v vp="$vp" 'BEGIN {
    printf "%-18s %-16s %10.0f %10.2f %10s %10s\n", b, "healthz", hr, hp, "1", "1"
    printf "%-18s %-16s %10.0f %10.2f %10.3f %10.2f\n", b, "list (owner)", lr, lp, lr / hr, lp / hp
    printf "%-18s %-16s %10.0f %10.2f %10.3f %10.2f\n", b, "list (viewer)", vr, vp, vr / hr, vp / hp }'
done
echo "(ratios are to /healthz on the same server in the same run)"
