-- Internal event bus. Routes call events.emit(instance_id, type, data) when
-- something a client could observe happens (message sent, session connected /
-- disconnected, ...). Listeners (webhook delivery, routes/webhooks.lua; the
-- realtime /events/ws endpoint, lib/realtime.lua) subscribe with events.listen(fn).
local state = require("lib.state")

local M = {}
M.listeners = {}
M.MAX_HISTORY = 1000

-- fn(envelope, instance) is called for every event
function M.listen(fn)
  M.listeners[#M.listeners + 1] = fn
end

function M.emit(instance_id, event_type, data)
  local inst = state.instances[instance_id]
  local env = {
    id = "evt_" .. string.format("%08d", state.next("event")),
    type = event_type,
    instance_id = instance_id,
    created_at = state.iso(),
    data = data or {},
  }
  if inst then
    local h = inst.events_history
    if not h then h = {}; inst.events_history = h end
    h[#h + 1] = env
    if #h > M.MAX_HISTORY then table.remove(h, 1) end
  end
  for _, fn in ipairs(M.listeners) do fn(env, inst) end
  return env
end

return M
