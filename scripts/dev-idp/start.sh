#!/usr/bin/env bash
# Starts the development OpenID Connect provider (see README.md for its environment variables).
set -euo pipefail
cd "$(dirname "$0")"
# Reinstall when the lock file changed since the last install, so a pulled dependency bump takes effect.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
  touch node_modules # npm ci may keep an older directory mtime; mark this install as current
fi
exec node server.mjs "$@"
