-- observe.lua: the `observe` client option, a function called once for
-- every attempt of every call (lua-api.md has no such hook; issue "request
-- hooks"): what was asked, what came back, what the module decided, and
-- libcurl's timings. Headers and bodies only with `observe_payloads = true`,
-- and then redacted like error fields. A hook that raises never breaks the
-- call: its error is dropped, and the call goes on as if it had returned.
local import, core = ...
local errors = import("errors")

local pcall = pcall

local M = {}

local KIND_OF_STATUS = { [401] = "auth", [403] = "auth", [429] = "rate_limit" }

-- The outcome kind of an HTTP status: "ok" for 2xx, else the error kind.
function M.status_kind(status)
  if status >= 200 and status < 300 then return "ok" end
  return KIND_OF_STATUS[status] or "http"
end

-- info for one attempt; a = {status, kind, retry (reason), delay, timings,
-- request_id, response}
function M.report(st, req, attempt, a)
  local info = {
    op = req.op, method = req.method, path = req.path, attempt = attempt,
    status = a.status, kind = a.kind, retry = a.retry ~= nil, retry_reason = a.retry, retry_delay = a.delay,
    request_id = a.request_id, timings = a.timings,
  }
  if st.observe_payloads then
    local secrets = errors.secrets(st, req.instance_token)
    local itoken = req.instance_token
    if itoken == "" then itoken = nil end
    local ok, headers = pcall(core.headers, st.ud, req.auth, req.body ~= nil, itoken, req.headers)
    info.request_headers = ok and errors.redact(headers, secrets) or nil
    info.request_body = req.body and errors.redact(req.body, secrets) or nil
    info.response = a.response ~= nil and errors.redact(a.response, secrets) or nil
  end
  pcall(st.observe, info)
end

-- The timings of the attempt that just ended (nil with a custom transport).
function M.timings(st, in_job)
  if st.transport then return nil end
  if in_job then
    -- set by the scheduler for the transfer it resumes the job with; taken once
    local t = st.last_timings
    st.last_timings = nil
    return t
  end
  local ok, t = pcall(core.timings, st.ud)
  return ok and t or nil
end

return M
