#!/bin/sh
# Runs every example in examples/ against a fresh local emulator, so no
# account is needed. Usage: scripts/demo.sh LUA BUILD_DIR
set -eu
lua="$1"; build="$2"
root=$(pwd)
port_file=$(mktemp); rm -f "$port_file"
lua5.1 emulator/main.lua --port 0 --port-file "$port_file" --quiet &
emu=$!
trap 'kill $emu 2>/dev/null || true; rm -f "$port_file"' EXIT INT TERM
i=0
while [ ! -s "$port_file" ]; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "the emulator did not start" >&2; exit 1; }
  sleep 0.02
done
port=$(cat "$port_file")
export VZAPS_BASE_URL="http://127.0.0.1:$port"
export VZAPS_REALTIME_URL="ws://127.0.0.1:$port"
export VZAPS_CLIENT_TOKEN="emu-client-token" VZAPS_CLIENT_SECRET="emu-client-secret"
export LUA_CPATH="$root/$build/?.so;;"
export LUA_PATH="$root/examples/?.lua;;"
# examples/NN-name.lua, and examples/NN-name/main.lua for one with files of its own
for ex in $(ls examples/[0-9]*.lua examples/[0-9]*/main.lua 2>/dev/null | sort); do
  echo "==> $ex"
  "$lua" "$ex"
  echo
done
echo "demo: every example ran against the emulator at $VZAPS_BASE_URL"
