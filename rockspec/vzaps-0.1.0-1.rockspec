-- The release rockspec: luarocks install vzaps (or luarocks make this file
-- from the v0.1.0 tag). Its version must be VZ_VERSION of src/vzaps.h
-- (`make check-version`, spec/version_spec.lua).
rockspec_format = "3.0"
package = "vzaps"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/vzaps/vzaps-lua.git",
  tag = "v0.1.0",
}
description = {
  summary = "Lua client for the VZaps WhatsApp API (C module on libcurl)",
  detailed = [[
    Every REST operation of the VZaps public API (instances and billing,
    sessions, messages, webhooks, contacts, groups, users, queues, typebots,
    chatwoot, chats) plus realtime events over WebSocket, from Lua tables to
    the wire and back, with exact integers, retries that never send a message
    twice, and no secrets in errors. Lua 5.1 to 5.4 and LuaJIT; in OpenResty
    a cosocket transport keeps calls from blocking the worker.
  ]],
  homepage = "https://github.com/vzaps/vzaps-lua",
  license = "MIT",
  labels = { "whatsapp", "http", "api", "openresty" },
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
