-- 17: a client inside an event loop (luv): the loop sleeps on the client's
-- fd and a timer from its timeout, instead of pumping every few ms, while
-- a timer of the program's own keeps ticking.
--   lua5.4 examples/17-event-loop-luv.lua   (Debian: apt-get install lua-luv)
local config = require("config")
local ok, uv = pcall(require, "luv")
if not ok then
  print("this example needs luv (Debian: lua-luv)")
  return
end

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Event loop demo" }))
local inst = client:instance(created.id, created.token)

-- The loop's side of the client: wait on p:pollfd(), step with pump(0),
-- re-arm a timer from p:timeout() (at least 1 ms: libuv 1.44 starves its
-- loop on a 0 ms timer re-armed from its own callback).
local p = client:pollable()
local poll, timer = uv.new_poll(p:pollfd()), uv.new_timer()
local step
local function arm(t)
  timer:stop()
  if t then timer:start(math.max(1, math.ceil(t * 1000)), 0, step) end
end
function step()
  if client:pump(0) == 0 then poll:stop() end
  arm(p:timeout())
end

-- The program's own work: a 10 ms ticker, counting its ticks.
local ticker, ticks = uv.new_timer(), 0
ticker:start(10, 10, function() ticks = ticks + 1 end)

local left, t0 = 5, uv.hrtime()
for i = 1, 5 do
  client:spawn(function()
    return inst.messages:send_text({ phone = "+551190000000" .. i, message = "loop message " .. i })
  end):on_done(function(res, msg)
    print(("  send %d: %s after %.1f ms"):format(i, res and res.data.status or msg, (uv.hrtime() - t0) / 1e6))
    left = left - 1
    if left == 0 then ticker:stop() end
  end)
end
poll:start("r", step)
arm(0)
uv.run()
print(("all sent; the ticker ticked %d times meanwhile"):format(ticks))
for _, h in ipairs({ poll, timer, ticker }) do h:close() end
uv.run("nowait")
