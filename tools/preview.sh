#!/bin/bash
# What the pull-request workflow shows, locally: `pulumi preview --diff` of one stack.
#   bash tools/preview.sh [stack]     (default: dev)
# A settings problem fails it with the loader's message (key, layer, fix), not a traceback.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:-dev}
# The dev stack previews against the local cluster; others bring their own kubeconfig.
[ "$STACK" = dev ] || export WSO2K8S_CLUSTER=0
eval "$("$ROOT/tools/engines.sh")"
exec "$ROOT/tools/pulumi.sh" "$STACK" preview --diff
