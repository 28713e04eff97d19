-- spec/resources/users_spec.lua: client.users (contract §4.8): phone is
-- passed through as given (one string or a list).
local wire = require("spec.support.wire")

describe("users", function()
  local ctx, c
  setup(function()
    ctx = wire.start("users")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  it("users.info", function()
    local res = assert(c.users:info(ctx:req({ phone = "+5511988887777" })))
    ctx:wire({ method = "POST", path = "~/user/info", body = { phone = "+5511988887777" } })
    assert.equals(1, #res.data)
    assert.equals("5511988887777@s.whatsapp.net", res.data[1].jid)
    assert.is_true(res.data[1].is_on_whatsapp)
    assert.equals(require("vzaps").null, res.data[1].verified_name)
    -- no fields: no body, and the server's 400
    local err = wire.failure(400, c.users:info(ctx:req()))
    assert.equals("phone is required", err.message)
    ctx:wire({ method = "POST", path = "~/user/info" })
  end)

  it("users.check", function()
    local res = assert(c.users:check(ctx:req({ phone = { "5511988887777", "0001234567", "123" } })))
    ctx:wire({ method = "POST", path = "~/user/check", body = { phone = { "5511988887777", "0001234567", "123" } } })
    assert.same({ true, false, false }, { res.data[1].is_on_whatsapp, res.data[2].is_on_whatsapp, res.data[3].is_on_whatsapp })
    assert.equals("0001234567", res.data[2].query)
  end)

  it("users.avatar", function()
    local res = assert(c.users:avatar(ctx:req({ phone = "5511988887777" })))
    ctx:wire({ method = "POST", path = "~/user/avatar", body = { phone = "5511988887777" } })
    assert.equals("https://pps.whatsapp.local/v/5511988887777.jpg", res.data[1].url)
  end)

  it("users.contacts", function()
    assert(c.contacts:add(ctx:req({ phone = "5511922223333", first_name = "Caio", full_name = "Caio Reis" })))
    ctx:clear()
    local res = assert(c.users:contacts(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/user/contacts" })
    assert.equals(1, res.total)
    assert.same({ phone = "5511922223333", jid = "5511922223333@s.whatsapp.net", first_name = "Caio",
                  full_name = "Caio Reis", push_name = "Caio" }, res.data[1])
    ctx:arg_error(function() c.users:contacts(ctx.id, {}) end, 2, "contacts", "instance_token")
  end)
end)
