-- webhook.lua: vzaps.webhook{...}, a receiver for the platform's webhook
-- deliveries (contract §4.5, §7) with the registration API of a realtime
-- subscription (hook:on(type, fn), "All"; dispatch.lua), a parser that
-- accepts the envelope and the bare `data` payload, a shared key carried in
-- the webhook URL, de-duplication by event id, and hook:ngx(), a complete
-- content handler for OpenResty / lua-nginx-module.

--- Webhook receiver (`vzaps.webhook`).
--
-- The platform POSTs each event the instance subscribed to as JSON to the
-- instance's webhook URL (`client.webhooks:set{webhook_url = ...}`). A
-- receiver parses such a delivery and runs the handlers registered for its
-- event type, like `sub:on` does for realtime events. See README
-- "Receiving webhooks".
-- @module vzaps.webhook
local import, core = ...
local args = import("args")
local errors = import("errors")
local dispatcher = import("dispatch")

local type, pairs, ipairs, tostring, tonumber, setmetatable, rawget =
  type, pairs, ipairs, tostring, tonumber, setmetatable, rawget
local floor = math.floor
local json_decode, json_encode, same_secret = core.json_decode, core.json_encode, core.same_secret
local sha256 = core.sha256
local argerror, raise = args.argerror, args.raise
local is_object = dispatcher.is_object

local M = {}

