-- §4.9 Queues: sent messages wait in the message queue (status "queued")
-- until POST /__emu/instances/{id}/process-queue; chat and group actions wait
-- in the operations queue the same way.
local json = require("lib.json")
local api = require("lib.api")

local function queued_messages(inst)
  local out = json.array()
  for _, mid in ipairs(inst.queue) do
    local m = inst.messages[mid]
    if m then
      out[#out + 1] = { id = m.id, message_id = m.id, type = m.type, phone = m.phone,
                        status = m.status, content = m.content, created_at = m.created_at }
    end
  end
  return out
end

local function remove_message(req)
  local inst = req.instance
  local id = req.params.message_id
  for i, mid in ipairs(inst.queue) do
    if mid == id then
      table.remove(inst.queue, i)
      local m = inst.messages[id]
      if m then m.status = "canceled" end
      return api.ok({ id = id, removed = true })
    end
  end
  api.not_found("queued message not found")
end

local function remove_operation(req)
  local inst = req.instance
  local id = req.params.message_id
  for i, op in ipairs(inst.operations) do
    if op.id == id then
      table.remove(inst.operations, i)
      return api.ok({ id = id, removed = true })
    end
  end
  api.not_found("queued operation not found")
end

return function(r)
  r:get("/instances/:id/queue/messages", function(req)
    local out = queued_messages(req.instance)
    return api.ok(out, { total = #out })
  end)
  r:delete("/instances/:id/queue/messages", function(req)
    local inst = req.instance
    local n = #inst.queue
    for _, mid in ipairs(inst.queue) do
      if inst.messages[mid] then inst.messages[mid].status = "canceled" end
    end
    inst.queue = {}
    return api.ok({ removed = n })
  end)
  r:delete("/instances/:id/queue/messages/:message_id", remove_message)
  r:get("/instances/:id/queue/operations", function(req)
    local out = json.array(api.copy(req.instance.operations))
    return api.ok(out, { total = #out })
  end)
  r:delete("/instances/:id/queue/operations", function(req)
    local n = #req.instance.operations
    req.instance.operations = {}
    return api.ok({ removed = n })
  end)
  r:delete("/instances/:id/queue/operations/:message_id", remove_operation)
end
