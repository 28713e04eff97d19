-- resources.lua: one generic call path for every row of endpoints.lua.
-- Arguments are checked (raising), mapped to path, query, headers and body
-- (contract §3), and the request goes through http.send.

--- The resources' endpoint methods: `client.instances:create{...}`,
-- `client.messages:send_text{...}` and every other operation are one row
-- each of the endpoint table, run by one generic call. The full list, with
-- routes and arguments, is [docs/api.md](../api.md) (generated from the same
-- rows by scripts/gen-api.lua).
-- @module vzaps.resources

--- Every endpoint method of every resource (`client.<resource>:<method>`,
-- and the same on a `client:instance(id, token)` handle). Arguments follow
-- the official Go SDK: positional values with an options table last
-- (`instance_token`, `headers`, `timeout`), or one request table whose path
-- and query fields are taken out and whose other fields are the JSON body.
-- Wrong arguments raise `bad argument #n to '<method>' (...)` before
-- anything is sent.
-- @function resource:method
-- @param ... the method's arguments ([docs/api.md](../api.md))
-- @return[1] the decoded JSON answer (`true` for an empty body, the text for a non-JSON 2xx body)
-- @return[2] nil
-- @treturn[2] string message, `vzaps: <what> (status <n>)`
-- @treturn[2] vzaps.Error err with `kind`, `status`, `code`, `details`, ...
-- @usage local inst = assert(client.instances:create{name = "Support"})
-- local ok, msg, err = client.messages:send_text{instance_id = inst.id,
--   instance_token = inst.token, phone = "5511999990000", message = "Hi"}
local import, core = ...
local http = import("http")
local url = import("url")
local endpoints = import("endpoints")

local type, pairs, ipairs, select, next, error, tostring, format =
  type, pairs, ipairs, select, next, error, tostring, string.format
local escape, json_encode, is_open = core.escape, core.json_encode, core.is_open

local M = {}

-- A resource object holds its client (the userdata) and scope under keys
-- only the module holds. The client's Lua state (credentials, token cache)
-- sits in the userdata's user value under PRIV, where no script can iterate
-- to it: pairs() over a resource shows the userdata, never the secrets.
local UD, SCOPE, PRIV = {}, {}, {}
M.UD, M.SCOPE, M.PRIV = UD, SCOPE, PRIV
local state_of = core.state

-- The private state of a client, or of the client a resource belongs to.
function M.state(client) return state_of(client)[PRIV] end
function M.state_of(obj) return state_of(obj[UD])[PRIV] end

