-- 05: point an instance's webhook at your server, pick the events, and
-- inspect / replay the deliveries it logged.
--   lua5.4 examples/05-configure-webhook.lua
local config = require("config")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Webhook demo" }))
local inst = client:instance(created.id, created.token)

local cfg = assert(inst.webhooks:set({
  webhook_url = os.getenv("VZAPS_WEBHOOK_URL") or "https://example.com/webhooks/vzaps",
  events = { "Message", "Connected", "Disconnected" },
}))
print(("webhook: %s, events: %s"):format(cfg.data.webhook_url, table.concat(cfg.data.events, ", ")))

local got = assert(inst.webhooks:get())
print("read back, enabled: " .. tostring(got.data.enabled))

-- Something to deliver: an outgoing message raises a Message event.
local sent = assert(inst.messages:send_text({ phone = "5511988887777", message = "Webhook test" }))
print("sent " .. sent.data.message_id)

local logs = assert(inst.webhooks:search_logs({ event = "Message" }))
print(("%d Message deliveries logged"):format(logs.total))
for _, log in ipairs(logs.data) do
  print(("  %s  %s  %s  attempts=%d"):format(log.id, log.event, log.status, log.attempts))
end

if logs.data[1] then
  local id = logs.data[1].id
  local one = assert(inst.webhooks:get_log({ log_id = id }))
  print("log " .. id .. " went to " .. one.data.url)
  local again = assert(inst.webhooks:retry_log({ log_id = id }))
  print("retried: status " .. again.data.status .. ", attempts " .. again.data.attempts)
end

-- A log id that does not exist is a normal failure, not an exception.
local _, msg = inst.webhooks:get_log({ log_id = "whl_missing" })
print("missing log: " .. msg)

assert(inst.instances:delete())
