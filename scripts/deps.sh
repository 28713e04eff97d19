#!/bin/sh
# Installs the Debian packages a task needs, only those that are missing.
# Usage: scripts/deps.sh build|test|check|demo
# Everything comes from Debian's archive (no LuaRocks, no downloads).
set -eu

build="gcc make cmake pkg-config libc6-dev lua5.4 liblua5.4-dev libcurl4-openssl-dev libwslay-dev libssl-dev ca-certificates"
# The emulator runs on Lua 5.1 (lua-http is packaged completely only there);
# the specs talk to its control routes with LuaSocket and lua-cjson.
emulator="lua5.1 lua-http lua-cqueues lua-cjson"
tests="lua-busted lua-socket"

case "${1:-build}" in
  build) want="$build" ;;
  demo) want="$build $emulator" ;;
  test) want="$build $emulator $tests" ;;
  check) want="$build $emulator $tests valgrind" ;;
  *) echo "usage: $0 build|test|check|demo" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "Installing missing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "Not root and no sudo: please run  apt-get install -y$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
