-- observe_tables.lua N: what the observe hook's contract costs by itself, in
-- plain Lua 5.4 with no module loaded: per attempt, the two documented
-- tables of a first attempt that succeeded (README "Request hooks": `info`
-- with its eight fields, `info.timings` with five) and the protected call of
-- the hook. The driver runs it with N and with 0 iterations under callgrind,
-- so the difference divided by N is the floor any implementation of the
-- hook pays per attempt (observe.lua builds exactly these).
local n = tonumber(arg[1]) or 0
local seen = 0
local function hook(info) seen = seen + info.attempt end
local pcall = pcall
local op, method, path = "messages.send_text", "POST", "/instances/VZ0000000000005EED0001/chat/send/text"
for i = 1, n do
  local timings = { name_lookup = 1e-6, connect = 2e-6, tls = 0, first_byte = 4e-4, total = 5e-4 }
  local info = {
    op = op, method = method, path = path, attempt = 1, status = 200, kind = "ok", retry = false, timings = timings,
  }
  pcall(hook, info)
  if i < 0 then print(info) end
end
assert(seen == n)
