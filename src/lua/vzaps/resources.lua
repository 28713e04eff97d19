-- resources.lua: the resource objects (`client.instances`, ...) and their
-- methods, one per row of endpoints.lua. A method is a call of the C core
-- (src/direct_call.c), which maps the arguments (src/request.c) and sends
-- the request itself when it can; otherwise it hands back the request it
-- built, and http.send sends it (token fetch, retries, custom transports,
-- parallel runs). No rule of the wire is restated here.

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
local endpoints = import("endpoints")
local state = import("state")

local pairs, ipairs, setmetatable = pairs, ipairs, setmetatable
local send = http.send

local M = {}

-- core.call and core.request answer the 2xx value, or MARK, the client's
-- state, the request they built and (when C already sent it) the outcome.
local MARK = {}
local call, request = core.caller(state.UD, state.SCOPE, MARK, state.PRIV)

-- The method of a row. Not tail calls: the method's frame stays, so that
-- argument errors point at the caller's line.
local function method_of(row)
  local route = core.route(row)
  return function(self, ...)
    local a, st, req, first = call(self, route, ...)
    if a ~= MARK then return a end
    local x, y, z = send(st, req, first)
    return x, y, z
  end
end

-- client:request(method, path, opts): the same path for any other call.
function M.request(self, method, path, opts)
  local a, st, req, first = request(self, method, path, opts)
  if a ~= MARK then return a end
  local x, y, z = send(st, req, first)
  return x, y, z
end

local by_resource = {}
for _, row in ipairs(endpoints) do
  local methods = by_resource[row[1]]
  if not methods then
    methods = {}
    by_resource[row[1]] = methods
  end
  methods[row[2]] = method_of(row)
end

local metatables = {}
for resource, methods in pairs(by_resource) do
  metatables[resource] = { __index = methods, __name = "vzaps." .. resource }
end

-- The resource tables of one client (scope = nil) or of one instance handle
-- (scope = {instance_id, instance_token}).
function M.build(st, scope, into)
  into = into or {}
  local UD, SCOPE = state.UD, state.SCOPE
  for resource, mt in pairs(metatables) do
    into[resource] = setmetatable({ [UD] = st.ud, [SCOPE] = scope }, mt)
  end
  return into
end

return M
