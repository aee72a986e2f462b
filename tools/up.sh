#!/bin/bash
# The main job: everything from a fresh machine to the WSO2 IS cluster answering on node port 32002.
#   bash tools/up.sh [stack]        (default: dev)
# Sets up what is missing (venv, Docker, base OS image, registry, local cluster, Pulumi toolchain), gives the
# dev stack random passwords on first run, runs `pulumi up`, waits for the console, prints its URL and the
# member count. A second run changes nothing and takes seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:-dev}
T0=$SECONDS
step() { echo "==> [$((SECONDS - T0))s] $*" >&2; }

eval "$("$ROOT/tools/engines.sh")"
P() { "$ROOT/tools/pulumi.sh" "$STACK" "$@"; }

if [ "$STACK" = dev ]; then  # the demo stack's own random secrets; other stacks set theirs deliberately
  for key in admin_password keystore_password; do
    if ! P config get "wso2-kubernetes:$key" >/dev/null 2>&1; then
      step "setting a random wso2-kubernetes:$key (secret) for the dev stack"
      head -c 18 /dev/urandom | base64 | tr -d '\n/+' | P config set --secret "wso2-kubernetes:$key" >/dev/null
    fi
  done
fi

step "pulumi up ($STACK)"
# --refresh: the local cluster starts empty after a reboot; the state must learn that before it plans
P up --yes --skip-preview --suppress-outputs --refresh
URL=$(P stack output console_url)
NS=$(P stack output namespace)
port=$(echo "$URL" | sed -E 's#https://[^:]+:([0-9]+)/.*#\1#')
step "waiting for the Carbon console on node port $port"
for _ in $(seq 1 300); do
  curl -ksf -o /dev/null "https://127.0.0.1:$port/carbon/" && break
  sleep 1
done
curl -ksf -o /dev/null "https://127.0.0.1:$port/carbon/" || { echo "console did not answer on $port" >&2; exit 1; }
expected=$(P stack output expected_members --json | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).values()))')
members=0
for _ in $(seq 1 120); do   # the members find each other through the API server within seconds
  members=$(curl -ksf "https://127.0.0.1:$port/cluster/members" |
            python3 -c 'import json,sys; print(len(json.load(sys.stdin)["members"]))' 2>/dev/null || echo 0)
  [ "$members" -ge "$expected" ] && break
  sleep 1
done
step "done"
echo "Carbon console: $URL   (namespace $NS; members seen by the answering pod: $members of $expected)"
