#!/usr/bin/env bash
# Provide the Pulumi engine (CLI, Python language host, resource plugins) offline, built from Go modules.
#
#   tools/pulumi/toolchain.sh ensure <venv-dir>   build what is missing (cached), install plugins, print exports
#   tools/pulumi/toolchain.sh env <venv-dir>      print the exports only if everything is already cached (else exit 1)
#   tools/pulumi/toolchain.sh check <venv-dir>    go vet + go test of this project's own Go (langhost/, plugininfo/)
#
#   eval "$(tools/pulumi/toolchain.sh ensure .venv)"
#
# Versions come from the venv (the `pulumi` distribution, each package's pulumi-plugin.json); where to get the Go
# source for them comes from tools/pulumi/sources.tsv. See tools/pulumi/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}"
PC="$CACHE_ROOT/pulumi"                       # everything built lives here, keyed by version
HOME_DIR="${PULUMI_HOME:-$CACHE_ROOT/pulumi-home}"
GO_BIN="${GO:-go}"
BUILD_TAGS="osusergo,grpcnotrace"
LOG_TAG=pulumi-toolchain LOG_FD=2   # stdout carries the exports
. "$HERE/../lib.sh"

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

goenv() {
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  export GOMODCACHE="$PC/go/mod" GOCACHE="$PC/go/cache" GOPATH="$PC/go/path"
  command -v "$GO_BIN" >/dev/null || GO_BIN=/usr/local/go/bin/go
  command -v "$GO_BIN" >/dev/null || die "no go toolchain found (set GO=/path/to/go)"
  command -v jq >/dev/null || ensure_pkgs "$PC/apt.log" jq   # reads `go mod download/edit -json`
}

# ---------------------------------------------------------------- what the venv asks for
SDK_VERSION=""
PLUGINS=()          # "name version"
read_venv() {
  local venv="$1" py
  py="$venv/bin/python"
  VENV_PY="$py"
  [[ -x "$py" ]] || die "$py not found: give the project's virtualenv directory"
  local kind name ver
  while read -r kind name ver _; do
    case "$kind" in
      sdk) SDK_VERSION="$ver" ;;
      plugin) PLUGINS+=("$name $ver") ;;
    esac
  done < <("$py" "$HERE/venv_versions.py")
  [[ -n "$SDK_VERSION" ]] || die "could not read the pulumi SDK version from $venv"
}

# CLI version for the SDK version (sources.tsv row, else the same version).
cli_version() {
  local v
  v="$(awk -F'\t' -v s="$SDK_VERSION" '$1=="cli" && $2==s {print $3; exit}' "$HERE/sources.tsv")"
  echo "${v:-v$SDK_VERSION}"
}

# sources.tsv row for a plugin: module modver mainpkg xvar prep note
plugin_row() {
  awk -F'\t' -v n="$1" -v v="$2" '$1=="plugin" && $2==n && $3==v {print; exit}' "$HERE/sources.tsv"
}

# ---------------------------------------------------------------- helpers
# go mod download a module version and print one field of the JSON (Dir, GoMod).
mod_field() {
  local modver="$1" field="$2" json
  json="$(cd "$PC" && "$GO_BIN" mod download -json "$modver" 2>/dev/null)" || true
  jq -er --arg f "$field" 'select(.Error == null) | .[$f] // empty' <<<"$json" 2>/dev/null ||
    die "go mod download $modver failed: $(jq -r '.Error // "no \(.)"' <<<"$json" 2>/dev/null | head -1)"
}

# A go.mod's replace directives that do not point at a local path, one "replace a => b v" per line
# (read with `go mod edit -json`).
nonlocal_replaces() {
  "$GO_BIN" mod edit -json "$1" | jq -r '.Replace // [] | .[] | select(.New.Version != null)
    | "replace \(.Old.Path)\(if .Old.Version then " " + .Old.Version else "" end) => \(.New.Path) \(.New.Version)"'
}

