-- redis_store.lua: vzaps.redis_store{connect, release, prefix, on_error}, a
-- store (store.lua's interface) in Redis, shared by every process of every
-- machine. It takes the user's Redis client: connect() answers a connected
-- client with eval(script, numkeys, ...) (Debian's lua-redis, OpenResty's
-- lua-resty-redis), release(client, ok) gives it back. Each operation is one
-- server-side script, atomic in Redis, on Redis's clock (TIME): no
-- read-then-write race between processes, no clock skew between machines.
--
-- Keys (P the prefix, default "vzaps:"):
--   P..pace:<instance>        hash {tat, pause}: the bucket (store.lua's GCRA)
--   P..pace:<instance>:day    hash {minute = sends}: the rolling 24 h
--   P..dedup:<id>             "0" while handled, "1" once done (SET NX PX)
--   P..token:<digest>         the JWT, expiring with it (PX)
--   P..token:<digest>:lock    who fetches: a lease of one attempt, renewed
--                             by its holder before each wait between attempts
--   P..token:<digest>:gen     fetches ended so far; :fail the last failure
--
-- Redis down or slow: with on_error = "fail" (default) an operation fails
-- with kind "store", code STORE_UNAVAILABLE, and nothing is sent; with
-- on_error = "local" the process carries on with its own local store
-- (store.lua) until Redis answers again. Either way no send is repeated.
local import, core = ...
local errors = import("errors")
local args = import("args")
local store_mod = import("store")

local type, pairs, pcall, tostring, tonumber, setmetatable, error =
  type, pairs, pcall, tostring, tonumber, setmetatable, error
local format, min = string.format, math.min
local now = core.now
local argerror = args.argerror

local M = {}

local SCRIPT_TAKE = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local interval, burst, daily, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tau = (burst - 1) * interval
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or now)
if tat < now then tat = now end
local start = tat - tau
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause') or 0)
local paused = '0'
if pause > start then start, tat, paused = pause, pause + tau, '1' end
local wait = start - now
if wait < 0 then wait = 0 end
if wait > max_wait then return {'wait', string.format('%.6f', wait), paused} end
if daily > 0 then
  local minute = math.floor((now + wait) / 60)
  local all = redis.call('HGETALL', KEYS[2])
  local total, oldest = 0, nil
  for i = 1, #all, 2 do
    local m, n = tonumber(all[i]), tonumber(all[i + 1])
    if m <= minute - 1440 then
      redis.call('HDEL', KEYS[2], all[i])
    else
      total = total + n
      if not oldest or m < oldest then oldest = m end
    end
  end
  if total >= daily then return {'daily', string.format('%.6f', (oldest + 1440) * 60 - now)} end
  redis.call('HINCRBY', KEYS[2], tostring(minute), 1)
  redis.call('EXPIRE', KEYS[2], 90000)
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', tat + interval))
redis.call('EXPIRE', KEYS[1], math.ceil(tat + interval - now + tau) + 60)
return {'ok', string.format('%.6f', wait)}
]]

local SCRIPT_PAUSE = [[
local t = redis.call('TIME')
local untl = tonumber(t[1]) + tonumber(t[2]) / 1e6 + tonumber(ARGV[1])
if untl > tonumber(redis.call('HGET', KEYS[1], 'pause') or 0) then
  redis.call('HSET', KEYS[1], 'pause', string.format('%.6f', untl))
  if redis.call('TTL', KEYS[1]) < tonumber(ARGV[1]) + 60 then redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[1]) + 60) end
end
return 1
]]

local SCRIPT_CLAIM = [[return redis.call('SET', KEYS[1], '0', 'NX', 'PX', ARGV[1]) and 1 or 0]]
local SCRIPT_KEEP = [[redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) return 1]]
local SCRIPT_RELEASE = [[return redis.call('DEL', KEYS[1])]]

-- The token: {jwt, milliseconds left} or {}.
local SCRIPT_READ = [[
local v = redis.call('GET', KEYS[1])
if not v then return {} end
return {v, redis.call('PTTL', KEYS[1])}
]]
-- Drops the token only if it is still the one refused.
local SCRIPT_DROP = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
]]
-- KEYS: token, lock, gen, fail. The token if there is one; else the
-- failure of a fetch that ended after the caller's first look (ARGV[3],
-- the count of fetches ended then; none on the first look); else the lock
-- for ARGV[1] (lease ARGV[2] ms) when free: {state, gen, jwt | fail, pttl}.
local SCRIPT_LOCK = [[
local gen = tonumber(redis.call('GET', KEYS[3]) or 0)
local v = redis.call('GET', KEYS[1])
if v then return {'token', gen, v, redis.call('PTTL', KEYS[1])} end
local since = tonumber(ARGV[3]) or gen
local f = redis.call('GET', KEYS[4])
if f and tonumber(string.match(f, '^(%d+) ') or 0) > since then return {'failed', gen, f} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'locked', gen} end
return {'busy', gen}
]]
-- KEYS: lock, ARGV: holder, lease ms. Renewed only while still held.
local SCRIPT_RENEW = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
]]
-- KEYS: token, lock, gen, fail. ARGV: holder, 'ok' jwt ms | 'fail' text.
-- The end of a fetch: its token or failure, the lock freed if still held.
local SCRIPT_FINISH = [[
local gen = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 86400)
if ARGV[2] == 'ok' then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
else
  redis.call('SET', KEYS[4], gen .. ' ' .. ARGV[3], 'PX', 10000)
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return gen
]]