local DEFAULT_DEDUP = 10000         -- event ids remembered in memory
local DEFAULT_DEDUP_TTL = 86400     -- seconds an id stays in a lua_shared_dict
local PENDING_TTL = 60              -- seconds a delivery being handled holds its id
local DEFAULT_MAX_BODY = 4 * 1024 * 1024
-- A delivery decodes into at most 8 bytes of Lua memory per byte of JSON
-- (plus 1 MiB; the decoder's budget, src/json.h): lists of message objects
-- estimate at 3-6, while 4 MiB of `[{},{},...]` would take over 100 MiB.
local DEFAULT_JSON_BUDGET = 8
local MIN_KEY = 16
local MAX_ID = 128                  -- bytes of an event id remembered as it is

-- What hook:ngx() answers for each outcome.
local STATUS = { INVALID_DELIVERY = 400, INVALID_KEY = 401, BODY_TOO_LARGE = 413, HANDLER_ERROR = 500,
                 STORE_UNAVAILABLE = 503 }

-- ---------------------------------------------------------------------------
-- Errors: kind "webhook"; the key never reaches a message or a log
-- ---------------------------------------------------------------------------

local function secrets(p) return errors.secret_list(p.key) end -- its escaped and encoded forms too

local function failure(p, code, message, extra)
  local fields = { kind = "webhook", code = code, message = message }
  for k, v in pairs(extra or {}) do fields[k] = v end
  return errors.fail(fields, p.key and secrets(p) or {})
end

local function invalid(p, why) return failure(p, "INVALID_DELIVERY", "webhook delivery " .. why) end

-- ---------------------------------------------------------------------------
-- De-duplication by event id: begin(id) is false for an id already handled
-- (or being handled); done(id) remembers it; abort(id) forgets it, so a
-- delivery whose handler raised runs again when the platform retries it.
-- ---------------------------------------------------------------------------

-- What is remembered of an event id: itself up to MAX_ID bytes, else its
-- SHA-256 (a sender chooses the id: a 1 MiB one must not cost 1 MiB per
-- entry, nor 60 KB ones fill a lua_shared_dict and evict legitimate ids).
-- A platform's ids do not start with a NUL byte, so the two never meet.
local function id_key(id)
  if #id <= MAX_ID then return id end
  return "\0sha256:" .. sha256(id)
end

-- In this Lua state: the last n ids handled (a ring), and those in progress.
local function memory_dedup(n)
  local seen, ring, pos = {}, {}, 0
  return {
    begin = function(id)
      if seen[id] ~= nil then return false end
      seen[id] = false
      return true
    end,
    done = function(id)
      if seen[id] == true then return end
      seen[id] = true
      pos = pos % n + 1
      local old = ring[pos]
      if old ~= nil then seen[old] = nil end
      ring[pos] = id
    end,
    abort = function(id) seen[id] = nil end,
  }
end

-- In a lua_shared_dict: every worker of the nginx sees the same ids; the
-- dict's own size bounds them (it evicts the least recently used).
local function dict_dedup(dict, ttl)
  local P = "vzaps.webhook."
  return {
    begin = function(id)
      local ok, err = dict:add(P .. id, 0, PENDING_TTL)
      return ok or err ~= "exists"
    end,
    done = function(id) dict:set(P .. id, 1, ttl) end,
    abort = function(id) dict:delete(P .. id) end,
  }
end

-- In a store (store.lua's claim, keep, release): vzaps.ngx_store,
-- vzaps.redis_store, ... A store that cannot answer makes begin return
-- nil, why: the delivery fails (503), so the platform delivers it again.
local function store_dedup(store, ttl)
  local P = "webhook:"
  return {
    begin = function(id) return store:claim(P .. id, PENDING_TTL) end,
    done = function(id) store:keep(P .. id, ttl) end,
    abort = function(id) store:release(P .. id) end,
  }
end

-- ---------------------------------------------------------------------------
-- Parsing a delivery into the event table the handlers get
-- ---------------------------------------------------------------------------

local ENVELOPE_STRINGS = { "id", "instance_id", "created_at" }

-- The event type names of contract §6.6, by their folded form (lower case,
-- no `_`, `-` or space): a bare payload says "message" or "read_receipt"
-- where a realtime envelope says "Message" or "ReadReceipt".
local EVENT_NAMES = {}
for _, name in ipairs({ "Message", "ReadReceipt", "Presence", "ChatPresence", "HistorySync", "Connected",
                        "Disconnected", "GroupParticipantsAdd", "GroupParticipantsRemove" }) do
  EVENT_NAMES[name:lower()] = name
end

-- The §6.6 name of a bare payload's type whatever its case; a type with no
-- such name is kept as it is.
local function event_name(t)
  return EVENT_NAMES[t:gsub("[_%-%s]", ""):lower()] or t
end

-- The event of a delivery body, or nil, msg, err. The envelope
-- {id, type, instance_id, created_at, data = {...}} (what realtime sends,
-- contract §6.2) is taken as it is; any other object with a `type` is the
-- bare payload (contract §7: "same object as realtime data") and becomes the
-- `data` of an envelope with that type, named as in §6.6.
local function parse(p, body)
  if body == "" then return invalid(p, "is empty") end
  if #body > p.max_body then
    return failure(p, "BODY_TOO_LARGE", "webhook delivery is larger than max_body (" .. p.max_body .. " bytes)")
  end
  local v, why, costly = json_decode(body, p.json_budget)
  if costly then return failure(p, "BODY_TOO_LARGE", "webhook delivery " .. why) end
  if v == nil then return invalid(p, "is not JSON (" .. why .. ")") end
  if not is_object(v) then return invalid(p, "is not a JSON object") end
  local t = v.type
  if type(t) ~= "string" or t == "" then return invalid(p, "has no event type (a non-empty string `type`)") end
  if is_object(v.data) then
    for i = 1, #ENVELOPE_STRINGS do
      local k = ENVELOPE_STRINGS[i]
      local x = v[k]
      if x ~= nil and type(x) ~= "string" then return invalid(p, "field `" .. k .. "` must be a string") end
    end
    return v
  end
  local inst = v.instance_id
  return { type = event_name(t), instance_id = type(inst) == "string" and inst or nil, data = v }
end

-- ---------------------------------------------------------------------------
-- The receiver object
-- ---------------------------------------------------------------------------

-- Each receiver's state, its key included, lives here and not in the
-- receiver table, so a table dumper (inspect, serpent) shows no key.
local PRIV = setmetatable({}, { __mode = "k" })
local methods = {}
local HOOK_MT = {
  __index = methods,
  __name = "vzaps.webhook",
  __tostring = function() return "vzaps.webhook" end,
}

local function priv(self, name)
  local p = PRIV[self]
  if not p then argerror(1, name, "webhook receiver expected (use a colon: hook:" .. name .. "(...))") end
  return p
end

--- Registers `fn(event, headers)` for deliveries of one event type, or of
-- every type with `"All"` (handlers of the type run first, then the `All`
-- ones, in the order registered). `event` is `{id, type, instance_id,
-- created_at, data}`; `headers` the table given to `handle` (in `ngx()`,
-- the request headers). A bare payload's type runs the handlers of its
-- realtime event name whatever its case (`"message"`: `"Message"`).
-- @function hook:on
-- @tparam string event_type e.g. `"Message"`, or `"All"`
-- @tparam function fn
-- @return the receiver, for chaining
-- @usage hook:on("Message", function(ev) print(ev.data.event.text) end)
function methods.on(self, event_type, fn)
  dispatcher.on(priv(self, "on").handlers, event_type, fn)
  return self
end

local function handle(p, body, headers)
  local ev, msg, err = parse(p, body)
  if not ev then return nil, msg, err end
  local id, dedup = ev.id, p.dedup
  if type(id) ~= "string" or id == "" then dedup = nil end
  if dedup then
    id = id_key(id)
    local first, why = dedup.begin(id)
    if first == nil then
      return failure(p, "STORE_UNAVAILABLE", "webhook de-duplication store failed: "
        .. tostring(type(why) == "table" and why.message or why), { event_id = ev.id })
    end
    if not first then return true, "duplicate" end
  end
  local ok, e = dispatcher.run(p.handlers, ev, nil, headers)
  if not ok then
    if dedup then dedup.abort(id) end
    return failure(p, "HANDLER_ERROR", "webhook handler failed: " .. tostring(e),
      { details = e, event_id = ev.id, event_type = ev.type })
  end
  if dedup then dedup.done(id) end
  return true
end

--- Parses one delivery and runs its handlers. Plain Lua: any runtime, any
-- HTTP server. Checks no key (see `hook:check_key`).
-- @function hook:handle
-- @tparam string body the request body
-- @tparam[opt] table headers the request headers, passed to the handlers
-- @return[1] `true` when the handlers ran; `true, "duplicate"` for an event
--  id handled before (no handler ran)
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] vzaps.Error err: `kind` `"webhook"`, `code` `"INVALID_DELIVERY"`
--  or `"BODY_TOO_LARGE"` (no handler ran), or `"HANDLER_ERROR"` (a handler
--  raised: the others still ran; `err.details` is the raised value)
-- @usage local ok, msg = hook:handle(body, headers)
function methods.handle(self, body, headers)
  local p = priv(self, "handle")
  if type(body) ~= "string" then argerror(1, "handle", "string expected, got " .. type(body)) end
  if headers ~= nil and type(headers) ~= "table" then
    argerror(2, "handle", "headers must be a table, got " .. type(headers))
  end
  return handle(p, body, headers)
end

local function check_key(p, given)
  if not p.key then return true end
  if type(given) ~= "string" or given == "" then
    return failure(p, "INVALID_KEY", "webhook key is missing (the URL needs ?key=...)")
  end
  if not same_secret(given, p.key) then return failure(p, "INVALID_KEY", "webhook key is wrong") end
  return true
end

--- Compares `key` (the `key` query argument of the delivery's URL) with the
-- receiver's key, in constant time. For plain-Lua servers; `hook:ngx()` does
-- it itself.
-- @function hook:check_key
-- @tparam string|nil key the value of `?key=`, unescaped
-- @return[1] `true` (also when the receiver was made with `key = false`)
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] vzaps.Error err (`kind` `"webhook"`, `code` `"INVALID_KEY"`)
function methods.check_key(self, key)
  return check_key(priv(self, "check_key"), key)
end

local function ngx_of(name)
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.req) ~= "table" or type(ngx.shared) ~= "table" then
    raise("vzaps: " .. name .. " needs OpenResty or lua-nginx-module")
  end
  return ngx
