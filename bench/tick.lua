-- tick.lua BUILD_DIR BASE_URL [EMU_URL]: a 60 Hz frame loop that starts 50
-- send_text jobs (client:spawn) against a server that answers after 200 ms
-- (BASE_URL/slow200) and pumps once a frame with pump(0), until every job
-- is done. Prints the longest and the 99th-percentile pump(0) and, when
-- EMU_URL (the emulator, for its realtime endpoint) is given, the cost of
-- one frame's sub:poll(0) of a realtime subscription, measured the same way.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local build, base, emu = arg[1], arg[2], arg[3]
package.cpath = build .. "/?.so;" .. package.cpath
local common = require("common")
local socket = require("socket")
local vzaps = require("vzaps")

local FRAME, JOBS = 1 / 60, 50
local wall = common.wall

local function percentile(list, p)
  table.sort(list)
  return list[math.max(1, math.ceil(#list * p))]
end

local client = vzaps.new{ base_url = base .. "/slow200", client_token = common.CLIENT_TOKEN,
                          client_secret = common.CLIENT_SECRET }
assert(client.instances:get(common.INSTANCE_ID)) -- the token first, as a game would at start-up

local function send()
  return client.messages:send_text{ instance_id = common.INSTANCE_ID, instance_token = common.INSTANCE_TOKEN,
                                    phone = common.PHONE, message = common.MESSAGE }
end

local jobs = {}
local t_start = wall()
for i = 1, JOBS do jobs[i] = client:spawn(send) end
local spawn_time = wall() - t_start

local pumps, frames, next_frame = {}, 0, wall()
while true do
  local t = wall()
  local left = client:pump(0)
  pumps[#pumps + 1] = wall() - t
  frames = frames + 1
  if left == 0 then break end
  assert(wall() - t_start < 30, "jobs did not finish")
  next_frame = next_frame + FRAME
  local sleep = next_frame - wall()
  if sleep > 0 then socket.sleep(sleep) end
end
local total = wall() - t_start
local ok = 0
for _, j in ipairs(jobs) do
  local r = j:result()
  if type(r) == "table" and r.timestamp then ok = ok + 1 end
end
local max_pump = percentile(pumps, 1)
local p99 = percentile(pumps, 0.99)
client:close()

local poll_max, poll_p99 = -1, -1
if emu then
  local c = vzaps.new{ base_url = emu, realtime_url = emu:gsub("^http", "ws"), client_token = "emu-client-token",
                       client_secret = "emu-client-secret" }
  local inst = assert(c.instances:create{ name = "tick bench" })
  local sub = assert(c.events:subscribe{ instance_id = inst.id, instance_token = inst.token, events = { "Message" } })
  local polls = {}
  for _ = 1, 120 do
    local t = wall()
    sub:poll(0)
    polls[#polls + 1] = wall() - t
    socket.sleep(FRAME / 4)
  end
  poll_max, poll_p99 = percentile(polls, 1), percentile(polls, 0.99)
  sub:close()
  c:close()
end

print(string.format("TICK jobs=%d ok=%d frames=%d total=%.3f spawn_ms=%.3f pump_max_ms=%.3f pump_p99_ms=%.3f "
  .. "poll_max_ms=%.3f poll_p99_ms=%.3f", JOBS, ok, frames, total, spawn_time * 1000, max_pump * 1000, p99 * 1000,
  poll_max * 1000, poll_p99 * 1000))
