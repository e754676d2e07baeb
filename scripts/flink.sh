#!/usr/bin/env bash
# Installs and runs local Apache Flink standalone session clusters for development and
# tests. Flink comes from PyPI (apache-flink + apache-flink-libraries carry a full
# distribution: bin/, conf/, lib/), installed into a venv under .engine/flink-<version>.
# Each cluster gets a private conf/log/pid/checkpoint directory under .engine/<name>, so
# the venv stays untouched and two clusters (e.g. 2.3.0 and 1.20.5) can run side by side
# on different ports. The cluster's classpath is the distribution's lib/ plus the
# platform's connector catalogue for its version (scripts/connectors.sh), linked into
# .engine/<name>/lib and handed to Flink's scripts as FLINK_LIB_DIR.
#
#   scripts/flink.sh install [version]          install (idempotent); prints FLINK_HOME
#   scripts/flink.sh start [version] [--rest-port N] [--rpc-port N] [--name NAME]
#   scripts/flink.sh stop [--name NAME]
#   scripts/flink.sh status [--name NAME]       exit 0 if up, 1 if not
#   scripts/flink.sh home [version]             prints FLINK_HOME (must be installed)
#
# Default version 2.3.0 (SLUICE_FLINK_VERSION), default name flink-<version>.
# Exit code 3 means "no Java on this machine": callers use it to skip the engine.
# Machine-readable output (FLINK_HOME) goes to stdout; progress messages to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ENGINE_DIR="$ROOT/.engine"
DEFAULT_VERSION="${SLUICE_FLINK_VERSION:-2.3.0}"
# Memory for a 2-core dev machine: JM 1024m + TM 576m = 1.6 GB of process memory.
TM_PROCESS_SIZE="${SLUICE_FLINK_TM_MEMORY:-576m}"
READY_TIMEOUT="${SLUICE_FLINK_READY_TIMEOUT:-90}"

