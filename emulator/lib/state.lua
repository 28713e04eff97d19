-- In-memory store shared by every route: config, access tokens, instances
-- (with their sub-resources), the request log and scripted answers.
local cqueues = require("cqueues")
local rand = require("openssl.rand")
local json = require("lib.json")

local M = {}

-- Wall clock with millisecond resolution, anchored once and advanced by the
-- monotonic clock (Lua 5.1 has only whole seconds in os.time()).
local wall0, mono0 = os.time(), cqueues.monotime()

function M.now_ms()
  return math.floor(wall0 * 1000 + (cqueues.monotime() - mono0) * 1000)
end

function M.iso(ms)
  ms = ms or M.now_ms()
  local secs = math.floor(ms / 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. string.format(".%03dZ", ms % 1000)
end

function M.monotime()
  return cqueues.monotime()
end

function M.hex(nbytes)
  local b = rand.bytes(nbytes)
  return (b:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function M.digits(n)
  local b, out = rand.bytes(n), {}
  for i = 1, n do out[i] = tostring(b:byte(i) % 10) end
  return table.concat(out)
end

-- Config -------------------------------------------------------------------
M.defaults = {
  client_token = "emu-client-token",
  client_secret = "emu-client-secret",
  token_ttl = 3600,
  token_style = "snake",
  webhook_timeout = 5,  -- seconds per webhook delivery attempt (lib/webhooks.lua)
  webhook_payload = "envelope",  -- or "bare": what a delivery's body is (lib/webhooks.lua)
}

function M.set_defaults(t)
  for k, v in pairs(t) do M.defaults[k] = v end
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- Access tokens: token -> monotonic expiry. Tokens survive /__emu/reset;
-- /__emu/revoke invalidates all tokens issued so far.
M.tokens = {}
M.revoked = {}

function M.issue_token()
  local tok = "emu." .. M.hex(24)
  M.tokens[tok] = M.monotime() + M.config.token_ttl
  return tok
end

function M.token_valid(tok)
  local exp = tok and M.tokens[tok]
  if not exp or M.revoked[tok] then return false end
  return M.monotime() < exp
end

function M.revoke_all()
  for tok in pairs(M.tokens) do M.revoked[tok] = true end
end

-- Sequence numbers and ids --------------------------------------------------
M.request_id = 0   -- X-Request-Id counter (never reset)

function M.next(name)
  M.counters[name] = (M.counters[name] or 0) + 1
  return M.counters[name]
end

function M.new_instance_id()
  return "VZ" .. M.hex(10):upper()
end

-- Everything below is cleared by reset() -------------------------------------
function M.reset()
  M.config = copy(M.defaults)
  M.revoked = {}
  M.instances = {}      -- id -> instance record
  M.requests = {}       -- recorded requests (bounded)
  M.seq = 0             -- last recorded request seq
  M.scripts = {}        -- queued scripted answers
  M.counters = {}
  M.messages_by_id = {} -- message id -> message (all instances)
  for _, fn in ipairs(M.reset_hooks) do fn() end
end

M.reset_hooks = {}
function M.on_reset(fn) M.reset_hooks[#M.reset_hooks + 1] = fn end

-- Request log --------------------------------------------------------------
M.MAX_REQUESTS = 10000

function M.record(entry)
  M.seq = M.seq + 1
  entry.seq = M.seq
  -- arrival time in whole microseconds (monotonic), as a string: send-rate
  -- specs read it, and a JSON number would be misread by a client whose
  -- C locale has a decimal comma (lua-cjson's strtod takes "1," as 1.0)
  entry.at_us = string.format("%d", math.floor(M.monotime() * 1e6))
  local log = M.requests
  log[#log + 1] = entry
  if #log > M.MAX_REQUESTS then
    table.remove(log, 1)  -- rare; O(n) is fine at this size
  end
  return entry
end

-- Instances ------------------------------------------------------------------
function M.new_instance(fields)
  local now = M.iso()
  local id = M.new_instance_id()
  local inst = {
    id = id,
    name = fields.name,
    token = M.hex(16),
    url = "https://api.vzaps.local/instances/" .. id,
    webhook = fields.webhook or json.null,
    events_subscribe = json.array(fields.events_subscribe or {}),
    status = "disconnected",
    phone = json.null,
    subscription_status = "none",
    created_at = now,
    updated_at = now,
    created_ms = M.now_ms(),
    -- creation sequence: orders instances created in the same millisecond
    -- (the ids are random, so they cannot)
    seq = M.next("instance"),
    -- sub-resources
    session = { pair_phone = nil, push_name = nil },
    messages = {},       -- id -> message
    queue = {},          -- list of queued message ids (in order)
    operations = {},     -- list of operation records
    webhook_events = json.array(),
    webhook_logs = {},   -- list (in order)
    contacts = {},       -- list
    groups = {},         -- id -> group
    group_order = {},
    chats = {},          -- key -> chat
    typebots = {},       -- id -> typebot
    typebot_order = {},
    typebot_sessions = {}, -- id -> session
    typebot_session_order = {},
    chatwoot = nil,
    subscription = nil,
  }
  M.instances[id] = inst
  return inst
end

function M.summary(inst)
  return {
    id = inst.id, name = inst.name, token = inst.token, url = inst.url,
    webhook = inst.webhook, events_subscribe = inst.events_subscribe,
    status = inst.status, phone = inst.phone,
    subscription_status = inst.subscription_status,
    created_at = inst.created_at, updated_at = inst.updated_at,
  }
end

function M.touch(inst)
  inst.updated_at = M.iso()
end

M.reset()
return M
