-- resources.lua: one generic call path for every row of endpoints.lua.
-- Arguments are checked (raising), mapped to path, query, headers and body
-- (contract §3), and the request goes through http.send.
local import, core = ...
local http = import("http")
local url = import("url")
local endpoints = import("endpoints")

local type, pairs, ipairs, select, next, error, tostring, format =
  type, pairs, ipairs, select, next, error, tostring, string.format
local escape, json_encode, is_open = core.escape, core.json_encode, core.is_open

local M = {}

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
    raw = row.raw, prepare = row.prepare, no_body = row.body == false or row[3] == "GET",
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
  return ep
end

-- ---------------------------------------------------------------------------
-- Mapping the arguments of one call
-- ---------------------------------------------------------------------------

-- Positional form: (instance_id, [phone|path], [body], [opts]) as Go has it.
local function from_positional(ep, scope, ...)
  local f, body, n = {}, nil, 0
  for _, name in ipairs(ep.args) do
    if not (scope and name == "instance_id") then
      n = n + 1
      local v = select(n, ...)
      if name == "body" then
        if v ~= nil and type(v) ~= "table" then argerror(n, ep.label, "table expected for the body, got " .. type(v)) end
        body, f.body_arg = v, n
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
        f.opts_arg = n
      else
        f[name] = v
        f[name .. "_arg"] = n
      end
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

local function field_error(ep, f, name, why)
  local n = f[name .. "_arg"] or 1
  argerror(n, ep.label, ep.args and (name .. " " .. why) or ("field '" .. name .. "' " .. why))
end

local function build_path(ep, f)
  local pieces = ep.pieces
  -- Typebots.StartSession: an absent or empty typebot_id takes the other path.
  if ep.without_field and (f[ep.without_field] == nil or f[ep.without_field] == "") then
    pieces = ep.without_pieces
  end
  local out = {}
  for i = 1, #pieces do
    local p = pieces[i]
    if type(p) == "string" then
      out[i] = p
    else
      local text = segment_text(f[p.name])
      if not text then field_error(ep, f, p.name, "is required (a non-empty string)") end
      if p.name == ep.raw then
        out[i] = (text:gsub("^/+", ""))
      else
        out[i] = escape(text)
      end
    end
  end
  return table.concat(out)
end

-- ---------------------------------------------------------------------------
-- The generic call
-- ---------------------------------------------------------------------------

local function invoke(self, ep, ...)
  local st = self.st
  check_open(st.ud)
  local scope = self.scope
  local f, body
  if ep.args then
    f, body = from_positional(ep, scope, ...)
  else
    f, body = from_table(ep, scope, (...))
  end

  if ep.scoped or (ep.args and f.instance_id_arg) then
    if segment_text(f.instance_id) == nil then field_error(ep, f, "instance_id", "is required") end
  end
  if ep.scoped then
    local tok = f.instance_token
    if type(tok) ~= "string" or not tok:find("%S") then
      argerror(f.opts_arg or 1, ep.label, "instance_token is required")
    end
    if tok:find("%c") then argerror(f.opts_arg or 1, ep.label, "instance_token contains control characters") end
  end
  local path = build_path(ep, f)

  if ep.required then
    for _, k in ipairs(ep.required) do
      if body == nil or body[k] == nil then field_error(ep, f, k, "is required") end
    end
  end
  if ep.prepare then body = ep.prepare(body or EMPTY, f) end

  local text
  if body ~= nil and next(body) ~= nil then
    local err
    text, err = json_encode(body, ep.list_keys)
    if not text then argerror(f.body_arg or 1, ep.label, err) end
  end

  local query
  if ep.query then
    local q = {}
    for _, k in ipairs(ep.query) do q[k] = f[k] end
    local key, why
    query, key, why = url.query(q)
    if not query then field_error(ep, f, key, "cannot be sent: " .. why) end
  end

  return http.send(st, {
    method = ep.method, path = path, url = url.join(st.base_url, path, query), body = text,
    auth = true, instance_token = f.instance_token, headers = f.headers, timeout = f.timeout,
  })
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
  -- Not a tail call: keeps the method's frame so argument errors point at
  -- the caller's line.
  methods[ep.name] = function(self, ...)
    local a, b, c = invoke(self, ep, ...)
    return a, b, c
  end
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
    into[resource] = setmetatable({ st = st, scope = scope }, mt)
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
