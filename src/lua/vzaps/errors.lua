-- errors.lua: the error object (vzaps.Error) and the failure tuple
-- `nil, message, err`. Secrets never reach a message, a body or details.
local _, core = ...

local type, pairs, tostring, setmetatable, getmetatable =
  type, pairs, tostring, setmetatable, getmetatable
local concat = table.concat

local M = {}

local Error = { __name = "vzaps.Error" }
Error.__index = Error
function Error.__tostring(e)
  if e.status then return "vzaps: " .. e.message .. " (status " .. e.status .. ")" end
  return "vzaps: " .. e.message
end
M.Error = Error

local DEFAULT_CODE = {
  auth = "AUTHENTICATION_FAILED",
  rate_limit = "RATE_LIMITED",
  timeout = "REQUEST_TIMEOUT",
  network = "NETWORK_ERROR",
  tls = "TLS_ERROR",
  cancelled = "CANCELLED",
  closed = "CLIENT_CLOSED",
}

local REDACTED = "[REDACTED]"
local MAX_RAW_BODY = 4096

function M.is_error(v) return getmetatable(v) == Error end

-- Replaces every plain occurrence of needle (no patterns: secrets may hold
-- magic characters).
local function replace_plain(s, needle, rep)
  local a, b = s:find(needle, 1, true)
  if not a then return s end
  local out, i = {}, 1
  while a do
    out[#out + 1] = s:sub(i, a - 1)
    out[#out + 1] = rep
    i = b + 1
    a, b = s:find(needle, i, true)
  end
  out[#out + 1] = s:sub(i)
  return concat(out)
end

local function redact_string(s, secrets)
  for i = 1, #secrets do s = replace_plain(s, secrets[i], REDACTED) end
  return s
end

local function redact_value(v, secrets, depth)
  if type(v) == "string" then return redact_string(v, secrets) end
  if type(v) ~= "table" or depth > 50 then return v end
  local out = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do
    if type(k) == "string" then k = redact_string(k, secrets) end
    out[k] = redact_value(x, secrets, depth + 1)
  end
  return out
end

-- Redaction for other reports of a call (the observe hook): strings and
-- tables, the same replacement as error fields.
function M.redact(v, secrets) return redact_value(v, secrets, 0) end

-- The secrets one request may meet: the client's credentials, its current
-- JWT and the instance token the call carried. Too-short values are skipped
-- so that redaction never mangles ordinary text.
function M.secrets(st, instance_token)
  local list = {}
  local function add(s) if type(s) == "string" and #s >= 4 then list[#list + 1] = s end end
  add(st.client_secret)
  add(st.client_token)
  add(st.token)
  add(instance_token)
  -- Longest first, so a secret containing another is replaced whole.
  table.sort(list, function(a, b) return #a > #b end)
  return list
end

local function fail(fields, secrets)
  fields.message = redact_string(fields.message, secrets)
  -- code and request_id come from the server too: an echo of a secret there
  -- is redacted like anywhere else.
  if type(fields.code) == "string" then fields.code = redact_string(fields.code, secrets) end
  if type(fields.request_id) == "string" then fields.request_id = redact_string(fields.request_id, secrets) end
  if fields.details ~= nil then fields.details = redact_value(fields.details, secrets, 0) end
  if fields.body ~= nil then fields.body = redact_string(fields.body, secrets) end
  local err = setmetatable(fields, Error)
  return nil, tostring(err), err
end
-- The failure tuple of an error made elsewhere (fields: kind, code, message,
-- ...), with the same redaction.
M.fail = fail

-- An error raised from a failed exchange (no HTTP answer): kind is
-- "timeout", "tls" or "network" (or "cancelled", "closed"). sent: true when
-- the request may have been received, false when nothing left, nil when
-- unknown (a custom transport).
function M.transport(kind, message, req, secrets, sent)
  return fail({ kind = kind, code = DEFAULT_CODE[kind], message = message,
                method = req.method, path = req.path, sent = sent }, secrets)
end

local function field_text(t, k)
  local v = t[k]
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

-- An error from a non-2xx answer (contract §5.2).
function M.http(req, status, raw, reason, retry_after, request_id, secrets)
  local details = raw
  if raw:find("%S") then
    local decoded = core.json_decode(raw)
    if decoded ~= nil then details = decoded end
  else
    details = nil
  end
  local message, code
  if type(details) == "table" then
    message = field_text(details, "error") or field_text(details, "message") or field_text(details, "detail")
    local c = details.code
    if type(c) ~= "string" and type(c) ~= "number" then c = details.error_code end
    if type(c) == "number" then
      c = (c == math.floor(c) and c >= -2^53 and c <= 2^53) and string.format("%d", c) or tostring(c)
    end
    if type(c) == "string" and c ~= "" then code = c end
  end
  if not message and reason and reason ~= "" then message = reason end
  message = message or ("request failed with HTTP " .. status)
  local kind = (status == 401 or status == 403) and "auth" or status == 429 and "rate_limit" or "http"
  return fail({
    kind = kind, status = status, code = code or DEFAULT_CODE[kind] or ("HTTP_" .. status),
    message = message, details = details, body = #raw > MAX_RAW_BODY and raw:sub(1, MAX_RAW_BODY) or raw,
    method = req.method, path = req.path, retry_after = retry_after, request_id = request_id,
  }, secrets)
end

-- A token response without a usable token or lifetime (contract D12, D13).
-- why: core.token_problem's answer for the access_token ("blank",
-- "control", "long"), "missing", or nil when only expires_in is wrong.
local BAD_TOKEN = {
  missing = "token response is missing access_token or expires_in",
  blank = "token response is missing access_token or expires_in",
  control = "token response has an access_token with control characters; it was not used",
  long = "token response has an access_token longer than " .. core.MAX_TOKEN .. " bytes; it was not used",
}
function M.bad_token(req, body, secrets, why)
  return fail({
    kind = "auth", status = 401, code = "AUTHENTICATION_FAILED",
    message = BAD_TOKEN[why or "missing"],
    details = body, method = req.method, path = req.path,
  }, secrets)
end

-- A list that cannot be paged through to its end (resources.lua's
-- iterators): code PAGE_REPEATED (the server answered a page again),
-- BAD_PAGE (an answer without its list) or TOO_MANY_PAGES; page is the
-- page number asked for, op the list method ("instances.list").
-- A media value above WhatsApp's limit for its field (src/request.c):
-- refused before anything was sent.
function M.media_limit(req, r)
  local function mib(n) return string.format("%.1f MiB", n / 1048576) end
  return fail({
    kind = "media", code = "MEDIA_TOO_LARGE",
    message = string.format("field '%s': %s is above WhatsApp's %s limit for %s; nothing was sent",
      r.field, mib(r.size), r.limit >= 1048576 and mib(r.limit) or string.format("%d KiB", math.floor(r.limit / 1024)), r.what),
    details = { field = r.field, size = r.size, limit = r.limit }, method = req.method, path = req.path,
  }, {})
end

function M.paging(code, message, page, op)
  return setmetatable({ kind = "paging", code = code, message = op .. ": " .. message, page = page, op = op }, Error)
end

local TRANSPORT_KINDS = { timeout = true, tls = true, network = true }

-- A failure of a custom transport function (it returned nil, msg[, kind] or
-- raised). Without a kind, a message mentioning a timeout is a timeout.
function M.from_transport_message(msg, req, secrets, kind)
  msg = tostring(msg)
  if not TRANSPORT_KINDS[kind] then
    kind = (msg:find("timeout", 1, true) or msg:find("timed out", 1, true)) and "timeout" or "network"
  end
  -- The same wording as src/transport.c's failures.
  local message = kind == "timeout" and "request timed out"
    or kind == "tls" and ("TLS error: " .. msg)
    or ("request failed: " .. msg)
  return M.transport(kind, message, req, secrets)
end

return M
