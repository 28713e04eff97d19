-- observe.lua: the `observe` client option, a function called once for
-- every attempt of every call (the API description has no such hook; issue "request
-- hooks"): what was asked, what came back, what the module decided, and
-- libcurl's timings. Headers and bodies only with `observe_payloads = true`,
-- and then redacted like error fields. A hook that raises never breaks the
-- call: its error is dropped, and the call goes on as if it had returned.
local import, core = ...
local errors = import("errors")

local pcall = pcall
local observe_facts = core.observe_facts
-- http.lua imports this module, so it is imported here on first use.
local http

local M = {}

-- The hook's `timings` table from libcurl's five values, in seconds (a
-- blocking call's from core.observe_facts, a job's from its slot: m:timings).
function M.timings(lookup, connect, tls, first_byte, total)
  return { name_lookup = lookup, connect = connect, tls = tls, first_byte = first_byte, total = total }
end

-- The hook's call for one attempt that just ended: its status and request
-- id, the kind of its outcome, the response (given with observe_payloads),
-- and, when the module tries again, why and after how long. The timings:
-- a blocking call's are those of the client's own handle (none once it is
-- closed), a job's were left by the scheduler for the transfer it resumed
-- the job with (scheduler.lua; taken once), a custom transport has none.
-- The constructor is sized for a first attempt that succeeded (with a
-- request id, as the platform sends); a retry's reason and delay grow it.
function M.report(st, req, attempt, status, request_id, kind, response, retry, delay)
  local op, method, path, timings
  local own = st.transport == nil
  if own and st.par then
    http = http or import("http")
    if http.in_job(st) then
      own = false
      timings = st.last_timings
      st.last_timings = nil
    end
  end
  if own then
    local lookup, connect, tls, first_byte, total
    op, method, path, lookup, connect, tls, first_byte, total = observe_facts(st.ud, req, true)
    if lookup then timings = M.timings(lookup, connect, tls, first_byte, total) end
  else
    op, method, path = observe_facts(st.ud, req, false)
  end
  local info = {
    op = op, method = method, path = path, attempt = attempt, status = status, kind = kind,
    retry = retry ~= nil, timings = timings, request_id = request_id,
  }
  if retry ~= nil then info.retry_reason, info.retry_delay = retry, delay end
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

return M
