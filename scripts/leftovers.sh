#!/bin/sh
# Finds the servers a test run started and left behind (nginx, the emulator,
# redis-server, socat, openssl s_server, nvim): `snapshot FILE` records the
# ones already running before the run, `check FILE` lists (and ends) those
# that are new since, and exits 1 when there are any.
# Only the caller's process group counts: the specs start their servers in
# the foreground (never detached), so those stay in the group of the run,
# and servers of other runs on the same machine are neither reported nor
# stopped.
set -u
pattern='nginx: master|nginx: worker|nginx -g|emulator/main\.lua|redis-server|socat|openssl s_server|nvim --headless'
group=$(ps -o pgid= -p $$ | tr -d ' ')
list() {
  ps -eo pid=,pgid=,args= | awk -v g="$group" '$2 == g' | grep -E "$pattern" \
    | grep -v -E 'grep -E|leftovers\.sh' | awk '{print $1}' | sort
}
case "${1:-}" in
  snapshot) list >"$2" ;;
  check)
    sleep 2 # servers stopped at the very end get a moment to exit
    new=$(list | comm -13 "$2" -)
    [ -z "$new" ] && exit 0
    echo "The test run left these processes running:" >&2
    for p in $new; do ps -o pid=,args= -p "$p" >&2; done
    # shellcheck disable=SC2086
    kill $new 2>/dev/null
    exit 1 ;;
  *) echo "usage: $0 snapshot|check FILE" >&2; exit 2 ;;
esac
