#!/bin/sh
# Entry point for a bare Debian machine: installs make if it is missing,
# then runs `make <target>` (which installs the rest). Usage: sh scripts/make.sh demo|test|check
set -eu
cd "$(dirname "$0")/.."
if ! command -v make >/dev/null 2>&1; then
  sh scripts/deps.sh build
fi
exec make "$@"
