-- observe.lua: the `observe` client option, a function called once for
-- every attempt of every call (the API description has no such hook; issue "request
-- hooks"): what was asked, what came back, what the module decided, and
-- libcurl's timings. Headers and bodies only with `observe_payloads = true`,
-- and then redacted like error fields. A hook that raises never breaks the
-- call: its error is dropped, and the call goes on as if it had returned.
local import, core = ...
local errors = import("errors")

local pcall = pcall

local M = {}

-- The hook's call for one attempt that just ended: its status and request
-- id, the kind of its outcome, the response (given with observe_payloads),
-- and, when the module tries again, why and after how long.
function M.report(st, req, attempt, status, request_id, kind, response, retry, delay)
  local info = {
    op = req.op, method = req.method, path = req.path, attempt = attempt,
    status = status, kind = kind, retry = retry ~= nil, retry_reason = retry, retry_delay = delay,
    request_id = request_id, timings = M.timings(st),
  }
  -- the time the call waited for its turn of the send budget (pace.lua;
  -- not the /token fetch its first attempt may need)
  if st.pace and attempt == 1 and req.auth then info.pace_wait = import("pace").waited(st) end
  if st.observe_payloads then
    local secrets = errors.secrets(st, req.instance_token)
    local ok, headers = pcall(core.headers, st.ud, req)
    info.request_headers = ok and errors.redact(headers, secrets) or nil
    info.request_body = req.body and errors.redact(req.body, secrets) or nil
    info.response = response ~= nil and errors.redact(response, secrets) or nil
  end
  pcall(st.observe, info)
end

-- The timings of the attempt that just ended (nil with a custom
-- transport): a job's were left by the scheduler for the transfer it
-- resumed the job with (scheduler.lua), a blocking call's are the client's.
function M.timings(st)
  if st.transport then return nil end
  if import("http").in_job(st) then
    -- set by the scheduler for the transfer it resumes the job with; taken once
    local t = st.last_timings
    st.last_timings = nil
    return t
  end
  local ok, t = pcall(core.timings, st.ud)
  return ok and t or nil
end

return M
