-- 09: a poll and a vote on it, typing presence, marking as read, and the
-- chat actions: pin, mute, archive, disappearing messages, clear, delete.
--   lua5.4 examples/09-send-poll-reaction-and-chat-actions.lua [phone]
local config = require("config")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Chats demo" }))
local inst = client:instance(created.id, created.token)
local phone = arg[1] or os.getenv("VZAPS_PHONE") or "+5511988887777"

assert(inst.messages:presence({ phone = phone, state = "composing" }))
print("showing 'typing...'")

local poll = assert(inst.messages:send_poll({
  phone = phone, name = "Which day works for the demo?", options = { "Monday", "Wednesday", "Friday" },
  selectable_options_count = 1,
}))
local poll_id = poll.data.message_id
print("poll " .. poll_id)

local vote = assert(inst.messages:poll_vote({ phone = phone, message_id = poll_id, selected_options = { "Friday" } }))
print("voted: " .. table.concat(vote.data.selected_options, ", "))
assert(inst.messages:react({ phone = phone, message_id = poll_id, reaction = "🎉" }))
print("reacted to the poll")
assert(inst.messages:mark_read({ id = { poll_id }, chat = phone }))
print("marked read")

-- Chats are addressed by phone number or JID; the module escapes it (+ → %2B).
local chat = assert(inst.chats:get({ phone = phone }))
print(("chat %s: %d messages"):format(chat.data.id, chat.data.messages_count))

assert(inst.chats:pin({ phone = phone }))
assert(inst.chats:mute({ phone = phone, duration_seconds = 8 * 3600 }))
assert(inst.chats:archive({ phone = phone }))
assert(inst.chats:set_expiration({ phone = phone, expiration = "604800" })) -- 7 days
chat = assert(inst.chats:get({ phone = phone }))
print(("pinned=%s muted=%s archived=%s expiration=%s"):format(
  tostring(chat.data.pinned), tostring(chat.data.muted), tostring(chat.data.archived), tostring(chat.data.expiration)))

assert(inst.chats:unarchive({ phone = phone }))
assert(inst.chats:unmute({ phone = phone }))
assert(inst.chats:unpin({ phone = phone }))
assert(inst.chats:unread({ phone = phone }))
assert(inst.chats:read({ phone = phone }))

local page = assert(inst.chats:list({ page = 1, page_size = 10 }))
print(("%d chat(s) in the list"):format(page.total))

assert(inst.chats:clear({ phone = phone, delete_media = false }))
print("cleared, messages now: " .. assert(inst.chats:get({ phone = phone })).data.messages_count)
assert(inst.chats:delete({ phone = phone, delete_media = true }))
local _, msg = inst.chats:get({ phone = phone })
print("after delete: " .. msg)

assert(inst.instances:delete())
