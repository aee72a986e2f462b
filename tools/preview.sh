#!/bin/bash
# What the pull-request workflow shows, locally: `pulumi preview --diff` of one stack with the policy pack,
# then the rendered conf files that change (deployed stack → proposed, secrets masked).
#   bash tools/preview.sh [stack] [--no-policy]      (default stack: dev)
# A settings problem fails it with the loader's message (key, layer, fix), not a traceback; a mandatory
# policy violation fails it with the rule's message. Levels: wso2-kubernetes-policy:* in Pulumi.<stack>.yaml.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOG_TAG=preview LOG_FD=2; . "$ROOT/tools/lib.sh"
STACK=${1:-dev}
POLICY=1
[ "${2:-}" != --no-policy ] || POLICY=0
# The dev stack previews against the local cluster; others bring their own kubeconfig.
[ "$STACK" = dev ] || export WSO2K8S_CLUSTER=0
use_engines
cd "$ROOT"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
args=(preview --diff)
if [ "$POLICY" = 1 ]; then
  bash policy/venv.sh >/dev/null
  .venv/bin/python -m wso2k8s.policy_config "$STACK" >"$WORK/policy-config.json"
  args+=(--policy-pack "$ROOT/policy" --policy-pack-config "$WORK/policy-config.json")
fi
# The deployed side of the conf diffs, from the state alone ({} when the stack was never deployed).
tools/pulumi.sh "$STACK" stack output --json conf_files >"$WORK/deployed.json" 2>/dev/null || echo '{}' >"$WORK/deployed.json"
rc=0
tools/pulumi.sh "$STACK" "${args[@]}" || rc=$?
[ "$rc" != 0 ] || .venv/bin/python -m wso2k8s.confdiff "$STACK" "$WORK/deployed.json" build
exit "$rc"
