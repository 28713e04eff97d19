-- Builds the module from a checkout, offline, for the Lua LuaRocks targets:
--   luarocks [--lua-version 5.1|5.2|5.3|5.4] make rockspec/vzaps-scm-1.rockspec
rockspec_format = "3.0"
package = "vzaps"
version = "scm-1"
source = {
  url = "git+https://github.com/vzaps/vzaps-lua.git",
}
description = {
  summary = "Lua client for the VZaps WhatsApp API (C module on libcurl)",
  detailed = [[
    Every REST operation of the VZaps public API (instances and billing,
    sessions, messages, webhooks, contacts, groups, users, queues, typebots,
    chatwoot, chats) plus realtime events over WebSocket, from Lua tables to
    the wire and back, with exact integers, retries that never send a message
    twice, and no secrets in errors.
  ]],
  homepage = "https://github.com/vzaps/vzaps-lua",
  license = "MIT",
}
dependencies = {
  "lua >= 5.1",
}
-- Checked by library name: Debian keeps curl.h under a multiarch include
-- directory that LuaRocks does not search; CMake's FindCURL finds it.
external_dependencies = {
  CURL = { library = "curl" },
  WSLAY = { library = "wslay" },     -- realtime framing (Debian libwslay-dev)
  OPENSSL = { library = "crypto" },  -- SHA-1 and random bytes for the WebSocket handshake
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LIBDIR = "$(LIBDIR)",
    LUADIR = "$(LUADIR)",
    CMAKE_C_FLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    -- the editor definitions, in the rock's directory (`luarocks show --rock-dir vzaps`)
    TYPESDIR = "$(PREFIX)/types",
  },
  -- Only Windows links liblua (Debian's LuaRocks has no LUALIB to give).
  platforms = {
    windows = {
      variables = { LUA_LIBDIR = "$(LUA_LIBDIR)", LUALIB = "$(LUALIB)" },
    },
  },
}
