#!/bin/bash
# Run the Pulumi CLI on one stack of this project with the local backend and the passphrase provider.
#   tools/pulumi.sh <stack> <pulumi args...>      e.g. tools/pulumi.sh dev preview --diff
# Backend: $PULUMI_BACKEND_URL, default file://<project>/.pulumi-state (project-local, git-ignored).
# Passphrase: $PULUMI_CONFIG_PASSPHRASE or $PULUMI_CONFIG_PASSPHRASE_FILE; else a random one is made once in
# $WSO2K8S_STATE/passphrases/<stack> (mode 0600, outside the repo). Expects the engines' environment
# (eval "$(tools/engines.sh)") unless `pulumi` is already on PATH.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:?usage: tools/pulumi.sh <stack> <pulumi args...>}; shift
STATE=${WSO2K8S_STATE:-/var/lib/wso2-kubernetes}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi-state}
[[ $PULUMI_BACKEND_URL != file://* ]] || mkdir -p "${PULUMI_BACKEND_URL#file://}"
export PULUMI_SKIP_UPDATE_CHECK=true
# docker-build's exec mode finds the docker-buildx plugin the toolchain built through this Docker config
[ -z "${WSO2K8S_PULUMI_DOCKER_CONFIG:-}" ] || export DOCKER_CONFIG=$WSO2K8S_PULUMI_DOCKER_CONFIG
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE_FILE=$STATE/passphrases/$STACK
  if [ ! -s "$PULUMI_CONFIG_PASSPHRASE_FILE" ]; then
    (umask 077; mkdir -p "$(dirname "$PULUMI_CONFIG_PASSPHRASE_FILE")"
     head -c 32 /dev/urandom | base64 | tr -d '\n' >"$PULUMI_CONFIG_PASSPHRASE_FILE")
    echo "wso2-kubernetes: made a passphrase for stack '$STACK' in $PULUMI_CONFIG_PASSPHRASE_FILE (keep it)" >&2
  fi
fi
cd "$ROOT"
pulumi stack select --create --secrets-provider passphrase "$STACK" >/dev/null
if [ "${1:-}" = destroy ]; then
  pulumi --stack "$STACK" "$@"
  # what prepare() wrote for this stack (build contexts, the unpacked pack) goes with it; registry images stay
  # (a registry is shared: README, "Destroy")
  case " $* " in *" --preview-only "*) ;; *) rm -rf "$ROOT/build/$STACK" ;; esac
  exit 0
fi
exec pulumi --stack "$STACK" "$@"
