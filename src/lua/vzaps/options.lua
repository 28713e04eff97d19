-- options.lua: checks the options of vzaps.new (README, "Client
-- options"). Every mistake raises `bad argument #1 to 'new' (...)`.
local import, core = ...
local args = import("args")
local option_table = import("option_table")

local type, pairs, ipairs, tostring, tonumber, getmetatable = type, pairs, ipairs, tostring, tonumber, getmetatable

local M = {}

-- While M.check runs: {option = variable} of the values it took from the
-- environment, so that a bad one is named by its variable.
local from_env

local function bad(why)
  local name = from_env and why:match("^([%w_]+)")
  if name and from_env[name] then why = why .. " (from " .. from_env[name] .. ")" end
  args.argerror(1, "new", why)
end

local function string_opt(opts, name, pattern, what)
  local v = opts[name]
  if v == nil then return nil end
  if type(v) ~= "string" then bad(name .. " must be a string, got " .. type(v)) end
  if v:find("%z") then bad(name .. " contains a NUL byte") end
  if pattern and not v:find(pattern) then bad(name .. " must be " .. what) end
  -- user:password@ in an API URL would go out as Basic auth and show in
  -- tostring(client) and in errors: credentials belong in the options.
  if name:find("_url$") and v:find("^%a[%w+.-]*://[^/?#]*@") then
    bad(name .. " must not contain user info (user:password@)")
  end
  return v
end

-- Seconds: more than zero (or zero too, with zero_ok), at most one year
-- (core.check_seconds: the one limit of src/policy.c).
local function seconds_opt(opts, name, default, zero_ok)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v == math.huge then bad(name .. " must be a number of seconds") end
  if not (zero_ok and v >= 0 or v > 0) then bad(name .. " must be " .. (zero_ok and "zero or more" or "positive")) end
  if not core.check_seconds(v, zero_ok) then bad(name .. " is too large (one year at most)") end
  return v
end

-- The defaults are the option table's (the text the docs show): numbers
-- and URLs are read from it, so the docs and the checks cannot disagree.
local KNOWN, DEFAULT = {}, {}
for _, o in ipairs(option_table) do
  KNOWN[o[1]] = true
  local text = o[3]:match("`([^`]*)`$") -- the last value given: "`VZAPS_BASE_URL`, else `https://...`"
  DEFAULT[o[1]] = text and (tonumber(text) or text:match("^%a+://%S+$"))
end
M.DEFAULT = DEFAULT
M.DEFAULT_BASE_URL = DEFAULT.base_url
M.DEFAULT_REALTIME_URL = DEFAULT.realtime_url

-- The user's configuration the module takes from the environment, for the
-- options not given (as the OpenAI and Twilio SDKs do): nothing else, and
-- never a test switch. An empty variable counts as unset.
M.ENVIRONMENT = {
  client_token = "VZAPS_CLIENT_TOKEN",
  client_secret = "VZAPS_CLIENT_SECRET",
  base_url = "VZAPS_BASE_URL",
  realtime_url = "VZAPS_REALTIME_URL",
}

-- opts with the environment's values for the options it does not give (a
-- copy, or opts itself when nothing came from the environment), and which
-- came from there (for the messages).
local function with_environment(opts)
  local merged, from
  for name, var in pairs(M.ENVIRONMENT) do
    if opts[name] == nil then
      local v = os.getenv(var)
      if v and v ~= "" then
        if not merged then
          merged, from = {}, {}
          for k, x in pairs(opts) do merged[k] = x end
        end
        merged[name], from[name] = v, var
      end
    end
  end
  return merged or opts, from
end

