-- scheduler.lua: the calls that run as coroutines on the client's curl multi
-- handle (multi.c): client:spawn / client:pump jobs and client:parallel's
-- functions (parallel.lua) share this one machinery. When a job's call
-- needs the network, http.lua yields (PAR, what, ...) here instead of
-- blocking: "xfer" (a request for a free transfer slot), "sleep" (a retry
-- backoff: a timer, never a blocking sleep) or "wait" (another job is
-- fetching the token). pump() advances every job without blocking longer
-- than asked. Pure Lua coroutines: works on every Lua version, and nothing
-- yields across a C call.
local import, core = ...
local http = import("http")
local errors = import("errors")

local type, select, tostring, pcall, setmetatable, getmetatable, pairs, ipairs, error =
  type, select, tostring, pcall, setmetatable, getmetatable, pairs, ipairs, error
local create, resume, running, yield =
  coroutine.create, coroutine.resume, coroutine.running, coroutine.yield
local unpack = table.unpack or unpack
local remove = table.remove
local now, min, is_open = core.now, math.min, core.is_open
local PAR = http.PAR

local M = {}

-- table.pack where there is one (a C function: one call, no select)
local pack = rawget(table, "pack") or function(...) return { n = select("#", ...), ... } end

-- A position inside the module (`vzaps/scheduler.lua:12: `): it names no
-- line the user wrote, so it is dropped from messages. The user's own stays.
local INTERNAL = "^vzaps/[%w_]+%.lua:%d+: "
M.INTERNAL = INTERNAL

-- The text of a raised value, as the standalone interpreter shows it.
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

-- The results of a job whose function raised: `{nil, message, err}` like
-- any failure, err.kind "raised", the raised value in err.details. A
-- module message's "vzaps: " is not doubled by tostring(err).
function M.raised(value, code)
  local text = raised_text(value):gsub(INTERNAL, "", 1)
  text = text:gsub("^vzaps: ", "", 1):gsub("^([^\n]-:%d+: )vzaps: ", "%1", 1)
  local err = setmetatable({ kind = "raised", code = code or "RAISED", message = text, details = value },
    errors.Error)
  return { n = 3, nil, tostring(err), err }
end

-- ---------------------------------------------------------------------------
-- The engine: one per client, made on first use
-- ---------------------------------------------------------------------------

-- The engine's transfer slots are the client's `concurrency` option.
local function new_engine(st)
  local e = {
    st = st, slots = st.concurrency, multi = nil,
    jobs = {},      -- co -> job, every job not finished
    live = 0,
    pending = {},   -- jobs whose request waits for a free slot, in order
    sleepers = {},  -- jobs on a timer (retry backoff)
    waiters = {},   -- jobs waiting for another job's token fetch
    free = {}, owner = {}, -- transfer slots
    idle = {},      -- coroutines for the next jobs (worker)
    pumping = false,
  }
  -- http.lua asks st.par whether the running coroutine is one of ours.
  st.par = setmetatable({}, { __mode = "k" })
  st.engine = e
  core.engine_made(st.ud) -- from now on, C reads e.live before it sends a call
  return e
end

function M.engine(st)
  return st.engine or new_engine(st)
end

