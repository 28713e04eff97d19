#!/bin/sh
# Runs the busted specs against a build and closes with busted's real counts
# as "N passed, N failed" (errors count as failed). Exit status: non-zero on
# any failure. Usage: scripts/busted.sh LUA BUILD_DIR [spec paths...]
#   VZAPS_SANITIZE=1  the build has ASan+UBSan: preload their runtimes
#   VZAPS_VALGRIND=1  run under valgrind: any error or definite/indirect leak fails
set -u
lua="$1"; build="$2"; shift 2
# No spec depends on the user's shell: the module takes VZAPS_CLIENT_TOKEN &
# co. as configuration, so every VZAPS_* is cleared but this harness's own.
for v in $(env | sed -n 's/^\(VZAPS_[A-Za-z0-9_]*\)=.*/\1/p'); do
  case "$v" in
    VZAPS_LUA|VZAPS_LABEL|VZAPS_FAST_PATH|VZAPS_SANITIZE|VZAPS_VALGRIND|VZAPS_NGINX_BUILD|VZAPS_FAULT_TABLE|VZAPS_KEEP_NGINX) ;;
    *) unset "$v" ;;
  esac
done
# The specs start child processes of the same Lua (spec/support/compat.lua).
VZAPS_LUA="$lua"; export VZAPS_LUA
[ $# -gt 0 ] || set -- spec
label="${VZAPS_LABEL:-}"
log=$(mktemp); trap 'rm -f "$log" "$log.rc"' EXIT

runner=""
if [ -n "${VZAPS_SANITIZE:-}" ]; then
  LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  # The interpreter is not instrumented and exits without lua_close: leaks
  # are valgrind's job; ASan here catches overflows and use-after-free.
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1"
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
  label="${label:-asan}"
fi
if [ -n "${VZAPS_VALGRIND:-}" ]; then
  runner="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --error-exitcode=99 --trace-children=no"
  label="${label:-valgrind}"
fi

{ $runner "$lua" /usr/bin/busted --cpath="./$build/?.so" -o utfTerminal "$@" 2>&1; echo $? >"$log.rc"; } | tee "$log"
rc=$(cat "$log.rc")

summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? ' | tail -n 1)
if [ -n "$summary" ]; then
  passed=$(echo "$summary" | awk '{print $1}')
  failed=$(echo "$summary" | awk '{print $4 + $7}')
else
  passed=0; failed=1
  echo "busted did not finish (exit status $rc)"
fi
[ "$rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "${label:+$label: }$passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
