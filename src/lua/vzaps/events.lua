-- events.lua: client.events:subscribe, realtime events over WebSocket
-- (contract §6, rulings D36-D51; docs/realtime.md). The socket and framing
-- are C (core.ws_open, src/ws.c); this file is the state machine:
-- connect, dispatch, ack, cursor, keepalive, reconnect with backoff.
-- Nothing here waits when asked not to: a reconnect (token fetch, TCP/TLS
-- connect, Upgrade) advances in steps, one per poll(0), and inside a job
-- every wait yields to the client's scheduler.
--
-- Where a subscription keeps what: its private state p (the client, the
-- instance token, the socket, the state machine) sits in PRIV, a table
-- weak in its keys, keyed by the subscription table, so that a table dumper
-- walking the subscription finds no credential. p never refers back to the
-- subscription: Lua 5.1 and LuaJIT have no ephemerons, and a value that
-- reaches its own key keeps it alive forever. The handlers and callbacks
-- (user functions, which often refer to the subscription) therefore live
-- on the subscription itself, under the key CB; every function below that
-- needs them or the subscription is given `sub` with `p`.
local import, core = ...
local http = import("http")
local errors = import("errors")
local tokens = import("token")
local scheduler = import("scheduler")

local args = import("args")
local state = import("state")
local dispatcher = import("dispatch")

local type, pairs, ipairs, pcall, error, tostring, setmetatable, select =
  type, pairs, ipairs, pcall, error, tostring, setmetatable, select
local min, floor, huge, concat = math.min, math.floor, math.huge, table.concat
local now, sleep, ws_connect, ws_open, json_encode, is_open =
  core.now, core.sleep, core.ws_connect, core.ws_open, core.json_encode, core.is_open
local realtime_url, upgrade_headers = core.realtime_url, core.upgrade_headers
local yield = coroutine.yield
local max = math.max
local argerror, check_open, check_token = args.argerror, args.check_open, args.check_token
local check_fn = dispatcher.check_fn

local M = {}

local MAX_DELAY = 30          -- backoff cap, seconds (D42)
local DEFAULT_PING = 20       -- keepalive ping after this much silence
local MAX_SLICE = 1           -- longest single wait inside run()
local JOB_SLICE = 0.005       -- a job's wait for a socket: a scheduler timer (it cannot wait on our fd)
local TOKEN_SLICE = 0.005     -- pollable timeout while the token is fetched on the client's own transfers
local CLOSE_REASON = "client closed subscription"
local REQ = { method = "GET", path = "/events/ws" } -- what errors name; never the URL (it holds tokens)

local PRIV = setmetatable({}, { __mode = "k" }) -- sub -> p (see the top of this file)
local CB = {} -- sub[CB]: {handlers =, on_open =, on_close =, on_error =, failed =}

-- ---------------------------------------------------------------------------
-- Errors and callbacks
-- ---------------------------------------------------------------------------

local function client_state(p) return state.of_client(p.ud) end

local function secrets(p) return errors.secrets(client_state(p), p.instance_token) end

-- A misuse raises at the user's line (src/args.c), never a vzaps/events.lua one.
local raise = args.raise

-- An error that escaped a protected run: its text without a position
-- inside the module.
local function rethrow(e)
  if type(e) == "string" then e = e:gsub("^vzaps/[%w_]+%.lua:%d+: ", "", 1) end
  error(e, 0)
end

local MAX_BODY = 4096 -- bytes of a skipped frame kept in err.body

-- An error object of this module: kind, code and extra fields, every field
-- redacted once all are set (a close reason or frame may echo a token).
-- errors.fail redacts the fields it knows; the extra ones go through the
-- same errors.redact.
local function new_error(p, kind, code, message, extra)
  local s = secrets(p)
  local fields = { kind = kind, code = code, message = message, method = REQ.method, path = REQ.path }
  for k, v in pairs(extra or {}) do fields[k] = errors.redact(v, s) end
  return errors.fail(fields, s)
end

-- Lifecycle callbacks run protected: one that raises is reported to the
-- error callbacks (an error callback that raises is ignored: no loop).
local function fire_error(sub, err)
  for _, fn in ipairs(sub[CB].on_error) do pcall(fn, err) end
end

