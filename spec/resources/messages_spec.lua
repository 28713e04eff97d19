-- spec/resources/messages_spec.lua: client.messages (contract §4.4), all 25
-- operations: the request on the wire (method, raw path, headers, JSON body
-- without instance or path fields, D4; false/0 sent, D9; lists as [], §3.4),
-- the decoded result, the emulator's state (queue, chats, reactions, edits)
-- and the argument errors raised before anything is sent.
local wire = require("spec.support.wire")
local compat = require("spec.support.compat")

local PHONE = "+5511988887777"

-- The 13 fixed send operations: args (without instance fields), the fields
-- that must be present locally, and substrings of the raw body that prove
-- false / 0 / [] went out as such.
local SENDS = {
  { "send_text", "text", { phone = PHONE, message = "Hello" }, { "phone", "message" } },
  { "send_image", "image", { phone = PHONE, image = "https://cdn.example/a.jpg", caption = "A photo" },
    { "phone", "image" } },
  { "send_audio", "audio", { phone = PHONE, audio = "https://cdn.example/a.ogg", ptt = false },
    { "phone", "audio" }, { '"ptt":false' } },
  { "send_document", "document",
    { phone = PHONE, document = "https://cdn.example/a.pdf", file_name = "a.pdf", caption = "" },
    { "phone", "document" }, { '"caption":""' } },
  { "send_video", "video", { phone = PHONE, video = "https://cdn.example/a.mp4", caption = "Clip" },
    { "phone", "video" } },
  { "send_sticker", "sticker", { phone = PHONE, sticker = "https://cdn.example/a.webp" }, { "phone", "sticker" } },
  { "send_gif", "gif", { phone = PHONE, gif = "https://cdn.example/a.gif", caption = "Loop" }, { "phone", "gif" } },
  { "send_location", "location",
    { phone = PHONE, latitude = -23.5613, longitude = 0, name = "Office", address = "Av. Paulista" },
    { "phone", "latitude", "longitude" }, { '"longitude":0', '"latitude":-23.5613' } },
  { "send_contact", "contact", { phone = PHONE, contact_name = "Ana", contact_phone = "5511977776666" },
    { "phone" } },
  { "send_buttons", "buttons",
    { phone = PHONE, message = "Pick one", footer = "VZaps",
      buttons = { { id = "yes", text = "Yes" }, { id = "no", text = "No" } } },
    { "phone", "message", "buttons" } },
  { "send_list", "list",
    { phone = PHONE, title = "Menu", description = "Choose", button_text = "Open", footer = "f",
      sections = { { title = "Main", rows = { { id = "r1", title = "One", description = "first" } } },
                   { title = "Empty", rows = {} } } },
    { "phone", "title", "description", "button_text", "sections" }, { '"rows":[]' } },
  { "send_link", "link",
    { phone = PHONE, message = "See", link_url = "https://vzaps.com", title = "VZaps",
      link_description = "WhatsApp API", jpeg_thumbnail = "/9j/4AAQ" },
    { "phone", "message", "link_url", "title", "link_description" } },
  { "send_poll", "poll",
    { phone = PHONE, name = "Lunch?", options = { "Pizza", "Sushi" }, selectable_options_count = 0,
      hide_participant_names = false, allow_add_option = false, end_time = "2030-01-01T00:00:00Z" },
    { "phone", "name", "options" },
    { '"selectable_options_count":0', '"hide_participant_names":false', '"allow_add_option":false' } },
}

local copy = require("spec.support.tables").copy