-- ---------------------------------------------------------------------------
-- Argument errors: `bad argument #n to 'name' (why)`, with the position of
-- the first caller outside the module (the user's line), however deep in
-- the module the check ran.
-- ---------------------------------------------------------------------------

local getinfo = debug.getinfo

local function caller_position()
  local level = 3
  while true do
    local info = getinfo(level, "Sl")
    if not info then return "" end
    if info.what == "C" then return "" end
    if info.source:sub(1, 7) ~= "@vzaps/" then
      return info.currentline > 0 and (info.short_src .. ":" .. info.currentline .. ": ") or ""
    end
    level = level + 1
  end
end

local function argerror(n, name, why)
  error(caller_position() .. format("bad argument #%d to '%s' (%s)", n, name, why), 0)
end
M.argerror = argerror

-- Any call on a closed client raises (lua-api.md, "Client").
function M.check_open(client)
  if not is_open(client) then error(caller_position() .. "vzaps: client is closed", 0) end
end
local check_open = M.check_open

local HEADER_NAME = "^[%w!#$%%&'*+%.%^_`|~%-]+$"

-- Caller headers: names are HTTP tokens, values carry no CR, LF or NUL
-- (header injection); empty values are skipped (D18).
function M.check_headers(h, n, name)
  if h == nil then return nil end
  if type(h) ~= "table" then argerror(n, name, "headers must be a table") end
  local out
  for k, v in pairs(h) do
    if type(k) ~= "string" or not k:find(HEADER_NAME) then
      argerror(n, name, "invalid header name " .. format("%q", tostring(k)):sub(1, 60))
    end
    if type(v) == "number" then v = url.number_text(v) end
    if type(v) ~= "string" then argerror(n, name, "header '" .. k .. "' must be a string") end
    if v:find("[\r\n%z]") then argerror(n, name, "header '" .. k .. "' contains CR, LF or NUL") end
    if v ~= "" then
      out = out or {}
      out[k] = v
    end
  end
  return out
end

-- A token that goes in a header: non-blank, single line.
function M.check_token(v, n, name, field)
  if type(v) ~= "string" or not v:find("%S") then argerror(n, name, field .. " is required") end
  if v:find("[%c]") then argerror(n, name, field .. " contains control characters") end
  return v
end

-- A path segment value: a non-empty string, or an integer (phone numbers).
local function segment_text(v)
  if type(v) == "string" then return v ~= "" and v or nil end
  if type(v) == "number" and v == math.floor(v) and v > -2^63 and v < 2^63 then return url.number_text(v) end
  return nil
end

local OPTS = { instance_token = true, headers = true, timeout = true }

function M.check_timeout(v, n, name)
  if v ~= nil and (type(v) ~= "number" or not (v > 0) or v > 31536000) then
    argerror(n, name, "timeout must be a positive number of seconds")
  end
  return v
end

-- ---------------------------------------------------------------------------
-- Compiling a row: the path template into pieces, field sets into lookups.
-- ---------------------------------------------------------------------------

local function compile_path(template)
  local pieces, names = {}, {}
  local pos = 1
  for a, name, b in template:gmatch("(){([%w_]+)}()") do
    pieces[#pieces + 1] = template:sub(pos, a - 1)
    pieces[#pieces + 1] = { name = name }
    names[#names + 1] = name
    pos = b
  end
  pieces[#pieces + 1] = template:sub(pos)
  return pieces, names
end

local function set_of(list)
  local s = {}
  for _, k in ipairs(list or {}) do s[k] = true end
  return s
end

local function compile(row)
  local ep = {
    resource = row[1], name = row[2], method = row[3], template = row[4],
    args = row.args, query = row.query, required = row.required, optional = row.optional,
    raw = row.raw, prepare = row.prepare, body_args = row.body_args,
    no_body = row.body == false or row[3] == "GET",
  }
  ep.pieces, ep.path_names = compile_path(row[4])
  ep.scoped = row[4]:find("^/instances/{instance_id}") ~= nil
  if row.without then
    for field, template in pairs(row.without) do
      ep.without_field = field
      ep.without_pieces = compile_path(template)
    end
  end
  -- Fields taken out of a request table before the rest becomes the body.
  ep.taken = set_of(ep.path_names)
  ep.taken.instance_id, ep.taken.instance_token = true, true
  for _, k in ipairs(ep.query or {}) do ep.taken[k] = true end
  if row.lists then ep.list_keys = set_of(row.lists) end
  ep.label = ep.name
  if ep.args then
    -- Argument positions as the caller counts them: on a scoped handle the
    -- instance_id argument is dropped.
    ep.arg_names, ep.arg_names_scoped, ep.pos, ep.pos_scoped = {}, {}, {}, {}
    for _, name in ipairs(ep.args) do
      ep.arg_names[#ep.arg_names + 1] = name
      ep.pos[name] = #ep.arg_names
      if name ~= "instance_id" then
        ep.arg_names_scoped[#ep.arg_names_scoped + 1] = name
        ep.pos_scoped[name] = #ep.arg_names_scoped
      end
    end
  end
  ep.needs_instance_id = ep.scoped or (ep.args ~= nil and ep.pos.instance_id ~= nil)
  ep.static_path = #ep.path_names == 0 and not row.without
  return ep
end

-- ---------------------------------------------------------------------------
-- Mapping the arguments of one call
-- ---------------------------------------------------------------------------

-- Positional form: (instance_id, [phone|path], [body], [opts]) as Go has it.
local function from_positional(ep, scope, ...)
  local names = scope and ep.arg_names_scoped or ep.arg_names
  -- The constructor names the usual fields so the table is created at its
  -- final size (nil entries still size the hash part).
  local f = { pos = scope and ep.pos_scoped or ep.pos, instance_id = nil, instance_token = nil,
              headers = nil, timeout = nil }
  local body
  for n = 1, #names do
    local name, v = names[n], (select(n, ...))
    if name == "body" then
      if v ~= nil and type(v) ~= "table" then argerror(n, ep.label, "table expected for the body, got " .. type(v)) end
      body = v
    elseif name == "opts" then
      if v ~= nil then
        if type(v) ~= "table" then argerror(n, ep.label, "options table expected, got " .. type(v)) end
        for k in pairs(v) do
          if not OPTS[k] then argerror(n, ep.label, "unknown option '" .. tostring(k) .. "'") end
        end
        f.instance_token = v.instance_token
        f.headers = M.check_headers(v.headers, n, ep.label)
        f.timeout = M.check_timeout(v.timeout, n, ep.label)
      end
    else
      f[name] = v
    end
  end
  if scope then
    f.instance_id = scope.instance_id
    if f.instance_token == nil then f.instance_token = scope.instance_token end
  end
  return f, body
end

-- Request-table form: path and query fields out, the rest is the body.
local EMPTY = {}
local function from_table(ep, scope, t)
  if t == nil and (ep.optional or scope) then t = EMPTY end
  if type(t) ~= "table" then argerror(1, ep.label, "table expected, got " .. type(t)) end
  local f = {}
  local taken = ep.taken
  for k in pairs(taken) do f[k] = t[k] end
  if scope then
    if f.instance_id == nil then f.instance_id = scope.instance_id end
    if f.instance_token == nil then f.instance_token = scope.instance_token end
  end
  local body
  for k, v in pairs(t) do
    if not taken[k] then
      if ep.no_body then argerror(1, ep.label, "unexpected field '" .. tostring(k) .. "'") end
      body = body or {}
      body[k] = v
    end
  end
  return f, body
end

-- The argument position of a field: its own for positional methods (the
-- body's for body fields), else the request table's (#1).
local function position(f, name)
  local pos = f.pos
  if not pos then return 1 end
  return pos[name] or pos.body or 1
end

local function field_error(ep, f, name, why)
  argerror(position(f, name), ep.label, ep.args and (name .. " " .. why) or ("field '" .. name .. "' " .. why))
end

local function segment(ep, f, p)
  local text = segment_text(f[p.name])
  if not text then field_error(ep, f, p.name, "is required (a non-empty string)") end
  if p.name == ep.raw then return (text:gsub("^/+", "")) end
  -- "." and ".." are unreserved, so escaping keeps them; as a whole segment
  -- they would be read as dot segments and change the route.
  if text == "." then return "%2E" end
  if text == ".." then return "%2E%2E" end
  return escape(text)
end

local function build_path(ep, f)
  if ep.static_path then return ep.template end
  local pieces = ep.pieces
  -- Typebots.StartSession: an absent or empty typebot_id takes the other path.
  if ep.without_field and (f[ep.without_field] == nil or f[ep.without_field] == "") then
    pieces = ep.without_pieces
  end
  -- One or two segments are the common shapes: one concatenation, no table.
  local n = #pieces
  if n == 3 then return pieces[1] .. segment(ep, f, pieces[2]) .. pieces[3] end
  if n == 5 then
    return pieces[1] .. segment(ep, f, pieces[2]) .. pieces[3] .. segment(ep, f, pieces[4]) .. pieces[5]
  end
  local out = {}
  for i = 1, n do
    local p = pieces[i]
    out[i] = type(p) == "string" and p or segment(ep, f, p)
  end
  return table.concat(out)
end

-- ---------------------------------------------------------------------------
-- The generic call
-- ---------------------------------------------------------------------------

-- first: the outcome of the fast path's attempt (core.call), or nil.
local function invoke(self, ep, first, ...)
  local ud = self[UD]
  check_open(ud)
  local st = state_of(ud)[PRIV]
  local scope = self[SCOPE]
  local f, body
  if ep.args then
    f, body = from_positional(ep, scope, ...)
  else
    f, body = from_table(ep, scope, (...))
  end

  if ep.needs_instance_id and segment_text(f.instance_id) == nil then
    field_error(ep, f, "instance_id", "is required")
  end
  if ep.scoped then
    local tok = f.instance_token
    -- A token seen valid before skips the pattern checks (hot path).
    local valid = st.valid_tokens
    if not (valid and valid[tok]) then
      local n = position(f, "opts")
      if type(tok) ~= "string" or not tok:find("%S") then argerror(n, ep.label, "instance_token is required") end
      if tok:find("%c") then argerror(n, ep.label, "instance_token contains control characters") end
      if not valid or valid.n >= 256 then
        valid = { n = 0 }
        st.valid_tokens = valid
      end
      valid[tok], valid.n = true, valid.n + 1
    end
  end
  local path = build_path(ep, f)

  if ep.body_args then
    body = {}
    for k, name in pairs(ep.body_args) do body[k] = f[name] end
  end
  if ep.required then
    for _, k in ipairs(ep.required) do
      if body == nil or body[k] == nil then field_error(ep, f, k, "is required") end
    end
  end
  if ep.prepare then body = ep.prepare(body or EMPTY, f) end

  local text
  if body ~= nil and next(body) ~= nil then
    local err
    text, err = json_encode(body, ep.list_keys, st.ud)
    if not text then argerror(position(f, "body"), ep.label, err) end
  end

  local query
  if ep.query then
    local q = {}
    for _, k in ipairs(ep.query) do q[k] = f[k] end
    local key, why
    query, key, why = url.query(q)
    if not query then field_error(ep, f, key, "cannot be sent: " .. why) end
  end

  local full -- every template starts with one "/"
  if ep.static_path then
    -- A fixed path has a fixed URL per client: build it once.
    local urls = st.static_urls
    if not urls then
      urls = {}
      st.static_urls = urls
    end
    full = urls[ep]
    if not full then
      full = st.base_url .. path
      urls[ep] = full
    end
  else
    full = st.base_url .. path
  end
  if query and query ~= "" then full = full .. "?" .. query end
  return http.send(st, {
    method = ep.method, path = path, url = full, body = text,
    auth = true, instance_token = f.instance_token, headers = f.headers, timeout = f.timeout,
  }, first)
end

-- ---------------------------------------------------------------------------
-- The fast path (src/call.c): the C form of a row, for the rows whose
-- mapping is plain (no query string, prepare function, alternative path or
-- raw segment). The Lua path above stays the reference for every rule.
-- ---------------------------------------------------------------------------

local MARK = {}
local fast_call = core.caller(UD, SCOPE, MARK)

local function route_of(ep)
  if ep.query or ep.prepare or ep.without_field or ep.raw then return nil end
  local pieces = {}
  for i, p in ipairs(ep.pieces) do pieces[i] = type(p) == "string" and p or p.name end
  local body_args
  if ep.body_args then
    local keys = {}
    for k in pairs(ep.body_args) do keys[#keys + 1] = k end
    table.sort(keys)
    body_args = {}
    for _, k in ipairs(keys) do
      body_args[#body_args + 1] = k
      body_args[#body_args + 1] = ep.body_args[k]
    end
  end
  return core.route{
    method = ep.method, pieces = pieces, args = ep.arg_names, args_scoped = ep.arg_names_scoped,
    required = ep.required, body_args = body_args, lists = ep.list_keys, optional = ep.optional,
    scoped = ep.scoped, needs_instance_id = ep.needs_instance_id, no_body = ep.no_body,
  }
end

-- The method of a row. Not tail calls: the method's frame stays, so that
-- argument errors point at the caller's line.
local function method_of(ep)
  local route = route_of(ep)
  if not route then
    return function(self, ...)
      local a, b, c = invoke(self, ep, nil, ...)
      return a, b, c
    end
  end
  return function(self, ...)
    local a, first = fast_call(self, route, ...)
    if a ~= MARK then return a end
    local b, c
    a, b, c = invoke(self, ep, first, ...)
    return a, b, c
  end
end

-- ---------------------------------------------------------------------------
-- Resource objects
-- ---------------------------------------------------------------------------

local compiled, by_resource = {}, {}
for _, row in ipairs(endpoints) do
  local ep = compile(row)
  compiled[#compiled + 1] = ep
  local methods = by_resource[ep.resource]
  if not methods then
    methods = {}
    by_resource[ep.resource] = methods
  end
  methods[ep.name] = method_of(ep)
end
M.endpoints = compiled

local metatables = {}
for resource, methods in pairs(by_resource) do
  metatables[resource] = { __index = methods, __name = "vzaps." .. resource }
end

-- The resource tables of one client (scope = nil) or of one instance handle
-- (scope = {instance_id, instance_token}).
function M.build(st, scope, into)
  into = into or {}
  for resource, mt in pairs(metatables) do
    into[resource] = setmetatable({ [UD] = st.ud, [SCOPE] = scope }, mt)
  end
  return into
end

function M.names()
  local list = {}
  for resource, methods in pairs(by_resource) do
    for name in pairs(methods) do list[#list + 1] = resource .. "." .. name end
  end
  table.sort(list)
  return list
end

return M
