-- 15: calls that never stall a frame loop (client:spawn / client:pump), and
-- a log line per attempt from the observe hook.
--   lua5.4 examples/15-tick-loop-and-request-log.lua
local config = require("config")
local socket_ok, socket = pcall(require, "socket")

local function clock() return socket_ok and socket.gettime() or os.clock() end

-- One line per attempt: what a request log or a metrics exporter needs.
local function log_line(info)
  print(("[vzaps] %-22s %-6s %-48s #%d %s %s %.1f ms%s"):format(
    info.op or "?", info.method, info.path, info.attempt, tostring(info.status or "-"), info.kind,
    (info.timings and info.timings.total or 0) * 1000,
    info.retry and (" retry in " .. string.format("%.2f", info.retry_delay) .. " s: " .. info.retry_reason) or ""))
end

local client <close> = config.client({ observe = log_line })
local created = assert(client.instances:create({ name = "Tick loop demo" }))
local inst = client:instance(created.id, created.token)

-- Start five sends; none waits for the network.
local jobs = {}
for i = 1, 5 do
  jobs[i] = client:spawn(function()
    return inst.messages:send_text({ phone = "+551190000000" .. i, message = "frame message " .. i })
  end)
  jobs[i]:on_done(function(res, msg)
    print(("  job %d finished: %s"):format(i, res and res.data.status or msg))
  end)
end

-- The frame loop: about 60 frames a second; each frame pumps without
-- waiting, then does its own work.
local frames, worst, t0 = 0, 0, clock()
while true do
  local t = clock()
  local left = client:pump(0)
  worst = math.max(worst, clock() - t)
  frames = frames + 1
  if left == 0 then break end
  if clock() - t0 > 10 then error("the jobs did not finish") end
  -- ... game logic, rendering ...
  if socket_ok then socket.sleep(1 / 60) end
end
print(("%d jobs done in %d frames; the longest pump(0) took %.2f ms"):format(#jobs, frames, worst * 1000))

-- A job can be cancelled before its request is sent: nothing goes out
-- ("request cancelled (not sent)", err.sent false).
local job = client:spawn(function() return inst.sessions:status() end)
job:cancel()
local _, msg, err = job:result()
print("cancelled job: " .. msg .. " (" .. err.kind .. ", sent: " .. tostring(err.sent) .. ")")
