-- event_loop.lua BUILD_DIR BASE_URL: a luv loop waiting on client:pollable()
-- (README "Inside an event loop") against the same loop calling pump(0)
-- every 5 ms. Prints the process CPU time each spends idle (no job) for
-- IDLE seconds, and the time from an answer to its on_done callback:
-- send_text against a server that answers after 200 ms (BASE_URL/slow200),
-- one at a time, the callback's time less the start and the 200 ms, next to
-- the same less a blocking call's (the exchange itself, no loop).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local build, base = arg[1], arg[2]
package.cpath = build .. "/?.so;" .. package.cpath
local common = require("common")
local uv = require("luv")
local vzaps = require("vzaps")

local IDLE = tonumber(os.getenv("IDLE_SECONDS") or "10")
local SENDS, DELAY = 40, 0.200
local wall, cpu = common.wall, common.cpu

local client = vzaps.new{ base_url = base .. "/slow200", client_token = common.CLIENT_TOKEN,
                          client_secret = common.CLIENT_SECRET }
assert(client.instances:get(common.INSTANCE_ID)) -- the token and a connection first
local p = client:pollable()

-- The README's loop: the fd, and a timer from timeout() (at least 1 ms).
local function fd_loop()
  local poll, timer = uv.new_poll(p:pollfd()), uv.new_timer()
  local step
  local function arm(t)
    timer:stop()
    if t then timer:start(math.max(1, math.ceil(t * 1000)), 0, step) end
  end
  function step()
    client:pump(0)
    arm(p:timeout())
  end
  poll:start("r", step)
  -- kick: a job was spawned outside the loop's callbacks, so step at once
  return { kick = function() step() end, close = function() poll:close() timer:close() end }
end

-- The loop without the fd: pump(0) every 5 ms.
local function tick_loop()
  local timer = uv.new_timer()
  timer:start(5, 5, function() client:pump(0) end)
  return { kick = function() end, close = function() timer:close() end }
end

local function run_for(seconds)
  local stop = uv.new_timer()
  stop:start(math.floor(seconds * 1000), 0, function() uv.stop() end)
  uv.run()
  stop:close()
end

local function idle_cpu(make)
  local loop = make()
  local c0 = cpu()
  run_for(IDLE)
  local used = cpu() - c0
  loop.close()
  uv.run("nowait")
  return used
end

local function median(list)
  table.sort(list)
  return list[math.ceil(#list / 2)]
end

local function send()
  return client.messages:send_text{ instance_id = common.INSTANCE_ID, instance_token = common.INSTANCE_TOKEN,
                                    phone = common.PHONE, message = common.MESSAGE }
end

-- A blocking call's time beyond the server's delay: the exchange's own.
local function blocking()
  local lat = {}
  for _ = 1, SENDS do
    local t0 = wall()
    assert(send())
    lat[#lat + 1] = (wall() - t0 - DELAY) * 1000
  end
  return median(lat)
end

local WARMUP = 3

local function latency(make)
  local loop = make()
  local lat, worst = {}, 0
  for i = 1, SENDS + WARMUP do
    local t0, got = wall(), nil
    client:spawn(send):on_done(function(res)
      assert(res, "send failed")
      got = wall()
      uv.stop()
    end)
    loop.kick()
    uv.run()
    assert(got, "no callback")
    local ms = (got - t0 - DELAY) * 1000
    if i > WARMUP then
      lat[#lat + 1] = ms
      if ms > worst then worst = ms end
    end
  end
  loop.close()
  uv.run("nowait")
  return median(lat), worst
end

local fd_idle, tick_idle = idle_cpu(fd_loop), idle_cpu(tick_loop)
local block_med = blocking()
local fd_med, fd_max = latency(fd_loop)
local tick_med, tick_max = latency(tick_loop)
client:close()
print(string.format("LOOP idle_s=%d fd_idle_cpu_ms=%.3f tick_idle_cpu_ms=%.3f sends=%d block_med_ms=%.3f "
  .. "fd_med_ms=%.3f fd_max_ms=%.3f tick_med_ms=%.3f tick_max_ms=%.3f", IDLE, fd_idle * 1000, tick_idle * 1000, SENDS,
  block_med, fd_med, fd_max, tick_med, tick_max))
