#!/usr/bin/env bash
# Builds and starts Sluice on this machine with the embedded SQLite database under
# ./data (created on first start). Configuration: sluice.toml and SLUICE__* variables
# (see README.md).
#
# When no identity provider is configured and Node.js is present, it also starts the
# development OpenID Connect provider (scripts/dev-idp, users ann, bob, carol, dave,
# any password) so that signing in works out of the box. When no engine is configured
# and Java is present, it starts a local Flink cluster (scripts/flink.sh, installed
# from PyPI on first use, with the connector catalogue from Maven Central) and builds
# the SQL runner, so jobs can be validated and run, and a local Kafka broker
# (scripts/kafka.sh, from Maven Central) for jobs to read and write.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin sluice
# The web console at / (needs Node.js; without it the API runs alone).
if command -v npm >/dev/null; then
  echo "building the web console"
  scripts/build-console.sh
fi
data_dir="${SLUICE__DATA_DIR:-data}"
mkdir -p "$data_dir"

listen="${SLUICE__LISTEN:-127.0.0.1:8080}"
idp_pid=""
engine_started=""
kafka_started=""
stop_helpers() {
  [ -n "$idp_pid" ] && kill "$idp_pid" 2>/dev/null
  [ -n "$engine_started" ] && scripts/flink.sh stop
  [ -n "$kafka_started" ] && scripts/kafka.sh stop
  true
}
trap stop_helpers EXIT

if [ -z "${SLUICE__ENGINE__DEFAULT_CLUSTER_URL:-}" ] && command -v java >/dev/null; then
  if ! scripts/flink.sh status >/dev/null 2>&1; then
    echo "starting a local Flink cluster (the first start installs Flink from PyPI)"
    scripts/flink.sh start
    engine_started=1
  fi
  export SLUICE__ENGINE__DEFAULT_CLUSTER_URL=http://127.0.0.1:8081
  SLUICE__ENGINE__SQL_RUNNER_JAR="$(scripts/build-sql-runner.sh)"
  export SLUICE__ENGINE__SQL_RUNNER_JAR
  if ! scripts/kafka.sh status >/dev/null 2>&1; then
    echo "starting a local Kafka broker (the first start installs it from Maven Central)"
    kafka_started=1
  fi
  if kafka_bootstrap="$(scripts/kafka.sh start)"; then
    echo "Kafka listens at $kafka_bootstrap: tables read and write it with 'properties.bootstrap.servers' = '$kafka_bootstrap'"
  else
    kafka_started=""
    echo "no local Kafka broker (see above; it needs Maven to install): jobs can still use other connectors"
  fi
fi

if [ -z "${SLUICE__AUTH__OIDC__ISSUER_URL:-}" ] && command -v node >/dev/null; then
  idp_port="${IDP_PORT:-9090}"
  echo "starting the development identity provider on 127.0.0.1:$idp_port (log: $data_dir/dev-idp.log)"
  IDP_PORT="$idp_port" IDP_REDIRECT_URIS="http://$listen/api/v1/auth/callback" \
    IDP_POST_LOGOUT_REDIRECT_URIS="http://$listen/" \
    scripts/dev-idp/start.sh >"$data_dir/dev-idp.log" 2>&1 &
  idp_pid=$!
  export SLUICE__AUTH__PUBLIC_URL="${SLUICE__AUTH__PUBLIC_URL:-http://$listen}"
  export SLUICE__AUTH__OIDC__ISSUER_URL="http://127.0.0.1:$idp_port"
  export SLUICE__AUTH__OIDC__CLIENT_ID=sluice
  export SLUICE__AUTH__OIDC__CLIENT_SECRET=sluice-dev-secret
  echo "open http://$listen/ and sign in as ann (any password)"
fi

./target/release/sluice serve "$@"
