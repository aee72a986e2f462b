#!/bin/bash
# Run a daemon: record its pid, close every inherited descriptor above stderr, exec it.
#   setsid tools/detach.sh PIDFILE COMMAND [ARGS...] >LOG 2>&1 </dev/null &
# Why close them: a daemon that keeps a caller's open file keeps that caller's locks (a `flock` around a
# test run, say) held for as long as it lives.
echo $$ >"$1"
shift
for fd in "/proc/$$/fd/"*; do
  fd=${fd##*/}
  [ "$fd" -gt 2 ] 2>/dev/null && exec {fd}>&-   # closes the descriptor whose number $fd holds
done
exec "$@"
