-- 03: billing: start a subscription checkout, resume it, cancel it.
--   lua5.4 examples/03-instance-subscription.lua
local config = require("config")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Billing demo" }))
local opts = { instance_token = created.token }

local checkout = assert(client.instances:subscribe(created.id, nil, opts))
print(("subscribe: mode=%s session=%s"):format(checkout.mode, checkout.session_id))
print("  pay at " .. checkout.url)

local direct = assert(client.instances:subscribe(created.id, { billing_type = "direct" }, opts))
print("direct subscription: " .. direct.mode .. " " .. direct.subscription_id)

local resumed = assert(client.instances:resume_subscription(created.id, opts))
print("resume: " .. resumed.status)

local cancelled = assert(client.instances:cancel(created.id, opts))
print("cancel: " .. cancelled.message)

local after = assert(client.instances:get(created.id))
print("subscription status now: " .. after.subscription_status)
assert(client.instances:delete(created.id, opts))
