#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (warnings are errors), unit tests, the
# end-to-end suite twice, on SQLite and on PostgreSQL, and the web console's component
# and browser tests. Needs cargo, Node.js with npm, Python 3, and (for the engine, the
# broker and their catalogue) Java 17 with Maven. It installs and starts everything
# else itself, saying what and how long each took:
#   - PostgreSQL at 127.0.0.1:5432 (user postgres, trust): Debian's server, installed,
#     configured and started when nothing answers there (scripts/postgres.sh);
#   - the development identity provider (npm), SMTP server and test tools (PyPI);
#   - Flink 2.3.0 and 1.20.5 from PyPI with the connector catalogue from Maven Central
#     (scripts/flink.sh, scripts/connectors.sh), the SQL runner, and a Kafka broker from
#     Maven Central (scripts/kafka.sh);
#   - Chromium from Debian for the console's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's time, printed as a table at the end.
phase_times=""
phase_start=$SECONDS
phase_name=""
phase() {
  phase_end
  phase_name="$1"
  phase_start=$SECONDS
  echo "== $phase_name"
}
phase_end() {
  if [ -n "$phase_name" ]; then
    phase_times+="$(printf '%6ds  %s' $((SECONDS - phase_start)) "$phase_name")"$'\n'
  fi
  phase_name=""
}

PG_URL="${SLUICE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
export SLUICE_TEST_POSTGRES_URL="$PG_URL"

phase "PostgreSQL"
scripts/postgres.sh ensure "$PG_URL"

# The sign-in tests run the development identity provider (npm package oidc-provider).
phase "installing the development identity provider (npm)"
(cd scripts/dev-idp && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)

# The email tests run the development SMTP server (PyPI aiosmtpd) from a venv under .engine/;
# the metrics test reads /metrics with the Prometheus client's own parser (PyPI).
phase "installing the development SMTP server and test tools (PyPI)"
scripts/dev-smtp/install.sh
scripts/test-tools/install.sh

# The engine tests run against a real Flink session cluster (PyPI's apache-flink) and
# the SQL runner built with the JDK, the Kafka tests against a real broker; all need
# Java. Without Java they are skipped, except under CI, where they must run.
engine_started=""
engine_1_20_started=""
kafka_started=""
if [ -n "${SLUICE_TEST_FLINK_URL:-}" ]; then
  # A cluster of the caller's choosing (e.g. a second local one on other ports).
  SLUICE_TEST_SQL_RUNNER="${SLUICE_TEST_SQL_RUNNER:-$(scripts/build-sql-runner.sh)}"
  export SLUICE_TEST_SQL_RUNNER
elif command -v java >/dev/null 2>&1; then
  # A cluster that was already up (e.g. from the run script) is used and left running.
  if ! scripts/flink.sh status >/dev/null 2>&1; then
    phase "Flink 2.3.0 with its connector catalogue: install (PyPI, Maven Central) and start"
    scripts/flink.sh start
    engine_started=1
  fi
  # Flink 1.20 beside it, on other ports, for the compatibility test.
  if ! scripts/flink.sh status --name flink-1.20.5 >/dev/null 2>&1; then
    phase "Flink 1.20.5 with its connector catalogue: install and start"
    scripts/flink.sh start 1.20.5 --rest-port 8082 --rpc-port 6124
    engine_1_20_started=1
  fi
  phase "building the SQL runner"
  SLUICE_TEST_SQL_RUNNER="$(scripts/build-sql-runner.sh)"
  export SLUICE_TEST_SQL_RUNNER SLUICE_TEST_FLINK_URL="http://127.0.0.1:8081"
  export SLUICE_TEST_FLINK_1_20_URL="http://127.0.0.1:8082"
elif [ "${CI:-}" = "true" ]; then
  echo "CI needs Java for the engine tests" >&2
  exit 1
