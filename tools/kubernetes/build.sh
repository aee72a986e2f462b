#!/bin/bash
# Build Kubernetes v1.20.2 server binaries (+ kubectl, + a static pause) OFFLINE from Debian bookworm's
# own 'kubernetes' source package (full upstream tree incl. vendor/), with Debian's Go 1.19.
# Output: $WSO2K8S_CACHE/kubernetes-1.20.2/bin. Built into a temp dir and renamed at the end, so a half
# build is never taken as done. A no-op when the output exists. ~10-15 min cold on 2 cores, peak ~1.4 GB.
set -euo pipefail
CACHE=${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}
K8S_VERSION=1.20.2
OUT=${OUT:-$CACHE/kubernetes-$K8S_VERSION/bin}
WORK=${WORK:-$CACHE/kubernetes-$K8S_VERSION/work}
WHAT=${WHAT:-"cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy cmd/kubectl"}
BINS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl pause"
T0=$(date +%s)
log() { echo "[build +$(( $(date +%s) - T0 ))s] $*"; }

have_all() { local b; for b in $BINS; do [ -x "$OUT/$b" ] || return 1; done; }
if have_all; then log "binaries already in $OUT (nothing to do)"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "build.sh: must run as root (apt-get)" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
need=()
for p in golang-1.19-go rsync make gcc libc6-dev golang-github-modern-go-reflect2-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
    log "apt-get update (package lists missing or stale)"; apt-get update -qq
    apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi
# Kubernetes 1.20 and its vendored deps need the Go of its era: Debian's 1.19, not a newer go on PATH.
export PATH=/usr/lib/go-1.19/bin:$PATH
go version

mkdir -p "$WORK/apt/lists/partial" && cd "$WORK"
if [ ! -f kubernetes_1.20.5+really1.20.2.orig.tar.gz ]; then
  log "downloading the Debian 'kubernetes' source package"
  # deb-src entries made from this machine's own apt sources (same mirror, same suites)
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > apt/src.sources
    SL=apt/src.sources
  else
    grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed 's/^deb /deb-src /' > apt/src.list
    SL=apt/src.list
  fi
  O=(-o Dir::Etc::SourceList="$WORK/$SL" -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists="$WORK/apt/lists")
  apt-get "${O[@]}" update -qq
  apt-get "${O[@]}" source --download-only kubernetes 2>&1 | grep -v "unsandboxed" || true
fi
log "unpacking"
rm -rf kubernetes-$K8S_VERSION && tar xzf kubernetes_1.20.5+really1.20.2.orig.tar.gz
cd kubernetes-$K8S_VERSION
# The vendored reflect2 1.0.1 makes kube-apiserver crash (SIGSEGV) on pretty-printed responses when built
# with Go >= 1.18 (curl/wget/browser User-Agent, ?pretty=true); Debian packages reflect2 1.0.2, which fixes it.
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2
# k8s 1.20 builds in GOPATH mode (hack/lib/init.sh sets GO111MODULE=off) with the vendored tree;
# 'make' also runs the code generators (openapi-gen etc.) that are not in the tarball.
log "make WHAT=\"$WHAT\" (the long part)"
HOME="$WORK/home" GOPROXY=off GOFLAGS= CGO_ENABLED=0 make WHAT="$WHAT"
TMP="$OUT.tmp.$$"
rm -rf "$TMP" && mkdir -p "$TMP"
for w in $WHAT; do cp "_output/bin/$(basename "$w")" "$TMP/"; done
gcc -Os -static -o "$TMP/pause" build/pause/linux/pause.c -DVERSION=v3.2-local
rm -rf "$OUT" && mv "$TMP" "$OUT"
# keep the downloaded source package; drop the unpacked tree and its Go cache (_output/, ~1.5 GB)
cd "$WORK" && rm -rf kubernetes-$K8S_VERSION
ls -la "$OUT"
log "done: $OUT"
