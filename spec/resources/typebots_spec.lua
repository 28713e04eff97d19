-- spec/resources/typebots_spec.lua: client.typebots (contract §4.10, D4,
-- D9): CRUD, and sessions started with and without a typebot id (two
-- paths), then paused and closed.
local wire = require("spec.support.wire")
local vzaps = require("vzaps")
local compat = require("spec.support.compat")

describe("typebots", function()
  local ctx, c
  setup(function()
    ctx = wire.start("typebots")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  local function a_typebot(fields)
    local res = assert(c.typebots:create(ctx:req(fields or { typebot_url = "https://bot.example", public_id = "pub-1" })))
    ctx:clear()
    return res.data
  end

  local function a_session()
    local res = assert(c.typebots:start_session(ctx:req({ phone = "5511900001111", message = "hi" })))
    ctx:clear()
    return res.data
  end

  it("typebots.create", function()
    local body = { enabled = false, description = "Sales bot", typebot_url = "https://bot.example", public_id = "sales",
                   trigger_type = "keyword", trigger_operator = "equals", trigger_value = "sales", priority = 0,
                   expire_in_minutes = 30, keep_open = false, debounce_ms = 0, ignore_groups = true }
    local res = assert(c.typebots:create(ctx:req(body)))
    ctx:wire({ method = "POST", path = "~/typebots", body = body,
               raw = { '"enabled":false', '"priority":0', '"debounce_ms":0', '"keep_open":false' } })
    assert.matches("^tb_", res.data.id)
    assert.is_false(res.data.enabled)
    assert.equals(0, res.data.priority)
    compat.assert_integer(res.data.priority)
    -- no fields: no body (D3); the emulator still creates one
    res = assert(c.typebots:create(ctx:req()))
    ctx:wire({ method = "POST", path = "~/typebots" })
    assert.is_true(res.data.enabled)
    wire.failure(400, c.typebots:create(ctx:req({ priority = "high" })))
  end)

  it("typebots.list", function()
    local tb = a_typebot()
    local res = assert(c.typebots:list(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/typebots" })
    assert.equals(tb.id, res.data[#res.data].id)
    ctx:arg_error(function() c.typebots:list(ctx.id) end, 2, "list", "instance_token")
  end)

  it("typebots.update", function()
    local tb = a_typebot()
    local res = assert(c.typebots:update(ctx:req({ typebot_id = tb.id, enabled = false, priority = 0 })))
    ctx:wire({ method = "PATCH", path = "~/typebots/" .. tb.id, body = { enabled = false, priority = 0 },
               absent = { "typebot_id" } })
    assert.is_false(res.data.enabled)
    assert.equals("https://bot.example", res.data.typebot_url)
    wire.failure(404, c.typebots:update(ctx:req({ typebot_id = "tb/none", enabled = true })))
    ctx:wire({ method = "PATCH", path = "~/typebots/tb%2Fnone", body = { enabled = true } })
    ctx:arg_error(function() c.typebots:update(ctx:req({ enabled = true })) end, 1, "update", "'typebot_id'")
  end)

  it("typebots.delete", function()
    local tb = a_typebot()
    local res = assert(c.typebots:delete(ctx:req({ typebot_id = tb.id })))
    ctx:wire({ method = "DELETE", path = "~/typebots/" .. tb.id })
    assert.same({ id = tb.id, deleted = true }, res.data)
    wire.failure(404, c.typebots:delete(ctx:req({ typebot_id = tb.id })))
    ctx:arg_error(function() c.typebots:delete(ctx:req()) end, 1, "delete", "'typebot_id'")
  end)

  it("typebots.start_session (with a typebot_id: its path)", function()
    local tb = a_typebot({ public_id = "pub-9" })
    local body = { phone = "+5511900001111", message = "start", push_name = "Ana", public_id = "pub-9" }
    local t = ctx:req(body)
    t.typebot_id = tb.id
    local res = assert(c.typebots:start_session(t))
    ctx:wire({ method = "POST", path = "~/typebots/" .. tb.id .. "/sessions/start", body = body, absent = { "typebot_id" } })
    assert.matches("^tbs_", res.data.id)
    assert.equals(tb.id, res.data.typebot_id)
    assert.equals("opened", res.data.status)
    assert.equals("Ana", res.data.push_name)
    wire.failure(404, c.typebots:start_session(ctx:req({ typebot_id = "tb none", phone = "1", message = "m" })))
    ctx:wire({ method = "POST", path = "~/typebots/tb%20none/sessions/start", body = { phone = "1", message = "m" } })
  end)

  it("typebots.start_session (without a typebot_id: the instance's path)", function()
    local res = assert(c.typebots:start_session(ctx:req({ phone = "5511900001111", message = "hello" })))
    ctx:wire({ method = "POST", path = "~/typebots/sessions/start", body = { phone = "5511900001111", message = "hello" } })
    assert.matches("^tbs_", res.data.id)
    assert.equals(vzaps.null, res.data.push_name)
    ctx:arg_error(function() c.typebots:start_session(ctx:req({ message = "m" })) end, 1, "start_session", "'phone'")
    ctx:arg_error(function() c.typebots:start_session(ctx:req({ phone = "1" })) end, 1, "start_session", "'message'")
    ctx:arg_error(function() c.typebots:start_session(ctx:req({ typebot_id = "x", phone = "1" })) end, 1, "start_session",
      "'message'")
  end)

  -- Contract §4.10: the typebot path is used "when typebot_id is non-empty,
  -- else" the instance path; an empty string is not an id.
  it("typebots.start_session (an empty typebot_id takes the path without it)", function()
    local res = assert(c.typebots:start_session(ctx:req({ typebot_id = "", phone = "5511900001111", message = "hello" })))
    ctx:wire({ method = "POST", path = "~/typebots/sessions/start", body = { phone = "5511900001111", message = "hello" },
               absent = { "typebot_id" } })
    assert.matches("^tbs_", res.data.id)
  end)

  it("typebots.list_sessions", function()
    local s = a_session()
    local res = assert(c.typebots:list_sessions(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/typebots/sessions" })
    assert.equals(s.id, res.data[#res.data].id)
  end)

  it("typebots.pause_session", function()
    local s = a_session()
    local res = assert(c.typebots:pause_session(ctx:req({ session = s.id })))
    ctx:wire({ method = "POST", path = "~/typebots/sessions/" .. s.id .. "/pause" })
    assert.equals("paused", res.data.status)
    wire.failure(404, c.typebots:pause_session(ctx:req({ session = "tbs+x" })))
    ctx:wire({ method = "POST", path = "~/typebots/sessions/tbs%2Bx/pause" })
    ctx:arg_error(function() c.typebots:pause_session(ctx:req()) end, 1, "pause_session", "'session'")
  end)

  it("typebots.close_session", function()
    local s = a_session()
    local res = assert(c.typebots:close_session(ctx:req({ session = s.id })))
    ctx:wire({ method = "POST", path = "~/typebots/sessions/" .. s.id .. "/close" })
    assert.equals("closed", res.data.status)
    local all = assert(c.typebots:list_sessions(ctx.id, ctx.opts))
    for _, x in ipairs(all.data) do
      if x.id == s.id then assert.equals("closed", x.status) end
    end
    ctx:arg_error(function() c.typebots:close_session(ctx:req()) end, 1, "close_session", "'session'")
    ctx:arg_error(function() c.typebots:close_session(ctx:req({ session = s.id, reason = "x" })) end, 1,
      "close_session", "unexpected field")
  end)
end)
