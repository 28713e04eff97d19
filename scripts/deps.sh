#!/bin/sh
# Installs the Debian packages a task needs, only those that are missing.
# Usage: scripts/deps.sh build|test|check|demo|nginx|lint|docs|rocks|format [LUA]
#   LUA: lua5.1, lua5.2, lua5.3, lua5.4 (default) or luajit; its interpreter
#   and headers are added to the group.
# Everything comes from Debian's archive (no LuaRocks, no downloads).
set -eu

build="gcc make cmake pkg-config libc6-dev lua5.4 liblua5.4-dev libcurl4-openssl-dev libwslay-dev libssl-dev ca-certificates"
# The emulator runs on Lua 5.1 (lua-http is packaged completely only there);
# the specs talk to its control routes with LuaSocket and lua-cjson.
emulator="lua5.1 lua-http lua-cqueues lua-cjson"
tests="lua-busted lua-socket socat openssl clang libclang-rt-14-dev locales redis-server lua-redis"
# LuaJIT is Debian's luajit2 (OpenResty's branch): libnginx-mod-http-lua
# needs it, and it conflicts with the luajit package. The nginx specs run
# the module inside nginx's LuaJIT, against the emulator.
luajit="luajit2 libluajit2-5.1-dev"
nginx="nginx libnginx-mod-http-lua lua-resty-core $luajit"

case "${2:-lua5.4}" in
  lua5.1) lua="lua5.1 liblua5.1-0-dev" ;;
  lua5.2) lua="lua5.2 liblua5.2-dev" ;;
  lua5.3) lua="lua5.3 liblua5.3-dev" ;;
  lua5.4) lua="" ;;
  luajit) lua="$luajit" ;;
  *) echo "$0: unknown Lua '$2' (lua5.1, lua5.2, lua5.3, lua5.4, luajit)" >&2; exit 2 ;;
esac

case "${1:-build}" in
  build) want="$build $lua" ;;
  demo) want="$build $lua $emulator lua-socket" ;;
  test) want="$build $lua $emulator $tests $nginx" ;;
  check) want="$build $lua $emulator $tests $nginx valgrind" ;;
  nginx) want="$build $nginx" ;;
  lint) want="lua-check" ;;
  docs) want="lua-ldoc lua-markdown lua5.1" ;;
  rocks) want="$build $lua luarocks" ;;
  format) want="clang-format" ;;
  *) echo "usage: $0 build|test|check|demo|nginx|lint|docs|rocks|format [LUA]" >&2; exit 2 ;;
esac

# spec/locale_spec.lua runs the module under a decimal-comma locale, which
# Debian's locales package can generate but does not ship.
need_locale() {
  case "${1:-build}" in test|check) ;; *) return 1 ;; esac
  ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'
}
make_locale() {
  need_locale "${1:-build}" || return 0
  $sudo localedef -i de_DE -f UTF-8 de_DE.UTF-8 || echo "$0: could not generate de_DE.UTF-8" >&2
}

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
sudo=""
if [ -z "$missing" ]; then
  if need_locale "${1:-build}"; then
    [ "$(id -u)" = 0 ] || sudo="sudo"
    make_locale "${1:-build}"
  fi
  exit 0
fi

echo "Installing missing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "Not root and no sudo: please run  apt-get install -y$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# nginx's package would start a system nginx on port 80: forbid service
# starts while installing (policy-rc.d), unless a policy is already there.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
  $sudo chmod 755 $policy
fi
status=0
$sudo apt-get update -qq || status=$?
# shellcheck disable=SC2086
[ $status != 0 ] || $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null || status=$?
[ -z "$policy" ] || $sudo rm -f $policy
[ $status != 0 ] || make_locale "${1:-build}"
exit $status
