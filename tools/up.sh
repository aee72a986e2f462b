#!/bin/bash
# The main job: everything from a fresh machine to the WSO2 IS cluster answering on node port 32002.
#   bash tools/up.sh [stack]        (default: dev)
# Sets up what is missing (venv, Docker, base OS image, registry, local cluster, Pulumi toolchain), gives the
# dev stack a random admin and database password and the stock keystore's password, runs `pulumi up`, waits for the
# console, prints its URL and the member count. A second run changes nothing and takes seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:-dev}
LOG_TAG=up LOG_FD=2; . "$ROOT/tools/lib.sh"

use_engines
P() { "$ROOT/tools/pulumi.sh" "$STACK" "$@"; }

if [ "$STACK" = dev ] || [ "$STACK" = apim ]; then  # the local demo stacks' own secrets; others set theirs deliberately
  if ! P config get wso2-kubernetes:admin_password >/dev/null 2>&1; then
    step "setting a random wso2-kubernetes:admin_password (secret) for the $STACK stack"
    head -c 18 /dev/urandom | base64 | tr -d '\n/+' | P config set --secret wso2-kubernetes:admin_password >/dev/null
  fi
  if ! P config get wso2-kubernetes:database_password >/dev/null 2>&1; then  # the embedded database's user
    step "setting a random wso2-kubernetes:database_password (secret) for the $STACK stack"
    head -c 18 /dev/urandom | base64 | tr -d '\n/+' | P config set --secret wso2-kubernetes:database_password >/dev/null
  fi
  # The synthetic pack's keystores carry the stock password, like a shipped pack's, and the program refuses a
  # keystore_password that does not open them; per-stack keystores come later. Compared, not rewritten, so a
  # second run leaves Pulumi.dev.yaml as it is.
  if [ "$(P config get wso2-kubernetes:keystore_password 2>/dev/null || true)" != wso2carbon ]; then
    step "setting wso2-kubernetes:keystore_password (secret) to the stock keystore's password for the $STACK stack"
    printf '%s' wso2carbon | P config set --secret wso2-kubernetes:keystore_password >/dev/null
  fi
fi

BACKEND=${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi-state}
if [[ $BACKEND == file://* ]]; then
  # an earlier up killed half way (SIGKILL, a lost terminal) leaves its lock and pending operations: settle them
  python3 "$ROOT/tools/pulumi/recover.py" "${BACKEND#file://}" "$STACK" -- "$ROOT/tools/pulumi.sh" "$STACK"
fi
step "pulumi up ($STACK)"
# --refresh: the local cluster starts empty after a reboot; the state must learn that before it plans
if ! P up --yes --skip-preview --suppress-outputs --refresh; then
  # pulumi-kubernetes names the workload it gave up on, not why: the pods say (e.g. the JVM's own error)
  NS=$(P stack output namespace 2>/dev/null || true)
  (cd "$ROOT" && .venv/bin/python -m wso2k8s.diagnose --engines) >&2 || true   # a build's "exit status 1"
  [ -z "$NS" ] || (cd "$ROOT" && .venv/bin/python -m wso2k8s.diagnose "$NS") >&2 || true
  exit 1
fi
# every profile's console, and its members seeing one another (a distributed stack's profiles are clusters of
# their own: API Manager's key manager never counts the gateway workers)
URLS=$(P stack output console_urls --json)
EXPECTED=$(P stack output expected_members --json)
NS=$(P stack output namespace)
summary=()
for profile in $(jq -r 'keys_unsorted[]' <<<"$URLS"); do
  url=$(jq -r --arg p "$profile" '.[$p]' <<<"$URLS")
  port=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).port)' "$url")
  step "waiting for the Carbon console of $profile on node port $port"
  wait_until 3000 curl -ksf -o /dev/null "https://127.0.0.1:$port/carbon/" || die "$profile: console did not answer on $port"
  expected=$(jq --arg p "$profile" '.[$p] // 1' <<<"$EXPECTED")
  members=0
  for _ in $(seq 1 120); do   # the members find each other through the API server within seconds
    members=$(curl -ksf "https://127.0.0.1:$port/cluster/members" | jq '.members | length' 2>/dev/null || echo 0)
    [ "$members" -ge "$expected" ] && break
    sleep 1
  done
  if [ "$members" -gt "$expected" ]; then  # e.g. API Manager's gateway manager and workers: one clustering domain
    summary+=("$url   ($profile; members seen by the answering pod: $members, $expected of them this profile's, the others share its clustering domain)")
  else
    summary+=("$url   ($profile; members seen by the answering pod: $members of $expected)")
  fi
done
step "done"
echo "Carbon console (namespace $NS):"
printf '  %s\n' "${summary[@]}"
