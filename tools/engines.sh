#!/bin/bash
# Start every local engine the program and the tests use, then print the environment that reaches them.
#   eval "$(tools/engines.sh)"
# Docker engine + base OS image, the registry on 127.0.0.1:5000, the one-node Kubernetes cluster (built once,
# cached), the Pulumi CLI and plugins (found on PATH or built once, cached). Progress goes to stderr.
# Knobs: WSO2K8S_CACHE (/var/cache/wso2-kubernetes), WSO2K8S_STATE (/var/lib/wso2-kubernetes),
#        WSO2K8S_CLUSTER=0 to skip the local cluster (you bring a kubeconfig).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T0=$SECONDS
step() { echo "==> [$((SECONDS - T0))s] $*" >&2; }

VENV=$("$HERE/venv.sh")
if ! command -v javac >/dev/null || ! command -v keytool >/dev/null; then
  step "JDK for the synthetic pack's server (Debian openjdk-17-jdk-headless)"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    openjdk-17-jdk-headless >&2
fi
step "Docker engine and base OS image"
"$HERE/docker/engine.sh" up >&2
step "registry on 127.0.0.1:5000"
"$HERE/docker/registry.sh" up >&2
if [ "${WSO2K8S_CLUSTER:-1}" = 1 ]; then
  step "Kubernetes 1.34 + CoreDNS binaries (cold build ~25 min on 2 cores, then cached)"
  "$HERE/kubernetes/cluster.sh" build >&2
  step "local Kubernetes cluster"
  "$HERE/kubernetes/cluster.sh" up >&2
fi
step "Pulumi CLI and plugins (cold build ~30 min on 2 cores, then cached)"
PULUMI_EXPORTS=$("$HERE/pulumi/toolchain.sh" ensure "$VENV")
step "Caddy for the edge proxy (cold build ~2.5 min on 2 cores, then cached) and Debian's chromium for its test"
"$HERE/caddy/build.sh" >&2
"$HERE/browser.sh" >/dev/null
step "engines ready"
echo "$PULUMI_EXPORTS"
# KUBECONFIG of the local cluster, and its kubectl (v1.34, matching the server) first on PATH
[ "${WSO2K8S_CLUSTER:-1}" != 1 ] || "$HERE/kubernetes/cluster.sh" env
