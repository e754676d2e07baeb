#!/usr/bin/env bash
# Debug-run benchmark, in one run against one real Flink cluster: the time from a Debug
# click (POST /api/v1/projects/{p}/jobs/{j}/debug) to the first result row read back
# through Sluice (polled every 50 ms, as fast as a reader can see it), against the same
# statements submitted straight to Flink's REST API (POST /jars/{runner}/run with the
# SQL runner's capture pointed at a local receiver) to the first row received.
# Alternated, ROUNDS of each (default 5), medians side by side.
#
#   scripts/bench-debug.sh                      # uses/starts the local cluster on 8081
#   PROFILE=dev ROUNDS=3 scripts/bench-debug.sh # the debug build (faster to build)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-5}"
PROFILE="${PROFILE:-release}"
if [ -z "${ENGINE_URL:-}" ]; then
  scripts/flink.sh status >/dev/null 2>&1 || scripts/flink.sh start
  ENGINE_URL=http://127.0.0.1:8081
fi
RUNNER="$(scripts/build-sql-runner.sh)"
cargo build --profile "$PROFILE" --quiet --bin sluice
if [ "$PROFILE" = dev ]; then BIN="$PWD/target/debug/sluice"; else BIN="$PWD/target/$PROFILE/sluice"; fi

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export SLUICE__DATA_DIR="$dir" SLUICE__LISTEN="127.0.0.1:$port" SLUICE__ENGINE__DEFAULT_CLUSTER_URL="$ENGINE_URL" \
  SLUICE__ENGINE__SQL_RUNNER_JAR="$RUNNER" SLUICE__AUTH__PUBLIC_URL="$base"
token=$("$BIN" admin create-account --name bench --owner-email bench@example.com 2>/dev/null)
RUST_LOG=warn "$BIN" serve 2>"$dir/server.log" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

BASE="$base" TOKEN="$token" ENGINE_URL="$ENGINE_URL" RUNNER="$RUNNER" ROUNDS="$ROUNDS" PROFILE="$PROFILE" python3 - <<'PY'
import base64, http.server, json, os, statistics, threading, time, urllib.request, uuid

base, token, engine = os.environ["BASE"], os.environ["TOKEN"], os.environ["ENGINE_URL"]
rounds = int(os.environ["ROUNDS"])
SQL = ["CREATE TABLE ticks (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1000')",
       "SELECT n FROM ticks"]

def call(method, url, body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if body is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None

def api(method, path, body=None):
    return call(method, f"{base}/api/v1{path}", body, {"Authorization": f"Bearer {token}"})

project = api("POST", "/projects", {"name": "bench"})["id"]
job = api("POST", f"/projects/{project}/jobs", {"name": "ticks", "content": {"kind": "sql", "sql": ";\n".join(SQL) + ";"}})["id"]

def through_sluice():
    start = time.monotonic()
    run = api("POST", f"/projects/{project}/jobs/{job}/debug", {})
    path = f"/projects/{project}/debug-runs/{run['id']}"
    while True:
        got = api("GET", f"{path}?after=0")
        if got["rows"]:
            first = time.monotonic() - start
            break
        if got["status"] == "ended":
            raise SystemExit(f"the run ended without rows: {got}")
        time.sleep(0.05)
    api("POST", f"{path}/cancel", {})
    while api("GET", path)["status"] != "ended":
        time.sleep(0.1)
    return first

# Straight to Flink: the runner uploaded once, its capture posting to this receiver.
first_row = threading.Event()
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        first_row.set()
        self.send_response(410)  # one batch is enough: the sender stops
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
receiver = f"http://127.0.0.1:{server.server_address[1]}/capture"

boundary = uuid.uuid4().hex
with open(os.environ["RUNNER"], "rb") as f:
    jar = f.read()
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"bench-runner.jar\"\r\n"
        "Content-Type: application/java-archive\r\n\r\n").encode() + jar + f"\r\n--{boundary}--\r\n".encode()
uploaded = call("POST", f"{engine}/jars/upload", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}, raw=body)
jar_id = uploaded["filename"].rsplit("/", 1)[-1]

def straight_to_flink():
    first_row.clear()
    args = [f"--capture-url={receiver}", "--capture-token=bench"] + [base64.b64encode(s.encode()).decode() for s in SQL]
    start = time.monotonic()
    ran = call("POST", f"{engine}/jars/{jar_id}/run", {"entryClass": "sluice.SqlRunner", "programArgsList": args,
                                                     "flinkConfiguration": {"restart-strategy.type": "none"}})
    if not first_row.wait(120):
        raise SystemExit("no row from the engine in 120 s")
    first = time.monotonic() - start
    job_id = ran["jobid"]
    call("PATCH", f"{engine}/jobs/{job_id}?mode=cancel")
    while call("GET", f"{engine}/jobs/{job_id}")["state"] not in ("CANCELED", "FINISHED", "FAILED"):
        time.sleep(0.1)
    return first

try:
    sluice, flink = [], []
    for i in range(rounds):
        sluice.append(through_sluice())
        flink.append(straight_to_flink())
        print(f"round {i + 1}: Sluice debug run {sluice[-1] * 1000:.0f} ms, straight to Flink {flink[-1] * 1000:.0f} ms")
finally:
    call("DELETE", f"{engine}/jars/{jar_id}")
ms = lambda xs: statistics.median(xs) * 1000
print(f"time to the first row, median of {rounds} ({os.environ['PROFILE']} build of Sluice):")
print(f"  Debug click through Sluice     {ms(sluice):7.0f} ms  (min {min(sluice) * 1000:.0f}, max {max(sluice) * 1000:.0f})")
print(f"  straight to Flink's REST API   {ms(flink):7.0f} ms  (min {min(flink) * 1000:.0f}, max {max(flink) * 1000:.0f})")
print(f"  ratio                          {ms(sluice) / ms(flink):7.2f}")
PY
