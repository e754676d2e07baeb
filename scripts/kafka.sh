#!/usr/bin/env bash
# Installs and runs a local Apache Kafka broker for development and tests: the real
# broker (Kafka 4, KRaft mode, one process that is both controller and broker, no
# ZooKeeper) on loopback. Its jars come from Maven Central through mvn
# (scripts/kafka/pom.xml) into .engine/kafka-<version>/libs, cached between runs; each
# broker keeps its config, data and logs under .engine/<name>.
#
#   scripts/kafka.sh install                      resolve the jars (idempotent)
#   scripts/kafka.sh start [--port N] [--controller-port N] [--sasl-port N] [--name NAME]
#   scripts/kafka.sh stop [--name NAME]
#   scripts/kafka.sh status [--name NAME]         exit 0 if up, 1 if not
#   scripts/kafka.sh sasl [--name NAME]           user:password@127.0.0.1:SASL_PORT
#
# Defaults: version 4.1.1 (SLUICE_KAFKA_VERSION), port 9092, controller port 9093,
# SASL port 9094, name kafka. A port of 0 picks a free one. `start` prints the
# bootstrap address (127.0.0.1:PORT) on stdout; progress goes to stderr. Exit code 3
# means no Java. Besides the open listener, the broker has one that needs SASL/PLAIN
# credentials (user `sluice`, a password chosen at random at each start; `sasl` prints
# them): jobs that read a data store's credentials from a connection are tested there.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ENGINE_DIR="$ROOT/.engine"
VERSION="${SLUICE_KAFKA_VERSION:-4.1.1}"
HEAP="${SLUICE_KAFKA_HEAP:-512m}"
READY_TIMEOUT="${SLUICE_KAFKA_READY_TIMEOUT:-60}"

