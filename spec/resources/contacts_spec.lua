-- spec/resources/contacts_spec.lua: client.contacts (contract §4.6).
local wire = require("spec.support.wire")

describe("contacts", function()
  local ctx, c
  setup(function()
    ctx = wire.start("contacts")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  it("contacts.add", function()
    local body = { phone = "+55 11 97777-6666", first_name = "Ana", full_name = "Ana Souza" }
    local res = assert(c.contacts:add(ctx:req(body)))
    ctx:wire({ method = "POST", path = "~/contact/add", body = body })
    assert.equals("5511977776666", res.data.phone)
    assert.equals("5511977776666@s.whatsapp.net", res.data.jid)
    assert.equals("Ana Souza", res.data.full_name)
    for _, f in ipairs({ "phone", "first_name", "full_name" }) do
      local t = ctx:req(body)
      t[f] = nil
      ctx:arg_error(function() c.contacts:add(t) end, 1, "add", "'" .. f .. "'")
    end
  end)

  it("contacts.list", function()
    assert(c.contacts:add(ctx:req({ phone = "5511966665555", first_name = "Bia", full_name = "Bia Lima" })))
    -- add is an upsert by phone
    assert(c.contacts:add(ctx:req({ phone = "5511966665555", first_name = "Beatriz", full_name = "Beatriz Lima" })))
    ctx:clear()
    local res = assert(c.contacts:list(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/contact/list" })
    local found
    for _, ct in ipairs(res.data) do
      if ct.phone == "5511966665555" then found = ct end
    end
    assert.equals("Beatriz Lima", found.full_name)
    assert.equals(#res.data, res.total)
    ctx:arg_error(function() c.contacts:list(ctx.id, "tok") end, 2, "list", "options table expected")
  end)
end)
