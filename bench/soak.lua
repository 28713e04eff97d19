-- bench/soak.lua: a long run against the local emulator that mixes
-- successes with every error kind, to show that nothing grows: the RSS of
-- this process (VmRSS of /proc/self/status) after the first 1 000 calls and
-- at the end should be within 1 MiB.
--
--   lua5.4 bench/soak.lua            (make soak; cpath must find vzaps.so)
--   SOAK_CALLS=100000 SOAK_SECONDS=300 lua5.4 bench/soak.lua
--
-- Error kinds come in bulk from /__emu/script answers with `times`, plus a
-- client with wrong credentials (auth), https to the plain-HTTP emulator
-- (tls), a closed port (network), per-call timeouts (timeout) and argument
-- errors (raised, caught with pcall). Exit status 1 when RSS grew more than
-- SOAK_MAX_GROWTH_KIB (default 1024).
package.path = "./?.lua;./spec/?.lua;" .. package.path
local emulator = require("spec.support.emulator")
local socket = require("socket")
local vzaps = require("vzaps")

local CALLS = tonumber(os.getenv("SOAK_CALLS")) or 100000
local SECONDS = tonumber(os.getenv("SOAK_SECONDS")) or 300
local MAX_GROWTH = tonumber(os.getenv("SOAK_MAX_GROWTH_KIB")) or 1024
local BATCH = 1000

local function rss_kib()
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)"))
end


local emu = emulator.start()
local client = emu:client({ max_retries = 0 })
local inst = assert(client.instances:create({ name = "soak" }))
local h = client:instance(inst.id, inst.token)
local bad_creds = vzaps.new({ client_token = "wrong", client_secret = "wrong", base_url = emu.url, max_retries = 0 })
local tls = vzaps.new({ client_token = "t", client_secret = "s", base_url = "https://127.0.0.1:" .. emu.port,
                        max_retries = 0 })
local refused = vzaps.new({ client_token = "t", client_secret = "s",
                            base_url = "http://127.0.0.1:" .. emulator.free_port(), max_retries = 0 })
local status_path = "/instances/" .. inst.id .. "/session/status"
local send_path = "/instances/" .. inst.id .. "/chat/send/text"

local counts = { ok = 0, raised = 0 }
local function tally(res, _, err)
  if res ~= nil then
    counts.ok = counts.ok + 1
  else
    counts[err.kind] = (counts[err.kind] or 0) + 1
  end
end

-- One batch of BATCH calls: scripts first, then the calls that consume
-- them, then the rest as plain successes and locally made errors.
local function batch()
  local n = 0
  local function call(...) tally(...); n = n + 1 end
  emu:script({ path = status_path, times = 40, status = 429, json = { error = "slow" },
               headers = { ["Retry-After"] = "0" } })
  for _ = 1, 40 do call(h.sessions:status()) end                       -- rate_limit
  emu:script({ path = status_path, times = 40, status = 500, json = { error = "boom", code = "X" } })
  for _ = 1, 40 do call(h.sessions:status()) end                       -- http 500
  emu:script({ path = send_path, times = 20, status = 200, body = "{not json" })
  for _ = 1, 20 do call(h.messages:send_text({ phone = "5511999990000", message = "x" })) end -- ok (text)
  emu:script({ path = send_path, times = 10, fault = "close" })
  for _ = 1, 10 do call(h.messages:send_text({ phone = "5511999990000", message = "x" })) end -- network
  emu:script({ path = status_path, times = 5, delay = 0.2 })
  for _ = 1, 5 do call(h.sessions:status({ timeout = 0.01 })) end       -- timeout
  for _ = 1, 20 do call(client.instances:get("VZNOPE")) end             -- http 404
  for _ = 1, 10 do call(bad_creds.instances:list()) end                 -- auth
  for _ = 1, 5 do call(tls.instances:list()) end                        -- tls
  for _ = 1, 10 do call(refused.instances:list()) end                   -- network
  emu:revoke()
  call(h.sessions:status())                                             -- 401, replay: ok
  for _ = 1, 20 do
    local ok = pcall(h.messages.send_text, h.messages, { phone = "x" })  -- argument error
    counts.raised = counts.raised + (ok and 0 or 1)
    n = n + 1
  end
  while n < BATCH do
    if n % 3 == 0 then
      call(h.messages:send_text({ phone = "5511999990000", message = "soak " .. n }))
    else
      call(h.sessions:status())
    end
  end
  return n
end

local t0 = socket.gettime()
local done, first_rss, after_first = 0, nil, nil
while done < CALLS and socket.gettime() - t0 < SECONDS do
  done = done + batch()
  if not first_rss then
    collectgarbage()
    first_rss = rss_kib()
    after_first = done
    io.write(("after %d calls: VmRSS %d KiB\n"):format(done, first_rss))
    io.flush()
  end
  if done % 10000 == 0 then
    io.write(("  %d calls, %.0f s, VmRSS %d KiB\n"):format(done, socket.gettime() - t0, rss_kib()))
    io.flush()
  end
end
collectgarbage()
local last_rss = rss_kib()
local took = socket.gettime() - t0
client:close(); bad_creds:close(); tls:close(); refused:close()
emu:stop()

local kinds = {}
for k, v in pairs(counts) do kinds[#kinds + 1] = k .. "=" .. v end
table.sort(kinds)
io.write(("after %d calls: VmRSS %d KiB (%.1f s, %.0f calls/s)\n"):format(done, last_rss, took, done / took))
io.write(("growth since call %d: %+d KiB (limit %d KiB)\n"):format(after_first, last_rss - first_rss, MAX_GROWTH))
io.write("outcomes: ", table.concat(kinds, " "), "\n")
if done < CALLS then io.write(("stopped at the %d s time limit before %d calls\n"):format(SECONDS, CALLS)) end
os.exit(last_rss - first_rss <= MAX_GROWTH and 0 or 1)
