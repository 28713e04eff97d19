-- spec/resources/webhooks_spec.lua: client.webhooks (contract §4.5, D7):
-- the configuration round-trips, and the delivery logs of emitted events
-- can be searched, read and retried.
local wire = require("spec.support.wire")

describe("webhooks", function()
  local ctx, c
  setup(function()
    ctx = wire.start("webhooks")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  -- A delivery log entry for one sent message (the log cleared).
  local function a_log()
    local mid = ctx:send_text("5511977776666", "log me")
    local res = assert(c.webhooks:search_logs(ctx:req({ event = "Message" })))
    ctx:clear()
    for _, l in ipairs(res.data) do
      if l.payload.data.event.id == mid then return l, mid end
    end
    error("no log for " .. mid)
  end

  it("webhooks.get", function()
    local res = assert(c.webhooks:get(ctx.id, ctx.opts))
    ctx:wire({ method = "GET", path = "~/webhook" })
    assert.is_false(res.data.enabled)
    assert.equals(0, #res.data.events)
    ctx:arg_error(function() c.webhooks:get(ctx.id) end, 2, "get", "instance_token")
    ctx:arg_error(function() c.webhooks:get(nil, ctx.opts) end, 1, "get", "instance_id")
  end)

  it("webhooks.set", function()
    local res = assert(c.webhooks:set(ctx:req({ webhook_url = "https://example.com/hook", events = { "Message", "Connected" } })))
    ctx:wire({ method = "POST", path = "~/webhook",
               body = { webhook_url = "https://example.com/hook", events = { "Message", "Connected" } } })
    assert.same({ webhook_url = "https://example.com/hook", events = { "Message", "Connected" }, enabled = true }, res.data)
    -- round trip through get, and through the instance
    local got = assert(c.webhooks:get(ctx.id, ctx.opts))
    assert.same(res.data, got.data)
    local inst = assert(c.instances:get(ctx.id))
    assert.equals("https://example.com/hook", inst.webhook)
    assert.same({ "Message", "Connected" }, inst.events_subscribe)
    ctx:clear()
    -- an empty event list is [] (all events)
    res = assert(c.webhooks:set(ctx:req({ webhook_url = "https://example.com/all", events = {} })))
    ctx:wire({ method = "POST", path = "~/webhook", body = { webhook_url = "https://example.com/all", events = {} },
               raw = { '"events":[]' } })
    assert.equals(0, #res.data.events)
    ctx:arg_error(function() c.webhooks:set(ctx:req({ events = { "Message" } })) end, 1, "set", "'webhook_url'")
  end)

  -- The emulator delivers to loopback receivers only: a delivery to
  -- example.com is refused, and logged as failed (emulator/README.md).
  it("webhooks.search_logs", function()
    assert(c.webhooks:set(ctx:req({ webhook_url = "https://example.com/hook", events = { "Message" } })))
    ctx:clear()
    local mid = ctx:send_text("5511977776666", "logged")
    -- example.com is not loopback: the emulator refuses to deliver there
    -- and logs the attempt as failed (emulator/README.md, webhook delivery)
    local res = assert(c.webhooks:search_logs(ctx:req({ status = "failed", event = "Message", page = 1, size = 50 })))
    ctx:wire({ method = "POST", path = "~/webhook/logs/search",
               body = { status = "failed", event = "Message", page = 1, size = 50 } })
    assert.is_true(res.total >= 1)
    local last = res.data[#res.data]
    assert.matches("^whl_", last.id)
    assert.equals("Message", last.event)
    assert.equals(mid, last.payload.data.event.id)
    -- no filters: no body at all (D3)
    res = assert(c.webhooks:search_logs(ctx:req()))
    ctx:wire({ method = "POST", path = "~/webhook/logs/search" })
    assert.is_true(res.total >= 1)
    -- a filter nothing matches
    res = assert(c.webhooks:search_logs(ctx:req({ event = "Connected" })))
    assert.equals(0, res.total)
  end)

  it("webhooks.get_log", function()
    assert(c.webhooks:set(ctx:req({ webhook_url = "https://example.com/hook", events = {} })))
    ctx:clear()
    local log, mid = a_log()
    local res = assert(c.webhooks:get_log(ctx:req({ log_id = log.id })))
    ctx:wire({ method = "GET", path = "~/webhook/logs/" .. log.id })
    assert.equals(log.id, res.data.id)
    assert.equals("failed", res.data.status) -- example.com: refused, not loopback
    assert.equals(1, res.data.attempts)
    assert.equals(mid, res.data.payload.data.event.id)
    local err = wire.failure(404, c.webhooks:get_log(ctx:req({ log_id = "whl_a/b" })))
    assert.equals("webhook log not found", err.message)
    ctx:wire({ method = "GET", path = "~/webhook/logs/whl_a%2Fb" })
    ctx:arg_error(function() c.webhooks:get_log(ctx:req()) end, 1, "get_log", "'log_id'")
    ctx:arg_error(function() c.webhooks:get_log(ctx:req({ log_id = "x", extra = 1 })) end, 1, "get_log", "unexpected field")
  end)

  it("webhooks.retry_log", function()
    assert(c.webhooks:set(ctx:req({ webhook_url = "https://example.com/hook" })))
    ctx:clear()
    local log = a_log()
    local res = assert(c.webhooks:retry_log(ctx:req({ log_id = log.id })))
    ctx:wire({ method = "POST", path = "~/webhook/logs/" .. log.id .. "/retry" })
    assert.equals(2, res.data.attempts)
    assert.is_string(res.data.last_retry_at)
    assert.equals(2, assert(c.webhooks:get_log(ctx:req({ log_id = log.id }))).data.attempts)
    wire.failure(404, c.webhooks:retry_log(ctx:req({ log_id = "nope" })))
    ctx:arg_error(function() c.webhooks:retry_log(ctx:req()) end, 1, "retry_log", "'log_id'")
    ctx:arg_error(function() c.webhooks:retry_log(ctx:req({ log_id = "x", force = true })) end, 1, "retry_log",
      "unexpected field 'force'")
  end)
end)
