-- /__emu/ test-control routes: unauthenticated and never recorded.
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")
local faults = require("lib.faults")
local scripts = require("lib.scripts")
local events = require("lib.events")

local NOAUTH = { auth = false, instance = false }

return function(r, app)
  local function add(method, pattern, fn)
    r:add(method, pattern, fn, NOAUTH)
  end

  add("GET", "/__emu/requests", function(req)
    local since = tonumber(req.query.since) or 0
    local out = json.array()
    for _, e in ipairs(state.requests) do
      if e.seq > since then out[#out + 1] = e end
    end
    return 200, { requests = out }
  end)

  add("DELETE", "/__emu/requests", function()
    state.requests = {}
    return 204
  end)

  add("POST", "/__emu/reset", function()
    state.reset()
    return 204
  end)

  add("POST", "/__emu/config", function(req)
    local b = api.body(req)
    local known = { token_ttl = true, token_style = true, client_token = true, client_secret = true,
                    webhook_timeout = true, send_rate = true, send_per = true,
                    webhook_payload = true }
    for k in pairs(b) do
      if not known[k] then api.bad("unknown config key " .. tostring(k)) end
    end
    local ttl = api.optional(b, "token_ttl", "number")
    if ttl and ttl < 0 then api.bad("token_ttl must be >= 0") end
    local style = api.optional(b, "token_style", "string")
    if style and style ~= "snake" and style ~= "camel" then
      api.bad("token_style must be snake or camel")
    end
    local wt = api.optional(b, "webhook_timeout", "number")
    if wt and wt <= 0 then api.bad("webhook_timeout must be > 0") end
    local sr = api.optional(b, "send_rate", "integer")
    if sr and sr < 1 then api.bad("send_rate must be >= 1") end
    local sp = api.optional(b, "send_per", "number")
    if sp and sp <= 0 then api.bad("send_per must be > 0") end
    if b.send_rate == json.null then state.config.send_rate = nil end
    if b.send_rate ~= nil or sp then require("lib.send_rate").forget() end
    local wp = api.optional(b, "webhook_payload", "string")
    if wp and wp ~= "envelope" and wp ~= "bare" then api.bad("webhook_payload must be envelope or bare") end
    api.optional(b, "client_token", "string")
    api.optional(b, "client_secret", "string")
    for k, v in pairs(b) do
      if v ~= json.null then state.config[k] = v end
    end
    return 204
  end)

  add("POST", "/__emu/revoke", function()
    state.revoke_all()
    return 204
  end)

  add("POST", "/__emu/script", function(req)
    local b = api.body(req)
    local s = {
      method = api.optional(b, "method", "string"),
      path = api.optional(b, "path", "string"),
      times = api.optional(b, "times", "integer"),
      delay = api.optional(b, "delay", "number"),
      status = api.optional(b, "status", "integer"),
      json = b.json,               -- any JSON value, null included
      body = api.optional(b, "body", "string"),
      headers = api.optional(b, "headers", "object"),
      fault = api.optional(b, "fault", "string"),
      delay_per_byte = api.optional(b, "delay_per_byte", "number"),
    }
    if s.method then s.method = s.method:upper() end
    if s.times and s.times < 1 then api.bad("times must be >= 1") end
    if s.fault and not faults.known(s.fault) then api.bad("unknown fault " .. s.fault) end
    if s.status and (s.status < 100 or s.status > 599) then api.bad("status must be 100..599") end
    if s.headers then
      for k, v in pairs(s.headers) do
        if type(v) ~= "string" and type(v) ~= "number" then
          api.bad("headers." .. tostring(k) .. " must be a string")
        end
      end
    end
    scripts.add(s)
    return 204
  end)

  add("GET", "/__emu/state", function()
    local insts = json.array()
    local ids = {}
    for id in pairs(state.instances) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, id in ipairs(ids) do
      local inst = state.instances[id]
      local dump = {}
      for k, v in pairs(inst) do
        if k ~= "events_history" then dump[k] = v end
      end
      insts[#insts + 1] = dump
    end
    local ntok, nrev = 0, 0
    for _ in pairs(state.tokens) do ntok = ntok + 1 end
    for _ in pairs(state.revoked) do nrev = nrev + 1 end
    return 200, {
      config = { token_ttl = state.config.token_ttl, token_style = state.config.token_style,
                 webhook_timeout = state.config.webhook_timeout, webhook_payload = state.config.webhook_payload },
      tokens_issued = ntok, tokens_revoked = nrev,
      requests_recorded = #state.requests, last_seq = state.seq,
      scripts_pending = json.array(state.scripts),
      instances = insts,
    }
  end)

  add("POST", "/__emu/shutdown", function(req)
    -- exit once the 204 is on the wire
    req.after_response = function() app.shutdown("shutdown requested") end
    return 204
  end)

  -- Simulate the phone side: the user scanned the QR code / entered the pair
  -- code. Body (optional): {"phone": "...", "push_name": "..."}.
  add("POST", "/__emu/instances/:id/connect", function(req)
    local inst = api.instance(req.params.id)
    local b = api.body(req)
    local phone = api.optional(b, "phone", "string") or inst.session.pair_phone or "5511999990000"
    inst.status = "connected"
    inst.phone = api.chat_key(phone)
    inst.session.push_name = api.optional(b, "push_name", "string") or inst.name
    inst.session.connected_at = state.iso()
    state.touch(inst)
    events.emit(inst.id, "Connected", { phone = inst.phone, jid = api.jid(inst.phone) })
    return 200, state.summary(inst)
  end)

  -- Simulate a disconnection initiated by the phone / WhatsApp.
  add("POST", "/__emu/instances/:id/disconnect", function(req)
    local inst = api.instance(req.params.id)
    require("routes.sessions").disconnect(inst, "emulator")
    return 200, state.summary(inst)
  end)

  -- Mark every queued message of the instance sent and empty its queues.
  add("POST", "/__emu/instances/:id/process-queue", function(req)
    local inst = api.instance(req.params.id)
    local n = 0
    for _, mid in ipairs(inst.queue) do
      local m = inst.messages[mid]
      if m and m.status == "queued" then
        m.status = "sent"; m.sent_at = state.iso(); n = n + 1
      end
    end
    inst.queue = {}
    local ops = #inst.operations
    inst.operations = {}
    return 200, { processed_messages = n, processed_operations = ops }
  end)

  -- Realtime (/events/ws) faults and inspection: lib/realtime.lua.
  local realtime = require("lib.realtime")
  local function targets(req)
    local b = api.body(req)
    local id = api.optional(b, "instance_id", "string")
    return b, function(fn)
      return realtime.each(function(conn)
        if id == nil or conn.instance_id == id then fn(conn) end
      end)
    end
  end

  -- Close every realtime connection abruptly (no close frame).
  add("POST", "/__emu/realtime/drop", function(req)
    local _, each = targets(req)
    return 200, { dropped = each(realtime.drop) }
  end)

  -- Stop reading and writing on the current connections (socket kept open).
  add("POST", "/__emu/realtime/stall", function(req)
    local _, each = targets(req)
    return 200, { stalled = each(function(conn) conn.stalled = true end) }
  end)

  -- {"kind": "text" (default) | "array" | "frame"}: a non-JSON text frame, a
  -- JSON array, or an invalid frame (reserved opcode 3), in order with events.
  add("POST", "/__emu/realtime/garbage", function(req)
    local b, each = targets(req)
    local kind = api.optional(b, "kind", "string") or "text"
    local item = ({ text = { text = "this is not JSON {" }, array = { text = "[1,2,3]" },
                    frame = { raw = "\131\0" } })[kind]
    if not item then api.bad("kind must be text, array or frame") end
    return 200, { sent = each(function(conn)
      conn.queue[#conn.queue + 1] = item
      conn.cond:signal()
    end) }
  end)

  -- {"instance_id"!, "size" (default 1 MiB), "type" (default "Message")}:
  -- emits an event whose data.blob is `size` bytes of a repeating pattern.
  add("POST", "/__emu/realtime/big", function(req)
    local b = api.body(req)
    local inst = api.instance(api.required(b, "instance_id", "string"))
    local size = api.optional(b, "size", "integer") or 1048576
    local pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
    local blob = string.rep(pattern, math.ceil(size / #pattern)):sub(1, size)
    local env = events.emit(inst.id, api.optional(b, "type", "string") or "Message", { blob = blob })
    return 200, { id = env.id, size = size }
  end)

  -- {"times" (default 1), "status" (default 503)}: refuse the next handshakes.
  add("POST", "/__emu/realtime/refuse", function(req)
    local b = api.body(req)
    realtime.refuse = api.optional(b, "times", "integer") or 1
    realtime.refuse_status = api.optional(b, "status", "integer") or 503
    return 204
  end)

  -- Acks received, in order; ?instance_id= filters.
  add("GET", "/__emu/realtime/acks", function(req)
    local out = json.array()
    for _, a in ipairs(realtime.acks) do
      if not req.query.instance_id or a.instance_id == req.query.instance_id then out[#out + 1] = a end
    end
    return 200, { acks = out }
  end)

  -- Open connections: [{instance_id, events, last_event_id}].
  add("GET", "/__emu/realtime/connections", function()
    local out = json.array()
    realtime.each(function(conn)
      out[#out + 1] = { instance_id = conn.instance_id, last_event_id = conn.last_event_id or json.null,
                        stalled = conn.stalled == true }
    end)
    return 200, { connections = out }
  end)

  -- Webhook delivery attempts that have ended (lib/webhooks.lua), in order.
  -- ?since=SEQ: only later ones; ?instance_id=ID, ?log_id=ID: only those;
  -- ?min=N: wait (up to ?timeout=S, default 5, at most 30) until there are
  -- at least N of them.
  add("GET", "/__emu/webhooks/attempts", function(req)
    local webhooks = require("lib.webhooks")
    local q = req.query
    local since, min = tonumber(q.since) or 0, tonumber(q.min) or 0
    local timeout = math.min(math.max(tonumber(q.timeout) or 5, 0), 30)
    local deadline = state.monotime() + timeout
    local function matching()
      local out = json.array()
      for _, a in ipairs(webhooks.attempts) do
        if a.seq > since and (not q.instance_id or a.instance_id == q.instance_id)
          and (not q.log_id or a.log_id == q.log_id) then
          out[#out + 1] = a
        end
      end
      return out
    end
    local list = matching()
    while #list < min and state.monotime() < deadline do
      webhooks.changed:wait(deadline - state.monotime())
      list = matching()
    end
    return 200, { attempts = list, in_flight = webhooks.in_flight, timed_out = #list < min }
  end)

  -- Inject an incoming event (for the realtime endpoint / webhook logs).
  add("POST", "/__emu/instances/:id/events", function(req)
    local inst = api.instance(req.params.id)
    local b = api.body(req)
    local t = api.required(b, "type", "string")
    local env = events.emit(inst.id, t, api.optional(b, "data", "object") or {})
    return 200, env
  end)
end
