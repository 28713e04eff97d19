-- 11: automate conversations with a Typebot flow, and mirror them into a
-- Chatwoot inbox.
--   lua5.4 examples/11-typebot-and-chatwoot.lua
local config = require("config")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Automation demo" }))
local inst = client:instance(created.id, created.token)

-- Typebot ------------------------------------------------------------------
local bot = assert(inst.typebots:create({
  description = "Sales bot", typebot_url = "https://typebot.example.com", public_id = "sales-flow",
  trigger_type = "keyword", trigger_operator = "equals", trigger_value = "sales",
  expire_in_minutes = 30, keyword_finish = "#exit", listen_from_me = false, ignore_groups = true,
}))
local bot_id = bot.data.id
print("typebot " .. bot_id .. " created")

-- false and 0 are sent as given: this pauses the bot without deleting it.
bot = assert(inst.typebots:update({ typebot_id = bot_id, enabled = false, priority = 0 }))
print("enabled: " .. tostring(bot.data.enabled))
assert(inst.typebots:update({ typebot_id = bot_id, enabled = true }))

-- Start a conversation on this bot, or (no typebot_id) on the trigger rules.
local s1 = assert(inst.typebots:start_session({
  typebot_id = bot_id, phone = "5511988887777", push_name = "Ana", message = "sales",
}))
print("session " .. s1.data.id .. " on " .. s1.data.typebot_id .. ": " .. s1.data.status)
local s2 = assert(inst.typebots:start_session({ phone = "5511977776666", message = "hi" }))
print("session " .. s2.data.id .. " by trigger rules: " .. s2.data.status)

assert(inst.typebots:pause_session({ session = s1.data.id }))
assert(inst.typebots:close_session({ session = s2.data.id }))
for _, s in ipairs(assert(inst.typebots:list_sessions()).data) do
  print(("  %s %s %s"):format(s.id, s.phone, s.status))
end
print(#assert(inst.typebots:list()).data .. " typebot(s)")
assert(inst.typebots:delete({ typebot_id = bot_id }))
print("typebot deleted")

-- Chatwoot -----------------------------------------------------------------
local cw = assert(inst.chatwoot:set({
  enabled = true, url = "https://chatwoot.example.com", account_id = "1", token = "chatwoot-api-token",
  name_inbox = "WhatsApp", sign_msg = true, sign_delimiter = "\n", reopen_conversation = true,
  conversation_pending = false, import_contacts = true, days_limit_import_messages = 7,
  ignore_jids = { "120363000000000000@g.us" },
}))
print("chatwoot inbox " .. cw.data.name_inbox .. ", enabled: " .. tostring(cw.data.enabled))
local job = assert(inst.chatwoot:trigger_import({ what = "contacts" }))
print("import " .. job.data.what .. ": " .. job.data.status .. " (" .. job.data.job_id .. ")")
print("configured: " .. tostring(assert(inst.chatwoot:get()).data.configured))
assert(inst.chatwoot:delete())
print("after delete, configured: " .. tostring(assert(inst.chatwoot:get()).data.configured))

assert(inst.instances:delete())
