-- http.lua: one API call on the wire: auth headers and the token cache,
-- the libcurl or custom transport, retries, the 401 replay, and turning the
-- answer into a result or the failure tuple (contract §2, §5; the API description
-- "Reliability").
local import, core = ...
local errors = import("errors")
-- (observe.lua is imported when a client has an observe hook: watcher())
local token = import("token")
local current = token.current

local type, pairs, pcall, tonumber, tostring = type, pairs, pcall, tonumber, tostring
local send, success_body, failure, req_flags = core.send, core.success_body, core.failure, core.req_flags
local random, min = math.random, math.min
local running, yield = coroutine.running, coroutine.yield

local M = {}

local observe_module
local function watcher() observe_module = observe_module or import("observe") return observe_module end

-- Inside a job of the client's scheduler (client:spawn, client:parallel:
-- scheduler.lua), an exchange, a backoff sleep or a wait for another job's
-- token fetch yields this marker and the request to the scheduler instead
-- of blocking. st.par is the set of the scheduler's coroutines.
local PAR = {}
M.PAR = PAR

local function in_parallel(st)
  local par = st.par
  return par ~= nil and par[running()] ~= nil
end
-- (exchange and new_token test st.par first: most clients never start a job)
M.in_job = in_parallel

-- The client's `sleep` option (default core.sleep, which blocks; ngx.sleep
-- in OpenResty yields). Called from Lua, so it may yield.
local function sleep(st, seconds)
  if in_parallel(st) then return yield(PAR, "sleep", seconds) end
  st.sleep(seconds)
end
M.sleep = sleep -- pace.lua's wait for a turn

