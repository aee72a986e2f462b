#!/bin/bash
# Local Docker engine for wso2-kubernetes, fully offline (only the Debian apt mirror is needed).
#
#   tools/docker/engine.sh up       install docker.io/debootstrap/jq/docker-registry if missing, start dockerd
#                                   if no engine answers, import local/debian:bookworm if missing (idempotent)
#   tools/docker/engine.sh status   engine version, runtime, who started it, base image; non-zero if no engine
#   tools/docker/engine.sh down     stop dockerd, only if this script started it
#
# Env: WSO2K8S_STATE (/var/lib/wso2-kubernetes), WSO2K8S_CACHE (/var/cache/wso2-kubernetes),
#      BASE_IMAGE (local/debian:bookworm), DEBIAN_MIRROR (default: the plain-HTTP mirror of this machine's apt).
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
LOG_TAG=engine; . "$HERE/../lib.sh"
STATE=${WSO2K8S_STATE:-/var/lib/wso2-kubernetes}
CACHE=${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}
DSTATE=$STATE/docker
PIDFILE=$DSTATE/dockerd.pid
LOG=$DSTATE/dockerd.log
BASE_IMAGE=${BASE_IMAGE:-local/debian:bookworm}
SUITE=bookworm
ROOTFS_TAR=$CACHE/images/debian-$SUITE-minbase.tar
WRAPPER=/usr/local/sbin/runc-nosysres
PKGS=(docker.io debootstrap jq docker-registry)

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# OCI-runtime wrapper: this VM's bounding set lacks CAP_SYS_RESOURCE, so runc fails for --privileged
# containers (and anything asking for it); drop that capability from the bundle's config.json first.
install_wrapper() {
  local tmp; tmp=$(mktemp)
  cat >"$tmp" <<'W'
#!/bin/sh
# installed by wso2-kubernetes tools/docker/engine.sh: drop CAP_SYS_RESOURCE (not in this VM's bounding set)
f=""; prev=""
for a in "$@"; do
  case "$prev" in --bundle|-b) f="$a/config.json";; --process|-p) f="$a";; esac
  case "$a" in --bundle=*) f="${a#--bundle=}/config.json";; --process=*) f="${a#--process=}";; esac
  prev="$a"
done
if [ -n "$f" ] && [ -f "$f" ]; then
  jq '(if has("process") then .process.capabilities else .capabilities end) |= (if . then with_entries(.value |= (if type=="array" then map(select(. != "CAP_SYS_RESOURCE")) else . end)) else . end)' "$f" > "$f.tmp" && mv "$f.tmp" "$f"
fi
exec /usr/sbin/runc "$@"
W
  if ! cmp -s "$tmp" "$WRAPPER"; then
    mkdir -p "$(dirname "$WRAPPER")"; install -m 0755 "$tmp" "$WRAPPER"; log "installed runc wrapper $WRAPPER"
  fi
  rm -f "$tmp"
}

# first plain-HTTP URI of a deb (not deb-src) source that carries $SUITE, from this machine's apt sources
apt_mirror() {
  local m=""
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    m=$(awk -v RS= -v s="$SUITE" '{
          t = 0; ok = 0; u = ""; n = split($0, L, "\n")
          for (i = 1; i <= n; i++) {
            if (L[i] ~ /^Types:/ && L[i] ~ /[ \t]deb([ \t]|$)/) t = 1
            if (L[i] ~ /^URIs:/)   { k = split(L[i], a, /[ \t]+/); for (j = 2; j <= k; j++) if (u == "" && a[j] ~ /^http:\/\//) u = a[j] }
            if (L[i] ~ /^Suites:/) { k = split(L[i], a, /[ \t]+/); for (j = 2; j <= k; j++) if (a[j] == s) ok = 1 }
          }
          if (t && ok && u != "") { print u; exit }
        }' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -nE "s/^deb[ \t]+(\[[^]]*\][ \t]+)?(http:\/\/[^ \t]+)[ \t]+${SUITE}[ \t].*/\2/p" | head -1)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

import_base_image() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  if [ ! -s "$ROOTFS_TAR" ]; then
    local mirror r; mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
    r=$(mktemp -d /var/tmp/wso2k8s-rootfs.XXXXXX)
    trap 'rm -rf "$r"' EXIT
    log "debootstrap --variant=minbase $SUITE from $mirror (about 40 s)"
    debootstrap --variant=minbase "$SUITE" "$r" "$mirror" >"$DSTATE/debootstrap.log" 2>&1 ||
      { tail -20 "$DSTATE/debootstrap.log" >&2; die "debootstrap failed (log: $DSTATE/debootstrap.log)"; }
    # apt inside the image uses the same sources as this machine
    rm -f "$r/etc/apt/sources.list"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then cp /etc/apt/sources.list.d/debian.sources "$r/etc/apt/sources.list.d/"
    else echo "deb $mirror $SUITE main" >"$r/etc/apt/sources.list"; fi
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/var/log/*.log
    : >"$r/etc/resolv.conf"
    mkdir -p "$(dirname "$ROOTFS_TAR")"
    tar --numeric-owner -C "$r" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$r"; trap - EXIT
  else
    log "using cached rootfs $ROOTFS_TAR"
  fi
  log "docker import -> $BASE_IMAGE"
  docker import --change 'CMD ["bash"]' "$ROOTFS_TAR" "$BASE_IMAGE" >/dev/null
}

cmd_up() {
  mkdir -p "$DSTATE"
  ensure_pkgs "$DSTATE/apt.log" "${PKGS[@]}"
  install_wrapper
  local started=0
  if engine_answers; then
    log "engine already answers"
  else
    log "starting dockerd (log: $LOG)"
    # own session, so it outlives the caller; the pid written is dockerd's own (exec)
    start_daemon "$PIDFILE" "$LOG" dockerd --add-runtime nosysres="$WRAPPER" --default-runtime nosysres
    wait_until 600 engine_answers || { tail -20 "$LOG" >&2; die "dockerd did not answer within 60 s"; }
    log "dockerd answers"; started=1
  fi
  if [ "$started" = 1 ] || ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    import_base_image
    docker run --rm "$BASE_IMAGE" true || die "cannot run a container from $BASE_IMAGE"   # proves the runtime works
  fi
  log "ready: $(docker version --format 'server {{.Server.Version}}') runtime=$(docker info --format '{{.DefaultRuntime}}') image=$BASE_IMAGE"
}

cmd_status() {
  if ! engine_answers; then echo "engine: not answering"; exit 1; fi
  local who="not started by engine.sh" p
  if p=$(pid_in "$PIDFILE"); then who="started by engine.sh, pid $p"; fi
  echo "engine: up, $(docker version --format 'server {{.Server.Version}}, client {{.Client.Version}}'), default runtime $(docker info --format '{{.DefaultRuntime}}'), $who"
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "image:  $BASE_IMAGE $(docker image inspect --format '{{.Id}} {{.Size}}' "$BASE_IMAGE" | awk '{printf "%s %d MB", substr($1,1,19), $2/1e6}')"
  else
    echo "image:  $BASE_IMAGE missing (run: $0 up)"; exit 1
  fi
}

cmd_down() {
  local p
  if p=$(pid_in "$PIDFILE" "dockerd "); then
    log "stopping dockerd pid $p"
    stop_pids 300 "$p" >/dev/null
    rm -f "$PIDFILE"; log "stopped"
  else
    log "dockerd was not started by engine.sh: leaving it alone"
  fi
}

need_root
case "${1:-}" in
  up) cmd_up ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
