# shellcheck shell=bash
# The helpers every tools/ script shares: log lines with the time since start, Debian packages, daemons and
# their pid files, waiting for a condition. Sourced, never run:
#   LOG_TAG=engine; . "$(dirname "$(readlink -f "$0")")/../lib.sh"
# Knobs a script sets before sourcing: LOG_TAG (the [tag +1.2s] prefix), LOG_FD (1, or 2 when stdout carries
# the script's result, e.g. exports).
# Conditions and commands are passed as words (arrays), never as strings to eval.

LIB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
LIB_T0=$(date +%s%N)
LOG_TAG=${LOG_TAG:-tools}
LOG_FD=${LOG_FD:-1}
STEP_T0=${STEP_T0:-$SECONDS}

elapsed() { local d=$((($(date +%s%N) - LIB_T0) / 1000000)); printf '%d.%01ds' $((d / 1000)) $(((d % 1000) / 100)); }
log() { echo "[$LOG_TAG +$(elapsed)] $*" >&"$LOG_FD"; }
die() { echo "[$LOG_TAG +$(elapsed)] ERROR: $*" >&2; exit 1; }
# step MESSAGE: the ==> lines of the top-level commands (engines.sh, up.sh), on stderr
step() { echo "==> [$((SECONDS - STEP_T0))s] $*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || die "run as root"; }

# ---------------------------------------------------------------- Debian packages
missing_pkgs() {  # the names of those not installed, one a line
  local p
  for p; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"; done
}
# ensure_pkgs APT_LOG PKG...: install what is missing; apt-get update only when the install fails without it
# (or there are no package lists at all). apt's output goes to APT_LOG; its tail is shown on failure.
ensure_pkgs() {
  local aptlog=$1; shift
  local miss=()
  mapfile -t miss < <(missing_pkgs "$@")
  [ ${#miss[@]} -gt 0 ] || return 0
  local a=(-o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)
  mkdir -p "$(dirname "$aptlog")"
  log "installing Debian packages: ${miss[*]}"
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 ||
     ! DEBIAN_FRONTEND=noninteractive apt-get "${a[@]}" install "${miss[@]}" >"$aptlog" 2>&1; then
    log "apt-get update (package lists missing or stale)"
    apt-get -o DPkg::Lock::Timeout=600 -qq update >&2 || die "apt-get update failed (the package mirror?)"
    DEBIAN_FRONTEND=noninteractive apt-get "${a[@]}" install "${miss[@]}" >"$aptlog" 2>&1 ||
      { tail -20 "$aptlog" >&2; die "apt-get install ${miss[*]} failed (log: $aptlog)"; }
  fi
}

# ---------------------------------------------------------------- daemons and pids
# start_daemon PIDFILE LOG COMMAND...: in its own session (it outlives the caller), every inherited descriptor
# above stderr closed (tools/detach.sh), output appended to LOG; PIDFILE holds the daemon's own pid.
start_daemon() {
  local pidfile=$1 logfile=$2; shift 2
  setsid "$LIB_DIR/detach.sh" "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
}
cmdline_of() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null; }   # argv joined by spaces (+ one at the end)
# pid_in PIDFILE [PREFIX]: the recorded pid, if that process lives (and its command line starts with PREFIX)
pid_in() {
  local p; [ -s "$1" ] || return 1; p=$(cat "$1")
  kill -0 "$p" 2>/dev/null || return 1
  [ -z "${2:-}" ] || [[ $(cmdline_of "$p") == "$2"* ]] || return 1
  echo "$p"
}
# stop_pids TENTHS PID...: SIGTERM to all at once, wait up to TENTHS tenths of a second, then SIGKILL the rest;
# prints the pids that needed SIGKILL.
stop_pids() {
  local tenths=$1 p alive; shift
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  for _ in $(seq 1 "$tenths"); do
    alive=0; for p; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for p; do kill -0 "$p" 2>/dev/null && { echo "$p"; kill -9 "$p" 2>/dev/null || true; }; done
  return 0
}

# ---------------------------------------------------------------- words
# shell_words TEXT: TEXT split into words as a shell would read them (quotes honoured, nothing expanded or run;
# Python's shlex), one a line: for `mapfile -t words < <(shell_words "$spec")` instead of eval.
shell_words() { python3 -c 'import shlex, sys; print(*shlex.split(sys.argv[1]), sep="\n")' "$1"; }

# ---------------------------------------------------------------- waiting
# wait_until TENTHS COMMAND...: run COMMAND (quietly) every tenth of a second until it succeeds; 1 if it never did
wait_until() {
  local tenths=$1; shift
  for _ in $(seq 1 "$tenths"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# ---------------------------------------------------------------- Python virtualenvs
# ensure_venv VENV REQUIREMENTS...: VENV (re)made when the requirement files change (their hash is kept in VENV),
# from the last file (which may -r the others); prints VENV. Made anew, never upgraded in place: a package left
# over from old pins would make the Pulumi engine ask for its plugin.
ensure_venv() {
  local venv=$1 stamp; shift
  stamp=$(cat "$@" | sha256sum | cut -c1-16)
  if [ "$(cat "$venv/.requirements-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "==> creating $venv from ${*: -1}" >&2
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "${*: -1}" >&2
    echo "$stamp" >"$venv/.requirements-stamp"
  fi
  echo "$venv"
}

# ---------------------------------------------------------------- the engines' environment
# use_engines: start the engines (tools/engines.sh, idempotent) and take the environment it prints.
# A failure stops the caller (a bare `eval "$(…)"` would carry on with an empty environment).
use_engines() {
  local exports
  exports=$("$LIB_DIR/engines.sh") || die "tools/engines.sh failed (its output above says why)"
  eval "$exports"   # printf %q-quoted `export NAME=value` lines, made by engines.sh itself
}