describe("messages", function()
  local ctx, c
  setup(function()
    ctx = wire.start("messages")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  local function queued_ids()
    local q = assert(c.queues:list_messages(ctx:req()))
    ctx:clear()
    local ids = {}
    for _, m in ipairs(q.data) do ids[m.message_id] = m end
    return ids, q
  end

  for _, case in ipairs(SENDS) do
    local name, kind, args, required, raw = case[1], case[2], case[3], case[4], case[5]
    it("messages." .. name, function()
      local given = copy(args)
      local req = ctx:req(given)
      local res = assert(c.messages[name](c.messages, req))
      ctx:wire({ method = "POST", path = "~/chat/send/" .. kind, body = args, raw = raw })
      assert.same(args, given, "the caller's table is left alone")
      assert.is_true(res.success)
      assert.matches("^3EB0%x+$", res.data.message_id)
      assert.equals("queued", res.data.status)
      assert.equals(PHONE, res.data.phone)
      compat.assert_integer(res.data.timestamp)
      -- the emulator queued it until the queue is processed
      local ids = queued_ids()
      assert.is_table(ids[res.data.message_id], "the sent message is queued")
      assert.equals(kind, ids[res.data.message_id].type)
      -- every required field is checked before sending
      for _, field in ipairs(required) do
        local partial = ctx:req(copy(args))
        partial[field] = nil
        ctx:arg_error(function() c.messages[name](c.messages, partial) end, 1, name, "'" .. field .. "'")
      end
    end)
  end

  it("messages.send_text: the queue empties on /process-queue and the chat lists the message", function()
    local id1 = ctx:send_text("1203630111@g.us", "to a group")
    local id2 = ctx:send_text(PHONE, "to a phone")
    local ids = queued_ids()
    assert.is_table(ids[id1]); assert.is_table(ids[id2])
    local processed = ctx:process_queue()
    assert.is_true(processed.processed_messages >= 2)
    local _, q = queued_ids()
    assert.equals(0, #q.data)
    assert.equals(0, q.total)
    local chat = assert(c.chats:get(ctx:req({ phone = "1203630111@g.us" })))
    assert.equals(id1, chat.data.last_message_id)
    assert.is_true(chat.data.is_group)
  end)

  it("messages.send_buttons / send_poll: empty lists go out as []", function()
    assert(c.messages:send_buttons(ctx:req({ phone = PHONE, message = "none", buttons = {} })))
    ctx:wire({ method = "POST", path = "~/chat/send/buttons", body = { phone = PHONE, message = "none", buttons = {} },
               raw = { '"buttons":[]' } })
    local err = wire.failure(400, c.messages:send_poll(ctx:req({ phone = PHONE, name = "?", options = {} })))
    assert.equals("options must have at least 2 entries", err.message)
    ctx:wire({ method = "POST", path = "~/chat/send/poll", body = { phone = PHONE, name = "?", options = {} },
               raw = { '"options":[]' } })
  end)

  it("messages.poll_vote", function()
    local poll = assert(c.messages:send_poll(ctx:req({ phone = PHONE, name = "Lunch?", options = { "Pizza", "Sushi" } })))
    ctx:clear()
    local pid = poll.data.message_id
    local res = assert(c.messages:poll_vote(ctx:req({
      phone = PHONE, message_id = pid, selected_options = { "Sushi" }, poll_sender = PHONE, from_me = false,
    })))
    ctx:wire({ method = "POST", path = "~/chat/poll/vote",
               body = { phone = PHONE, message_id = pid, selected_options = { "Sushi" }, poll_sender = PHONE,
                        from_me = false },
               raw = { '"from_me":false' } })
    assert.equals(pid, res.data.poll_message_id)
    assert.same({ "Sushi" }, res.data.selected_options)
    -- an empty choice list is [] on the wire
    assert(c.messages:poll_vote(ctx:req({ phone = PHONE, message_id = pid, selected_options = {} })))
    ctx:wire({ method = "POST", path = "~/chat/poll/vote", body = { phone = PHONE, message_id = pid, selected_options = {} },
               raw = { '"selected_options":[]' } })
    -- unknown option / unknown message: failure tuples
    wire.failure(400, c.messages:poll_vote(ctx:req({ phone = PHONE, message_id = pid, selected_options = { "Tacos" } })))
    wire.failure(404, c.messages:poll_vote(ctx:req({ phone = PHONE, message_id = "3EB0NOPE", vote = "Pizza" })))
    ctx:arg_error(function() c.messages:poll_vote(ctx:req({ phone = PHONE })) end, 1, "poll_vote", "'message_id'")
    ctx:arg_error(function() c.messages:poll_vote(ctx:req({ message_id = pid })) end, 1, "poll_vote", "'phone'")
  end)

  it("messages.react", function()
    local mid = ctx:send_text()
    local res = assert(c.messages:react(ctx:req({ phone = PHONE, message_id = mid, reaction = "👍" })))
    ctx:wire({ method = "POST", path = "~/chat/react", body = { phone = PHONE, message_id = mid, reaction = "👍" } })
    assert.equals(mid, res.data.target_message_id)
    assert.equals("👍", res.data.reaction)
    assert.equals("sent", res.data.status)
    local err = wire.failure(404, c.messages:react(ctx:req({ phone = PHONE, message_id = "3EB0NOPE", reaction = "x" })))
    assert.equals("message not found", err.message)
    for _, f in ipairs({ "phone", "message_id", "reaction" }) do
      local t = ctx:req({ phone = PHONE, message_id = mid, reaction = "x" })
      t[f] = nil
      ctx:arg_error(function() c.messages:react(t) end, 1, "react", "'" .. f .. "'")
    end
  end)

  it("messages.remove_reaction (DELETE with a JSON body)", function()
    local mid = ctx:send_text()
    assert(c.messages:react(ctx:req({ phone = PHONE, message_id = mid, reaction = "❤" })))
    ctx:clear()
    local res = assert(c.messages:remove_reaction(ctx:req({ phone = PHONE, message_id = mid })))
    ctx:wire({ method = "DELETE", path = "~/chat/react", body = { phone = PHONE, message_id = mid } })
    assert.equals("removed", res.data.status)
    assert.equals(mid, res.data.target_message_id)
    wire.failure(404, c.messages:remove_reaction(ctx:req({ phone = PHONE, message_id = "3EB0NOPE" })))
    ctx:arg_error(function() c.messages:remove_reaction(ctx:req({ phone = PHONE })) end, 1, "remove_reaction", "'message_id'")
    ctx:arg_error(function() c.messages:remove_reaction(ctx:req({ message_id = mid })) end, 1, "remove_reaction", "'phone'")
  end)

  it("messages.presence", function()
    local res = assert(c.messages:presence(ctx:req({ phone = PHONE, state = "recording", media = "audio" })))
    ctx:wire({ method = "POST", path = "~/chat/presence", body = { phone = PHONE, state = "recording", media = "audio" } })
    assert.same({ phone = PHONE, state = "recording", status = "sent" }, res.data)
    wire.failure(400, c.messages:presence(ctx:req({ phone = PHONE, state = "dancing" })))
    ctx:arg_error(function() c.messages:presence(ctx:req({ phone = PHONE })) end, 1, "presence", "'state'")
    ctx:arg_error(function() c.messages:presence(ctx:req({ state = "paused" })) end, 1, "presence", "'phone'")
  end)

  it("messages.mark_read", function()
    local mid = ctx:send_text()
    local res = assert(c.messages:mark_read(ctx:req({ id = { mid }, chat = PHONE, sender = PHONE })))
    ctx:wire({ method = "POST", path = "~/chat/markread", body = { id = { mid }, chat = PHONE, sender = PHONE },
               absent = { "phone" } })
    assert.same({ mid }, res.data.id)
    assert.equals("read", res.data.status)
    assert(c.messages:mark_read(ctx:req({ id = {}, chat = PHONE })))
    ctx:wire({ method = "POST", path = "~/chat/markread", body = { id = {}, chat = PHONE }, raw = { '"id":[]' } })
    ctx:arg_error(function() c.messages:mark_read(ctx:req({ chat = PHONE })) end, 1, "mark_read", "'id'")
    ctx:arg_error(function() c.messages:mark_read(ctx:req({ id = { mid } })) end, 1, "mark_read", "'chat'")
  end)

  for _, kind in ipairs({ "image", "video", "audio", "document" }) do
    it("messages.download_" .. kind, function()
      local name = "download_" .. kind
      -- no fields: no body at all (D3)
      local res = assert(c.messages[name](c.messages, ctx:req()))
      ctx:wire({ method = "POST", path = "~/chat/download" .. kind })
      assert.is_string(res.data.mimetype)
      assert.is_string(res.data.data)
      assert.equals(kind, res.data.type)
      -- pass-through fields, as given
      local args = { url = "https://mmg.whatsapp.net/x.enc", media_key = "a2V5", direct_path = "/v/t62", file_length = 0 }
      res = assert(c.messages[name](c.messages, ctx:req(args)))
      ctx:wire({ method = "POST", path = "~/chat/download" .. kind, body = args, raw = { '"file_length":0' } })
      assert.same(args, res.data.request)
    end)
  end

  it("messages.edit", function()
    local mid = ctx:send_text(PHONE, "typo")
    local res = assert(c.messages:edit(ctx:req({ message_id = mid, message = "fixed" })))
    ctx:wire({ method = "PATCH", path = "~/chat/messages/" .. mid, body = { message = "fixed" }, absent = { "message_id" } })
    assert.same("edited", res.data.status)
    assert.equals("fixed", res.data.message)
    -- an id with "/" is one escaped segment; unknown ids are a 404 failure tuple
    local err = wire.failure(404, c.messages:edit(ctx:req({ message_id = "3EB0/x+y", message = "z" })))
    assert.equals("message not found", err.message)
    ctx:wire({ method = "PATCH", path = "~/chat/messages/3EB0%2Fx%2By", body = { message = "z" } })
    ctx:arg_error(function() c.messages:edit(ctx:req({ message = "x" })) end, 1, "edit", "'message_id'")
    ctx:arg_error(function() c.messages:edit(ctx:req({ message_id = mid })) end, 1, "edit", "'message'")
  end)

  it("messages.delete", function()
    local mid = ctx:send_text()
    local res = assert(c.messages:delete(ctx:req({ message_id = mid })))
    ctx:wire({ method = "DELETE", path = "~/chat/messages/" .. mid })
    assert.same({ message_id = mid, status = "deleted" }, res.data)
    -- it left the queue, and is gone
    assert.is_nil(queued_ids()[mid])
    wire.failure(404, c.messages:delete(ctx:req({ message_id = mid })))
    ctx:wire({ method = "DELETE", path = "~/chat/messages/" .. mid })
    -- pass-through body on DELETE
    local mid2 = ctx:send_text()
    assert(c.messages:delete(ctx:req({ message_id = mid2, for_everyone = false })))
    ctx:wire({ method = "DELETE", path = "~/chat/messages/" .. mid2, body = { for_everyone = false }, absent = { "message_id" } })
    wire.failure(404, c.messages:delete(ctx:req({ message_id = "a/b" })))
    ctx:wire({ method = "DELETE", path = "~/chat/messages/a%2Fb" })
    ctx:arg_error(function() c.messages:delete(ctx:req()) end, 1, "delete", "'message_id'")
  end)

  it("messages.send (generic: path unescaped, leading / stripped, always POST)", function()
    local body = { phone = PHONE, message = "generic", ptt = false }
    local res = assert(c.messages:send(ctx.id, "/send/text", body, ctx.opts))
    ctx:wire({ method = "POST", path = "~/chat/send/text", body = body })
    assert.matches("^3EB0", res.data.message_id)
    assert.is_table(queued_ids()[res.data.message_id])
    assert(c.messages:send(ctx.id, "send/location", { phone = PHONE, latitude = 1.5, longitude = -2 }, ctx.opts))
    ctx:wire({ method = "POST", path = "~/chat/send/location", body = { phone = PHONE, latitude = 1.5, longitude = -2 } })
    -- no body given: none sent (the emulator then wants a phone)
    wire.failure(400, c.messages:send(ctx.id, "send/text", nil, ctx.opts))
    ctx:wire({ method = "POST", path = "~/chat/send/text" })
    -- an unknown chat path is the server's 404
    wire.failure(404, c.messages:send(ctx.id, "//send/fax", { phone = PHONE }, ctx.opts))
    ctx:wire({ method = "POST", path = "~/chat/send/fax", body = { phone = PHONE } })
    ctx:arg_error(function() c.messages:send(ctx.id, nil, {}, ctx.opts) end, 2, "send", "path")
    ctx:arg_error(function() c.messages:send(ctx.id, "send/text", "x", ctx.opts) end, 3, "send", "table expected")
    ctx:arg_error(function() c.messages:send(ctx.id, "send/text", {}) end, 4, "send", "instance_token")
    ctx:arg_error(function() c.messages:send(nil, "send/text", {}, ctx.opts) end, 1, "send", "instance_id")
  end)

  it("messages: instance_id and instance_token are required", function()
    ctx:arg_error(function() c.messages:send_text({ instance_token = ctx.tok, phone = PHONE, message = "x" }) end,
      1, "send_text", "instance_id")
    ctx:arg_error(function() c.messages:send_text({ instance_id = ctx.id, phone = PHONE, message = "x" }) end,
      1, "send_text", "instance_token")
    ctx:arg_error(function() c.messages:send_text() end, 1, "send_text", "table expected")
    ctx:arg_error(function() c.messages:download_image() end, 1, "download_image", "instance_id")
  end)
end)
