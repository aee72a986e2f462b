#!/bin/bash
# The test command: lint, types, then every test (unit, synthetic server, engine). The engine tests start
# the local engines themselves through tools/engines.sh (idempotent; cached builds).
#   bash tools/test.sh              everything
#   bash tools/test.sh -m unit      the fast ones (seconds, no engine)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$("$ROOT/tools/venv.sh")
cd "$ROOT"
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
exec "$VENV/bin/pytest" "$@"
