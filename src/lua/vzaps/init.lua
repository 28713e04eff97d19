-- init.lua: the public module table returned by require("vzaps")
-- (lua-api.md). The C core (src/*.c) is passed in as `core`.
local import, core = ...
local errors = import("errors")
local options = import("options")
local resources = import("resources")
local http = import("http")
local url = import("url")
local events = import("events")

local type, pairs, setmetatable, getmetatable, tostring =
  type, pairs, setmetatable, getmetatable, tostring
local argerror = resources.argerror

local vzaps = {
  VERSION = core.VERSION,
  _VERSION = core.VERSION,
  null = core.null,
  Error = errors.Error,
  is_error = errors.is_error,
}

local array_mt = core.array_mt

-- Marks t (or a new table) as a JSON array, so that it encodes as [] even
-- when empty. Decoded arrays carry the same mark.
function vzaps.array(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then argerror(1, "array", "table expected, got " .. type(t)) end
  local mt = getmetatable(t)
  if mt ~= nil and mt ~= array_mt then argerror(1, "array", "table already has a metatable") end
  return setmetatable(t, array_mt)
end

-- The module's JSON codec, for scripts that build or read payloads
-- themselves: integers stay integers, null is vzaps.null.
vzaps.json = {
  encode = function(v) return core.json_encode(v) end,
  decode = function(s)
    if type(s) ~= "string" then argerror(1, "decode", "string expected, got " .. type(s)) end
    return core.json_decode(s)
  end,
}

-- ---------------------------------------------------------------------------
-- Clients
-- ---------------------------------------------------------------------------

-- Key of a client's private state inside its user value table; only this
-- file holds it, so scripts cannot reach credentials through the client.
local PRIV = {}
local state_of = core.state
local check_open = resources.check_open

local function state(client)
  return state_of(client)[PRIV]
end

local auth_methods = {}
function auth_methods.get_access_token(self)
  check_open(self.st.ud)
  return http.token(self.st)
end
local AUTH_MT = { __index = auth_methods, __name = "vzaps.auth" }

function vzaps.new(opts)
  local st = options.check(opts)
  local members = {}
  local client = core.new_client(st.base_url, st, members)
  st.ud = client
  resources.build(st, nil, members)
  members.events = events.resource(st, nil)
  members.auth = setmetatable({ st = st }, AUTH_MT)
  members[PRIV] = st
  return client
end

local methods = core.client_methods

local REQUEST_OPTS = {
  query = true, body = true, headers = true, instance_token = true, no_auth = true, timeout = true,
}

-- client:request(method, path, opts): any call, for operations the
-- resources do not wrap (contract §4.13). Same results and errors.
function methods.request(self, method, path, opts)
  check_open(self)
  local st = state(self)
  if type(method) ~= "string" or not method:find("^%a+$") then
    argerror(1, "request", "method must be an HTTP verb such as \"GET\"")
  end
  method = method:upper()
  if type(path) ~= "string" or path == "" then argerror(2, "request", "path must be a non-empty string") end
  if path:find("[%c ]") then argerror(2, "request", "path contains spaces or control characters") end
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then argerror(3, "request", "options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not REQUEST_OPTS[k] then argerror(3, "request", "unknown option '" .. tostring(k) .. "'") end
  end

  local body, b = nil, opts.body
  if b ~= nil then
    if method == "GET" then argerror(3, "request", "a GET request carries no body") end
    if type(b) == "string" then
      body = b
    else
      local err
      body, err = core.json_encode(b)
      if not body then argerror(3, "request", "body: " .. err) end
    end
  end
  local query = ""
  if opts.query ~= nil then
    if type(opts.query) ~= "table" then argerror(3, "request", "query must be a table") end
    local key, why
    query, key, why = url.query(opts.query)
    if not query then argerror(3, "request", "query field '" .. key .. "' cannot be sent: " .. why) end
  end
  local tok = opts.instance_token
  if tok ~= nil then resources.check_token(tok, 3, "request", "instance_token") end
  if opts.no_auth ~= nil and type(opts.no_auth) ~= "boolean" then argerror(3, "request", "no_auth must be a boolean") end
  local bare = path:gsub("^/+", "")
  return http.send(st, {
    method = method, path = "/" .. (bare:gsub("%?.*$", "")), url = url.join(st.base_url, bare, query),
    body = body, auth = not opts.no_auth, instance_token = tok,
    headers = resources.check_headers(opts.headers, 3, "request"),
    timeout = resources.check_timeout(opts.timeout, 3, "request"),
  })
end

-- client:parallel(fns, {concurrency = n}): runs each function as a
-- coroutine; their requests through this client run at the same time.
function methods.parallel(self, fns, opts)
  check_open(self)
  return import("parallel").run(state(self), fns, opts)
end

local INSTANCE_MT = {
  __name = "vzaps.instance",
  __tostring = function(h) return "vzaps.instance (" .. h.instance_id .. ")" end,
}

-- client:instance(id, token): the resources with instance_id and
-- instance_token filled in; shares the client's connection and token.
function methods.instance(self, instance_id, instance_token)
  check_open(self)
  if type(instance_id) ~= "string" or not instance_id:find("%S") then
    argerror(1, "instance", "instance_id must be a non-empty string")
  end
  resources.check_token(instance_token, 2, "instance", "instance_token")
  local scope = { instance_id = instance_id, instance_token = instance_token }
  local handle = resources.build(state(self), scope)
  handle.events = events.resource(state(self), scope)
  handle.instance_id = instance_id
  return setmetatable(handle, INSTANCE_MT)
end

return vzaps
