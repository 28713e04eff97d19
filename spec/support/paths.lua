-- spec/support/paths.lua: how a call was sent (docs/design.md, "One request
-- builder"): from C (src/direct_call.c), or by the Lua layer (http.lua:
-- token fetch, retries, custom transports, parallel runs). Told by how
-- many lines of http.lua the call ran: none when C sent it. The mapping is
-- C either way. VZAPS_FAST_PATH=0 (spec/support/helper.lua) sends every
-- call through http.lua.
local M = {}

M.FAST = os.getenv("VZAPS_FAST_PATH") ~= "0"
M.FAST_MAX, M.LUA_MIN = 0, 5

-- Runs fn; returns the number of http.lua lines it ran, then fn's results
-- (errors are raised again). With yieldable = true fn is called without
-- pcall, which Lua 5.1 cannot yield across (inside client:parallel).
function M.module_lines(fn, yieldable)
  local n = 0
  debug.sethook(function()
    if debug.getinfo(2, "S").source == "@vzaps/http.lua" then n = n + 1 end
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

-- Every row is mapped in C and, with a valid token, sent from C.
function M.row_is_fast() return true end

-- Asserts that n http.lua lines mean a call sent from C (or, with
-- VZAPS_FAST_PATH=0, by the Lua layer).
function M.assert_fast(n, what)
  if M.FAST then
    assert(n <= M.FAST_MAX, ("%s: expected a call sent from C, it ran %d lines of http.lua"):format(what or "call", n))
  else
    assert(n >= M.LUA_MIN, ("%s: VZAPS_FAST_PATH=0, expected http.lua to send it, ran %d lines"):format(what or "call", n))
  end
end

function M.assert_lua(n, what)
  assert(n >= M.LUA_MIN, ("%s: expected http.lua to send the call, it ran %d lines"):format(what or "call", n))
end

return M
