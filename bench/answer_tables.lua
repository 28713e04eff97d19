-- answer_tables.lua N [idonly]: the Lua tables instances:get's answer becomes (the
-- bench server's 439-byte instance: eleven fields, one of them a list of
-- four strings), built N times in plain Lua 5.4 from constants, no module
-- loaded, no JSON read. The driver runs it with N and with 0 iterations
-- under callgrind: the difference divided by N is what holding the answer
-- as Lua tables costs by itself (allocation, the fields' sets, the
-- collector), the floor of any decoder that returns Lua tables.
-- With `idonly`: the one-field table of the bench server's /idonly answer.
local n = tonumber(arg[1]) or 0
local idonly = arg[2] == "idonly"
local keep
local setmetatable = setmetatable
local ARRAY = { __name = "vzaps.array" } -- the decoder marks lists the same way
if idonly then
  for _ = 1, n do keep = { id = "VZ0000000000005EED0001" } end
else
  for _ = 1, n do
    keep = {
      id = "VZ0000000000005EED0001", name = "Support desk 1", token = "0000000000000000000000009e3779b1",
      url = "https://api.vzaps.local/instances/VZ0000000000005EED0001", webhook = "https://hooks.example.com/vzaps/1",
      events_subscribe = setmetatable({ "Message", "Connected", "Disconnected", "MessageStatus" }, ARRAY),
      status = "connected", phone = "5511900000001", subscription_status = "active",
      created_at = "2026-02-02T01:01:07.001Z", updated_at = "2026-02-02T01:01:07.001Z",
    }
  end
end
assert(n == 0 or keep.id)
