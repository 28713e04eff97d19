-- http.lua: one API call on the wire: auth headers and the token cache,
-- the libcurl or custom transport, retries, the 401 replay, and turning the
-- answer into a result or the failure tuple (contract §2, §5; lua-api.md
-- "Reliability").
local import, core = ...
local errors = import("errors")
-- (observe.lua is imported when a client has an observe hook)
local token = import("token")

local type, pairs, pcall, tonumber = type, pairs, pcall, tonumber
local perform, success_body = core.perform, core.success_body
local random, min = math.random, math.min
local running, yield = coroutine.running, coroutine.yield

local M = {}

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
-- A Retry-After longer than this is returned to the caller, not slept on.
M.MAX_RETRY_AFTER = 60

local function backoff(st, attempt)
  local d = min(BACKOFF_CAP, st.retry_backoff * 2 ^ (attempt - 1))
  return d * (0.5 + random() * 0.5) -- jitter: clients retrying together spread out
end

-- ---------------------------------------------------------------------------
-- Transports: both answer status, body, reason, retry_after, request_id or
-- nil, kind, message, sent (see core.perform in src/transport.c).
-- ---------------------------------------------------------------------------

-- A custom transport answers res, or nil, errmsg[, kind] where kind may be
-- "timeout", "tls" or "network". It is called from Lua through pcall (which
-- LuaJIT and 5.2+ let yield), so a cosocket transport does not block.
local function custom_exchange(st, method, url, headers, body, timeout)
  local ok, res, msg, kind = pcall(st.transport, {
    method = method, url = url, headers = headers, body = body, timeout = timeout or st.timeout,
    connect_timeout = st.connect_timeout, ssl_verify = st.ssl_verify,
  })
  if not ok then return nil, "message", res end
  if type(res) ~= "table" then return nil, "message", msg or "transport returned no response", kind end
  local status = tonumber(res.status)
  if not status or status < 100 or status > 599 then return nil, "message", "transport returned an invalid status" end
  local rbody = res.body
  if rbody == nil then rbody = "" end
  if type(rbody) ~= "string" then return nil, "message", "transport returned a non-string body" end
  local h = type(res.headers) == "table" and res.headers or {}
  local lower = {}
  for k, v in pairs(h) do if type(k) == "string" then lower[k:lower()] = v end end
  if status >= 200 and status < 300 then
    local why
    rbody, why = success_body(rbody, st.json_budget)
    if rbody == nil then return nil, "network", why, true end -- over the decode budget
  end
  return status, rbody, res.reason, lower["retry-after"], lower["x-request-id"]
end

-- The call's headers (contract §2.3) are built in C (src/headers.c) from
-- the client's strings and current token: as libcurl's header list, or as
-- a fresh table for a custom transport, which may change it.
local function exchange(st, req)
  local itoken = req.instance_token -- never blank: the mapper refuses that
  if st.transport then
    local headers = core.headers(st.ud, req.auth, req.body ~= nil, itoken, req.headers)
    return custom_exchange(st, req.method, req.url, headers, req.body, req.timeout)
  end
  if in_parallel(st) then
    return yield(PAR, "xfer", req.method, req.url, req.body, req.timeout, req.auth, itoken, req.headers)
  end
  return perform(st.ud, req.method, req.url, req.body, req.timeout, req.auth, itoken, req.headers)
end

-- ---------------------------------------------------------------------------
-- The exchange loop
-- ---------------------------------------------------------------------------

-- req: the request the mapper built (src/request.c, vz_push_request):
--   {method, path, url, body = string|nil, auth = bool, instance_token,
--    headers = caller headers|nil, timeout = seconds|nil, op}
-- first: the outcome of a first attempt already made from C
-- (direct_call.c), as a packed list of core.perform's results, or nil.
function M.send(st, req, first)
  if req.refuse then return errors.media_limit(req, req.refuse) end
  local attempt, replayed, tries = 0, false, 0
  local watch = st.observe and import("observe")
  -- the token of the current attempt: a first attempt from C sent the mirror
  local used = first and st.token
  while true do
    local status, body, reason, retry_after, request_id
    if first then
      status, body, reason, retry_after, request_id = first[1], first[2], first[3], first[4], first[5]
      first = nil
    else
      if req.auth then
        local msg, err
        used, msg, err = M.token(st)
        if not used then return nil, msg, err end
      end
      status, body, reason, retry_after, request_id = exchange(st, req)
    end
    tries = tries + 1
    -- Each branch below tells the observe hook what it decided for this
    -- attempt (observe.report: kind, response, retry reason, delay).
    if status == nil then
      local a, b, c
      local kind, message, sent = body, reason, retry_after
      if body == "message" then
        a, b, c = errors.from_transport_message(reason, req, errors.secrets(st, req.instance_token), retry_after)
      elseif sent or NO_RETRY[kind] or attempt >= st.max_retries then
        a, b, c = errors.transport(kind, message, req, errors.secrets(st, req.instance_token), sent)
      end
      if c then
        if watch then watch.report(st, req, tries, status, request_id, c.kind) end
        return a, b, c
      end
      attempt = attempt + 1
      local delay = backoff(st, attempt)
      if watch then
        watch.report(st, req, tries, status, request_id, kind, nil, kind .. " failure before anything was sent", delay)
      end
      sleep(st, delay)
    elseif status < 300 and status >= 200 then
      if watch then watch.report(st, req, tries, status, request_id, "ok", body) end
      return body
    elseif status == 401 and req.auth and not replayed then
      -- The token was refused (revoked, or expired early): drop it (unless
      -- a newer one replaced it meanwhile), fetch a new one and replay
      -- once; a 401 means nothing was executed (D14).
      replayed = true
      if watch then
        watch.report(st, req, tries, status, request_id, "auth", body, "token refused (401): replayed with a new one", 0)
      end
      token.drop(st, used)
    else
      local wait = retry_after and core.retry_after(retry_after)
      if status == 429 and st.pace then import("pace").paused(st, req, wait) end
      if attempt < st.max_retries and (wait or 0) <= M.MAX_RETRY_AFTER
        and (status == 429 or (RETRY_STATUS[status] and RETRY_METHOD[req.method])) then
        attempt = attempt + 1
        local delay = wait or backoff(st, attempt)
        if watch then
          watch.report(st, req, tries, status, request_id, watch.status_kind(status), body,
            status == 429 and "rate limited (429)" or ("status " .. status .. " on a " .. req.method), delay)
        end
        sleep(st, delay)
      else
        if type(body) ~= "string" then body = "" end
        local a, b, c = errors.http(req, status, body, reason, wait, request_id, errors.secrets(st, req.instance_token))
        if watch then watch.report(st, req, tries, status, request_id, c.kind, body) end
        return a, b, c
      end
    end
  end
end

-- ---------------------------------------------------------------------------
-- The token (contract §2.1; token.lua keeps it)
-- ---------------------------------------------------------------------------

-- The cached token, or a new one. One fetch at a time: in a parallel run
-- the other coroutines wait for it instead of each asking /token (and a
-- shared token_store makes one fetch for all its clients, token.lua).
function M.token(st)
  local tok = token.current(st)
  if tok then return tok end
  if in_parallel(st) then
    while st.fetching do yield(PAR, "wait") end
    tok = token.current(st)
    if tok then return tok end
    st.fetching = running() -- the scheduler frees it if this job dies
  end
  local msg, err
  tok, msg, err = token.refresh(st, M.send)
  st.fetching = nil
  return tok, msg, err
end

return M
