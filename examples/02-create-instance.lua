-- 02: create an instance, read it back, rename it, restart it, delete it.
--   lua5.4 examples/02-create-instance.lua
local config = require("config")
local vzaps = require("vzaps")

local client <close> = config.client()

local created = assert(client.instances:create({
  name = "Support",
  webhook = "https://example.com/webhooks/vzaps",
  events_subscribe = { "Message", "Connected", "Disconnected" },
}))
print("created " .. created.id .. " (" .. created.status .. ")")

local got = assert(client.instances:get(created.id))
config.show("read back", { id = got.id, name = got.name, webhook = got.webhook })

-- Instance-scoped calls carry the instance token.
local opts = { instance_token = created.token }
local updated = assert(client.instances:update(created.id, { name = "Commercial Support" }, opts))
print("renamed to " .. updated.name)

local restarted = assert(client.instances:restart(created.id, opts))
print("restart: " .. restarted.status)

-- A scoped handle fills instance_id and instance_token in.
local inst = client:instance(created.id, created.token)
print("scoped get: " .. assert(inst.instances:get()).name)

assert(client.instances:delete(created.id, opts) == true) -- 204: true
local _, msg = client.instances:get(created.id)
print("after delete: " .. msg)
print("vzaps " .. vzaps.VERSION)
