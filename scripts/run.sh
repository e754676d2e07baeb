#!/usr/bin/env bash
# Builds and starts Sluice on this machine with the embedded SQLite database under
# ./data (created on first start). Configuration: sluice.toml and SLUICE__* variables
# (see README.md).
#
# When no identity provider is configured and Node.js is present, it also starts the
# development OpenID Connect provider (scripts/dev-idp, users ann, bob, carol, dave,
# any password) so that signing in works out of the box.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin sluice
data_dir="${SLUICE__DATA_DIR:-data}"
mkdir -p "$data_dir"

listen="${SLUICE__LISTEN:-127.0.0.1:8080}"
idp_pid=""
stop_idp() { [ -n "$idp_pid" ] && kill "$idp_pid" 2>/dev/null || true; }
trap stop_idp EXIT

if [ -z "${SLUICE__AUTH__OIDC__ISSUER_URL:-}" ] && command -v node >/dev/null; then
  idp_port="${IDP_PORT:-9090}"
  echo "starting the development identity provider on 127.0.0.1:$idp_port (log: $data_dir/dev-idp.log)"
  IDP_PORT="$idp_port" IDP_REDIRECT_URIS="http://$listen/api/v1/auth/callback" \
    scripts/dev-idp/start.sh >"$data_dir/dev-idp.log" 2>&1 &
  idp_pid=$!
  export SLUICE__AUTH__PUBLIC_URL="${SLUICE__AUTH__PUBLIC_URL:-http://$listen}"
  export SLUICE__AUTH__OIDC__ISSUER_URL="http://127.0.0.1:$idp_port"
  export SLUICE__AUTH__OIDC__CLIENT_ID=sluice
  export SLUICE__AUTH__OIDC__CLIENT_SECRET=sluice-dev-secret
  echo "sign in at http://$listen/api/v1/auth/login?return_to=/api/v1/me (user ann, any password)"
fi

./target/release/sluice serve "$@"