local function fire(sub, p, name, ...)
  for _, fn in ipairs(sub[CB][name]) do
    local ok, e = pcall(fn, ...)
    if not ok then
      local _, _, err = new_error(p, "realtime", "CALLBACK_ERROR", "realtime callback failed: " .. tostring(e),
        { details = e })
      fire_error(sub, err)
    end
  end
end

-- ---------------------------------------------------------------------------
-- Connecting (contract §6.1)
-- ---------------------------------------------------------------------------


-- A failed handshake (ws_connect's or ws:advance's failure) as nil, msg, err.
local function refused(p, st, token, kind, message, status, body, reason)
  if status then
    -- The secrets are taken before a refused token is dropped: the answer
    -- may echo that token, and it must be redacted too (found by
    -- fuzz/fuzz_ws.c: a 401 whose reason phrase held the JWT).
    local s = secrets(p)
    -- A refused token (revoked, expired early) must not be reused next time.
    if status == 401 then tokens.drop(st, token) end
    return errors.http(REQ, status, body or "", reason, nil, nil, s)
  end
  return errors.transport(kind, message, REQ, secrets(p))
end

-- The arguments of core.ws_connect / ws_open for this token. The URL and
-- headers are built in C beside every call's (src/request.c
-- core.realtime_url: empty values dropped; src/client.c
-- core.upgrade_headers: no Accept).
local function ws_args(sub, p, st, token)
  local ud = st.ud
  return ud, realtime_url(ud, p.instance_id, p.instance_token, token, p.events, sub.last_event_id),
    upgrade_headers(ud, p.instance_token), st.timeout, p.limits
end

-- A fresh token from the cache, then the handshake, waiting for both (a
-- plain subscribe): ws | nil, msg, err.
local function connect(sub, p)
  local st = client_state(p)
  local token, msg, err = http.token(st)
  if not token then return nil, msg, err end
  local ws, kind, message, status, body, reason = ws_connect(ws_args(sub, p, st, token))
  if ws then return ws end
  return refused(p, st, token, kind, message, status, body, reason)
end

-- Waits at most `seconds` without holding a job's scheduler: inside a job,
-- a scheduler timer; outside, what the connection being opened waits for
-- (its sockets), the token's transfer, or a plain sleep.
local function pause(p, seconds, conn)
  if seconds <= 0 then return end
  local st = client_state(p)
  if http.in_job(st) then
    yield(http.PAR, "sleep", min(seconds, JOB_SLICE))
  elseif conn and conn.job then
    local e = scheduler.engine(st)
    -- short pumps: the client's other jobs may keep it busy after the token came
    if e.pumping then sleep(min(seconds, JOB_SLICE)) else scheduler.pump(e, min(seconds, 0.05)) end
  elseif conn and conn.ws then
    conn.ws:wait(seconds)
  else
    sleep(seconds)
  end
end

-- ---------------------------------------------------------------------------
-- Opening in steps: p.conn = {job = the token fetch (a job on the client's
-- scheduler) | token =, ws = the connection being opened}. Every step
-- returns at once; open_step says "open", "pending" or "failed", msg, err.
-- ---------------------------------------------------------------------------

-- The sockets the subscription waits for now go into its epoll set.
local function watch(p)
  if p.pollset then p.pollset:watch(p.ws or (p.conn and p.conn.ws) or nil) end
end

local function release_conn(p)
  local conn = p.conn
  p.conn = nil
  if not conn then return end
  if conn.job then conn.job:cancel() end
  if conn.ws then conn.ws:close(1000, "", 0) end
end

local function open_begin(p)
  local st = client_state(p)
  local conn = {}
  p.conn = conn
  local tok = tokens.current(st)
  if tok then
    conn.token = tok
  elseif http.in_job(st) or st.transport then
    -- inside a job the fetch yields; a custom transport's calls never wait on us
    local msg, err
    conn.token, msg, err = http.token(st)
    if not conn.token then return msg, err end
  else
    conn.job = scheduler.spawn(scheduler.engine(st), http.token, st)
  end
end

