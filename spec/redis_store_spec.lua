-- vzaps.redis_store on a real redis-server (started on a loopback port by
-- this spec, stopped after it): the three uses shared by two OS
-- processes (send budgets, webhook de-duplication, the JWT), what a Redis
-- that is down does, and the store's operations one by one.
local emulator = require("spec.support.emulator")
local redis_fixture = require("spec.support.redis")
local processes = require("spec.support.processes")
local socket = require("socket")
local vzaps = require("vzaps")

describe("vzaps.redis_store", function()
  local redis, emu, inst
  setup(function()
    redis = redis_fixture.start()
    emu = emulator.start()
    inst = emu:new_instance("redis")
  end)
  teardown(function()
    if emu then emu:stop() end
    if redis then redis:stop() end
  end)
  before_each(function()
    redis:flush()
    emu:clear()
  end)

  local function store(opts)
    local connect, release = redis_fixture.connector(redis.port)
    local o = { connect = connect, release = release }
    for k, v in pairs(opts or {}) do o[k] = v end
    return vzaps.redis_store(o)
  end

  -- The preamble of every child process: a store on this Redis, a client
  -- factory for this emulator, and a start time shared by the children.
  local PRELUDE = [[
local index, emit, port, url, start_at = ...
local vzaps = require("vzaps")
local socket = require("socket")
local R = require("spec.support.redis")
local connect, release = R.connector(tonumber(port))
local store = vzaps.redis_store{connect = connect, release = release}
local function client(opts)
  local o = {client_token = "emu-client-token", client_secret = "emu-client-secret", base_url = url}
  for k, v in pairs(opts or {}) do o[k] = v end
  return vzaps.new(o)
end
while socket.gettime() < tonumber(start_at) do socket.sleep(0.005) end
]]

  local function run_two(source, ...)
    local outs, status = processes.run(2, PRELUDE .. source, tostring(redis.port), emu.url,
      string.format("%.3f", socket.gettime() + 0.8), ...)
    for i = 1, 2 do assert.is_nil(outs[i]:match("ERROR[^\n]*"), "process " .. i .. ": " .. outs[i]) end
    assert(status == true or status == 0, "a process failed: " .. tostring(status))
    return outs
  end

  -- 4 a second: the arrivals are a turn's time plus the way to the
  -- emulator, and on a loaded machine (CI runs suites side by side) that
  -- varies by more than the 0.1 s between turns at 10 a second. Two
  -- processes each with a budget of its own would still put 8 in a second.
  it("keeps two processes' sends within one budget: 20 sends, no second with more than 5", function()
    run_two([[
local id, tok = select(6, ...)
local c = client({pace = {rate = 4, per = 1, burst = 1, store = store}, timeout = 10})
for i = 1, 10 do assert(c.messages:send_text{instance_id = id, instance_token = tok, phone = "55" .. index .. i, message = "m"}) end
emit("done")
]], inst.id, inst.token)
    local at = emu:arrivals("/instances/" .. inst.id .. "/chat/send/text")
    assert.equals(20, #at)
    local most = emulator.densest(at, 1)
    assert(most <= 5, "a one-second window held " .. most .. " sends")
    assert(at[20] - at[1] >= 4.5, "20 sends at 4/s take about 5 s")
  end)

  it("runs each webhook event's handler once in all when two processes handle the same 100 deliveries", function()
    local outs = run_two([[
local hook = vzaps.webhook{key = false, dedup_store = store}
hook:on("All", function(ev) emit(ev.id) end)
for i = 1, 100 do
  local body = string.format('{"id":"ev-%d","type":"Message","instance_id":"VZ1","data":{}}', i)
  assert(hook:handle(body))
end
]])
    local count, total = {}, 0
    for i = 1, 2 do
      for _, id in ipairs(processes.lines(outs[i])) do
        count[id] = (count[id] or 0) + 1
        total = total + 1
      end
    end
    assert.equals(100, total)
    for i = 1, 100 do assert.equals(1, count["ev-" .. i], "ev-" .. i) end
  end)

  it("fetches one token for two processes' 100 calls, one more after it expires", function()
    emu:config({ token_ttl = 4 })
    run_two([[
local c = client({token_store = store, token_skew = 0})
for _ = 1, 50 do assert(c.instances:list()) end
-- past the token's expiry (4 s after the first fetch)
while socket.gettime() < tonumber(start_at) + 4.5 do socket.sleep(0.05) end
for _ = 1, 50 do assert(c.instances:list()) end
emit("done")
]])
    emu:config({ token_ttl = 3600 })
    assert.equals(2, emu:count("POST", "/token"))
    assert.equals(200, emu:count("POST", "/instances/list"))
  end)

  it("gives both processes the same failure when the one token fetch fails", function()
    emu:script({ method = "POST", path = "/token", status = 500, delay = 1, times = 1,
                 json = { error = "token service down", code = "DOWN" } })
    local outs = run_two([[
local c = client({token_store = store, max_retries = 0})
local res, msg, err = c.instances:list()
emit(tostring(res) .. "|" .. tostring(msg) .. "|" .. tostring(err and err.kind) .. "|" .. tostring(err and err.status))
]])
    assert.equals(1, emu:count("POST", "/token"))
    assert.equals(outs[1], outs[2])
    assert.equals("nil|vzaps: token service down (status 500)|http|500\n", outs[1])
    assert.equals(0, emu:count("POST", "/instances/list"))
  end)

  describe("one process", function()
    it("takes turns on Redis's clock: rate, burst, pause, daily cap", function()
      local s = store()
      local rule = { interval = 0.5, burst = 2 }
      assert.equals(0, s:take("pace:A", rule, 1))
      assert.equals(0, s:take("pace:A", rule, 1))
      local w = s:take("pace:A", rule, 1)
      assert(w > 0.4 and w <= 0.5, tostring(w))
      local none, f = s:take("pace:A", rule, 0.2)
      assert.is_nil(none)
      assert.same({ "rate_limit", "PACE_RATE" }, { f.kind, f.code })
      -- the local store's wording (store.lua), seconds to the millisecond
      assert.matches("^the send budget's next turn is %d%.%d%d%d s away, beyond the call's timeout$", f.message)
      s:pause("pace:B", 5)
      local _, f2 = s:take("pace:B", rule, 1)
      f = f2
      assert.same({ "rate_limit", "PACE_PAUSED" }, { f.kind, f.code })
      assert.matches("^sends of this instance are paused after a 429 for %d%.%d%d%d s, beyond the call's timeout$",
        f.message)
      assert(f.retry_after > 4.5 and f.retry_after <= 5)
      local daily = { interval = 0.001, burst = 10, daily = 2 }
      assert(s:take("pace:C", daily, 1))
      assert(s:take("pace:C", daily, 1))
      none, f = s:take("pace:C", daily, 1)
      assert.is_nil(none)
      assert.equals("PACE_DAILY", f.code)
      assert.equals("the daily cap of 2 sends is reached", f.message)
      assert(f.retry_after > 86000)
    end)

    it("claims an id once, keeps it, releases it", function()
      local s = store({ prefix = "t:" })
      assert.is_true(s:claim("x", 10))
      assert.is_false(s:claim("x", 10))
      s:release("x")
      assert.is_true(s:claim("x", 10))
      s:keep("x", 10)
      assert.is_false(s:claim("x", 10))
    end)

    it("paces a client with it and keeps the token off every message", function()
      local s = store()
      local c = emu:client({ pace = { rate = 5, per = 1, store = s }, token_store = s })
      local t0 = socket.gettime()
      for i = 1, 3 do
        assert(c.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "1" .. i, message = "m" }))
      end
      assert(socket.gettime() - t0 >= 0.35)
      assert.matches("^vzaps.store %(redis", tostring(s))
      c:close()
    end)

    it("fails with kind store when Redis is down, sending nothing; or carries on locally with on_error = \"local\"", function()
      local down = emulator.free_port()
      local connect = redis_fixture.connector(down, 0.5)
      local s = vzaps.redis_store({ connect = connect })
      local c = emu:client({ pace = { rate = 5, store = s } })
      local res, msg, err = c.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "1", message = "m" })
      assert.is_nil(res)
      assert.equals("store", err.kind)
      assert.equals("STORE_UNAVAILABLE", err.code)
      assert.matches("redis store: .*nothing was sent", msg)
      assert.equals(0, emu:count("POST", "/instances/" .. inst.id .. "/chat/send/text"))
      c:close()
      local hook = vzaps.webhook({ key = false, dedup_store = s })
      local ok, _, herr = hook:handle('{"id":"e1","type":"Message","data":{}}')
      assert.is_nil(ok)
      assert.equals("STORE_UNAVAILABLE", herr.code)
      local tc = emu:client({ token_store = s })
      res, _, err = tc.instances:list()
      assert.is_nil(res)
      assert.equals("store", err.kind)
      tc:close()
      local fallback = vzaps.redis_store({ connect = connect, on_error = "local" })
      c = emu:client({ pace = { rate = 5, store = fallback }, token_store = fallback })
      assert(c.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "1", message = "m" }))
      c:close()
      assert.equals(1, emu:count("POST", "/instances/" .. inst.id .. "/chat/send/text"))
    end)

    it("raises on bad options, and a receiver given dedup_store and dedup_dict", function()
      assert.error_matches(function() vzaps.redis_store() end, "options table expected")
      assert.error_matches(function() vzaps.redis_store({}) end, "connect must be a function")
      assert.error_matches(function() vzaps.redis_store({ connect = print, on_error = "x" }) end, "on_error must be")
      assert.error_matches(function() vzaps.redis_store({ connect = print, host = 1 }) end, "unknown option 'host'")
      assert.error_matches(function() vzaps.webhook({ key = false, dedup_store = store(), dedup_dict = "d" }) end,
        "dedup_store and dedup_dict cannot go together")
      assert.error_matches(function() vzaps.webhook({ key = false, dedup_store = {} }) end, "dedup_store must be a store")
    end)
  end)
end)
