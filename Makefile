# Wraps CMake and busted. Every target installs the Debian packages it needs
# first (scripts/deps.sh), so a fresh Debian 12 machine can run any of them.
MAKEFLAGS += --no-print-directory
LUA     ?= lua5.4
# The Lua to build and test for (lua5.1, lua5.2, lua5.3, lua5.4, luajit):
# its pkg-config name and its own build directory (lua5.4 keeps `build`).
LUA_NAME := $(notdir $(LUA))
LUA_PKG ?= $(LUA_NAME)
SUFFIX  := $(if $(filter lua5.4,$(LUA_NAME)),,-$(LUA_NAME))
BUILD   ?= build$(SUFFIX)
# The nginx specs load the LuaJIT build into nginx (libnginx-mod-http-lua).
NGINX_BUILD ?= build-luajit
PREFIX  ?= /usr/local
DESTDIR ?=
JOBS    ?= 2
BUSTED   = $(LUA) /usr/bin/busted
SPECS   ?= spec

.PHONY: all build nginx-build test demo check check-asan check-valgrind build-asan build-debug install clean deps docs

all: build

deps:
	@sh scripts/deps.sh test $(LUA_NAME)

# A module loads only into the Lua it was built for (another one fails with
# "undefined symbol: lua_rotate" & co., README "Pitfalls"): say which.
BUILT_FOR = @echo "$(1)/vzaps.so is for $(2) $$(pkg-config --modversion $(3) 2>/dev/null); \
another Lua needs its own build: make LUA=lua5.1|lua5.2|lua5.3|lua5.4|luajit"

build:
	@sh scripts/deps.sh build $(LUA_NAME)
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DLUA_PKG=$(LUA_PKG) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	$(call BUILT_FOR,$(BUILD),$(LUA_NAME),$(LUA_PKG))

# The LuaJIT build that spec/nginx_spec.lua loads into nginx.
nginx-build:
	@sh scripts/deps.sh nginx
	@cmake -S . -B $(NGINX_BUILD) -DCMAKE_BUILD_TYPE=Release -DLUA_PKG=luajit >/dev/null
	@cmake --build $(NGINX_BUILD) -j$(JOBS)
	$(call BUILT_FOR,$(NGINX_BUILD),luajit,luajit)

# The specs start and stop their own emulator (spec/support/emulator.lua)
# and nginx (spec/support/nginx.lua).
test: build nginx-build
	@sh scripts/deps.sh test $(LUA_NAME)
	@VZAPS_NGINX_BUILD=$(NGINX_BUILD) sh scripts/busted.sh "$(LUA)" "$(BUILD)" $(SPECS)

demo: build
	@sh scripts/deps.sh demo
	@sh scripts/demo.sh "$(LUA)" "$(BUILD)"

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer,
# then under valgrind (zero errors, zero definite or indirect leaks). Each
# checked build has a target of its own, so that CI (.ci/run) can build
# every directory first and then run the suites side by side.
check: check-asan check-valgrind

build-asan:
	@sh scripts/deps.sh check $(LUA_NAME)
	@cmake -S . -B build-asan$(SUFFIX) -DCMAKE_BUILD_TYPE=Debug -DVZAPS_SANITIZE=ON -DLUA_PKG=$(LUA_PKG) >/dev/null
	@cmake --build build-asan$(SUFFIX) -j$(JOBS)

build-debug:
	@sh scripts/deps.sh check $(LUA_NAME)
	@cmake -S . -B build-debug$(SUFFIX) -DCMAKE_BUILD_TYPE=Debug -DLUA_PKG=$(LUA_PKG) >/dev/null
	@cmake --build build-debug$(SUFFIX) -j$(JOBS)

check-asan: build-asan nginx-build
	@VZAPS_SANITIZE=1 VZAPS_NGINX_BUILD=$(NGINX_BUILD) sh scripts/busted.sh "$(LUA)" build-asan$(SUFFIX) $(SPECS)

check-valgrind: build-debug nginx-build
	@VZAPS_VALGRIND=1 VZAPS_NGINX_BUILD=$(NGINX_BUILD) sh scripts/busted.sh "$(LUA)" build-debug$(SUFFIX) $(SPECS)

# Into $(DESTDIR)$(PREFIX)/lib/lua/<5.x>/vzaps.so, the module directory of the
# Lua built for (lib/lua/5.1 for LuaJIT).
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

clean:
	rm -rf build build-asan build-debug build-lua5.1 build-lua5.2 build-lua5.3 build-luajit docs/ldoc

# docs/api.md, the README's generated blocks and the editor definitions
# (types/, README "Editor support"), all from the endpoint and option tables.
docs:
	$(LUA) scripts/gen-api.lua docs/api.md README.md
	$(LUA) scripts/gen-defs.lua types

# Reliability (docs/reliability.md): libFuzzer targets (clang) for
# FUZZ_SECONDS each, and a 100 000-call soak against the emulator that
# checks the process RSS stays flat.
FUZZ_SECONDS ?= 60
.PHONY: fuzz soak
fuzz: build
	@sh scripts/deps.sh test
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh fuzz/run.sh $(BUILD)

soak: build
	@sh scripts/deps.sh test
	@$(LUA) -e 'package.cpath="./$(BUILD)/?.so;"..package.cpath' bench/soak.lua

# Benchmarks: a local nginx with fixed answers, the module against a plain C
# libcurl loop and a hand-written Lua loop (bench/run.sh); writes bench/RESULTS.md.
.PHONY: bench
bench: build
	@sh bench/run.sh "$(BUILD)"

# Packaging, docs and lint (README "Development").
.PHONY: check-version lint ldoc format
# The version is VZ_VERSION in src/vzaps.h; CMake reads it, the rockspecs must agree.
check-version:
	@$(LUA) scripts/check-version.lua

lint:
	@sh scripts/deps.sh lint
	@luacheck -q .

# LDoc (config.ld) into docs/ldoc/; lua5.1 for lua-markdown.
ldoc:
	@sh scripts/deps.sh docs
	@lua5.1 /usr/bin/ldoc . >/dev/null && echo "docs/ldoc/index.html"

# clang-format (.clang-format) on the C core; src/ws* belong to the realtime work.
FORMAT_FILES = $(wildcard src/*.c src/*.h fuzz/*.c fuzz/*.h bench/*.c)
format:
	@sh scripts/deps.sh format
	@clang-format -i --style=file $(FORMAT_FILES)
