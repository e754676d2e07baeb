#!/usr/bin/env bash
# Creates .engine/smtp-venv with the development SMTP server's dependencies. Safe to run
# again: it reinstalls only when requirements.txt differs from the installed copy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../../.engine/smtp-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! cmp -s "$here/requirements.txt" "$venv/requirements.installed"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.installed"
fi