# Copy go.mod SRC to DST without its replace directives that point at a local path (../sdk, ./upstream).
drop_local_replaces() {
  local drops=()
  cp "$1" "$2"
  mapfile -t drops < <("$GO_BIN" mod edit -json "$1" | jq -r '.Replace // [] | .[] | select(.New.Version == null)
    | "-dropreplace=\(.Old.Path)\(if .Old.Version then "@" + .Old.Version else "" end)"')
  [ ${#drops[@]} = 0 ] || "$GO_BIN" mod edit "${drops[@]}" "$2"
}

# Build into a temp dir next to the final one; rename only when complete (a killed build leaves no final dir).
new_tmp() { mkdir -p "$PC/.tmp"; mktemp -d "$PC/.tmp/$1.XXXXXX"; }
publish() {
  local tmp="$1" final="$2"
  mkdir -p "$(dirname "$final")"
  mv -T "$tmp" "$final" 2>/dev/null || { [[ -d "$final" ]] && rm -rf "$tmp"; } || die "could not publish $final"
}

# The module a Go program of this project (langhost/, plugininfo/) is built and tested in: its .go files and a
# go.mod requiring sdk/v3 at the CLI's version, tidied.   own_module <dir under tools/pulumi> <module> <ver> <out>
own_module() {
  mkdir -p "$4"
  cp "$HERE/$1"/*.go "$4/"
  printf 'module %s\n\ngo 1.25\n\nrequire github.com/pulumi/pulumi/sdk/v3 %s\n' "$2" "$3" >"$4/go.mod"
  (cd "$4" && "$GO_BIN" mod tidy >&2)
}

gobuild() { # gobuild <out> <ldflags> <pkg>  (run inside the module)
  local t=$SECONDS
  "$GO_BIN" build -trimpath -tags "$BUILD_TAGS" -ldflags "$2" -o "$1" "$3" >&2
  log "  built $(basename "$1") in $((SECONDS - t))s"
}

# ---------------------------------------------------------------- version probe (plugininfo/main.go)
PROBE=""
build_probe() {
  local ver="$1" final="$PC/probe-$1" tmp
  PROBE="$final/plugininfo"
  [[ -x "$PROBE" ]] && return
  goenv
  log "probe: building plugininfo (sdk/v3 $ver)"
  tmp="$(new_tmp "probe-$ver")"
  own_module plugininfo wso2k8s.local/plugininfo "$ver" "$tmp/src"
  (cd "$tmp/src" && gobuild "$tmp/plugininfo" "" .)
  rm -rf "$tmp/src"
  publish "$tmp" "$final"
}

# ---------------------------------------------------------------- the CLI + language host
CLI_DIR=""
path_cli_matches() { # use a pulumi already on PATH if it reports the wanted version
  local p want="$1"
  p="$(command -v pulumi 2>/dev/null)" || return 1
  [[ "$p" == "$PC"/* ]] && return 1
  [[ "$("$p" version 2>/dev/null)" == "$want" ]] || return 1
  CLI_DIR="$(dirname "$(readlink -f "$p")")"
}

cli_done() { [[ -x "$PC/cli-$1/bin/pulumi" && -x "$PC/cli-$1/bin/pulumi-language-python-exec" ]]; }
# The language host is this project's own code, so its build is keyed by the hash of langhost/main.go: the CLI
# directory used is cli-<ver>-langhost-<hash>/bin, hard links to the CLI build plus that host (the CLI runs the
# language host found next to itself; worktrees with another main.go get their own directory, no rebuild fights).
langhost_hash() { sha256sum "$HERE/langhost/main.go" | cut -c1-12; }
langhost_dir() { echo "$PC/cli-$1-langhost-$(langhost_hash)/bin"; }
langhost_done() { [[ -x "$(langhost_dir "$1")/pulumi-language-python" && -x "$(langhost_dir "$1")/pulumi" ]]; }

build_cli() {
  local ver="$1" final="$PC/cli-$1" tmp pkgmod sdkdir
  cli_done "$ver" && { log "cli $ver: cached ($final/bin)"; return; }
  goenv
  log "cli $ver: building github.com/pulumi/pulumi/pkg/v3/cmd/pulumi (cold: ~4 min on an idle 2-core machine, more under load)"
  local t=$SECONDS
  tmp="$(new_tmp "cli-$ver")"
  mkdir -p "$tmp/bin" "$tmp/src/cli" "$tmp/src/langhost"
  pkgmod="$(mod_field "github.com/pulumi/pulumi/pkg/v3@$ver" GoMod)"
  sdkdir="$(mod_field "github.com/pulumi/pulumi/sdk/v3@$ver" Dir)"

  # 1. the CLI, through a wrapper module that copies pkg/v3's non-local replace directives.
  {
    printf 'module wso2k8s.local/pulumi-cli\n\ngo 1.25\n\nrequire (\n'
    printf '\tgithub.com/pulumi/pulumi/pkg/v3 %s\n\tgithub.com/pulumi/pulumi/sdk/v3 %s\n)\n\n' "$ver" "$ver"
    nonlocal_replaces "$pkgmod"
  } >"$tmp/src/cli/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' \
    >"$tmp/src/cli/tools.go"
  (cd "$tmp/src/cli" && "$GO_BIN" mod tidy >&2 &&
    gobuild "$tmp/bin/pulumi" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)

  # 2. the Python language host: build_langhost, after this.

  # 3. the SDK's executor script (and the dynamic-provider shim), from the read-only module cache.
  install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$tmp/bin/"
  if [[ -f "$sdkdir/python/dist/pulumi-resource-pulumi-python" ]]; then
    install -m 0755 "$sdkdir/python/dist/pulumi-resource-pulumi-python" "$tmp/bin/"
  fi

  # 4. verify the version strings really reached the binaries.
  local got
  got="$("$tmp/bin/pulumi" version)"
  [[ "$got" == "$ver" ]] || die "built pulumi reports '$got', expected '$ver'"
  rm -rf "$tmp/src"
  publish "$tmp" "$final"
  log "cli $ver: done in $((SECONDS - t))s -> $final/bin"
}

# The Python language host (this project's own, see langhost/main.go) next to links to the CLI build.
build_langhost() {
  local ver="$1" final tmp got f t=$SECONDS
  final="$(dirname "$(langhost_dir "$ver")")"
  langhost_done "$ver" && { log "language host: cached ($final)"; return; }
  goenv
  log "language host: building langhost/main.go ($(langhost_hash)) against sdk/v3 $ver"
  tmp="$(new_tmp "langhost-$ver")"
  mkdir -p "$tmp/bin"
  own_module langhost wso2k8s.local/pulumi-language-python "$ver" "$tmp/src"
  (cd "$tmp/src" && gobuild "$tmp/bin/pulumi-language-python" "-X main.Version=$ver" .)
  for f in pulumi pulumi-language-python-exec pulumi-resource-pulumi-python; do
    [[ -e "$PC/cli-$ver/bin/$f" ]] || continue
    ln "$PC/cli-$ver/bin/$f" "$tmp/bin/$f" 2>/dev/null || cp -p "$PC/cli-$ver/bin/$f" "$tmp/bin/$f"
  done
  got="$("$PROBE" "$tmp/bin/pulumi-language-python")" # it needs the executor script next to it
  [[ "$got" == "$ver" ]] || die "built pulumi-language-python reports '$got', expected '$ver'"
  rm -rf "$tmp/src"
  publish "$tmp" "$final"
  log "language host: done in $((SECONDS - t))s -> $final/bin"
}

# ---------------------------------------------------------------- resource plugins
plugin_done() { [[ -x "$PC/plugins/$1-$2/pulumi-resource-$1" ]]; }

check_plugin_source() {
  local name="$1" ver="$2" row module note
  plugin_done "$name" "$ver" && return
  row="$(plugin_row "$name" "$ver")"
  [[ -n "$row" ]] || die "plugin $name $ver: no row in tools/pulumi/sources.tsv saying which Go module builds it"
  IFS=$'\t' read -r _ _ _ module _ _ _ _ note <<<"$row"
  [[ "$module" != "-" ]] || die "plugin $name $ver cannot be built here: $note"
}

# Build the main package of a Go module version as a writable main-module copy. The module's local replaces
# (../sdk, ../upstream) are dropped so the requirements it declares are fetched from the proxy instead.
#   build_module <label> <module> <modver> <mainpkg> <xvar> <ver> <prep> <out-binary>
build_module() {
  local label="$1" module="$2" modver="$3" mainpkg="$4" xvar="$5" ver="$6" prep="$7" out="$8" src
  goenv
  src="$(mod_field "$module@$modver" Dir)"
  cp -r "$src" "$tmp/src"
  chmod -R u+w "$tmp/src"
  drop_local_replaces "$src/go.mod" "$tmp/src/go.mod"
  case "$prep" in
    -) ;;
    generate) (cd "$tmp/src/$mainpkg" && VERSION="$ver" "$GO_BIN" generate ./ >&2) ;;
    *.py) log "  patching: $prep"; "$VENV_PY" "$HERE/$prep" "$tmp/src" ;;
    *) die "sources.tsv: unknown prep '$prep' for $label" ;;
  esac
  (cd "$tmp/src" && gobuild "$out" "-X $xvar=$ver" "./$mainpkg")
  rm -rf "$tmp/src"
}

build_plugin() {
  local name="$1" ver="$2" row module modver mainpkg xvar prep note
  plugin_done "$name" "$ver" && { log "plugin $name $ver: cached"; return; }
  row="$(plugin_row "$name" "$ver")"
  [[ -n "$row" ]] || die "plugin $name $ver: no row in tools/pulumi/sources.tsv saying which Go module builds it"
  IFS=$'\t' read -r _ _ _ module modver mainpkg xvar prep note <<<"$row"
  [[ "$module" != "-" ]] || die "plugin $name $ver cannot be built here: $note"
  log "plugin $name $ver: building $module@$modver ($mainpkg)"
  local t=$SECONDS tmp got
  tmp="$(new_tmp "plugin-$name-$ver")"
  build_module "$name" "$module" "$modver" "$mainpkg" "$xvar" "$ver" "$prep" "$tmp/pulumi-resource-$name"
  got="$("$PROBE" "$tmp/pulumi-resource-$name")" || die "plugin $name: version probe failed"
  [[ "$got" == "$ver" ]] || die "built pulumi-resource-$name reports '$got', expected '$ver' (wrong -X path?)"
  publish "$tmp" "$PC/plugins/$name-$ver"
  log "plugin $name $ver: done in $((SECONDS - t))s, reports version $got"
}

# ---------------------------------------------------------------- helpers some plugins need (aux rows)
# docker-build's embedded buildx cannot use the Docker daemon's own BuildKit (it boots a moby/buildkit
# container from Docker Hub); its `exec` mode runs a docker-buildx CLI plugin instead, which can. This builds
# that plugin and a DOCKER_CONFIG directory whose config.json points the Docker CLI libraries at it.
AUX_EXPORTS=()
build_aux_for() { # build_aux_for <plugin name>
  local row name ver module modver mainpkg xvar prep forp note final tmp t=$SECONDS
  while IFS=$'\t' read -r _ name ver module modver mainpkg xvar prep forp note; do
    [[ "$forp" == "$1" ]] || continue
    final="$PC/$name-$ver"
    if [[ ! -x "$final/cli-plugins/$name" ]]; then
      log "aux $name $ver (for $1): building $module@$modver ($mainpkg)"
      tmp="$(new_tmp "aux-$name-$ver")"
      mkdir -p "$tmp/cli-plugins"
      build_module "$name" "$module" "$modver" "$mainpkg" "$xvar" "$ver" "$prep" "$tmp/cli-plugins/$name"
      "$tmp/cli-plugins/$name" version | grep -qF " $ver" || die "built $name does not report version $ver"
      printf '{\n  "cliPluginsExtraDirs": ["%s"]\n}\n' "$final/cli-plugins" >"$tmp/config.json"
      publish "$tmp" "$final"
      log "aux $name $ver: done in $((SECONDS - t))s"
    else
      log "aux $name $ver (for $1): cached"
    fi
    AUX_EXPORTS+=("WSO2K8S_PULUMI_DOCKER_CONFIG=$final")
  done < <(awk -F'\t' '$1=="aux"' "$HERE/sources.tsv")
}

aux_exports_cached() { # for `env`: the aux exports if built, exit 1 if one is missing
  local name ver forp p
  for p in "${PLUGINS[@]}"; do
    while IFS=$'\t' read -r _ name ver _ _ _ _ _ forp _; do
      [[ "$forp" == "${p% *}" ]] || continue
      [[ -x "$PC/$name-$ver/cli-plugins/$name" ]] || { log "not cached: $name $ver"; return 1; }
      AUX_EXPORTS+=("WSO2K8S_PULUMI_DOCKER_CONFIG=$PC/$name-$ver")
    done < <(awk -F'\t' '$1=="aux"' "$HERE/sources.tsv")
  done
}

plugin_installed() { # installed in PULUMI_HOME and identical to the cached build
  local d="$HOME_DIR/plugins/resource-$1-v$2"
  [[ -d "$d" && ! -e "$d.partial" ]] && cmp -s "$d/pulumi-resource-$1" "$PC/plugins/$1-$2/pulumi-resource-$1"
}

install_plugin() {
  local name="$1" ver="$2"
  plugin_installed "$name" "$ver" && return
  log "plugin $name $ver: installing into $HOME_DIR"
  PULUMI_HOME="$HOME_DIR" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
    "$CLI_DIR/pulumi" plugin install resource "$name" "$ver" --reinstall \
    --file "$PC/plugins/$name-$ver/pulumi-resource-$name" >&2
  plugin_installed "$name" "$ver" || die "plugin $name $ver: not found in $HOME_DIR after install"
}

print_exports() {
  # shellcheck disable=SC2016  # $PATH is expanded where the exports are evaluated
  printf 'export PATH=%q:"$PATH"\n' "$CLI_DIR"
  printf 'export PULUMI_HOME=%q\n' "$HOME_DIR"
  printf 'export PULUMI_SKIP_UPDATE_CHECK=true\n'
  printf 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
  local e
  for e in "${AUX_EXPORTS[@]}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
}

# ---------------------------------------------------------------- commands
[[ $# -eq 2 ]] || usage
cmd="$1" venv="$2"
read_venv "$venv"
CLI_VER="$(cli_version)"

case "$cmd" in
  ensure)
    mkdir -p "$PC" "$HOME_DIR"
    exec 9>"$PC/.lock"
    flock 9 # one builder at a time; a second caller waits, then finds everything cached
    rm -rf "$PC/.tmp" # leftovers of interrupted builds (never published); safe: we hold the lock
    log "venv asks for: pulumi SDK $SDK_VERSION; plugins: ${PLUGINS[*]:-none}"
    for p in "${PLUGINS[@]}"; do check_plugin_source "${p% *}" "${p#* }"; done # fail before any long build
    build_probe "$CLI_VER"
    if path_cli_matches "v$SDK_VERSION" || path_cli_matches "$CLI_VER"; then
      log "cli: using $CLI_DIR/pulumi from PATH ($("$CLI_DIR/pulumi" version))"
    else
      [[ "$CLI_VER" == "v$SDK_VERSION" ]] || log "cli: SDK $SDK_VERSION -> CLI $CLI_VER ($(awk -F'\t' -v s="$SDK_VERSION" '$1=="cli" && $2==s {print $4}' "$HERE/sources.tsv"))"
      build_cli "$CLI_VER"
      build_langhost "$CLI_VER"
      CLI_DIR="$(langhost_dir "$CLI_VER")"
    fi
    for p in "${PLUGINS[@]}"; do build_plugin "${p% *}" "${p#* }"; done
    for p in "${PLUGINS[@]}"; do build_aux_for "${p%% *}"; done
    for p in "${PLUGINS[@]}"; do install_plugin "${p% *}" "${p#* }"; done
    log "ready: $("$CLI_DIR/pulumi" version), PULUMI_HOME=$HOME_DIR"
    print_exports
    ;;
  env)
    if ! path_cli_matches "v$SDK_VERSION" && ! path_cli_matches "$CLI_VER"; then
      cli_done "$CLI_VER" || { log "not cached: cli $CLI_VER (run: $0 ensure $venv)"; exit 1; }
      langhost_done "$CLI_VER" || { log "not cached: language host from langhost/main.go $(langhost_hash) (run: $0 ensure $venv)"; exit 1; }
      CLI_DIR="$(langhost_dir "$CLI_VER")"
    fi
    for p in "${PLUGINS[@]}"; do
      plugin_installed "${p% *}" "${p#* }" || { log "not cached: plugin $p (run: $0 ensure $venv)"; exit 1; }
    done
    aux_exports_cached || exit 1
    print_exports
    ;;
  check)
    goenv
    mkdir -p "$PC"
    for prog in langhost:wso2k8s.local/pulumi-language-python plugininfo:wso2k8s.local/plugininfo; do
      dir=$(mktemp -d)
      own_module "${prog%%:*}" "${prog#*:}" "$CLI_VER" "$dir"
      log "go vet + go test: tools/pulumi/${prog%%:*} (sdk/v3 $CLI_VER)"
      (cd "$dir" && "$GO_BIN" vet -tags "$BUILD_TAGS" . && "$GO_BIN" test -count=1 -trimpath -tags "$BUILD_TAGS" .) >&2 ||
        { rm -rf "$dir"; die "tools/pulumi/${prog%%:*}: go vet or go test failed"; }
      rm -rf "$dir"
    done
    ;;
  *) usage ;;
esac
