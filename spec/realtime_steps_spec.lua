-- spec/realtime_steps_spec.lua: nothing in a subscription blocks a loop.
-- A reconnect (token fetch, connect, Upgrade) advances one step per
-- sub:poll(0); subscribe inside client:spawn yields while it connects; and
-- sub:pollable() hands a loop one stable fd and the next deadline, tried in
-- a real cqueues controller. The emulator's scripts delay the handshake
-- (GET /events/ws) and POST /token.
local emulator = require("spec.support.emulator")
local socket = require("socket")
local cqueues = require("cqueues")

local clock = socket.gettime
-- Upper time bounds stretch under valgrind (make check-valgrind).
local SLOW = os.getenv("VZAPS_VALGRIND") and 8 or 1
-- The longest a poll(0) may take on a loaded machine; the old code took the
-- whole delay (>= 1 s) inside one call.
local QUICK = 0.05 * SLOW

describe("realtime in steps", function()
  local emu, client

  setup(function()
    emu = emulator.start()
    client = emu:client({ realtime_url = emu.ws_url })
  end)

  teardown(function()
    client:close()
    emu:stop()
  end)

  before_each(function() emu:clear() end)

  local function new_instance() return emu:new_instance("Realtime steps spec") end

  local function emit(inst, event_type)
    local code = emu:control("POST", "/__emu/instances/" .. inst.id .. "/events", { type = event_type, data = { n = 1 } })
    assert.equals(200, code)
  end

  local function drop(inst)
    local code = emu:control("POST", "/__emu/realtime/drop", { instance_id = inst.id })
    assert.is_true(code == 200 or code == 204)
  end

  local function count(path, method)
    local n = 0
    for _, r in ipairs(emu:requests()) do
      if r.path == path and (not method or r.method == method) then n = n + 1 end
    end
    return n
  end

  local function subscribe(inst, opts)
    local o = { instance_id = inst.id, instance_token = inst.token, retry_delay = 0.05 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return assert(client.events:subscribe(o))
  end

  -- Calls sub:poll(0) until an event of event_type comes (or `seconds`
  -- pass), timing every call: the event, the slowest call, the number of calls.
  local function poll_until_event(sub, seconds, event_type)
    local deadline, slowest, calls = clock() + seconds, 0, 0
    while clock() < deadline do
      local t0 = clock()
      local ev, msg = sub:poll(0)
      local took = clock() - t0
      calls = calls + 1
      if took > slowest then slowest = took end
      assert.is_nil(msg)
      if ev and ev.type == event_type then return ev, slowest, calls end
      socket.sleep(0.002)
    end
    return nil, slowest, calls
  end

  it("advances a reconnect through a 1.5 s handshake in poll(0) steps, then delivers", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    assert.is_nil(sub:poll(0)) -- the first poll reports the first open; only reopens count below
    local opened = 0
    sub:on_open(function() opened = opened + 1 end)
    emu:script({ method = "GET", path = "/events/ws", delay = 1.5 })
    drop(inst)
    local t0 = clock()
    local open_at
    local deadline = t0 + 6 * SLOW
    local slowest, calls = 0, 0
    while opened == 0 and clock() < deadline do
      local c0 = clock()
      assert.is_nil(sub:poll(0))
      local took = clock() - c0
      calls = calls + 1
      if took > slowest then slowest = took end
      socket.sleep(0.002)
    end
    open_at = clock()
    assert.equals(1, opened)
    assert.is_true(open_at - t0 >= 1.4, "opened after " .. (open_at - t0))
    assert.is_true(slowest < QUICK, "slowest poll(0): " .. slowest)
    assert.is_true(calls > 20, "only " .. calls .. " calls while the handshake took 1.5 s")
    emit(inst, "Message")
    local ev
    ev, slowest = poll_until_event(sub, 3, "Message")
    assert.is_not_nil(ev)
    assert.is_true(slowest < QUICK, "slowest poll(0): " .. slowest)
    assert.equals(2, count("/events/ws")) -- the first connection, the delayed one
    sub:close()
  end)

  it("fetches a refused token again in steps: poll(0) stays quick through a 1 s /token", function()
    local own = emu:client({ realtime_url = emu.ws_url })
    local inst = new_instance()
    local sub = assert(own.events:subscribe({ instance_id = inst.id, instance_token = inst.token, retry_delay = 0.05 }))
    emu:clear()
    -- the next handshake is refused with 401 (the token is dropped), the
    -- new /token answers after 1 s
    emu:script({ method = "GET", path = "/events/ws", status = 401, json = { error = "unauthorized" } })
    emu:script({ method = "POST", path = "/token", delay = 1 })
    drop(inst)
    local t0 = clock()
    emit(inst, "Message")
    local ev, slowest, calls = poll_until_event(sub, 6 * SLOW, "Message")
    assert.is_not_nil(ev)
    assert.is_true(clock() - t0 >= 0.9, "delivered after " .. (clock() - t0))
    assert.is_true(slowest < QUICK, "slowest poll(0): " .. slowest)
    assert.is_true(calls > 20)
    assert.equals(1, count("/token", "POST"))
    assert.equals(2, count("/events/ws")) -- the refused one, then the one with the new token
    sub:close()
    own:close()
  end)

  it("subscribe inside client:spawn yields while it connects: pump(0) stays quick", function()
    local inst = new_instance()
    emu:script({ method = "GET", path = "/events/ws", delay = 1 })
    local job = client:spawn(function()
      return client.events:subscribe({ instance_id = inst.id, instance_token = inst.token })
    end)
    local t0, slowest = clock(), 0
    while not job:done() and clock() < t0 + 5 * SLOW do
      local c0 = clock()
      client:pump(0)
      local took = clock() - c0
      if took > slowest then slowest = took end
      socket.sleep(0.002)
    end
    assert.is_true(job:done())
    local sub, msg = job:result()
    assert.is_nil(msg)
    assert.is_true(clock() - t0 >= 0.9, "subscribed after " .. (clock() - t0))
    assert.is_true(slowest < QUICK, "slowest pump(0): " .. slowest)
    emit(inst, "Message")
    assert.is_not_nil((poll_until_event(sub, 3, "Message")))
    sub:close()
  end)

  it("subscribe inside client:spawn returns the refusal (D49) without blocking", function()
    local inst = new_instance()
    emu:script({ method = "GET", path = "/events/ws", status = 403, json = { error = "forbidden" } })
    local job = client:spawn(function()
      return client.events:subscribe({ instance_id = inst.id, instance_token = inst.token })
    end)
    local deadline = clock() + 3 * SLOW
    while not job:done() and clock() < deadline do client:pump(0.01) end
    local sub, msg, err = job:result()
    assert.is_nil(sub)
    assert.equals(403, err.status)
    assert.equals(tostring(err), msg)
  end)

  it("fails a 2xx answer to the Upgrade as kind network (it is neither an upgrade nor a refusal)", function()
    local inst = new_instance()
    emu:script({ method = "GET", path = "/events/ws", status = 200, json = { ok = true } })
    local sub, msg, err = client.events:subscribe({ instance_id = inst.id, instance_token = inst.token })
    assert.is_nil(sub)
    assert.equals("network", err.kind)
    assert.matches("HTTP 200 instead of 101", msg)
  end)

  it("closes at once in the middle of a delayed handshake, and poll says closed", function()
    local inst = new_instance()
    local sub = subscribe(inst)
    assert.is_nil(sub:poll(0))
    local closes = 0
    sub:on_close(function() closes = closes + 1 end)
    emu:script({ method = "GET", path = "/events/ws", delay = 2 })
    drop(inst)
    local t0 = clock()
    while count("/events/ws") < 2 and clock() < t0 + 3 * SLOW do
      assert.is_nil(sub:poll(0))
      socket.sleep(0.005)
    end
    assert.equals(2, count("/events/ws")) -- the delayed handshake reached the server
    local c0 = clock()
    assert.is_true(sub:close())
    assert.is_true(clock() - c0 < QUICK, "close took " .. (clock() - c0))
    assert.equals(1, closes) -- the drop's; the unopened connection had no open to close
    local ev, _, err = sub:poll(0)
    assert.is_nil(ev)
    assert.equals("closed", err.kind)
  end)

  describe("pollable", function()
    it("is the same object with one stable fd across reconnects", function()
      local inst = new_instance()
      local sub = subscribe(inst)
      local p = sub:pollable()
      assert.equals(p, sub:pollable())
      local fd = p:pollfd()
      assert.is_true(math.type == nil or math.type(fd) == "integer")
      assert.equals("r", p:events())
      assert.is_nil(sub:poll(0))
      local opened = 0
      sub:on_open(function() opened = opened + 1 end)
      emu:script({ method = "GET", path = "/events/ws", delay = 0.3 })
      drop(inst)
      local deadline = clock() + 3 * SLOW
      while opened == 0 and clock() < deadline do
        sub:poll(0)
        assert.equals(fd, p:pollfd())
        socket.sleep(0.005)
      end
      assert.equals(1, opened)
      assert.equals(fd, p:pollfd())
      sub:close()
      assert.equals(fd, p:pollfd())
      assert.is_nil(p:timeout()) -- closed: nothing to do, ever
    end)

    it("times out at the keepalive, the backoff; nil when there is no deadline", function()
      local inst = new_instance()
      local quiet = subscribe(inst, { ping_interval = false })
      assert.is_nil(quiet:pollable():timeout())
      quiet:close()
      local sub = subscribe(inst, { ping_interval = 5, retry_delay = 2 })
      local p = sub:pollable()
      local t = p:timeout()
      assert.is_true(t > 4 and t <= 5, "keepalive in " .. tostring(t))
      local closed = false
      sub:on_close(function() closed = true end)
      emu:script({ method = "GET", path = "/events/ws", delay = 3 })
      drop(inst)
      local deadline = clock() + 3 * SLOW
      while not closed and clock() < deadline do
        sub:poll(0)
        socket.sleep(0.005)
      end
      assert.is_true(closed)
      t = p:timeout()
      assert.is_true(t > 1.5 and t <= 2, "backoff in " .. tostring(t)) -- retry_delay x 1
      sub:close()
    end)

    it("wakes a cqueues controller when an event arrives; poll(0) then runs its handlers", function()
      local inst = new_instance()
      local sub = subscribe(inst, { ping_interval = false })
      local p = sub:pollable()
      local seen = {}
      sub:on("Message", function(ev) seen[#seen + 1] = ev end)
      local cq = cqueues.new()
      local woke_after
      cq:wrap(function()
        -- idle: nothing to do, the fd stays quiet for 0.3 s
        local t0 = clock()
        local ready = cqueues.poll(p, 0.3)
        assert.is_true(ready ~= p, "the fd was readable with nothing to do")
        assert.is_true(clock() - t0 >= 0.25)
        emit(inst, "Message")
        t0 = clock()
        ready = cqueues.poll(p, 3 * SLOW)
        woke_after = clock() - t0
        assert.equals(p, ready)
        while #seen == 0 do
          sub:poll(0)
          if #seen == 0 then cqueues.poll(p, p:timeout() or 1) end
        end
      end)
      local ok, err = cq:loop(6 * SLOW)
      assert.is_true(ok, tostring(err))
      assert.is_true(woke_after < 2 * SLOW)
      assert.equals(1, #seen)
      assert.equals("Message", seen[1].type)
      sub:close()
    end)

    it("lets cqueues.poll(p) alone wake at p:timeout(): the keepalive ping goes out", function()
      local inst = new_instance()
      local sub = subscribe(inst, { ping_interval = 0.3 })
      local p = sub:pollable()
      assert.is_nil(sub:poll(0))
      local cq = cqueues.new()
      local woke = {}
      cq:wrap(function()
        for _ = 1, 2 do
          local t0 = clock()
          cqueues.poll(p) -- no timeout given: cqueues asks p:timeout()
          woke[#woke + 1] = clock() - t0
          assert.is_nil(sub:poll(0))
        end
      end)
      local ok, err = cq:loop(5 * SLOW)
      assert.is_true(ok, tostring(err))
      assert.equals(2, #woke)
      assert.is_true(woke[1] >= 0.2 and woke[1] < 1 * SLOW, "woke after " .. woke[1])
      -- the ping was answered: the connection is alive, not stalled
      emit(inst, "Message")
      assert.is_not_nil((poll_until_event(sub, 3, "Message")))
      sub:close()
    end)

    it("sleeps through a delayed handshake in a cqueues loop: woken by the 101, not by polling", function()
      local inst = new_instance()
      local sub = subscribe(inst, { ping_interval = false })
      local p = sub:pollable()
      assert.is_nil(sub:poll(0))
      local opened = 0
      sub:on_open(function() opened = opened + 1 end)
      emu:script({ method = "GET", path = "/events/ws", delay = 0.8 })
      drop(inst)
      local cq = cqueues.new()
      local wakes, t0 = 0, clock()
      cq:wrap(function()
        while opened == 0 and clock() < t0 + 5 * SLOW do
          cqueues.poll(p)
          wakes = wakes + 1
          sub:poll(0)
        end
      end)
      local ok, err = cq:loop(6 * SLOW)
      assert.is_true(ok, tostring(err))
      assert.equals(1, opened)
      assert.is_true(clock() - t0 >= 0.7)
      -- the drop, the backoff, the connect and the answer: a handful, where
      -- a loop ticking every 5 ms would have run 160 times
      assert.is_true(wakes < 30, wakes .. " wakeups")
      sub:close()
    end)

    it("wakes a luv loop (uv.new_poll on the fd, a timer from timeout()) when an event arrives", function()
      local uv = require("luv")
      local inst = new_instance()
      local sub = subscribe(inst, { ping_interval = 10 })
      local p = sub:pollable()
      local seen, ticks = {}, 0
      sub:on("Message", function(ev) seen[#seen + 1] = ev end)
      local poll, timer, guard = uv.new_poll(p:pollfd()), uv.new_timer(), uv.new_timer()
      local function step()
        ticks = ticks + 1
        sub:poll(0)
        if #seen > 0 then
          poll:stop()
          timer:stop()
          guard:stop()
          return
        end
        local t = p:timeout()
        timer:stop()
        -- never a 0 ms timer re-armed from its own callback (libuv 1.44 starves its loop)
        if t then timer:start(math.max(1, math.floor(t * 1000)), 0, step) end
      end
      poll:start("r", step)
      step()
      local t0 = clock()
      emit(inst, "Message")
      -- libuv measures timers from the loop's cached time, which is as old
      -- as the loop's last run: bring it up to date first.
      uv.update_time()
      guard:start(math.floor(3000 * SLOW), 0, function() poll:stop(); timer:stop() end)
      uv.run()
      guard:stop()
      for _, h in ipairs({ poll, timer, guard }) do h:close() end
      uv.run()
      assert.equals(1, #seen)
      assert.is_true(clock() - t0 < 2 * SLOW, "took " .. (clock() - t0) .. " ticks " .. ticks)
      assert.is_true(ticks < 20, ticks .. " steps for one event")
      sub:close()
    end)

    it("raises on a misuse with the pollable's own name", function()
      local inst = new_instance()
      local sub = subscribe(inst)
      local p = sub:pollable()
      assert.has_error(function() p.timeout() end)
      assert.has_error(function() p.pollfd({}) end)
      sub:close()
    end)
  end)
end)