local function open_step(sub, p)
  local conn = p.conn
  local st = client_state(p)
  if conn.job then
    local e = scheduler.engine(st)
    if not conn.job:done() and not e.pumping then scheduler.pump(e, 0) end
    if p.conn ~= conn then return "pending" end -- closed by a job the pump ran
    if not conn.job:done() then return "pending" end
    local tok, msg, err = conn.job:result()
    conn.job = nil
    if not tok then return "failed", msg, err end
    conn.token = tok
  end
  if not conn.ws then
    local ws, kind, message = ws_open(ws_args(sub, p, st, conn.token))
    if not ws then return "failed", select(2, refused(p, st, conn.token, kind, message)) end
    conn.ws = ws
  end
  local ok, kind, message, status, body, reason = conn.ws:advance()
  if ok then
    p.ws, p.conn = conn.ws, nil
    return "open"
  elseif ok == false then
    return "pending"
  end
  conn.ws = nil -- released by advance
  return "failed", select(2, refused(p, st, conn.token, kind, message, status, body, reason))
end

-- ---------------------------------------------------------------------------
-- The state machine: "open" (p.ws set) | "waiting" (p.next_at) |
-- "connecting" (p.conn, a step at a time) | "failed" | "closed" (by
-- close()). Every connection end not caused by close() leads to a
-- reconnect, unless reconnect is off or max_retries is used up.
-- ---------------------------------------------------------------------------

local function fail(p, msg, err)
  if p.state == "closed" then return end
  p.state, p.fail_msg, p.fail_err = "failed", msg, err
end

-- Delay before reconnect attempt n (n >= 1): min(30, retry_delay * n) (D42).
local function schedule(p, n)
  if p.state ~= "waiting" then return end
  if not p.reconnect or (p.max_retries and n > p.max_retries) then
    fail(p, p.last_msg, p.last_err)
  else
    p.next_at = now() + min(MAX_DELAY, p.retry_delay * n)
  end
end

-- The connection ended (server close, error, stall): on_close always (D50),
-- on_error unless it was a normal close, then the next attempt.
local function ended(sub, p, kind, message, code, reason)
  local ws = p.ws
  p.ws, p.pending_ack = nil, nil
  if ws then ws:close(1000, "", 0) end -- frees the socket; no waiting
  p.state = "waiting"
  if kind == "closed" then kind = "network" end
  local _, msg, err = new_error(p, kind, code and ("CLOSE_" .. code) or (kind == "timeout" and "REQUEST_TIMEOUT")
    or "NETWORK_ERROR", message, { close_code = code, close_reason = reason })
  p.last_msg, p.last_err = msg, err
  fire(sub, p, "on_close", code or 1006, err.close_reason) -- redacted: the reason may echo a token
  if code ~= 1000 then fire_error(sub, err) end
  schedule(p, 1)
end

-- A failed attempt: counted, reported, and the next one scheduled.
local function attempt_failed(sub, p, msg, err)
  release_conn(p)
  p.state = "waiting"
  p.failures = p.failures + 1
  p.last_msg, p.last_err = msg, err
  fire_error(sub, err)
  schedule(p, p.failures + 1)
end

-- One step of a reconnect attempt (state "connecting"): never waits.
local function attempt(sub, p)
  if not p.conn then
    local msg, err = open_begin(p)
    if msg then return attempt_failed(sub, p, msg, err) end
  end
  local what, msg, err = open_step(sub, p)
  if p.state ~= "connecting" then return end -- closed meanwhile (by a job the pump ran)
  if what == "open" then
    p.state, p.failures, p.pinged_at = "open", 0, nil
    fire(sub, p, "on_open", sub) -- D51; the counter was reset above (D44)
  elseif what == "failed" then
    attempt_failed(sub, p, msg, err)
  end
end

-- Keepalive: a ping after ping_interval of silence; a connection silent for
-- twice that long (no pong either) is dead and gets replaced.
local function keepalive(sub, p)
  local ws, pi = p.ws, p.ping_interval
  if not pi then return end
  local last = ws:last_rx()
  local idle = now() - last
  if idle >= 2 * pi then
    ended(sub, p, "timeout", "realtime connection stalled: nothing received for " .. floor(idle) .. " s")
  elseif idle >= pi and (p.pinged_at or -huge) < last then
    p.pinged_at = now()
    -- Never waits for the socket: what is not written now goes out with the
    -- next read (a server that never reads fails on max_unsent_frames); a
    -- failure shows up at the next recv.
    ws:ping(0)
  end
