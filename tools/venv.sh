#!/bin/bash
# Make sure .venv exists with requirements-dev.txt installed; reinstalls only when the requirements change.
#   tools/venv.sh            (prints nothing on a warm run but the venv path)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.venv
PY=${PYTHON:-python3}
stamp() { cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -c1-16; }
if [ "$(cat "$VENV/.requirements-stamp" 2>/dev/null)" != "$(stamp)" ]; then
  # Made anew when the pins change: a package left over from old pins would make the engine ask for its plugin.
  echo "==> creating $VENV from requirements-dev.txt" >&2
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt" >&2
  stamp >"$VENV/.requirements-stamp"
fi
echo "$VENV"
