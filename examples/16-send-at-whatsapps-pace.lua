-- The same bulk send to three instances, without and with `pace`: the
-- emulator (make demo) is told to allow 5 sends a second per instance and
-- to answer 429 beyond that, as the platform does when a number sends
-- faster than WhatsApp tolerates. Without `pace` most sends are refused;
-- paced a little under the limit, none is. README "Sending at WhatsApp's pace".
local config = require("config")
local emu = require("emu")

local PER_INSTANCE, LIMIT = 10, 5

local setup = config.client()
local instances = {}
for i = 1, 3 do instances[i] = assert(setup.instances:create{name = "Bulk " .. i}) end
if emu.active() then
  assert(setup:request("POST", "/__emu/config", {no_auth = true, body = {send_rate = LIMIT, send_per = 1}}))
end

-- Sends PER_INSTANCE texts to each instance, round robin; counts the 429s.
local function bulk(label, extra)
  local refused = {}
  extra.observe = function(info)
    if info.status == 429 then
      local id = info.path:match("^/instances/([^/]+)")
      refused[id] = (refused[id] or 0) + 1
    end
  end
  extra.max_retries = 0 -- a 429 is a failed send here, not a retry
  local client = config.client(extra)
  for n = 1, PER_INSTANCE do
    for _, inst in ipairs(instances) do
      client:instance(inst.id, inst.token).messages:send_text{phone = "55119000000" .. n, message = "Offer " .. n}
    end
  end
  client:close()
  print(label .. ":")
  for i, inst in ipairs(instances) do
    print(("  instance %d: %d sends, %d answered 429"):format(i, PER_INSTANCE, refused[inst.id] or 0))
  end
end

bulk("without pace", {})
-- a fresh window for every instance before the paced run
if emu.active() then
  assert(setup:request("POST", "/__emu/config", {no_auth = true, body = {send_rate = LIMIT, send_per = 1}}))
end
bulk("with pace = {rate = 4, per = 1}", {pace = {rate = LIMIT - 1, per = 1}})

if emu.active() then
  assert(setup:request("POST", "/__emu/config", {no_auth = true, body = {send_rate = require("vzaps").null}}))
end
for _, inst in ipairs(instances) do setup.instances:delete(inst.id, {instance_token = inst.token}) end
setup:close()
