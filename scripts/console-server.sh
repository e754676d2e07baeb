# Sourced by scripts/e2e.sh and scripts/bench-console.sh: `start_console_server` starts
# Sluice ($SLUICE_BIN, the debug build by default; SQLite in a fresh directory) serving
# the console's build, with the development identity provider, on free ports; it sets
# SLUICE_URL and SLUICE_LOG, and both processes stop when the calling script exits.
# The engine in SLUICE_TEST_FLINK_URL / SLUICE_TEST_SQL_RUNNER is used when set. When
# the development SMTP server is installed (scripts/dev-smtp/install.sh), email goes
# to it and SMTP_MAIL_FILE names the file it appends each message to (JSON lines).

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

console_server_pids=()
console_server_data=""
stop_console_server() {
  for pid in "${console_server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$console_server_data" ] && rm -rf "$console_server_data"
  true
}

start_console_server() {
  local port idp_port
  port=$(free_port)
  idp_port=$(free_port)
  console_server_data=$(mktemp -d)
  trap stop_console_server EXIT
  SLUICE_LOG="$console_server_data/sluice.log"

  IDP_PORT="$idp_port" IDP_REDIRECT_URIS="http://127.0.0.1:$port/api/v1/auth/callback" \
    IDP_POST_LOGOUT_REDIRECT_URIS="http://127.0.0.1:$port/" \
    scripts/dev-idp/start.sh >"$console_server_data/dev-idp.log" 2>&1 &
  console_server_pids+=($!)
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$idp_port/.well-known/openid-configuration" >/dev/null && break
    sleep 0.1
  done

  local smtp_env=()
  SMTP_MAIL_FILE=""
  if [ -x .engine/smtp-venv/bin/python ]; then
    SMTP_MAIL_FILE="$console_server_data/mail.jsonl"
    .engine/smtp-venv/bin/python scripts/dev-smtp/server.py "$SMTP_MAIL_FILE" --port 0 \
      >"$console_server_data/smtp.out" 2>"$console_server_data/smtp.log" &
    console_server_pids+=($!)
    local smtp_port=""
    for _ in $(seq 1 100); do
      smtp_port=$(sed -n 's/^dev-smtp port=//p' "$console_server_data/smtp.out")
      [ -n "$smtp_port" ] && break
      sleep 0.1
    done
    [ -n "$smtp_port" ] || { cat "$console_server_data/smtp.log"; return 1; }
    smtp_env=(SLUICE__DELIVERY__SMTP__HOST=127.0.0.1 SLUICE__DELIVERY__SMTP__PORT="$smtp_port"
      SLUICE__DELIVERY__SMTP__TLS=none "SLUICE__DELIVERY__SMTP__FROM=Sluice <alerts@example.com>")
  fi
  export SMTP_MAIL_FILE

  env "${smtp_env[@]}" \
  SLUICE__LISTEN="127.0.0.1:$port" \
  SLUICE__DATA_DIR="$console_server_data" \
  SLUICE__CONSOLE__DIR="${CONSOLE_DIR:-$PWD/frontend/dist}" \
  SLUICE__AUTH__PUBLIC_URL="http://127.0.0.1:$port" \
  SLUICE__AUTH__OIDC__ISSUER_URL="http://127.0.0.1:$idp_port" \
  SLUICE__AUTH__OIDC__CLIENT_ID=sluice \
  SLUICE__AUTH__OIDC__CLIENT_SECRET=sluice-dev-secret \
  SLUICE__ENGINE__DEFAULT_CLUSTER_URL="${SLUICE_TEST_FLINK_URL:-}" \
  SLUICE__ENGINE__SQL_RUNNER_JAR="${SLUICE_TEST_SQL_RUNNER:-}" \
  SLUICE__ENGINE__RECONCILE_INTERVAL_MS=1000 \
  SLUICE__JOB_METRICS__INTERVAL_MS=2000 \
    "${SLUICE_BIN:-target/debug/sluice}" serve >"$SLUICE_LOG" 2>&1 &
  console_server_pids+=($!)
  SLUICE_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 200); do curl -fs "$SLUICE_URL/healthz" >/dev/null && break; sleep 0.1; done
  curl -fs "$SLUICE_URL/healthz" >/dev/null || { cat "$SLUICE_LOG"; return 1; }
}
