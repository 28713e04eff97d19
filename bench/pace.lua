-- pace.lua BUILD_DIR BASE_URL MODE WARMUP N: send budgets (the `pace` option).
--   plain | paced   WARMUP send_text calls, then N timed ones, on a client
--                   without pace / with a local-store budget that never
--                   makes a call wait (rate 1e9 a second): what the pace
--                   step's bookkeeping costs a call; prints RESULT
--   rate            send_text calls for N seconds at pace {rate = WARMUP,
--                   per = 1}; prints the rate achieved
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local build, base, mode, warmup, n = arg[1], arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5])
package.cpath = build .. "/?.so;" .. package.cpath
local common = require("common")
local vzaps = require("vzaps")

local pace = nil
if mode == "paced" then pace = { rate = 1e9, per = 1 } end
if mode == "rate" then pace = { rate = warmup, per = 1 } end
local client = vzaps.new{ base_url = base, client_token = common.CLIENT_TOKEN, client_secret = common.CLIENT_SECRET,
                          pace = pace }
local messages = client.messages

local function send()
  local res = assert(messages:send_text{
    instance_id = common.INSTANCE_ID, instance_token = common.INSTANCE_TOKEN, phone = common.PHONE,
    message = common.MESSAGE,
  })
  assert(math.type(res.timestamp) == "integer")
  return 102
end

if mode == "plain" or mode == "paced" then
  common.run(send, warmup, n)
elseif mode == "rate" then
  send() -- the token and the connection; its turn is the first of the budget
  local t0, calls = common.wall(), 0
  while common.wall() - t0 < n do
    send()
    calls = calls + 1
  end
  local elapsed = common.wall() - t0
  print(string.format("PACE configured=%g achieved=%.4f calls=%d seconds=%.3f", warmup, calls / elapsed, calls, elapsed))
else
  error("unknown mode " .. tostring(mode))
end
client:close()