say() { echo "kafka.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

require_java() {
    command -v java >/dev/null 2>&1 || { say "Java is not installed; the Kafka broker cannot run here."; exit 3; }
}

libs_dir() { echo "$ENGINE_DIR/kafka-$VERSION/libs"; }

do_install() {
    local dir libs t0
    dir="$ENGINE_DIR/kafka-$VERSION"
    libs="$(libs_dir)"
    [[ -f "$dir/.installed" ]] && return 0
    command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to install Kafka's jars"
    mkdir -p "$dir"
    if command -v flock >/dev/null 2>&1; then
        exec 8>"$dir/.install.lock"
        flock 8
        [[ -f "$dir/.installed" ]] && return 0
    fi
    say "installing Kafka $VERSION from Maven Central into $libs"
    t0=$SECONDS
    rm -rf "$libs"
    if ! mvn -B -q -f "$ROOT/scripts/kafka/pom.xml" -Dkafka.version="$VERSION" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" \
        >"$dir/install.log" 2>&1; then
        tail -n 20 "$dir/install.log" >&2
        die "mvn could not resolve Kafka $VERSION (log: $dir/install.log)"
    fi
    # Scala's logging brings an old SLF4J API; the Log4j 2 binding needs SLF4J 2, which
    # the pom names, so keep only the newest.
    ls "$libs"/slf4j-api-*.jar | sort -V | head -n -1 | xargs -r rm -f
    touch "$dir/.installed"
    say "installed Kafka $VERSION ($(du -sh "$libs" | cut -f1)) in $((SECONDS - t0))s"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

broker_dir() { echo "$ENGINE_DIR/$1"; }

load_state() {
    local f
    f="$(broker_dir "$1")/broker.env"
    [[ -f "$f" ]] || return 1
    # shellcheck disable=SC1090
    source "$f"
}

live_pid() {
    local f p
    f="$(broker_dir "$1")/broker.pid"
    [[ -f "$f" ]] || return 0
    p="$(cat "$f")"
    [[ "$p" =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && echo "$p"
    return 0
}

# The JVM options before the log directory's place; java_cmd DIR CLASS ARGS... runs a
# class of Kafka's with the broker's logging configuration.
java_options() {
    JAVA_OPTS=(-Xms128m -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true -cp "$(libs_dir)/*")
}

java_cmd() {
    local dir="$1"
    shift
    java_options
    java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$dir/log4j2.properties" "$@"
}

write_conf() {
    local dir="$1" port="$2" cport="$3" sport="$4" password="$5"
    mkdir -p "$dir/data" "$dir/log"
    cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh for broker '$(basename "$dir")'; regenerated on every start.
# One node that is its own controller quorum (KRaft), on loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
# The SASL listener takes one user, with the password chosen at this start.
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_sluice="$password";
log.dirs=$dir/data
num.partitions=1
# A single broker: internal topics cannot have more replicas than that.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumers of a test join at once instead of waiting for others.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
    cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/log/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
EOF
}

do_start() {
    local name="$1" port="$2" cport="$3" sport="$4" dir id pid t0 password
    require_java
    dir="$(broker_dir "$name")"
    if [[ -n "$(live_pid "$name")" ]] && load_state "$name" && port_in_use "$PORT"; then
        say "broker '$name' is already up at 127.0.0.1:$PORT"
        echo "127.0.0.1:$PORT"
        return 0
    fi
    do_install
    [[ "$port" == 0 ]] && port="$(free_port)"
    [[ "$cport" == 0 ]] && cport="$(free_port)"
    [[ "$sport" == 0 ]] && sport="$(free_port)"
    for p in "$port" "$cport" "$sport"; do
        port_in_use "$p" && die "port $p is already in use (another broker? use --port/--controller-port/--name)"
    done
    # A fresh log directory every start: the local broker is for development and tests,
    # and a new cluster id avoids any mismatch with an earlier run's metadata.
    rm -rf "$dir/data"
    password="$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
    write_conf "$dir" "$port" "$cport" "$sport" "$password"
    cat >"$dir/broker.env" <<EOF
VERSION=$VERSION
PORT=$port
CONTROLLER_PORT=$cport
SASL_PORT=$sport
SASL_PASSWORD=$password
EOF
    chmod 600 "$dir/broker.env" "$dir/server.properties"
    id="$(java_cmd "$dir" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    java_cmd "$dir" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" \
        >"$dir/log/format.out" 2>&1 || { cat "$dir/log/format.out" >&2; die "formatting the log directory failed"; }
    say "starting Kafka $VERSION as '$name' (bootstrap 127.0.0.1:$port, controller $cport, logs $dir/log)"
    t0=$SECONDS
    # nohup: the broker outlives the shell that started it, as Flink's daemons do.
    java_options
    nohup java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.Kafka "$dir/server.properties" \
        >"$dir/log/broker.out" 2>&1 </dev/null &
    echo $! >"$dir/broker.pid"
    while ! port_in_use "$port"; do
        pid="$(live_pid "$name")"
        if [[ -z "$pid" ]] || ((SECONDS - t0 >= READY_TIMEOUT)); then
            say "broker '$name' did not come up; log tail:"
            tail -n 25 "$dir/log/broker.out" "$dir/log/server.log" >&2 2>/dev/null || true
            do_stop "$name" || true
            exit 1
        fi
        sleep 0.5
    done
    say "broker '$name' is up at 127.0.0.1:$port, ready in $((SECONDS - t0))s"
    echo "127.0.0.1:$port"
}

do_stop() {
    local name="$1" pid t0
    load_state "$name" || { say "no broker named '$name'"; return 0; }
    pid="$(live_pid "$name")"
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        t0=$SECONDS
        while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < 20)); do sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$(broker_dir "$name")/broker.pid"
    say "broker '$name' stopped"
}

do_status() {
    local name="$1" pid
    load_state "$name" || { echo "$name: not set up"; return 1; }
    pid="$(live_pid "$name")"
    if [[ -n "$pid" ]] && port_in_use "$PORT"; then
        echo "$name: up (Kafka $VERSION, bootstrap 127.0.0.1:$PORT, controller $CONTROLLER_PORT, pid $pid)"
        return 0
    fi
    echo "$name: down (Kafka $VERSION, port $PORT)"
    return 1
}

do_sasl() {
    local name="$1"
    load_state "$name" || die "no broker named '$name'"
    [[ -n "${SASL_PORT:-}" ]] || die "broker '$name' was started without a SASL listener; restart it"
    echo "sluice:$SASL_PASSWORD@127.0.0.1:$SASL_PORT"
}

cmd="${1:-}"
shift || true
port=9092
cport=9093
sport=9094
name=kafka
while [[ $# -gt 0 ]]; do
    case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --controller-port) cport="${2:?--controller-port needs a value}"; shift 2 ;;
    --sasl-port) sport="${2:?--sasl-port needs a value}"; shift 2 ;;
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    *) die "unknown argument '$1'" ;;
    esac
done
[[ "$port" =~ ^[0-9]+$ && "$cport" =~ ^[0-9]+$ && "$sport" =~ ^[0-9]+$ ]] || die "ports must be numbers"
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad broker name '$name'"

case "$cmd" in
install) require_java; do_install ;;
start) do_start "$name" "$port" "$cport" "$sport" ;;
sasl) do_sasl "$name" ;;
stop) do_stop "$name" ;;
status) do_status "$name" ;;
*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
