-- 07: send a text message, then edit it, react to it and delete it.
--   lua5.4 examples/07-send-text-message.lua [phone]
local config = require("config")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Text demo" }))
local inst = client:instance(created.id, created.token)
local phone = arg[1] or os.getenv("VZAPS_PHONE") or "+5511988887777"

-- The long form names the instance in every request table ...
local sent = assert(client.messages:send_text({
  instance_id = created.id, instance_token = created.token,
  phone = phone, message = "Hello from Lua!",
}))
local id = sent.data.message_id
print(("sent %s to %s: %s"):format(id, sent.data.phone, sent.data.status))

-- ... the scoped handle does it for you.
local edited = assert(inst.messages:edit({ message_id = id, message = "Hello from Lua 5.4!" }))
print("edited: " .. edited.data.message)

local reacted = assert(inst.messages:react({ phone = phone, message_id = id, reaction = "👍" }))
print("reacted with " .. reacted.data.reaction)
assert(inst.messages:remove_reaction({ phone = phone, message_id = id }))
print("reaction removed")

-- A missing required field is a programming error: it raises at once and
-- nothing is sent.
local ok, err = pcall(function() inst.messages:send_text({ phone = phone }) end)
print("without a message: " .. (ok and "sent?!" or err))

local deleted = assert(inst.messages:delete({ message_id = id }))
print("deleted: " .. deleted.data.status)
local _, msg = inst.messages:edit({ message_id = id, message = "too late" })
print("editing it now: " .. msg)

assert(inst.instances:delete())
