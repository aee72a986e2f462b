#!/bin/bash
# Make sure .venv exists with requirements-dev.txt installed; reinstalls only when the requirements change.
#   tools/venv.sh            (prints nothing on a warm run but the venv path)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/lib.sh"
ensure_venv "$ROOT/.venv" "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt"
