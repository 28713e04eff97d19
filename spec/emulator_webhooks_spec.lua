-- spec/emulator_webhooks_spec.lua: the emulator delivers webhooks (contract
-- §4.5, §7; emulator/lib/webhooks.lua). A tiny LuaSocket receiver on
-- 127.0.0.1 stands in for the customer's server; the client sets the
-- webhook, sends a text and reads the delivery logs. Only loopback URLs are
-- ever connected to; the others must be refused without a connection.
local emulator = require("spec.support.emulator")
local socket = require("socket")
local vzaps = require("vzaps")

local cjson = emulator.json
local PHONE = "5511988887777"

describe("emulator webhook delivery", function()
  local emu, client
  emulator.fixture({ max_retries = 0 }, function(e, c) emu, client = e, c end)

  -- -------------------------------------------------------------------------
  -- helpers
  -- -------------------------------------------------------------------------

  -- A listening socket on a free loopback port; url is where to deliver.
  local function receiver(path)
    local srv = assert(socket.bind("127.0.0.1", 0))
    srv:settimeout(5) -- accept waits at most this long
    local _, port = srv:getsockname()
    port = tonumber(port)
    return { srv = srv, port = port, url = "http://127.0.0.1:" .. port .. (path or "/hook") }
  end

  -- Accepts one connection, reads one HTTP/1.1 request and answers `status`;
  -- returns {method, target, headers = {lowercase = value}, body, json}.
  local function serve_one(rcv, status)
    local conn = assert(rcv.srv:accept())
    conn:settimeout(5)
    local line = assert(conn:receive("*l"))
    local method, target = line:match("^(%u+) (%S+) HTTP/1%.1$")
    assert(method, "not an HTTP/1.1 request line: " .. line)
    local headers = {}
    for _ = 1, 100 do
      local h = assert(conn:receive("*l"))
      if h == "" then break end
      local k, v = h:match("^([^:]+):%s*(.-)%s*$")
      headers[k:lower()] = v
    end
    assert.is_nil(headers["transfer-encoding"], "expected a Content-Length body")
    local n = tonumber(headers["content-length"] or "0")
    local body = n > 0 and assert(conn:receive(n)) or ""
    local text = status < 300 and "ok" or "boom"
    conn:send(("HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
      :format(status, #text, text))
    conn:close()
    local ok, decoded = pcall(cjson.decode, body)
    return { method = method, target = target, headers = headers, body = body, json = ok and decoded or nil }
  end

  local function new_instance(t)
    t.name = t.name or "Webhook spec"
    return assert(client.instances:create(t))
  end

  local function req(inst, t)
    local out = { instance_id = inst.id, instance_token = inst.token }
    for k, v in pairs(t or {}) do out[k] = v end
    return out
  end

  local function send_text(inst, text)
    local res = assert(client.messages:send_text(req(inst, { phone = PHONE, message = text or "hello hook" })))
    return res.data.message_id
  end

  -- The delivery attempts of inst that have ended, waiting (bounded) until
  -- there are at least n.
  local function attempts(inst, n, timeout)
    local code, res = emu:control("GET", ("/__emu/webhooks/attempts?instance_id=%s&min=%d&timeout=%g")
      :format(inst.id, n, timeout or 5))
    assert.equals(200, code)
    return res.attempts, res
  end

  local function ended(inst, n)
    local list, res = attempts(inst, n)
    assert.is_false(res.timed_out, ("expected %d ended attempts, got %d"):format(n, #list))
    return list
  end

  local function the_log(inst)
    local res = assert(client.webhooks:search_logs(req(inst)))
    assert.equals(1, res.total, "expected one delivery log")
    return res.data[1]
  end

  local function get_log(inst, id)
    return assert(client.webhooks:get_log(req(inst, { log_id = id }))).data
  end

  -- -------------------------------------------------------------------------
  -- delivery
  -- -------------------------------------------------------------------------

  it("POSTs the realtime envelope as JSON to the instance's webhook and logs a success", function()
    local rcv = receiver("/hook?k=1")
    finally(function() rcv.srv:close() end)
    local inst = new_instance({ webhook = rcv.url, events_subscribe = { "Message" } })
    local mid = send_text(inst, "to the hook")
    local got = serve_one(rcv, 200)

    assert.equals("POST", got.method)
    assert.equals("/hook?k=1", got.target)
    assert.equals("127.0.0.1:" .. rcv.port, got.headers.host)
    assert.equals("application/json", got.headers["content-type"])
    assert.equals(tostring(#got.body), got.headers["content-length"])
    local env = assert(got.json, "the body is JSON")
    assert.equals("Message", env.type)
    assert.equals(inst.id, env.instance_id)
    assert.matches("^evt_", env.id)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", env.created_at)
    assert.equals("message", env.data.type)
    assert.equals(mid, env.data.event.id)
    assert.equals("to the hook", env.data.event.content.message)

    local a = ended(inst, 1)
    assert.equals(1, #a)
    assert.is_true(a[1].success)
    assert.equals(200, a[1].response_status)

    local log = the_log(inst)
    assert.matches("^whl_", log.id)
    assert.equals("Message", log.event)
    assert.equals(env.id, log.event_id)
    assert.equals(rcv.url, log.url)
    assert.equals("delivered", log.status)
    assert.is_true(log.success)
    assert.equals(200, log.response_status)
    assert.equals(vzaps.null, log.error)
    assert.equals(1, log.attempts)
    assert.is_string(log.created_at)
    assert.is_string(log.delivered_at)
    assert.same(env, log.payload)
    assert.equals(1, #log.history)
    assert.equals("delivered", log.history[1].status)
    assert.equals("ok", log.history[1].response_body)

    -- an event type the instance did not subscribe to is neither sent nor logged
    local code = emu:control("POST", "/__emu/instances/" .. inst.id .. "/connect")
    assert.equals(200, code)
    assert.equals(1, assert(client.webhooks:search_logs(req(inst))).total)
  end)

  it("webhooks:set with events: a 500 answer is logged as failed", function()
    local rcv = receiver()
    finally(function() rcv.srv:close() end)
    local inst = new_instance({})
    assert(client.webhooks:set(req(inst, { webhook_url = rcv.url, events = { "Message" } })))
    send_text(inst)
    local got = serve_one(rcv, 500)
    assert.equals("Message", got.json.type)
    assert.equals(inst.id, got.json.instance_id)

    local a = ended(inst, 1)
    assert.is_false(a[1].success)
    assert.equals(500, a[1].response_status)
    local log = get_log(inst, the_log(inst).id)
    assert.equals("failed", log.status)
    assert.is_false(log.success)
    assert.equals(500, log.response_status)
    assert.matches("HTTP 500", log.error)
    assert.equals(1, log.attempts)
    assert.equals(vzaps.null, log.delivered_at)
    -- the filters of search_logs see it
    assert.equals(1, assert(client.webhooks:search_logs(req(inst, { status = "failed" }))).total)
    assert.equals(0, assert(client.webhooks:search_logs(req(inst, { status = "delivered" }))).total)
  end)

  it("nothing listening on the URL: logged as failed (connection refused)", function()
    local inst = new_instance({ webhook = "http://127.0.0.1:" .. emulator.free_port() .. "/hook" })
    send_text(inst)
    local a = ended(inst, 1)
    assert.is_false(a[1].success)
    assert.matches("refused", a[1].error)
    local log = the_log(inst)
    assert.equals("failed", log.status)
    assert.equals(vzaps.null, log.response_status)
    assert.matches("connection refused", log.error)
  end)

  it("an answer that never comes: logged as failed after the delivery timeout", function()
    assert.equals(204, (emu:control("POST", "/__emu/config", { webhook_timeout = 0.3 })))
    local rcv = receiver() -- listens, never accepts: the request sits unanswered
    finally(function()
      emu:config({ webhook_timeout = 5 })
      rcv.srv:close()
    end)
    local inst = new_instance({ webhook = rcv.url })
    send_text(inst)
    local a = ended(inst, 1)
    assert.is_false(a[1].success)
    assert.matches("timeout", a[1].error)
    assert.equals("failed", the_log(inst).status)
  end)

  it("a pending delivery blocks neither the sender nor other requests", function()
    local rcv = receiver() -- not answering until the end of the test
    finally(function() rcv.srv:close() end)
    local inst = new_instance({ webhook = rcv.url })
    local t0 = socket.gettime()
    send_text(inst)
    assert(client.instances:get(inst.id))
    assert(client.webhooks:get(inst.id, { instance_token = inst.token }))
    assert.is_true(socket.gettime() - t0 < 2, "requests waited for the delivery")
    local list, res = attempts(inst, 0, 0)
    assert.equals(0, #list)
    assert.equals(1, res.in_flight)
    assert.equals("pending", the_log(inst).status)
    serve_one(rcv, 204) -- now answer it
    assert.is_true(ended(inst, 1)[1].success)
    assert.equals("delivered", the_log(inst).status)
  end)

  it("localhost URLs are delivered (to 127.0.0.1, Host: localhost)", function()
    local rcv = receiver()
    finally(function() rcv.srv:close() end)
    local url = "http://localhost:" .. rcv.port .. "/h"
    local inst = new_instance({ webhook = url })
    send_text(inst)
    local got = serve_one(rcv, 200)
    assert.equals("localhost:" .. rcv.port, got.headers.host)
    assert.equals("/h", got.target)
    assert.is_true(ended(inst, 1)[1].success)
  end)

  it("a large event goes out in one Content-Length body, without Expect: 100-continue", function()
    local rcv = receiver()
    finally(function() rcv.srv:close() end)
    local inst = new_instance({ webhook = rcv.url })
    local code, big = emu:control("POST", "/__emu/realtime/big", { instance_id = inst.id, size = 200000 })
    assert.equals(200, code)
    local got = serve_one(rcv, 200)
    assert.is_nil(got.headers.expect)
    assert.equals(big.id, got.json.id)
    assert.equals(200000, #got.json.data.blob)
    assert.is_true(ended(inst, 1)[1].success)
  end)

  -- -------------------------------------------------------------------------
  -- retry_log
  -- -------------------------------------------------------------------------

  it("retry_log re-sends the delivery: a new attempt on the same log", function()
    local rcv = receiver()
    finally(function() rcv.srv:close() end)
    local inst = new_instance({ webhook = rcv.url })
    send_text(inst)
    local first = serve_one(rcv, 500)
    ended(inst, 1)
    local log = the_log(inst)
    assert.equals("failed", log.status)

    local res = assert(client.webhooks:retry_log(req(inst, { log_id = log.id })))
    assert.equals(log.id, res.data.id)
    assert.equals(2, res.data.attempts)
    assert.equals("pending", res.data.status) -- answered before the attempt ends
    assert.is_string(res.data.last_retry_at)
    local again = serve_one(rcv, 200)
    assert.equals(first.body, again.body) -- the same delivery, byte for byte
    local a = ended(inst, 2)
    assert.equals(log.id, a[2].log_id)
    assert.equals(2, a[2].attempt)
    assert.is_true(a[2].success)

    local after = get_log(inst, log.id)
    assert.equals("delivered", after.status)
    assert.equals(2, after.attempts)
    assert.equals(200, after.response_status)
    assert.equals(2, #after.history)
    assert.equals("failed", after.history[1].status)
    assert.equals("delivered", after.history[2].status)
    assert.equals(1, assert(client.webhooks:search_logs(req(inst))).total, "no new log entry")
  end)

  -- -------------------------------------------------------------------------
  -- non-loopback URLs
  -- -------------------------------------------------------------------------

  -- A refused URL ends its attempt before send_text answers, with no
  -- connection: a connection attempt to these addresses could only end by
  -- the 5 s timeout, so "failed" at once (nothing in flight) shows none was
  -- made.
  local function assert_refused(inst, why)
    local log = the_log(inst)
    assert.equals("failed", log.status, log.url)
    assert.is_false(log.success)
    assert.equals(vzaps.null, log.response_status)
    assert.matches(why, log.error)
    local list, res = attempts(inst, 1, 0)
    assert.equals(1, #list)
    assert.is_true(list[1].refused)
    assert.equals(0, res.in_flight)
    return log
  end

  it("a non-loopback URL is refused and logged, never connected to", function()
    local inst = new_instance({ webhook = "http://10.1.2.3/hook" })
    send_text(inst)
    local log = assert_refused(inst, "10%.1%.2%.3 is not a loopback host")
    -- retrying it is refused the same way
    local res = assert(client.webhooks:retry_log(req(inst, { log_id = log.id })))
    assert.equals(2, res.data.attempts)
    assert.equals("failed", res.data.status)
    local list = attempts(inst, 2, 0)
    assert.equals(2, #list)
    assert.is_true(list[2].refused)
  end)

  it("URLs that only look local are refused too", function()
    local urls = {
      { "http://127.0.0.1@10.1.2.3/hook", "userinfo" },
      { "http://10.1.2.3:80@127.0.0.1/hook", "userinfo" },
      { "http://localhost.example.com/hook", "not a loopback host" },
      { "http://127.0.0.1.nip.io/hook", "not a loopback host" },
      { "http://127.1/hook", "not a loopback host" },
      { "http://[::ffff:10.1.2.3]/hook", "not a loopback host" },
      { "http://0.0.0.0/hook", "not a loopback host" },
      { "ftp://127.0.0.1/hook", "not http or https" },
      { "127.0.0.1/hook", "not an absolute" },
    }
    for _, case in ipairs(urls) do
      local inst = new_instance({ webhook = case[1] })
      local code = emu:control("POST", "/__emu/instances/" .. inst.id .. "/events", { type = "Message", data = {} })
      assert.equals(200, code)
      assert_refused(inst, case[2])
    end
  end)
end)
