#!/bin/bash
# The project's own Go, checked: `go vet` and `go test` of the Python language host and the plugin probe
# (tools/pulumi, in the module their build uses) and of the sandbox's pause (tools/kubernetes/gomod/pause);
# the Kubernetes wrapper module (gomod/k8s) is checked for consistency: every staging module it replaces maps to
# itself at the v0.<minor>.<patch> of the k8s.io/kubernetes it requires. (Vetting its tools.go would compile all
# of Kubernetes, ~20 min here; its build, tools/kubernetes/build.sh, is what proves it.)
#   bash tools/gocheck.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LOG_TAG=gocheck; . "$HERE/lib.sh"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || die "no go on PATH (Debian's golang, or /usr/local/go/bin)"

"$HERE/pulumi/toolchain.sh" check "$("$HERE/venv.sh")"

log "go vet + go test: tools/kubernetes/gomod/pause"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
cp "$HERE/kubernetes/gomod/pause"/* "$dir/"
(cd "$dir" && go vet . && go test -count=1 .)

log "go.mod consistency: tools/kubernetes/gomod/k8s"
bad=$(go mod edit -json "$HERE/kubernetes/gomod/k8s/go.mod" | jq -r '
  (.Require[] | select(.Path == "k8s.io/kubernetes") | .Version | sub("^v1"; "v0")) as $staging
  | (.Replace // [])[] | select(.Old.Path != .New.Path or .New.Version != $staging)
  | "\(.Old.Path) => \(.New.Path) \(.New.Version // "(a local path)") (expected \(.Old.Path) \($staging))"')
[ -z "$bad" ] || die "tools/kubernetes/gomod/k8s/go.mod: replaces that do not match k8s.io/kubernetes: $bad"
log "go checks passed"
