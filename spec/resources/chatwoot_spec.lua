-- spec/resources/chatwoot_spec.lua: client.chatwoot (contract §4.11, D9).
local wire = require("spec.support.wire")

describe("chatwoot", function()
  local ctx, c
  setup(function()
    ctx = wire.start("chatwoot")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  it("chatwoot.get", function()
    local res = assert(c.chatwoot:get(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/chatwoot" })
    assert.same({ enabled = false, configured = false }, res.data)
    ctx:arg_error(function() c.chatwoot:get(ctx.id) end, 2, "get", "instance_token")
  end)

  it("chatwoot.set", function()
    local body = { enabled = false, url = "https://chatwoot.example", account_id = "7", token = "cw-token",
                   name_inbox = "WhatsApp", sign_msg = false, reopen_conversation = true,
                   days_limit_import_messages = 0, ignore_jids = { "1203630@g.us" } }
    local res = assert(c.chatwoot:set(ctx:req(body)))
    ctx:wire({ method = "POST", path = "~/chatwoot", body = body,
               raw = { '"enabled":false', '"sign_msg":false', '"days_limit_import_messages":0' } })
    assert.is_false(res.data.enabled)
    assert.is_true(res.data.configured)
    -- round trip
    local got = assert(c.chatwoot:get(ctx.id, ctx.opts))
    assert.same(res.data, got.data)
    assert.same({ "1203630@g.us" }, got.data.ignore_jids)
    ctx:clear()
    assert(c.chatwoot:set(ctx:req({ ignore_jids = {} })))
    ctx:wire({ method = "POST", path = "~/chatwoot", body = { ignore_jids = {} }, raw = { '"ignore_jids":[]' } })
    wire.failure(400, c.chatwoot:set(ctx:req({ enabled = "yes" })))
  end)

  it("chatwoot.delete", function()
    assert(c.chatwoot:set(ctx:req({ url = "https://chatwoot.example" })))
    ctx:clear()
    local res = assert(c.chatwoot:delete(ctx.id, ctx.opts))
    ctx:wire({ method = "DELETE", path = "~/chatwoot" })
    assert.same({ deleted = true }, res.data)
    assert.is_false(assert(c.chatwoot:get(ctx.id, ctx.opts)).data.configured)
  end)

  it("chatwoot.trigger_import", function()
    local res = assert(c.chatwoot:trigger_import(ctx:req({ what = "contacts" })))
    ctx:wire({ method = "POST", path = "~/chatwoot/import/contacts" })
    assert.equals("accepted", res.data.status)
    assert.equals("contacts", res.data.what)
    assert.matches("^job_", res.data.job_id)
    res = assert(c.chatwoot:trigger_import(ctx:req({ what = "messages/all" })))
    ctx:wire({ method = "POST", path = "~/chatwoot/import/messages%2Fall" })
    assert.equals("messages/all", res.data.what)
    ctx:arg_error(function() c.chatwoot:trigger_import(ctx:req()) end, 1, "trigger_import", "'what'")
    ctx:arg_error(function() c.chatwoot:trigger_import(ctx:req({ what = "" })) end, 1, "trigger_import", "'what'")
  end)
end)
