-- parallel.lua: client:parallel(fns, {concurrency = n}). Each function runs
-- as a coroutine; when one makes a request through this client, http.lua
-- yields it here instead of blocking, and this scheduler runs up to n of
-- them at once on the client's curl multi handle (multi.c), resuming each
-- coroutine with its answer. Pure Lua coroutines: works on every Lua
-- version, and nothing yields across a C call.

--- `client:parallel`: concurrent calls on one client.
-- @module vzaps.parallel
local import, core = ...
local http = import("http")
local args = import("args")
local errors = import("errors")

local type, ipairs, select, tostring, pcall, setmetatable, getmetatable =
  type, ipairs, select, tostring, pcall, setmetatable, getmetatable
local create, resume, status = coroutine.create, coroutine.resume, coroutine.status
local unpack = table.unpack or unpack
local now, min = core.now, math.min
local PAR = http.PAR
local argerror = args.argerror

local M = {}

local function pack(...) return { n = select("#", ...), ... } end

-- A position inside the module (`vzaps/parallel.lua:12: `): it names no line
-- the user wrote, so it is dropped from messages. The user's own stays.
local INTERNAL = "^vzaps/[%w_]+%.lua:%d+: "

-- The text of a raised value, as the standalone interpreter shows it: a
-- string or number as is, a value with __tostring through it, anything
-- else "(error object is a <type> value)".
local function raised_text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then
    local ok, s = pcall(tostring, v)
    if ok and type(s) == "string" then return s end
  end
  return "(error object is a " .. t .. " value)"
end

