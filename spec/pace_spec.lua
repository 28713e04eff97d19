-- Send budgets (the `pace` option, issue "Sending at WhatsApp's pace"):
-- what reached the emulator, and when (its arrival times), for the rate,
-- the burst, the jitter, the daily cap, the pause after a 429 and a wait
-- longer than the call's timeout; blocking calls, spawned jobs and
-- client:parallel. Timing bounds are generous: the machine may be loaded.
local emulator = require("spec.support.emulator")
local socket = require("socket")

-- Under valgrind (make check-valgrind) every call is much slower: the upper
-- bounds on a call that should not wait are stretched.
local SLOW = os.getenv("VZAPS_VALGRIND") and 8 or 1

describe("pace", function()
  local emu, inst, other
  emulator.fixture({}, function(e)
    emu = e
    inst = emu:new_instance("pace")
    other = emu:new_instance("pace 2")
  end)

  local function req(i, target)
    target = target or inst
    return { instance_id = target.id, instance_token = target.token, phone = "55119000" .. i, message = "m" .. i }
  end

  local function sends(path)
    local out = {}
    for _, r in ipairs(emu:requests()) do
      if r.path == (path or ("/instances/" .. inst.id .. "/chat/send/text")) then out[#out + 1] = r end
    end
    return out
  end

  -- The most of the requests in `list` arriving in any window of `width`
  -- seconds (emulator.densest over their sorted arrival times).
  local function densest(list, width)
    local at = {}
    for i, r in ipairs(list) do at[i] = r.at end
    table.sort(at)
    return emulator.densest(at, width)
  end

  it("spaces blocking sends at the rate, burst 1", function()
    local c = emu:client({ pace = { rate = 10, per = 1 } })
    for i = 1, 12 do assert(c.messages:send_text(req(i))) end
    c:close()
    local s = sends()
    assert.equals(12, #s)
    assert(s[12].at - s[1].at >= 1.05, "12 sends at 10/s take 1.1 s at least")
    assert(densest(s, 1) <= 11, "no second holds more than 11")
  end)

  it("lets a burst go at once, then the rate", function()
    local c = emu:client({ pace = { rate = 2, per = 1, burst = 3 } })
    local t0 = socket.gettime()
    for i = 1, 3 do assert(c.messages:send_text(req(i))) end
    local burst = socket.gettime() - t0
    assert(c.messages:send_text(req(4)))
    local fourth = socket.gettime() - t0
    c:close()
    assert(burst < 0.4 * SLOW, "the burst did not wait: " .. burst)
    assert(fourth >= 0.45, "the 4th waited for the rate: " .. fourth)
    assert.equals(4, #sends())
  end)

  it("keeps each instance's budget apart and leaves reads, lists and client:request unpaced", function()
    local c = emu:client({ pace = { rate = 1, per = 60 }, timeout = 2 })
    assert(c.messages:send_text(req(1)))
    assert(c.messages:send_text(req(2, other)))
    local t0 = socket.gettime()
    for _ = 1, 3 do
      assert(c.sessions:status(inst.id, { instance_token = inst.token }))
      assert(c.messages:mark_read({ instance_id = inst.id, instance_token = inst.token, id = { "x" }, chat = "c" }))
      assert(c:request("POST", "/instances/" .. inst.id .. "/chat/send/text",
        { instance_token = inst.token, body = { phone = "5511", message = "raw" } }))
    end
    assert(c.instances:list())
    assert(socket.gettime() - t0 < 1.5 * SLOW, "unpaced calls did not wait")
    c:close()
  end)

  it("refuses a wait beyond the call's timeout: kind rate_limit, code PACE_RATE, nothing sent", function()
    local c = emu:client({ pace = { rate = 1, per = 2 }, timeout = 1 })
    assert(c.messages:send_text(req(1)))
    local t0 = socket.gettime()
    local res, msg, err = c.messages:send_text(req(2))
    assert.is_nil(res)
    assert(socket.gettime() - t0 < 0.5 * SLOW, "it did not wait before refusing")
    assert.equals("rate_limit", err.kind)
    assert.equals("PACE_RATE", err.code)
    assert.is_nil(err.status)
    assert(err.retry_after > 1 and err.retry_after <= 2, tostring(err.retry_after))
    assert.equals(inst.id, err.instance_id)
    assert.matches("nothing was sent", msg)
    assert.matches("the send budget's next turn is %d%.%d%d%d s away, beyond the call's timeout", msg)
    assert.equals(1, #sends())
    -- a per-call timeout counts instead (messages:send takes one): it waits
    local h = c:instance(inst.id, inst.token)
    assert(h.messages:send("send/text", { phone = "5511", message = "x" }, { timeout = 3 }))
    assert(socket.gettime() - t0 >= 1)
    assert.equals(2, #sends())
    c:close()
  end)

  it("stops at the daily cap, counting every send: code PACE_DAILY with a retry_after", function()
    local c = emu:client({ pace = { rate = 1000, daily = 3 } })
    for i = 1, 3 do assert(c.messages:send_text(req(i))) end
    local res, _, err = c.messages:send_text(req(4))
    assert.is_nil(res)
    assert.equals("rate_limit", err.kind)
    assert.equals("PACE_DAILY", err.code)
    assert(err.retry_after > 86000 and err.retry_after <= 86400, tostring(err.retry_after))
    assert.equals(3, #sends())
    c:close()
  end)

  it("spreads sends by the jitter, within a fraction of the interval", function()
    local waits = {}
    local c = emu:client({ pace = { rate = 1, per = 0.2, burst = 6, jitter = 0.5 },
                           observe = function(info) if info.path ~= "/token" then waits[#waits + 1] = info.pace_wait end end })
    for i = 1, 6 do assert(c.messages:send_text(req(i))) end
    c:close()
    assert.equals(6, #waits)
    local some = false
    for _, w in ipairs(waits) do
      assert(w >= 0 and w <= 0.1 + 1e-9, "jitter wait " .. w)
      some = some or w > 0
    end
    assert(some, "jitter delayed some send")
  end)

  it("reports the wait for the turn to the observe hook", function()
    local seen = {}
    local c = emu:client({ pace = { rate = 5, per = 1 },
                           observe = function(info) if info.path ~= "/token" then seen[#seen + 1] = info end end })
    assert(c.messages:send_text(req(1)))
    assert(c.messages:send_text(req(2)))
    c:close()
    assert.equals(0, seen[1].pace_wait)
    assert(seen[2].pace_wait > 0.1 and seen[2].pace_wait <= 0.2, tostring(seen[2].pace_wait))
  end)

  it("pauses every paced send of the instance after a 429 on any of its calls, until its Retry-After", function()
    local c = emu:client({ pace = { rate = 100 }, max_retries = 0 })
    emu:script({ method = "GET", path = "/instances/" .. inst.id .. "/session/status", status = 429,
                 headers = { ["Retry-After"] = "1" }, json = { error = "slow down" }, times = 1 })
    local _, _, err = c.sessions:status(inst.id, { instance_token = inst.token })
    assert.equals(429, err.status)
    local t0 = socket.gettime()
    assert(c.messages:send_text(req(2, other))) -- another instance: not paused
    assert(socket.gettime() - t0 < 0.5 * SLOW)
    assert(c.messages:send_text(req(1)))
    assert(socket.gettime() - t0 >= 0.9, "the instance's send waited for the Retry-After")
    c:close()
  end)

  it("makes spawned jobs wait on timers: pump(0) never blocks", function()
    local c = emu:client({ pace = { rate = 10, per = 1 } })
    local jobs = {}
    for i = 1, 6 do
      jobs[i] = c:spawn(function() return c.messages:send_text(req(i)) end)
    end
    local t0, slowest = socket.gettime(), 0
    while true do
      local p0 = socket.gettime()
      local left = c:pump(0)
      slowest = math.max(slowest, socket.gettime() - p0)
      if left == 0 then break end
      assert(socket.gettime() - t0 < 10, "jobs did not finish")
      socket.sleep(0.005)
    end
    c:close()
    for i = 1, 6 do assert(jobs[i]:result()) end
    assert(slowest < 0.08 * SLOW, "a pump(0) took " .. slowest)
    local s = sends()
    assert.equals(6, #s)
    assert(s[6].at - s[1].at >= 0.45, "the jobs kept the rate")
  end)

  it("keeps client:parallel within the budget, whatever its concurrency", function()
    local c = emu:client({ pace = { rate = 10, per = 1 } })
    local fns = {}
    for i = 1, 15 do fns[i] = function() return c.messages:send_text(req(i)) end end
    local out = c:parallel(fns, { concurrency = 10 })
    c:close()
    for i = 1, 15 do assert(out[i][1], out[i][2]) end
    local s = sends()
    assert.equals(15, #s)
    assert(densest(s, 1) <= 11, "no second holds more than 11")
    assert(s[15].at - s[1].at >= 1.3)
  end)

  it("costs an unpaced client nothing: its methods are not wrapped", function()
    local plain, paced = emu:client(), emu:client({ pace = { rate = 1 } })
    assert.are_not.equal(getmetatable(paced.messages).__index.send_text, getmetatable(plain.messages).__index.send_text)
    assert.equal(getmetatable(paced.messages).__index.download_image, getmetatable(plain.messages).__index.download_image)
    -- the budget (and its store, which may hold the JWT) is not on the object
    for _, v in pairs(paced.messages) do assert.is_not.table(v) end
    plain:close()
    paced:close()
  end)

  it("raises on a bad pace option, and a paced call's bad argument at the caller's line", function()
    local vzaps = require("vzaps")
    local base = { client_token = "t", client_secret = "s" }
    local function new(p)
      local o = { pace = p }
      for k, v in pairs(base) do o[k] = v end
      return vzaps.new(o)
    end
    assert.has_error(function() new(5) end, "bad argument #1 to 'new' (pace must be a table, got number)")
    assert.error_matches(function() new({}) end, "pace.rate must be a positive number")
    assert.error_matches(function() new({ rate = 1, burst = 0.5 }) end, "pace.burst must be a whole number")
    assert.error_matches(function() new({ rate = 1, jitter = 2 }) end, "pace.jitter must be a fraction")
    assert.error_matches(function() new({ rate = 1, daily = 0 }) end, "pace.daily must be a whole number")
    assert.error_matches(function() new({ rate = 1, speed = 2 }) end, "pace.speed is not a pace setting")
    assert.error_matches(function() new({ rate = 1, store = {} }) end, "pace.store must be a store .* it has no take")
    local c = emu:client({ pace = { rate = 1 } })
    local ok, e = pcall(function()
      c.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "1" }) -- line to report
    end)
    c:close()
    assert.is_false(ok)
    assert.matches("pace_spec.lua:%d+: bad argument #1 to 'send_text' %(field 'message' is required%)", e)
  end)
end)
