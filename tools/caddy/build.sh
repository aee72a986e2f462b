#!/bin/bash
# Build a static Caddy (v2.11.9, standard modules) from the Go module proxy, with the machine's Go.
# Output: $WSO2K8S_CACHE/caddy-<version>/bin/caddy. Built into a temp dir and renamed at the end, so a half build is
# never taken as done; a no-op when the binary exists (the warm path). gomod/ (next to this file) is a wrapper module
# (the upstream cmd/caddy main, go.mod and go.sum pinned here) copied into the cache and built there; the module cache
# is kept (a rebuild needs no network), the Go build cache dropped.
# Why Caddy: it is the one reverse proxy with cookie load balancing and DNS upstreams that builds offline here
# (see README "The edge proxy").
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
CACHE=${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}
CADDY_VERSION=2.11.9
TOP=$CACHE/caddy-$CADDY_VERSION
OUT=$TOP/bin
T0=$(date +%s)
log() { echo "[caddy +$(( $(date +%s) - T0 ))s] $*"; }
die() { echo "[caddy +$(( $(date +%s) - T0 ))s] ERROR: $*" >&2; exit 1; }

if [ -x "$OUT/caddy" ]; then log "caddy already in $OUT (nothing to do)"; exit 0; fi
command -v go >/dev/null || die "no 'go' on PATH (Go >= 1.25 is needed; e.g. /usr/local/go/bin)"
grep -q "caddyserver/caddy/v2 v$CADDY_VERSION" "$HERE/gomod/go.mod" \
  || die "tools/caddy/gomod/go.mod does not require caddy v$CADDY_VERSION: keep build.sh and go.mod in step"

export GOMODCACHE=$TOP/gomod GOCACHE=$TOP/gocache GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false -trimpath"
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
mkdir -p "$GOMODCACHE" "$GOCACHE"
TMP="$OUT.tmp.$$"; SRC="$TOP/src.$$"
trap 'rm -rf "$TMP" "$SRC"' EXIT
mkdir -p "$TMP" && cp -r "$HERE/gomod" "$SRC"
log "$(go version); building caddy v$CADDY_VERSION (static) in $SRC"
t=$(date +%s)
(cd "$SRC" && CGO_ENABLED=0 go build -ldflags "-s -w" -o "$TMP/caddy" .)
V_OUT=$("$TMP/caddy" version 2>&1) || true
grep -q "v$CADDY_VERSION" <<<"$V_OUT" || die "caddy does not report v$CADDY_VERSION: $V_OUT"
rm -rf "$OUT" && mv "$TMP" "$OUT"
echo "caddy $(( $(date +%s) - t ))s" >"$TOP/build-times"
rm -rf "$GOCACHE"
log "caddy v$CADDY_VERSION built in $(( $(date +%s) - t )) s: $OUT/caddy ($(du -h "$OUT/caddy" | cut -f1))"