say() { echo "flink.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

check_version() {
    [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "bad Flink version '$1' (want e.g. 2.3.0)"
}

check_name() {
    [[ "$1" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad cluster name '$1' (letters, digits, . _ -)"
}

require_java() {
    if ! command -v java >/dev/null 2>&1; then
        say "Java is not installed (no 'java' on PATH); the Flink engine cannot run here."
        say "Install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) to use it."
        exit 3
    fi
}

venv_dir() { echo "$ENGINE_DIR/flink-$1/venv"; }

# Prints FLINK_HOME (<site-packages>/pyflink) of an installed version, or nothing.
find_home() {
    local venv d
    venv="$(venv_dir "$1")"
    for d in "$venv"/lib/python3*/site-packages/pyflink; do
        if [[ -x "$d/bin/start-cluster.sh" && -f "$ENGINE_DIR/flink-$1/.installed" ]]; then
            echo "$d"
            return 0
        fi
    done
}

do_install() {
    local version="$1" home venv log lock
    check_version "$version"
    mkdir -p "$ENGINE_DIR/flink-$version"
    lock="$ENGINE_DIR/flink-$version/.install.lock"
    # Serialize concurrent installs of the same version (e.g. parallel test runs).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$lock"
        flock 9
    fi
    home="$(find_home "$version")"
    if [[ -n "$home" ]]; then
        echo "$home"
        return 0
    fi
    venv="$(venv_dir "$version")"
    log="$ENGINE_DIR/flink-$version/install.log"
    say "installing Flink $version from PyPI into $venv (about 400 MB, a minute or so)..."
    if [[ ! -x "$venv/bin/python" ]]; then
        python3 -m venv "$venv" || die "python3 -m venv failed (is python3-venv installed?)"
    fi
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "apache-flink==$version" "apache-flink-libraries==$version" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "pip install of apache-flink==$version failed (full log: $log)"
    fi
    touch "$ENGINE_DIR/flink-$version/.installed"
    home="$(find_home "$version")"
    [[ -n "$home" ]] || die "apache-flink $version installed but no pyflink/bin/start-cluster.sh found"
    chmod +x "$home"/bin/*.sh "$home/bin/flink" 2>/dev/null || true
    say "installed Flink $version"
    echo "$home"
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

overview() {
    curl -fsS --max-time 3 "http://127.0.0.1:$1/overview" 2>/dev/null
}

# Prints the number of registered TaskManagers reported by /overview (0 if down).
taskmanagers() {
    local body
    body="$(overview "$1")" || { echo 0; return; }
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("taskmanagers", 0))' <<<"$body" 2>/dev/null || echo 0
}

cluster_dir() { echo "$ENGINE_DIR/$1"; }

# Loads .engine/<name>/cluster.env (VERSION, FLINK_HOME, REST_PORT, RPC_PORT) written by start.
load_state() {
    local f
    f="$(cluster_dir "$1")/cluster.env"
    [[ -f "$f" ]] || return 1
    # shellcheck disable=SC1090
    source "$f"
}

# Pids from this cluster's pid files that are still alive.
live_pids() {
    local dir f p
    dir="$(cluster_dir "$1")/run"
    [[ -d "$dir" ]] || return 0
    for f in "$dir"/*.pid; do
        [[ -f "$f" ]] || continue
        while read -r p; do
            [[ "$p" =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && echo "$p"
        done <"$f"
    done
    return 0
}

# The venv's shipped config.yaml holds the JVM --add-opens/--add-exports flags that
# Flink needs on Java 17; copy that one value into our own config.
java_opts_all() {
    python3 - "$1/conf/config.yaml" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r'^\s+all:\s*(.+)$', text, re.M)
print(m.group(1).strip() if m else "")
EOF
}

write_conf() {
    local home="$1" dir="$2" rest="$3" rpc="$4" opts python
    mkdir -p "$dir/conf" "$dir/log" "$dir/run" "$dir/tmp" "$dir/web" "$dir/checkpoints" "$dir/savepoints"
    # Private copy of the distribution's conf (log4j files etc.); config.yaml is ours.
    cp -f "$home"/conf/log4j*.properties "$home"/conf/logback*.xml "$dir/conf/" 2>/dev/null || true
    # Both 1.20 and 2.x read conf/config.yaml (1.20 would prefer a legacy flink-conf.yaml
    # if one existed, so make sure none does).
    rm -f "$dir/conf/flink-conf.yaml"
    opts="$(java_opts_all "$home")"
    # The venv's own interpreter (FLINK_HOME is <venv>/lib/python3.x/site-packages/pyflink).
    python="${home%/lib/python3*/site-packages/pyflink}/bin/python"
    echo "localhost:$rest" >"$dir/conf/masters"
    echo "localhost" >"$dir/conf/workers"
    cat >"$dir/conf/config.yaml" <<EOF
# Written by scripts/flink.sh for cluster '$(basename "$dir")'; regenerated on every start.
env.java.opts.all: $opts
env.log.dir: $dir/log
env.pid.dir: $dir/run
io.tmp.dirs: $dir/tmp
web.tmpdir: $dir/web
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $rpc
jobmanager.bind-host: localhost
jobmanager.memory.process.size: 1024m
jobmanager.execution.failover-strategy: region
taskmanager.bind-host: localhost
taskmanager.host: localhost
taskmanager.numberOfTaskSlots: 4
# Random ports (0) for everything but REST and JM RPC, so clusters never clash.
taskmanager.rpc.port: 0
taskmanager.data.port: 0
blob.server.port: 0
metrics.internal.query-service.port: 0
# A small TaskManager: $TM_PROCESS_SIZE in total, enough for a few small SQL jobs with
# the heap state backend (RocksDB jobs would want more managed memory).
taskmanager.memory.process.size: $TM_PROCESS_SIZE
taskmanager.memory.jvm-metaspace.size: 128m
taskmanager.memory.jvm-overhead.min: 64m
taskmanager.memory.framework.heap.size: 64m
taskmanager.memory.framework.off-heap.size: 64m
taskmanager.memory.network.min: 32m
taskmanager.memory.network.max: 64m
taskmanager.memory.managed.size: 64m
parallelism.default: 1
rest.port: $rest
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
execution.checkpointing.interval: 10s
# Keep the last checkpoint when a job is cancelled or dies, so Sluice can resume it.
execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
# 1.x key names and their 2.x replacements; each version ignores the keys it does not know.
state.checkpoints.dir: file://$dir/checkpoints
state.savepoints.dir: file://$dir/savepoints
execution.checkpointing.dir: file://$dir/checkpoints
execution.checkpointing.savepoint-dir: file://$dir/savepoints
# Python jobs: the JobManager runs a job's PyFlink script, and TaskManagers its Python
# functions, with the venv's interpreter, which has PyFlink of this very version.
python.client.executable: $python
python.executable: $python
EOF
}

# The cluster's own lib/: the distribution's jars and the version's connector catalogue,
# as a managed service's engine image carries its built-in connectors.
link_lib() {
    local home="$1" dir="$2" version="$3" catalogue
    rm -rf "$dir/lib"
    mkdir -p "$dir/lib"
    ln -s "$home"/lib/*.jar "$dir/lib/"
    if ! awk -F'\t' -v v="$version" '!/^#/ && $1 == v { found = 1 } END { exit !found }' \
        "$ROOT/scripts/connectors/catalogue.tsv"; then
        say "the connector catalogue has nothing for Flink $version: only the engine's own connectors"
        return 0
    fi
    if ! command -v mvn >/dev/null 2>&1; then
        say "no Maven (mvn) here: the cluster starts without the connector catalogue (only the engine's own connectors)"
        return 0
    fi
    "$ROOT/scripts/connectors.sh" install "$version" || die "the connector catalogue for Flink $version could not be resolved"
    catalogue="$("$ROOT/scripts/connectors.sh" dir "$version")"
    ln -s "$catalogue"/*.jar "$dir/lib/"
}

do_start() {
    local version="$1" rest="$2" rpc="$3" name="$4" home dir t0 n elapsed
    require_java
    check_name "$name"
    dir="$(cluster_dir "$name")"
    # Already running under this name?
    if [[ -n "$(live_pids "$name")" ]] && load_state "$name"; then
        if [[ "$(taskmanagers "$REST_PORT")" -ge 1 ]]; then
            say "cluster '$name' (Flink $VERSION) is already up at http://127.0.0.1:$REST_PORT"
            return 0
        fi
        say "cluster '$name' has live processes but is not answering; restarting it"
        do_stop "$name"
    fi
    home="$(do_install "$version")"
    for p in "$rest" "$rpc"; do
        if port_in_use "$p"; then
            die "port $p is already in use (another cluster? use --rest-port/--rpc-port/--name)"
        fi
    done
    write_conf "$home" "$dir" "$rest" "$rpc"
    link_lib "$home" "$dir" "$version"
    cat >"$dir/cluster.env" <<EOF
VERSION=$version
FLINK_HOME=$home
REST_PORT=$rest
RPC_PORT=$rpc
EOF
    say "starting Flink $version as '$name' (REST http://127.0.0.1:$rest, RPC $rpc, conf $dir/conf)"
    t0=$SECONDS
    FLINK_CONF_DIR="$dir/conf" FLINK_LOG_DIR="$dir/log" FLINK_PID_DIR="$dir/run" FLINK_LIB_DIR="$dir/lib" \
        "$home/bin/start-cluster.sh" >"$dir/log/start-cluster.out" 2>&1 || {
        cat "$dir/log/start-cluster.out" >&2
        die "start-cluster.sh failed"
    }
    while true; do
        n="$(taskmanagers "$rest")"
        if [[ "$n" -ge 1 ]]; then
            elapsed=$((SECONDS - t0))
            say "cluster '$name' is up: $n taskmanager(s), ready in ${elapsed}s"
            return 0
        fi
        if ((SECONDS - t0 >= READY_TIMEOUT)); then
            say "cluster '$name' not ready after ${READY_TIMEOUT}s; log tail:"
            local f
            for f in "$dir"/log/*.log "$dir"/log/*.out; do
                [[ -f "$f" ]] || continue
                echo "==> $f <==" >&2
                tail -n 25 "$f" >&2
            done
            do_stop "$name" || true
            exit 1
        fi
        sleep 1
    done
}

do_stop() {
    local name="$1" dir p pids t0
    check_name "$name"
    dir="$(cluster_dir "$name")"
    if ! load_state "$name"; then
        say "no cluster named '$name' (nothing under $dir)"
        return 0
    fi
    if [[ -x "$FLINK_HOME/bin/stop-cluster.sh" ]]; then
        FLINK_CONF_DIR="$dir/conf" FLINK_LOG_DIR="$dir/log" FLINK_PID_DIR="$dir/run" FLINK_LIB_DIR="$dir/lib" \
            "$FLINK_HOME/bin/stop-cluster.sh" >"$dir/log/stop-cluster.out" 2>&1 || true
    fi
    # Fallback: whatever is still alive from our pid files.
    pids="$(live_pids "$name")"
    if [[ -n "$pids" ]]; then
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
        t0=$SECONDS
        while [[ -n "$(live_pids "$name")" ]] && ((SECONDS - t0 < 15)); do sleep 0.5; done
        pids="$(live_pids "$name")"
        # shellcheck disable=SC2086
        [[ -z "$pids" ]] || kill -9 $pids 2>/dev/null || true
    fi
    rm -f "$dir"/run/*.pid
    t0=$SECONDS
    while port_in_use "$REST_PORT" || port_in_use "$RPC_PORT"; do
        if ((SECONDS - t0 >= 30)); then
            die "cluster '$name' stopped but port $REST_PORT or $RPC_PORT is still in use"
        fi
        sleep 0.5
    done
    say "cluster '$name' (Flink $VERSION) stopped"
}

do_status() {
    local name="$1" pids body
    check_name "$name"
    if ! load_state "$name"; then
        echo "$name: not set up"
        return 1
    fi
    pids="$(live_pids "$name" | tr '\n' ' ')"
    if body="$(overview "$REST_PORT")" && [[ -n "$pids" ]]; then
        echo "$name: up (Flink $VERSION, REST http://127.0.0.1:$REST_PORT, RPC $RPC_PORT, pids ${pids% })"
        echo "overview: $body"
        return 0
    fi
    echo "$name: down (Flink $VERSION, REST port $REST_PORT${pids:+, stray pids $pids})"
    return 1
}

do_home() {
    local home
    check_version "$1"
    home="$(find_home "$1")"
    [[ -n "$home" ]] || die "Flink $1 is not installed; run: scripts/flink.sh install $1"
    echo "$home"
}

cmd="${1:-}"
[[ -n "$cmd" ]] || usage
shift

version="$DEFAULT_VERSION"
rest_port=8081
rpc_port=6123
name=""
if [[ $# -gt 0 && "$1" != --* ]]; then
    version="$1"
    shift
fi
while [[ $# -gt 0 ]]; do
    case "$1" in
    --rest-port) rest_port="${2:?--rest-port needs a value}"; shift 2 ;;
    --rest-port=*) rest_port="${1#*=}"; shift ;;
    --rpc-port) rpc_port="${2:?--rpc-port needs a value}"; shift 2 ;;
    --rpc-port=*) rpc_port="${1#*=}"; shift ;;
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --name=*) name="${1#*=}"; shift ;;
    -h | --help) usage ;;
    *) die "unknown argument '$1' (see scripts/flink.sh --help)" ;;
    esac
done
[[ "$rest_port" =~ ^[0-9]+$ && "$rpc_port" =~ ^[0-9]+$ ]] || die "ports must be numbers"
check_version "$version"
name="${name:-flink-$version}"

case "$cmd" in
install) do_install "$version" ;;
start) do_start "$version" "$rest_port" "$rpc_port" "$name" ;;
stop) do_stop "$name" ;;
status) do_status "$name" ;;
home) do_home "$version" ;;
-h | --help | help) usage ;;
*) die "unknown command '$cmd' (install, start, stop, status, home)" ;;
esac
