-- common.lua: what the Lua loops share: arguments, clocks, memory readings
-- and the RESULT line the driver parses (same fields as bench/c_loop.c).
local socket = require("socket")
local M = {}

M.INSTANCE_ID = "VZ0000000000005EED0001"
M.INSTANCE_TOKEN = "0000000000000000000000009e3779b1"
M.PHONE, M.MESSAGE = "5511999990000", "Hello from the bench"
M.CLIENT_TOKEN, M.CLIENT_SECRET = "bench-client", "bench-secret"

M.wall = socket.gettime
M.cpu = os.clock -- process CPU time, user + sys (clock(3))

-- A /proc/self/status field in KiB: "VmRSS", "VmHWM".
function M.status_kb(field)
  local f = io.open("/proc/self/status")
  local text = f:read("a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end

-- The size of a file in bytes.
function M.file_size(path)
  local f = assert(io.open(path, "rb"))
  local n = f:seek("end")
  f:close()
  return n
end

-- Runs call() warmup times, then n timed times, and prints the RESULT line.
-- call returns the size of the body it received.
function M.run(call, warmup, n)
  local bytes = 0
  for _ = 1, warmup do bytes = call() end
  local t0, c0 = M.wall(), M.cpu()
  for _ = 1, n do bytes = call() end
  local t1, c1 = M.wall(), M.cpu()
  print(string.format("RESULT calls=%d wall=%.6f cpu=%.6f maxrss_kb=%d bytes=%d",
    n, t1 - t0, c1 - c0, M.status_kb("VmHWM"), bytes))
end

-- "http://127.0.0.1:8080/rows1000" -> "127.0.0.1", 8080, "/rows1000"
function M.split_url(base)
  local host, port, prefix = base:match("^http://([^:/]+):(%d+)(.*)$")
  return host, tonumber(port), prefix
end

return M
