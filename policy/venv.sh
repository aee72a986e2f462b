#!/bin/bash
# Make policy/.venv (the policy pack's own virtualenv) from policy/requirements.txt; again only when it changes.
#   bash policy/venv.sh        prints the venv path
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=$HERE/.venv
PY=${PYTHON:-python3}
stamp=$(sha256sum "$HERE/requirements.txt" | cut -c1-16)
if [ "$(cat "$VENV/.requirements-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "==> creating $VENV from policy/requirements.txt" >&2
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt" >&2
  echo "$stamp" >"$VENV/.requirements-stamp"
fi
echo "$VENV"
