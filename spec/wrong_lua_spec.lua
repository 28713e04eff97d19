-- spec/wrong_lua_spec.lua: a module built for another Lua (issue "What a new
-- user trips over, round two", item 6). The loader fails before the module
-- runs, so the help is outside it: the README's pitfalls name the symbol
-- each other interpreter reports for the build under test, with the fix,
-- and `make` says which Lua a build is for.
local compat = require("spec.support.compat")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

-- The build under test: the first existing vzaps.so of package.cpath.
local function build_so()
  for pattern in package.cpath:gmatch("[^;]+") do
    local path = pattern:gsub("%?", "vzaps")
    local f = io.open(path, "rb")
    if f then f:close() return path end
  end
end

local function installed(cmd) return run("command -v " .. cmd) ~= "" end

local pitfalls = read("README.md"):match("\n## Pitfalls\n(.-)\n## "):gsub("%s+", " ")

describe("a module built for another Lua", function()
  local so = assert(build_so(), "no vzaps.so on package.cpath")
  local mine = compat.interpreter:match("[^/]+$")
  -- 5.1 and LuaJIT builds load in each other: neither is "another Lua" there.
  local same = { ["lua5.1"] = { luajit = true }, luajit = { ["lua5.1"] = true } }

  for _, other in ipairs({ "lua5.1", "lua5.2", "lua5.3", "lua5.4", "luajit" }) do
    if other ~= mine and not (same[mine] and same[mine][other]) then
      local name = "fails in " .. other .. " with a symbol the README's pitfalls name, with the fix"
      if not installed(other) then
        pending(name .. " [" .. other .. " is not installed]")
      else
        it(name, function()
          local out = run(("env LUA_CPATH=%s %s -e 'require(\"vzaps\")'")
            :format(sh_quote(so:gsub("vzaps%.so$", "?.so")), other))
          local symbol = out:match("undefined symbol: ([%w_]+)")
          assert(symbol, "expected an undefined symbol, got: " .. out)
          assert.matches("`undefined symbol: " .. symbol .. "`", pitfalls, 1, true)
        end)
      end
    end
  end

  it("the pitfall gives the fix, and make says which Lua a build is for", function()
    assert.matches("`make LUA=lua5.1`", pitfalls, 1, true)
    for _, lua in ipairs({ "lua5.1", "lua5.3", "luajit" }) do
      local out = run("env -u LD_PRELOAD make -n build LUA=" .. lua) -- no sanitizer runtime in make
      assert.matches("vzaps.so is for " .. lua .. " ", out, 1, true)
      assert.matches("make LUA=lua5.1|lua5.2|lua5.3|lua5.4|luajit", out, 1, true)
    end
  end)
end)
