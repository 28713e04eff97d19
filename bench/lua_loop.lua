-- lua_loop.lua BASE_URL get|send|list WARMUP N
-- The same calls written by hand in Lua 5.4, as a user without the module
-- would: LuaSocket for HTTP/1.1 over one kept-alive connection (Debian's
-- lua-curl is the old luacurl 0.3 for Lua 5.1/5.2, not Lua-cURLv3, and
-- socket.http cannot keep a connection alive), lua-cjson for JSON, and a
-- pass that turns integral floats back into integers (lua-cjson 2.1.0
-- decodes every number as a float on Lua 5.4).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local socket = require("socket")
local cjson = require("cjson")

local base, mode, warmup, n = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
local host, port, prefix = common.split_url(base)
local sock = assert(socket.connect(host, port))
sock:setoption("tcp-nodelay", true)

local function exchange(path, headers, body)
  local req = { "POST " .. prefix .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port }
  for name, value in pairs(headers) do req[#req + 1] = name .. ": " .. value end
  req[#req + 1] = "Content-Length: " .. #body
  assert(sock:send(table.concat(req, "\r\n") .. "\r\n\r\n" .. body))
  local status = tonumber(assert(sock:receive("*l")):match("^HTTP/1%.%d (%d%d%d)"))
  local len
  while true do
    local line = assert(sock:receive("*l"))
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name:lower() == "content-length" then len = tonumber(value) end
  end
  assert(len, "no Content-Length")
  return status, assert(sock:receive(len))
end

-- The integer correction: 1.0 -> 1 everywhere in the decoded tree.
local tointeger, type, pairs = math.tointeger, type, pairs
local function integers(t)
  for k, v in pairs(t) do
    local tv = type(v)
    if tv == "table" then integers(v)
    elseif tv == "number" then
      local i = tointeger(v)
      if i then t[k] = i end
    end
  end
  return t
end

local token
local function call(path, body, instance_token)
  local headers = {
    Accept = "application/json", ["Content-Type"] = "application/json", ["User-Agent"] = "VZaps.SDK.Lua/0.1.0",
  }
  if token then
    headers.Authorization = "Bearer " .. token
    headers["X-Client-Token"] = common.CLIENT_TOKEN
  end
  if instance_token then headers["X-Instance-Token"] = instance_token end
  local status, text = exchange(path, headers, cjson.encode(body))
  assert(status == 200, "status " .. tostring(status))
  local v = cjson.decode(text)
  if type(v) == "table" then integers(v) end
  return v, #text
end

token = call("/token", { client_token = common.CLIENT_TOKEN, client_secret = common.CLIENT_SECRET }).access_token

local calls = {
  get = function()
    local inst, bytes = call("/instances/get", { id = common.INSTANCE_ID })
    assert(inst.id == common.INSTANCE_ID)
    return bytes
  end,
  send = function()
    local res, bytes = call("/instances/" .. common.INSTANCE_ID .. "/chat/send/text",
      { phone = common.PHONE, message = common.MESSAGE }, common.INSTANCE_TOKEN)
    assert(math.type(res.timestamp) == "integer")
    return bytes
  end,
  list = function()
    local page, bytes = call("/instances/list", { page = 1, size = 1000, filter = setmetatable({}, cjson.empty_array_mt) })
    assert(math.type(page.total) == "integer" and #page.content == page.total)
    return bytes
  end,
}
common.run(assert(calls[mode], "unknown mode"), warmup, n)
