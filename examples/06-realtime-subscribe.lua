-- 06: realtime events over WebSocket: subscribe, send ourselves a message
-- through REST, print the Message event, close.
--   lua5.4 examples/06-realtime-subscribe.lua
-- Settings: VZAPS_BASE_URL, VZAPS_REALTIME_URL, VZAPS_CLIENT_TOKEN,
-- VZAPS_CLIENT_SECRET (defaults: the local emulator, see config.lua).
local config = require("config")

local client <close> = config.client()

local inst = assert(client.instances:create({ name = "Realtime demo" }))
print("created " .. inst.id)

-- The first connection is made here; a failure comes back as nil, msg, err.
local sub = assert(client.events:subscribe({
  instance_id = inst.id, instance_token = inst.token,
  events = { "Message" },
  max_retries = 3,
}))

sub:on_open(function() print("realtime connection open") end)
sub:on_close(function(code, reason) print("realtime connection closed: " .. code .. " " .. (reason or "")) end)
sub:on_error(function(err) print("realtime error: " .. tostring(err)) end)

sub:on("Message", function(event)
  print(("event %s: %s for %s at %s"):format(event.id, event.type, event.instance_id, event.created_at))
  config.show("  data", event.data)
  sub:close() -- acked first, then the close frame goes out; run() returns true
end)

assert(client.messages:send_text({
  instance_id = inst.id, instance_token = inst.token, phone = "5511999990000", message = "hello",
}))

assert(sub:run())
print("last event acked: " .. sub.last_event_id)

assert(client.instances:delete(inst.id, { instance_token = inst.token }))
print("deleted " .. inst.id)