end

-- Next event: "event", ev | "timeout" | "closed" | "failed", msg, err.
-- deadline nil waits as long as it takes (in slices: no single wait is
-- unbounded).
local function step(sub, p, deadline)
  while true do
    if p.state == "closed" then return "closed" end
    if p.state == "failed" then return "failed", p.fail_msg, p.fail_err end
    if not is_open(p.ud) then
      release_conn(p)
      if p.ws then p.ws:close(1000, CLOSE_REASON, 0); p.ws = nil; fire(sub, p, "on_close", 1000, CLOSE_REASON) end
      local _, msg, err = new_error(p, "network", "CLIENT_CLOSED", "client is closed")
      fail(p, msg, err)
    elseif p.ws then
      local slice = MAX_SLICE
      if p.ping_interval then slice = min(slice, p.ping_interval / 2) end
      if deadline then slice = min(slice, deadline - now()) end
      if slice < 0 then slice = 0 end
      local in_job = http.in_job(client_state(p))
      local text, kind, message, code, reason = p.ws:recv(in_job and 0 or slice)
      if text then
        local ev = dispatcher.decode(text)
        if ev then return "event", ev end
        -- Redacted whole, then cut: a secret at the cut cannot survive as a prefix.
        local body = errors.redact(text, secrets(p))
        local _, _, err = new_error(p, "decode", "DECODE_ERROR", "realtime frame is not a JSON object (skipped)",
          { body = #body > MAX_BODY and body:sub(1, MAX_BODY) or body })
        fire_error(sub, err) -- D48: the connection is kept
        -- A stream of such frames must not hold the caller past its time.
        if deadline and now() >= deadline then return "timeout" end
      elseif kind == "timeout" then
        keepalive(sub, p)
        if deadline and now() >= deadline then return "timeout" end
        if in_job and p.ws then pause(p, slice) end
      else
        ended(sub, p, kind, message, code, reason)
      end
    elseif p.state == "connecting" then
      attempt(sub, p)
      if p.state == "connecting" then
        local t = now()
        if deadline and t >= deadline then return "timeout" end
        pause(p, min(MAX_SLICE, (deadline or huge) - t), p.conn)
      end
    else
      local t = now()
      if t >= p.next_at then
        p.state = "connecting"
      elseif deadline and t >= deadline then
        return "timeout"
      else
        pause(p, min(p.next_at, deadline or huge) - t)
      end
    end
  end
end

-- ---------------------------------------------------------------------------
-- Dispatch and ack (contract §6.3)
-- ---------------------------------------------------------------------------

-- Acks event id on ws (only the connection it came from) and then moves
-- the cursor (D39, D40, D45). A failed send ends the connection at the next
-- recv. The ack waits for the socket at most `wait` seconds (0 inside run
-- and poll: a server that does not read must not hold them, and fails on
-- max_unsent_frames); one not written by then stays queued and goes out
-- with the next read, and the cursor stays (the event may come again: at
-- least once).
local function ack(sub, p, ws, id, wait)
  if type(id) ~= "string" or id == "" or ws == nil or ws ~= p.ws then return end
  if ws:send('{"type":"ack","event_id":' .. json_encode(id) .. "}", wait) then sub.last_event_id = id end
end

local function flush_pending_ack(sub, p, wait)
  local pa = p.pending_ack
  p.pending_ack = nil
  if pa then ack(sub, p, pa.ws, pa.id, wait or 0) end
end

local do_close

-- Type handlers, then All (D46); a handler that raises is reported with kind
-- "realtime" and the event is not acked, so it comes again (D47). run()
-- acks at once; poll() (later = true) keeps the ack for its next call or
-- close(), so the caller sees the event first.
local function dispatch(sub, p, ev, later)
  local ws = p.ws
  p.dispatching = true
  local ok_all = dispatcher.run(sub[CB].handlers, ev, sub[CB].failed)
  p.dispatching = false
  if ok_all then
    if later then
      p.pending_ack = { ws = ws, id = ev.id } -- the id only: the event may refer to sub
    else
      ack(sub, p, ws, ev.id, 0)
    end
  end
  if p.close_requested then do_close(sub, p) end
end

function do_close(sub, p)
  if p.state == "closed" then return end
  flush_pending_ack(sub, p, 1)
  p.state = "closed"
  release_conn(p)
  local ws = p.ws
  p.ws = nil
  if p.pollset then p.pollset:watch(nil) end -- the fd stays (stable), quiet
  if ws then
    ws:close(1000, CLOSE_REASON, 1)
    fire(sub, p, "on_close", 1000, CLOSE_REASON)
  end
end

-- ---------------------------------------------------------------------------
-- The subscription object
-- ---------------------------------------------------------------------------

local methods = {}
local SUB_MT = {
  __index = methods,
  __name = "vzaps.subscription",
  __tostring = function(s) return "vzaps.subscription (" .. PRIV[s].instance_id .. ")" end,
}

local function priv(self, name)
  local p = self ~= nil and PRIV[self]
  if not p then argerror(1, name, "subscription expected (use a colon: sub:" .. name .. "(...))") end
  return p
end

-- What run() and poll() return on a closed subscription (closed by close(),
-- before the call or during it from a callback): a failure, not a raise,
-- so a pull loop can end on it like on any other failure.
local function closed(p)
  return new_error(p, "closed", "SUBSCRIPTION_CLOSED", "subscription is closed")
end

-- sub:on(type, fn): fn(event) for events of that type; "All" for every one.
function methods.on(self, event_type, fn)
  priv(self, "on")
  dispatcher.on(self[CB].handlers, event_type, fn)
  return self
end

for _, name in ipairs({ "open", "close", "error" }) do
  methods["on_" .. name] = function(self, fn)
    priv(self, "on_" .. name)
    check_fn(fn, 1, "on_" .. name)
    local list = self[CB]["on_" .. name]
    list[#list + 1] = fn
    return self
  end
end

-- on_open for the handshake subscribe made fires when dispatching starts,
-- since no callback could be registered before.
local function start(sub, p)
  if p.open_pending then
    p.open_pending = false
    if p.ws then fire(sub, p, "on_open", sub) end
  end
end

-- Misuse from a handler or callback (they run inside run() or poll()).
local function check_not_inside(p, name)
  if p.running then raise("vzaps: sub:" .. name .. "() cannot be used inside sub:run()") end
  if p.polling then raise("vzaps: sub:" .. name .. "() cannot be used inside sub:poll()") end
end

-- sub:run(): dispatches until close() (true) or the end of retries
-- (nil, msg, err).
function methods.run(self)
  local p = priv(self, "run")
  if p.state == "closed" then return closed(p) end
  check_open(p.ud)
  if p.running then raise("vzaps: sub:run() is already running on this subscription") end
  check_not_inside(p, "run")
  p.running = true
  local ok, r, msg, err = pcall(function()
    start(self, p)
    flush_pending_ack(self, p)
    while true do
      local what, a, b = step(self, p, nil)
      if what == "event" then
        dispatch(self, p, a)
      elseif what == "closed" then
        return true
      elseif what == "failed" then
        return nil, a, b
      end
    end
  end)
  p.running, p.dispatching = false, false
  if not ok then rethrow(r) end
  return r, msg, err
end

-- One poll, run protected (a misuse raised by a callback must not leave
-- p.polling set): "event", ev (its handlers ran) | what step returned.
local function poll_step(sub, p, deadline)
  start(sub, p)
  flush_pending_ack(sub, p)
  local what, a, b = step(sub, p, deadline)
  if what == "event" then dispatch(sub, p, a, true) end
  return what, a, b
end

-- sub:poll([timeout]): the next event, after the handlers registered with
-- sub:on ran for it (acked at the next poll or close, unless a handler
-- raised); nil on timeout; nil, msg, err once the subscription failed or is
-- closed (err.kind "closed"). No timeout: waits for the next event.
function methods.poll(self, timeout)
  local p = priv(self, "poll")
  if timeout ~= nil and not core.check_seconds(timeout, true) then
    argerror(1, "poll", "timeout must be zero or more seconds")
  end
  if p.state == "closed" then return closed(p) end
  check_open(p.ud)
  check_not_inside(p, "poll")
  p.polling = true
  local ok, what, a, b = pcall(poll_step, self, p, timeout and (now() + timeout))
  p.polling, p.dispatching = false, false
  watch(p)
  if not ok then rethrow(what) end
  if what == "event" then
    return a
  elseif what == "failed" then
    return nil, a, b
  elseif what == "closed" then
    return closed(p)
  end
  return nil
end

-- ---------------------------------------------------------------------------
-- sub:pollable(): cqueues' pollable protocol, for any event loop
-- ---------------------------------------------------------------------------

-- The pollable's subscription state, weak in its keys like PRIV: a dumper
-- walking the pollable finds no credential, and p never refers to it.
local POLL_PRIV = setmetatable({}, { __mode = "k" })

-- Seconds until the subscription has work it cannot see on its fd: 0 when
-- something is already there, the keepalive, the backoff or the opening's
-- next deadline; nil when only the fd can bring work (or never again).
local function work_timeout(p)
  local st = p.state
  if st == "closed" or st == "failed" then return nil end
  if p.pending_ack or not is_open(p.ud) then return 0 end
  local t = now()
  if st == "waiting" then return max(0, p.next_at - t) end
  if st == "connecting" then
    local conn = p.conn
    if not conn or not conn.ws then return conn and conn.job and TOKEN_SLICE or 0 end
    return conn.ws:timeout()
  end
  local ws = p.ws
  if ws:timeout() then return 0 end
  local pi = p.ping_interval
  if not pi then return nil end
  local last = ws:last_rx()
  local due = (p.pinged_at or -huge) >= last and last + 2 * pi or last + pi
  return max(0, due - t)
end

local POLLABLE = {}
local POLLABLE_MT = { __index = POLLABLE, __name = "vzaps.subscription.pollable" }

local function poll_priv(self, name)
  local p = self ~= nil and POLL_PRIV[self]
  if not p then argerror(1, name, "pollable expected (use a colon: p:" .. name .. "())") end
  return p
end

function POLLABLE.pollfd(self)
  local p = poll_priv(self, "pollfd")
  return p.pollset:fd()
end

function POLLABLE.events(self)
  poll_priv(self, "events")
  return "r"
end

function POLLABLE.timeout(self)
  return work_timeout(poll_priv(self, "timeout"))
end

-- sub:pollable(): the same object every call; its fd is readable when the
-- subscription has work, sub:poll(0) is the step.
function methods.pollable(self)
  local p = priv(self, "pollable")
  local cb = self[CB]
  if not cb.pollable then
    p.pollset = core.ws_pollset()
    local obj = setmetatable({}, POLLABLE_MT)
    POLL_PRIV[obj] = p
    cb.pollable = obj
    watch(p)
  end
  return cb.pollable
end

-- sub:close(): no more reconnects; close frame 1000; harmless twice; from
-- inside a handler it takes effect once the current event is acked.
function methods.close(self)
  local p = priv(self, "close")
  if p.dispatching then
    p.close_requested = true
  else
    do_close(self, p)
  end
  return true
end
SUB_MT.__close = function(self) methods.close(self) end
SUB_MT.__gc = nil -- the socket has its own __gc (vzaps.WebSocket)

-- ---------------------------------------------------------------------------
-- client.events:subscribe{...}
-- ---------------------------------------------------------------------------

local KNOWN = {
  instance_id = true, instance_token = true, events = true, reconnect = true, max_retries = true,
  retry_delay = true, last_event_id = true, ping_interval = true,
  max_queued_bytes = true, max_queued_messages = true, max_unsent_frames = true,
}
-- Flood limits, checked here and enforced by src/ws.c (defaults in ws.h).
local LIMITS = { "max_queued_bytes", "max_queued_messages", "max_unsent_frames" }
local MAX_LIMIT = 2147483647

local function check_options(o, scope)
  if type(o) ~= "table" then argerror(1, "subscribe", "table expected, got " .. type(o)) end
  for k in pairs(o) do
    if not KNOWN[k] then argerror(1, "subscribe", "unknown option '" .. tostring(k) .. "'") end
  end
  local id = o.instance_id
  if id == nil and scope then id = scope.instance_id end
  if type(id) ~= "string" or not id:find("%S") then argerror(1, "subscribe", "instance_id is required") end
  local tok = o.instance_token
  if tok == nil and scope then tok = scope.instance_token end
  check_token(tok, 1, "subscribe", "instance_token")
  local events = o.events
  if type(events) == "string" then events = { events } end
  if events ~= nil then
    if type(events) ~= "table" then argerror(1, "subscribe", "events must be a list of event type names") end
    for i, e in ipairs(events) do
      if type(e) ~= "string" or e == "" or e:find(",") then
        argerror(1, "subscribe", "events[" .. i .. "] must be an event type name")
      end
    end
    events = #events > 0 and concat(events, ",") or nil -- D37: one comma-joined value
  end
  local r = o.reconnect
  if r ~= nil and type(r) ~= "boolean" then argerror(1, "subscribe", "reconnect must be a boolean") end
  local mr = o.max_retries
  if mr ~= nil and (type(mr) ~= "number" or mr ~= floor(mr) or mr < 0) then
    argerror(1, "subscribe", "max_retries must be an integer >= 0 (nil: unlimited)")
  end
  local rd = o.retry_delay
  if rd ~= nil and (type(rd) ~= "number" or not (rd >= 0) or rd > MAX_DELAY) then
    argerror(1, "subscribe", "retry_delay must be from 0 to 30 seconds")
  end
  local last = o.last_event_id
  if last ~= nil and type(last) ~= "string" then argerror(1, "subscribe", "last_event_id must be a string") end
  local pi = o.ping_interval
  if pi == nil then pi = DEFAULT_PING end
  if pi ~= false and (type(pi) ~= "number" or not (pi > 0) or pi > 3600) then
    argerror(1, "subscribe", "ping_interval must be a positive number of seconds, or false")
  end
  local limits = {}
  for _, name in ipairs(LIMITS) do
    local v = o[name]
    if v ~= nil and (type(v) ~= "number" or v ~= floor(v) or v < 1 or v > MAX_LIMIT) then
      argerror(1, "subscribe", name .. " must be an integer from 1 to " .. MAX_LIMIT)
    end
    limits[name] = v
  end
  return {
    instance_id = id, instance_token = tok, events = events, reconnect = r ~= false,
    max_retries = mr, retry_delay = rd or 1, ping_interval = pi or nil, last_event_id = last,
    limits = limits,
  }
end

local resource = {}
local RESOURCE_MT = { __index = resource, __name = "vzaps.events" }

-- The first connection is made here and its failure returned (D49).
function resource.subscribe(self, opts)
  check_open(self[state.UD])
  local o = check_options(opts, state.scope(self))
  local sub = { last_event_id = o.last_event_id }
  local p = {
    ud = self[state.UD], instance_id = o.instance_id, instance_token = o.instance_token, events = o.events,
    reconnect = o.reconnect, max_retries = o.max_retries, retry_delay = o.retry_delay,
    ping_interval = o.ping_interval, limits = o.limits,
    state = "waiting", failures = 0, next_at = 0, open_pending = true,
  }
  -- A cycle sub -> CB -> failed -> sub is fine: no weak table is on it.
  sub[CB] = {
    handlers = {}, on_open = {}, on_close = {}, on_error = {},
    failed = function(e, ev)
      local _, _, err = new_error(PRIV[sub], "realtime", "HANDLER_ERROR", "event handler failed: " .. tostring(e),
        { details = e, event_id = ev.id, event_type = ev.type })
      fire_error(sub, err)
    end,
  }
  PRIV[sub] = p
  setmetatable(sub, SUB_MT)
  if http.in_job(client_state(p)) then -- the job yields while it connects
    p.state = "connecting"
    while true do
      local what, msg, err
      if not p.conn then msg, err = open_begin(p) end
      if msg then
        what = "failed"
      else
        what, msg, err = open_step(sub, p)
      end
      if what == "open" then
        p.state = "open"
        return sub
      elseif what == "failed" then
        release_conn(p)
        return nil, msg, err
      end
      pause(p, JOB_SLICE)
    end
  end
  local ws, msg, err = connect(sub, p)
  if not ws then return nil, msg, err end
  p.ws, p.state = ws, "open"
  return sub
end

-- The events resource of a client (scope nil) or an instance handle.
function M.resource(st, scope)
  return state.object(st, scope, RESOURCE_MT)
end

return M
