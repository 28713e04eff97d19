-- spec/reliability/support.lua: shared by the reliability specs (not a spec
-- itself: busted only runs *_spec.lua). An emulator with distinctive
-- credentials, the four request classes, and a collector that keeps every
-- string an error could show so a spec can scan them for secrets.
local emulator = require("spec.support.emulator")
local socket = require("socket")

local M = {}

local function hex(n)
  local t = {}
  for i = 1, n do t[i] = ("%x"):format(math.random(0, 15)) end
  return table.concat(t)
end
math.randomseed(os.time() + math.floor(socket.gettime() * 1000) % 100000)

-- Distinctive credentials: a leak of any of them is a plain substring.
M.CLIENT_TOKEN = "ctok-" .. hex(24)
M.CLIENT_SECRET = "csec-" .. hex(24)
M.PHONE = "5511999990000"

-- Starts an emulator that only accepts M.CLIENT_TOKEN / M.CLIENT_SECRET.
function M.start()
  local emu = emulator.start({ "--client-token", M.CLIENT_TOKEN, "--client-secret", M.CLIENT_SECRET })
  local base_client = emu.client
  function emu:client(opts)
    local o = { client_token = M.CLIENT_TOKEN, client_secret = M.CLIENT_SECRET }
    for k, v in pairs(opts or {}) do o[k] = v end
    return base_client(self, o)
  end
  function emu:new_instance(name)
    local c = self:client()
    local inst = assert(c.instances:create({ name = name or "Reliability" }))
    c:close()
    return inst
  end
  -- Every request of the emulator's log with that method and path.
  function emu:arrivals(method, path) return self:count(method, path) end
  return emu
end

-- The request classes of the fault table: one representative method each.
-- call(handle) makes the call through a client:instance handle.
M.CLASSES = {
  { name = "GET", method = "GET", label = "sessions:status",
    path = function(inst) return "/instances/" .. inst.id .. "/session/status" end,
    call = function(h) return h.sessions:status() end },
  { name = "POST", method = "POST", label = "messages:send_text",
    path = function(inst) return "/instances/" .. inst.id .. "/chat/send/text" end,
    call = function(h) return h.messages:send_text({ phone = M.PHONE, message = "hello" }) end },
  { name = "PUT", method = "PUT", label = "chats:set_expiration",
    path = function(inst) return "/instances/" .. inst.id .. "/chats/" .. M.PHONE .. "/expiration" end,
    call = function(h) return h.chats:set_expiration({ phone = M.PHONE, expiration = "86400" }) end },
  { name = "DELETE", method = "DELETE", label = "queues:purge_messages",
    path = function(inst) return "/instances/" .. inst.id .. "/queue/messages" end,
    call = function(h) return h.queues:purge_messages() end },
}

-- A loopback port with nothing listening on it.
M.closed_port = emulator.free_port

-- ---------------------------------------------------------------------------
-- Secret scanning
-- ---------------------------------------------------------------------------

local Collector = {}
Collector.__index = Collector

-- emulator.fixture with this file's emulator.
function M.fixture(client_opts, ready) return emulator.fixture(client_opts, ready, M.start) end

function M.collector()
  return setmetatable({ strings = {}, secrets = {}, n = 0 }, Collector)
end

function Collector:secret(s)
  if type(s) == "string" and #s >= 4 then self.secrets[s] = true end
end

local function walk(self, v, where, seen, depth)
  local t = type(v)
  if t == "string" then
    self.n = self.n + 1
    self.strings[#self.strings + 1] = { where = where, text = v }
  elseif t == "table" and not seen[v] and depth < 20 then
    seen[v] = true
    local ok, s = pcall(tostring, v)
    if ok and type(s) == "string" then walk(self, s, where .. "<tostring>", seen, depth + 1) end
    for k, x in pairs(v) do
      walk(self, k, where .. "<key>", seen, depth + 1)
      walk(self, x, where .. "." .. tostring(k), seen, depth + 1)
    end
  elseif t ~= "nil" and t ~= "number" and t ~= "boolean" then
    local ok, s = pcall(tostring, v)
    if ok and type(s) == "string" then walk(self, s, where .. "<tostring>", seen, depth + 1) end
  end
end

-- Adds every string reachable from the values (messages, error objects and
-- their fields, raised error values), with tostring of each.
function Collector:add(where, ...)
  for i = 1, select("#", ...) do walk(self, (select(i, ...)), where, {}, 0) end
end

-- The leaks found: {where, secret} for each string holding a secret.
function Collector:leaks()
  local out = {}
  for _, s in ipairs(self.strings) do
    for secret in pairs(self.secrets) do
      if s.text:find(secret, 1, true) then
        out[#out + 1] = s.where .. " holds " .. secret:sub(1, 6) .. "...: " .. s.text:sub(1, 200)
      end
    end
  end
  return out
end

-- Registers the JWTs the emulator saw (Authorization: Bearer ...) and the
-- instance tokens (X-Instance-Token) as secrets.
function Collector:secrets_from(emu)
  for _, r in ipairs(emu:requests()) do
    local auth = r.headers and r.headers.authorization
    if auth then self:secret(auth:match("^Bearer%s+(%S+)")) end
    self:secret(r.headers and r.headers["x-instance-token"])
  end
end

-- Sorted list of the distinct arrivals of the requests of the log.
function M.paths(emu)
  local out = {}
  for _, r in ipairs(emu:requests()) do out[#out + 1] = r.method .. " " .. r.path end
  return out
end

M.emulator = emulator
return M
