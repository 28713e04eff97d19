-- spec/resources/sessions_spec.lua: client.sessions (contract §4.3): status,
-- qr, pair_code, disconnect on the wire, and the instance moving between
-- disconnected and connected in the emulator.
local wire = require("spec.support.wire")
local compat = require("spec.support.compat")

describe("sessions", function()
  local ctx, c
  setup(function()
    ctx = wire.start("sessions")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  it("sessions.status", function()
    local res = assert(c.sessions:status(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/session/status" })
    assert.same({ code = 200, success = true, data = { connected = false } }, res)
    compat.assert_integer(res.code)

    ctx:connect({ phone = "+55 11 98888-7777", push_name = "Support" })
    res = assert(c.sessions:status(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/session/status" })
    local d = res.data
    assert.is_true(d.connected)
    assert.equals("5511988887777", d.phone)
    assert.equals("5511988887777@s.whatsapp.net", d.whatsapp_jid)
    assert.equals("Support", d.push_name)
    assert.is_string(d.business_profile.business_hours_timezone)
    assert.equals(1, #d.business_profile.categories)
    assert.is_string(d.profile_picture_url)
    -- back to disconnected for the other tests
    assert(c.sessions:disconnect(ctx.id, ctx.opts))
  end)

  it("sessions.qr", function()
    local res = assert(c.sessions:qr(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/session/qr" })
    assert.is_true(res.success)
    assert.matches("^2@", res.data.qr_code)
    assert.equals("waiting_scan", res.data.status)
    compat.assert_integer(res.data.expires_in)

    -- the phone scans it (emulator control; a human would do this)
    ctx:connect()
    local err = wire.failure(409, c.sessions:qr(ctx.id, ctx.opts))
    assert.equals("CONFLICT", err.code)
    assert.equals("instance already connected", err.message)
    ctx:wire({ method = "GET", path = "~/session/qr" })
    assert(c.sessions:disconnect(ctx.id, ctx.opts))
  end)

  it("sessions.pair_code", function()
    local res = assert(c.sessions:pair_code(ctx.id, "+5511988887777", ctx.opts))
    ctx:wire({ method = "GET", path = "~/session/paircode/%2B5511988887777" })
    assert.matches("^[A-Z0-9]+$", res.data.pair_code)
    assert.equals(8, #res.data.pair_code)
    assert.equals("+5511988887777", res.data.phone)

    -- entering the code connects the instance with that phone
    local summary = ctx:connect()
    assert.equals("connected", summary.status)
    local st = assert(c.sessions:status(ctx.id, ctx.opts))
    assert.equals("5511988887777", st.data.phone)
    ctx:clear()
    wire.failure(409, c.sessions:pair_code(ctx.id, "5511988887777", ctx.opts))
    assert(c.sessions:disconnect(ctx.id, ctx.opts))
  end)

  it("sessions.pair_code escapes the phone and takes an integer", function()
    assert(c.sessions:pair_code(ctx.id, "55 11/9", ctx.opts))
    ctx:wire({ method = "GET", path = "~/session/paircode/55%2011%2F9" })
    assert(c.sessions:pair_code(ctx.id, 5511988887777, ctx.opts))
    ctx:wire({ method = "GET", path = "~/session/paircode/5511988887777" })
  end)

  it("sessions.disconnect", function()
    ctx:connect()
    assert.equals("connected", assert(c.instances:get(ctx.id)).status)
    ctx:clear()
    local res = assert(c.sessions:disconnect(ctx.id, ctx.opts))
    ctx:wire({ method = "POST", path = "~/session/disconnect" })
    assert.same({ connected = false, status = "disconnected", details = "session disconnected" }, res.data)
    assert.equals("disconnected", assert(c.instances:get(ctx.id)).status)
    local st = assert(c.sessions:status(ctx.id, ctx.opts))
    assert.is_false(st.data.connected)
  end)

  it("sessions: argument errors before anything is sent", function()
    ctx:arg_error(function() c.sessions:status(nil, ctx.opts) end, 1, "status", "instance_id")
    ctx:arg_error(function() c.sessions:status(ctx.id) end, 2, "status", "instance_token")
    ctx:arg_error(function() c.sessions:qr(ctx.id, { instance_token = " " }) end, 2, "qr", "instance_token")
    ctx:arg_error(function() c.sessions:pair_code(ctx.id, nil, ctx.opts) end, 2, "pair_code", "phone")
    ctx:arg_error(function() c.sessions:pair_code(ctx.id, "", ctx.opts) end, 2, "pair_code", "phone")
    ctx:arg_error(function() c.sessions:disconnect(ctx.id, { token = "x" }) end, 2, "disconnect", "unknown option")
  end)

  it("sessions: a wrong instance token is a 401 failure tuple (after the one replay, D14)", function()
    local err = wire.failure(401, c.sessions:status(ctx.id, { instance_token = "wrong" }))
    assert.equals("INVALID_INSTANCE_TOKEN", err.code)
    assert.equals("auth", err.kind)
    local list = ctx.emu:api_requests()
    assert.equals(2, #list)
    for _, r in ipairs(list) do assert.equals("wrong", r.headers["x-instance-token"]) end
    ctx.jwt = assert(c.auth:get_access_token()) -- the replay fetched a new JWT
  end)
end)
