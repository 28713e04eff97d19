-- The `observe` client option (issue "request hooks"): one report per
-- attempt with every field, payloads only on opt-in and then redacted, and
-- a hook that raises never breaks the call.
local emulator = require("spec.support.emulator")

describe("observe", function()
  local emu, inst
  emulator.fixture({}, function(e)
    emu = e
    inst = emu:new_instance("observe")
  end)

  local function watched(opts)
    local seen = {}
    opts = opts or {}
    opts.observe = function(info) seen[#seen + 1] = info end
    opts.retry_backoff = opts.retry_backoff or 0.01
    return emu:client(opts), seen
  end

  it("reports every attempt with its operation, route, outcome and timings", function()
    local c, seen = watched()
    assert(c.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "5511999", message = "m" }))
    assert.equals(2, #seen) -- the token, then the call
    local t, s = seen[1], seen[2]
    assert.equals("auth.token", t.op)
    assert.equals("POST", t.method)
    assert.equals("/token", t.path)
    assert.equals("messages.send_text", s.op)
    assert.equals("POST", s.method)
    assert.equals("/instances/" .. inst.id .. "/chat/send/text", s.path)
    assert.equals(1, s.attempt)
    assert.equals(200, s.status)
    assert.equals("ok", s.kind)
    assert.is_false(s.retry)
    assert.is_nil(s.retry_reason)
    for _, k in ipairs({ "name_lookup", "connect", "tls", "first_byte", "total" }) do
      assert.is_number(s.timings[k], k)
      assert(s.timings[k] >= 0 and s.timings[k] < 10, k)
    end
    assert(s.timings.total >= s.timings.first_byte)
    assert.is_nil(s.request_headers) -- payloads only on opt-in
    assert.is_nil(s.request_body)
    assert.is_nil(s.response)
    c:close()
  end)

  it("reports a retry with its reason and delay, then the answer", function()
    local c, seen = watched({ max_retries = 2 })
    local path = "/instances/" .. inst.id .. "/session/status"
    emu:script({ path = path, status = 503, times = 1 })
    assert(c.sessions:status(inst.id, { instance_token = inst.token }))
    local calls = {}
    for _, s in ipairs(seen) do if s.op == "sessions.status" then calls[#calls + 1] = s end end
    assert.equals(2, #calls)
    assert.equals(503, calls[1].status)
    assert.equals("http", calls[1].kind)
    assert.is_true(calls[1].retry)
    assert.matches("status 503", calls[1].retry_reason, 1, true)
    assert.is_number(calls[1].retry_delay)
    assert.equals(2, calls[2].attempt)
    assert.equals("ok", calls[2].kind)
    c:close()
  end)

  it("reports a failure's kind, a 401 replay, and a network failure", function()
    local c, seen = watched({ max_retries = 0 })
    assert.is_nil(c.instances:get("VZ-missing"))
    assert.equals("http", seen[#seen].kind)
    assert.equals(404, seen[#seen].status)
    emu:revoke()
    assert(c.instances:get(inst.id))
    local replay
    for _, s in ipairs(seen) do if s.status == 401 then replay = s end end
    assert.equals("auth", replay.kind)
    assert.matches("401", replay.retry_reason, 1, true)
    c:close()
    local d, seen2 = watched({ max_retries = 0, base_url = "http://127.0.0.1:9" })
    assert.is_nil(d.instances:get("x"))
    assert.equals("network", seen2[#seen2].kind)
    assert.is_nil(seen2[#seen2].status)
    d:close()
  end)

  it("with observe_payloads, gives headers and bodies, redacted", function()
    local c, seen = watched({ observe_payloads = true })
    assert(c.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "5511999", message = "m" }))
    local t, s = seen[1], seen[2]
    assert.is_string(t.request_body)
    assert.is_nil(t.request_body:find(emulator.CLIENT_SECRET, 1, true), "the secret leaked into the report")
    assert.matches("[REDACTED]", t.request_body, 1, true)
    assert.same({ message = "m", phone = "5511999" }, require("cjson").decode(s.request_body))
    local h = s.request_headers
    assert.equals("application/json", h["Content-Type"])
    assert.equals("Bearer [REDACTED]", h.Authorization)
    assert.equals("[REDACTED]", h["X-Instance-Token"])
    assert.equals("[REDACTED]", h["X-Client-Token"])
    assert.is_table(s.response)
    for _, info in ipairs(seen) do
      for _, v in pairs(info.request_headers or {}) do
        assert.is_nil(v:find(inst.token, 1, true))
      end
    end
    c:close()
  end)

  it("a hook that raises never breaks the call", function()
    local n = 0
    local c = emu:client({ observe = function() n = n + 1; error("hook broke") end })
    local res = assert(c.instances:get(inst.id))
    assert.equals(inst.id, res.id)
    assert.equals(2, n)
    c:close()
  end)

  it("reports the attempts of spawned jobs too, with their timings", function()
    local c, seen = watched()
    local job = c:spawn(function() return c.instances:get(inst.id) end)
    while c:pump(0.01) > 0 do end
    assert.equals(inst.id, job:result().id)
    local s = seen[#seen]
    assert.equals("instances.get", s.op)
    assert.is_number(s.timings.total)
    c:close()
  end)

  it("reports a custom transport's attempts without timings", function()
    local asked = {}
    local c, seen = watched({
      transport = function(req)
        asked[#asked + 1] = req.method .. " " .. req.url
        if req.url:find("/token$") then
          return { status = 200, body = '{"access_token":"jwt-observe","expires_in":3600}' }
        end
        return { status = 200, body = '{"id":"' .. inst.id .. '"}', headers = { ["X-Request-Id"] = "rq-7" } }
      end,
    })
    assert.equals(inst.id, assert(c.instances:get(inst.id)).id)
    assert.same({ "POST " .. emu.url .. "/token", "POST " .. emu.url .. "/instances/get" }, asked)
    assert.equals(2, #seen)
    local s = seen[2]
    assert.equals("instances.get", s.op)
    assert.equals("POST", s.method)
    assert.equals("/instances/get", s.path)
    assert.equals("ok", s.kind)
    assert.equals("rq-7", s.request_id)
    assert.is_nil(s.timings)
    assert.is_nil(seen[1].timings)
    c:close()
  end)

  it("rejects a hook that is not a function", function()
    assert.has_error(function() emu:client({ observe = 42 }) end)
    assert.has_error(function() emu:client({ observe_payloads = "yes" }) end)
  end)
end)