local function multi_of(e)
  if not e.multi then
    e.multi = core.multi_new(e.st.ud, e.slots)
    e.free = {}
    for s = e.slots, 1, -1 do e.free[#e.free + 1] = s end
  end
  return e.multi
end

-- While e.live > 0, the client's calls are not sent from C: a job's call
-- must yield here, and C cannot yield (direct_call.c, why_not_from_c,
-- reads st.engine.live). spawn adds one, finish takes it off.

-- Idle coroutines kept for the next jobs (a job's coroutine is made once
-- and its stack grown once, not per call), at most this many.
local POOL = 16

local function finish(e, job, r, reuse)
  local co = job.co
  job.results = r
  job.state = "done"
  job.co = nil
  e.jobs[co] = nil
  local st = e.st
  -- A job that ends while holding the token fetch (it raised) frees it.
  if st.fetching == co then st.fetching = nil end
  -- Only a coroutine that yielded DONE is between jobs. A pooled one stays
  -- in st.par: it runs nothing until its next job.
  local idle = e.idle
  local n = #idle
  if reuse and n < POOL then
    idle[n + 1] = co
  else
    st.par[co] = nil
  end
  e.live = e.live - 1
  local cb = job.callback
  if cb then
    job.callback = nil
    cb(unpack(r, 1, r.n))
  end
end

-- The failure a cancelled or closed job's exchanges get: nothing is sent.
local STOPPED = {
  cancelled = "request cancelled (not sent)",
  closed = "client is closed",
}
-- ... and those whose request libcurl had begun sending.
local STOPPED_SENT = {
  cancelled = "request cancelled after it was sent; it may have been received",
  closed = "client is closed; the request was sent and may have been received",
}

-- The outcome (http.lua's shape) of an exchange of a stopped job.
local function stopped(why, sent)
  return { kind = why, message = sent and STOPPED_SENT[why] or STOPPED[why], sent = sent }
end

local handle

-- A job's coroutine runs jobs one after another: it yields DONE and the
-- function's results (packed), and is resumed with the next function and
-- its arguments (a tail call: the stack does not grow). One that raised is
-- dead and not reused.
local DONE = {}
local function worker(fn, ...)
  return worker(yield(DONE, pack(fn(...))))
end

-- Resumes a job with at most three values (an exchange's outcome) and
-- files what it asks next. The resume's results go straight into handle's
-- arguments: no table per yield (a yield is PAR, what, one argument, or
-- DONE and the packed results). Neither takes varargs: Lua 5.4 copies a
-- vararg function's arguments on every call.
local function step(e, job, a, b, c)
  job.state = "running"
  return handle(e, job, resume(job.co, a, b, c))
end

function handle(e, job, ok, a, what, arg)
  -- The worker never returns, so a resume that succeeded was a yield, and
  -- one that failed left the coroutine dead (it raised).
  if not ok then return finish(e, job, M.raised(a)) end
  if a == DONE then return finish(e, job, what, true) end -- what: the packed results
  if a ~= PAR then
    return finish(e, job, M.raised("a function run by client:parallel or client:spawn yielded outside the client", "BAD_YIELD"))
  end
  local stop = job.stop
  if stop then
    -- A stopped job's requests fail at once, without being sent; its
    -- backoffs and waits end at once. The job unwinds through its own
    -- code, so whatever it holds (the token fetch) is released there.
    if what == "xfer" then return handle(e, job, resume(job.co, nil, stopped(stop, false))) end
    return handle(e, job, resume(job.co))
  elseif what == "xfer" then
    job.state = "queued"
    job.req = arg -- the request object
    e.pending[#e.pending + 1] = job
  elseif what == "sleep" then
    job.state = "sleeping"
    job.wake = now() + arg
    e.sleepers[#e.sleepers + 1] = job
  else -- "wait": another job is fetching the token
    job.state = "waiting"
    e.waiters[#e.waiters + 1] = job
  end
end

local function drop(list, job)
  for i = #list, 1, -1 do
    if list[i] == job then remove(list, i) end
  end
end

-- Takes the job out of wherever it waits; true when a request of it was
-- in flight and libcurl had begun sending it (it may have reached the
-- server); a request added to a slot but not yet driven is not sent.
local function unfile(e, job)
  local st = job.state
  if st == "queued" then
    drop(e.pending, job)
  elseif st == "sleeping" then
    drop(e.sleepers, job)
  elseif st == "waiting" then
    drop(e.waiters, job)
  elseif st == "in_flight" then
    local sent = e.multi:cancel(job.slot)
    e.owner[job.slot] = nil
    e.free[#e.free + 1] = job.slot
    return sent
  end
  return false
end

-- Stops a job that has not finished: cancelled by its owner, or its client
-- closed. A request in flight is abandoned; once sending began, it may
-- have been received.
local function stop_job(e, job, why)
  job.stop = why
  -- The job itself is running (it cancels itself, or a callback of its
  -- own does): its next request fails when it asks for it.
  if job.state == "running" then return end
  local sent = unfile(e, job)
  if job.state == "sleeping" or job.state == "waiting" then
    step(e, job)
  else
    step(e, job, nil, stopped(why, sent))
  end
end

-- ---------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------

local Job = {}
Job.__index = Job
Job.__name = "vzaps.job"

--- Whether the job has finished (its results are ready).
function Job:done() return self.state == "done" end

--- The job's results, as the blocking call would have returned them (the
-- value, or nil, message, err); nothing while the job is pending.
function Job:result()
  local r = self.results
  if r then return unpack(r, 1, r.n) end
end

--- Cancels a job that has not finished: before its request is sent,
-- nothing is sent (err.sent is false); a request being sent is abandoned
-- (it may have been received: err.sent is true). The job then finishes with
-- nil, message, err (err.kind "cancelled"). Returns false when the job had
-- already finished.
function Job:cancel()
  if self.state == "done" then return false end
  stop_job(self.engine, self, "cancelled")
  return true
end

--- Calls fn with the job's results when it finishes (at once if it has).
function Job:on_done(fn)
  if type(fn) ~= "function" then core.argerror(1, "on_done", "function expected, got " .. type(fn)) end
  if self.state == "done" then
    fn(self:result())
  else
    self.callback = fn
  end
  return self
end

function Job:__tostring() return "vzaps.job (" .. self.state .. ")" end

local start_pending -- below, with the pump

-- Starts fn(...) as a job: runs it until its first request is queued (so
-- that an argument error finishes the job at once) and returns the job.
function M.spawn(e, fn, ...)
  local idle = e.idle
  local n = #idle
  local co
  if n > 0 then
    co = idle[n]
    idle[n] = nil
  else
    co = create(worker)
  end
  -- The fields a job gets on its way are made here (false: none), so the
  -- table is sized once (eight fields: eight slots, not sixteen) and reading
  -- one never falls through to Job's methods. Only a retry's backoff adds
  -- one (wake), and grows the table then.
  local job = setmetatable({
    co = co, engine = e, state = "running", req = false, slot = false,
    stop = false, results = false, callback = false,
  }, Job)
  e.jobs[co] = job
  e.st.par[co] = true
  e.live = e.live + 1
  handle(e, job, resume(co, fn, ...)) -- the resume hands the worker fn and its arguments
  -- Its request goes into a free slot now, so that the pump only drives
  -- transfers (the slot's set-up costs more than a frame should).
  if job.state == "queued" then start_pending(e) end
  return job
end

-- A job run to its end at once (a client with a custom transport, whose
-- calls do not yield to the scheduler).
function M.spawn_now(e, fn, ...)
  local job = setmetatable({ engine = e, state = "running" }, Job)
  local r = pack(pcall(fn, ...))
  job.results = r[1] and pack(unpack(r, 2, r.n)) or M.raised(r[2])
  job.state = "done"
  return job
end

-- Whether the running coroutine is a job of this engine.
function M.in_job(e) local co = running() return co ~= nil and e.jobs[co] ~= nil end

-- ---------------------------------------------------------------------------
-- The pump
-- ---------------------------------------------------------------------------

-- Stops every job of a closed client with the `closed` failure.
local function close_all(e)
  local list = {}
  for _, job in pairs(e.jobs) do list[#list + 1] = job end
  for _, job in ipairs(list) do
    if job.state ~= "done" then stop_job(e, job, "closed") end
  end
  if e.multi then e.multi:close() end
  e.multi, e.free, e.owner = nil, {}, {}
end
M.close_all = close_all

-- Queued requests into free transfer slots; whether any was started.
-- (multi:add answers nil and a message when libcurl cannot take the
-- transfer: nothing was sent.)
function start_pending(e)
  local pending = e.pending
  local np = #pending
  if np == 0 then return false end
  local ud, moved = e.st.ud, false
  local multi = e.multi or multi_of(e)
  local free = e.free
  local nf = #free
  while nf > 0 and np > 0 do
    local job = pending[1]
    if np == 1 then pending[1] = nil else remove(pending, 1) end
    local slot = free[nf]
    free[nf] = nil
    local ok, err = multi:add(slot, ud, job.req)
    job.req = nil
    if ok then
      e.owner[slot] = job
      job.state, job.slot = "in_flight", slot
    else
      free[nf] = slot
      step(e, job, nil, core.failure("network", err, false))
      -- the job ran: it may have queued again, or closed the client
      pending, free = e.pending, e.free
      if not e.multi then return true end
    end
    moved = true
    np, nf = #pending, #free
  end
  return moved
end

local observe_module -- observe.lua, imported by the first job of a client with a hook

-- A finished transfer from multi:next (its slot, then value, status,
-- request_id or nil, outcome: http.lua's exchange reads three values): the
-- slot is free again, and its job goes on with the results.
local function collect(e, multi, slot, a, b, c)
  local job = e.owner[slot]
  e.owner[slot] = nil
  e.free[#e.free + 1] = slot
  if job then
    if e.st.observe then
      observe_module = observe_module or import("observe")
      e.st.last_timings = observe_module.timings(multi:timings(slot))
    end
    step(e, job, a, b, c)
  end
end

-- One pass without waiting, but for the transfers: queued requests into
-- free slots, waiters whose token fetch ended, timers that are due.
-- Returns whether anything moved, and the time of the next timer (or nil).
local function advance(e)
  local st = e.st
  local moved = #e.pending > 0 and start_pending(e)
  if #e.waiters > 0 and not st.fetching then
    local w = e.waiters
    e.waiters = {}
    for i = 1, #w do step(e, w[i]) end
    moved = true
  end
  local wake
  local ns = #e.sleepers
  if ns > 0 then
    local t = now()
    for k = ns, 1, -1 do
      local job = e.sleepers[k]
      if job and job.wake <= t then
        remove(e.sleepers, k)
        step(e, job)
        moved = true
      elseif job then
        wake = wake and min(wake, job.wake) or job.wake
      end
    end
  end
  return moved, wake
end

-- How long the pump may wait now: until its deadline or the next timer.
local function wait_for(left, wake)
  local wait = wake and min(left, wake - now()) or left
  return wait < 0 and 0 or wait
end

-- The pump's loop: advance, then collect the finished transfers; when
-- nothing moved, the first collection waits (within max_wait) for one.
-- multi:next(wait) returns at once with a transfer already done, so a job
-- costs one call of it when it is the only one in flight.
local function run(e, max_wait)
  local deadline = now() + max_wait
  local first = true
  while e.live > 0 do
    -- Most passes have nothing to advance (the jobs wait for transfers),
    -- and the first one then needs no second reading of the clock.
    local moved, wake, left = false, nil
    if #e.pending > 0 or #e.waiters > 0 or #e.sleepers > 0 then
      moved, wake = advance(e)
      left = deadline - now()
    else
      left = first and max_wait or deadline - now()
    end
    first = false
    local multi = e.multi
    if multi and #e.free < e.slots then -- a slot is in flight
      local slot, a, b, c = multi:next((moved or left <= 0) and 0 or wait_for(left, wake))
      while slot do
        collect(e, multi, slot, a, b, c)
        multi = e.multi
        if not multi or #e.free >= e.slots then break end
        slot, a, b, c = multi:next(0)
      end
    elseif not moved and left > 0 then
      if #e.sleepers > 0 and #e.pending == 0 and #e.waiters == 0 then
        core.sleep(wait_for(left, wake)) -- only timers left: sleep to the next one, within max_wait
      else
        break -- nothing that could make progress (a waiter whose fetcher is gone cannot happen)
      end
    end
    if left <= 0 then break end
  end
end

-- Advances every job, waiting at most max_wait seconds in all (0: never
-- waits). Returns the number of jobs not finished. open: whether the
-- client is open, when the caller knows (client:pump asks it with the state).
function M.pump(e, max_wait, open)
  if e.live == 0 then
    -- Idle: still hand libcurl what its sockets say (a kept-alive
    -- connection the server closed), so a loop's fd goes quiet again.
    local multi = e.multi
    if multi and not e.pumping then multi:next(0) end
    return 0
  end
  if open == nil then open = is_open(e.st.ud) end
  if not open then
    close_all(e)
    return e.live
  end
  if e.pumping then core.raise("vzaps: pump() cannot be called from inside a job") end
  e.pumping = true
  local ok, err = pcall(run, e, max_wait)
  e.pumping = false
  if not ok then error(type(err) == "string" and err:gsub(INTERNAL, "", 1) or err, 0) end
  return e.live
end

-- ---------------------------------------------------------------------------
-- The pollable object (client:pollable): cqueues' pollable protocol
-- ---------------------------------------------------------------------------

-- Seconds until the engine next needs a step: 0 when work is queued or a
-- timer is due, the nearest of libcurl's timer and the jobs' own (retry
-- backoffs), nil when no job is left (idle: nothing to wake up for).
function M.timeout(e)
  if e.live == 0 then return nil end
  if #e.pending > 0 or (#e.waiters > 0 and not e.st.fetching) then return 0 end
  local multi, wake = e.multi, nil
  local sleepers = e.sleepers
  for k = 1, #sleepers do
    local w = sleepers[k].wake
    if not wake or w < wake then wake = w end
  end
  local t = multi and multi:timeout()
  if wake then
    wake = wake - now()
    if wake < 0 then wake = 0 end
    if not t or wake < t then t = wake end
  end
  return t
end

local Pollable = {}
Pollable.__index = Pollable
Pollable.__name = "vzaps.pollable"

--- The file descriptor a loop waits on: readable when a transfer of the
-- client has work (the same on every call).
function Pollable:pollfd()
  local e = self.engine
  if not is_open(e.st.ud) then core.raise("vzaps: client is closed") end
  local fd = multi_of(e):fd()
  if not fd then
    core.raise("vzaps: pollfd() needs epoll (Linux); elsewhere call client:pump(0) from a timer")
  end
  return fd
end

--- The events to wait for on pollfd(): "r".
function Pollable.events() return "r" end

--- Seconds until the client needs client:pump(0) even if the fd stays
-- quiet (0: at once), or nil when it has nothing in flight.
function Pollable:timeout() return M.timeout(self.engine) end

function Pollable.__tostring() return "vzaps.pollable" end

function M.pollable(e)
  local p = e.pollable
  if not p then
    p = setmetatable({ engine = e }, Pollable)
    e.pollable = p
  end
  return p
end

return M
