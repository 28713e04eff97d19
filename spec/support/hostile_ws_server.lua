-- spec/support/hostile_ws_server.lua: a hostile realtime server for the
-- flood and echo specs (spec/realtime_flood_spec.lua, spec/events_spec.lua),
-- run as its own process (spec/support/hostile_ws.lua starts it):
--
--   lua5.1 spec/support/hostile_ws_server.lua MODE PORT_FILE LIFETIME
--
-- It listens on 127.0.0.1 (a free port, written to PORT_FILE), answers
-- every WebSocket handshake with a correct 101, then floods the connection
-- without ever reading from it, until the client goes away; it exits after
-- LIFETIME seconds whatever happens. MODE is what it sends, nonstop:
--   pings  ping frames with 125-byte payloads (each one owes the server a
--          pong as big), and a 16 KiB receive buffer: the pongs it never
--          reads fill the connection's buffers sooner than empty ones would
--          (1-2 s with empty pings, over a minute under valgrind)
--   texts  1 MiB text frames, each a JSON event
--   tiny   empty text frames
--   chunks 8 KiB text frames, each a JSON event
--   events JSON events with 1000-byte ids (each one owes the server an ack
--          as long), and a 16 KiB receive buffer like pings
-- or, once, echo: a text frame that is not JSON, 4076 bytes and then the
-- access token of the handshake's query (so a 4096-byte cut falls inside
-- it), then a close frame (code 4000) whose reason holds the instance token.
-- LuaSocket and luaossl (the emulator's Lua 5.1 has both) give the socket
-- and the SHA-1 of Sec-WebSocket-Accept.
local socket = require("socket")
local mime = require("mime")
local digest = require("openssl.digest")

local mode, port_file, lifetime = arg[1], arg[2], tonumber(arg[3]) or 30
local stop_at = socket.gettime() + lifetime
local GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

-- A server frame (unmasked, final) of opcode with payload.
local function frame(opcode, payload)
  local n, head = #payload, string.char(0x80 + opcode)
  if n < 126 then
    head = head .. string.char(n)
  elseif n < 65536 then
    head = head .. string.char(126, math.floor(n / 256), n % 256)
  else
    local bytes = {}
    for i = 8, 1, -1 do
      bytes[i] = n % 256
      n = math.floor(n / 256)
    end
    head = head .. string.char(127) .. string.char(unpack(bytes))
  end
  return head .. payload
end

-- A JSON event of exactly size bytes (id: "evt_flood" by default).
local function event(size, id)
  local prefix, suffix = '{"id":"' .. (id or "evt_flood") .. '","type":"Message","data":{"blob":"', '"}}'
  return prefix .. string.rep("x", size - #prefix - #suffix) .. suffix
end

local chunk -- what one send writes, over and over
if mode == "pings" then
  chunk = string.rep(frame(9, string.rep("p", 125)), 512)
elseif mode == "texts" then
  chunk = frame(1, event(1048576))
elseif mode == "tiny" then
  chunk = string.rep(frame(1, ""), 32768)
elseif mode == "chunks" then
  chunk = string.rep(frame(1, event(8192)), 8)
elseif mode == "events" then
  chunk = string.rep(frame(1, event(1100, "evt_" .. string.rep("e", 996))), 64)
elseif mode ~= "echo" then
  error("unknown mode " .. tostring(mode))
end

local server = assert(socket.tcp())
assert(server:bind("127.0.0.1", 0))
-- Accepted sockets inherit it (set before listen so the window follows).
if mode == "pings" or mode == "events" then assert(server:setoption("recv-buffer-size", 16384)) end
assert(server:listen(8))
local _, port = server:getsockname()
local f = assert(io.open(port_file .. ".tmp", "w"))
f:write(port)
f:close()
os.rename(port_file .. ".tmp", port_file)
server:settimeout(0.2)

-- Reads the request head and answers 101: the request line, or nil when
-- it is not a handshake.
local function handshake(c)
  local key
  local request = c:receive("*l")
  if not request then return nil end
  repeat
    local line = c:receive("*l")
    if not line then return nil end
    local k = line:match("^[Ss]ec%-[Ww]eb[Ss]ocket%-[Kk]ey:%s*(%S+)")
    if k then key = k end
  until line == ""
  if not key then return nil end
  local accept = mime.b64(digest.new("sha1"):final(key .. GUID))
  c:send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
    "Sec-WebSocket-Accept: " .. accept .. "\r\n\r\n")
  return request
end

local function unescape(s) return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end

-- The echo mode: the tokens of the request's query sent back in frames.
local function echo(c, request)
  local q = {}
  for k, v in (request:match("%?(%S*)") or ""):gmatch("([^&=]+)=([^&]*)") do q[k] = unescape(v) end
  c:send(frame(1, string.rep("x", 4076) .. (q.access_token or "")))
  c:send(frame(8, string.char(15, 160) .. "bye " .. (q.instance_token or "")))
  c:settimeout(0.2)
  while socket.gettime() < stop_at do
    local _, err = c:receive(1)
    if err and err ~= "timeout" then return end
  end
end

-- Sends chunk until the client is gone or the lifetime is over.
local function flood(c)
  c:settimeout(0.2)
  local i = 1
  while socket.gettime() < stop_at do
    local last, err, partial = c:send(chunk, i)
    last = last or partial
    if err and err ~= "timeout" then return end
    i = last + 1
    if i > #chunk then i = 1 end
  end
end

while socket.gettime() < stop_at do
  local c = server:accept()
  if c then
    c:settimeout(5)
    local request = handshake(c)
    if request and mode == "echo" then
      echo(c, request)
    elseif request then
      flood(c)
    end
    c:close()
  end
end
