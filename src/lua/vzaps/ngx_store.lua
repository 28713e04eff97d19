-- ngx_store.lua: vzaps.ngx_token_store("dict"), a token_store (token.lua)
-- in a lua_shared_dict, so that every worker of an nginx uses one JWT and
-- one /token fetch refreshes it for all of them.
--
-- Keys, for an account key K (a SHA-1 of base_url, client_token and
-- client_secret: it names the account and holds neither credential):
--   K         "<expires_at> <jwt>", with the dict's expiry at expires_at
--   K.lock    who is fetching (dict:add makes one winner); a lease of one
--             attempt (the fetching client's timeout + 1 s) that the holder
--             renews before each wait between attempts, so a worker that
--             dies holding it keeps it for one attempt's time at most
--   K.fail    the last failed fetch: {at = when it ended, err = fields}
-- expires_at and `at` are core.now(), CLOCK_MONOTONIC: one clock for every
-- process of the machine.
--
-- Single flight: a request that needs a token takes the lock and fetches,
-- or waits (ngx.sleep, so the worker goes on) until the token is there, or
-- a fetch failed after it began to wait (it then returns that failure), or
-- the lock is free again; never longer than one attempt of its own client,
-- `timeout` + 1 s, the lease it would take itself (then a `timeout`
-- failure). Light threads of one worker wait on the one
-- of them that went to the dict (ngx.semaphore), so they get its result as
-- is, within the same bound.
local import, core = ...
local errors = import("errors")
local args = import("args")

local type, pairs, pcall, error, tostring, tonumber, setmetatable, rawget =
  type, pairs, pcall, error, tostring, tonumber, setmetatable, rawget
local min, format, byte = math.min, string.format, string.byte
local now = core.now
local argerror, raise = args.argerror, args.raise

local M = {}

local FAIL_TTL = 10        -- seconds a failure stays readable for waiters
local FIRST_STEP, MAX_STEP = 0.002, 0.05

local Store = {}
local STORE_MT = {
  __index = Store,
  __name = "vzaps.token_store",
  __tostring = function(s) return "vzaps.token_store (lua_shared_dict " .. s.name .. ")" end,
}
M.STORE_MT = STORE_MT

-- The lock's lease: one attempt of the fetch (an attempt never takes
-- longer than the client's timeout), and a second for the dict's writes.
local function lease(st) return st.timeout + 1 end

local function hex(s)
  return (s:gsub(".", function(c) return format("%02x", byte(c)) end))
end

function Store:key(st)
  local ngx = self.ngx
  return "vzaps.token." .. hex(ngx.sha1_bin(st.base_url .. "\n" .. st.client_token .. "\n" .. st.client_secret))
end

local function decode_token(v)
  if type(v) ~= "string" then return nil end
  local exp, tok = v:match("^(%S+) (.+)$")
  return tok, tonumber(exp)
end

function Store:read(key)
  local tok, exp = decode_token(self.dict:get(key))
  if tok and exp and now() < exp then return tok, exp end
  return nil
end

-- Replaces the token only while no fetch runs (every write holds the
-- lock), so a newer token is never the one dropped. A held lock that is
-- not ours is a fetch (then the store has no valid token) or a drop: wait
-- a moment for the latter.
function Store:drop(key, tok)
  if tok == nil or self:read(key) ~= tok then return end
  local dict, lock = self.dict, key .. ".lock"
  for _ = 1, 20 do
    if dict:add(lock, "drop", 1) then
      if self:read(key) == tok then dict:delete(key) end
      dict:delete(lock)
      return
    end
    if self:read(key) ~= tok or not pcall(self.ngx.sleep, 0.001) then return end
  end
end

-- A failure as the dict keeps it, and back: the same message and fields
-- for every waiter (already redacted by the fetching client, which holds
-- the same secrets).
local FIELDS = { "kind", "code", "status", "message", "details", "body", "method", "path", "retry_after", "request_id" }

local function encode_failure(err)
  local t = {}
  if type(err) == "table" then
    for _, k in pairs(FIELDS) do t[k] = err[k] end
  end
  local text = core.json_encode({ at = now(), err = t })
  if not text then
    t.details = nil
    text = core.json_encode({ at = now(), err = t })
  end
  return text
end

local function decode_failure(text)
  local v = type(text) == "string" and core.json_decode(text)
  if type(v) ~= "table" or type(v.at) ~= "number" or type(v.err) ~= "table" then return nil end
  return v
end

local function failed(rec)
  local fields = rec.err
  if type(fields.message) ~= "string" then fields.message = "token fetch failed" end
  return errors.fail(fields, {})
end

local function timed_out(st) return errors.token_wait_timeout(lease(st)) end

local seq = 0

-- The fetch's view of st: st itself for every field, read and written
-- (__index, __newindex), except `sleep`, which http.send calls between two
-- attempts: it first renews the lock (and the worker's in-flight entry) for
-- the wait and the next attempt, if the lock is still ours.
local function renewing(st, dict, lock, id, entry)
  local function sleep(seconds)
    local keep = (tonumber(seconds) or 0) + lease(st)
    if dict:get(lock) == id then
      dict:set(lock, id, keep)
      entry.deadline = now() + keep
    end
    return st.sleep(seconds)
  end
  return setmetatable({ sleep = sleep }, { __index = st, __newindex = st })
end

-- Across workers: the token, or the failure of a fetch that ended after t0;
-- a `timeout` failure once the client's own lease (timeout + 1 s) passed
-- while another worker held the lock.
local function shared_refresh(self, st, key, fetch, t0, entry)
  local dict, ngx = self.dict, self.ngx
  local lock, fail_key = key .. ".lock", key .. ".fail"
  local deadline = t0 + lease(st)
  local step = FIRST_STEP
  local function settled()
    local tok, exp = self:read(key)
    if tok then return tok, exp end
    local rec = decode_failure(dict:get(fail_key))
    if rec and rec.at >= t0 then return failed(rec) end
    return nil
  end
  while true do
    local tok, a, b = settled()
    if tok or a then return tok, a, b end
    seq = seq + 1
    local id = tostring(ngx.worker and ngx.worker.pid and ngx.worker.pid() or 0) .. ":" .. seq
    if dict:add(lock, id, lease(st)) then
      entry.deadline = now() + lease(st)
      -- What a fetch that ended just before we took the lock left.
      tok, a, b = settled()
      if not (tok or a) then
        local ok, t, exp, err = pcall(fetch, renewing(st, dict, lock, id, entry))
        if ok and t then
          local ttl = exp - now()
          dict:set(key, format("%.6f", exp) .. " " .. t, ttl > 0 and ttl or 0.001)
        else
          -- the waiters' failure; a raise has no fields ("token fetch failed")
          dict:set(fail_key, encode_failure(ok and err or nil), FAIL_TTL)
        end
        if dict:get(lock) == id then dict:delete(lock) end
        if not ok then error(t, 0) end
        return t, exp, err
      end
      if dict:get(lock) == id then dict:delete(lock) end
      return tok, a, b
    end
    local left = deadline - now()
    if left <= 0 then return timed_out(st) end
    ngx.sleep(min(step, left))
    step = min(step * 2, MAX_STEP)
  end
end

-- Within one worker (one Lua VM): the in-flight refresh of each dict key.
local INFLIGHT = {}

-- Within one worker: the first light thread goes to the dict, the others
-- wait for its result, each at most its own client's lease. One whose
-- thread was killed meanwhile (a client abort, ngx.thread.kill) is waited
-- for only as long as its lease lasts (entry.deadline, renewed with the
-- lock).
function Store:refresh(st, key, fetch)
  local slot = self.name .. " " .. key
  local t0 = now()
  local until_ = t0 + lease(st)
  local entry = INFLIGHT[slot]
  while entry and not entry.done and entry.deadline > now() and now() < until_ do
    entry.waiting = entry.waiting + 1
    if entry.sema then
      -- (the clock may have passed the limit since the loop's test: a
      -- semaphore refuses a negative wait)
      local left = min(entry.deadline, until_) - now()
      if left > 0 then entry.sema:wait(left) end
    else
      local step = FIRST_STEP
      while not entry.done and now() < min(entry.deadline, until_) do
        self.ngx.sleep(step)
        step = min(step * 2, MAX_STEP)
      end
    end
    if entry.done then return entry[1], entry[2], entry[3] end
    if now() >= until_ then return timed_out(st) end
    entry = INFLIGHT[slot] -- a lease renewed, or a new holder
  end
  local sema = self.semaphore and self.semaphore.new(0) or nil
  entry = { deadline = now() + lease(st), waiting = 0, sema = sema }
  INFLIGHT[slot] = entry
  local ok, tok, a, b = pcall(shared_refresh, self, st, key, fetch, t0, entry)
  if INFLIGHT[slot] == entry then INFLIGHT[slot] = nil end
  if ok then
    entry[1], entry[2], entry[3] = tok, a, b
  else
    -- a bug or a phase without ngx.sleep: the waiters get a failure, the
    -- caller the error itself
    entry[1], entry[2], entry[3] = errors.transport("network", "token fetch failed: " .. tostring(tok),
      { method = "POST", path = "/token" }, errors.secrets(st))
  end
  entry.done = true
  if sema and entry.waiting > 0 then sema:post(entry.waiting) end
  if not ok then error(tok, 0) end
  return tok, a, b
end

--- A `token_store` for `vzaps.new`: the JWT kept in a `lua_shared_dict`,
-- so that every worker of an nginx uses one token, and one `POST /token`
-- refreshes it for all of them.
function M.new(name)
  if type(name) ~= "string" or name == "" then
    argerror(1, "ngx_token_store", "the name of a lua_shared_dict expected, got " .. type(name))
  end
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.shared) ~= "table" or type(ngx.sleep) ~= "function" then
    raise("vzaps: ngx_token_store needs OpenResty or lua-nginx-module (ngx.shared)")
  end
  local dict = ngx.shared[name]
  if not dict then argerror(1, "ngx_token_store", "no lua_shared_dict named '" .. name .. "' (declare it in nginx.conf)") end
  local ok, semaphore = pcall(require, "ngx.semaphore")
  return setmetatable({ name = name, dict = dict, ngx = ngx, semaphore = ok and semaphore or nil }, STORE_MT)
end

return M
