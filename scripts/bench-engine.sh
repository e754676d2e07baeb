#!/usr/bin/env bash
# Engine benchmark, in one run against one real Flink cluster:
#  1. requests per second of a job-status read through Sluice
#     (GET /api/v1/projects/{p}/deployments/{d}) against Flink's own /jobs/overview;
#  2. time from a deploy request to RUNNING (all tasks running) through Sluice, against
#     a raw POST /jars/{runner}/run of the same statements polled on /jobs/overview
#     (Sluice's reconciler observes every RECONCILE_MS, default 1000);
#  3. CPU used by the reconciler and the job metrics collector with many deployments
#     tracked: TRACKED deployments (default 200) all watching one running engine job,
#     over fixed windows, alternately with the collector at COLLECT_MS (default 5000:
#     one request per deployment per interval) and with it off (the server restarted
#     on the same database between windows), WINDOWS of each, side by side in one run;
#     and the collector's engine requests per minute.
#
#   scripts/bench-engine.sh                      # uses/starts the local cluster on 8081
#   ENGINE_URL=http://127.0.0.1:8091 DURATION=5s TRACKED=500 scripts/bench-engine.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
WINDOWS="${WINDOWS:-2}"
TRACKED="${TRACKED:-200}"
ROUNDS="${ROUNDS:-3}"
WINDOW_SECS="${WINDOW_SECS:-20}"

command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; apt-get install -y -qq wrk >/dev/null; }
if [ -z "${ENGINE_URL:-}" ]; then
  scripts/flink.sh status >/dev/null 2>&1 || scripts/flink.sh start
  ENGINE_URL=http://127.0.0.1:8081
fi
RUNNER="$(scripts/build-sql-runner.sh)"
cargo build --release --quiet --bin sluice
BIN="$PWD/target/release/sluice"

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export SLUICE__DATA_DIR="$dir" SLUICE__LISTEN="127.0.0.1:$port" SLUICE__ENGINE__DEFAULT_CLUSTER_URL="$ENGINE_URL" \
  SLUICE__ENGINE__SQL_RUNNER_JAR="$RUNNER" SLUICE__ENGINE__RECONCILE_INTERVAL_MS="${RECONCILE_MS:-1000}" \
  SLUICE__JOB_METRICS__INTERVAL_MS="${COLLECT_MS:-5000}"
token=$("$BIN" admin create-account --name bench --owner-email bench@example.com 2>/dev/null)
RUST_LOG=warn "$BIN" serve 2>"$dir/server.log" &
pid=$!
# The measurement restarts the server (its pid then in server.pid): stop whichever runs.
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  [ -f "$dir/server.pid" ] && kill -TERM "$(cat "$dir/server.pid")" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

# The rest is easier in Python: JSON, timing, polling.
BASE="$base" TOKEN="$token" ENGINE_URL="$ENGINE_URL" RUNNER="$RUNNER" DB="$dir/sluice.db" PID="$pid" \
TRACKED="$TRACKED" ROUNDS="$ROUNDS" WINDOW_SECS="$WINDOW_SECS" DURATION="$DURATION" WINDOWS="$WINDOWS" \
BIN="$BIN" LOG="$dir/server.log" python3 - <<'PY'
import base64, json, os, sqlite3, subprocess, time, urllib.request, uuid

base, token, engine = os.environ["BASE"], os.environ["TOKEN"], os.environ["ENGINE_URL"]

