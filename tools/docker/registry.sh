#!/bin/bash
# Local image registry for wso2-kubernetes: Debian's docker-registry (distribution 2.8) on plain HTTP.
#
#   tools/docker/registry.sh up       start it unless something already answers on http://$REGISTRY_ADDR/v2/
#   tools/docker/registry.sh down     stop it (only if this script started it); images are kept
#   tools/docker/registry.sh status   answering? who runs it, repositories; non-zero if it does not answer
#
# Docker pushes to 127.0.0.0/8 over plain HTTP without any daemon config; the cluster's containerd pulls from it
# through tools/kubernetes/cluster.sh's hosts.toml. Images by digest: 127.0.0.1:5000/<repo>@sha256:...
# Env: WSO2K8S_STATE (/var/lib/wso2-kubernetes), REGISTRY_ADDR (127.0.0.1:5000).
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
LOG_TAG=registry; . "$HERE/../lib.sh"
STATE=${WSO2K8S_STATE:-/var/lib/wso2-kubernetes}
RSTATE=$STATE/registry
ADDR=${REGISTRY_ADDR:-127.0.0.1:5000}
CONF=$RSTATE/config.yml
PIDFILE=$RSTATE/registry.pid
LOG=$RSTATE/registry.log

answers() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$ADDR/v2/" 2>/dev/null)" = 200 ]; }
ours() { pid_in "$PIDFILE" "docker-registry serve $CONF " >/dev/null; }

cmd_up() {
  if answers; then
    if ours; then log "already up on http://$ADDR (pid $(cat "$PIDFILE"))"; else log "http://$ADDR already answers (not started by registry.sh): nothing to do"; fi
    return 0
  fi
  mkdir -p "$RSTATE/data"
  ensure_pkgs "$RSTATE/apt.log" docker-registry
  cat >"$CONF" <<EOF
version: 0.1
log:
  level: warn
  accesslog: {disabled: true}
storage:
  filesystem:
    rootdirectory: $RSTATE/data
  delete:
    enabled: true
http:
  addr: $ADDR
EOF
  log "starting docker-registry on $ADDR, storage $RSTATE/data (log: $LOG)"
  start_daemon "$PIDFILE" "$LOG" docker-registry serve "$CONF"
  wait_until 200 answers || { tail -20 "$LOG" >&2; die "registry did not answer on http://$ADDR/v2/ within 20 s"; }
  log "up: http://$ADDR (pid $(cat "$PIDFILE"))"
}

cmd_down() {
  if ours; then
    local p; p=$(cat "$PIDFILE"); log "stopping docker-registry pid $p"
    stop_pids 100 "$p" >/dev/null
    rm -f "$PIDFILE"; log "stopped (images kept in $RSTATE/data)"
  else
    log "no registry started by registry.sh is running"
  fi
}

cmd_status() {
  if ! answers; then echo "registry: http://$ADDR not answering"; exit 1; fi
  local who="not started by registry.sh"; ours && who="pid $(cat "$PIDFILE"), storage $RSTATE/data"
  echo "registry: up on http://$ADDR ($who)"
  echo "repositories: $(curl -s -m 5 "http://$ADDR/v2/_catalog?n=1000" | jq -r '.repositories | join(" ")' 2>/dev/null)"
}

need_root
case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