fi
if [ -z "${SLUICE_TEST_KAFKA_BOOTSTRAP:-}" ] && command -v java >/dev/null 2>&1; then
  phase "Kafka: install (Maven Central) and start"
  if ! scripts/kafka.sh status >/dev/null 2>&1; then kafka_started=1; fi
  SLUICE_TEST_KAFKA_BOOTSTRAP="$(scripts/kafka.sh start)"
  # The listener that needs credentials: user:password@host:port.
  SLUICE_TEST_KAFKA_SASL="$(scripts/kafka.sh sasl)"
  export SLUICE_TEST_KAFKA_BOOTSTRAP SLUICE_TEST_KAFKA_SASL
fi
if [ ! -x /usr/bin/chromium ] && [ -n "${SLUICE_TEST_FLINK_URL:-}" ]; then
  phase "installing Chromium (Debian) for the console's browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

drop_test_databases() {
  psql "$PG_URL/postgres" -Atqc "select datname from pg_database where datname like 'sluice\_test\_%'" |
    while read -r db; do psql "$PG_URL/postgres" -qc "drop database if exists \"$db\" with (force)" >/dev/null; done
}
cleanup() {
  drop_test_databases
  if [ -n "$engine_started" ]; then scripts/flink.sh stop || true; fi
  if [ -n "$engine_1_20_started" ]; then scripts/flink.sh stop --name flink-1.20.5 || true; fi
  if [ -n "$kafka_started" ]; then scripts/kafka.sh stop || true; fi
  # The cluster-restart test runs a cluster of its own; stop it if a failure left it up.
  if scripts/flink.sh status --name restart-test >/dev/null 2>&1; then scripts/flink.sh stop --name restart-test || true; fi
}
drop_test_databases
trap cleanup EXIT

phase "cargo fmt --check"
cargo fmt --all -- --check
phase "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
log=$(mktemp)
phase "tests on SQLite (builds the workspace's tests first)"
SLUICE_TEST_DATABASE=sqlite cargo test --workspace 2>&1 | tee -a "$log"
phase "end-to-end tests on PostgreSQL"
SLUICE_TEST_DATABASE=postgres cargo test -p sluice-tests 2>&1 | tee -a "$log"
# The binary killed mid-pass, over PostgreSQL too (SQLite ran with the workspace).
SLUICE_TEST_DATABASE=postgres cargo test -p sluice-gateway --test binary -- crash:: 2>&1 | tee -a "$log"

# Sign-in again against the provider run as a Keycloak realm is reached: an issuer with
# a path, ES256 keys only.
phase "sign-in against a Keycloak-like provider (path issuer, ES256), both databases"
for db in sqlite postgres; do
  SLUICE_TEST_IDP_PROFILE=keycloak-es256 SLUICE_TEST_DATABASE=$db cargo test -p sluice-tests --test api -- login:: 2>&1 | tee -a "$log"
done

# The API document as a contract: schemathesis with every check against a seeded server.
phase "API contract (schemathesis, every check)"
scripts/fuzz-api.sh "${SLUICE_FUZZ_EXAMPLES:-20}" 2>&1 | tee -a "$log"

# The web console: its build (TypeScript checked), its API types against the committed
# OpenAPI document (the document itself is held to the served one by a cargo test),
# component tests, then end to end in Chromium against a real Sluice and Flink.
phase "web console: build, API types, component tests"
scripts/build-console.sh
(cd frontend && npm run --silent check:api && NO_COLOR=1 npm test 2>&1) | tee -a "$log"
if [ -n "${SLUICE_TEST_FLINK_URL:-}" ]; then
  phase "web console end to end (Chromium)"
  scripts/e2e.sh 2>&1 | tee -a "$log"
else
  echo "no local Flink cluster: the console's end-to-end tests are skipped"
fi

phase_end
echo "== time of each phase (seconds)"
printf '%s' "$phase_times"

# One closing line for every run: cargo's "test result:" lines, Vitest's "Tests" line
# and node's test runner's "# pass" / "# fail".
awk '/^test result:|^ *Tests +[0-9]/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } }
     /^# pass / { p += $3 } /^# fail / { f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
