-- Webhook delivery (contract §4.5, §7): every event an instance subscribed
-- to is POSTed, as the same JSON envelope the realtime endpoint sends
-- ({"id","type","instance_id","created_at","data"}), or with config
-- webhook_payload = "bare" as the contract describes it (the event's `data`
-- alone, with a lowercase `type` in every one), to the instance's webhook
-- URL, and each attempt is recorded on a delivery log entry
-- (routes/webhooks.lua serves the logs; retry_log calls M.send again).
--
-- Only loopback hosts are ever connected to (127.x.x.x, localhost, [::1]):
-- the emulator must not reach out of the machine, whatever URL a spec or a
-- demo configures. Any other URL is refused before any connection, and the
-- refusal is recorded as a failed attempt with the reason.
--
-- A delivery runs in its own cqueues coroutine with a short timeout
-- (config webhook_timeout, default 5 s), so a slow or silent receiver never
-- holds up the request that emitted the event or any other request.
local cqueues = require("cqueues")
local condition = require("cqueues.condition")
local cerrno = require("cqueues.errno")
local http_request = require("http.request")
local http_util = require("http.util")
local json = require("lib.json")
local state = require("lib.state")

local M = {
  attempts = {},    -- finished attempts since the last reset, in order
  seq = 0,          -- last attempt seq
  in_flight = 0,    -- attempts started and not finished (this generation)
  generation = 0,   -- bumped by reset: late finishers of older attempts are not listed
  changed = condition.new(),  -- signalled when an attempt finishes
  MAX_ATTEMPTS = 10000,
  MAX_RESPONSE_BODY = 1024,   -- bytes of the receiver's answer kept per attempt
}

local function log_line(text)
  -- lib.app is loaded before any event can be emitted
  local app = package.loaded["lib.app"]
  if app then app.log(text) end
end

state.on_reset(function()
  M.attempts, M.seq, M.in_flight = {}, 0, 0
  M.generation = M.generation + 1
  M.changed:signal()
end)

-- Target ------------------------------------------------------------------------

local function ipv4_loopback(host)
  local parts = { host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$") }
  if #parts ~= 4 then return nil end
  for i, p in ipairs(parts) do
    if #p > 3 or tonumber(p) > 255 then return nil end
    parts[i] = tonumber(p)
  end
  if parts[1] ~= 127 then return nil end
  return string.format("%d.%d.%d.%d", parts[1], parts[2], parts[3], parts[4])
end

-- Parses url strictly and returns where to connect:
-- {scheme, host (an IP literal), port, authority (the Host header), path},
-- or nil and why it is refused. What is checked is exactly what is
-- connected to: no DNS, no userinfo tricks, no proxy, no redirects.
function M.target(url)
  if type(url) ~= "string" or url == "" then return nil, "no webhook URL" end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute http:// or https:// URL" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "scheme " .. scheme .. " is not http or https"
  end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  path = path:gsub("#.*$", "")
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  if authority:find("@", 1, true) then return nil, "a URL with userinfo (user@host) is not delivered" end
  local host, port
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^(%[[^%]]*%])(.*)$")
  else
    host, port = authority:match("^([^:]*)(.*)$")
  end
  if not host or host == "" then return nil, "the URL has no host" end
  if port == "" then
    port = scheme == "https" and 443 or 80
  else
    port = tonumber(port:match("^:(%d+)$"))
    if not port or port < 1 or port > 65535 then return nil, "bad port in the URL" end
  end
  local lower = host:lower()
  local ip
  if lower == "localhost" then ip = "127.0.0.1"
  elseif lower == "[::1]" then ip = "::1"
  else ip = ipv4_loopback(host) end
  if not ip then
    return nil, ("refused: %s is not a loopback host (the emulator delivers only to 127.x.x.x, "
      .. "localhost and [::1])"):format(host)
  end
  return { scheme = scheme, host = ip, port = port, authority = authority, path = path }
end

-- One POST ----------------------------------------------------------------------

-- Returns status, response body; or nil, reason.
local function post(t, body, timeout)
  local deadline = cqueues.monotime() + timeout
  local shown = t.host:find(":", 1, true) and ("[" .. t.host .. "]") or t.host
  local req = http_request.new_from_uri(("%s://%s:%d%s"):format(t.scheme, shown, t.port, t.path))
  req.follow_redirects = false -- a redirect could point anywhere
  req.proxy = false            -- never through http_proxy & co.
  req.hsts, req.cookie_store = false, false
  req.version = 1.1
  local h = req.headers
  h:upsert(":method", "POST")
  h:upsert(":authority", t.authority)
  h:upsert("content-type", "application/json")
  h:upsert("user-agent", "vzaps-emulator")
  req:set_body(body)
  h:delete("expect") -- lua-http adds 100-continue above 1 KiB; receivers need not know it
  local headers, stream, errno = req:go(timeout)
  if not headers then
    if errno == cerrno.ETIMEDOUT then return nil, ("no answer within %g s (timeout)"):format(timeout) end
    if errno == cerrno.ECONNREFUSED then return nil, "connection refused" end
    return nil, tostring(stream or "no answer")
  end
  local status = tonumber(headers:get(":status"))
  local rbody = stream:get_body_as_string(math.max(0, deadline - cqueues.monotime()))
  stream:shutdown()
  if rbody and #rbody > M.MAX_RESPONSE_BODY then rbody = rbody:sub(1, M.MAX_RESPONSE_BODY) end
  return status, rbody or ""
