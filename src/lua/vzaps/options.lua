-- options.lua: checks the options of vzaps.new (lua-api.md, "Client
-- options"). Every mistake raises `bad argument #1 to 'new' (...)`.
local import, core = ...
local resources = import("resources")

local type, pairs, tostring = type, pairs, tostring

local M = {}

local function bad(why) resources.argerror(1, "new", why) end

local function string_opt(opts, name, pattern, what)
  local v = opts[name]
  if v == nil then return nil end
  if type(v) ~= "string" then bad(name .. " must be a string, got " .. type(v)) end
  if v:find("%z") then bad(name .. " contains a NUL byte") end
  if pattern and not v:find(pattern) then bad(name .. " must be " .. what) end
  return v
end

local function number_opt(opts, name, default, min_exclusive, min_inclusive)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v == math.huge then bad(name .. " must be a number of seconds") end
  if (min_exclusive and not (v > min_exclusive)) or (min_inclusive and not (v >= min_inclusive)) then
    bad(name .. " must be " .. (min_exclusive and "positive" or "zero or more"))
  end
  if v > 31536000 then bad(name .. " is too large") end
  return v
end

local KNOWN = {
  client_token = true, client_secret = true, base_url = true, realtime_url = true, timeout = true,
  connect_timeout = true, token_skew = true, user_agent = true, max_retries = true, ssl_verify = true,
  ca_file = true, ca_path = true, proxy = true, transport = true, sleep = true, retry_backoff = true,
}

M.DEFAULT_BASE_URL = "https://api.vzaps.com"
M.DEFAULT_REALTIME_URL = "wss://realtime.vzaps.com"

-- Returns the validated settings (a fresh table; opts is not modified).
function M.check(opts)
  if type(opts) ~= "table" then bad("options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not KNOWN[k] then bad("unknown option '" .. tostring(k) .. "'") end
  end
  local s = {}
  -- Credentials go in headers: non-blank, one line, sent unmodified (D17).
  for _, name in pairs({ "client_token", "client_secret" }) do
    local v = opts[name]
    if v == nil then bad(name .. " is required") end
    if type(v) ~= "string" then bad(name .. " must be a string, got " .. type(v)) end
    if not v:find("%S") then bad(name .. " must not be blank") end
    if v:find("%c") then bad(name .. " contains control characters") end
    if #v > 4096 then bad(name .. " is too long") end
    s[name] = v
  end
  local base = string_opt(opts, "base_url", "^https?://[^%s]+$", "an http:// or https:// URL without spaces")
    or M.DEFAULT_BASE_URL
  s.base_url = (base:gsub("/+$", ""))
  local rt = string_opt(opts, "realtime_url", "^wss?://[^%s]+$", "a ws:// or wss:// URL without spaces")
    or M.DEFAULT_REALTIME_URL
  s.realtime_url = (rt:gsub("/+$", ""))
  s.timeout = number_opt(opts, "timeout", 30, 0)
  s.connect_timeout = number_opt(opts, "connect_timeout", 10, 0)
  s.token_skew = number_opt(opts, "token_skew", 60, nil, 0)
  local ua = string_opt(opts, "user_agent", "^[^%c]+$", "a non-empty single line")
  if ua and #ua > 1024 then bad("user_agent is too long (1024 bytes at most)") end
  s.user_agent = ua or ("VZaps.SDK.Lua/" .. core.VERSION)
  local mr = opts.max_retries
  if mr == nil then
    mr = 2
  elseif type(mr) ~= "number" or mr ~= math.floor(mr) or mr < 0 or mr > 100 then
    bad("max_retries must be an integer from 0 to 100")
  end
  s.max_retries = mr
  local v = opts.ssl_verify
  if v ~= nil and type(v) ~= "boolean" then bad("ssl_verify must be a boolean, got " .. type(v)) end
  s.ssl_verify = v ~= false
  s.ca_file = string_opt(opts, "ca_file", ".", "a file path")
  s.ca_path = string_opt(opts, "ca_path", ".", "a directory path")
  s.proxy = string_opt(opts, "proxy", "^[^%s]+$", "a proxy URL without spaces")
  local t = opts.transport
  if t ~= nil and type(t) ~= "function" then bad("transport must be a function, got " .. type(t)) end
  s.transport = t
  -- The retry backoff's sleep: the module's blocking one unless given (in
  -- OpenResty, ngx.sleep, which yields instead of stalling the worker).
  local sl = opts.sleep
  if sl ~= nil and type(sl) ~= "function" then bad("sleep must be a function, got " .. type(sl)) end
  s.sleep = sl or core.sleep
  -- First delay of the exponential retry backoff (doubles each retry, capped
  -- at 8 s, with jitter); tests and latency-bound callers lower it.
  s.retry_backoff = number_opt(opts, "retry_backoff", 0.5, nil, 0)
  return s
end

return M
