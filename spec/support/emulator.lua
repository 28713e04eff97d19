-- spec/support/emulator.lua: starts the local VZaps emulator (emulator/,
-- Lua 5.1 + lua-http) on a free 127.0.0.1 port for one spec file, and talks
-- to its /__emu/ control routes with LuaSocket, independently of the module
-- under test.
local http = require("socket.http")
local ltn12 = require("ltn12")
local socket = require("socket")
local cjson = require("cjson").new() -- private instance: settings stay ours

local M = {}
M.CLIENT_TOKEN = "emu-client-token"
M.CLIENT_SECRET = "emu-client-secret"

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/support/[^/]+$") or "."

local Emu = {}
Emu.__index = Emu

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- A loopback port with nothing listening on it (for refused connections,
-- or for a server a test starts itself).
function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

-- Starts an emulator; extra CLI arguments may be given as a list.
function M.start(extra_args)
  local port_file = os.tmpname()
  os.remove(port_file)
  local args = {}
  for _, a in ipairs(extra_args or {}) do args[#args + 1] = sh_quote(a) end
  -- LD_PRELOAD is dropped so a sanitizer runtime preloaded into the spec
  -- process does not follow the emulator.
  local cmd = ("env -u LD_PRELOAD lua5.1 %s --port 0 --port-file %s --quiet %s >/dev/null 2>&1 & echo $!")
    :format(sh_quote(ROOT .. "/emulator/main.lua"), sh_quote(port_file), table.concat(args, " "))
  local p = assert(io.popen(cmd))
  local pid = p:read("*l")
  p:close()
  local port
  local deadline = socket.gettime() + 15
  repeat
    local f = io.open(port_file)
    if f then
      port = tonumber(f:read("*a"))
      f:close()
    end
    if not port then socket.sleep(0.02) end
  until port or socket.gettime() > deadline
  os.remove(port_file)
  assert(port, "the emulator did not start")
  -- ws_url: the same server as a client's realtime_url (its WebSocket side)
  return setmetatable({ pid = pid, port = port, url = "http://127.0.0.1:" .. port, ws_url = "ws://127.0.0.1:" .. port },
    Emu)
end

-- The fixture most spec blocks share, registered in the calling describe
-- block: an emulator (start(), default M.start) and a client (client_opts)
-- before the block's tests, then ready(emu, client) to keep them and set up
-- more; both stopped after the tests; the request log cleared before each.
function M.fixture(client_opts, ready, start)
  local busted = require("busted") -- its block functions are not globals here
  local emu, client
  busted.setup(function()
    emu = (start or M.start)()
    client = emu:client(client_opts)
    if ready then ready(emu, client) end
  end)
  busted.teardown(function()
    if client then client:close() end
    if emu then emu:stop() end
  end)
  busted.before_each(function() emu:clear() end)
end

function Emu:stop()
  if self.pid then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    self.pid = nil
  end
end

-- One control call: returns status and the decoded JSON answer (or nil).
function Emu:control(method, path, body)
  local out = {}
  local src = body ~= nil and cjson.encode(body) or nil
  local _, code = http.request({
    url = self.url .. path, method = method, sink = ltn12.sink.table(out),
    source = src and ltn12.source.string(src) or nil,
    headers = src and { ["content-type"] = "application/json", ["content-length"] = tostring(#src) } or nil,
  })
  local text = table.concat(out)
  return code, text ~= "" and cjson.decode(text) or nil
end

-- The requests the emulator received (in order), each
-- {seq, method, path, query, headers = {lowercase = value}, body, json, at}
-- (at: the arrival time in seconds, monotonic).
function Emu:requests()
  local _, res = self:control("GET", "/__emu/requests")
  local list = res and res.requests or {}
  for _, r in ipairs(list) do
    if r.at_us then r.at = tonumber(r.at_us) / 1e6 end
    if r.body and r.body ~= "" then
      local ok, v = pcall(cjson.decode, r.body)
      if ok then r.json = v end
    end
  end
  return list
end

function Emu:last_request()
  local list = self:requests()
  return list[#list]
end

-- Requests other than the token exchange.
function Emu:api_requests()
  local out = {}
  for _, r in ipairs(self:requests()) do
    if r.path ~= "/token" then out[#out + 1] = r end
  end
  return out
end

-- The arrival times (seconds, r.at) of the requests to path, sorted.
function Emu:arrivals(path)
  local at = {}
  for _, r in ipairs(self:requests()) do
    if r.path == path then at[#at + 1] = r.at end
  end
  table.sort(at)
  return at
end

-- The most of the sorted times `at` in any window of `width` seconds (a
-- send budget's check: no window holds more than the budget allows).
function M.densest(at, width)
  local most = 0
  for i = 1, #at do
    local n = 0
    for j = i, #at do
      if at[j] - at[i] > width then break end
      n = n + 1
    end
    if n > most then most = n end
  end
  return most
end

function Emu:count(method, path)
  local n = 0
  for _, r in ipairs(self:requests()) do
    if r.method == method and r.path == path then n = n + 1 end
  end
  return n
end

function Emu:clear() self:control("DELETE", "/__emu/requests") end
function Emu:reset() self:control("POST", "/__emu/reset") end
function Emu:config(t) self:control("POST", "/__emu/config", t) end
function Emu:revoke() self:control("POST", "/__emu/revoke") end

-- Queues a scripted answer: {method, path, times, delay, status, json, body,
-- headers, fault}; see emulator/README.md.
function Emu:script(t)
  local code = self:control("POST", "/__emu/script", t)
  assert(code == 204, "script refused: " .. tostring(code))
end

-- A vzaps client for this emulator; opts override the defaults.
function Emu:client(opts)
  local vzaps = require("vzaps")
  local o = { client_token = M.CLIENT_TOKEN, client_secret = M.CLIENT_SECRET, base_url = self.url }
  for k, v in pairs(opts or {}) do o[k] = v end
  return vzaps.new(o)
end

-- Creates an instance through the control-free API path and returns the
-- emulator's answer (id, token, ...), using a throwaway client.
function Emu:new_instance(name)
  local c = self:client()
  local inst = assert(c.instances:create({ name = name or "Spec instance" }))
  c:close()
  return inst
end

M.json = cjson
return M
