-- spec/concurrency_spec.lua: the job engine's size is the client option
-- `concurrency` (issue "What a new user trips over, round two", item 9):
-- the requests of spawned jobs and parallel runs in flight at once;
-- client:parallel's own `concurrency` limits a run within it.
local emulator = require("spec.support.emulator")
local socket = require("socket")

describe("the client's concurrency", function()
  local emu, inst
  emulator.fixture({}, function(e) emu = e inst = emu:new_instance("conc") end)

  local SEND = function() return "/instances/" .. inst.id .. "/chat/send/text" end

  local function send(c, i)
    return function()
      return c.messages:send_text({ instance_id = inst.id, instance_token = inst.token,
                                    phone = "55119000000" .. i, message = "m" .. i })
    end
  end

  -- Pumps c for `secs` seconds; returns the sends the emulator has received.
  local function arrived_after(c, secs)
    local t = socket.gettime()
    while socket.gettime() - t < secs do c:pump(0.02) end
    return emu:count("POST", SEND())
  end

  local function finish(c, jobs)
    local t = socket.gettime()
    while c:pump(0.05) > 0 do assert(socket.gettime() - t < 20, "jobs did not finish") end
    for _, j in ipairs(jobs) do assert.is_table((j:result())) end
  end

  it("spawned jobs: at most `concurrency` requests reach the server at once", function()
    local c = emu:client({ concurrency = 3 })
    assert(c.instances:get(inst.id)) -- the token first, so only the sends are in flight
    emu:script({ path = SEND(), delay = 1.5, times = 7 })
    local jobs = {}
    for i = 1, 7 do jobs[i] = c:spawn(send(c, i)) end
    assert.equals(3, arrived_after(c, 0.6))
    finish(c, jobs)
    assert.equals(7, emu:count("POST", SEND()))
    c:close()
  end)

  it("is 8 by default", function()
    local c = emu:client()
    assert(c.instances:get(inst.id))
    emu:script({ path = SEND(), delay = 1.5, times = 9 })
    local jobs = {}
    for i = 1, 9 do jobs[i] = c:spawn(send(c, i)) end
    assert.equals(8, arrived_after(c, 0.6))
    finish(c, jobs)
    c:close()
  end)

  it("can be raised past 8 for spawn", function()
    local c = emu:client({ concurrency = 12 })
    assert(c.instances:get(inst.id))
    emu:script({ path = SEND(), delay = 1.5, times = 12 })
    local jobs = {}
    for i = 1, 12 do jobs[i] = c:spawn(send(c, i)) end
    assert.equals(12, arrived_after(c, 0.8))
    finish(c, jobs)
    c:close()
  end)

  it("bounds a parallel run, whatever the run's own concurrency", function()
    local c = emu:client({ concurrency = 2 })
    emu:script({ path = SEND(), delay = 0.3, times = 6 })
    local fns = {}
    for i = 1, 6 do fns[i] = send(c, i) end
    local t0 = socket.gettime()
    local res = c:parallel(fns, { concurrency = 6 })
    -- six delayed sends two at a time need at least three rounds of 0.3 s
    assert.is_true(socket.gettime() - t0 >= 0.85)
    for i = 1, 6 do assert.is_table(res[i][1]) end
    c:close()
  end)

  it("a run's concurrency limits it within the client's: functions start as others finish", function()
    local c = emu:client({ concurrency = 8 })
    assert(c.instances:get(inst.id))
    emu:script({ path = SEND(), delay = 0.3, times = 6 })
    local started = {}
    local fns = {}
    for i = 1, 6 do
      fns[i] = function()
        started[#started + 1] = { i = i, seen = emu:count("POST", SEND()) }
        return send(c, i)()
      end
    end
    local t0 = socket.gettime()
    local res = c:parallel(fns, { concurrency = 2 })
    assert.is_true(socket.gettime() - t0 >= 0.85)
    for i = 1, 6 do assert.is_table(res[i][1]) end
    -- function k started only once k - 2 sends had reached the server (without the limit all six see 0)
    for k = 3, 6 do assert.is_true(started[k].seen >= k - 2, ("function %d started too early"):format(started[k].i)) end
    c:close()
  end)

  it("a parallel run's default is the client's concurrency", function()
    local c = emu:client({ concurrency = 3 })
    emu:script({ path = SEND(), delay = 0.3, times = 6 })
    local fns = {}
    for i = 1, 6 do fns[i] = send(c, i) end
    local t0 = socket.gettime()
    c:parallel(fns)
    assert.is_true(socket.gettime() - t0 >= 0.55)
    c:close()
  end)

  it("is bounded: an integer from 1 to 256", function()
    for _, bad in ipairs({ 0, 257, 1.5, "8", -1, 0 / 0 }) do
      local ok, err = pcall(emu.client, emu, { concurrency = bad })
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'new' (concurrency must be an integer from 1 to 256)", err, 1, true)
    end
    emu:client({ concurrency = 256 }):close()
    emu:client({ concurrency = 1 }):close()
  end)
end)
