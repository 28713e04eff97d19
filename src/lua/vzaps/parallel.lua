-- parallel.lua: client:parallel(fns, {concurrency = n}). Each function runs
-- as a job of the client's scheduler (scheduler.lua, the machinery that
-- client:spawn and client:pump use too): up to n of their requests at once
-- on the client's curl multi handle, and the run pumps until every job has
-- finished.

--- `client:parallel`: concurrent calls on one client.
-- @module vzaps.parallel
local import = ...
local args = import("args")
local scheduler = import("scheduler")

local type, ipairs, pairs, select, tostring, pcall = type, ipairs, pairs, select, tostring, pcall
local unpack = table.unpack or unpack
local argerror = args.argerror

local M = {}

local function pack(...) return { n = select("#", ...), ... } end

-- Runs every function of a list with plain pcall, one after another: used
-- with a custom transport, which may do its own yielding (cosockets).
local function sequential(fns)
  local results = {}
  for i, fn in ipairs(fns) do
    local r = pack(pcall(fn))
    if r[1] then
      results[i] = pack(unpack(r, 2, r.n))
    else
      results[i] = scheduler.raised(r[2])
    end
  end
  return results
end

--- Runs the functions as coroutines, up to `concurrency` of them at a time;
-- requests they make through the client are scheduled on its curl multi
-- handle, within the client's own `concurrency` transfers (sequentially with
-- a custom `transport`). Called as `client:parallel(fns, opts)`.
-- Jobs started with `client:spawn` advance during the run too.
-- @param st the client's private state (given by `Client:parallel`)
-- @tparam {function,...} fns
-- @tparam[opt] table opts `concurrency` (1 to 256, default the client's)
-- @treturn {table,...} packed results per function; for one that raised,
--  `{nil, message, err}` where `err.kind` is `"raised"`, `err.details` the
--  raised value, `err.message` its text and `message` is `tostring(err)`
-- @raise on bad arguments, or a run inside a job or another run
function M.run(st, fns, opts)
  if type(fns) ~= "table" then argerror(1, "parallel", "list of functions expected, got " .. type(fns)) end
  for i = 1, #fns do
    if type(fns[i]) ~= "function" then argerror(1, "parallel", "item " .. i .. " is not a function") end
  end
  local concurrency = st.concurrency
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
  if st.engine and (st.engine.pumping or scheduler.in_job(st.engine)) then
    argerror(1, "parallel", "parallel runs cannot be nested (nor run inside a spawned job)")
  end
  if #fns == 0 then return {} end
  if st.transport then return sequential(fns) end
  local e = scheduler.engine(st)
  -- A window of `concurrency` functions: each one that finishes starts the
  -- next, from inside the pump. Not re-entered: a function that finishes at
  -- once (it raised) lets the loop go on instead of nesting a call.
  local jobs, n, nexti, active, filling = {}, #fns, 1, 0, false
  local function fill()
    if filling then return end
    filling = true
    while active < concurrency and nexti <= n do
      local i = nexti
      nexti, active = i + 1, active + 1
      jobs[i] = scheduler.spawn(e, fns[i])
      jobs[i]:on_done(function()
        active = active - 1
        fill()
      end)
    end
    filling = false
  end
  fill()
  while active > 0 or nexti <= n do
    scheduler.pump(e, 1)
  end
  local results = {}
  for i, job in ipairs(jobs) do results[i] = job.results end
  return results
end

return M
