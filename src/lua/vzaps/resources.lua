-- resources.lua: the resource objects (`client.instances`, ...) and their
-- methods, one per row of endpoints.lua. A method is a call of the C core
-- (src/direct_call.c), which maps the arguments (src/request.c) and sends
-- the request itself when it can; otherwise it hands back the request
-- object it built, and http.send sends it (token fetch, retries, custom
-- transports, jobs). No rule of the wire is restated here.

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

--- Iterates over the items of a list that pages (`instances`, `groups`,
-- `chats`, `webhooks`: the resources whose list row has `paging` in
-- endpoints.lua; docs/api.md names them), page after page. Takes the list
-- method's request table (`page` is the first page, default 1); each step
-- of the loop answers the next item and the page answer it came from, and
-- requests the next page only when the loop needs it. The loop ends after
-- the last page: `total_pages` or `total` reached, or an empty or short
-- page.
--
-- **A failure raises**, it never ends the loop quietly: the raised value
-- is the `vzaps.Error` of the failed page request (`err.page` is its page
-- number), or one of kind `"paging"` (code `PAGE_REPEATED` when the server
-- answers a page again, `BAD_PAGE` for an answer without its list,
-- `TOO_MANY_PAGES` after 10000 pages). Wrap the loop in `pcall` to get it
-- as a value. Wrong arguments raise `bad argument` at the first step (a
-- bad `page` at once), worded for the list method. After the end, or a
-- failure, the iterator answers nil, or raises the failure again.
-- @function resource:each
-- @tparam[opt] table req the list method's request table
-- @treturn function a generic-for iterator of `item, page`
-- @raise the `vzaps.Error` of a failed page; `bad argument` for wrong arguments
-- @usage for inst in client.instances:each{search = "support", page_size = 100} do print(inst.id) end
-- local ok, err = pcall(function()
--   for chat in client:instance(id, token).chats:each() do print(chat.id) end
-- end)
-- if not ok then print(err.kind, err.page, tostring(err)) end

