#!/bin/bash
# Where each effective setting of a stack comes from (layer files), or one key's whole chain of layers.
#   bash tools/explain.sh <stack> [dotted.key]      e.g. bash tools/explain.sh prod workload.replicas
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$(bash "$ROOT/tools/venv.sh")
cd "$ROOT"
exec "$VENV/bin/python" -m wso2k8s.explain "$@"