def call(method, url, body=None, auth=True, raw=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if auth:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
        return json.loads(text) if text else None

api = lambda m, p, b=None: call(m, f"{base}/api/v1{p}", b)
SQL = """CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');
CREATE TABLE snk (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT id FROM src"""

project = api("POST", "/projects", {"name": "bench"})["id"]
job = api("POST", f"/projects/{project}/jobs", {"name": "j", "content": {"kind": "sql", "sql": SQL}})["id"]
api("POST", f"/projects/{project}/jobs/{job}/versions", {"message": "v1"})
dep = api("POST", f"/projects/{project}/deployments", {"name": "d", "job_id": job})["id"]
dpath = f"/projects/{project}/deployments/{dep}"

def wait(pred, what, secs=120):
    end = time.time() + secs
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")

def all_tasks_running(jid):
    # /jobs/overview is fresh; /jobs/{id} is cached by Flink for a few seconds.
    jobs = [j for j in call("GET", f"{engine}/jobs/overview", auth=False)["jobs"] if j["jid"] == jid]
    return bool(jobs) and jobs[0]["state"] == "RUNNING" and jobs[0]["tasks"]["running"] == jobs[0]["tasks"]["total"]

sluice_times, raw_times = [], []
for _ in range(int(os.environ["ROUNDS"])):
    t0 = time.time()
    api("POST", f"{dpath}/start", {"restore_mode": "NONE", "allow_empty_state": True})
    wait(lambda: api("GET", dpath)["status"] == "RUNNING", "Sluice RUNNING")
    sluice_times.append(time.time() - t0)
    api("POST", f"{dpath}/stop", {"mode": "CANCEL"})
    wait(lambda: api("GET", dpath)["status"] == "CANCELLED", "CANCELLED")

# The raw path: the same runner and statements, straight to Flink.
boundary = uuid.uuid4().hex
with open(os.environ["RUNNER"], "rb") as f:
    jar = f.read()
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"runner.jar\"\r\n"
        "Content-Type: application/x-java-archive\r\n\r\n").encode() + jar + f"\r\n--{boundary}--\r\n".encode()
jar_id = call("POST", f"{engine}/jars/upload", auth=False, raw=body,
              headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})["filename"].rsplit("/", 1)[-1]
statements = [s.strip() for s in SQL.split(";")]
args = {"programArgsList": [base64.b64encode(s.encode()).decode() for s in statements]}
for _ in range(int(os.environ["ROUNDS"])):
    t0 = time.time()
    jid = call("POST", f"{engine}/jars/{jar_id}/run", args, auth=False)["jobid"]
    wait(lambda: all_tasks_running(jid), "raw RUNNING")
    raw_times.append(time.time() - t0)
    call("PATCH", f"{engine}/jobs/{jid}?mode=cancel", auth=False)
    wait(lambda: call("GET", f"{engine}/jobs/{jid}", auth=False)["state"] == "CANCELED", "raw CANCELED")
call("DELETE", f"{engine}/jars/{jar_id}", auth=False)

# Status reads: one running deployment through Sluice vs Flink's overview.
api("POST", f"{dpath}/start", {"restore_mode": "NONE", "allow_empty_state": True})
wait(lambda: api("GET", dpath)["status"] == "RUNNING", "RUNNING for the read benchmark")
engine_job = api("GET", dpath)["engine_job_id"]

def wrk(url, auth):
    cmd = ["wrk", "-t1", "-c16", f"-d{os.environ['DURATION']}", "--latency", url]
    if auth:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec:")))
    return rps

sluice_rps = wrk(f"{base}/api/v1{dpath}", True)
flink_rps = wrk(f"{engine}/jobs/overview", False)

# Reconciler CPU: many deployments tracking the one running engine job.
n = int(os.environ["TRACKED"])
db = sqlite3.connect(os.environ["DB"], timeout=30)
row = db.execute("select * from deployments where id = ?", (dep,)).fetchone()
cols = [d[0] for d in db.execute("select * from deployments limit 0").description]
for i in range(n):
    r = dict(zip(cols, row))
    r.update(id=str(uuid.uuid4()), name=f"tracked-{i}", desired_state="RUNNING", status="RUNNING",
             engine_job_id=engine_job, lease_owner=None, lease_until=None)
    db.execute(f"insert into deployments ({','.join(r)}) values ({','.join('?' * len(r))})", list(r.values()))
db.commit()

def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])

hz, window = os.sysconf("SC_CLK_TCK"), int(os.environ["WINDOW_SECS"])
collect_ms = os.environ.get("COLLECT_MS", "5000")
server = {"pid": int(os.environ["PID"]), "proc": None}

