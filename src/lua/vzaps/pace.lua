-- pace.lua: send budgets per instance (the `pace` client option). A call
-- of a paced row (endpoints.lua, `paced = true`) takes its turn from the
-- instance's bucket in the pace store (store.lua) before it is mapped and
-- sent, and waits for it: a blocking call with the client's `sleep`, a job
-- on a scheduler timer (http.sleep). A wait beyond the call's timeout, or
-- a send past the daily cap, fails with kind "rate_limit" and nothing is
-- sent. A 429 on any call of an instance pauses the instance's bucket
-- (http.send calls M.paused). The send itself stays on the client's path
-- (from C when it can): pacing costs one store operation per call.
local import, core = ...
local errors = import("errors")
local args = import("args")
local http = import("http")
local store_mod = import("store")
local state = import("state")

local type, pairs, ipairs, select, tostring, tonumber, pcall, setmetatable =
  type, pairs, ipairs, select, tostring, tonumber, pcall, setmetatable
local random, floor, huge, char = math.random, math.floor, math.huge, string.char
local running = coroutine.running

local M = {}

local function bad(why) args.argerror(1, "new", "pace." .. why) end

local KNOWN = { rate = true, per = true, burst = true, jitter = true, daily = true, store = true }

local function number(v) return type(v) == "number" and v == v and v > -huge and v < huge end
local function whole(v, lo) return number(v) and v == floor(v) and v >= lo and v <= 2 ^ 31 end

-- The pace option, checked: the settings the client keeps (st.pace).
function M.check(v)
  if type(v) ~= "table" then args.argerror(1, "new", "pace must be a table, got " .. type(v)) end
  for k in pairs(v) do
    if not KNOWN[k] then bad(tostring(k) .. " is not a pace setting (rate, per, burst, jitter, daily, store)") end
  end
  local rate, per, burst, jitter = v.rate, v.per or 1, v.burst or 1, v.jitter or 0
  if not number(rate) or rate <= 0 then bad("rate must be a positive number of sends per `per` seconds") end
  if not number(per) or per <= 0 or not core.check_seconds(per) then
    bad("per must be a positive number of seconds, at most one year")
  end
  if not whole(burst, 1) then bad("burst must be a whole number of sends, 1 or more") end
  if not number(jitter) or jitter < 0 or jitter > 1 then bad("jitter must be a fraction from 0 to 1") end
  local daily = v.daily
  if daily ~= nil and not whole(daily, 1) then bad("daily must be a whole number of sends, 1 or more") end
  local store = v.store
  if store == nil then
    store = store_mod.new()
  else
    local ok, missing = store_mod.usable(store, "pace")
    if not ok then
      bad("store must be a store (vzaps.ngx_store, vzaps.redis_store or one with take and pause)"
        .. (missing and ("; it has no " .. missing) or ""))
    end
  end
  return {
    store = store, jitter = jitter, interval = per / rate,
    rule = { interval = per / rate, burst = burst, daily = daily, tau = (burst - 1) * per / rate },
    waited = setmetatable({}, { __mode = "k" }), keys = {}, nkeys = 0,
  }
end

-- What the pace step needs of the client's other options (options.lua,
-- once they are checked): a call that neither waits nor fails then costs
-- no look-up of the client's state.
function M.settle(p, st)
  p.timeout = st.timeout
  p.plain = p.jitter == 0 and not st.observe
end

-- The store key of each instance, made once (a concatenation per call
-- would be a good part of the step's cost); a client that sees very many
-- instances starts its cache again.
local function key_of(p, id)
  local key = "pace:" .. id
  if p.nkeys >= 4096 then p.keys, p.nkeys = {}, 0 end
  p.keys[id] = key
  p.nkeys = p.nkeys + 1
  return key
end

-- The rest of a turn that the store answered with wait, f (the method
-- below takes the common case, no wait and nothing to report, itself): a
-- call of `self` (a resource object of a paced client) to instance `id`
-- that may wait `max_wait` seconds at most. True once it may be sent, or
-- nil, msg, err. p is the client's st.pace.
local function turn(self, p, id, max_wait, op, wait, f)
  local st = state.of(self)
  if not wait then
    if type(f) ~= "table" then f = { kind = "store", code = "STORE_FAILED", message = tostring(f) } end
    local fields = {}
    for k, x in pairs(f) do fields[k] = x end
    fields.kind = fields.kind or "rate_limit"
    fields.message = (fields.message or "send budget refused the call") .. "; nothing was sent"
    fields.op, fields.instance_id = op, id
    return errors.fail(fields, errors.secrets(st))
  end
  local jitter = p.jitter
  if jitter > 0 then
    local extra = random() * jitter * p.interval
    if wait + extra > max_wait then extra = max_wait - wait end
    if extra > 0 then wait = wait + extra end
  end
  if st.observe then p.waited[running() or M] = wait end
  if wait > 0 then http.sleep(st, wait) end
  return true
end

-- How long the running call waited for its turn (taken once: observe.lua).
function M.waited(st)
  local w, k = st.pace.waited, running() or M
  local v = w[k]
  w[k] = nil
  return v
end

-- A 429 on req (http.send): every paced send of its instance waits until
-- the Retry-After (1 s without one).
function M.paused(st, req, retry_after)
  local id = req.path and req.path:match("^/instances/([^/]+)")
  if not id then return end
  id = id:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end)
  pcall(st.pace.store.pause, st.pace.store, "pace:" .. id, retry_after or 1)
end

-- ---------------------------------------------------------------------------
-- The paced methods (resources.lua): the instance id and the timeout of a
-- call, read from its arguments before the mapper reads them.
-- ---------------------------------------------------------------------------

-- Where a row's arguments put the instance id and the per-call timeout
-- (on a client, and on an instance handle, whose calls omit instance_id).
local function positions(row)
  local a = row.args
  if not a then return { table_form = true } end
  local pos = { {}, {} }
  local shift = 0
  for i, name in ipairs(a) do
    if name == "instance_id" then
      pos[1].id = i
      shift = 1
    elseif name == "opts" then
      pos[1].opts, pos[2].opts = i, i - shift
    end
  end
  return pos
end

-- A row's method with the pace step before it: plain(self, ...) is the
-- method of the row (resources.lua); PACED[object] is the st.pace of a
-- paced client's resource objects, SCOPES[object] a handle's scope. Arguments that do not name an instance are left
-- to the mapper, which raises (a call with a blank id still took a turn).
function M.method(row, plain, PACED, SCOPES)
  local where = positions(row)
  local table_form = where.table_form
  local op = row[1] .. "." .. row[2]
  return function(self, ...)
    local p = PACED[self]
    if p then
      local scope = SCOPES[self]
      local id, timeout
      if table_form then
        local req = ...
        if type(req) == "table" then id = req.instance_id end
      else
        local w = where[scope and 2 or 1]
        if w.id then id = (select(w.id, ...)) end
        local opts = w.opts and select(w.opts, ...)
        timeout = type(opts) == "table" and opts.timeout or nil
      end
      if id == nil and scope then id = scope.instance_id end
      if type(id) == "string" and id ~= "" then
        if timeout == nil or not number(timeout) or timeout <= 0 then timeout = p.timeout end
        local wait, f = p.store:take(p.keys[id] or key_of(p, id), p.rule, timeout)
        if wait ~= 0 or not p.plain then
          local ok, msg, err = turn(self, p, id, timeout, op, wait, f)
          if not ok then return nil, msg, err end
        end
      end
    end
    local a, b, c = plain(self, ...)
    return a, b, c
  end
end

return M