local Store = {}
local STORE_MT = {
  __index = Store,
  __name = "vzaps.store",
  __tostring = function(s) return "vzaps.store (redis, prefix " .. s.prefix .. ")" end,
}
M.STORE_MT = STORE_MT

local function unavailable(why)
  return { kind = "store", code = "STORE_UNAVAILABLE", message = "redis store: " .. tostring(why) }
end

-- One script on a client from connect(): its result, or nil, why.
local function eval(self, script, nkeys, ...)
  local ok, client = pcall(self.connect_fn)
  if not ok or type(client) ~= "table" and type(client) ~= "userdata" then
    return nil, "connect failed: " .. tostring(ok and (client or "no client") or client)
  end
  local done, res, err = pcall(client.eval, client, script, nkeys, ...)
  if self.release_fn then pcall(self.release_fn, client, done and res ~= nil) end
  if not done then return nil, tostring(res) end
  if res == nil then return nil, tostring(err or "no answer") end
  return res
end

-- The local store this process falls back on (on_error = "local").
local function fallback(self)
  local l = self.fallback_store
  if not l then
    l = store_mod.new()
    self.fallback_store = l
  end
  return l
end

function Store:take(key, rule, max_wait)
  local res, why = eval(self, SCRIPT_TAKE, 2, self.prefix .. key, self.prefix .. key .. ":day",
    format("%.9g", rule.interval), tostring(rule.burst), tostring(rule.daily or 0), format("%.6f", max_wait))
  if not res then
    if self.on_error == "local" then return fallback(self):take(key, rule, max_wait) end
    return nil, unavailable(why)
  end
  local state, secs = res[1], tonumber(res[2])
  if state == "ok" then return secs end
  if state == "daily" then return nil, store_mod.daily_refused(rule.daily, secs) end
  return nil, store_mod.turn_refused(res[3] == "1", secs)
end

function Store:pause(key, seconds)
  local ok, why = eval(self, SCRIPT_PAUSE, 1, self.prefix .. key, format("%.6f", seconds))
  if not ok and self.on_error == "local" then fallback(self):pause(key, seconds) end
  return ok, why
end

local function ms(seconds) return format("%d", math.max(1, math.ceil(seconds * 1000))) end

function Store:claim(id, ttl)
  local res, why = eval(self, SCRIPT_CLAIM, 1, self.prefix .. "dedup:" .. id, ms(ttl))
  if not res then
    if self.on_error == "local" then return fallback(self):claim(id, ttl) end
    return nil, unavailable(why)
  end
  return res == 1
end

function Store:keep(id, ttl)
  if not eval(self, SCRIPT_KEEP, 1, self.prefix .. "dedup:" .. id, ms(ttl)) and self.on_error == "local" then
    fallback(self):keep(id, ttl)
  end
end

function Store:release(id)
  if not eval(self, SCRIPT_RELEASE, 1, self.prefix .. "dedup:" .. id) and self.on_error == "local" then
    fallback(self):release(id)
  end
end

-- ---------------------------------------------------------------------------
-- The token: single flight across processes
-- ---------------------------------------------------------------------------

function Store:key(st) return fallback(self):key(st) end

function Store:read(key)
  local res = eval(self, SCRIPT_READ, 1, self.prefix .. key)
  if not res then
    if self.on_error == "local" then return fallback(self):read(key) end
    return nil
  end
  local tok, left = res[1], tonumber(res[2])
  if type(tok) ~= "string" or not left or left <= 0 then return nil end
  return tok, now() + left / 1000
end

function Store:drop(key, tok)
  if tok == nil then return end
  eval(self, SCRIPT_DROP, 1, self.prefix .. key, tok)
  if self.fallback_store then self.fallback_store:drop(key, tok) end
end

-- The lock's lease: one attempt of the fetch, and a second for Redis.
local function lease(st) return st.timeout + 1 end

local FIELDS = { "kind", "code", "status", "message", "details", "method", "path", "retry_after", "request_id" }

