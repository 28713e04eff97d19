-- §4.4 Messages: /instances/{id}/chat/...
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")
local events = require("lib.events")
local chats = require("routes.chats")

local req_, opt = api.required, api.optional

local function each(list, name, fn)
  for i, item in ipairs(list) do
    local label = name .. "[" .. i .. "]"
    if not json.is_object(item) then api.bad(label .. " must be an object") end
    fn(item, label)
  end
end

local function strings(list, name)
  for i, v in ipairs(list) do
    if type(v) ~= "string" then api.bad(name .. "[" .. i .. "] must be a string") end
  end
end

-- Validators per send type (phone! is checked for all of them).
local SEND = {
  text = function(b) req_(b, "message", "string") end,
  image = function(b) req_(b, "image", "string"); opt(b, "caption", "string") end,
  audio = function(b) req_(b, "audio", "string"); opt(b, "ptt", "boolean") end,
  document = function(b)
    req_(b, "document", "string"); opt(b, "file_name", "string"); opt(b, "caption", "string")
  end,
  video = function(b) req_(b, "video", "string"); opt(b, "caption", "string") end,
  sticker = function(b) req_(b, "sticker", "string") end,
  gif = function(b) req_(b, "gif", "string"); opt(b, "caption", "string") end,
  location = function(b)
    local lat, lng = req_(b, "latitude", "number"), req_(b, "longitude", "number")
    if lat < -90 or lat > 90 then api.bad("latitude must be between -90 and 90") end
    if lng < -180 or lng > 180 then api.bad("longitude must be between -180 and 180") end
    opt(b, "name", "string"); opt(b, "address", "string")
  end,
  contact = function(b) opt(b, "contact_name", "string"); opt(b, "contact_phone", "string") end,
  buttons = function(b)
    req_(b, "message", "string")
    each(req_(b, "buttons", "array"), "buttons", function(btn, l)
      req_(btn, "id", "string", l .. ".id"); req_(btn, "text", "string", l .. ".text")
    end)
    opt(b, "footer", "string")
  end,
  list = function(b)
    for _, f in ipairs({ "title", "description", "button_text" }) do req_(b, f, "string") end
    each(req_(b, "sections", "array"), "sections", function(sec, l)
      req_(sec, "title", "string", l .. ".title")
      each(req_(sec, "rows", "array", l .. ".rows"), l .. ".rows", function(row, rl)
        req_(row, "id", "string", rl .. ".id"); req_(row, "title", "string", rl .. ".title")
        opt(row, "description", "string", rl .. ".description")
      end)
    end)
    opt(b, "footer", "string")
  end,
  link = function(b)
    for _, f in ipairs({ "message", "link_url", "title", "link_description" }) do
      req_(b, f, "string")
    end
    opt(b, "jpeg_thumbnail", "string")
  end,
  poll = function(b)
    req_(b, "name", "string")
    local options = req_(b, "options", "array")
    strings(options, "options")
    if #options < 2 then api.bad("options must have at least 2 entries") end
    local n = opt(b, "selectable_options_count", "integer")
    if n and (n < 0 or n > #options) then
      api.bad("selectable_options_count must be between 0 and the number of options")
    end
    opt(b, "hide_participant_names", "boolean"); opt(b, "end_time", "string")
    opt(b, "allow_add_option", "boolean")
  end,
}

local function phone_of(b)
  local p = b.phone
  if type(p) == "number" then p = string.format("%d", p) end
  return req_({ phone = p }, "phone", "string")
end

local function new_message_id()
  return "3EB0" .. state.hex(8):upper()
end

local function message_event(inst, msg)
  events.emit(inst.id, "Message", {
    type = "message",
    event = {
      id = msg.id, type = msg.type, from_me = true,
      chat = api.jid(msg.phone), phone = msg.phone,
      content = msg.content, timestamp = msg.timestamp,
    },
  })
end

local function send(kind)
  return function(req)
    local inst = req.instance
    local b = api.body(req)
    local phone = phone_of(b)
    SEND[kind](b)
    local content = {}
    for k, v in pairs(b) do if k ~= "phone" then content[k] = v end end
    local now = state.now_ms()
    local msg = {
      id = new_message_id(), type = kind, phone = phone, content = content,
      status = "queued", from_me = true,
      timestamp = math.floor(now / 1000), created_at = state.iso(now),
      reactions = {}, votes = {},
    }
    inst.messages[msg.id] = msg
    inst.queue[#inst.queue + 1] = msg.id
    chats.add_message(inst, phone, msg)
    message_event(inst, msg)
    return api.ok({ message_id = msg.id, status = "queued", phone = phone,
                    timestamp = msg.timestamp })
  end
end

local function find(inst, id)
  local msg = inst.messages[id]
  if not msg then api.not_found("message not found") end
  return msg
end

local function edit(req)
  local msg = find(req.instance, req.params.message_id)
  local b = api.body(req)
  local text = req_(b, "message", "string")
  msg.content.message = text
  msg.edited = true
  msg.edited_at = state.iso()
  return api.ok({ message_id = msg.id, status = "edited", message = text,
                  timestamp = math.floor(state.now_ms() / 1000) })
end

local function delete(req)
  local inst = req.instance
  local msg = find(inst, req.params.message_id)
  api.body(req)  -- pass-through; must still be JSON when present
  inst.messages[msg.id] = nil
  for i, mid in ipairs(inst.queue) do
    if mid == msg.id then table.remove(inst.queue, i) break end
  end
  return api.ok({ message_id = msg.id, status = "deleted" })
end

local function react(req)
  local inst = req.instance
  local b = api.body(req)
  local phone = phone_of(b)
  local msg = find(inst, req_(b, "message_id", "string"))
  local reaction = req_(b, "reaction", "string")
  msg.reactions[api.chat_key(phone)] = reaction
  return api.ok({ message_id = new_message_id(), target_message_id = msg.id,
                  reaction = reaction, phone = phone, status = "sent" })
end

local function unreact(req)
  local inst = req.instance
  local b = api.body(req)
  local phone = phone_of(b)
  local msg = find(inst, req_(b, "message_id", "string"))
  msg.reactions[api.chat_key(phone)] = nil
  return api.ok({ message_id = new_message_id(), target_message_id = msg.id,
                  reaction = "", phone = phone, status = "removed" })
end

local function vote(req)
  local inst = req.instance
  local b = api.body(req)
  local phone = phone_of(b)
  local msg = find(inst, req_(b, "message_id", "string"))
  if msg.type ~= "poll" then api.bad("message_id is not a poll") end
  local sel = opt(b, "selected_options", "array")
  if sel then
    strings(sel, "selected_options")
    local valid = {}
    for _, o in ipairs(msg.content.options) do valid[o] = true end
    for _, o in ipairs(sel) do
      if not valid[o] then api.bad("selected_options contains an unknown option: " .. o) end
    end
  end
  opt(b, "poll_sender", "string"); opt(b, "from_me", "boolean")
  local choice = sel or b.vote
  if choice == nil then api.bad("selected_options or vote is required") end
  msg.votes[api.chat_key(phone)] = choice
  return api.ok({ message_id = new_message_id(), poll_message_id = msg.id,
                  selected_options = choice, status = "sent" })
end

local PRESENCE = { available = true, unavailable = true, composing = true,
                   recording = true, paused = true }

local function presence(req)
  local b = api.body(req)
  local phone = phone_of(b)
  local st = req_(b, "state", "string")
  if not PRESENCE[st] then
    api.bad("state must be one of available, unavailable, composing, recording, paused")
  end
  opt(b, "media", "string")
  return api.ok({ phone = phone, state = st, status = "sent" })
end

local function markread(req)
  local inst = req.instance
  local b = api.body(req)
  local ids = req_(b, "id", "array")
  strings(ids, "id")
  local chat_id = req_(b, "chat", "string")
  opt(b, "sender", "string")
  local chat = inst.chats[api.chat_key(chat_id)]
  if chat then chat.unread_count = 0; chat.marked_unread = false end
  return api.ok({ chat = chat_id, id = ids, status = "read" })
end

local MEDIA = {
  image = { "image/jpeg", "/9j/4AAQSkZJRgABAQAAAQABAAD/2w==" },
  video = { "video/mp4", "AAAAIGZ0eXBpc29tAAACAGlzb21pc28y" },
  audio = { "audio/ogg; codecs=opus", "T2dnUwACAAAAAAAAAAA=" },
  document = { "application/pdf", "JVBERi0xLjQKJcfsj6IK" },
}

local function download(kind)
  return function(req)
    local b = api.body(req)
    local m = MEDIA[kind]
    return api.ok({ mimetype = m[1], data = m[2], type = kind,
                    file_length = math.floor(#m[2] * 3 / 4), request = b })
  end
end

return function(r)
  for kind in pairs(SEND) do
    r:post("/instances/:id/chat/send/" .. kind, send(kind))
  end
  r:patch("/instances/:id/chat/messages/:message_id", edit)
  r:delete("/instances/:id/chat/messages/:message_id", delete)
  r:post("/instances/:id/chat/react", react)
  r:delete("/instances/:id/chat/react", unreact)
  r:post("/instances/:id/chat/poll/vote", vote)
  r:post("/instances/:id/chat/presence", presence)
  r:post("/instances/:id/chat/markread", markread)
  for kind in pairs(MEDIA) do
    r:post("/instances/:id/chat/download" .. kind, download(kind))
  end
end
