-- spec/support/surface.lua: the public methods of a live client, for the
-- specs that check each has its documentation (docs_spec: LDoc comments;
-- definitions_spec: editor definitions).
local read = require("spec.support.files").must_read

local M = {}

-- name -> function of every method of client c (its shared methods table).
function M.client_methods(c)
  -- the client's methods are upvalue 1 of its __index (src/client.c)
  local _, methods = debug.getupvalue(getmetatable(c).__index, 1)
  if type(methods) == "table" then return methods end
  -- Lua 5.1 hides C upvalues from Lua: take the names the sources
  -- register (methods.x in the Lua half, the C methods of client.c)
  -- and keep those the client really answers with a function.
  methods = {}
  local p = assert(io.popen("ls src/lua/vzaps/*.lua"))
  for path in p:lines() do
    for name in read(path):gmatch("methods%.([%w_]+)%s*=") do methods[name] = c[name] end
    for name in read(path):gmatch("function%s+methods%.([%w_]+)%s*%(") do methods[name] = c[name] end
  end
  p:close()
  for name in read("src/client.c"):gmatch('lua_setfield%(L, %-2, "([%w_]+)"%)') do
    if name:sub(1, 2) ~= "__" then methods[name] = c[name] end
  end
  return methods
end

-- The client's own members (its resources, `events`, `auth`): the table
-- behind the userdata (a user value on 5.2+, an environment on 5.1/LuaJIT).
function M.client_members(c)
  local get = rawget(debug, "getuservalue") or rawget(debug, "getfenv")
  local members = get(c)
  assert(type(members) == "table", "no member table behind the client")
  return members
end

-- name -> function of the methods an object's metatable offers through a
-- table __index (metamethods left out).
function M.methods_of(obj)
  local mt = getmetatable(obj)
  local index = type(mt) == "table" and mt.__index
  local out = {}
  if type(index) ~= "table" then return out end
  for k, v in pairs(index) do
    if type(k) == "string" and type(v) == "function" and k:sub(1, 2) ~= "__" then out[k] = v end
  end
  return out
end

return M
