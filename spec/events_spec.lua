-- spec/events_spec.lua: client.events:subscribe against the emulator over a
-- real WebSocket (the API description "Realtime events"; contract §6, D36-D51): the
-- handshake on the wire, dispatch order, ack and cursor, reconnect and
-- backoff, poll, close, faults (drop, stall, garbage, big, refused).
local emulator = require("spec.support.emulator")
local hostile_ws = require("spec.support.hostile_ws")
local vzaps = require("vzaps")
local socket = require("socket")

local clock = socket.gettime
-- Upper time bounds stretch under valgrind (make check-valgrind).
local SLOW = os.getenv("VZAPS_VALGRIND") and 8 or 1

describe("realtime events", function()
  local emu, client

  setup(function()
    emu = emulator.start()
    client = emu:client({ realtime_url = emu.ws_url })
  end)

  teardown(function()
    client:close()
    emu:stop()
  end)

  -- -------------------------------------------------------------------------
  -- helpers
  -- -------------------------------------------------------------------------

  local function new_instance() return emu:new_instance("Realtime spec") end

  local function emit(inst, event_type, data)
    local code, env = emu:control("POST", "/__emu/instances/" .. inst.id .. "/events",
      { type = event_type, data = data or { n = 1 } })
    assert.equals(200, code)
    return env
  end

  local function control(path, body)
    local code, res = emu:control("POST", "/__emu/realtime/" .. path, body or {})
    assert.is_true(code == 200 or code == 204, "control " .. path .. " answered " .. tostring(code))
    return res
  end

  local function acked(inst)
    local _, res = emu:control("GET", "/__emu/realtime/acks?instance_id=" .. inst.id)
    local ids = {}
    for _, a in ipairs(res.acks) do ids[#ids + 1] = a.event_id end
    return ids
  end

  -- Waits (up to 3 s) until the emulator has received n acks for inst.
  local function wait_acks(inst, n)
    local deadline = clock() + 3
    local ids = acked(inst)
    while #ids < n and clock() < deadline do
      socket.sleep(0.02)
      ids = acked(inst)
    end
    return ids
  end

  local function handshakes()
    local out = {}
    for _, r in ipairs(emu:requests()) do
      if r.path == "/events/ws" then out[#out + 1] = r end
    end
    return out
  end

  local function subscribe(inst, opts)
    local o = { instance_id = inst.id, instance_token = inst.token, retry_delay = 0.05 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return assert(client.events:subscribe(o))
  end

  -- Collects the lifecycle callbacks of sub into a log.
  local function watch(sub)
    local log = { open = 0, close = {}, errors = {} }
    sub:on_open(function() log.open = log.open + 1; log.open_at = clock() end)
    sub:on_close(function(code, reason) log.close[#log.close + 1] = { code = code, reason = reason, at = clock() } end)
    sub:on_error(function(err) log.errors[#log.errors + 1] = err; err.at = clock() end)
    return log
  end

  -- poll until an event comes (or 3 s pass)
  local function next_event(sub, seconds)
    local deadline = clock() + (seconds or 3)
    repeat
      local ev, msg = sub:poll(0.2)
      if ev then return ev end
      assert.is_nil(msg)
    until clock() > deadline
    return nil
  end

  before_each(function() emu:clear() end)

  -- -------------------------------------------------------------------------
  -- handshake
  -- -------------------------------------------------------------------------

  it("sends the handshake of contract §6.1: sorted query, tokens in query and headers", function()
    local inst = new_instance()
    emu:clear()
    local sub = subscribe(inst, { events = { "Message", "Connected" }, last_event_id = "evt_0" })
    sub:close()
    local list = handshakes()
    assert.equals(1, #list)
    local r = list[1]
    local jwt = client.auth:get_access_token()
    assert.equals("GET", r.method)
    assert.equals("access_token=" .. jwt .. "&client_token=emu-client-token&events=Message%2CConnected"
      .. "&instance_id=" .. inst.id .. "&instance_token=" .. inst.token .. "&last_event_id=evt_0", r.query)
    local h = r.headers
    assert.equals("Bearer " .. jwt, h.authorization)
    assert.equals("emu-client-token", h["x-client-token"])
    assert.equals(inst.token, h["x-instance-token"])
    assert.equals("VZaps.SDK.Lua/" .. vzaps.VERSION, h["user-agent"])
    assert.equals("websocket", h.upgrade:lower())
    assert.equals("13", h["sec-websocket-version"])
    assert.equals(24, #h["sec-websocket-key"])
    assert.is_nil(h.accept) -- no Accept: application/json on the upgrade, unlike the REST calls
  end)

  it("drops events and last_event_id from the query when not given", function()
    local inst = new_instance()
    emu:clear()
    local sub = subscribe(inst, { events = {} })
    sub:close()
    local q = handshakes()[1].query
    assert.is_nil(q:find("events=", 1, true))
    assert.is_nil(q:find("last_event_id", 1, true))
    emu:clear()
    subscribe(inst, { last_event_id = "" }):close() -- an empty value is dropped too (contract §3.3)
    assert.is_nil(handshakes()[1].query:find("last_event_id", 1, true))
  end)

  it("escapes the handshake's query values as every call's query (contract §3.3)", function()
    local inst = new_instance()
    emu:clear()
    subscribe(inst, { events = { "Message", "Ack" }, last_event_id = "evt 0/é&x=1+~" }):close()
    local q = handshakes()[1].query
    assert.matches("&events=Message%%2CAck&", q)
    assert.matches("&last_event_id=evt%%200%%2F%%C3%%A9%%26x%%3D1%%2B~$", q)
    -- the same value in a REST query is escaped the same way
    emu:clear()
    client:request("GET", "/instances", { query = { last_event_id = "evt 0/é&x=1+~" } })
    assert.equals("last_event_id=evt%200%2F%C3%A9%26x%3D1%2B~", emu:api_requests()[1].query)
  end)

  it("a handshake never answered ends in the module's one timeout wording", function()
    local server = assert(socket.bind("127.0.0.1", 0)) -- the kernel accepts; nobody answers
    local _, port = server:getsockname()
    local c2 = emu:client({ realtime_url = "ws://127.0.0.1:" .. port, timeout = 0.3 })
    assert(c2.auth:get_access_token())
    local sub, msg, err = c2.events:subscribe({ instance_id = "VZ-silent", instance_token = "tok-silent" })
    server:close()
    c2:close()
    assert.is_nil(sub)
    assert.equals("timeout", err.kind)
    assert.equals("REQUEST_TIMEOUT", err.code)
    assert.equals("vzaps: realtime handshake timed out after 0.3 s waiting for the upgrade answer", msg)
  end)

  it("works from an instance handle", function()
    local inst = new_instance()
    local sub = assert(client:instance(inst.id, inst.token).events:subscribe({}))
    emit(inst, "Connected")
    local ev = next_event(sub)
    assert.equals("Connected", ev.type)
    assert.equals(inst.id, ev.instance_id)
    sub:close()
  end)

  it("returns the first connect failure: wrong instance token is kind auth (D49)", function()
    local inst = new_instance()
    emu:clear()
    local sub, msg, err = client.events:subscribe({ instance_id = inst.id, instance_token = "wrong-token-123" })
    assert.is_nil(sub)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals(tostring(err), msg)
    assert.is_true(vzaps.is_error(err))
    local jwt = client.auth:get_access_token()
    for _, secret in ipairs({ jwt, "wrong-token-123", "emu-client-secret" }) do
      assert.is_nil(msg:find(secret, 1, true))
    end
    assert.equals(1, #handshakes(), "the first attempt is not retried")
  end)

  it("returns a refused handshake (503) as an http error", function()
    local inst = new_instance()
    control("refuse", { times = 1 })
    local sub, msg, err = client.events:subscribe({ instance_id = inst.id, instance_token = inst.token })
    assert.is_nil(sub)
    assert.equals("http", err.kind)
    assert.equals(503, err.status)
    assert.matches("status 503", msg)
  end)

  it("raises on bad arguments", function()
    assert.has_error(function() client.events:subscribe({ instance_token = "x" }) end,
      "bad argument #1 to 'subscribe' (instance_id is required)")
    assert.error_matches(function() client.events:subscribe({ instance_id = "x", instance_token = "y", foo = 1 }) end,
      "unknown option 'foo'")
    assert.error_matches(function() client.events:subscribe({ instance_id = "x", instance_token = "y", max_retries = -1 }) end,
      "max_retries")
    local inst = new_instance()
    local sub = subscribe(inst)
    assert.error_matches(function() sub:on(1, print) end, "bad argument #1 to 'on'")
    assert.error_matches(function() sub:on("Message", 1) end, "bad argument #2 to 'on'")
    assert.error_matches(function() sub:poll(-1) end, "bad argument #1 to 'poll'")
    assert.is_nil(tostring(sub):find(inst.token, 1, true))
    sub:close()
  end)

  -- -------------------------------------------------------------------------
  -- dispatch, ack, cursor
  -- -------------------------------------------------------------------------

  it("delivers in order, type handlers before All, acking after the handlers (run)", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local seen, ids = {}, {}
    local e1, e2, e3 = emit(inst, "Message"), emit(inst, "Connected"), emit(inst, "Message")
    sub:on("Message", function(ev)
      seen[#seen + 1] = "Message:" .. ev.id
      for _, id in ipairs(acked(inst)) do assert.are_not.equal(ev.id, id) end -- not acked yet
    end)
    sub:on("All", function(ev)
      seen[#seen + 1] = "All:" .. ev.id
      ids[#ids + 1] = ev.id
      if #ids == 3 then sub:close() end
    end)
    assert.is_true(sub:run())
    assert.same({ "Message:" .. e1.id, "All:" .. e1.id, "All:" .. e2.id, "Message:" .. e3.id, "All:" .. e3.id }, seen)
    assert.same({ e1.id, e2.id, e3.id }, wait_acks(inst, 3))
    assert.equals(e3.id, sub.last_event_id)
  end)

  it("does not ack an event whose handler failed, and redelivers it after a reconnect (D47)", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local log = watch(sub)
    local ev1 = emit(inst, "Message")
    local calls = 0
    sub:on("Message", function(ev)
      calls = calls + 1
      if calls == 1 then
        control("drop", { instance_id = inst.id }) -- the connection goes after this failure
        error("handler broke")
      end
      assert.equals(ev1.id, ev.id)
      sub:close()
    end)
    assert.is_true(sub:run())
    assert.equals(2, calls)
    local herr = log.errors[1]
    assert.equals("realtime", herr.kind)
    assert.matches("handler broke", herr.message)
    assert.equals(ev1.id, herr.event_id)
    assert.same({ ev1.id }, wait_acks(inst, 1))
    assert.equals(2, log.open) -- first handshake + the reconnect
  end)

  it("resumes after a dropped connection with no loss and no duplicate (D45)", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local log = watch(sub)
    local e1, e2 = emit(inst, "Message"), emit(inst, "Message")
    local got = { next_event(sub).id, next_event(sub).id }
    assert.is_nil(sub:poll(0.05)) -- acks e2
    assert.equals(2, #wait_acks(inst, 2))
    assert.equals(e2.id, sub.last_event_id)
    emu:clear()
    control("drop", { instance_id = inst.id })
    local e3 = emit(inst, "Message")
    got[3] = next_event(sub).id
    assert.is_nil(sub:poll(0.3))
    sub:close()
    assert.same({ e1.id, e2.id, e3.id }, got)
    assert.matches("last_event_id=" .. e2.id, handshakes()[1].query)
    assert.equals(1, #log.close - 1) -- the drop, then our close
    assert.equals(1006, log.close[1].code)
    assert.equals("network", log.errors[1].kind)
  end)

  it("acks poll()ed events at the next poll, then moves last_event_id", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local e1 = emit(inst, "Message")
    local ev = next_event(sub)
    assert.equals(e1.id, ev.id)
    socket.sleep(0.1)
    assert.same({}, acked(inst))
    assert.is_nil(sub.last_event_id)
    assert.is_nil(sub:poll(0))
    assert.same({ e1.id }, wait_acks(inst, 1))
    assert.equals(e1.id, sub.last_event_id)
    sub:close()
  end)

  it("poll() runs the handlers registered with on for the event it returns, type then All", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local seen = {}
    sub:on("Message", function(ev) seen[#seen + 1] = "Message:" .. ev.id end)
    sub:on("Connected", function(ev) seen[#seen + 1] = "Connected:" .. ev.id end)
    sub:on("All", function(ev)
      seen[#seen + 1] = "All:" .. ev.id
      for _, id in ipairs(acked(inst)) do assert.are_not.equal(ev.id, id) end -- not acked before it is returned
    end)
    local e1, e2 = emit(inst, "Message"), emit(inst, "Connected")
    assert.equals(e1.id, next_event(sub).id)
    assert.same({ "Message:" .. e1.id, "All:" .. e1.id }, seen)
    assert.equals(e2.id, next_event(sub).id)
    assert.same({ "Message:" .. e1.id, "All:" .. e1.id, "Connected:" .. e2.id, "All:" .. e2.id }, seen)
    assert.is_nil(sub:poll(0.05))
    assert.same({ e1.id, e2.id }, wait_acks(inst, 2))
    sub:close()
  end)

  it("poll() does not ack an event whose handler raised, reports it, and still returns it (D47)", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local log = watch(sub)
    sub:on("Message", function() error("poll handler broke") end)
    local e1 = emit(inst, "Message")
    assert.equals(e1.id, next_event(sub).id)
    assert.is_nil(sub:poll(0.2))
    assert.same({}, acked(inst))
    assert.is_nil(sub.last_event_id)
    assert.equals(1, #log.errors)
    assert.equals("HANDLER_ERROR", log.errors[1].code)
    assert.matches("poll handler broke", log.errors[1].message)
    assert.equals(e1.id, log.errors[1].event_id)
    sub:close()
  end)

  it("close() from a handler run by poll() acks that event; poll() inside a handler is refused", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local log = watch(sub)
    local inner
    sub:on("Message", function() inner = select(2, pcall(sub.poll, sub, 0)) end)
    sub:on("Connected", function() sub:close() end)
    local e1, e2 = emit(inst, "Message"), emit(inst, "Connected")
    assert.equals(e1.id, next_event(sub).id)
    assert.equals("vzaps: sub:poll() cannot be used inside sub:poll()", inner)
    assert.equals(e2.id, next_event(sub).id) -- acks e1; the handler closes: e2 acked by close
    assert.same({ e1.id, e2.id }, wait_acks(inst, 2))
    local ev, _, err = sub:poll(0)
    assert.is_nil(ev)
    assert.equals("closed", err.kind)
    assert.equals(1, #log.close)
    assert.equals(0, #log.errors)
  end)

  it("poll returns nil after about the timeout when nothing comes", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local t0 = clock()
    assert.is_nil(sub:poll(0.3))
    local dt = clock() - t0
    assert.is_true(dt >= 0.28 and dt < 1 * SLOW, "waited " .. dt)
    t0 = clock()
    assert.is_nil(sub:poll(0))
    assert.is_true(clock() - t0 < 0.2 * SLOW)
    sub:close()
  end)

  it("filters by events", function()
    local inst = new_instance()
    local sub = subscribe(inst, { events = { "Connected" } })
    emit(inst, "Message")
    local e2 = emit(inst, "Connected")
    assert.equals(e2.id, next_event(sub).id)
    assert.is_nil(sub:poll(0.2))
    sub:close()
  end)

  -- -------------------------------------------------------------------------
  -- close
  -- -------------------------------------------------------------------------

  it("close() inside a handler acks that event, ends run() with true, fires on_close", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local log = watch(sub)
    local e1, e2 = emit(inst, "Message"), emit(inst, "Message")
    emit(inst, "Message")
    local n = 0
    sub:on("All", function(ev)
      n = n + 1
      if ev.id == e2.id then sub:close() end
    end)
    assert.is_true(sub:run())
    assert.equals(2, n)
    assert.same({ e1.id, e2.id }, wait_acks(inst, 2))
    assert.same({ code = 1000, reason = "client closed subscription" }, { code = log.close[1].code, reason = log.close[1].reason })
    assert.is_true(sub:close()) -- twice is harmless
    local ev, msg, err = sub:poll(0)
    assert.is_nil(ev)
    assert.equals("vzaps: subscription is closed", msg)
    assert.equals("closed", err.kind)
  end)

  -- A closed subscription is a failure, like the end of retries: a pull loop
  -- ends on `nil, msg, err`, never on a raise from inside the module.
  it("poll() and run() on a closed subscription return nil, msg, err with kind 'closed'", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    assert.is_true(sub:close())
    for _, call in ipairs({ function() return sub:poll(0) end, function() return sub:poll() end,
                            function() return sub:run() end }) do
      local r = (function(...) return { n = select("#", ...), ... } end)(pcall(call))
      assert.is_true(r[1], "raised: " .. tostring(r[2]))
      assert.equals(4, r.n)
      assert.is_nil(r[2])
      assert.equals("vzaps: subscription is closed", r[3])
      assert.is_true(vzaps.is_error(r[4]))
      assert.equals("closed", r[4].kind)
      assert.equals("SUBSCRIPTION_CLOSED", r[4].code)
      assert.equals(tostring(r[4]), r[3])
    end
    -- a bad argument still raises
    assert.has_error(function() sub:poll(-1) end, "bad argument #1 to 'poll' (timeout must be zero or more seconds)")
  end)

  it("poll() returns the 'closed' failure when a callback closes the subscription while it waits", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    emit(inst, "Message")
    assert.is_table(next_event(sub))
    sub:on_close(function() end)
    sub:on_error(function() sub:close() end) -- the drop below ends the connection: on_error closes
    control("drop", { instance_id = inst.id })
    local ev, msg, err
    local deadline = clock() + 3
    repeat ev, msg, err = sub:poll(0.2) until msg or clock() > deadline
    assert.is_nil(ev)
    assert.equals("vzaps: subscription is closed", msg)
    assert.equals("closed", err.kind)
  end)

  -- -------------------------------------------------------------------------
  -- reconnect policy
  -- -------------------------------------------------------------------------

  it("backs off linearly: retry_delay x n between attempts (D42)", function()
    local inst = new_instance()
    local sub = subscribe(inst, { retry_delay = 0.3 })
    local log = watch(sub)
    control("refuse", { times = 2 })
    control("drop", { instance_id = inst.id })
    local deadline = clock() + 5
    while log.open < 2 and clock() < deadline do sub:poll(0.1) end
    assert.equals(2, log.open) -- the first handshake's, then the reconnect's
    local drop_at = log.close[1].at
    local a1, a2 = log.errors[2].at, log.errors[3].at -- errors[1] is the drop
    assert.equals(503, log.errors[2].status)
    local d1, d2, d3 = a1 - drop_at, a2 - a1, log.open_at - a2
    assert.is_true(d1 >= 0.27 and d1 < 0.3 + 0.5 * SLOW, "first attempt after " .. d1)
    assert.is_true(d2 >= 0.57 and d2 < 0.6 + 0.5 * SLOW, "second attempt after " .. d2)
    assert.is_true(d3 >= 0.87 and d3 < 0.9 + 0.5 * SLOW, "third attempt after " .. d3)
    sub:close()
  end)

  it("max_retries ends run() with the last failure after that many failed attempts (D43)", function()
    local inst = new_instance()
    local sub = subscribe(inst, { max_retries = 2 })
    local log = watch(sub)
    control("refuse", { times = 10 })
    control("drop", { instance_id = inst.id })
    emu:clear()
    local ok, msg, err = sub:run()
    assert.is_nil(ok)
    assert.equals(503, err.status)
    assert.equals(tostring(err), msg)
    assert.equals(1, #log.close)
    assert.equals(3, #log.errors) -- the drop + 2 failed attempts
    assert.equals(2, #handshakes())
    control("refuse", { times = 0 })
    sub:close()
  end)

  it("reconnect = false ends run() at the first connection end", function()
    local inst = new_instance()
    local sub = subscribe(inst, { reconnect = false })
    control("drop", { instance_id = inst.id })
    local ok, msg, err = sub:run()
    assert.is_nil(ok)
    assert.equals("network", err.kind)
    assert.matches("without a close frame", msg)
    sub:close()
  end)

  it("replaces a stalled connection (keepalive pings)", function()
    local inst = new_instance()
    local sub = subscribe(inst, { ping_interval = 0.2 })
    local log = watch(sub)
    assert.is_nil(sub:poll(0.5)) -- pings answered: nothing happens
    assert.equals(0, #log.errors)
    control("stall", { instance_id = inst.id })
    local e1 = emit(inst, "Message")
    local t0 = clock()
    local ev = next_event(sub, 4)
    assert.equals(e1.id, ev.id)
    assert.is_true(clock() - t0 < 2.5 * SLOW)
    assert.equals("timeout", log.errors[1].kind)
    sub:close()
  end)

  -- -------------------------------------------------------------------------
  -- frames
  -- -------------------------------------------------------------------------

  it("delivers a 1 MiB event intact", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local t0 = clock()
    local res = control("big", { instance_id = inst.id, size = 1048576 })
    local ev = next_event(sub, 10)
    local dt = clock() - t0
    assert.equals(res.id, ev.id)
    local pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
    assert.equals(1048576, #ev.data.blob)
    assert.equals(string.rep(pattern, 1048576 / #pattern), ev.data.blob)
    assert.is_true(dt < 5 * SLOW, "took " .. dt)
    sub:close()
  end)

  it("moves a 1 MiB event along with poll(0) calls, not 4 KiB per call", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local res = control("big", { instance_id = inst.id, size = 1048576 })
    local polls, ev = 0
    local deadline = clock() + 10 * SLOW
    repeat
      polls = polls + 1
      ev = sub:poll(0)
      if not ev then socket.sleep(0.01) end
    until ev or clock() > deadline
    assert.equals(res.id, ev and ev.id)
    assert.is_true(polls < 100, polls .. " polls") -- one read per call would take 256 or more
    sub:close()
  end)

  it("refuses a message over 16 MiB with a clean error", function()
    local inst = new_instance()
    local sub = subscribe(inst, { reconnect = false })
    control("big", { instance_id = inst.id, size = 16 * 1048576 + 10 })
    local ev, msg, err = sub:poll(10)
    assert.is_nil(ev)
    assert.equals("network", err.kind)
    assert.matches("16 MiB", msg)
    sub:close()
  end)

  it("reports non-JSON and non-object frames to on_error and keeps the connection (D48)", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local log = watch(sub)
    control("garbage", { instance_id = inst.id, kind = "text" })
    control("garbage", { instance_id = inst.id, kind = "array" })
    local e1 = emit(inst, "Message")
    assert.equals(e1.id, next_event(sub).id)
    assert.equals(2, #log.errors)
    assert.equals("decode", log.errors[1].kind)
    assert.equals(0, #log.close)
    sub:close()
  end)

  it("ends the connection cleanly on an invalid frame, then reconnects", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    local log = watch(sub)
    control("garbage", { instance_id = inst.id, kind = "frame" })
    assert.is_nil(sub:poll(0.3))
    local e1 = emit(inst, "Message")
    assert.equals(e1.id, next_event(sub).id)
    assert.equals("network", log.errors[1].kind)
    assert.matches("protocol error", log.errors[1].message)
    assert.equals(2, log.open)
    sub:close()
  end)

  -- -------------------------------------------------------------------------
  -- lifetime
  -- -------------------------------------------------------------------------

  it("survives its client being closed or collected", function()
    local inst = new_instance()
    local c2 = emu:client({ realtime_url = emu.ws_url })
    local sub = assert(c2.events:subscribe({ instance_id = inst.id, instance_token = inst.token }))
    c2:close()
    assert.has_error(function() sub:poll(0) end, "vzaps: client is closed")
    assert.is_true(sub:close())

    -- closed from a handler while run() is going
    local c3 = emu:client({ realtime_url = emu.ws_url })
    local sub3 = assert(c3.events:subscribe({ instance_id = inst.id, instance_token = inst.token }))
    sub3:on("All", function() c3:close() end)
    emit(inst, "Message")
    local ok, _, err = sub3:run()
    assert.is_nil(ok)
    assert.equals("CLIENT_CLOSED", err.code)

    -- dropped without closing, collected together
    for _ = 1, 5 do
      local c4 = emu:client({ realtime_url = emu.ws_url })
      local s4 = c4.events:subscribe({ instance_id = inst.id, instance_token = inst.token })
      assert.is_table(s4)
    end
    collectgarbage()
    collectgarbage()
    local sub5 = subscribe(inst)
    sub5:close()
  end)
  -- -------------------------------------------------------------------------
  -- secrets
  -- -------------------------------------------------------------------------

  -- Every string reachable from v by pairs (keys and values) and through
  -- metatables (of tables, userdata, functions, strings), as a table dumper
  -- such as inspect or serpent would find them.
  local function reachable_strings(v)
    local out, seen = {}, {}
    local function walk(x)
      local t = type(x)
      if t == "string" then out[#out + 1] = x return end
      if (t ~= "table" and t ~= "userdata" and t ~= "function") or seen[x] then return end
      seen[x] = true
      if t == "table" then
        for k, val in pairs(x) do walk(k); walk(val) end
      end
      walk(getmetatable(x))
    end
    walk(v)
    return out
  end

  local function assert_no_secret(list, secrets, what)
    for _, str in ipairs(list) do
      for _, secret in ipairs(secrets) do
        assert.is_nil(str:find(secret, 1, true), what .. " holds a secret: " .. str:sub(1, 200))
      end
    end
  end

  it("keeps its credentials out of reach of a walk over the subscription", function()
    local inst = new_instance()
    local jwt = assert(client.auth:get_access_token())
    local sub = subscribe(inst)
    sub:on("All", function() end)
    sub:on_error(function() end)
    emit(inst, "Message")
    assert.is_table(next_event(sub)) -- a pending ack too
    local p = sub:pollable() -- kept on the subscription: walked with it
    local secrets = { emulator.CLIENT_SECRET, emulator.CLIENT_TOKEN, jwt, inst.token }
    local strings = reachable_strings(sub)
    assert.is_true(#strings > 0)
    assert_no_secret(strings, secrets, "the subscription")
    assert_no_secret(reachable_strings(p), secrets, "the pollable")
    assert_no_secret({ tostring(sub) }, secrets, "tostring(sub)")
    sub:close()
  end)

  it("redacts the tokens a server echoes in a close reason and in a skipped frame cut at 4096 bytes", function()
    local url, stop = hostile_ws.start("echo")
    local c2 = emu:client({ realtime_url = url })
    local jwt = assert(c2.auth:get_access_token())
    local token = "inst-token-echoed-by-the-server"
    local sub = assert(c2.events:subscribe({ instance_id = "VZ-echo", instance_token = token, reconnect = false }))
    local log = watch(sub)
    local ev, msg, err = sub:poll(5)
    stop()
    c2:close()
    assert.is_nil(ev)
    assert.equals("network", err.kind)
    assert.equals("CLOSE_4000", err.code)
    assert.equals(4000, err.close_code)
    assert.equals("bye [REDACTED]", err.close_reason)
    assert.equals("bye [REDACTED]", log.close[1].reason)
    local derr = log.errors[1]
    assert.equals("decode", derr.kind)
    assert.is_true(#jwt > 20) -- so that the frame is cut inside the JWT before it is redacted
    assert.equals(string.rep("x", 4076) .. "[REDACTED]", derr.body)
    local secrets = { emulator.CLIENT_SECRET, emulator.CLIENT_TOKEN, jwt, token, jwt:sub(1, 16) }
    for _, e in ipairs(log.errors) do
      assert_no_secret(reachable_strings(e), secrets, "an error")
      assert_no_secret({ tostring(e) }, secrets, "tostring(err)")
    end
    assert_no_secret({ msg }, secrets, "the message")
  end)

  it("is collected with its private state once unreachable, even with handlers that refer to it", function()
    local inst = new_instance()
    local function live_connections()
      local _, res = emu:control("GET", "/__emu/realtime/connections")
      local n = 0
      for _, c in ipairs(res.connections) do if c.instance_id == inst.id then n = n + 1 end end
      return n
    end
    local ref = setmetatable({}, { __mode = "v" })
    local function use_and_drop()
      local sub = subscribe(inst)
      sub:on("All", function() assert.is_string(sub.last_event_id or "") end)
      sub:on_open(function(s) assert.equals(sub, s) end)
      sub:on_error(function() sub:close() end)
      emit(inst, "Message")
      assert.is_table(next_event(sub)) -- leaves a pending ack behind
      ref[1] = sub
    end
    -- Run in a coroutine of its own, dropped once done: LuaJIT marks every
    -- slot of a frame up to the function's frame size, so a value a
    -- returned call left in this function's stack could stay reachable.
    coroutine.wrap(use_and_drop)()
    assert.equals(1, live_connections())
    -- A LuaJIT trace keeps the closures it was specialised on (a handler
    -- the dispatch loop called, and through its upvalue the subscription)
    -- until it is flushed: on a loaded machine, 2 runs in 30 kept it
    -- through four collections, and each was collected once flushed.
    if jit then jit.flush() end
    for _ = 1, 4 do collectgarbage() end
    assert.is_nil(ref[1], "the subscription was not collected")
    -- Its socket lived only in the private state: the server sees it go.
    local deadline = clock() + 5 * SLOW
    while live_connections() > 0 and clock() < deadline do socket.sleep(0.05) end
    assert.equals(0, live_connections())
  end)
end)
