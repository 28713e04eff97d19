-- 10: outgoing messages and chat/group actions wait in queues until VZaps
-- sends them; list the queues, take one message back, purge the rest.
--   lua5.4 examples/10-queues.lua
local config = require("config")
local emu = require("emu")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Queue demo" }))
local inst = client:instance(created.id, created.token)

local ids = {}
for i, phone in ipairs({ "5511900000001", "5511900000002", "5511900000003" }) do
  ids[i] = assert(inst.messages:send_text({ phone = phone, message = "Reminder #" .. i })).data.message_id
end
assert(inst.chats:pin({ phone = "5511900000001" }))
assert(inst.groups:create({ group_name = "Customers", participants = { "5511900000002" } }))

local q = assert(inst.queues:list_messages())
print(("%d messages queued"):format(q.total))
for _, m in ipairs(q.data) do print(("  %s -> %s (%s)"):format(m.message_id, m.phone, m.status)) end
local ops = assert(inst.queues:list_operations())
print(("%d operations queued"):format(ops.total))
for _, op in ipairs(ops.data) do print(("  %s %s %s"):format(op.id, op.type, op.target)) end

-- Changed your mind? Take one message (or one operation) out of the queue.
assert(inst.queues:remove_message({ message_id = ids[2] }))
print("removed " .. ids[2])
assert(inst.queues:remove_operation({ message_id = ops.data[1].id }))
print("removed operation " .. ops.data[1].id)
print(("now %d messages, %d operations"):format(
  assert(inst.queues:list_messages()).total, assert(inst.queues:list_operations()).total))

-- Against the emulator, let "VZaps" deliver what is left; with the real API
-- this happens on its own once the instance is connected.
local processed = emu.process_queue(client, created.id)
if processed then
  print(("delivered %d messages, %d operations"):format(processed.processed_messages, processed.processed_operations))
end

-- Purging empties a queue in one call.
assert(inst.messages:send_text({ phone = "5511900000004", message = "never mind" }))
local purged = assert(inst.queues:purge_messages())
print(("purged %d message(s)"):format(purged.data.removed))
assert(inst.queues:purge_operations())
print(("left: %d messages, %d operations"):format(
  assert(inst.queues:list_messages()).total, assert(inst.queues:list_operations()).total))

assert(inst.instances:delete())