def restart(interval_ms):
    """The server again on the same database, with the collector at `interval_ms`."""
    os.kill(server["pid"], 15)
    if server["proc"]:
        server["proc"].wait()
    else:
        while os.path.exists(f"/proc/{server['pid']}") and open(f"/proc/{server['pid']}/stat").read().split()[2] != "Z":
            time.sleep(0.05)
    env = dict(os.environ, SLUICE__JOB_METRICS__INTERVAL_MS=str(interval_ms), RUST_LOG="warn")
    proc = subprocess.Popen([os.environ["BIN"], "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(os.environ["LOG"], "a"))
    server.update(pid=proc.pid, proc=proc)
    open(os.path.join(os.path.dirname(os.environ["LOG"]), "server.pid"), "w").write(str(proc.pid))
    wait(healthy, "the restarted server", 30)

def healthy():
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False

def measure(interval_ms):
    restart(interval_ms)
    time.sleep(3)  # let the first passes after the start run
    before, t0 = cpu_ticks(server["pid"]), time.time()
    time.sleep(window)
    cpu = (cpu_ticks(server["pid"]) - before) / hz
    elapsed = time.time() - t0
    # The collector's share: one engine request per stored sample.
    samples = db.execute("select count(*) from deployment_metrics where resolution = 0 and at >= ? and at < ?",
                         (int(t0 * 1000), int((t0 + elapsed) * 1000))).fetchone()[0]
    return cpu, elapsed, samples

on, off = [], []
for _ in range(int(os.environ["WINDOWS"])):
    on.append(measure(int(collect_ms)))
    off.append(measure(3_600_000_000))
api("POST", f"{dpath}/stop", {"mode": "CANCEL"})
db.execute("update deployments set desired_state = 'CANCELLED', engine_job_id = null, status = 'CANCELLED' where name like 'tracked-%'")
db.commit()
wait(lambda: api("GET", dpath)["status"] == "CANCELLED", "CANCELLED at the end")
os.kill(server["pid"], 15)
if server["proc"]:
    server["proc"].wait()

med = lambda xs: sorted(xs)[len(xs) // 2]
print()
print(f"status read, wrk 1 thread 16 connections {os.environ['DURATION']}:")
print(f"  Sluice GET deployment   {sluice_rps:10.0f} rps")
print(f"  Flink /jobs/overview    {flink_rps:10.0f} rps   ratio Sluice/Flink {sluice_rps / flink_rps:.2f}")
print(f"deploy to RUNNING (all tasks running), median of {len(sluice_times)}:")
print(f"  through Sluice          {med(sluice_times):10.2f} s   {[round(t, 2) for t in sluice_times]}")
print(f"  raw /jars/{{id}}/run      {med(raw_times):10.2f} s   {[round(t, 2) for t in raw_times]}   ratio {med(sluice_times) / med(raw_times):.2f}")
cpu_on = sum(c for c, _, _ in on) / sum(e for _, e, _ in on)
cpu_off = sum(c for c, _, _ in off) / sum(e for _, e, _ in off)
samples_per_sec = sum(s for _, _, s in on) / sum(e for _, e, _ in on)
print(f"reconciler and collector with {n + 1} running deployments tracked, reconciler every "
      f"{os.environ.get('RECONCILE_MS', '1000')} ms, {len(on)} + {len(off)} alternating windows of {window} s:")
print(f"  collector every {collect_ms} ms   {100 * cpu_on:6.1f}% of one core   {[round(c, 2) for c, _, _ in on]} s CPU")
print(f"  collector off             {100 * cpu_off:6.1f}% of one core   {[round(c, 2) for c, _, _ in off]} s CPU   ratio {cpu_on / cpu_off:.2f}")
print(f"  collector engine requests {60 * samples_per_sec:8.0f} per minute: {60 * samples_per_sec / (n + 1):.1f} per deployment; "
      f"{1000 * (cpu_on - cpu_off) / samples_per_sec:.2f} ms of CPU per request")
PY
