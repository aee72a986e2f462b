#!/bin/bash
# Gateway API CRDs (sigs.k8s.io/gateway-api) on the local cluster, so the program's HTTPRoute and
# BackendTLSPolicy (entry.kind: gateway) are accepted by the API server. Idempotent; run by tools/engines.sh.
#
#   tools/kubernetes/gateway-api.sh           fetch once (Go module proxy, checked), apply when not yet applied
#   tools/kubernetes/gateway-api.sh files     print the folder holding the CRD files (fetched when missing)
#
# The module's zip comes from the Go module proxy (the only source here) through `go mod download`, which
# checks it against sum.golang.org; its h1 hash is pinned below as well. Cached under
# $WSO2K8S_CACHE/gateway-api/<version>/.
# Channel: `experimental`. In v1.7.0 HTTPRoute's `rules[].sessionPersistence` (cookie sessions, GEP-1619) is
# only in the experimental channel's HTTPRoute; the standard one would drop it. BackendTLSPolicy v1 is in both.
# Only the gateway.networking.k8s.io kinds are applied (not the x-k8s.io incubating ones), plus the bundle's
# ValidatingAdmissionPolicy that refuses a later downgrade of these CRDs.
set -euo pipefail
VERSION=v1.7.0
ZIPHASH=h1:duVnm7nO6oXfMMUWfcDoBph47CYR/ME3NGxccOVglaY=
CHANNEL=experimental
CACHE=${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}
STATE=${WSO2K8S_STATE:-/var/lib/wso2-kubernetes}
BIN=${K8S_BIN:-$CACHE/kubernetes-1.34.4/bin}
HERE_CACHE=$CACHE/gateway-api/$VERSION
CRDS=$HERE_CACHE/crd-$CHANNEL
KUBECONFIG=${KUBECONFIG:-$STATE/cluster/kubeconfig}
T0=$SECONDS
log() { echo "[gateway-api +$((SECONDS - T0))s] $*" >&2; }
die() { echo "[gateway-api] ERROR: $*" >&2; exit 1; }

fetch() {
  [ -f "$CRDS/.complete" ] && return 0
  command -v go >/dev/null || die "go is needed once to fetch sigs.k8s.io/gateway-api $VERSION (Debian: apt-get install golang)"
  local mod=$HERE_CACHE/mod zip
  mkdir -p "$HERE_CACHE"
  log "fetching sigs.k8s.io/gateway-api@$VERSION from the Go module proxy"
  # The module's go.mod asks for a newer Go than this machine's; `go mod download` still fetches and checks the
  # zip before it says so, and the zip's hash is checked here again, so that complaint is not an error for us.
  GOMODCACHE=$mod GOFLAGS=-modcacherw GOTOOLCHAIN=local go mod download -json "sigs.k8s.io/gateway-api@$VERSION" \
    >"$HERE_CACHE/download.json" 2>&1 || true
  zip=$mod/cache/download/sigs.k8s.io/gateway-api/@v/$VERSION.zip
  [ -f "$zip" ] || die "no module zip; go said: $(cat "$HERE_CACHE/download.json")"
  [ "$(cat "$zip"hash 2>/dev/null)" = "$ZIPHASH" ] \
    || die "sigs.k8s.io/gateway-api@$VERSION has hash $(cat "$zip"hash 2>/dev/null), expected $ZIPHASH"
  rm -rf "$CRDS.tmp" && mkdir -p "$CRDS.tmp"
  python3 - "$zip" "$VERSION" "$CHANNEL" "$CRDS.tmp" <<'EOF'
import sys, zipfile
zip_path, version, channel, out = sys.argv[1:]
prefix = f"sigs.k8s.io/gateway-api@{version}/config/crd/{channel}/gateway.networking.k8s.io_"
with zipfile.ZipFile(zip_path) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and n.endswith(".yaml") and "/" not in n[len(prefix):]]
    for n in names:
        with open(f"{out}/{n.rsplit('/', 1)[1]}", "wb") as f:
            f.write(z.read(n))
print(len(names), file=sys.stderr)
EOF
  touch "$CRDS.tmp/.complete"
  rm -rf "$CRDS" && mv "$CRDS.tmp" "$CRDS"
  rm -rf "$mod"   # only the CRD files are kept (the module cache is read-only otherwise and 3 MB more)
}

applied() {
  # every CRD of the bundle present at this version and channel
  local want have
  want=$(grep -l '^kind: CustomResourceDefinition' "$CRDS"/*.yaml | wc -l)
  have=$("$BIN/kubectl" --kubeconfig="$KUBECONFIG" get crd -o \
    jsonpath='{range .items[*]}{.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version}/{.metadata.annotations.gateway\.networking\.k8s\.io/channel}{"\n"}{end}' \
    2>/dev/null | grep -cx "$VERSION/$CHANNEL" || true)
  [ "$have" -ge "$want" ]
}

fetch
case "${1:-apply}" in
  files) echo "$CRDS" ;;
  apply)
    if applied; then log "CRDs $VERSION ($CHANNEL) already applied"; exit 0; fi
    log "applying $(find "$CRDS" -maxdepth 1 -name "*.yaml" | wc -l) files ($VERSION, $CHANNEL channel)"
    "$BIN/kubectl" --kubeconfig="$KUBECONFIG" apply --server-side --force-conflicts \
      --field-manager=wso2-kubernetes-gateway-api -f "$CRDS" >&2
    "$BIN/kubectl" --kubeconfig="$KUBECONFIG" wait --for=condition=Established --timeout=60s \
      crd/httproutes.gateway.networking.k8s.io crd/backendtlspolicies.gateway.networking.k8s.io >&2
    log "done" ;;
  *) echo "usage: $0 [apply|files]" >&2; exit 2 ;;
esac
