#!/bin/bash
# Start every local engine the program and the tests use, then print the environment that reaches them.
#   eval "$(tools/engines.sh)"
# Docker engine + base OS image, the registry on 127.0.0.1:5000, the one-node Kubernetes cluster (built once,
# cached), the Pulumi CLI and plugins (found on PATH or built once, cached). Progress goes to stderr.
# Knobs: WSO2K8S_CACHE (/var/cache/wso2-kubernetes), WSO2K8S_STATE (/var/lib/wso2-kubernetes),
#        WSO2K8S_CLUSTER=0 to skip the local cluster (you bring a kubeconfig).
# One line per step (each idempotent and quick when warm); steps that need the cluster test CLUSTER.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LOG_TAG=engines LOG_FD=2; . "$HERE/lib.sh"
STATE=${WSO2K8S_STATE:-/var/lib/wso2-kubernetes}
CLUSTER=$([ "${WSO2K8S_CLUSTER:-1}" = 1 ] && echo 1 || echo 0)

VENV=$("$HERE/venv.sh")
step "JDK for the synthetic pack's server";  { command -v javac && command -v keytool; } >/dev/null || ensure_pkgs "$STATE/apt.log" openjdk-17-jdk-headless
step "Docker engine and base OS image";      "$HERE/docker/engine.sh" up >&2
step "registry on 127.0.0.1:5000";           "$HERE/docker/registry.sh" up >&2
[ "$CLUSTER" = 0 ] || { step "Kubernetes 1.34 + CoreDNS binaries (cold build ~25 min on 2 cores, then cached)"; "$HERE/kubernetes/cluster.sh" build >&2; }
[ "$CLUSTER" = 0 ] || { step "local Kubernetes cluster";   "$HERE/kubernetes/cluster.sh" up >&2; }
[ "$CLUSTER" = 0 ] || { step "Gateway API CRDs (entry.kind: gateway; fetched once from the Go module proxy)"; "$HERE/kubernetes/gateway-api.sh" >&2; }
step "Pulumi CLI and plugins (cold build ~30 min on 2 cores, then cached)"; PULUMI_EXPORTS=$("$HERE/pulumi/toolchain.sh" ensure "$VENV")
step "Caddy for the edge proxy (cold build 2-17 min on 2 cores, by load; then cached)"; "$HERE/caddy/build.sh" >&2
step "Debian's chromium for the edge proxy's browser test";  "$HERE/browser.sh" >/dev/null
step "engines ready"

echo "$PULUMI_EXPORTS"
# KUBECONFIG of the local cluster, and its kubectl (v1.34, matching the server) first on PATH
[ "$CLUSTER" = 0 ] || "$HERE/kubernetes/cluster.sh" env
