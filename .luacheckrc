-- luacheck configuration (Debian lua-check): `make lint`. The module's Lua
-- half runs on every Lua from 5.1 to 5.4 and LuaJIT, so it is checked
-- against the common subset; each folder adds the globals it really has.
std = "min"
max_line_length = 140
codes = true
-- `not (x > 0)` is written on purpose: it is also true for NaN.
ignore = { "581" }
-- `table.unpack or unpack`: one or the other exists on every version.
read_globals = { "unpack", table = { fields = { "unpack" } } }

-- src/lua/vzaps: embedded chunks (`local import, core = ...`); ngx.lua reads
-- the `ngx` global of OpenResty when a transport is made.
files["src/lua/vzaps/ngx.lua"] = { read_globals = { "ngx" } }
files["src/lua/vzaps/url.lua"] = { read_globals = { math = { fields = { "type" } } } }

-- spec/: busted's globals; the nginx config's Lua blocks are not Lua files.
files["spec"] = {
  std = "+busted",
  read_globals = { "jit", "loadstring", math = { fields = { "type", "maxinteger", "mininteger" } } },
}

-- emulator/: Lua 5.1 (lua-http + cqueues).
files["emulator"] = { std = "lua51", unused_args = false }

-- scripts/ and examples/: plain scripts for the Lua in use.
files["scripts"] = { std = "max" }
files["examples"] = { std = "max" }
files["bench"] = { std = "max", max_line_length = 180 }
files["fuzz"] = { std = "max" }
