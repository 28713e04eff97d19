-- vzaps_loop.lua BUILD_DIR BASE_URL MODE WARMUP N
-- The same calls through the module (build/vzaps.so).
--   get | send | list   WARMUP calls, then N timed ones; prints RESULT
--   observe             the same as send on a client with an observe hook (every
--                       call then goes through the Lua layer, http.send)
--   lualayer            the same as send, every call sent by the Lua layer
--                       (the test switch vzaps._set_direct(false)), no hook
--   spawn               the same as send, each call started (client:spawn) and pumped
--   sendhook            the same as send, then what the observe hook's contract
--                       costs by itself (bench/observe_tables.lua) after each call:
--                       a floor for the observe mode
--   mem                 N instances:get calls; prints RSS after 1 000 and after N
--   parallel            N send_text calls one after another, then through
--                       client:parallel at concurrency WARMUP; prints both times
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local build, base, mode, warmup, n = arg[1], arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5])
package.cpath = build .. "/?.so;" .. package.cpath
local common = require("common")
local vzaps = require("vzaps")

-- lualayer: the same as send with every call sent by the Lua layer
-- (http.send) through the test switch, without a hook: the layer's own cost.
if mode == "lualayer" then vzaps._set_direct(false) end
local observed = 0
local opts = {
  base_url = base, client_token = common.CLIENT_TOKEN, client_secret = common.CLIENT_SECRET,
  observe = mode == "observe" and function() observed = observed + 1 end or nil,
}
-- A parallel run is bounded by the client's `concurrency` (8 by default);
-- builds older than that option refuse it and had no such bound.
if mode == "parallel" then opts.concurrency = warmup end
local made, client = pcall(vzaps.new, opts)
if not made then
  opts.concurrency = nil
  client = vzaps.new(opts)
end
local instances, messages = client.instances, client.messages
local ID = common.INSTANCE_ID
local rows = tonumber(base:match("/rows(%d+)$")) or 1000

local function get()
  local inst = assert(instances:get(ID))
  assert(inst.id == ID)
  return 439
end

local function send()
  local res = assert(messages:send_text{
    instance_id = ID, instance_token = common.INSTANCE_TOKEN, phone = common.PHONE, message = common.MESSAGE,
  })
  assert(math.type(res.timestamp) == "integer")
  return 102
end

-- A send from C, then the hook's two documented tables and its protected
-- call (bench/hook_contract.lua, which bench/observe_tables.lua measures
-- alone): what the observe mode would cost if the Lua layer cost nothing.
local call_hook = require("hook_contract")
local hooked = 0
local function hook(info) hooked = hooked + info.attempt end
local SEND_PATH = "/instances/" .. ID .. "/chat/send/text"
local function send_then_hook_tables()
  local bytes = send()
  call_hook(hook, "messages.send_text", "POST", SEND_PATH, "bench")
  return bytes
end

-- The same send as a started call: spawned, then pumped to its end.
local function spawned()
  local job = client:spawn(send)
  while client:pump(1) > 0 do end
  return (job:result())
end

local function list()
  local page = assert(instances:list{ page = 1, page_size = rows })
  assert(math.type(page.total) == "integer" and #page.content == page.total)
  return 0 -- the driver knows the file sizes
end

local RUNS = { get = get, send = send, list = list, spawn = spawned, observe = send, lualayer = send,
  sendhook = send_then_hook_tables }
if RUNS[mode] then
  common.run(RUNS[mode], warmup, n)
  if mode == "observe" then assert(observed >= warmup + n, "the observe hook was not called") end
  if mode == "sendhook" then assert(hooked == warmup + n) end
elseif mode == "mem" then
  for _ = 1, 1000 do get() end
  collectgarbage() -- both readings after a full collection, so they compare
  local rss1 = common.status_kb("VmRSS")
  local t0 = common.wall()
  for _ = 1001, n do get() end
  collectgarbage()
  print(string.format("MEM calls=%d rss_1000_kb=%d rss_n_kb=%d hwm_kb=%d wall=%.3f",
    n, rss1, common.status_kb("VmRSS"), common.status_kb("VmHWM"), common.wall() - t0))
elseif mode == "parallel" then
  if client.parallel == nil then
    print("PARALLEL not available: client.parallel is nil in this build")
    return
  end
  send() -- token and connection first
  local t0 = common.wall()
  for _ = 1, n do send() end
  local seq = common.wall() - t0
  local fns = {}
  for i = 1, n do fns[i] = send end
  t0 = common.wall()
  local results = client:parallel(fns, { concurrency = warmup })
  local par = common.wall() - t0
  local failed = 0
  for i = 1, n do
    if type(results[i]) ~= "table" or results[i][1] ~= 102 then failed = failed + 1 end
  end
  print(string.format("PARALLEL calls=%d concurrency=%d sequential=%.3f parallel=%.3f failed=%d",
    n, warmup, seq, par, failed))
else
  error("unknown mode " .. tostring(mode))
end
client:close()
