-- client:spawn / client:pump (issue "Calls that never stall a game loop"):
-- jobs started without waiting, advanced by a pump that never blocks longer
-- than asked, with every rule of a blocking call (token fetch, retries on a
-- timer, 401 replay, no resend of a POST, cancel, close).
local emulator = require("spec.support.emulator")
local socket = require("socket")
local vzaps = require("vzaps")

describe("client:spawn and client:pump", function()
  local emu, client, inst
  emulator.fixture({ max_retries = 2, retry_backoff = 0.05 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("spawn")
  end)

  local function send(c, i)
    return function()
      return c.messages:send_text({ instance_id = inst.id, instance_token = inst.token,
                                    phone = "5511900000" .. i, message = "m" .. i })
    end
  end

  -- Pumps until every job is done (bounded), counting the pumps.
  local function run(c, jobs, limit)
    local pumps, t0 = 0, socket.gettime()
    while true do
      local left = c:pump(0.002)
      pumps = pumps + 1
      local all = true
      for _, j in ipairs(jobs) do all = all and j:done() end
      if all then assert.equals(0, left) return pumps end
      assert(socket.gettime() - t0 < (limit or 10), "jobs did not finish")
    end
  end

  it("starts calls without waiting and gives the blocking call's results", function()
    local t0 = socket.gettime()
    local jobs = {}
    for i = 1, 10 do jobs[i] = client:spawn(send(client, i)) end
    assert(socket.gettime() - t0 < 0.5, "spawn waited for the network")
    for i = 1, 10 do
      assert.is_false(jobs[i]:done())
      assert.equals(0, select("#", jobs[i]:result()), "result() gives nothing while pending")
    end
    run(client, jobs)
    for i = 1, 10 do
      local res = jobs[i]:result()
      assert.is_true(res.success)
      assert.equals("5511900000" .. i, res.data.phone)
    end
    assert.equals(10, #emu:api_requests())
  end)

  it("finishes jobs out of order, as their answers come", function()
    emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 0.3, times = 1 })
    local order = {}
    local slow = client:spawn(send(client, 1)):on_done(function() order[#order + 1] = "slow" end)
    local fast = client:spawn(send(client, 2)):on_done(function() order[#order + 1] = "fast" end)
    run(client, { slow, fast })
    assert.same({ "fast", "slow" }, order)
  end)

  it("pump(0) never waits", function()
    emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 0.4, times = 1 })
    local job = client:spawn(send(client, 1))
    local worst = 0
    while not job:done() do
      local t = socket.gettime()
      client:pump(0)
      worst = math.max(worst, socket.gettime() - t)
      socket.sleep(0.01)
    end
    assert(worst < 0.1, "pump(0) took " .. worst .. " s")
    assert.is_true(job:result().success)
  end)

  it("pump(t) waits at most t", function()
    emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 0.5, times = 1 })
    local job = client:spawn(send(client, 1))
    local t = socket.gettime()
    assert.equals(1, client:pump(0.05))
    local took = socket.gettime() - t
    assert(took >= 0.04 and took < 0.3, "pump(0.05) took " .. took .. " s")
    run(client, { job })
  end)

  it("retries a 503 on a GET on a timer, while the loop goes on", function()
    local path = "/instances/" .. inst.id .. "/session/status"
    emu:script({ path = path, status = 503, times = 1 })
    local job = client:spawn(function() return client.sessions:status(inst.id, { instance_token = inst.token }) end)
    local pumps = run(client, { job })
    assert.is_truthy(job:result())
    assert.equals(2, emu:count("GET", path))
    assert(pumps > 3, "the backoff must not block a pump (" .. pumps .. " pumps)")
  end)

  it("never sends a POST twice: a 503 on a send is the result", function()
    local path = "/instances/" .. inst.id .. "/chat/send/text"
    emu:script({ path = path, status = 503, times = 1 })
    local job = client:spawn(send(client, 1))
    run(client, { job })
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.matches("status 503", msg, 1, true)
    assert.equals(503, err.status)
    assert.equals(1, emu:count("POST", path))
  end)

  it("a timeout is the result", function()
    local c = emu:client({ timeout = 0.2, max_retries = 0 })
    emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 1, times = 1 })
    local job = c:spawn(send(c, 1))
    run(c, { job })
    local res, _, err = job:result()
    assert.is_nil(res)
    assert.equals("timeout", err.kind)
    c:close()
  end)

  it("fetches one token for many jobs that need it", function()
    local c = emu:client()
    emu:clear()
    local jobs = {}
    for i = 1, 6 do jobs[i] = c:spawn(send(c, i)) end
    run(c, jobs)
    assert.equals(1, emu:count("POST", "/token"))
    for i = 1, 6 do assert.is_true(jobs[i]:result().success) end
    c:close()
  end)

  it("replays a 401 once with a new token", function()
    local c = emu:client()
    assert(c.instances:get(inst.id))
    emu:revoke()
    emu:clear()
    local job = c:spawn(function() return c.instances:get(inst.id) end)
    run(c, { job })
    assert.equals(inst.id, job:result().id)
    assert.equals(1, emu:count("POST", "/token"))
    assert.equals(2, emu:count("POST", "/instances/get"))
    c:close()
  end)

  it("runs client:request and scoped handles", function()
    local h = client:instance(inst.id, inst.token)
    local a = client:spawn(function() return client:request("POST", "/instances/get", { body = { id = inst.id } }) end)
    local b = client:spawn(function() return h.sessions:status() end)
    run(client, { a, b })
    assert.equals(inst.id, a:result().id)
    assert.is_truthy(b:result())
  end)

  it("an argument error finishes the job at once, with nothing sent", function()
    local job = client:spawn(function() return client.messages:send_text({ instance_id = inst.id }) end)
    assert.is_true(job:done())
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.matches("instance_token is required", msg, 1, true)
    assert.equals("raised", err.kind)
    assert.equals(0, #emu:api_requests())
  end)

  it("cancel before the request is sent: nothing is sent", function()
    local c = emu:client()
    assert(c.instances:get(inst.id)) -- a token, so only the call itself is queued
    emu:clear()
    local job = c:spawn(send(c, 1))
    assert.is_true(job:cancel())
    assert.is_true(job:done())
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.equals("cancelled", err.kind)
    assert.matches("not sent", msg, 1, true)
    assert.is_false(job:cancel())
    c:pump(0.05)
    assert.equals(0, #emu:api_requests())
    c:close()
  end)

  it("cancel in flight: the job ends at once; the request may have been received", function()
    emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 0.5, times = 1 })
    local job = client:spawn(send(client, 1))
    local t = socket.gettime()
    while #emu:api_requests() == 0 and socket.gettime() - t < 2 do client:pump(0.01) end
    assert.is_true(job:cancel())
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.equals("cancelled", err.kind)
    assert.is_true(err.sent)
    assert.matches("may have been received", msg, 1, true)
    assert.equals(0, client:pump(0))
  end)

  it("cancel during a retry backoff", function()
    local c = emu:client({ retry_backoff = 5, max_retries = 2 })
    local path = "/instances/" .. inst.id .. "/session/status"
    emu:script({ path = path, status = 503, times = 1 })
    local job = c:spawn(function() return c.sessions:status(inst.id, { instance_token = inst.token }) end)
    local t = socket.gettime()
    while emu:count("GET", path) == 0 and socket.gettime() - t < 2 do c:pump(0.01) end
    c:pump(0.05)
    assert.is_false(job:done())
    assert.is_true(job:cancel())
    assert.equals("cancelled", select(3, job:result()).kind)
    assert.equals(1, emu:count("GET", path))
    c:close()
  end)

  it("close() with jobs in flight: each gets a closed failure", function()
    local c = emu:client()
    emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 0.5, times = 3 })
    local jobs = {}
    for i = 1, 3 do jobs[i] = c:spawn(send(c, i)) end
    c:pump(0.05)
    c:close()
    for i = 1, 3 do
      assert.is_true(jobs[i]:done())
      local res, _, err = jobs[i]:result()
      assert.is_nil(res)
      assert.equals("closed", err.kind)
    end
    assert.equals(0, c:pump(0))
    assert.has_error(function() c:spawn(send(c, 1)) end)
  end)

  it("client:parallel runs on the same scheduler, spawned jobs advancing with it", function()
    local job = client:spawn(send(client, 1))
    local out = client:parallel({ send(client, 2), send(client, 3) })
    assert.is_true(out[1][1].success)
    assert.is_true(out[2][1].success)
    run(client, { job })
    assert.is_true(job:result().success)
  end)

  it("bad arguments raise", function()
    assert.has_error(function() client:spawn(42) end)
    assert.has_error(function() client:pump(-1) end)
    assert.has_error(function() client:pump("x") end)
    assert.has_error(function() client:pump(0 / 0) end)
  end)

  it("a custom transport runs the call at once", function()
    local c = vzaps.new({
      client_token = "t", client_secret = "s", base_url = "http://127.0.0.1:9",
      transport = function(req)
        if req.url:find("/token$") then return { status = 200, body = '{"access_token":"j","expires_in":60}' } end
        return { status = 200, body = '{"id":"x"}' }
      end,
    })
    local job = c:spawn(function() return c.instances:get("x") end)
    assert.is_true(job:done())
    assert.equals("x", job:result().id)
    c:close()
  end)

  -- Jobs run on reused coroutines (scheduler.lua's worker): each job's
  -- results stay its own, also next to jobs that raised, yielded on their
  -- own or got arguments.
  it("gives each job its own results on reused coroutines", function()
    local jobs = {}
    for round = 1, 3 do
      jobs[#jobs + 1] = { client:spawn(function() error("boom " .. round) end), "raised" }
      jobs[#jobs + 1] = { client:spawn(function() coroutine.yield("mine") end), "bad" }
      jobs[#jobs + 1] = { client:spawn(function(a, b) return a, nil, b end, round, "x"), "args" }
      jobs[#jobs + 1] = { client:spawn(send(client, round)), "send", round }
    end
    run(client, (function() local l = {} for i, j in ipairs(jobs) do l[i] = j[1] end return l end)())
    local round = 0
    for _, j in ipairs(jobs) do
      local job, kind = j[1], j[2]
      if kind == "raised" then
        round = round + 1
        local _, msg, err = job:result()
        assert.equals("raised", err.kind)
        assert.truthy(msg:find("boom " .. round, 1, true))
      elseif kind == "bad" then
        assert.equals("BAD_YIELD", select(3, job:result()).code)
      elseif kind == "args" then
        assert.equals(3, select("#", job:result()))
        local a, b, c = job:result()
        assert.equals(round, a)
        assert.is_nil(b)
        assert.equals("x", c)
      else
        assert.equals("5511900000" .. j[3], job:result().data.phone)
      end
    end
    assert.equals(3, #emu:api_requests())
  end)
end)
