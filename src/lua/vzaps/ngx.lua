-- ngx.lua: a `transport` for OpenResty / lua-nginx-module built on cosockets
-- (ngx.socket.tcp), so that a call made inside a request handler or a timer
-- waits without blocking the nginx worker. Plain HTTP/1.1 written here:
-- request line, headers and a Content-Length body out; status line, headers
-- and a Content-Length, chunked or until-close body in; keep-alive through
-- the cosocket pool; https through sslhandshake. http.lua calls it from Lua
-- (through pcall, which LuaJIT lets yield), so nothing blocks.

--- The OpenResty cosocket transport (`vzaps.ngx_transport`).
--
-- Inside nginx, libcurl's blocking I/O stalls every connection of the worker
-- for the length of a call. This transport does the HTTP/1.1 exchange on
-- `ngx.socket.tcp` instead, so a call waits like any cosocket call. It needs
-- a context where cosockets work (content, access, rewrite, timer phases);
-- host names need nginx's `resolver` directive, and certificate checks
-- (`ssl_verify`, on by default) need `lua_ssl_trusted_certificate`.
-- @module vzaps.ngx
local import, core = ...
local args = import("args")

local type, pairs, tostring, tonumber, concat, format =
  type, pairs, tostring, tonumber, table.concat, string.format
local min, floor = math.min, math.floor
local argerror = args.argerror
local DEFAULT = import("options").DEFAULT -- a request without timeouts gets vzaps.new's

local M = {}

-- The libcurl transport's cap and wording (src/transport.h).
local MAX_BODY, TOO_LARGE = core.MAX_BODY, core.MAX_BODY_TEXT
-- The caps libcurl puts on a response's header block, so that both
-- transports refuse the same answers: 300 KiB in all (status lines of 1xx
-- answers and chunked trailers included; libcurl's
-- MAX_HTTP_RESP_HEADER_SIZE) and 100 KiB per line (CURL_MAX_HTTP_HEADER).
-- An honest API answer has a few KiB of headers.
local MAX_HEADER_BYTES = 300 * 1024
local MAX_LINE = 100 * 1024
-- Chunk-size lines are read with this cap, and the body's pieces are
-- joined every this many chunks, so that a body of 1-byte chunks does not
-- keep one Lua string per byte.
local CHUNK_LINE = 4096
local FOLD = 1024
-- A request that may be sent twice (a reused keep-alive connection that
-- turned out dead before any answer byte), and whether a request carries
-- a body: src/policy.c's rules.
local SAFE, post_mode = core.SAFE_METHODS, core.post_mode
-- Headers this transport writes itself.
local OWN = { host = true, ["content-length"] = true, ["transfer-encoding"] = true, connection = true }

-- ---------------------------------------------------------------------------
-- URLs
-- ---------------------------------------------------------------------------

-- scheme, host (for connect), port, request target, Host header value
local function parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  scheme = scheme and scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "only http:// and https:// URLs are supported" end
  local authority, target = rest:match("^([^/?#]*)([^#]*)")
  if authority:find("@", 1, true) then return nil, "credentials in the URL are not supported" end
  if target == "" then target = "/" elseif target:byte(1) == 63 then target = "/" .. target end
  local host, port
  if authority:byte(1) == 91 then -- "[v6]:port"
    host, port = authority:match("^(%[[%x:.]+%]):?(%d*)$")
  else
    host, port = authority:match("^([^:]+):?(%d*)$")
  end
  if not host then return nil, "URL without a valid host" end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if port < 1 or port > 65535 then return nil, "URL with an invalid port" end
  return scheme, host, port, target, authority
end

-- ---------------------------------------------------------------------------
-- One exchange on a connected socket
-- ---------------------------------------------------------------------------

