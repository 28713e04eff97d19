-- Request dispatcher: turns a lua-http stream into a request object, records
-- it, applies scripted answers / faults, routes it and writes the response.
local cqueues = require("cqueues")
local http_headers = require("http.headers")
local http_util = require("http.util")
local json = require("lib.json")
local state = require("lib.state")
local router = require("lib.router")
local api = require("lib.api")
local faults = require("lib.faults")
local scripts = require("lib.scripts")
local send_rate = require("lib.send_rate")

local M = {
  quiet = false,
  api = router.new(),      -- public API routes
  control = router.new(),  -- /__emu/ routes
}

local ROUTE_MODULES = {
  "auth", "instances", "sessions", "messages", "webhooks", "contacts",
  "groups", "users", "queues", "typebots", "chatwoot", "chats",
}

function M.load_routes()
  for _, name in ipairs(ROUTE_MODULES) do
    require("routes." .. name)(M.api)
  end
  require("lib.control")(M.control, M)
end

function M.log(line)
  if not M.quiet then
    io.stderr:write(line, "\n")
    io.stderr:flush()
  end
end

-- Request object -------------------------------------------------------------
local Req = {}
Req.__index = Req

function Req:header(name)
  return self.headers:get(name:lower())
end

-- decoded JSON body, nil when empty; 400 VALIDATION_ERROR when not JSON
function Req:json()
  if not self._json_done then
    self._json_done = true
    if not self.body:find("^%s*$") then
      local v = json.decode(self.body)
      if v == nil then api.bad("request body must be valid JSON") end
      self._json = v
    end
  end
  return self._json
end

local function parse_query(qs)
  local q = {}
  for pair in qs:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k, v = router.decode(k), router.decode(v)
    if q[k] == nil then q[k] = v end
  end
  return q
end

-- headers as {lowercase-name = value}, repeats joined with ", "
local function header_table(headers)
  local t = {}
  for name, value in headers:each() do
    if name == ":authority" then name = "host" end
    if name:sub(1, 1) ~= ":" then
      t[name] = t[name] and (t[name] .. ", " .. value) or value
    end
  end
  return t
end

