#!/bin/sh
# bench/run.sh BUILD_DIR: what `make bench` runs after building the module.
# Installs the bench-only Debian packages that are missing, starts nginx on
# 127.0.0.1 with fixed answers (bench/nginx.conf.in), builds bench/c_loop.c,
# runs bench/driver.lua (which writes bench/RESULTS.md, running bench/media.lua
# for the peak memory of a 50 MiB vzaps.file upload) and stops nginx.
# BENCH_WORK (default /tmp/benchwork) holds the server's files and scratch;
# BENCH_QUICK=1 runs smaller Ns.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
work=${BENCH_WORK:-/tmp/benchwork}

# --- packages (as scripts/deps.sh does) -------------------------------------
want="nginx-light libnginx-mod-http-echo valgrind lua5.4 lua-socket lua-cjson lua-luv gcc pkg-config libcurl4-openssl-dev lua5.1 lua-http lua-cqueues"
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "Installing missing Debian packages:$missing" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "Not root and no sudo: please run  apt-get install -y$missing" >&2; exit 1
  fi
  # nginx's package would start a system nginx on port 80: forbid service
  # starts while installing (policy-rc.d), unless a policy is already there.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
    $sudo chmod 755 $policy
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null || { [ -z "$policy" ] || $sudo rm -f $policy; exit 1; }
  [ -z "$policy" ] || $sudo rm -f $policy
fi

# --- the server ---------------------------------------------------------------
srv="$work/srv"
rm -rf "$srv"
mkdir -p "$srv/tmp"
chmod 755 "$work" "$srv"
port=$(lua5.4 -e 'local s = require("socket").bind("127.0.0.1", 0); local _, p = s:getsockname(); s:close(); print(p)')
echo_module=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -e $echo_module ] || echo_module=""
lua5.4 "$here/gen_data.lua" "$srv" "$port" "$echo_module"
nginx -p "$srv" -c "$srv/nginx.conf" -e "$srv/error.log"
trap 'kill "$(cat "$srv/nginx.pid")" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
i=0
until lua5.4 -e "assert(require('socket').connect('127.0.0.1', $port))" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 50 ] || { echo "nginx did not start:" >&2; cat "$srv/error.log" >&2; exit 1; }
  sleep 0.1
done

# The emulator, for the realtime subscription that the tick loop bench polls.
emu_port_file="$work/emu.port"
rm -f "$emu_port_file"
lua5.1 "$here/../emulator/main.lua" --port 0 --port-file "$emu_port_file" --quiet &
emu_pid=$!
trap 'kill "$(cat "$srv/nginx.pid")" 2>/dev/null || true; kill $emu_pid 2>/dev/null || true' EXIT
i=0
until [ -s "$emu_port_file" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "the emulator did not start" >&2; exit 1; }
  sleep 0.05
done
EMU_URL="http://127.0.0.1:$(cat "$emu_port_file")"; export EMU_URL

# --- the floor ----------------------------------------------------------------
# shellcheck disable=SC2046
gcc -O2 -Wall -Wextra -o "$work/c_loop" "$here/c_loop.c" $(pkg-config --cflags --libs libcurl)

echo "bench: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$port, module $build/vzaps.so" >&2
BENCH="$here" BUILD="$build" WORK="$work" SRV="$srv" BASE="http://127.0.0.1:$port" C_LOOP="$work/c_loop" \
  lua5.4 "$here/driver.lua"