local function request_text(req, target, authority)
  local method = req.method
  local out = { method, " ", target, " HTTP/1.1\r\nHost: ", authority, "\r\n" }
  local headers = req.headers
  if type(headers) == "table" then
    for name, value in pairs(headers) do
      name, value = tostring(name), tostring(value)
      -- The mapper checked the caller's headers already; this guards direct
      -- use, with the same rule (src/policy.c).
      local why = core.check_header(name, value)
      if why then return nil, why .. " " .. format("%q", name) end
      if not OWN[name:lower()] and value ~= "" then
        out[#out + 1] = name
        out[#out + 1] = ": "
        out[#out + 1] = value
        out[#out + 1] = "\r\n"
      end
    end
  end
  local body = req.body
  if body ~= nil and type(body) ~= "string" then return nil, "request body must be a string" end
  if post_mode(method, body ~= nil) then
    out[#out + 1] = "Content-Length: " .. #(body or "") .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  if body then out[#out + 1] = body end
  return concat(out)
end

-- A socket whose every operation is bounded by the request's deadline.
local Conn = {}
Conn.__index = Conn

function Conn:budget()
  local left = self.deadline - self.ngx.now()
  if left <= 0 then return nil end
  self.sock:settimeout(floor(left * 1000) + 1)
  return true
end

function Conn:receive(pattern)
  if not self:budget() then return nil, "timeout" end
  local data, err, partial = self.sock:receive(pattern)
  if data and #data > 0 then self.got_bytes = true end
  if partial and #partial > 0 then self.got_bytes = true end
  return data, err, partial
end

-- One line (LF-terminated, CRs dropped as receive("*l") does), reading at
-- most `limit` bytes of it: receive("*l") would buffer a line of any
-- length before handing it over. nil, why on failure.
function Conn:line(limit)
  local reader = self.reader
  if not reader then
    reader = self.sock:receiveuntil("\n")
    self.reader = reader
  end
  local parts, n = {}, 0
  while true do
    if not self:budget() then return nil, "timeout" end
    local data, err = reader(4096)
    if not data then
      if err then return nil, err end
      break -- the LF: the reader starts over at the next call
    end
    if #data > 0 then self.got_bytes = true end
    n = n + #data
    if n > limit then return nil, "response line too long" end
    parts[#parts + 1] = data
  end
  local line = concat(parts)
  if line:find("\r", 1, true) then line = line:gsub("\r", "") end
  return line
end

-- A line of the header block, charged against its byte budget.
function Conn:header_line()
  local left = self.header_left
  local line, err = self:line(min(left, MAX_LINE))
  if not line then
    if err == "response line too long" then
      return nil, left < MAX_LINE and self.header_error or "a response header line is over 100 KiB"
    end
    return nil, err
  end
  self.header_left = left - #line - 2
  if self.header_left < 0 then return nil, self.header_error end
  return line
end

-- The body after the headers; nil, why on failure.
local function read_chunked(c)
  local parts, total = {}, 0
  local done = {} -- joined runs of FOLD pieces
  while true do
    local line, err = c:line(CHUNK_LINE)
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "invalid chunk size line" end
    if size == 0 then break end
    total = total + size
    if total > MAX_BODY then return nil, TOO_LARGE end
    local data
    data, err = c:receive(size)
    if not data then return nil, err end
    parts[#parts + 1] = data
    if #parts == FOLD then
      done[#done + 1] = concat(parts)
      parts = {}
    end
    data, err = c:receive(2)
    if data ~= "\r\n" then return nil, err or "invalid chunk terminator" end
  end
  -- trailers, up to the empty line, within what is left of the header budget
  repeat
    local line, err = c:header_line()
    if not line then return nil, err end
  until line == ""
  done[#done + 1] = concat(parts)
  return concat(done)
end

local function read_until_close(c)
  local parts, total = {}, 0
  while true do
    local data, err, partial = c:receive(65536)
    data = data or partial
    if data and #data > 0 then
      total = total + #data
      if total > MAX_BODY then return nil, TOO_LARGE end
      parts[#parts + 1] = data
    end
    if err == "closed" then return concat(parts) end
    if err then return nil, err end
  end
end

local function read_response(c, method)
  local line, err = c:header_line()
  if not line then return nil, err end
  local res
  while true do
    local major, minor, status, reason = line:match("^HTTP/(%d)%.(%d) (%d%d%d) ?(.*)$")
    if not major then return nil, "invalid status line" end
    -- A repeated header's values are collected, then joined once: joining
    -- as they come is quadratic in their number.
    local headers, many = {}, {}
    while true do
      line, err = c:header_line()
      if not line then return nil, err end
      if line == "" then break end
      local name, value = line:match("^([^:%s]+):%s*(.-)%s*$")
      if not name then return nil, "invalid header line" end
      name = name:lower()
      local prev = headers[name]
      if prev == nil then
        headers[name] = value
      else
        local list = many[name]
        if not list then
          list = { prev }
          many[name] = list
        end
        list[#list + 1] = value
      end
    end
    for name, list in pairs(many) do headers[name] = concat(list, ", ") end
    res = { status = tonumber(status), reason = reason, headers = headers,
            http10 = major == "1" and minor == "0" }
    if res.status >= 200 or res.status < 100 then break end
    -- a 1xx interim answer: the real one follows
    line, err = c:header_line()
    if not line then return nil, err end
  end

  local h, status = res.headers, res.status
  local conn = (h.connection or ""):lower()
  res.keepalive = not conn:find("close", 1, true) and (not res.http10 or conn:find("keep-alive", 1, true) ~= nil)
  if method == "HEAD" or status == 204 or status == 304 then
    res.body = ""
  elseif (h["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
    res.body, err = read_chunked(c)
  elseif h["content-length"] then
    local n = h["content-length"]:match("^%d+$") and tonumber(h["content-length"])
    if not n then return nil, "invalid Content-Length" end
    if n > MAX_BODY then return nil, TOO_LARGE end
    if n == 0 then res.body = "" else res.body, err = c:receive(n) end
  else
    res.keepalive = false
    res.body, err = read_until_close(c)
  end
  if not res.body then return nil, err end
  return res
end

-- ---------------------------------------------------------------------------
-- The transport
-- ---------------------------------------------------------------------------

local function positive(opts, name, default)
  local v = opts[name]
  if v == nil then return default end
  if not core.check_seconds(v) then
    argerror(1, "ngx_transport", name .. " must be a positive number")
  end
  return v
end

local KNOWN = { keepalive_timeout = true, pool_size = true, connect_timeout = true, pool = true,
                max_header_bytes = true }

--- Makes a transport function for `vzaps.new{transport = ...}`.
-- It takes the client's `timeout` (the whole call), `connect_timeout` and
-- `ssl_verify` from each request. Responses with a Content-Length, chunked
-- or read until the connection closes; keep-alive through the cosocket
-- pool; a GET/PUT/DELETE that meets a stale pooled connection is sent once
-- more, a POST/PATCH never.
-- A response whose header block (1xx answers and chunked trailers included)
-- is over `max_header_bytes`, or has a line over 100 KiB, fails with kind
-- `network`, as libcurl refuses it.
-- @tparam[opt] table opts `keepalive_timeout` (seconds, default 60), `pool_size`
--  (default 16), `connect_timeout` (seconds; used when the request has none),
--  `pool` (pool name prefix, default "vzaps"), `max_header_bytes` (default
--  307200, libcurl's 300 KiB; 1024 to 2^26)
-- @treturn function `function(req)` returning `{status, reason, headers, body}`
--  or `nil, message, kind` (`"timeout"`, `"tls"` or `"network"`)
-- @raise outside nginx, or on a bad option
-- @usage local vzaps = require("vzaps")
-- local client = vzaps.new{client_token = tok, client_secret = secret,
--   transport = vzaps.ngx_transport(), sleep = ngx.sleep}
function M.transport(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then argerror(1, "ngx_transport", "options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not KNOWN[k] then argerror(1, "ngx_transport", "unknown option '" .. tostring(k) .. "'") end
  end
  local keepalive_ms = floor(positive(opts, "keepalive_timeout", 60) * 1000)
  local pool_size = positive(opts, "pool_size", 16)
  if pool_size ~= floor(pool_size) then argerror(1, "ngx_transport", "pool_size must be an integer") end
  local default_connect = opts.connect_timeout and positive(opts, "connect_timeout")
  local pool_prefix = opts.pool
  if pool_prefix ~= nil and type(pool_prefix) ~= "string" then
    argerror(1, "ngx_transport", "pool must be a string")
  end
  pool_prefix = pool_prefix or "vzaps"
  local max_header = opts.max_header_bytes or MAX_HEADER_BYTES
  if type(max_header) ~= "number" or max_header ~= floor(max_header) or max_header < 1024 or max_header > MAX_BODY then
    argerror(1, "ngx_transport", "max_header_bytes must be a whole number of bytes from 1024 to 2^26")
  end
  local header_error = format("response headers exceed the %d-byte limit (ngx_transport's max_header_bytes)",
    max_header)

  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.socket) ~= "table" or type(ngx.socket.tcp) ~= "function" then
    args.raise("vzaps: ngx_transport needs OpenResty or lua-nginx-module (ngx.socket.tcp)")
  end
  local tcp, now = ngx.socket.tcp, ngx.now

  -- One attempt on one connection: res, or nil, why, kind, stale, unsent
  -- (stale: a pooled connection the server had closed; unsent: connecting
  -- failed or the budget ran out before a byte of the request left).
  local function attempt(req, url, deadline)
    local scheme, host, port, target, authority = url.scheme, url.host, url.port, url.target, url.authority
    local verify = req.ssl_verify ~= false
    local sock, err = tcp()
    if not sock then return nil, "cannot create a cosocket: " .. tostring(err) end
    local c = setmetatable({ sock = sock, deadline = deadline, ngx = ngx, header_left = max_header,
                             header_error = header_error }, Conn)
    local connect_timeout = req.connect_timeout or default_connect or DEFAULT.connect_timeout
    if deadline - now() <= 0 then return nil, "timeout", "timeout", false, true end
    -- TCP and TLS share the connect budget, as with libcurl's connect timeout
    local connected_by = now() + min(connect_timeout, deadline - now())
    sock:settimeout(floor((connected_by - now()) * 1000) + 1)
    local pool = format("%s:%s:%s:%d:%s", pool_prefix, scheme, host, port, verify and "v" or "nv")
    local ok
    ok, err = sock:connect(host, port, { pool = pool, pool_size = pool_size })
    if not ok then
      return nil, format("connect to %s:%d failed: %s", host, port, tostring(err)),
        tostring(err):find("timeout", 1, true) and "timeout" or "network", false, true
    end
    local reused = (sock:getreusedtimes() or 0) > 0
    if scheme == "https" and not reused then
      local left = connected_by - now()
      if left <= 0 then sock:close() return nil, "timeout", "timeout", false, true end
      sock:settimeout(floor(left * 1000) + 1)
      local sni = host
      if host:byte(1) == 91 then sni = nil end -- no SNI for an IPv6 literal
      local sess
      sess, err = sock:sslhandshake(nil, sni, verify)
      if not sess then
        sock:close()
        if tostring(err):find("timeout", 1, true) then return nil, "TLS handshake timeout", "timeout", false, true end
        return nil, "TLS handshake failed: " .. tostring(err) .. " (check lua_ssl_trusted_certificate, or ssl_verify)",
          "tls", false, true
      end
    end

    local text
    text, err = request_text(req, target, authority)
    if not text then sock:close() return nil, err end
    if not c:budget() then sock:close() return nil, "timeout", "timeout", false, true end
    local sent
    sent, err = sock:send(text)
    local res
    if sent then res, err = read_response(c, req.method) end
    if not res then
      sock:close()
      local kind = tostring(err):find("timeout", 1, true) and "timeout" or "network"
      -- A pooled connection the server had closed: nothing was answered.
      local stale = reused and not c.got_bytes and kind == "network"
      return nil, tostring(err), kind, stale
    end
    if res.keepalive then
      sock:setkeepalive(keepalive_ms, pool_size)
    else
      sock:close()
    end
    return res
  end

  return function(req)
    if type(req) ~= "table" or type(req.method) ~= "string" or type(req.url) ~= "string" then
      return nil, "transport: request table with method and url expected"
    end
    local scheme, host, port, target, authority = parse_url(req.url)
    if not scheme then return nil, "vzaps ngx transport: " .. host end
    local url = { scheme = scheme, host = host, port = port, target = target, authority = authority }
    local timeout = tonumber(req.timeout) or DEFAULT.timeout
    local deadline = now() + timeout
    local res, err, kind, stale, unsent = attempt(req, url, deadline)
    if not res and stale then
      if SAFE[req.method] then
        local _
        res, err, kind, _, unsent = attempt(req, url, deadline)
      else
        err = core.NOT_RESENT_TEXT
      end
    end
    if not res then
      -- nothing sent: http.send may try again, as after libcurl's failed connect
      if unsent then return nil, err, kind or "network", false end
      return nil, err, kind or "network"
    end
    return { status = res.status, reason = res.reason, headers = res.headers, body = res.body }
  end
end

return M