--- Iterates over the pages of a list that pages, as `resource:each` does
-- (the same arguments, end and failures), one step per page: the page
-- answer as decoded (e.g. `{page, size, total, total_pages, content}` for
-- instances) and its list of items. Never answers an empty page, so an
-- empty list gives no step at all.
-- @function resource:pages
-- @tparam[opt] table req the list method's request table
-- @treturn function a generic-for iterator of `page, items`
-- @raise as `resource:each`
-- @usage for page, items in client.instances:pages{page_size = 100} do print(page.page, #items) end

local import, core = ...
local http = import("http")
local endpoints = import("endpoints")
local state = import("state")
local errors = import("errors")
local args = import("args")

local pairs, ipairs, getmetatable, type, error = pairs, ipairs, getmetatable, type, error
local floor = math.floor
local send = http.send
local argerror, raise = args.argerror, args.raise

local M = {}

-- core.call and core.request answer the 2xx value, or MARK, the client's
-- state, the request object they built and (when C already sent it) the
-- outcome of that first attempt (src/direct_call.c).
local MARK = {}
local call, request, method_maker = core.caller(state.UD, state.SCOPES, MARK, state.PRIV)

-- The method of a row: on Lua 5.3+ a C function (direct_call.c
-- `l_method`) that runs core.call, then `send` on what C did not settle;
-- before 5.3 (no yield across a C call, and jobs yield in send) this Lua
-- closure. Not tail calls: the method's frame stays, so that argument
-- errors point at the caller's line (args.c counts either frame as the
-- module's).
local function method_of(row)
  local route = core.route(row)
  if method_maker then return method_maker(route, send) end
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

-- ---------------------------------------------------------------------------
-- Paging: each and pages of a row with `paging` (endpoints.lua)
-- ---------------------------------------------------------------------------

local metatables = {}
-- A paced client's resources (the `pace` option): the same methods, those
-- of the rows marked `paced` with the pace step first (pace.lua), so an
-- unpaced client's calls pay nothing for it.
local paced_metatables = {}
-- A paced client's st.pace, by resource object (pace.lua reads it there: no
-- look-up of the client's state on a call that neither waits nor fails).
-- Off the object, as scopes are (state.lua): its store may hold the JWT.
-- Weak keys, and st.pace never refers back to the object.
local PACED = setmetatable({}, { __mode = "k" })

-- Stop asking after this many pages: a server that keeps answering new,
-- full pages without a total would otherwise never end the loop.
local MAX_PAGES = 10000

-- Whether two decoded JSON values are equal (a repeated page).
local function same(a, b, depth)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or depth > 32 then return false end
  for k, v in pairs(a) do
    if not same(v, b[k], depth + 1) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- The mapper's bound for whole-number fields (src/request.c, 2^53).
local MAX_WHOLE = core.MAX_WHOLE
local function whole(v) return type(v) == "number" and v >= 0 and v <= MAX_WHOLE and v == floor(v) end

-- The pages of row's list, one request a step: a function answering the
-- next non-empty page and its items, nothing after the last one; raising
-- for a failure (and again on every later step).
local function pager(list, row, name, self, req)
  local pg, op = row.paging, row[1] .. "." .. row[2]
  local P, S, ITEMS = pg.page, pg.size, pg.items
  local mt = getmetatable(self)
  if mt ~= metatables[row[1]] and mt ~= paced_metatables[row[1]] then
    raise(("vzaps: %s.%s is a method: call it with ':' (client.%s:%s{...})"):format(row[1], name, row[1], name))
  end
  if req ~= nil and type(req) ~= "table" then argerror(1, name, "table expected, got " .. type(req)) end
  local base = {}
  for k, v in pairs(req or base) do base[k] = v end
  local page = base[P]
  if page == nil or page == 0 then
    page = 1
  elseif not whole(page) then
    argerror(1, name, "field '" .. P .. "' must be a whole number, 0 or more")
  end
  local first, seen, count, previous, done, failure = page, 0, 0, nil, false, nil
  local function fail(err)
    failure = err
    error(err, 0)
  end
  return function()
    if failure then error(failure, 0) end
    if done then return nil end
    if count >= MAX_PAGES then
      fail(errors.paging("TOO_MANY_PAGES", ("stopped after %d pages"):format(count), page, op))
    end
    local q = {}
    for k, v in pairs(base) do q[k] = v end
    q[P] = page
    count = count + 1
    local res, _, err = list(self, q)
    if res == nil then
      err.page = page
      fail(err)
    end
    local items = type(res) == "table" and res[ITEMS]
    if type(items) ~= "table" then
      fail(errors.paging("BAD_PAGE", ("page %d answered no list at '%s'"):format(page, ITEMS), page, op))
    end
    local n = #items
    if n == 0 then
      done = true
      return nil
    end
    local echoed = res[P]
    if type(echoed) == "number" and echoed ~= page then
      fail(errors.paging("PAGE_REPEATED", ("asked for page %d, the server answered page %s"):format(page,
        tostring(echoed)), page, op))
    end
    if previous and same(previous, items, 0) then
      fail(errors.paging("PAGE_REPEATED", ("page %d has the items of page %d"):format(page, page - 1), page, op))
    end
    previous = items
    seen = seen + n
    local size = res[S]
    if type(size) ~= "number" then size = base[S] end
    if type(size) ~= "number" or size < 1 then size = nil end
    local total, pages = res[pg.total], pg.total_pages and res[pg.total_pages]
    done = (type(pages) == "number" and page >= pages)
      or (type(total) == "number" and ((size ~= nil and page * size >= total) or (first == 1 and seen >= total)))
      or (size ~= nil and n < size)
    page = page + 1
    return res, items
  end
end

local function pages_of(list, row)
  return function(self, req)
    local step = pager(list, row, "pages", self, req)
    return step
  end
end

local function each_of(list, row)
  return function(self, req)
    local step = pager(list, row, "each", self, req)
    local page, items, i = nil, nil, 0
    return function()
      while true do
        if items and i < #items then
          i = i + 1
          return items[i], page
        end
        page, items = step()
        if page == nil then return nil end
        i = 0
      end
    end
  end
end

local by_resource = {}
for _, row in ipairs(endpoints) do
  local methods = by_resource[row[1]]
  if not methods then
    methods = {}
    by_resource[row[1]] = methods
  end
  methods[row[2]] = method_of(row)
  if row.paging then
    assert(not methods.each and not row.args, row[1] .. "." .. row[2] .. ": one table-form paging row per resource")
    methods.each = each_of(methods[row[2]], row)
    methods.pages = pages_of(methods[row[2]], row)
  end
end

local pace
for resource, methods in pairs(by_resource) do
  metatables[resource] = { __index = methods, __name = "vzaps." .. resource }
  local paced = {}
  for name, fn in pairs(methods) do paced[name] = fn end
  paced_metatables[resource] = { __index = paced, __name = "vzaps." .. resource }
end
for _, row in ipairs(endpoints) do
  if row.paced then
    pace = pace or import("pace")
    paced_metatables[row[1]].__index[row[2]] = pace.method(row, by_resource[row[1]][row[2]], PACED, state.SCOPES)
  end
end

-- The resource tables of one client (scope = nil) or of one instance handle
-- (scope = {instance_id, instance_token}).
function M.build(st, scope, into)
  into = into or {}
  local pace_state = st.pace
  for resource, mt in pairs(pace_state and paced_metatables or metatables) do
    local obj = state.object(st, scope, mt)
    if pace_state then PACED[obj] = pace_state end
    into[resource] = obj
  end
  return into
end

return M