-- The result slot of a function that did not return: `{nil, message, err}`
-- like any failure, with err.kind "raised" and the raised value itself in
-- err.details. The "vzaps: " of a raised module message is dropped from
-- err.message (at the start, or after the user's position), since
-- tostring(err) puts it in front: assert(client.instances:get(id)) inside
-- the function gives "vzaps: [where: ]instance not found (status 404)",
-- not "vzaps: vzaps: ...".
local function raised(value, code)
  local text = raised_text(value):gsub(INTERNAL, "", 1)
  text = text:gsub("^vzaps: ", "", 1):gsub("^([^\n]-:%d+: )vzaps: ", "%1", 1)
  local err = setmetatable({ kind = "raised", code = code or "RAISED", message = text, details = value },
    errors.Error)
  return { n = 3, nil, tostring(err), err }
end

-- The client's pool: kept between runs so its connections stay alive.
local function pool(st, size)
  local m = st.multi
  if m and m:size() == size then return m end
  if m then m:close() end
  m = core.multi_new(st.ud, size)
  st.multi = m
  return m
end

-- Runs every function of a list with plain pcall, one after another: used
-- with a custom transport, which may do its own yielding (cosockets).
local function sequential(fns)
  local results = {}
  for i, fn in ipairs(fns) do
    local r = pack(pcall(fn))
    if r[1] then
      results[i] = pack(unpack(r, 2, r.n))
    else
      results[i] = raised(r[2])
    end
  end
  return results
end

local function schedule(st, fns, multi)
  local n = #fns
  local results, cos = {}, {}
  local par = {}
  local pending, sleepers, waiters = {}, {}, {}
  local free, owner = {}, {}
  local live = n
  for s = multi:size(), 1, -1 do free[#free + 1] = s end

  local function finish(i, r)
    if r[1] then
      results[i] = pack(unpack(r, 2, r.n))
    else
      results[i] = raised(r[2], r.code)
    end
    par[cos[i]] = nil
    live = live - 1
  end

  -- Resumes coroutine i with the given values and files what it asks next.
  local function step(i, ...)
    local co = cos[i]
    local r = pack(resume(co, ...))
    if status(co) == "dead" then return finish(i, r) end
    if r[2] ~= PAR then
      par[co] = nil
      return finish(i, { false, "a function run by parallel yielded outside the client", code = "BAD_YIELD" })
    end
    local what = r[3]
    if what == "xfer" then
      pending[#pending + 1] = { i, r[4], r[5], r[6], r[7], r[8], r[9], r[10] }
    elseif what == "sleep" then
      sleepers[#sleepers + 1] = { i, now() + r[4] }
    else -- "wait": another coroutine is fetching the token
      waiters[#waiters + 1] = i
    end
  end

  for i = 1, n do
    cos[i] = create(fns[i])
    par[cos[i]] = true
  end
  st.par = par
  for i = 1, n do step(i) end

  while live > 0 do
    -- Start queued requests in free slots.
    while #free > 0 and #pending > 0 do
      local p = table.remove(pending, 1)
      local slot = table.remove(free)
      local ok, err = pcall(multi.add, multi, slot, st.ud, p[2], p[3], p[4], p[5], p[6], p[7], p[8])
      if ok then
        owner[slot] = p[1]
      else
        free[#free + 1] = slot
        step(p[1], nil, "message", err)
      end
    end
    -- Coroutines waiting for a token fetch that has ended.
    if #waiters > 0 and not st.fetching then
      local w = waiters
      waiters = {}
      for _, i in ipairs(w) do step(i) end
    end
    -- Sleepers whose time has come; the next wake-up bounds the wait below.
    local wait, t = 1, now()
    for k = #sleepers, 1, -1 do
      local s = sleepers[k]
      if s[2] <= t then
        table.remove(sleepers, k)
        step(s[1])
      else
        wait = min(wait, s[2] - t)
      end
    end
    if multi:in_flight() > 0 then
      local r = pack(multi:next(wait))
      local slot = r[1]
      if slot then
        local i = owner[slot]
        owner[slot] = nil
        free[#free + 1] = slot
        step(i, unpack(r, 2, r.n))
      end
    elseif #sleepers > 0 and #pending == 0 then
      core.sleep(wait)
    elseif #pending == 0 and #waiters == 0 and #sleepers == 0 and live > 0 then
      break -- nothing left that could make progress (cannot happen; never spin)
    end
  end
  return results
end

--- Runs the functions as coroutines; requests they make through the client
-- are scheduled on its curl multi handle, up to `concurrency` at a time
-- (sequentially with a custom `transport`). Called as `client:parallel(fns, opts)`.
-- @param st the client's private state (given by `Client:parallel`)
-- @tparam {function,...} fns
-- @tparam[opt] table opts `concurrency` (1 to 256, default 8)
-- @treturn {table,...} packed results per function; for one that raised,
--  `{nil, message, err}` where `err.kind` is `"raised"`, `err.details` the
--  raised value, `err.message` its text and `message` is `tostring(err)`
-- @raise on bad arguments, or a nested run
function M.run(st, fns, opts)
  if type(fns) ~= "table" then argerror(1, "parallel", "list of functions expected, got " .. type(fns)) end
  for i = 1, #fns do
    if type(fns[i]) ~= "function" then argerror(1, "parallel", "item " .. i .. " is not a function") end
  end
  local concurrency = 8
  if opts ~= nil then
    if type(opts) ~= "table" then argerror(2, "parallel", "options table expected, got " .. type(opts)) end
    for k in pairs(opts) do
      if k ~= "concurrency" then argerror(2, "parallel", "unknown option '" .. tostring(k) .. "'") end
    end
    local c = opts.concurrency
    if c ~= nil then
      if type(c) ~= "number" or c ~= math.floor(c) or c < 1 or c > 256 then
        argerror(2, "parallel", "concurrency must be an integer from 1 to 256")
      end
      concurrency = c
    end
  end
  if st.par then argerror(1, "parallel", "parallel runs cannot be nested") end
  if #fns == 0 then return {} end
  if st.transport then return sequential(fns) end
  local multi = pool(st, concurrency)
  -- The C fast path cannot yield to the scheduler: off while the run lasts.
  core.set_fast(st.ud, false)
  local ok, res = pcall(schedule, st, fns, multi)
  core.set_fast(st.ud, true)
  st.par, st.fetching = nil, nil
  if not ok then error(type(res) == "string" and res:gsub(INTERNAL, "", 1) or res, 0) end
  return res
end

return M
