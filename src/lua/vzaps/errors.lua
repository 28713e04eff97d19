-- errors.lua: the error object (vzaps.Error) and the failure tuple
-- `nil, message, err`. Secrets never reach a message, a body or details.
local _, core = ...

local type, next, tostring, setmetatable, getmetatable =
  type, next, tostring, setmetatable, getmetatable
local concat, byte, format = table.concat, string.byte, string.format

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
-- Details nested deeper than this are replaced whole, not walked.
local MAX_DEPTH = 50

function M.is_error(v) return getmetatable(v) == Error end

-- Replaces every plain occurrence of needle (no patterns: secrets may hold
-- magic characters), found in hay: s itself, or s:lower() for an encoded
-- form (hex escapes such as %2f, \u002f come in either case; lower()
-- keeps every byte where it is, so the positions are those of s).
local function replace_plain(s, needle, rep, hay)
  hay = hay or s
  local a, b = hay:find(needle, 1, true)
  if not a then return s end
  local out, i = {}, 1
  while a do
    out[#out + 1] = s:sub(i, a - 1)
    out[#out + 1] = rep
    i = b + 1
    a, b = hay:find(needle, i, true)
  end
  out[#out + 1] = s:sub(i)
  return concat(out)
end

-- secrets: a list from M.secret_list (its `nocase` set marks the encoded
-- forms). The lowered text is made once, and again only after a change.
local NONE = {}
local function redact_string(s, secrets)
  local nocase, low = secrets.nocase or NONE, nil
  for i = 1, #secrets do
    local needle, hay = secrets[i], nil
    if nocase[needle] then
      low = low or s:lower()
      hay = low
    end
    local r = replace_plain(s, needle, REDACTED, hay)
    if r ~= s then s, low = r, nil end
  end
  return s
end

-- A copy with every string (values and keys, tables as keys too) redacted.
-- A subtree deeper than MAX_DEPTH (or a cycle) becomes the marker instead of
-- going out unredacted; raw next, so no __pairs of a caller's value runs.
local function redact_value(v, secrets, depth)
  if type(v) == "string" then return redact_string(v, secrets) end
  if type(v) ~= "table" then return v end
  if depth > MAX_DEPTH then return REDACTED .. " (nested too deeply)" end
  local mt = getmetatable(v)
  local out = setmetatable({}, type(mt) == "table" and mt or nil)
  for k, x in next, v do
    out[redact_value(k, secrets, depth + 1)] = redact_value(x, secrets, depth + 1)
  end
  return out
end

-- Redaction for other reports of a call (the observe hook): strings and
-- tables, the same replacement as error fields.
function M.redact(v, secrets) return redact_value(v, secrets, 0) end

-- The forms a secret takes when a server echoes it inside JSON text or a
-- URL: JSON-escaped (`"`, `\`, `/` as `\/` or not, every byte as \u00XX)
-- and %-encoded (the bytes outside RFC 3986's unreserved set, or every
-- byte). The hex forms are matched in any case.
local function json_escaped(s, slash)
  return (s:gsub('[%c"\\/]', function(c)
    if c == "/" then return slash and "\\/" or "/" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return format("\\u%04x", byte(c))
  end))
end

local function encoded_forms(s)
  local pct = s:gsub("[^%w%-%._~]", function(c) return format("%%%02x", byte(c)) end)
  local all_pct = s:gsub(".", function(c) return format("%%%02x", byte(c)) end)
  local all_u = s:gsub(".", function(c) return format("\\u%04x", byte(c)) end)
  return { pct:lower(), all_pct, all_u }
end

-- The list redaction takes for the given secrets (nil and too-short values
-- are skipped, so that redaction never mangles ordinary text): each with
-- its escaped and encoded forms, longest first.
function M.secret_list(...)
  local list, seen, nocase = {}, {}, {}
  local function put(s, hex)
    if seen[s] then return end
    seen[s] = true
    list[#list + 1] = s
    if hex then nocase[s] = true end
  end
  local function add(s)
    if type(s) ~= "string" or #s < 4 then return end
    put(s)
    put(json_escaped(s, false))
    put(json_escaped(s, true))
    local forms = encoded_forms(s)
    for i = 1, #forms do put(forms[i], true) end
  end
  for i = 1, select("#", ...) do add((select(i, ...))) end
  -- Longest first, so a secret containing another is replaced whole.
  table.sort(list, function(x, y) return #x > #y end)
  list.nocase = nocase
  return list
end

-- The secrets one request may meet: the client's credentials, its current
-- JWT and the instance token the call carried.
function M.secrets(st, instance_token)
  return M.secret_list(st.client_secret, st.client_token, st.token, instance_token)
end

local function fail(fields, secrets)
  fields.message = redact_string(fields.message, secrets)
  -- code and request_id come from the server too: an echo of a secret there
  -- is redacted like anywhere else.
  if type(fields.code) == "string" then fields.code = redact_string(fields.code, secrets) end
  if type(fields.request_id) == "string" then fields.request_id = redact_string(fields.request_id, secrets) end
  if fields.details ~= nil then fields.details = redact_value(fields.details, secrets, 0) end
  -- Redacted whole, then cut: a secret across the cut leaves no prefix.
  if fields.body ~= nil then
    local body = redact_string(fields.body, secrets)
    fields.body = #body > MAX_RAW_BODY and body:sub(1, MAX_RAW_BODY) or body
  end
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

-- A token wait that outlived the caller's lease (the shared token stores:
-- an nginx worker or a process waiting for another one's fetch of
-- /token): a timeout in the core's one wording (core.timeout_text), and
-- this caller sent nothing.
local TOKEN_REQ = { method = "POST", path = "/token" }
function M.token_wait_timeout(seconds)
  return M.transport("timeout", core.timeout_text("request", seconds, "waiting for another process's token fetch",
    false), TOKEN_REQ, {}, false)
end

local KIND_OF_STATUS = { [401] = "auth", [403] = "auth", [429] = "rate_limit" }

-- The kind of an HTTP status: "ok" for 2xx, else the error kind.
function M.status_kind(status)
  if status >= 200 and status < 300 then return "ok" end
  return KIND_OF_STATUS[status] or "http"
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
  local kind = M.status_kind(status)
  return fail({
    kind = kind, status = status, code = code or DEFAULT_CODE[kind] or ("HTTP_" .. status),
    message = message, details = details, body = raw,
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

-- A media value above WhatsApp's limit for its field, or a vzaps.file
-- that could not be read when the body was built (r.code, r.message: the
-- file is gone, unreadable, empty, too large, or changed while read), both
-- from src/request.c: refused before anything was sent.
function M.media_limit(req, r)
  if r.code then
    return fail({
      kind = "media", code = r.code, message = r.message .. "; nothing was sent",
      method = req.method, path = req.path,
    }, {})
  end
  local function mib(n) return string.format("%.1f MiB", n / 1048576) end
  return fail({
    kind = "media", code = "MEDIA_TOO_LARGE",
    message = string.format("field '%s': %s is above WhatsApp's %s limit for %s; nothing was sent",
      r.field, mib(r.size), r.limit >= 1048576 and mib(r.limit) or string.format("%d KiB", math.floor(r.limit / 1024)), r.what),
    details = { field = r.field, size = r.size, limit = r.limit }, method = req.method, path = req.path,
  }, {})
end

-- A list that cannot be paged through to its end (resources.lua's
-- iterators): code PAGE_REPEATED (the server answered a page again),
-- BAD_PAGE (an answer without its list) or TOO_MANY_PAGES; page is the
-- page number asked for, op the list method ("instances.list").
function M.paging(code, message, page, op)
  return setmetatable({ kind = "paging", code = code, message = op .. ": " .. message, page = page, op = op }, Error)
end

return M