-- 502/503/504 are retried only for methods safe to repeat (the set of
-- src/policy.c, which libcurl's resend guard uses too); a POST or PATCH
-- that may have reached the server is never sent twice.
local RETRY_METHOD = core.SAFE_METHODS
local RETRY_STATUS = { [502] = true, [503] = true, [504] = true }
-- Failures that another attempt cannot mend: a TLS problem, a job
-- cancelled or a client closed while the call waited (scheduler.lua).
local NO_RETRY = { tls = true, cancelled = true, closed = true }
local BACKOFF_CAP = 8
M.BACKOFF_CAP = BACKOFF_CAP
-- A Retry-After longer than this is returned to the caller, not slept on.
M.MAX_RETRY_AFTER = 60

local function backoff(st, attempt)
  local d = min(BACKOFF_CAP, st.retry_backoff * 2 ^ (attempt - 1))
  return d * (0.5 + random() * 0.5) -- jitter: clients retrying together spread out
end

-- ---------------------------------------------------------------------------
-- Transports. Each one sends the request object the mapper built
-- (src/request_object.c) and answers with one shape: the 2xx value, its
-- status and request id, or nil and an outcome table, {status, body, reason, retry_after, request_id}
-- for any other answer and {kind, message, sent} when there was none
-- (src/transport.c, vz_xfer_finish).
-- ---------------------------------------------------------------------------

-- A custom transport answers res, or nil, errmsg[, kind[, sent]] where kind
-- may be "timeout", "tls" or "network" and sent = false says that nothing
-- reached the server (then the call is retried like libcurl's); without
-- it, the request may have been sent, and is not sent again. It is called
-- from Lua through pcall (which LuaJIT and 5.2+ let yield), so a cosocket
-- transport does not block.
-- A timeout's message is the core's, naming the budget given to the
-- transport that ran out (src/transport.c, vz_timeout_budget).
local function custom_failure(kind, msg, sent, timeout, connect_timeout)
  msg = tostring(msg)
  if kind ~= "timeout" and kind ~= "tls" and kind ~= "network" then
    kind = (msg:find("timeout", 1, true) or msg:find("timed out", 1, true)) and "timeout" or "network"
  end
  return nil, failure(kind, msg, sent, timeout, connect_timeout)
end

local function custom_exchange(st, req)
  local timeout, connect_timeout = req.timeout or st.timeout, st.connect_timeout
  local ok, res, msg, kind, sent = pcall(st.transport, {
    method = req.method, url = req.url, headers = core.headers(st.ud, req), body = req.body,
    timeout = timeout, connect_timeout = connect_timeout, ssl_verify = st.ssl_verify,
  })
  if not ok then return custom_failure(nil, res, nil, timeout, connect_timeout) end
  if type(res) ~= "table" then
    return custom_failure(kind, msg or "transport returned no response", sent, timeout, connect_timeout)
  end
  local status = tonumber(res.status)
  if not status or status < 100 or status > 599 then return custom_failure(nil, "transport returned an invalid status") end
  local rbody = res.body
  if rbody == nil then rbody = "" end
  if type(rbody) ~= "string" then return custom_failure(nil, "transport returned a non-string body") end
  local h = type(res.headers) == "table" and res.headers or {}
  local lower = {}
  for k, v in pairs(h) do if type(k) == "string" then lower[k:lower()] = v end end
  if status >= 200 and status < 300 then
    local value, why = success_body(rbody, st.json_budget)
    -- over the decode budget: refused like an answer over the size cap
    if value == nil then return nil, { kind = "network", message = why, sent = true } end
    return value, status, lower["x-request-id"]
  end
  return nil, { status = status, body = rbody, reason = res.reason,
                retry_after = lower["retry-after"], request_id = lower["x-request-id"] }
end

-- One attempt of req: the custom transport, a job's slot on the multi
-- handle (the scheduler), or the client's own easy handle.
local function exchange(st, req)
  if st.transport then return custom_exchange(st, req) end
  if st.par and in_parallel(st) then return yield(PAR, "xfer", req) end
  return send(st.ud, req)
end

-- ---------------------------------------------------------------------------
-- The token (contract §2.1; token.lua keeps it)
-- ---------------------------------------------------------------------------

-- A new token, when token.current has none. One fetch at a time: in a
-- parallel run the other coroutines wait for it instead of each asking
-- /token (and a shared token_store makes one fetch for all its clients,
-- token.lua).
local function new_token(st)
  local tok
  if st.par and in_parallel(st) then
    while st.fetching do yield(PAR, "wait") end
    tok = current(st)
    if tok then return tok end
    st.fetching = running() -- the scheduler frees it if this job dies
  end
  local msg, err
  tok, msg, err = token.refresh(st, M.send)
  st.fetching = nil
  return tok, msg, err
end

-- The cached token, or a new one (M.send does the same in its loop).
function M.token(st)
  local tok = current(st)
  if tok then return tok end
  return new_token(st)
end

-- ---------------------------------------------------------------------------
-- The exchange loop
-- ---------------------------------------------------------------------------

-- req: the request object the mapper built (src/request_object.c).
-- o: the outcome of a first attempt already made from C (direct_call.c)
-- that was not a 2xx, or nil.
function M.send(st, req, o)
  local refused, auth = req_flags(req)
  if refused then return errors.media_limit(req, req.refuse) end
  local attempt, replayed, tries = 0, false, 0
  local watch = st.observe and (observe_module or watcher())
  -- the token of the current attempt: a first attempt from C sent the mirror
  local used = o and st.token
  while true do
    local value, status, request_id
    if not o then
      if auth then
        used = current(st)
        if not used then
          local msg, err
          used, msg, err = new_token(st)
          if not used then return nil, msg, err end
        end
      end
      value, o, request_id = exchange(st, req)
      if value ~= nil then status, o = o, nil end
    end
    tries = tries + 1
    -- Each branch below tells the observe hook what it decided for this
    -- attempt (observe.report: kind, response, retry reason, delay).
    if value ~= nil then
      if watch then watch.report(st, req, tries, status, request_id, "ok", value) end
      return value
    end
    status, request_id = o.status, o.request_id
    if not status then
      local kind = o.kind
      if o.sent or NO_RETRY[kind] or attempt >= st.max_retries then
        local a, b, c = errors.transport(kind, o.message, req, errors.secrets(st, req.instance_token), o.sent)
        if watch then watch.report(st, req, tries, nil, nil, kind) end
        return a, b, c
      end
      attempt = attempt + 1
      local delay = backoff(st, attempt)
      if watch then
        watch.report(st, req, tries, nil, nil, kind, nil, kind .. " failure before anything was sent", delay)
      end
      sleep(st, delay)
    elseif status == 401 and auth and not replayed then
      -- The token was refused (revoked, or expired early): drop it (unless
      -- a newer one replaced it meanwhile), fetch a new one and replay
      -- once; a 401 means nothing was executed (D14).
      replayed = true
      if watch then
        watch.report(st, req, tries, status, request_id, "auth", o.body, "token refused (401): replayed with a new one", 0)
      end
      token.drop(st, used)
    else
      local body, retry_after = o.body, o.retry_after
      local wait = retry_after and core.retry_after(retry_after)
      local method = req.method
      if status == 429 and st.pace then import("pace").paused(st, req, wait) end
      if attempt < st.max_retries and (wait or 0) <= M.MAX_RETRY_AFTER
        and (status == 429 or (RETRY_STATUS[status] and RETRY_METHOD[method])) then
        attempt = attempt + 1
        local delay = wait or backoff(st, attempt)
        if watch then
          watch.report(st, req, tries, status, request_id, errors.status_kind(status), body,
            status == 429 and "rate limited (429)" or ("status " .. status .. " on a " .. method), delay)
        end
        sleep(st, delay)
      else
        if type(body) ~= "string" then body = "" end
        local a, b, c = errors.http(req, status, body, o.reason, wait, request_id, errors.secrets(st, req.instance_token))
        if watch then watch.report(st, req, tries, status, request_id, c.kind, body) end
        return a, b, c
      end
    end
    o = nil
  end
end

return M