end

-- The body nginx read, from memory or from its temporary file (a body larger
-- than client_body_buffer_size); nil, too_large.
local function read_body(ngx, max)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local path = ngx.req.get_body_file()
  if not path then return "" end
  local f = io.open(path, "rb")
  if not f then return "" end
  local size = f:seek("end")
  if size > max then f:close() return nil, true end
  f:seek("set")
  body = f:read(size) or ""
  f:close()
  return body
end

-- nginx adds the request line, key included, to whatever is logged from a
-- request (ngx.log and ngx.errlog.raw_log alike): these lines are written
-- from a zero-delay timer, which has no request. A flood that fills the
-- worker's pending timers drops lines, never answers.
local function log(ngx, level, msg)
  ngx.timer.at(0, function() ngx.log(level, msg) end)
end

local function reply(ngx, status, code, message)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  if status == 200 then
    ngx.print('{"ok":true}')
  else
    if status == 405 then ngx.header["Allow"] = "POST" end
    ngx.print(json_encode({ ok = false, code = code, error = message }))
  end
  return status
end

--- A complete content handler: `content_by_lua_block { hook:ngx() }`.
-- Checks the key (`?key=`; 401 when it is missing or wrong, before the body
-- is read), takes POST only (405), reads the body (from nginx's temporary
-- file too), and runs `handle`: 200 when the handlers ran (or the event id
-- was a duplicate), 400 for a malformed delivery, 413 for one over
-- `max_body`, 500 when a handler raised, so that the platform retries it.
-- Failures are logged to the error log, without the key (nginx's own access
-- log and request-line context are the config's: README "Receiving
-- webhooks"). Nothing here blocks the
-- worker; handlers should use cosockets (`vzaps.ngx_transport`) too.
-- @function hook:ngx
-- @treturn integer the status answered
function methods.ngx(self)
  local p = priv(self, "ngx")
  local ngx = ngx_of("hook:ngx()")
  local WARN, ERR = ngx.WARN, ngx.ERR
  if p.key then
    local given = ngx.req.get_uri_args(100).key
    local ok, msg = check_key(p, type(given) == "string" and given or nil)
    if not ok then
      log(ngx, WARN, msg .. " (refused with 401)")
      return reply(ngx, 401, "INVALID_KEY", "webhook key is missing or wrong")
    end
  end
  if ngx.req.get_method() ~= "POST" then return reply(ngx, 405, "METHOD_NOT_ALLOWED", "POST expected") end
  local headers = ngx.req.get_headers(100)
  local length = tonumber(headers["content-length"])
  local body, too_large
  if length and length > p.max_body then
    too_large = true
  else
    body, too_large = read_body(ngx, p.max_body)
  end
  local ok, msg, err
  if too_large then
    ok, msg, err = failure(p, "BODY_TOO_LARGE", "webhook delivery is larger than max_body (" .. p.max_body .. " bytes)")
  else
    ok, msg, err = handle(p, body, headers)
  end
  if ok then return reply(ngx, 200) end
  local status = STATUS[err.code] or 500
  log(ngx, status >= 500 and ERR or WARN, msg .. " (answered " .. status .. ")")
  if status == 500 then return reply(ngx, 500, err.code, "webhook handler failed") end
  return reply(ngx, status, err.code, err.message)
end

-- ---------------------------------------------------------------------------
-- vzaps.webhook{...}
-- ---------------------------------------------------------------------------

local KNOWN = { key = true, dedup = true, dedup_dict = true, dedup_store = true, dedup_ttl = true, max_body = true,
                json_budget = true }

local function bad(why) argerror(1, "webhook", why) end

function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then bad("options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not KNOWN[k] then bad("unknown option '" .. tostring(k) .. "'") end
  end
  local key = opts.key
  if key == nil then bad("key is required: a random string of " .. MIN_KEY .. "+ characters (or key = false)") end
  if key == false then
    key = nil
  elseif type(key) ~= "string" then
    bad("key must be a string or false, got " .. type(key))
  elseif #key < MIN_KEY or #key > 1024 then
    bad("key must be " .. MIN_KEY .. " to 1024 characters long")
  elseif key:find("[%c%s]") then
    bad("key must not contain spaces or control characters")
  end
  local mb = opts.max_body
  if mb == nil then
    mb = DEFAULT_MAX_BODY
  elseif type(mb) ~= "number" or mb ~= floor(mb) or mb < 1 or mb > 2 ^ 31 then
    bad("max_body must be a whole number of bytes from 1 to 2^31")
  end
  local jb = opts.json_budget
  if jb == nil then
    jb = DEFAULT_JSON_BUDGET
  elseif jb ~= false and (type(jb) ~= "number" or jb ~= floor(jb) or jb < 1 or jb > 4096) then
    bad("json_budget must be an integer from 1 to 4096 (bytes of Lua memory per byte of JSON), or false")
  end
  local dedup = opts.dedup
  if dedup == nil then dedup = DEFAULT_DEDUP end
  if dedup ~= false and (type(dedup) ~= "number" or dedup ~= floor(dedup) or dedup < 1 or dedup > 2 ^ 24) then
    bad("dedup must be a number of event ids to remember (1 to 2^24), or false")
  end
  local ttl = opts.dedup_ttl
  if ttl ~= nil then args.check_seconds(ttl, 1, "webhook", "dedup_ttl") end
  local name, store = opts.dedup_dict, nil
  if opts.dedup_store ~= nil then
    if name ~= nil then bad("dedup_store and dedup_dict cannot go together: give one") end
    if dedup == false then bad("dedup = false and dedup_store cannot go together") end
    if not import("store").usable(opts.dedup_store, "dedup") then
      bad("dedup_store must be a store (vzaps.ngx_store, vzaps.redis_store or one with claim, keep and release)")
    end
    store = store_dedup(opts.dedup_store, ttl or DEFAULT_DEDUP_TTL)
  elseif name ~= nil then
    if type(name) ~= "string" then bad("dedup_dict must be the name of a lua_shared_dict") end
    local dict = ngx_of("dedup_dict").shared[name]
    if not dict then bad("no lua_shared_dict named '" .. name .. "' (declare it in nginx.conf)") end
    if dedup == false then bad("dedup = false and dedup_dict cannot go together") end
    store = dict_dedup(dict, ttl or DEFAULT_DEDUP_TTL)
  elseif ttl ~= nil then
    bad("dedup_ttl applies to dedup_dict and dedup_store only")
  elseif dedup then
    store = memory_dedup(dedup)
  end
  local hook = setmetatable({}, HOOK_MT)
  PRIV[hook] = { key = key, max_body = mb, json_budget = jb, dedup = store, handlers = {} }
  return hook
end

return M