-- Responses --------------------------------------------------------------------
-- res = {status=, body=string|nil, content_type=, headers={}}
local function write_response(stream, rid, res, method)
  local h = http_headers.new()
  h:append(":status", tostring(res.status))
  h:append("x-request-id", rid)
  local has_body = res.body ~= nil and res.status ~= 204 and res.status ~= 304
  if has_body and res.content_type then h:append("content-type", res.content_type) end
  for k, v in pairs(res.headers or {}) do h:upsert(k:lower(), tostring(v)) end
  if has_body and method == "HEAD" then
    -- A HEAD answer has the headers of the GET answer but never its body
    -- (RFC 9110 §9.3.2): stray bytes would poison the kept-alive connection.
    h:upsert("content-length", tostring(#res.body))
    stream:write_headers(h, true)
  elseif has_body then
    h:upsert("content-length", tostring(#res.body))
    stream:write_headers(h, false)
    stream:write_chunk(res.body, true)
  else
    h:delete("content-length")
    stream:write_headers(h, true)
  end
end

local function json_response(status, value, headers)
  if value == nil then return { status = status, headers = headers } end
  return { status = status, body = json.encode(value),
           content_type = "application/json", headers = headers }
end

function M.error_response(status, code, message)
  return json_response(status, { error = message, code = code })
end

-- Auth -------------------------------------------------------------------------
local function check_auth(req)
  local auth = req:header("authorization") or ""
  local tok = auth:match("^[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
  if not (state.token_valid(tok) and req:header("x-client-token") == state.config.client_token) then
    api.fail(401, "UNAUTHORIZED", "invalid or expired access token")
  end
end

local function check_instance(req)
  local inst = api.instance(req.params.id)
  local tok = req:header("x-instance-token")
  if tok ~= inst.token then
    api.fail(401, "INVALID_INSTANCE_TOKEN", "invalid instance token")
  end
  req.instance = inst
end

-- Run a route handler; errors raised with api.fail become
-- envelopes, anything else a 500.
local function run(route, req)
  local ok, status, value, headers = http_util.yieldable_pcall(function()
    local opts = route.opts
    if opts.auth ~= false then check_auth(req) end
    if req.params.id ~= nil and opts.instance ~= false then check_instance(req) end
    return route.handler(req)
  end)
  if ok then
    if type(status) == "table" then return status end  -- a ready response
    return json_response(status, value, headers)
  end
  local err = status
  if type(err) == "table" and err.emu_error then
    return M.error_response(err.status, err.code, err.message)
  end
  io.stderr:write("emulator: handler error on ", req.method, " ", req.route.pattern,
    ": ", tostring(err), "\n")
  return M.error_response(500, "INTERNAL_ERROR", "internal emulator error")
end

function M.dispatch(rt, req)
  local route, params = rt:resolve(req.method, req.path)
  if not route then
    if params == "method" then
      return M.error_response(405, "METHOD_NOT_ALLOWED", "method not allowed")
    end
    return M.error_response(404, "NOT_FOUND", "route not found")
  end
  req.params = params
  req.route = route
  return run(route, req)
end

-- The scripted / normal path for non-control requests.
local function handle_api(stream, req)
  state.record({
    method = req.method,
    path = req.path,
    query = req.query_string,
    headers = header_table(req.headers),
    body = req.body,
    content_length = req:header("content-length") or json.null,
    request_id = req.request_id,
  })
  local s = scripts.take(req)
  if s then
    if s.delay and s.delay > 0 then cqueues.sleep(s.delay) end
    if s.fault then
      faults.apply(s.fault, stream, req, s)
      return nil, "fault=" .. s.fault
    end
    if s.status then
      local res = { status = s.status, headers = s.headers }
      if s.json ~= nil then
        res.body, res.content_type = json.encode(s.json), "application/json"
      elseif s.body ~= nil then
        res.body = s.body
      end
      return res, "scripted"
    end
  end
  local limited = send_rate.check(req)
  if limited then return limited, "send rate" end
  if req.path == "/events/ws" and req.method == "GET" then  -- WebSocket upgrade
    return require("lib.realtime").handle(stream, req, M)
  end
  return M.dispatch(M.api, req)
end

-- lua-http onstream callback
function M.onstream(_, stream)
  local headers = stream:get_headers(30)
  if not headers then return end
  state.request_id = state.request_id + 1
  local rid = "req-" .. state.request_id
  local target = headers:get(":path") or "/"
  local path, qs = target:match("^([^?]*)%??(.*)$")
  local req = setmetatable({
    method = headers:get(":method"),
    path = path,
    query_string = qs,
    query = parse_query(qs),
    headers = headers,
    request_id = rid,
    stream = stream,
  }, Req)
  if headers:get("expect") == "100-continue" then stream:write_continue() end
  local body = stream:get_body_as_string(30)
  if body == nil then
    M.log(req.method .. " " .. path .. " - body read failed")
    return
  end
  req.body = body

  local res, note
  if path == "/__emu" or path:sub(1, 7) == "/__emu/" then
    res = M.dispatch(M.control, req)
  else
    res, note = handle_api(stream, req)
  end
  if res then
    -- yieldable: a large answer fills the socket buffer and the write yields
    -- (a plain pcall cannot yield on Lua 5.1)
    local ok, werr = http_util.yieldable_pcall(write_response, stream, rid, res, req.method)
    if not ok then M.log("write failed: " .. tostring(werr)) end
    M.log(req.method .. " " .. path .. " " .. res.status .. (note and (" " .. note) or ""))
    if req.after_response then req.after_response() end
  else
    M.log(req.method .. " " .. path .. " - " .. (note or "no response"))
  end
end

return M
