-- spec/support/paths.lua: which path an endpoint call took (docs/design.md
-- "The fast path"), told by how many lines of the module's own Lua it ran:
-- a call on the C fast path runs the method's two-line wrapper, one on the
-- Lua path some sixty lines. VZAPS_FAST_PATH=0 sends every call through Lua.
local M = {}

M.FAST = os.getenv("VZAPS_FAST_PATH") ~= "0"
M.FAST_MAX, M.LUA_MIN = 5, 20

-- Runs fn; returns the number of module lines it ran, then fn's results
-- (errors are raised again). With yieldable = true fn is called without
-- pcall, which Lua 5.1 cannot yield across (inside client:parallel).
function M.module_lines(fn, yieldable)
  local n = 0
  debug.sethook(function()
    if debug.getinfo(2, "S").source:sub(1, 7) == "@vzaps/" then n = n + 1 end
  end, "l")
  local ok, a, b, c
  if yieldable then
    ok, a, b, c = true, fn()
  else
    ok, a, b, c = pcall(fn)
  end
  debug.sethook()
  if not ok then error(a, 0) end
  return n, a, b, c
end

-- Whether a row of endpoints.lua is one the fast path covers.
function M.row_is_fast(row)
  return not (row.query or row.prepare or row.without or row.raw)
end

-- Asserts that n module lines mean the fast path (or, with
-- VZAPS_FAST_PATH=0, the Lua path).
function M.assert_fast(n, what)
  if M.FAST then
    assert(n <= M.FAST_MAX, ("%s: expected the fast path, the call ran %d module lines"):format(what or "call", n))
  else
    assert(n >= M.LUA_MIN, ("%s: VZAPS_FAST_PATH=0, expected the Lua path, ran %d lines"):format(what or "call", n))
  end
end

function M.assert_lua(n, what)
  assert(n >= M.LUA_MIN, ("%s: expected the Lua path, the call ran %d module lines"):format(what or "call", n))
end

return M
