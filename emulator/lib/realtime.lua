-- Realtime endpoint: GET /events/ws upgraded to a WebSocket (contract §6).
--
-- Auth is checked before upgrading (401/404 JSON like the REST routes).
-- Each connection has a reader (the request's own coroutine: acks, pings)
-- and a writer coroutine that sends queued frames, so a slow client never
-- blocks the emitter. Acks are kept per instance: on (re)connect the history
-- after last_event_id (or, without one, every event) is replayed minus the
-- acked events, so nothing is lost and nothing acked comes back.
local cqueues = require("cqueues")
local condition = require("cqueues.condition")
local cerrno = require("cqueues.errno")
local websocket = require("http.websocket")
local json = require("lib.json")
local state = require("lib.state")
local events = require("lib.events")

local M = {
  conns = {},     -- live connection -> true
  acks = {},      -- every ack received, in order: {instance_id, event_id}
  acked = {},     -- instance id -> {event id -> true}
  refuse = 0,     -- handshakes still to refuse
  refuse_status = 503,
}

-- Connections -------------------------------------------------------------------

local function wants(conn, event_type)
  return conn.filter == nil or conn.filter[event_type] or conn.filter.All
end

local function push(conn, item)
  conn.queue[#conn.queue + 1] = item
  conn.cond:signal()
end

local function push_event(conn, env)
  push(conn, { text = json.encode(env) })
end

-- Ends a connection abruptly: no close frame, the TCP connection is shut.
local function drop(conn)
  conn.open = false
  conn.cond:signal()
  local sock = conn.ws.socket
  if sock then pcall(sock.shutdown, sock, "rw") end
end
M.drop = drop

function M.each(fn)
  local list = {}
  for conn in pairs(M.conns) do list[#list + 1] = conn end
  for _, conn in ipairs(list) do fn(conn) end
  return #list
end

-- Every emitted event goes to the open connections of its instance.
events.listen(function(env)
  for conn in pairs(M.conns) do
    if conn.instance_id == env.instance_id and wants(conn, env.type) then push_event(conn, env) end
  end
end)

state.on_reset(function()
  M.each(drop)
  M.acks, M.acked, M.refuse = {}, {}, 0
end)

-- Handshake checks ----------------------------------------------------------------

-- Every value given (query and header) must be right, and one must be given.
local function all_match(values, ok)
  local seen = false
  for _, v in pairs(values) do
    if v ~= "" then
      seen = true
      if not ok(v) then return false end
    end
  end
  return seen
end

local function check(req, app)
  local q = req.query
  local bearer = (req:header("authorization") or ""):match("^[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
  if not all_match({ q.access_token, bearer }, state.token_valid)
    or not all_match({ q.client_token, req:header("x-client-token") },
      function(v) return v == state.config.client_token end) then
    return app.error_response(401, "UNAUTHORIZED", "invalid or expired access token")
  end
  local inst = state.instances[q.instance_id or ""]
  if not inst then return app.error_response(404, "NOT_FOUND", "instance not found") end
  if not all_match({ q.instance_token, req:header("x-instance-token") }, function(v) return v == inst.token end) then
    return app.error_response(401, "INVALID_INSTANCE_TOKEN", "invalid instance token")
  end
  return nil, inst
end

-- The replay on (re)connect.
local function backlog(conn, inst, last)
  local hist = inst.events_history or {}
  local first = 1
  if last and last ~= "" then
    for i, e in ipairs(hist) do
      if e.id == last then first = i + 1 end
    end
  end
  local acked = M.acked[inst.id] or {}
  for i = first, #hist do
    local e = hist[i]
    if not acked[e.id] and wants(conn, e.type) then push_event(conn, e) end
  end
end

-- Coroutines --------------------------------------------------------------------

local function writer(conn)
  while conn.open do
    local item = not conn.stalled and table.remove(conn.queue, 1)
    if not item then
      conn.cond:wait(0.5)
    else
      local ok
      if item.raw then
        ok = pcall(conn.ws.socket.xwrite, conn.ws.socket, item.raw, "bn", 5)
      else
        ok = conn.ws:send(item.text, "text", 30)
      end
      if not ok then drop(conn) end
    end
  end
  conn.writer_done = true
  conn.done:signal()
end

local function record_ack(conn, text)
  local msg = json.decode(text)
  if type(msg) == "table" and msg.type == "ack" and type(msg.event_id) == "string" then
    local set = M.acked[conn.instance_id]
    if not set then set = {}; M.acked[conn.instance_id] = set end
    set[msg.event_id] = true
    M.acks[#M.acks + 1] = { instance_id = conn.instance_id, event_id = msg.event_id }
  end
end

local function reader(conn)
  local ws = conn.ws
  while conn.open do
    if conn.stalled then
      cqueues.sleep(0.1) -- neither reads nor answers pings
    else
      local data, err, errno = ws:receive(0.5)
      if data then
        record_ack(conn, data)
      elseif errno ~= cerrno.ETIMEDOUT or ws.readyState == 3 then
        conn.open = false
        if err ~= nil and errno ~= nil then conn.note = tostring(err) end
      end
    end
  end
end

-- GET /events/ws: returns an error response, or nil, note once the upgraded
-- connection has ended.
function M.handle(stream, req, app)
  if M.refuse > 0 then
    M.refuse = M.refuse - 1
    return app.error_response(M.refuse_status, "SERVICE_UNAVAILABLE", "realtime temporarily unavailable")
  end
  local res, inst = check(req, app)
  if res then return res end
  local ws, werr = websocket.new_from_stream(stream, req.headers)
  if not ws then return app.error_response(400, "VALIDATION_ERROR", "not a WebSocket upgrade: " .. tostring(werr)) end
  if not ws:accept(nil, 10) then return nil, "websocket accept failed" end

  local filter
  if req.query.events and req.query.events ~= "" then
    filter = {}
    for name in req.query.events:gmatch("[^,]+") do filter[name] = true end
  end
  local conn = {
    ws = ws, instance_id = inst.id, filter = filter, queue = {}, open = true,
    cond = condition.new(), done = condition.new(), last_event_id = req.query.last_event_id,
  }
  backlog(conn, inst, req.query.last_event_id)
  M.conns[conn] = true
  app.cq:wrap(writer, conn)
  reader(conn)
  M.conns[conn] = nil
  conn.open = false
  conn.cond:signal()
  while not conn.writer_done do conn.done:wait(1) end
  if ws.readyState < 3 then pcall(ws.close, ws, 1000, "", 1) end
  if ws.socket then pcall(ws.socket.close, ws.socket) end
  return nil, "websocket closed" .. (conn.note and (" (" .. conn.note .. ")") or "")
end

return M
