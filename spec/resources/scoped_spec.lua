-- spec/resources/scoped_spec.lua: client:instance(id, token) (the API description
-- "Client"): every instance-scoped method of the endpoint table works on
-- the handle without instance_id / instance_token (positional methods drop
-- the instance_id argument), sends the handle's token, and shares the
-- client's connection and JWT (one /token for client and handles).
local emulator = require("spec.support.emulator")
local wire = require("spec.support.wire")
local paths = require("spec.support.paths")

local ROWS = assert(loadfile("src/lua/vzaps/endpoints.lua"))()

local P = "+5511988887777"
local G = "1203630@g.us"

-- resource.method -> {args for the handle (a list), HTTP method, path after
-- /instances/{id}}; the emulator's answer (success or 4xx) does not matter
-- here, the request does.
local CASES = {
  ["instances.update"] = { { { name = "Renamed" } }, "PATCH", "" },
  ["instances.restart"] = { {}, "POST", "/restart" },
  ["instances.delete"] = false, -- run last, on its own instance
  ["instances.subscribe"] = { { nil }, "POST", "/subscribe" },
  ["instances.resume_subscription"] = { {}, "POST", "/resume-subscription" },
  ["instances.cancel"] = { {}, "PUT", "/cancel" },
  ["sessions.status"] = { {}, "GET", "/session/status" },
  ["sessions.qr"] = { {}, "GET", "/session/qr" },
  ["sessions.pair_code"] = { { P }, "GET", "/session/paircode/%2B5511988887777" },
  ["sessions.disconnect"] = { {}, "POST", "/session/disconnect" },
  ["messages.send_text"] = { { { phone = P, message = "hi" } }, "POST", "/chat/send/text" },
  ["messages.send_image"] = { { { phone = P, image = "https://x/i.jpg" } }, "POST", "/chat/send/image" },
  ["messages.send_audio"] = { { { phone = P, audio = "https://x/a.ogg" } }, "POST", "/chat/send/audio" },
  ["messages.send_document"] = { { { phone = P, document = "https://x/d.pdf" } }, "POST", "/chat/send/document" },
  ["messages.send_video"] = { { { phone = P, video = "https://x/v.mp4" } }, "POST", "/chat/send/video" },
  ["messages.send_sticker"] = { { { phone = P, sticker = "https://x/s.webp" } }, "POST", "/chat/send/sticker" },
  ["messages.send_gif"] = { { { phone = P, gif = "https://x/g.gif" } }, "POST", "/chat/send/gif" },
  ["messages.send_location"] = { { { phone = P, latitude = 1, longitude = 2 } }, "POST", "/chat/send/location" },
  ["messages.send_contact"] = { { { phone = P, contact_name = "A" } }, "POST", "/chat/send/contact" },
  ["messages.send_buttons"] = { { { phone = P, message = "m", buttons = { { id = "1", text = "t" } } } }, "POST",
    "/chat/send/buttons" },
  ["messages.send_list"] = { { { phone = P, title = "t", description = "d", button_text = "b", sections = {} } }, "POST",
    "/chat/send/list" },
  ["messages.send_link"] = { { { phone = P, message = "m", link_url = "https://x", title = "t", link_description = "d" } },
    "POST", "/chat/send/link" },
  ["messages.send_poll"] = { { { phone = P, name = "n", options = { "a", "b" } } }, "POST", "/chat/send/poll" },
  ["messages.poll_vote"] = { { { phone = P, message_id = "3EB0X", vote = "a" } }, "POST", "/chat/poll/vote" },
  ["messages.react"] = { { { phone = P, message_id = "3EB0X", reaction = "x" } }, "POST", "/chat/react" },
  ["messages.remove_reaction"] = { { { phone = P, message_id = "3EB0X" } }, "DELETE", "/chat/react" },
  ["messages.presence"] = { { { phone = P, state = "paused" } }, "POST", "/chat/presence" },
  ["messages.mark_read"] = { { { id = { "3EB0X" }, chat = P } }, "POST", "/chat/markread" },
  ["messages.download_image"] = { {}, "POST", "/chat/downloadimage" },
  ["messages.download_video"] = { {}, "POST", "/chat/downloadvideo" },
  ["messages.download_audio"] = { {}, "POST", "/chat/downloadaudio" },
  ["messages.download_document"] = { {}, "POST", "/chat/downloaddocument" },
  ["messages.edit"] = { { { message_id = "3EB0/X", message = "m" } }, "PATCH", "/chat/messages/3EB0%2FX" },
  ["messages.delete"] = { { { message_id = "3EB0X" } }, "DELETE", "/chat/messages/3EB0X" },
  ["messages.send"] = { { "/send/text", { phone = P, message = "generic" } }, "POST", "/chat/send/text" },
  ["webhooks.get"] = { {}, "GET", "/webhook" },
  ["webhooks.set"] = { { { webhook_url = "https://x/hook" } }, "POST", "/webhook" },
  ["webhooks.search_logs"] = { {}, "POST", "/webhook/logs/search" },
  ["webhooks.get_log"] = { { { log_id = "whl_1" } }, "GET", "/webhook/logs/whl_1" },
  ["webhooks.retry_log"] = { { { log_id = "whl_1" } }, "POST", "/webhook/logs/whl_1/retry" },
  ["contacts.list"] = { {}, "GET", "/contact/list" },
  ["contacts.add"] = { { { phone = P, first_name = "A", full_name = "A B" } }, "POST", "/contact/add" },
  ["groups.list"] = { {}, "GET", "/group/list" },
  ["groups.get"] = { { { group_id = G } }, "GET", "/group/info", "group_id=1203630%40g.us" },
  ["groups.invite_link"] = { { { group_id = G, reset = true } }, "GET", "/group/invitelink",
    "group_id=1203630%40g.us&reset=true" },
  ["groups.set_photo"] = { { { group_id = G, image = "https://x/i.jpg" } }, "POST", "/group/photo" },
  ["groups.set_name"] = { { { group_id = G, name = "n" } }, "POST", "/group/name" },
  ["groups.set_description"] = { { { group_id = G, description = "d" } }, "POST", "/group/description" },
  ["groups.set_settings"] = { { { group_id = G, admin_only_message = false } }, "POST", "/group/settings" },
  ["groups.create"] = { { { group_name = "g" } }, "POST", "/group/create" },
  ["groups.add_admin"] = { { { group_id = G, participants = { P } } }, "POST", "/group/add-admin" },
  ["groups.remove_admin"] = { { { group_id = G, participants = { P } } }, "POST", "/group/remove-admin" },
  ["users.info"] = { { { phone = P } }, "POST", "/user/info" },
  ["users.check"] = { { { phone = P } }, "POST", "/user/check" },
  ["users.avatar"] = { { { phone = P } }, "POST", "/user/avatar" },
  ["users.contacts"] = { {}, "GET", "/user/contacts" },
  ["queues.list_messages"] = { {}, "GET", "/queue/messages" },
  ["queues.purge_messages"] = { {}, "DELETE", "/queue/messages" },
  ["queues.remove_message"] = { { { message_id = "3EB0X" } }, "DELETE", "/queue/messages/3EB0X" },
  ["queues.list_operations"] = { {}, "GET", "/queue/operations" },
  ["queues.purge_operations"] = { {}, "DELETE", "/queue/operations" },
  ["queues.remove_operation"] = { { { message_id = "op_1" } }, "DELETE", "/queue/operations/op_1" },
  ["typebots.list"] = { {}, "GET", "/typebots" },
  ["typebots.create"] = { { { enabled = false } }, "POST", "/typebots" },
  ["typebots.update"] = { { { typebot_id = "tb_1", enabled = true } }, "PATCH", "/typebots/tb_1" },
  ["typebots.delete"] = { { { typebot_id = "tb_1" } }, "DELETE", "/typebots/tb_1" },
  ["typebots.list_sessions"] = { {}, "GET", "/typebots/sessions" },
  ["typebots.start_session"] = { { { phone = P, message = "m" } }, "POST", "/typebots/sessions/start" },
  ["typebots.close_session"] = { { { session = "tbs_1" } }, "POST", "/typebots/sessions/tbs_1/close" },
  ["typebots.pause_session"] = { { { session = "tbs_1" } }, "POST", "/typebots/sessions/tbs_1/pause" },
  ["chatwoot.get"] = { {}, "GET", "/chatwoot" },
  ["chatwoot.set"] = { { { enabled = false } }, "POST", "/chatwoot" },
  ["chatwoot.delete"] = { {}, "DELETE", "/chatwoot" },
  ["chatwoot.trigger_import"] = { { { what = "contacts" } }, "POST", "/chatwoot/import/contacts" },
  ["chats.list"] = { {}, "GET", "/chats" },
  ["chats.get"] = { { { phone = G } }, "GET", "/chats/1203630%40g.us" },
  ["chats.archive"] = { { { phone = G } }, "POST", "/chats/1203630%40g.us/archive" },
  ["chats.unarchive"] = { { { phone = G } }, "POST", "/chats/1203630%40g.us/unarchive" },
  ["chats.mute"] = { { { phone = G, duration_seconds = 60 } }, "POST", "/chats/1203630%40g.us/mute" },
  ["chats.unmute"] = { { { phone = G } }, "POST", "/chats/1203630%40g.us/unmute" },
  ["chats.pin"] = { { { phone = P } }, "POST", "/chats/%2B5511988887777/pin" },
  ["chats.unpin"] = { { { phone = P } }, "POST", "/chats/%2B5511988887777/unpin" },
  ["chats.read"] = { { { phone = P } }, "POST", "/chats/%2B5511988887777/read" },
  ["chats.unread"] = { { { phone = P } }, "POST", "/chats/%2B5511988887777/unread" },
  ["chats.clear"] = { { { phone = P, delete_media = true } }, "POST", "/chats/%2B5511988887777/clear" },
  ["chats.delete"] = { { { phone = P } }, "DELETE", "/chats/%2B5511988887777" },
  ["chats.set_expiration"] = { { { phone = P, expiration = "0" } }, "PUT", "/chats/%2B5511988887777/expiration" },
}

