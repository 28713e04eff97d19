-- spec/support/compat.lua: what the Lua running the specs can offer, so that
-- specs stay identical across Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT and only what
-- a version cannot do is skipped, visibly (busted's `pending`, with the
-- reason), never passed silently.
local M = {}

-- busted puts it/pending/assert in each spec file's environment, not in
-- _G; its module table offers the same API to helpers like this one.
local busted = require("busted")
local jit = rawget(_G, "jit")

-- Lua 5.3+ has an integer subtype (math.type); 5.1, 5.2 and LuaJIT have
-- doubles only, exact up to 2^53.
M.integers = math.type ~= nil
-- `local x <close>` exists from Lua 5.4 on.
M.close = _VERSION == "Lua 5.4" and not jit
-- `goto` exists in 5.2+ and LuaJIT.
M.goto_ = _VERSION ~= "Lua 5.1" or jit ~= nil
M.luajit = jit ~= nil
-- The opposite of integers: every number is a double.
M.doubles = not M.integers
M.name = jit and jit.version or _VERSION

-- The interpreter command running the specs, for child processes.
M.interpreter = os.getenv("VZAPS_LUA")
  or (jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+")))

M.unpack = table.unpack or rawget(_G, "unpack")
-- load() of a string: 5.1 has loadstring for that.
M.load = function(src, name)
  if _VERSION == "Lua 5.1" and not jit then return loadstring(src, name) end
  return load(src, name)
end

local REASON = {
  doubles = "only for versions without integers (" .. M.name .. " has them)",
  integers = "needs Lua 5.3+ integers (" .. M.name .. " has doubles only, exact up to 2^53)",
  close = "needs Lua 5.4 (`<close>` variables)",
  goto_ = "needs `goto` (Lua 5.2+ or LuaJIT)",
}

-- it_if("integers", name, fn): an `it` where the feature exists (or when
-- feature is nil), a visible pending saying why elsewhere.
function M.it_if(feature, name, fn)
  if feature == nil or M[feature] then
    return busted.it(name, fn)
  end
  return busted.pending(name .. " [" .. REASON[feature] .. "]")
end

-- A number that JSON wrote as an integer: on 5.3+ it is a Lua integer; on
-- the doubles-only versions the strongest check left is that it is integral.
function M.assert_integer(v, msg)
  local assert = busted.assert
  if M.integers then
    assert.equals("integer", math.type(v), msg)
  else
    assert.is_number(v, msg)
    assert.equals(math.floor(v), v, msg)
  end
end

-- A number that JSON wrote as a float: a Lua float on 5.3+, a number before.
function M.assert_float(v, msg)
  local assert = busted.assert
  if M.integers then
    assert.equals("float", math.type(v), msg)
  else
    assert.is_number(v, msg)
  end
end

return M
