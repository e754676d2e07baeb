#!/usr/bin/env bash
# Builds the web console (frontend/) into frontend/dist, which the gateway serves at /.
# Installs its npm packages first when the lock file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../frontend"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules # npm ci may keep an older directory mtime; mark this install as current
fi
npm run --silent build
node scripts/precompress.mjs
