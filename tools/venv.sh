#!/bin/bash
# Make sure .venv exists with requirements-dev.txt installed; reinstalls only when the requirements change.
#   tools/venv.sh            (prints nothing on a warm run but the venv path)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.venv
PY=${PYTHON:-python3}
stamp() { cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -c1-16; }
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$VENV/.requirements-stamp" 2>/dev/null)" != "$(stamp)" ]; then
  echo "==> installing requirements-dev.txt into $VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt" >&2
  stamp >"$VENV/.requirements-stamp"
fi
echo "$VENV"
