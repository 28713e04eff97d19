-- media.lua: peak memory of sending a large local file as a document, against
-- the file's size (README "Media from local files"). Each run is a fresh
-- process that gets its token first, then sends one send_document to the
-- bench server (bench/nginx.conf.in reads and drops the body) and reports
-- its resident memory before the call and at its peak (VmHWM, reset first
-- through /proc/self/clear_refs where the kernel allows it).
--
--   lua5.4 bench/media.lua BUILD_DIR BASE_URL FILE     all runs; prints MEDIA lines
--   lua5.4 bench/media.lua BUILD_DIR BASE_URL FILE RUN one run: file-c, file-lua, bytes-c, hand
--
-- Runs: vzaps.file sent from C (the usual path), vzaps.file sent by the Lua
-- layer (what retries, custom transports and client:parallel use), the file
-- read into a Lua string first and sent with vzaps.bytes, and for contrast
-- the hand-written way (io.read + LuaSocket's mime.b64 + lua-cjson + LuaSocket).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local build, base, file, run = arg[1], arg[2], arg[3], arg[4]
package.cpath = build .. "/?.so;" .. package.cpath
local common = require("common")

local RUNS = { "file-c", "file-lua", "bytes-c", "hand" }

local file_size = common.file_size

if not run then
  for _, r in ipairs(RUNS) do
    local p = assert(io.popen(string.format("lua5.4 %s %s %s %s %s 2>&1", arg[0], build, base, file, r)))
    local out = p:read("a")
    p:close()
    local line = assert(out:match("MEDIA [^\n]+\n"), "no MEDIA line from run " .. r .. ":\n" .. out)
    io.write(line)
  end
  return
end

-- Resets VmHWM to the current RSS (Linux 4.0+); false when not allowed.
local function reset_peak()
  local f = io.open("/proc/self/clear_refs", "w")
  if not f then return false end
  local ok = f:write("5")
  ok = f:close() and ok
  return ok and true or false
end

local size = file_size(file)
local encoded = 4 * math.ceil(size / 3)
local req = { instance_id = common.INSTANCE_ID, instance_token = common.INSTANCE_TOKEN, phone = common.PHONE,
              caption = "bench" }
local vzaps, client
if run ~= "hand" then
  vzaps = require("vzaps")
  if run == "file-lua" then vzaps._set_direct(false) end
  client = vzaps.new{ base_url = base, client_token = common.CLIENT_TOKEN, client_secret = common.CLIENT_SECRET }
  assert(client.auth:get_access_token())
end
local data
if run == "bytes-c" then
  local f = assert(io.open(file, "rb"))
  data = f:read("a")
  f:close()
end
collectgarbage()
collectgarbage()
local before = common.status_kb("VmRSS")
local reset = reset_peak()
local t0 = common.wall()
if run == "hand" then
  local http, ltn12 = require("socket.http"), require("ltn12")
  local mime, cjson = require("mime"), require("cjson")
  local f = assert(io.open(file, "rb"))
  local raw = f:read("a")
  f:close()
  req.document = "data:application/octet-stream;base64," .. mime.b64(raw)
  raw = nil -- luacheck: ignore 311
  req.file_name = file:match("[^/]*$")
  local body = cjson.encode(req)
  req.document = nil
  local out = {}
  local _, code = http.request{
    url = base .. "/instances/" .. req.instance_id .. "/chat/send/document", method = "POST",
    headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#body) },
    source = ltn12.source.string(body), sink = ltn12.sink.table(out),
  }
  assert(code == 200, "hand-written send failed: " .. tostring(code))
else
  if run == "bytes-c" then
    req.document = assert(vzaps.bytes(data, "application/octet-stream"))
  else
    req.document = assert(vzaps.file(file))
  end
  assert(client.messages:send_document(req))
end
local wall = common.wall() - t0
local peak = common.status_kb("VmHWM")
print(string.format("MEDIA run=%s size=%d encoded=%d before_kb=%d peak_kb=%d wall=%.3f reset=%d", run, size, encoded,
  before, peak, wall, reset and 1 or 0))
