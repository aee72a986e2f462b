#!/bin/bash
# Build Kubernetes v1.34.4 (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl),
# CoreDNS v1.15.0 and a static pause from the Go module proxy, with the machine's Go (>= 1.24).
# Output: $WSO2K8S_CACHE/kubernetes-1.34.4/bin. Built into a temp dir and renamed at the end, so a half build is
# never taken as done. A no-op when the output exists.
#
# Kubernetes: k8s.io/kubernetes's own go.mod replaces its 31 k8s.io/* staging modules with local paths, so
# `go install k8s.io/kubernetes/cmd/...@v1.34.4` is refused. gomod/k8s/go.mod (next to this file) is a wrapper
# module that requires k8s.io/kubernetes v1.34.4 and maps each staging module to its own v0.34.4 release; the
# build copies it into the cache and builds there (the repo is never written to).
# Module and build caches: $WSO2K8S_CACHE/kubernetes-1.34.4/{gomod,gocache}; the build cache (~2-3 GB) is
# dropped at the end, the module cache kept (a rebuild then needs no network).
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
LOG_TAG=build; . "$HERE/../lib.sh"
CACHE=${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}
K8S_VERSION=1.34.4
COREDNS_VERSION=1.15.0
TOP=$CACHE/kubernetes-$K8S_VERSION
OUT=${OUT:-$TOP/bin}
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
BINS=("${K8S_CMDS[@]}" pause coredns)

have_all() { local b; for b in "${BINS[@]}"; do [ -x "$OUT/$b" ] || return 1; done; }
if have_all; then log "binaries already in $OUT (nothing to do)"; exit 0; fi

command -v go >/dev/null || die "no 'go' on PATH (Go >= 1.24 is needed; e.g. /usr/local/go/bin)"
IFS=. read -r GMAJ GMIN _ <<<"$(go env GOVERSION)"; GMAJ=${GMAJ#go}
[ "$GMAJ" -gt 1 ] || [ "$GMIN" -ge 24 ] || die "$(go version): Kubernetes $K8S_VERSION needs Go >= 1.24"

export GOMODCACHE=$TOP/gomod GOCACHE=$TOP/gocache GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false -trimpath"
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
mkdir -p "$GOMODCACHE" "$GOCACHE" "$TOP"
TMP="$OUT.tmp.$$"; SRC="$TOP/src.$$"
trap 'rm -rf "$TMP" "$SRC"' EXIT
rm -rf "$TMP" && mkdir -p "$TMP" "$SRC"
log "$(go version); modules $GOMODCACHE"
: >"$TOP/build-times.tmp"
piece() { echo "$1 $2s" >>"$TOP/build-times.tmp"; log "$1 built in $2 s"; }

# --- Kubernetes: one `go build` of all six commands (shared packages compiled once) ---
t=$(date +%s)
cp -r "$HERE/gomod/k8s" "$SRC/k8s"
V=k8s.io/component-base/version; CV=k8s.io/client-go/pkg/version
# without these, every binary reports v0.0.0-master+$Format:%H$ and kubectl's version skew checks fail
LDF="-s -w"
for p in $V $CV; do
  LDF="$LDF -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=${K8S_VERSION%%.*} -X $p.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
  LDF="$LDF -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
log "Kubernetes v$K8S_VERSION: downloading modules, then compiling ${K8S_CMDS[*]} (the long part)"
(cd "$SRC/k8s" && CGO_ENABLED=0 go build -ldflags "$LDF" -o "$TMP/" "${K8S_CMDS[@]/#/k8s.io/kubernetes/cmd/}")
# (output captured first: `| grep -q` would end the pipe early, and pipefail would then fail it)
V_OUT=$("$TMP/kubectl" version --client 2>&1) || true
grep -q "v$K8S_VERSION" <<<"$V_OUT" || die "kubectl does not report v$K8S_VERSION: $V_OUT"
piece kubernetes $(( $(date +%s) - t ))

# --- CoreDNS: static (CGO_ENABLED=0): the image it runs in has no libc ---
t=$(date +%s)
log "CoreDNS v$COREDNS_VERSION"
(cd "$SRC" && GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0 GOBIN="$TMP" go install -ldflags "-s -w" \
  "github.com/coredns/coredns@v$COREDNS_VERSION")
V_OUT=$("$TMP/coredns" -version 2>&1) || true
grep -q "$COREDNS_VERSION" <<<"$V_OUT" || die "coredns does not report $COREDNS_VERSION: $V_OUT"
piece coredns $(( $(date +%s) - t ))

# --- pause: the sandbox process (our own few lines, gomod/pause) ---
t=$(date +%s)
cp -r "$HERE/gomod/pause" "$SRC/pause"
(cd "$SRC/pause" && CGO_ENABLED=0 go build -ldflags "-s -w" -o "$TMP/pause" .)
piece pause $(( $(date +%s) - t ))

rm -rf "$OUT" && mv "$TMP" "$OUT"
mv "$TOP/build-times.tmp" "$TOP/build-times"
# the Go build cache is only useful to rebuild the same binaries, which then are already here
log "Go build cache $(du -sh "$GOCACHE" | cut -f1): dropped; module cache $(du -sh "$GOMODCACHE" | cut -f1): kept"
go clean -cache >/dev/null 2>&1 || true; rm -rf "$GOCACHE"
ls -la "$OUT"
log "done: $OUT ($(xargs <"$TOP/build-times"))"