describe("client:instance", function()
  local ctx, c, h
  setup(function()
    ctx = wire.start("scoped")
    c = ctx.client
    h = c:instance(ctx.id, ctx.tok)
    -- a chat for each id used above, so the chat routes find them
    ctx:send_text(G, "g")
    ctx:send_text(P, "p")
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  it("covers every instance-scoped row of the endpoint table", function()
    local n = 0
    for _, row in ipairs(ROWS) do
      if row[4]:find("^/instances/{instance_id}") then
        n = n + 1
        assert(CASES[row[1] .. "." .. row[2]] ~= nil, "no scoped case for " .. row[1] .. "." .. row[2])
      end
    end
    assert.equals(81 + 6, n) -- 81 resource operations + the 6 scoped instance ones
  end)

  local names = {}
  for name, case in pairs(CASES) do
    if case then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local case = CASES[name]
    it("scoped " .. name, function()
      local resource, method = name:match("^(%w+)%.([%w_]+)$")
      local args = case[1]
      local lines, res, msg, err = paths.module_lines(function()
        return h[resource][method](h[resource], table.unpack(args, 1, math.max(#args, 1)))
      end)
      assert(res ~= nil or (err and err.status), "expected a result or an HTTP failure, got " .. tostring(msg))
      -- A success on a row the fast path covers never ran the Lua path.
      for _, row in ipairs(ROWS) do
        if row[1] == resource and row[2] == method and res ~= nil then
          if paths.row_is_fast(row) then paths.assert_fast(lines, name) else paths.assert_lua(lines, name) end
        end
      end
      local r = ctx.emu:api_requests()[1]
      ctx:wire({
        method = case[2], path = "~" .. case[3], query = case[4] or "",
        body = r and r.json or nil,
      })
    end)
  end

  it("positional methods drop the instance_id argument", function()
    local pc = assert(h.sessions:pair_code("5511977776666"))
    ctx:wire({ method = "GET", path = "~/session/paircode/5511977776666" })
    assert.equals("5511977776666", pc.data.phone)
    local wh = assert(h.webhooks:get())
    ctx:wire({ method = "GET", path = "~/webhook" })
    assert.is_true(wh.success)
    local up = assert(h.instances:update({ name = "Scoped name" }))
    ctx:wire({ method = "PATCH", path = "~", body = { name = "Scoped name" } })
    assert.equals("Scoped name", up.name)
    assert.equals("Scoped name", assert(h.instances:get()).name)
    ctx:clear()
    -- opts still work last, and an explicit instance_token in opts wins
    wire.failure(401, h.webhooks:get({ instance_token = "other" }))
    ctx.jwt = assert(c.auth:get_access_token()) -- the 401 replay fetched a new JWT (D14)
    ctx:clear()
    ctx:arg_error(function() h.sessions:pair_code() end, 1, "pair_code", "phone")
    ctx:arg_error(function() h.sessions:pair_code("1", "x") end, 2, "pair_code", "options table expected")
    ctx:arg_error(function() h.instances:update("x") end, 1, "update", "table expected for the body")
    ctx:arg_error(function() h.messages:send_text({ phone = P }) end, 1, "send_text", "'message'")
    ctx:arg_error(function() h.chats:get({}) end, 1, "get", "'phone'")
  end)

  it("a request table may still name another instance", function()
    local other = assert(c.instances:create({ name = "other" }))
    ctx:clear()
    assert(h.messages:send_text({ instance_id = other.id, instance_token = other.token, phone = P, message = "x" }))
    ctx:wire({ method = "POST", path = "/instances/" .. other.id .. "/chat/send/text", instance_token = other.token,
               body = { phone = P, message = "x" } })
  end)

  it("instances.delete on a handle", function()
    local other = assert(c.instances:create({ name = "to delete" }))
    ctx:clear()
    local oh = c:instance(other.id, other.token)
    assert.is_true(oh.instances:delete())
    ctx:wire({ method = "DELETE", path = "/instances/" .. other.id, instance_token = other.token })
    wire.failure(404, oh.sessions:status())
  end)

  it("handles share the client's connection and token: one /token in all", function()
    local emu = emulator.start()
    local client = emu:client()
    local a = assert(client.instances:create({ name = "a" }))
    local b = assert(client.instances:create({ name = "b" }))
    local ha, hb = client:instance(a.id, a.token), client:instance(b.id, b.token)
    assert(ha.messages:send_text({ phone = P, message = "from a" }))
    assert(hb.messages:send_text({ phone = P, message = "from b" }))
    assert(ha.sessions:status())
    assert(client.sessions:status(b.id, { instance_token = b.token }))
    assert(hb.chats:list())
    assert.equals(1, emu:count("POST", "/token"))
    local jwts = {}
    for _, r in ipairs(emu:api_requests()) do jwts[r.headers.authorization] = true end
    assert.equals(1, #(function() local l = {} for k in pairs(jwts) do l[#l + 1] = k end return l end)())
    assert.equals("vzaps.instance (" .. a.id .. ")", tostring(ha))
    assert.equals(a.id, ha.instance_id)
    client:close()
    assert.has_error(function() ha.sessions:status() end, "vzaps: client is closed")
    emu:stop()
  end)

  it("client:instance checks its arguments", function()
    ctx:arg_error(function() c:instance(nil, ctx.tok) end, 1, "instance", "instance_id")
    ctx:arg_error(function() c:instance(" ", ctx.tok) end, 1, "instance", "instance_id")
    ctx:arg_error(function() c:instance(ctx.id) end, 2, "instance", "instance_token")
    ctx:arg_error(function() c:instance(ctx.id, "a\nb") end, 2, "instance", "instance_token")
  end)
end)
