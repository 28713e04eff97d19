-- webhook_loop.lua BUILD_DIR IMPL WARMUP N
-- One webhook delivery handled per call, from a pool of POOL bodies made
-- before the loop (the same work in the 0-call and N-call runs, so it
-- cancels out of the driver's difference); every body has its own event id.
--   vzaps        hook:handle(body) of vzaps.webhook{key = false} (dedup on, the default)
--   vzaps_nodup  the same with dedup = false
--   lua          hand-written: cjson.decode, a type check, then the type's
--                handlers and the All ones, each under pcall
-- The handlers are the same two no-op functions (one for Message, one All).
-- Prints the RESULT line (bench/common.lua).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local build, impl, warmup, n = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
package.cpath = build .. "/?.so;" .. package.cpath
local common = require("common")

local POOL = 4096
assert(warmup + n <= POOL, "at most " .. POOL .. " deliveries per run")
local bodies = {}
for i = 1, POOL do
  bodies[i] = string.format('{"id":"evt_%08d","type":"Message","instance_id":"%s","created_at":"2026-06-23T22:57:17.000Z",'
    .. '"data":{"type":"Message","event":{"id":"3EB0C767D26A1D8C%04d","from":"5511999990000@s.whatsapp.net",'
    .. '"from_me":false,"push_name":"Ana","timestamp":1782255437,"text":"%s"},"media_url":null}}',
    i, common.INSTANCE_ID, i % 10000, common.MESSAGE)
end

local seen = 0
local function on_message(ev) seen = seen + (ev.data.event.timestamp > 0 and 1 or 0) end
local function on_all() end

local handle
if impl == "lua" then
  local cjson = require("cjson")
  local handlers = { Message = { on_message }, All = { on_all } }
  local NONE = {}
  handle = function(body)
    local ok, ev = pcall(cjson.decode, body)
    if not ok or type(ev) ~= "table" or type(ev.type) ~= "string" then return nil end
    for _, fn in ipairs(handlers[ev.type] or NONE) do
      local fine = pcall(fn, ev)
      if not fine then return nil end
    end
    for _, fn in ipairs(handlers.All) do
      local fine = pcall(fn, ev)
      if not fine then return nil end
    end
    return true
  end
else
  local vzaps = require("vzaps")
  local hook = vzaps.webhook({ key = false, dedup = impl ~= "vzaps_nodup" and 10000 or false })
  hook:on("Message", on_message)
  hook:on("All", on_all)
  handle = function(body) return hook:handle(body) end
end

local i = 0
common.run(function()
  i = i + 1
  local body = bodies[i]
  assert(handle(body) == true)
  return #body
end, warmup, n)
assert(seen == warmup + n)
