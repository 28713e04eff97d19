# Wraps CMake and busted. Every target installs the Debian packages it needs
# first (scripts/deps.sh), so a fresh Debian 12 machine can run any of them.
MAKEFLAGS += --no-print-directory
LUA     ?= lua5.4
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
JOBS    ?= 2
BUSTED   = $(LUA) /usr/bin/busted
SPECS   ?= spec

.PHONY: all build test demo check check-asan check-valgrind install clean deps docs

all: build

deps:
	@sh scripts/deps.sh test

build:
	@sh scripts/deps.sh build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The specs start and stop their own emulator (spec/support/emulator.lua).
test: build
	@sh scripts/deps.sh test
	@sh scripts/busted.sh "$(LUA)" "$(BUILD)" $(SPECS)

demo: build
	@sh scripts/deps.sh demo
	@sh scripts/demo.sh "$(LUA)" "$(BUILD)"

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer,
# then under valgrind (zero errors, zero definite or indirect leaks).
check: check-asan check-valgrind

check-asan:
	@sh scripts/deps.sh check
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVZAPS_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	@VZAPS_SANITIZE=1 sh scripts/busted.sh "$(LUA)" build-asan $(SPECS)

check-valgrind:
	@sh scripts/deps.sh check
	@cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-debug -j$(JOBS)
	@VZAPS_VALGRIND=1 sh scripts/busted.sh "$(LUA)" build-debug $(SPECS)

install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

clean:
	rm -rf build build-asan build-debug

docs:
	$(LUA) scripts/gen-api.lua docs/api.md
