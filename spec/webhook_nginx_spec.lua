-- spec/webhook_nginx_spec.lua: hook:ngx(), the webhook receiver as a
-- content handler in a real nginx (Debian's nginx with libnginx-mod-http-lua,
-- four workers; spec/support/nginx_workers.conf), over real HTTP: statuses
-- for every malformed delivery, the key guard, a raising handler, bodies
-- nginx keeps in a temporary file, and de-duplication across workers in a
-- lua_shared_dict. What a handler did is read back through /results.
local emulator = require("spec.support.emulator")
local nginx = require("spec.support.nginx")
local socket = require("socket")
local cjson = emulator.json

local missing = nginx.missing(nginx.build_dir())
-- Upper time bounds stretch under valgrind (make check-valgrind).
local SLOW = os.getenv("VZAPS_VALGRIND") and 8 or 1
local KEY = "spec-webhook-key-" .. string.rep("x", 16)

describe("webhook receiver in nginx (hook:ngx)", function()
  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  local emu, srv
  nginx.fixture(function(e, s) emu, srv = e, s end, "spec/support/nginx_workers.conf", { WEBHOOK_KEY = KEY })

  before_each(function()
    emu:reset()
    assert.equals(200, (srv:get("/reset")))
  end)

  local HOOK = "/hook?key=" .. KEY

  local function envelope(id, t, data)
    return cjson.encode({ id = id, type = t or "Message", instance_id = "VZ1",
                          created_at = "2026-06-23T22:57:17.000Z", data = data or { type = t or "Message", n = 1 } })
  end

  local function results(ids)
    local status, body = srv:get("/results?ids=" .. table.concat(ids or {}, ","))
    assert.equals(200, status, body)
    return cjson.decode(body)
  end

  local function post(body, path, method)
    local status, text = srv:post(path or HOOK, body, method)
    local ok, v = pcall(cjson.decode, text)
    return status, ok and v or text
  end

  it("answers 200 and runs the handlers for an envelope; the effect is visible in another location", function()
    local status, v = post(envelope("evt_ok_1"))
    assert.equals(200, status, srv:log())
    assert.is_true(v.ok)
    local r = results({ "evt_ok_1" })
    assert.equals(1, r.by.evt_ok_1)
    assert.equals("evt_ok_1", r.last.id)
    assert.equals("VZ1", r.last.instance_id)
    assert.equals(1, r.last.data.n)
  end)

  it("answers 200 for a bare data payload", function()
    local status = post(cjson.encode({ type = "Connected", event = { phone = "5511" } }))
    assert.equals(200, status)
    local r = results({ "Connected" })
    assert.equals(1, r.by.Connected)
    assert.equals("Connected", r.last.type)
    assert.equals("5511", r.last.data.event.phone)
  end)

  it("reads a body nginx buffered to a temporary file", function()
    local blob = string.rep("z", 200 * 1024) -- over client_body_buffer_size (16k)
    local status = post(envelope("evt_file", "Message", { blob = blob }), "/hook-file?key=" .. KEY)
    assert.equals(200, status, srv:log())
    local r = results({ "evt_file" })
    assert.equals(1, r.by.evt_file)
    assert.equals(#blob, #r.last.data.blob)
  end)

  describe("a malformed delivery gets 400 (413 when too large) and runs no handler", function()
    local cases = {
      { "not JSON", "this is not json", 400 },
      { "JSON of the wrong shape (array)", '[{"type":"Message"}]', 400 },
      { "JSON of the wrong shape (no type)", '{"id":"e1","data":{}}', 400 },
      { "JSON of the wrong shape (number id)", '{"id":5,"type":"Message","data":{}}', 400 },
      { "empty", "", 400 },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local status, v = post(c[2])
        assert.equals(c[3], status)
        assert.is_false(v.ok)
        assert.equals("INVALID_DELIVERY", v.code)
        assert.equals(0, results().runs)
      end)
    end

    it("10 MB (Content-Length over max_body: refused before it is read)", function()
      local big = '{"type":"Message","data":{"blob":"' .. string.rep("x", 10 * 1024 * 1024) .. '"}}'
      local status, v = post(big)
      assert.equals(413, status)
      assert.equals("BODY_TOO_LARGE", v.code)
      assert.equals(0, results().runs)
    end)

    it("10 MB chunked (no Content-Length: read to the temporary file, then refused)", function()
      local c = assert(socket.tcp())
      c:settimeout(30)
      assert(c:connect("127.0.0.1", srv.port))
      local big = '{"type":"Message","data":{"blob":"' .. string.rep("x", 10 * 1024 * 1024) .. '"}}'
      c:send("POST /hook-file?key=" .. KEY .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        .. string.format("%x", #big) .. "\r\n" .. big .. "\r\n0\r\n\r\n")
      local data, _, partial = c:receive("*a")
      c:close()
      data = data or partial
      assert.equals("413", data:match("^HTTP/1%.1 (%d+)"))
      assert.equals(0, results().runs)
    end)
  end)

  describe("the key guard", function()
    it("refuses a missing key with 401 and runs no handler", function()
      local status, v = post(envelope("evt_nokey"), "/hook")
      assert.equals(401, status)
      assert.equals("INVALID_KEY", v.code)
      assert.equals(0, results().runs)
    end)

    it("refuses a wrong key with 401 and runs no handler", function()
      local status = post(envelope("evt_badkey"), "/hook?key=" .. KEY:sub(1, -2) .. "y")
      assert.equals(401, status)
      status = post(envelope("evt_badkey"), "/hook?key=short")
      assert.equals(401, status)
      status = post(envelope("evt_badkey"), "/hook?key=" .. KEY .. "&key=" .. KEY)
      assert.equals(401, status)
      assert.equals(0, results().runs)
    end)

    it("checks the key before the method or the body", function()
      assert.equals(401, (post(nil, "/hook", "GET")))
      assert.equals(405, (post(nil, HOOK, "GET")))
    end)

    it("takes a percent-encoded key", function()
      local status = post(envelope("evt_esc"), "/hook?key=" .. KEY:gsub("%-", "%%2D"))
      assert.equals(200, status)
    end)

    it("never writes the key to the error log", function()
      local before = #srv:log()
      post(envelope("evt_log"), "/hook?key=wrong-" .. KEY:sub(7))
      post("not json", HOOK)
      post(envelope("evt_boom", "Boom"), HOOK)
      -- the lines are written from timers, in whichever worker took each
      -- request, so in no set order: wait for all three
      local lines = { "webhook key is wrong", "is not JSON", "the Boom handler raised" }
      local function absent(text)
        for _, line in ipairs(lines) do
          if not text:find(line, 1, true) then return line end
        end
      end
      local log
      local deadline = socket.gettime() + 10 * SLOW
      repeat
        log = srv:log():sub(before + 1)
        if absent(log) then socket.sleep(0.02) end
      until not absent(log) or socket.gettime() > deadline
      assert.truthy(log:find("webhook key is wrong", 1, true), log)
      assert.truthy(log:find("is not JSON", 1, true), log)
      assert.truthy(log:find("the Boom handler raised", 1, true), log)
      assert.is_nil(log:find(KEY, 1, true))
      assert.is_nil(log:find(KEY:sub(7), 1, true))
    end)
  end)

  it("answers 500 when a handler raised; the other handlers ran; the retry runs them again", function()
    local status, v = post(envelope("evt_boom_1", "Boom"))
    assert.equals(500, status)
    assert.equals("HANDLER_ERROR", v.code)
    assert.is_nil(v.error:find("Boom handler raised", 1, true)) -- not sent to the caller
    -- the All handler ran (documented: every handler runs)
    assert.equals(1, results({ "evt_boom_1" }).by.evt_boom_1)
    -- not recorded as handled: the platform's retry (or retry_log) runs it again
    assert.equals(500, (post(envelope("evt_boom_1", "Boom"))))
    assert.equals(2, results({ "evt_boom_1" }).by.evt_boom_1)
  end)

  it("runs the handlers of a repeated delivery once, across workers", function()
    local body = envelope("evt_dup")
    assert.equals(200, (post(body)))
    -- the same delivery again, many times at once: every worker answers 200
    local conns = {}
    for i = 1, 20 do conns[i] = srv:open(HOOK, body) end
    for _, c in ipairs(conns) do assert.equals(200, (c.finish())) end
    assert.equals(1, results({ "evt_dup" }).by.evt_dup)
    -- and concurrent first deliveries of a new id, while a handler yields
    local slow = envelope("evt_slow", "Slow")
    for i = 1, 20 do conns[i] = srv:open(HOOK, slow) end
    for _, c in ipairs(conns) do assert.equals(200, (c.finish())) end
    assert.equals(1, results({ "evt_slow" }).by.evt_slow)
  end)

  describe("end to end: the emulator delivers", function()
    local client

    setup(function() client = emu:client() end)
    teardown(function() if client then client:close() end end)

    local function instance(webhook, events)
      local inst = assert(client.instances:create({ name = "Webhook e2e", webhook = webhook,
                                                    events_subscribe = events or { "All" } }))
      return inst, client:instance(inst.id, inst.token)
    end

    -- The ended delivery attempts of inst, waiting (bounded) for n of them.
    local function attempts(inst, n)
      local code, res = emu:control("GET", ("/__emu/webhooks/attempts?instance_id=%s&min=%d&timeout=10")
        :format(inst.id, n))
      assert.equals(200, code)
      assert.is_false(res.timed_out, ("expected %d ended attempts, got %d\n%s"):format(n, #res.attempts, srv:log()))
      return res.attempts
    end

    -- webhooks:retry_log on the first delivery log that filter finds.
    local function replay(h, filter)
      local logs = assert(h.webhooks:search_logs(filter))
      assert(h.webhooks:retry_log({ log_id = logs.data[1].id }))
    end

    it("a messages:send_text to a subscribed instance reaches the handler; retry_log does not run it twice", function()
      local inst, h = instance(srv.url .. HOOK, { "Message" })
      local sent = assert(h.messages:send_text({ phone = "5511988887777", message = "to the receiver" }))
      assert.is_string(sent.data.message_id)
      local list = attempts(inst, 1)
      assert.equals(200, list[1].response_status)
      assert.equals("delivered", list[1].status)
      local id = list[1].event_id
      local r = results({ id })
      assert.equals(1, r.by[id])
      assert.equals("Message", r.last.type)
      assert.equals(inst.id, r.last.instance_id)
      assert.is_table(r.last.data)
      -- the platform's replay of the same delivery: 200, and no second run
      replay(h, { event = "Message" })
      list = attempts(inst, 2)
      assert.equals(200, list[2].response_status)
      assert.equals(1, results({ id }).by[id])
    end)

    it("a raising handler answers 500, so the delivery log shows it failed and retry_log runs it again", function()
      local inst, h = instance(srv.url .. HOOK)
      local code = emu:control("POST", "/__emu/instances/" .. inst.id .. "/events", { type = "Boom", data = { n = 1 } })
      assert.equals(200, code)
      local list = attempts(inst, 1)
      assert.equals(500, list[1].response_status)
      assert.equals("failed", list[1].status)
      local id = list[1].event_id
      assert.equals(1, results({ id }).by[id])
      replay(h, { status = "failed" })
      list = attempts(inst, 2)
      assert.equals(500, list[2].response_status)
      assert.equals(2, results({ id }).by[id])
    end)

    it("a webhook URL with a wrong key is refused with 401 and runs no handler", function()
      local inst, h = instance(srv.url .. "/hook?key=not-the-key-0123456789")
      assert(h.messages:send_text({ phone = "5511988887777", message = "wrong key" }))
      local list = attempts(inst, 1)
      assert.equals(401, list[1].response_status)
      assert.equals(0, results().runs)
    end)
  end)

  it("is not blocked by a handler that waits (ngx.sleep): deliveries overlap", function()
    local t0 = socket.gettime()
    local conns = {}
    for i = 1, 8 do conns[i] = srv:open(HOOK, envelope("evt_par_" .. i, "Slow")) end
    for _, c in ipairs(conns) do assert.equals(200, (c.finish())) end
    local elapsed = socket.gettime() - t0
    assert.is_true(elapsed < 1.0 * SLOW, ("8 deliveries with a 0.2 s handler took %.2f s"):format(elapsed))
    assert.equals(8, results().runs)
  end)
end)
