-- 12: receive webhooks. A small plain-Lua HTTP server (LuaSocket) on
-- 127.0.0.1 with a vzaps.webhook receiver behind it; an instance whose
-- webhook URL points at it, with the shared key as ?key=; a send_text, whose
-- Message event the platform delivers; the same delivery replayed with
-- webhooks:retry_log, which the receiver recognises by its event id.
--   lua5.4 examples/12-webhook-receiver/main.lua
-- In nginx, hook:ngx() does the server's part: nginx.conf beside this file.
-- The platform must reach the URL: against the local emulator (make demo)
-- that is 127.0.0.1; against the real API, serve the receiver somewhere
-- public (VZAPS_WEBHOOK_URL) and use the nginx.conf instead.
local vzaps = require("vzaps")
local socket = require("socket")
local config = require("config")
local emu = require("emu")

-- A random key the URL carries (keep it with your other secrets).
local function random_key()
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(18) or tostring(os.time()) .. tostring(os.clock()) .. string.rep("k", 18)
  if f then f:close() end
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local KEY = os.getenv("VZAPS_WEBHOOK_KEY") or random_key()

local hook = vzaps.webhook({ key = KEY })
hook:on("Message", function(ev)
  print(("  handler: %s %s for %s at %s"):format(ev.type, ev.id, ev.instance_id, ev.created_at))
end)
hook:on("All", function(ev) print("  All handler saw " .. ev.type) end)

-- One HTTP request on conn: the key from the query, the body by
-- Content-Length, and the receiver's answer (200, 400, 401, 413 or 500).
local function unescape(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
local function serve_one(conn)
  conn:settimeout(10)
  local line = conn:receive("*l")
  if not line then conn:close() return end
  local method, target = line:match("^(%u+) (%S+) HTTP/1%.%d$")
  local headers = {}
  while true do
    local h = conn:receive("*l")
    if not h or h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.-)%s*$")
    if name then headers[name:lower()] = value end
  end
  local body = ""
  local length = tonumber(headers["content-length"] or "0") or 0
  if length > 0 and length <= 4 * 1024 * 1024 then body = conn:receive(length) or "" end
  local key = (target or ""):match("[?&]key=([^&]*)")
  local status, ok, msg, err = 200, hook:check_key(key and unescape(key))
  if ok and method ~= "POST" then status = 405 end
  if ok and status == 200 then ok, msg, err = hook:handle(body, headers) end
  if not ok then
    status = ({ INVALID_DELIVERY = 400, INVALID_KEY = 401, BODY_TOO_LARGE = 413 })[err.code] or 500
    print("  refused (" .. status .. "): " .. msg)
  elseif msg == "duplicate" then
    print("  delivery of an event already handled: answered 200, no handler ran")
  end
  local answer = status == 200 and '{"ok":true}' or '{"ok":false}'
  conn:send(("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(status, status == 200 and "OK" or "Error", #answer, answer))
  conn:close()
end

-- Serves requests until `until_fn()` is true or `seconds` have passed.
local function serve(server, seconds, until_fn)
  local deadline = socket.gettime() + seconds
  while not until_fn() and socket.gettime() < deadline do
    server:settimeout(0.2)
    local conn = server:accept()
    if conn then serve_one(conn) end
  end
end

local client = config.client()
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local url = os.getenv("VZAPS_WEBHOOK_URL") or ("http://127.0.0.1:" .. port .. "/hook")
local created = assert(client.instances:create({
  name = "Webhook receiver demo", webhook = url .. "?key=" .. KEY, events_subscribe = { "Message" },
}))
local inst = client:instance(created.id, created.token)
print("receiver on " .. url .. " (key in the URL: ?key=...)")

assert(inst.messages:send_text({ phone = "5511988887777", message = "Hello, receiver" }))
print("sent a message; waiting for its delivery")

if emu.active() then
  local function delivered(n)
    return function()
      local logs = assert(inst.webhooks:search_logs({ event = "Message" }))
      local log = logs.data[1]
      return log ~= nil and log.attempts >= n and log.status ~= "pending", log
    end
  end
  serve(server, 10, delivered(1))
  local _, log = delivered(1)()
  print(("delivery log %s: %s, HTTP %s"):format(log.id, log.status, tostring(log.response_status)))

  -- The platform may deliver an event again (its retries, or retry_log):
  assert(inst.webhooks:retry_log({ log_id = log.id }))
  print("replayed the delivery with retry_log")
  serve(server, 10, delivered(2))
  _, log = delivered(2)()
  print(("delivery log %s: %s after %d attempts"):format(log.id, log.status, log.attempts))
else
  print("not the local emulator: the platform delivers to " .. url .. ", which must be reachable from it")
  serve(server, 15, function() return false end)
end

server:close()
assert(inst.instances:delete())
client:close()