local function encode_failure(err)
  local t = {}
  if type(err) == "table" then
    for _, k in pairs(FIELDS) do t[k] = err[k] end
  end
  local text = core.json_encode(t)
  if not text then
    t.details = nil
    text = core.json_encode(t) or "{}"
  end
  return text
end

local function failure_of(text)
  local fields = type(text) == "string" and core.json_decode(text)
  if type(fields) ~= "table" then fields = {} end
  if type(fields.message) ~= "string" then fields.message = "token fetch failed" end
  return errors.fail(fields, {})
end

local seq = 0
-- Lock holders are told apart by a random prefix per process.
local holder_base
do
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(8)
  if f then f:close() end
  holder_base = store_mod.hex_digest((bytes or "") .. tostring({}) .. tostring(os.time()) .. tostring(os.clock())):sub(1, 16) .. ":"
end

-- The fetch's view of st: http.send calls st.sleep between attempts; the
-- holder renews its lease first (ngx_store.lua does the same).
local function renewing(self, st, lock, id)
  local function sleep(seconds)
    eval(self, SCRIPT_RENEW, 1, lock, id, ms((tonumber(seconds) or 0) + lease(st)))
    return st.sleep(seconds)
  end
  return setmetatable({ sleep = sleep }, { __index = st, __newindex = st })
end

local FIRST_STEP, MAX_STEP = 0.002, 0.05

-- One fetch for every process: the lock's holder fetches; the others poll
-- until its token is there, or a fetch that ended after they began failed
-- (they return its failure), or their own lease passed (a timeout failure).
function Store:refresh(st, key, fetch)
  local k = self.prefix .. key
  local keys = { k, k .. ":lock", k .. ":gen", k .. ":fail" }
  local deadline = now() + lease(st)
  local step, first_gen = FIRST_STEP, nil
  local http = import("http")
  while true do
    seq = seq + 1
    local id = holder_base .. seq
    local res, why = eval(self, SCRIPT_LOCK, 4, keys[1], keys[2], keys[3], keys[4], id, ms(lease(st)),
      first_gen and tostring(first_gen) or "")
    if not res then
      if self.on_error == "local" then return fallback(self):refresh(st, key, fetch) end
      local f = unavailable(why)
      f.method, f.path = "POST", "/token"
      return errors.fail(f, errors.secrets(st))
    end
    local state, gen = res[1], tonumber(res[2])
    first_gen = first_gen or gen
    if state == "token" then
      local left = tonumber(res[4]) or 0
      if left > 0 then return res[3], now() + left / 1000 end
    elseif state == "locked" then
      local ok, tok, exp, err = pcall(fetch, renewing(self, st, keys[2], id))
      local done
      if ok and tok then
        done = eval(self, SCRIPT_FINISH, 4, keys[1], keys[2], keys[3], keys[4], id, "ok", tok, ms(exp - now()))
      else
        done = eval(self, SCRIPT_FINISH, 4, keys[1], keys[2], keys[3], keys[4], id, "fail",
          encode_failure(ok and err or nil))
      end
      if not ok then error(tok, 0) end
      if not done and tok and self.on_error == "local" then fallback(self).tokens[key] = { tok, exp } end
      return tok, exp, err
    elseif state == "failed" then
      return failure_of((res[3] or ""):match("^%d+ (.*)$"))
    end
    local left = deadline - now()
    if left <= 0 then
      return errors.token_wait_timeout(lease(st))
    end
    http.sleep(st, min(step, left))
    step = min(step * 2, MAX_STEP)
  end
end

--- vzaps.redis_store{connect = fn, release = fn, prefix = "vzaps:", on_error = "fail"}
function M.new(opts)
  local function bad(why) argerror(1, "redis_store", why) end
  if type(opts) ~= "table" then bad("options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if k ~= "connect" and k ~= "release" and k ~= "prefix" and k ~= "on_error" then
      bad("unknown option '" .. tostring(k) .. "' (connect, release, prefix, on_error)")
    end
  end
  if type(opts.connect) ~= "function" then bad("connect must be a function returning a Redis client") end
  if opts.release ~= nil and type(opts.release) ~= "function" then bad("release must be a function") end
  local prefix = opts.prefix
  if prefix == nil then prefix = "vzaps:" end
  if type(prefix) ~= "string" or prefix:find("[%s%c]") then bad("prefix must be a string without spaces") end
  local on_error = opts.on_error or "fail"
  if on_error ~= "fail" and on_error ~= "local" then bad("on_error must be \"fail\" or \"local\"") end
  -- (connect_fn, release_fn: `release` is also the dedup method)
  return setmetatable({ connect_fn = opts.connect, release_fn = opts.release, prefix = prefix, on_error = on_error },
    STORE_MT)
end

return M
