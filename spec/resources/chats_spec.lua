-- spec/resources/chats_spec.lua: client.chats (contract §4.12, §3.2, D3,
-- D4, D9, D21): the chat id is one escaped path segment (a group JID's "@"
-- is %40, a phone's "+" is %2B) and never in the body; the chats listed are
-- those that were messaged.
local wire = require("spec.support.wire")

local GROUP, GROUP_SEG = "1203630@g.us", "1203630%40g.us"
local PHONE, PHONE_SEG = "+5511988887777", "%2B5511988887777"

describe("chats", function()
  local ctx, c
  setup(function()
    ctx = wire.start("chats")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function()
    -- both chats exist (a deleted one comes back with the next message)
    ctx:send_text(GROUP, "hi group")
    ctx:send_text(PHONE, "hi phone")
  end)

  local function chat(phone)
    local res = assert(c.chats:get(ctx:req({ phone = phone })))
    ctx:clear()
    return res.data
  end

  it("chats.list", function()
    local res = assert(c.chats:list(ctx:req()))
    ctx:wire({ method = "GET", path = "~/chats", query = "" })
    local ids = {}
    for _, ch in ipairs(res.data) do ids[ch.id] = ch end
    assert.is_table(ids[GROUP], "the group that was messaged is listed")
    assert.is_table(ids["5511988887777"], "the phone that was messaged is listed")
    assert.is_nil(ids["5511000000000"])
    assert.equals(1, res.page)
    assert.equals(20, res.page_size)
    res = assert(c.chats:list(ctx:req({ page_size = 1, page = 1 })))
    ctx:wire({ method = "GET", path = "~/chats", query = "page=1&page_size=1" })
    assert.equals(1, #res.data)
    assert.is_true(res.total_pages >= 2)
    assert(c.chats:list(ctx:req({ page = 3 })))
    ctx:wire({ method = "GET", path = "~/chats", query = "page=3" })
    assert(c.chats:list(ctx:req({ page_size = 5 })))
    ctx:wire({ method = "GET", path = "~/chats", query = "page_size=5" })
    ctx:arg_error(function() c.chats:list(ctx:req({ phone = PHONE })) end, 1, "list", "unexpected field 'phone'")
  end)

  it("chats.get", function()
    local res = assert(c.chats:get(ctx:req({ phone = GROUP })))
    ctx:wire({ method = "GET", path = "~/chats/" .. GROUP_SEG })
    assert.equals(GROUP, res.data.id)
    assert.is_true(res.data.is_group)
    assert.is_true(res.data.messages_count >= 1)
    res = assert(c.chats:get(ctx:req({ phone = PHONE })))
    ctx:wire({ method = "GET", path = "~/chats/" .. PHONE_SEG })
    assert.equals("5511988887777", res.data.phone)
    local err = wire.failure(404, c.chats:get(ctx:req({ phone = "5511000000000" })))
    assert.equals("chat not found", err.message)
    ctx:arg_error(function() c.chats:get(ctx:req()) end, 1, "get", "'phone'")
  end)

  -- Bodiless POST actions: path, then the flag read back from the emulator.
  local ACTIONS = {
    { "archive", function(ch) return ch.archived == true end },
    { "unarchive", function(ch) return ch.archived == false end },
    { "unmute", function(ch) return ch.muted == false end },
    { "pin", function(ch) return ch.pinned == true end },
    { "unpin", function(ch) return ch.pinned == false end },
    { "read", function(ch) return ch.unread_count == 0 and ch.marked_unread == false end },
    { "unread", function(ch) return ch.marked_unread == true end },
  }
  for _, a in ipairs(ACTIONS) do
    local name, check = a[1], a[2]
    it("chats." .. name, function()
      for _, target in ipairs({ { GROUP, GROUP_SEG }, { PHONE, PHONE_SEG } }) do
        local res = assert(c.chats[name](c.chats, ctx:req({ phone = target[1] })))
        ctx:wire({ method = "POST", path = "~/chats/" .. target[2] .. "/" .. name })
        assert.is_true(check(res.data), name .. " applied")
        assert.is_true(check(chat(target[1])), name .. " read back")
      end
      wire.failure(404, c.chats[name](c.chats, ctx:req({ phone = "5511000000000" })))
      ctx:arg_error(function() c.chats[name](c.chats, ctx:req()) end, 1, name, "'phone'")
      ctx:arg_error(function() c.chats[name](c.chats, ctx:req({ phone = PHONE, duration_seconds = 1 })) end, 1, name,
        "unexpected field")
    end)
  end

  it("chats.mute", function()
    local res = assert(c.chats:mute(ctx:req({ phone = PHONE, duration_seconds = 3600 })))
    ctx:wire({ method = "POST", path = "~/chats/" .. PHONE_SEG .. "/mute", body = { duration_seconds = 3600 },
               absent = { "phone" } })
    assert.is_true(res.data.muted)
    assert.is_string(res.data.mute_until)
    assert(c.chats:mute(ctx:req({ phone = GROUP, duration_seconds = 0 })))
    ctx:wire({ method = "POST", path = "~/chats/" .. GROUP_SEG .. "/mute", body = { duration_seconds = 0 },
               raw = { '"duration_seconds":0' } })
    assert.is_true(chat(GROUP).muted)
    -- no fields: no body
    assert(c.chats:mute(ctx:req({ phone = GROUP })))
    ctx:wire({ method = "POST", path = "~/chats/" .. GROUP_SEG .. "/mute" })
  end)

  it("chats.clear", function()
    local res = assert(c.chats:clear(ctx:req({ phone = PHONE, delete_media = false })))
    ctx:wire({ method = "POST", path = "~/chats/" .. PHONE_SEG .. "/clear", body = { delete_media = false },
               raw = { '"delete_media":false' } })
    assert.equals(0, res.data.messages_count)
    assert.equals(0, chat(PHONE).messages_count)
    assert(c.chats:clear(ctx:req({ phone = GROUP })))
    ctx:wire({ method = "POST", path = "~/chats/" .. GROUP_SEG .. "/clear" })
  end)

  it("chats.set_expiration", function()
    local res = assert(c.chats:set_expiration(ctx:req({ phone = GROUP, expiration = "604800" })))
    ctx:wire({ method = "PUT", path = "~/chats/" .. GROUP_SEG .. "/expiration", body = { expiration = "604800" },
               absent = { "phone" } })
    assert.equals("604800", res.data.expiration)
    assert.equals("604800", chat(GROUP).expiration)
    ctx:arg_error(function() c.chats:set_expiration(ctx:req({ phone = GROUP })) end, 1, "set_expiration", "'expiration'")
    ctx:arg_error(function() c.chats:set_expiration(ctx:req({ expiration = "0" })) end, 1, "set_expiration", "'phone'")
  end)

  it("chats.delete", function()
    -- DELETE with a body when delete_media is given (false included)
    local res = assert(c.chats:delete(ctx:req({ phone = PHONE, delete_media = false })))
    ctx:wire({ method = "DELETE", path = "~/chats/" .. PHONE_SEG, body = { delete_media = false },
               raw = { '"delete_media":false' } })
    assert.same({ id = "5511988887777", phone = "5511988887777", deleted = true, delete_media = false }, res.data)
    wire.failure(404, c.chats:get(ctx:req({ phone = PHONE })))
    ctx:clear()
    res = assert(c.chats:delete(ctx:req({ phone = GROUP, delete_media = true })))
    ctx:wire({ method = "DELETE", path = "~/chats/" .. GROUP_SEG, body = { delete_media = true } })
    assert.is_true(res.data.delete_media)
    -- without it: no body
    ctx:send_text(GROUP, "back")
    assert(c.chats:delete(ctx:req({ phone = GROUP })))
    ctx:wire({ method = "DELETE", path = "~/chats/" .. GROUP_SEG })
    wire.failure(404, c.chats:delete(ctx:req({ phone = GROUP })))
    ctx:arg_error(function() c.chats:delete(ctx:req({ delete_media = true })) end, 1, "delete", "'phone'")
  end)
end)
