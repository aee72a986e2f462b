#!/bin/bash
# The test command: lint (ruff, shellcheck), types (mypy), the project's own Go (go vet, go test), then every test
# (unit, synthetic server, engine). The engine tests start the local engines themselves through
# tools/engines.sh (idempotent; cached builds).
#   bash tools/test.sh              everything
#   bash tools/test.sh -m unit      the fast ones (seconds, no engine; the Go checks are skipped too)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOG_TAG=tests; . "$ROOT/tools/lib.sh"
VENV=$("$ROOT/tools/venv.sh")
cd "$ROOT"
"$VENV/bin/ruff" check .
command -v shellcheck >/dev/null || ensure_pkgs /var/lib/wso2-kubernetes/apt.log shellcheck
# every shell script but the synthetic pack's bin/wso2server.sh (a stand-in for the shape WSO2 ships: POSIX sh)
git ls-files -z '*.sh' .ci/run ':!wso2k8s/synthetic/' | xargs -0 shellcheck -x
"$VENV/bin/mypy"
if [ "$*" != "-m unit" ]; then bash tools/gocheck.sh; fi
exec "$VENV/bin/pytest" "$@"
