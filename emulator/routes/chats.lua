-- §4.12 Chats. A chat is created when a message is sent to a phone / JID.
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")

local M = {}

-- Find or create the chat for phone; called by the message routes.
function M.ensure(inst, phone)
  local key = api.chat_key(phone)
  local chat = inst.chats[key]
  if not chat then
    local now = state.iso()
    chat = {
      id = key, phone = key, jid = api.jid(key),
      name = json.null, is_group = key:find("@g%.us$") ~= nil,
      archived = false, pinned = false, muted = false, mute_until = json.null,
      marked_unread = false, unread_count = 0, expiration = json.null,
      messages_count = 0, last_message_id = json.null, last_message_at = json.null,
      created_at = now, updated_at = now, created_ms = state.now_ms(),
    }
    inst.chats[key] = chat
  end
  return chat
end

function M.add_message(inst, phone, msg)
  local chat = M.ensure(inst, phone)
  chat.messages_count = chat.messages_count + 1
  chat.last_message_id = msg.id
  chat.last_message_at = msg.created_at
  chat.updated_at = msg.created_at
  chat.archived = false  -- sending to an archived chat unarchives it
  return chat
end

local function view(chat)
  local v = {}
  for k, x in pairs(chat) do if k ~= "created_ms" then v[k] = x end end
  return v
end

local function find(req)
  local chat = req.instance.chats[api.chat_key(req.params.phone)]
  if not chat then api.not_found("chat not found") end
  return chat
end

local function list(req)
  local page, size = api.paging(req)
  local chats = {}
  for _, c in pairs(req.instance.chats) do chats[#chats + 1] = c end
  table.sort(chats, function(a, b)
    if a.pinned ~= b.pinned then return a.pinned end
    if a.updated_at ~= b.updated_at then return a.updated_at > b.updated_at end
    return a.id < b.id
  end)
  local views = {}
  for i, c in ipairs(chats) do views[i] = view(c) end
  return api.paged(views, page, size)
end

-- action(chat, body) mutates the chat
local function action(kind, fn)
  return function(req)
    local chat = find(req)
    local b = api.body(req)
    fn(chat, b, req)
    chat.updated_at = state.iso()
    api.operation(req.instance, "chat." .. kind, chat.id)
    return api.ok(view(chat))
  end
end

local function set(field, value)
  return function(chat) chat[field] = value end
end

setmetatable(M, { __call = function(_, r)
  r:get("/instances/:id/chats", list)
  r:get("/instances/:id/chats/:phone", function(req) return api.ok(view(find(req))) end)
  r:post("/instances/:id/chats/:phone/archive", action("archive", set("archived", true)))
  r:post("/instances/:id/chats/:phone/unarchive", action("unarchive", set("archived", false)))
  r:post("/instances/:id/chats/:phone/mute", action("mute", function(chat, b)
    local secs = api.optional(b, "duration_seconds", "integer")
    if secs and secs < 0 then api.bad("duration_seconds must be >= 0") end
    chat.muted = true
    chat.mute_until = (secs and secs > 0) and state.iso(state.now_ms() + secs * 1000) or json.null
  end))
  r:post("/instances/:id/chats/:phone/unmute", action("unmute", function(chat)
    chat.muted = false; chat.mute_until = json.null
  end))
  r:post("/instances/:id/chats/:phone/pin", action("pin", set("pinned", true)))
  r:post("/instances/:id/chats/:phone/unpin", action("unpin", set("pinned", false)))
  r:post("/instances/:id/chats/:phone/read", action("read", function(chat)
    chat.unread_count = 0; chat.marked_unread = false
  end))
  r:post("/instances/:id/chats/:phone/unread", action("unread", set("marked_unread", true)))
  r:post("/instances/:id/chats/:phone/clear", action("clear", function(chat, b)
    chat.delete_media = api.optional(b, "delete_media", "boolean") or false
    chat.messages_count = 0
    chat.last_message_id = json.null
    chat.cleared_at = state.iso()
  end))
  r:put("/instances/:id/chats/:phone/expiration", action("expiration", function(chat, b)
    local e = b.expiration
    if type(e) == "number" then e = string.format("%d", e) end
    chat.expiration = api.required({ expiration = e }, "expiration", "string")
  end))
  r:delete("/instances/:id/chats/:phone", function(req)
    local chat = find(req)
    local b = api.body(req)
    local dm = api.optional(b, "delete_media", "boolean") or false
    req.instance.chats[chat.id] = nil
    api.operation(req.instance, "chat.delete", chat.id)
    return api.ok({ id = chat.id, phone = chat.phone, deleted = true, delete_media = dm })
  end)
end })

return M
