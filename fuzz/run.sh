#!/bin/sh
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined)
# against the module's C files and runs each for FUZZ_SECONDS (default 60)
# on its seed corpus in fuzz/corpus/<target>/ (new inputs go to a scratch
# copy, so the committed corpus stays small). Crash reproducers are written
# to fuzz/crashes/. Prints libFuzzer's last stats line per target.
# FUZZ_TARGETS="fuzz_ws" runs only the targets named (all four by default).
# Usage: sh fuzz/run.sh [BUILD_DIR]   (BUILD_DIR holds lua_sources.c)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="${1:-$root/build}"
seconds="${FUZZ_SECONDS:-60}"
out="${FUZZ_OUT:-$root/build-fuzz}"
mkdir -p "$out" "$root/fuzz/crashes"
[ -f "$build/lua_sources.c" ] || { echo "run 'make build' first ($build/lua_sources.c missing)" >&2; exit 2; }

cc="${CC_FUZZ:-clang}"
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_POSIX_C_SOURCE=200809L -I$root/src $(pkg-config --cflags lua5.4 libcurl)"
libs="$(pkg-config --libs lua5.4 libcurl) -lwslay -lcrypto -lm"
# fuzz_response includes transport.c, fuzz_ws ws.c, ws_handshake.c and ws_wait.c (to
# reach their static functions); each links the rest.
base="$root/src/core.c $root/src/clock.c $root/src/client.c $root/src/request_object.c $root/src/observe_info.c $root/src/direct_call.c $root/src/request.c $root/src/route.c $root/src/url.c $root/src/policy.c $root/src/args.c $root/src/headers.c $root/src/multi.c $root/src/multi_events.c $root/src/buffer.c $root/src/media.c $root/src/json_encode.c \
  $root/src/json_decode.c $root/src/json_number.c $build/lua_sources.c"
common="$base $root/src/ws.c $root/src/ws_handshake.c $root/src/ws_pollset.c $root/src/ws_wait.c"

# shellcheck disable=SC2086
$cc $flags -o "$out/fuzz_json" "$root/fuzz/fuzz_json.c" $root/src/buffer.c $root/src/json_encode.c \
  $root/src/json_decode.c $root/src/json_number.c $root/src/media.c $root/src/args.c $libs
# shellcheck disable=SC2086
$cc $flags -o "$out/fuzz_json_budget" "$root/fuzz/fuzz_json_budget.c" $root/src/json_decode.c $root/src/json_number.c $libs
# shellcheck disable=SC2086
$cc $flags -o "$out/fuzz_response" "$root/fuzz/fuzz_response.c" $common $libs
# shellcheck disable=SC2086
$cc $flags -o "$out/fuzz_ws" "$root/fuzz/fuzz_ws.c" $base $root/src/transport.c $root/src/ws_pollset.c $libs

status=0
for t in ${FUZZ_TARGETS:-fuzz_json fuzz_json_budget fuzz_response fuzz_ws}; do
  work="$out/corpus-$t"
  dict="$root/fuzz/json.dict"
  [ "$t" = fuzz_ws ] && dict="$root/fuzz/ws.dict"
  mkdir -p "$work"
  echo "== $t: ${seconds}s"
  set +e
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" UBSAN_OPTIONS="print_stacktrace=1" \
    "$out/$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$root/fuzz/crashes/$t-" -dict="$dict" \
    "$work" "$root/fuzz/corpus/$t" >"$out/$t.log" 2>&1
  rc=$?
  set -e
  grep -aE "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)" "$out/$t.log" | tail -n 1
  grep -aE "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$out/$t.log" || true
  if [ "$rc" != 0 ]; then
    echo "$t: FAILED (exit $rc), see $out/$t.log and fuzz/crashes/"
    grep -aE "ERROR|SUMMARY|abort|round trip|cannot|lua:" "$out/$t.log" | head -n 20
    status=1
  fi
done
exit $status
