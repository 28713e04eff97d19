-- §4.5 Webhooks. The webhook URL is the instance's `webhook` (create/update)
-- and `webhook_url` here; the event list is `events_subscribe` / `events`.
-- Every emitted event (sent message, session connected/disconnected) whose
-- type is in that list (empty list or "All" = every type) is delivered to
-- the URL while one is configured (lib/webhooks.lua: loopback hosts only,
-- asynchronous) and gets a delivery log entry recording each attempt.
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")
local events = require("lib.events")
local delivery = require("lib.webhooks")

local function wants(inst, event_type)
  local list = inst.events_subscribe
  if not list or #list == 0 then return true end
  for _, e in ipairs(list) do
    if e == event_type or e == "All" then return true end
  end
  return false
end

events.listen(function(env, inst)
  if not inst or type(inst.webhook) ~= "string" or inst.webhook == "" then return end
  if not wants(inst, env.type) then return end
  delivery.deliver(inst, env)
end)

local function config(inst)
  return {
    webhook_url = inst.webhook, events = inst.events_subscribe,
    enabled = type(inst.webhook) == "string" and inst.webhook ~= "",
  }
end

local function set(req)
  local inst = req.instance
  local b = api.body(req)
  local url = api.required(b, "webhook_url", "string")
  local ev = api.optional(b, "events", "array")
  if ev then
    for i, e in ipairs(ev) do
      if type(e) ~= "string" then api.bad("events[" .. i .. "] must be a string") end
    end
    inst.events_subscribe = ev
  end
  inst.webhook = url
  state.touch(inst)
  return api.ok(config(inst))
end

local function find(req)
  for _, l in ipairs(req.instance.webhook_logs) do
    if l.id == req.params.log_id then return l end
  end
  api.not_found("webhook log not found")
end

local function search(req)
  local b = api.body(req)
  local st = api.optional(b, "status", "string")
  local ev = api.optional(b, "event", "string") or api.optional(b, "event_type", "string")
  local out = json.array()
  for _, l in ipairs(req.instance.webhook_logs) do
    if (not st or st == "" or l.status == st) and (not ev or ev == "" or l.event == ev) then
      out[#out + 1] = l
    end
  end
  local page = api.optional(b, "page", "integer") or 1
  local size = api.optional(b, "size", "integer") or api.optional(b, "page_size", "integer") or 50
  if page < 1 then page = 1 end
  if size < 1 then size = 50 end
  return api.ok(api.slice(out, page, size), { total = #out, page = page, page_size = size })
end

-- Sends the delivery again, to the URL it went to: a new attempt on the same
-- log, answered at once (status "pending" until the attempt ends; "failed"
-- at once for a refused URL).
local function retry(req)
  local log = find(req)
  log.last_retry_at = state.iso()
  delivery.send(log)
  return api.ok(log)
end

return function(r)
  r:get("/instances/:id/webhook", function(req) return api.ok(config(req.instance)) end)
  r:post("/instances/:id/webhook", set)
  r:post("/instances/:id/webhook/logs/search", search)
  r:get("/instances/:id/webhook/logs/:log_id", function(req) return api.ok(find(req)) end)
  r:post("/instances/:id/webhook/logs/:log_id/retry", retry)
end