-- Returns the validated settings (a fresh table; opts is not modified).
function M.check(opts)
  from_env = nil
  if type(opts) ~= "table" then bad("options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not KNOWN[k] then bad("unknown option '" .. tostring(k) .. "'") end
  end
  opts, from_env = with_environment(opts)
  local s = {}
  -- Credentials go in headers: non-blank, one line, sent unmodified (D17).
  for _, name in pairs({ "client_token", "client_secret" }) do
    local v = opts[name]
    if v == nil then bad(name .. " is required (or set " .. M.ENVIRONMENT[name] .. ")") end
    if type(v) ~= "string" then bad(name .. " must be a string, got " .. type(v)) end
    local why = core.token_problem(v) -- the rule of every token that goes in a header (src/policy.c)
    if why == "blank" then bad(name .. " must not be blank") end
    if why == "control" then bad(name .. " contains control characters") end
    if why == "long" then bad(name .. " is longer than " .. core.MAX_TOKEN .. " bytes") end
    s[name] = v
  end
  local base = string_opt(opts, "base_url", "^https?://[^%s]+$", "an http:// or https:// URL without spaces")
    or M.DEFAULT_BASE_URL
  s.base_url = (base:gsub("/+$", ""))
  local rt = string_opt(opts, "realtime_url", "^wss?://[^%s]+$", "a ws:// or wss:// URL without spaces")
    or M.DEFAULT_REALTIME_URL
  s.realtime_url = (rt:gsub("/+$", ""))
  s.timeout = seconds_opt(opts, "timeout", DEFAULT.timeout)
  s.connect_timeout = seconds_opt(opts, "connect_timeout", DEFAULT.connect_timeout)
  s.token_skew = seconds_opt(opts, "token_skew", DEFAULT.token_skew, true)
  local ua = string_opt(opts, "user_agent", "^[^%c]+$", "a non-empty single line")
  if ua and #ua > 1024 then bad("user_agent is too long (1024 bytes at most)") end
  s.user_agent = ua or ("VZaps.SDK.Lua/" .. core.VERSION)
  local mr = opts.max_retries
  if mr == nil then
    mr = DEFAULT.max_retries
  elseif type(mr) ~= "number" or mr ~= math.floor(mr) or mr < 0 or mr > 100 then
    bad("max_retries must be an integer from 0 to 100")
  end
  s.max_retries = mr
  -- The job engine's transfer slots (scheduler.lua): requests of spawned
  -- jobs and parallel runs in flight at once.
  local cc = opts.concurrency
  if cc == nil then
    cc = 8
  elseif type(cc) ~= "number" or cc ~= math.floor(cc) or cc < 1 or cc > 256 then
    bad("concurrency must be an integer from 1 to 256")
  end
  s.concurrency = cc
  -- The decode budget of answers (src/json.h): nil keeps the C default.
  local jb = opts.json_budget
  if jb ~= nil and jb ~= false and (type(jb) ~= "number" or jb ~= math.floor(jb) or jb < 1 or jb > 4096) then
    bad("json_budget must be an integer from 1 to 4096 (bytes of Lua memory per byte of JSON), or false")
  end
  s.json_budget = jb
  local v = opts.ssl_verify
  if v ~= nil and type(v) ~= "boolean" then bad("ssl_verify must be a boolean, got " .. type(v)) end
  s.ssl_verify = v ~= false
  s.ca_file = string_opt(opts, "ca_file", ".", "a file path")
  s.ca_path = string_opt(opts, "ca_path", ".", "a directory path")
  -- "" is libcurl's "no proxy at all", environment variables included.
  local proxy = string_opt(opts, "proxy")
  if proxy and proxy:find("[%s%c]") then
    bad("proxy must be a URL such as \"http://host:3128\" (it contains a space or control character), "
      .. "or \"\" to turn proxies off")
  end
  s.proxy = proxy
  local t = opts.transport
  if t ~= nil and type(t) ~= "function" then bad("transport must be a function, got " .. type(t)) end
  s.transport = t
  local ob = opts.observe
  if ob ~= nil and type(ob) ~= "function" then bad("observe must be a function, got " .. type(ob)) end
  s.observe = ob
  local op = opts.observe_payloads
  if op ~= nil and type(op) ~= "boolean" then bad("observe_payloads must be a boolean, got " .. type(op)) end
  s.observe_payloads = op == true
  -- The retry backoff's sleep: the module's blocking one unless given (in
  -- OpenResty, ngx.sleep, which yields instead of stalling the worker).
  local sl = opts.sleep
  if sl ~= nil and type(sl) ~= "function" then bad("sleep must be a function, got " .. type(sl)) end
  s.sleep = sl or core.sleep
  -- First delay of the exponential retry backoff (doubles each retry, capped
  -- at 8 s, with jitter); tests and latency-bound callers lower it.
  s.retry_backoff = seconds_opt(opts, "retry_backoff", DEFAULT.retry_backoff, true)
  -- Where the JWT is cached (token.lua): nil keeps it in this client only.
  local ts = opts.token_store
  if ts ~= nil then
    if getmetatable(ts) ~= import("ngx_store").STORE_MT and not import("store").usable(ts, "token") then
      bad("token_store must be a store: vzaps.ngx_token_store(dict_name), vzaps.ngx_store(dict_name), "
        .. "vzaps.redis_store{...} or one with key, read, refresh and drop")
    end
    s.token_store, s.token_key = ts, ts:key(s)
  end
  -- Send budgets (pace.lua): checked and kept, with their store.
  if opts.pace ~= nil then
    s.pace = import("pace").check(opts.pace)
    import("pace").settle(s.pace, s)
  end
  return s
end

return M
