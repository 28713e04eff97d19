-- spec/support/hostile_ws.lua: starts a hostile realtime server
-- (spec/support/hostile_ws_server.lua, its own Lua 5.1 process) on a free
-- 127.0.0.1 port for one test.
local socket = require("socket")

local M = {}

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/support/[^/]+$") or "."

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Starts the server in mode (see the server's file); returns its ws:// URL
-- and a function that stops it. It also exits by itself after 600 s.
function M.start(mode)
  local port_file = os.tmpname()
  os.remove(port_file)
  -- LD_PRELOAD is dropped so a sanitizer runtime preloaded into the spec
  -- process does not follow the server.
  local cmd = ("env -u LD_PRELOAD lua5.1 %s %s %s 600 >/dev/null 2>&1 & echo $!")
    :format(sh_quote(ROOT .. "/spec/support/hostile_ws_server.lua"), mode, sh_quote(port_file))
  local p = assert(io.popen(cmd))
  local pid = assert(tonumber(p:read("*l")))
  p:close()
  local port
  local deadline = socket.gettime() + 10
  repeat
    local f = io.open(port_file)
    if f then port = tonumber(f:read("*a")); f:close() end
    if not port then socket.sleep(0.02) end
  until port or socket.gettime() > deadline
  os.remove(port_file)
  assert(port, "the hostile server did not start")
  return "ws://127.0.0.1:" .. port, function() os.execute("kill " .. pid .. " 2>/dev/null") end
end

return M