end

-- Attempts ----------------------------------------------------------------------

local function finish(log, rec, gen, t0, status, err, rbody)
  local ok = status ~= nil and status >= 200 and status < 300
  if status and not ok then err = "HTTP " .. status .. " from the receiver" end
  local now_ms = state.now_ms()
  rec.finished_at = state.iso(now_ms)
  rec.duration_ms = now_ms - t0
  rec.success = ok
  rec.status = ok and "delivered" or "failed"
  rec.response_status = status or json.null
  rec.response_body = rbody or json.null
  rec.error = err or json.null
  if rec.attempt == log.attempts then -- a late finisher never overrides a newer attempt
    log.status, log.success = rec.status, ok
    log.response_status, log.error = rec.response_status, rec.error
    log.updated_at = rec.finished_at
    if ok then log.delivered_at = rec.finished_at end
  end
  log_line(("webhook %s attempt %d %s: %s"):format(log.id, rec.attempt, rec.status,
    ok and ("HTTP " .. status) or tostring(err)))
  if gen ~= M.generation then return end
  if not rec.refused then M.in_flight = M.in_flight - 1 end
  M.seq = M.seq + 1
  local a = { seq = M.seq, log_id = log.id, instance_id = log.instance_id, event = log.event,
              event_id = log.event_id, url = log.url }
  for k, v in pairs(rec) do a[k] = v end
  M.attempts[#M.attempts + 1] = a
  if #M.attempts > M.MAX_ATTEMPTS then table.remove(M.attempts, 1) end
  M.changed:signal()
end

-- Starts a new attempt of the delivery `log` (its attempt count goes up at
-- once; the outcome is recorded when the attempt ends).
function M.send(log)
  log.attempts = log.attempts + 1
  local now_ms = state.now_ms()
  local rec = { attempt = log.attempts, started_at = state.iso(now_ms), finished_at = json.null,
                status = "pending", refused = false }
  log.history[rec.attempt] = rec
  log.status, log.success = "pending", json.null
  log.response_status, log.error = json.null, json.null
  log.last_attempt_at, log.updated_at = rec.started_at, rec.started_at
  local gen = M.generation
  local target, reason = M.target(log.url)
  if not target then
    rec.refused = true -- never connected to
    finish(log, rec, gen, now_ms, nil, reason)
    return log
  end
  M.in_flight = M.in_flight + 1
  local body = json.encode(log.payload)
  local timeout = state.config.webhook_timeout
  require("lib.app").cq:wrap(function()
    local ok, status, rbody = http_util.yieldable_pcall(post, target, body, timeout)
    if not ok then
      finish(log, rec, gen, now_ms, nil, "delivery failed: " .. tostring(status))
    elseif status == nil then
      finish(log, rec, gen, now_ms, nil, rbody)
    else
      finish(log, rec, gen, now_ms, status, nil, rbody)
    end
  end)
  return log
end

-- What a delivery of env carries: the envelope, or (webhook_payload "bare")
-- a copy of its data with a `type`: the data's own (a Message's "message"),
-- else the event type in lower case ("connected"), as a platform that
-- names types in its payloads in lower case would send.
function M.payload(env)
  if state.config.webhook_payload ~= "bare" then return env end
  local bare = {}
  for k, v in pairs(env.data) do bare[k] = v end
  if type(bare.type) ~= "string" then bare.type = env.type:lower() end
  return bare
end

-- A new delivery log entry for event env on inst, and its first attempt.
function M.deliver(inst, env)
  local now = state.iso()
  local log = {
    id = "whl_" .. state.hex(10), instance_id = inst.id, event = env.type, event_id = env.id,
    url = inst.webhook, status = "pending", success = json.null, response_status = json.null,
    error = json.null, attempts = 0, history = json.array(), payload = M.payload(env),
    created_at = now, updated_at = now, last_attempt_at = json.null, delivered_at = json.null,
  }
  inst.webhook_logs[#inst.webhook_logs + 1] = log
  return M.send(log)
end

return M
