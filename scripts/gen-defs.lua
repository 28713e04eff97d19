-- scripts/gen-defs.lua: writes the LuaCATS definitions (`---@meta` files the
-- Lua language server reads; README "Editor support") from the endpoint
-- table (src/lua/vzaps/endpoints.lua: methods, request fields, answer
-- shapes) and the options of vzaps.new (src/lua/vzaps/option_table.lua),
-- so that editors know what the module does; spec/docs_spec.lua fails when
-- the files drift from the rows, spec/definitions_spec.lua when a public
-- function has no definition or a definition no function.
--   lua5.4 scripts/gen-defs.lua types        (from the repository root)
-- The surface that is not endpoint rows (module functions, client, jobs,
-- subscriptions, webhook receivers, errors) is the SURFACE table below.
local dir = ...
if not dir then
  io.stderr:write("usage: lua5.4 scripts/gen-defs.lua DIRECTORY\n")
  os.exit(2)
end

local rows = assert(loadfile("src/lua/vzaps/endpoints.lua"))()
local options = assert(loadfile("src/lua/vzaps/option_table.lua"))()

-- ---------------------------------------------------------------------------
-- Types
-- ---------------------------------------------------------------------------

-- Request field types, by field name, where the contract's §4 gives them
-- (or, for enumerations, the row's doc); `any` for every other field.
local MEDIA = "string|vzaps.Media"
local FIELD_TYPE = {
  instance_id = "string", instance_token = "string",
  -- instances (§4.2)
  name = "string", webhook = "string", events_subscribe = "string[]", search = "string", filter = "table",
  sort = "string", sort_desc = "boolean",
  -- messages (§4.4)
  phone = "string", message = "string", caption = "string", ptt = "boolean", file_name = "string",
  image = MEDIA, audio = MEDIA, video = MEDIA, document = MEDIA, sticker = MEDIA, gif = MEDIA,
  jpeg_thumbnail = MEDIA, latitude = "number", longitude = "number", address = "string",
  contact_name = "string", contact_phone = "string", buttons = "{id: string, text: string}[]", footer = "string",
  title = "string", description = "string", button_text = "string",
  sections = "{title: string, rows: {id: string, title: string, description?: string}[]}[]",
  link_url = "string", link_description = "string", options = "string[]", selectable_options_count = "integer",
  hide_participant_names = "boolean", end_time = "string", allow_add_option = "boolean", message_id = "string",
  vote = "any", selected_options = "string[]", poll_sender = "string", from_me = "boolean", reaction = "string",
  state = '"available"|"unavailable"|"composing"|"recording"|"paused"|string', id = "string[]", chat = "string",
  sender = "string", path = "string",
  -- webhooks, contacts (§4.5, §4.6)
  webhook_url = "string", events = "string[]", log_id = "string", first_name = "string", full_name = "string",
  -- groups (§4.7)
  group_id = "string", admin_only_message = "boolean", admin_only_settings = "boolean", delay_message = "integer",
  group_name = "string", group_description = "string", group_image = MEDIA, participants = "string[]",
  reset = "boolean",
  -- typebots (§4.10)
  typebot_id = "string", session = "string", enabled = "boolean", typebot_url = "string", public_id = "string",
  trigger_type = "string", trigger_operator = "string", trigger_value = "string", expire_in_minutes = "integer",
  keyword_finish = "string", default_delay_ms = "integer", unknown_message = "string", listen_from_me = "boolean",
  stop_bot_from_me = "boolean", keep_open = "boolean", debounce_ms = "integer", ignore_groups = "boolean",
  transcribe_audio = "boolean", priority = "integer", push_name = "string",
  -- chatwoot (§4.11)
  url = "string", account_id = "string", token = "string", name_inbox = "string", sign_msg = "boolean",
  sign_delimiter = "string", number = "string", reopen_conversation = "boolean", conversation_pending = "boolean",
  import_contacts = "boolean", import_messages = "boolean", days_limit_import_messages = "integer",
  auto_create = "boolean", organization = "string", logo = "string", ignore_jids = "any", what = "string",
  -- chats (§4.12)
  duration_seconds = "integer", delete_media = "boolean", expiration = "string",
}
-- Where one row's field differs from the name's usual type.
local ROW_FIELD_TYPE = {
  ["users.info.phone"] = "string|string[]", ["users.check.phone"] = "string|string[]",
}

-- The type of one request field of a row: the row's own marks first (ints
-- are whole numbers, lists are arrays), then the contract's, else any.
local function field_type(row, field)
  local t = ROW_FIELD_TYPE[row[1] .. "." .. row[2] .. "." .. field]
  if t then return t end
  if row.ints and row.ints[field] ~= nil then return "integer" end
  t = FIELD_TYPE[field]
  if t then return t end
  for _, l in ipairs(row.lists or {}) do
    if l == field then return "any[]" end
  end
  return "any"
end

-- Option types of option_table.lua as LuaCATS types.
local OPTION_TYPE = {
  secret = "string", url = "string", string = "string", seconds = "number", integer = "integer",
  boolean = "boolean", ["function"] = "function", store = "vzaps.TokenStore", budget = "integer|false",
  table = "table",
}

-- Markdown of the docs as plain text for a one-line comment.
local function oneline(s) return (s:gsub("%s*\n%s*", " ")) end

-- ---------------------------------------------------------------------------
-- Output
-- ---------------------------------------------------------------------------

local files = {}
local out
local function w(s) out[#out + 1] = s or "" end
local function open_file(name, header)
  out = {}
  files[#files + 1] = { name = name, lines = out }
  w(header)
  w("-- Generated by scripts/gen-defs.lua from src/lua/vzaps/endpoints.lua and src/lua/vzaps/option_table.lua")
  w("-- (run `make docs`); do not edit. LuaCATS definitions for the Lua language server: README \"Editor support\".")
  w("-- Definitions only: this file is never loaded, the module is vzaps.so.")
  w("-- luacheck: ignore")
  w()
end

-- A doc comment (one `---` line per line of text).
local function doc(text)
  for line in (text .. "\n"):gmatch("(.-)\n") do w("---" .. line) end
end

-- The failure tuple, after the result.
local function failure_returns(result_type, result_doc)
  local opt = (result_type == "any" or result_type:find("?$")) and "" or "?"
  w(("---@return %s%s result %s; nil on failure"):format(result_type, opt, result_doc))
  w("---@return string? message on failure: `vzaps: <what> (status <n>)`")
  w("---@return vzaps.Error? err on failure: kind, status, code, message, details, ...")
end

-- ---------------------------------------------------------------------------
-- Answer shapes: vzaps.answer.<Name>
-- ---------------------------------------------------------------------------

local function shape_class(s) return "vzaps.answer." .. s.name end

local function shape_type(t)
  if type(t) == "string" then return t end
  if t.name then return shape_class(t) end
  return shape_class(t[1]) .. "[]"
end

local shapes, seen_shape = {}, {}
local function collect(s)
  if type(s) ~= "table" then return end
  if not s.name then return collect(s[1]) end
  if seen_shape[s] then return end
  seen_shape[s] = true
  shapes[#shapes + 1] = s
  for _, f in ipairs(s) do collect(f[2]) end
end
for _, row in ipairs(rows) do collect(row.returns) end

-- The result type of a row: its shape, `true`, or any (no documented shape).
local function result_type(row)
  local r = row.returns
  if r == nil then return "any", "the decoded JSON answer (the platform documents no shape for it)" end
  if type(r) == "string" then return r, "`" .. r .. "` (an empty answer)" end
  return shape_class(r), r.doc
end

-- ---------------------------------------------------------------------------
-- Endpoint rows -> requests and methods
-- ---------------------------------------------------------------------------

local INSTANCE_PREFIX = "^/instances/{instance_id}"

local function path_fields(template)
  local list = {}
  for name in template:gmatch("{([%w_]+)}") do list[#list + 1] = name end
  return list
end

-- The request table of a table-form row: {name, type, required, doc} per
-- field, and whether other keys pass through as the body.
local function request_fields(row, scoped_handle)
  local fields, seen = {}, {}
  local function add(name, required, note)
    if seen[name] then return end
    seen[name] = true
    fields[#fields + 1] = { name = name, type = field_type(row, name), required = required, doc = note }
  end
  local scoped = row[4]:find(INSTANCE_PREFIX) ~= nil
  if scoped then
    local by_handle = scoped_handle and "; filled in by the handle" or ""
    add("instance_id", not scoped_handle, "the instance (a path segment)" .. by_handle)
    add("instance_token", not scoped_handle, "sent as `X-Instance-Token`" .. by_handle)
  end
  local without = row.without and next(row.without)
  for _, p in ipairs(path_fields(row[4])) do
    if p ~= "instance_id" then add(p, p ~= without, "a path segment, never in the body") end
  end
  for _, q in ipairs(row.query or {}) do add(q, false, "query string") end
  for _, r in ipairs(row.required or {}) do add(r, true) end
  for _, f in ipairs(row.fields or {}) do add(f, false) end
  local no_body = row.body == false or row[3] == "GET"
  return fields, not row.fields and not no_body
end

local function class_suffix(row) return row[1] .. "." .. row[2] end

-- Writes the request class of a table-form row; returns its name and
-- whether the table may be left out.
local function request_class(row, scoped_handle)
  local name = (scoped_handle and "vzaps.handle_request." or "vzaps.request.") .. class_suffix(row)
  local fields, open = request_fields(row, scoped_handle)
  local any_required = false
  for _, f in ipairs(fields) do any_required = any_required or f.required end
  w(("---The request table of `%s:%s`%s."):format(row[1], row[2],
    scoped_handle and " on a `client:instance` handle" or ""))
  w("---@class " .. name)
  for _, f in ipairs(fields) do
    w(("---@field %s%s %s%s"):format(f.name, f.required and "" or "?", f.type, f.doc and (" " .. f.doc) or ""))
  end
  if open then w("---@field [string] any every other field is the JSON body, passed through") end
  w()
  -- the mapper takes a missing table on a handle, or for an `optional` row;
  -- either way every required field must then come from elsewhere
  return name, not any_required and (row.optional or scoped_handle) and true or false
end

-- The positional parameters of a row: {name, type, optional, doc}.
local function positional(row, scoped_handle)
  local params = {}
  local scoped = row[4]:find(INSTANCE_PREFIX) ~= nil
  for _, a in ipairs(row.args) do
    if a == "instance_id" then
      if not scoped_handle then
        params[#params + 1] = { "instance_id", "string", false, scoped and "the instance"
          or "the instance (sent in the body; no instance token)" }
      end
    elseif a == "opts" then
      if scoped and not scoped_handle then
        params[#params + 1] = { "opts", "vzaps.InstanceCallOptions", false,
          "`instance_token` (required), `headers`, `timeout`" }
      else
        params[#params + 1] = { "opts", "vzaps.CallOptions", true, "`headers`, `timeout`" }
      end
    elseif a == "body" then
      params[#params + 1] = { "body", "table", true, "the JSON body, passed through; none when nil or empty" }
    elseif a == "phone" then
      params[#params + 1] = { "phone", "string|integer", false, "a path segment" }
    else
      params[#params + 1] = { a, field_type(row, a), false, "" }
    end
  end
  return params
end

-- Every resource, in row order.
local resources, by_resource = {}, {}
for _, row in ipairs(rows) do
  if not by_resource[row[1]] then
    by_resource[row[1]] = {}
    resources[#resources + 1] = row[1]
  end
  table.insert(by_resource[row[1]], row)
end

local function resource_class(res, scoped_handle)
  return (scoped_handle and "vzaps.handle." or "vzaps.resource.") .. res
end

-- The item type of a paging row: the shape of its items list, else any.
local function paging_types(row)
  local r, items = row.returns, "any"
  if type(r) == "table" and r.name then
    for _, f in ipairs(r) do
      if f[1] == row.paging.items and type(f[2]) == "table" and not f[2].name then items = shape_class(f[2][1]) end
    end
    return items, shape_class(r)
  end
  return items, "table"
end

-- The request class of each table-form row: requests[row] = {client class,
-- handle class, optional = {on the client, on a handle}}.
local requests = {}

local function write_method(var, row, scoped_handle)
  local rtype, rdoc = result_type(row)
  doc(("%s\n\n`%s %s` (docs/api.md, `%s.%s`)"):format(row.doc, row[3], (row[4]:gsub("{instance_id}", "{id}")),
    row[1], row[2]))
  local names = {}
  if row.args then
    for _, p in ipairs(positional(row, scoped_handle)) do
      w(("---@param %s%s %s %s"):format(p[1], p[3] and "?" or "", p[2], p[4]))
      names[#names + 1] = p[1]
    end
  else
    local k = scoped_handle and 2 or 1
    w(("---@param req%s %s"):format(requests[row].optional[k] and "?" or "", requests[row][k]))
    names[1] = "req"
  end
  failure_returns(rtype, rdoc)
  w(("function %s:%s(%s) end"):format(var, row[2], table.concat(names, ", ")))
  w()
  if row.paging then
    local list = requests[row]
    local k = scoped_handle and 2 or 1
    local item, page = paging_types(row)
    w(("---The items of `%s:%s`, page after page, for a generic `for` loop: `item, page` a step. Raises a"
      .. " failed"):format(row[1], row[2]))
    w("---page's `vzaps.Error` (with `page`), or one of kind `paging` (README \"Paging\").")
    w(("---@param req%s %s"):format((list.optional[k]) and "?" or "", list[k]))
    w(("---@return fun(): %s, %s"):format(item, page))
    w(("function %s:each(req) end"):format(var))
    w()
    w(("---The pages of `%s:%s`, for a generic `for` loop: `page, items` a step, never an empty page."
      .. " Raises"):format(row[1], row[2]))
    w("---as `each` does.")
    w(("---@param req%s %s"):format((list.optional[k]) and "?" or "", list[k]))
    w(("---@return fun(): %s, %s[]"):format(page, item))
    w(("function %s:pages(req) end"):format(var))
    w()
  end
end

-- ---------------------------------------------------------------------------
-- The surface that is not endpoint rows
-- ---------------------------------------------------------------------------

-- Classes with fields and no methods: {class, doc, {field, type, doc}...}.
local RECORDS = {
  { "vzaps.CallOptions", "The options table positional methods take last.",
    { "instance_token?", "string", "sent as `X-Instance-Token` (required for `/instances/{id}/...` routes)" },
    { "headers?", "table<string, string>", "extra request headers, applied last" },
    { "timeout?", "number", "seconds, this call only" } },
  { "vzaps.InstanceCallOptions: vzaps.CallOptions", "The options of a positional method on an `/instances/{id}/...` route.",
    { "instance_token", "string", "sent as `X-Instance-Token`" } },
  { "vzaps.RequestOptions", "The options of `client:request`.",
    { "query?", "table", "the query string (nil values dropped)" },
    { "body?", "table|string|vzaps.Media", "the JSON body (a string is sent as given)" },
    { "headers?", "table<string, string>", "extra request headers, applied last" },
    { "instance_token?", "string", "sent as `X-Instance-Token`" },
    { "no_auth?", "boolean", "no `Authorization` / `X-Client-Token`, no token fetch" },
    { "timeout?", "number", "seconds, this call only" } },
  { "vzaps.ParallelOptions", "The options of `client:parallel`.",
    { "concurrency?", "integer", "functions of the run at a time, 1 to 256 (default: the client's `concurrency`)" } },
  { "vzaps.SubscribeOptions", "The options of `client.events:subscribe` (docs/realtime.md).",
    { "instance_id?", "string", "required on the client; filled in on a `client:instance` handle" },
    { "instance_token?", "string", "required on the client; filled in on a `client:instance` handle" },
    { "events?", "string|string[]", "event type names, e.g. `{\"Message\", \"Connected\"}`; none: every type" },
    { "reconnect?", "boolean", "reconnect after a drop (default true)" },
    { "max_retries?", "integer", "reconnects in a row before giving up (nil: unlimited)" },
    { "retry_delay?", "number", "seconds of the linear reconnect backoff, 0 to 30 (default 1)" },
    { "last_event_id?", "string", "resume after this event" },
    { "ping_interval?", "number|false", "seconds between pings, or false for none" },
    { "max_queued_bytes?", "integer", "flood limit: bytes of received messages waiting (default 64 MiB)" },
    { "max_queued_messages?", "integer", "flood limit: received messages waiting (default 100000)" },
    { "max_unsent_frames?", "integer", "flood limit: frames (pongs, acks) the server has not read (default 1024)" } },
  { "vzaps.Event", "A realtime event (contract §6.2), as `sub:on` handlers and `sub:poll` get it; webhook handlers get the same shape.",
    { "id?", "string", "the event id (dedupe on it: delivery is at least once)" },
    { "type", "string", "the event type name, e.g. `\"Message\"`" },
    { "instance_id?", "string", "" },
    { "created_at?", "string", "" },
    { "data", "table", "the event's payload" } },
  { "vzaps.WebhookOptions", "The options of `vzaps.webhook`.",
    { "key", "string|false", "16 to 1024 characters the webhook URL carries as `?key=`; false: no key check" },
    { "dedup?", "integer|false", "event ids remembered in this Lua state (default 10000); false: none" },
    { "dedup_dict?", "string", "a `lua_shared_dict` for the ids instead, shared by every nginx worker" },
    { "dedup_ttl?", "number", "seconds an id stays in `dedup_dict` (default 86400)" },
    { "max_body?", "integer", "the largest delivery, in bytes (default 4 MiB)" },
    { "json_budget?", "integer|false", "bytes of Lua memory a delivery may decode into per byte of JSON, plus 1 MiB "
      .. "(default 8); false: no limit" } },
  { "vzaps.NgxTransportOptions", "The options of `vzaps.ngx_transport`.",
    { "keepalive_timeout?", "number", "seconds a pooled connection is kept (default 60)" },
    { "pool_size?", "integer", "connections kept per pool (default 16)" },
    { "connect_timeout?", "number", "seconds (default: the client's)" },
    { "pool?", "string", "pool name prefix (default \"vzaps\")" },
    { "max_header_bytes?", "integer", "the largest response header block (default 307200, libcurl's 300 KiB)" } },
  { "vzaps.Error", "An error object: the third value of every failure (`nil, message, err`); `tostring(err)` is the message.",
    { "kind", "string", "`auth`, `rate_limit`, `http`, `timeout`, `network`, `tls`, `cancelled`, `closed`, `raised`, "
      .. "`paging`, `media`, `webhook`, `realtime`, `decode`, `store`" },
    { "message", "string", "what happened" },
    { "status?", "integer", "the HTTP status" },
    { "code?", "string", "the body's `code`, else e.g. `AUTHENTICATION_FAILED`, `REQUEST_TIMEOUT`, `HTTP_<status>`" },
    { "details?", "any", "the decoded error body (or its text); the raised value for kind `raised`" },
    { "body?", "string", "the raw body, cut to 4 KiB" },
    { "method?", "string", "the request that failed" },
    { "path?", "string", "its path, without the query" },
    { "retry_after?", "number", "seconds, when the server sent `Retry-After`, or until the send budget has a turn" },
    { "instance_id?", "string", "the instance whose send budget refused the call (codes `PACE_*`)" },
    { "request_id?", "string", "the `X-Request-Id` answer header" },
    { "sent?", "boolean", "the request may have been received" },
    { "page?", "integer", "the page an `each` / `pages` loop failed on" },
    { "op?", "string", "the list method of a `paging` error, e.g. `instances.list`" } },
  { "vzaps.Media", "A media value made by `vzaps.file` or `vzaps.bytes`; any media field takes it.",
    { "mime", "string", "the MIME type" },
    { "size", "integer", "bytes" },
    { "name?", "string", "the file's base name" },
    { "path?", "string", "the file" },
    { "source", "\"file\"|\"bytes\"", "" } },
  { "vzaps.TokenStore", "A `token_store` made by `vzaps.ngx_token_store`: the JWT in a `lua_shared_dict`, one for every nginx worker." },
  { "vzaps.Store", "A store (README \"Stores\") made by `vzaps.ngx_store` or `vzaps.redis_store`: send budgets "
    .. "(`pace.store`), webhook de-duplication (`dedup_store`) and the JWT (`token_store`)." },
  { "vzaps.InstanceHandle", "`client:instance(id, token)`: the resources with `instance_id` and `instance_token` filled in.",
    { "instance_id", "string", "" },
    { "events", "vzaps.Events", "realtime events of this instance" } },
}

-- Classes with methods: {class, doc, fields = {...}, methods = {{name,
-- params = {{name, type, doc}}, returns = {{type, name doc}} or
-- failure = {type, doc}, doc}}}. `dot = true`: a function, not a method.
local S = "vzaps"
local SURFACE = {
  { S, "The vzaps module: `local vzaps = require(\"vzaps\")`.", fields = {
      { "VERSION", "string", "the module version, e.g. `\"0.1.0\"`" },
      { "_VERSION", "string", "the same" },
      { "null", "lightuserdata", "JSON null, as decoded and encoded (equal to `cjson.null`)" },
      { "Error", "table", "the metatable of `vzaps.Error` objects" },
      { "json", "vzaps.json", "the module's JSON codec" } },
    methods = {
      { "new", dot = true,
        doc = "Creates a client; a bad option raises `bad argument #1 to 'new' (...)`. Nothing is sent until the first call.",
        params = { { "opts", "vzaps.Options" } }, returns = { { "vzaps.Client" } } },
      { "array", dot = true, doc = "Marks `t` (or a new table) as a JSON array, sent as `[]` even when empty.",
        params = { { "t?", "table" } }, returns = { { "table" } } },
      { "is_error", dot = true, doc = "True when `v` is a `vzaps.Error`.",
        params = { { "v", "any" } }, returns = { { "boolean" } } },
      { "file", dot = true, doc = "A local file to send as media (README \"Media from local files\").",
        params = { { "path", "string" }, { "mime?", "string", "overrides the MIME type the bytes tell" } },
        failure = { "vzaps.Media", "the media value" } },
      { "bytes", dot = true, doc = "Data in memory to send as media, like `vzaps.file`.",
        params = { { "data", "string" }, { "mime?", "string" } }, failure = { "vzaps.Media", "the media value" } },
      { "ngx_transport", dot = true, doc = "A `transport` on OpenResty's cosockets; raises outside nginx.",
        params = { { "opts?", "vzaps.NgxTransportOptions" } }, returns = { { "function" } } },
      { "ngx_token_store", dot = true,
        doc = "A `token_store` keeping the JWT in a `lua_shared_dict` (README \"OpenResty with many workers\").",
        params = { { "dict_name", "string" } }, returns = { { "vzaps.TokenStore" } } },
      { "ngx_store", dot = true,
        doc = "A store in a `lua_shared_dict`, shared by every nginx worker (README \"Stores\").",
        params = { { "dict_name", "string" } }, returns = { { "vzaps.Store" } } },
      { "redis_store", dot = true,
        doc = "A store in Redis, shared by every process of every machine (README \"Many machines (Redis)\").",
        params = { { "opts", "table", "`connect` (required), `release`, `prefix`, `on_error` (`\"fail\"` or `\"local\"`)" } },
        returns = { { "vzaps.Store" } } },
      { "webhook", dot = true, doc = "A webhook receiver (README \"Receiving webhooks\").",
        params = { { "opts", "vzaps.WebhookOptions" } }, returns = { { "vzaps.Webhook" } } },
    } },
  { "vzaps.json", "The module's JSON codec: integers stay integers, `null` is `vzaps.null`.", methods = {
      { "encode", dot = true, doc = "Encodes a value as JSON.", params = { { "v", "any" } },
        returns = { { "string?", "text", "nil when `v` cannot be JSON" }, { "string?", "why", "" } } },
      { "decode", dot = true, doc = "Decodes JSON text.", params = { { "s", "string" } },
        returns = { { "any", "value", "nil when `s` is not JSON" }, { "string?", "why", "" } } },
    } },
  { "vzaps.Client", "A client, made by `vzaps.new`; `tostring(client)` shows the base URL, never a secret.",
    fields = "resources", methods = {
      { "request", doc = "Any API call the resources do not wrap; `path` is relative to `base_url`, not escaped.",
        params = { { "method", "string", "an HTTP verb" }, { "path", "string" }, { "opts?", "vzaps.RequestOptions" } },
        failure = { "any", "the decoded JSON answer (`true` for an empty one)" } },
      { "instance", doc = "A handle whose resources fill in `instance_id` and `instance_token`.",
        params = { { "instance_id", "string" }, { "instance_token", "string" } }, returns = { { "vzaps.InstanceHandle" } } },
      { "parallel", doc = "Runs each function as a coroutine; their requests run at the same time. Returns each "
          .. "function's results, in order, as packed lists; a function that raised gives `{nil, message, err}`.",
        params = { { "fns", "function[]" }, { "opts?", "vzaps.ParallelOptions" } }, returns = { { "table[]" } } },
      { "spawn", doc = "Starts `fn(...)` without waiting for it; `client:pump` advances it.",
        params = { { "fn", "function" }, { "...", "any" } }, returns = { { "vzaps.Job" } } },
      { "pump", doc = "Advances every job, waiting at most `max_wait` seconds (default 0: never waits); returns how many are not finished.",
        params = { { "max_wait?", "number" } }, returns = { { "integer" } } },
      { "pollable", doc = "An object an event loop waits on (cqueues' pollable protocol); `client:pump(0)` is the step.",
        params = {}, returns = { { "vzaps.Pollable" } } },
      { "close", doc = "Releases the connections and ends unfinished jobs (kind `closed`); also `__gc` and `__close`.",
        params = {}, returns = {} },
    } },
  { "vzaps.Auth", "`client.auth`.", methods = {
      { "get_access_token", doc = "The cached JWT, or a fresh one (`POST /token`).", params = {},
        failure = { "string", "the access token" } },
    } },
  { "vzaps.Job", "A call started by `client:spawn`.", methods = {
      { "done", doc = "Whether the job has finished.", params = {}, returns = { { "boolean" } } },
      { "result", doc = "The job's results, as the blocking call returns them; nothing while pending.", params = {},
        returns = { { "any", "..." } } },
      { "cancel", doc = "Cancels the job (kind `cancelled`); false when it had finished.", params = {},
        returns = { { "boolean" } } },
      { "on_done", doc = "Calls `fn` with the job's results when it finishes (at once if it has).",
        params = { { "fn", "fun(...: any)" } }, returns = { { "vzaps.Job" } } },
    } },
  { "vzaps.Pollable", "`client:pollable()`: the client as cqueues' pollable protocol (README \"Inside an event loop\").",
    methods = {
      { "pollfd", doc = "The fd readable when the client's jobs have work, the same on every call (Linux; raises elsewhere).",
        params = {}, returns = { { "integer" } } },
      { "events", doc = "The events to wait for on the fd: `\"r\"`.", params = {}, returns = { { "string" } } },
      { "timeout", doc = "Seconds until the next deadline (0: step now), nil when nothing is in flight.", params = {},
        returns = { { "number?" } } },
    } },
  { "vzaps.Events", "`client.events`: realtime events over WebSocket (docs/realtime.md).", methods = {
      { "subscribe", doc = "Opens the realtime WebSocket; its first failure comes back here.",
        params = { { "opts", "vzaps.SubscribeOptions" } }, failure = { "vzaps.Subscription", "the subscription" } },
    } },
  { "vzaps.Subscription", "A realtime subscription.", fields = {
      { "last_event_id", "string?", "the last event acknowledged" } },
    methods = {
      { "on", doc = "Registers `fn(event)` for one event type, or `\"All\"` for every type.",
        params = { { "event_type", "string" }, { "fn", "fun(event: vzaps.Event)" } }, returns = { { "vzaps.Subscription" } } },
      { "on_open", doc = "Registers `fn` for each (re)connection.", params = { { "fn", "function" } },
        returns = { { "vzaps.Subscription" } } },
      { "on_close", doc = "Registers `fn` for each closed connection.", params = { { "fn", "function" } },
        returns = { { "vzaps.Subscription" } } },
      { "on_error", doc = "Registers `fn(err)` for failures that do not end the subscription.",
        params = { { "fn", "fun(err: vzaps.Error)" } }, returns = { { "vzaps.Subscription" } } },
      { "run", doc = "Dispatches events until `close()` (true) or the end of retries.", params = {},
        failure = { "true", "true after `close()`" } },
      { "poll", doc = "The next event, after the `on` handlers ran for it, or nil when `timeout` seconds pass (no timeout: waits).",
        params = { { "timeout?", "number" } }, failure = { "vzaps.Event", "the event, or nil when the timeout passed" } },
      { "pollable", doc = "The subscription's pollable (cqueues' protocol, the same object every call): a loop waits "
          .. "on its fd and timeout, and calls `sub:poll(0)` as the step.",
        params = {}, returns = { { "vzaps.SubscriptionPollable" } } },
      { "close", doc = "No more reconnects; closes the socket. Harmless twice.", params = {}, returns = { { "true" } } },
    } },
  { "vzaps.SubscriptionPollable", "`sub:pollable()`: what an event loop waits on (Linux: an epoll fd).", methods = {
      { "pollfd", doc = "One file descriptor, the same for the subscription's life, readable when it has work.",
        params = {}, returns = { { "integer" } } },
      { "events", doc = "`\"r\"`: wait for the fd to be readable.", params = {}, returns = { { "string" } } },
      { "timeout", doc = "Seconds to the next deadline (keepalive, reconnect backoff, handshake); nil when idle.",
        params = {}, returns = { { "number?" } } },
    } },
  { "vzaps.Webhook", "A webhook receiver made by `vzaps.webhook`.", methods = {
      { "on", doc = "Registers `fn(event, headers)` for one event type, or `\"All\"` for every type.",
        params = { { "event_type", "string" }, { "fn", "fun(event: vzaps.Event, headers: table?)" } },
        returns = { { "vzaps.Webhook" } } },
      { "handle", doc = "Parses one delivery and runs its handlers: `true`, `true, \"duplicate\"`, or `nil, message, err`.",
        params = { { "body", "string" }, { "headers?", "table" } },
        returns = { { "true?", "ok" }, { "string?", "message", "`\"duplicate\"`, or what went wrong" },
          { "vzaps.Error?", "err" } } },
      { "check_key", doc = "Compares the `?key=` value in constant time.", params = { { "key", "string?" } },
        returns = { { "true?", "ok" }, { "string?", "message" }, { "vzaps.Error?", "err" } } },
      { "ngx", doc = "A complete `content_by_lua*` handler for the current nginx request.", params = {}, returns = {} },
    } },
}

-- ---------------------------------------------------------------------------
-- types/vzaps-resources.lua: answers, requests, resources
-- ---------------------------------------------------------------------------

open_file("vzaps-resources.lua", "---@meta _")
w("-- The answers the platform documents (docs/api.md, \"Answer shapes\").")
w()
for _, s in ipairs(shapes) do
  w("---" .. s.doc:sub(1, 1):upper() .. s.doc:sub(2) .. ".")
  w("---@class " .. shape_class(s))
  for _, f in ipairs(s) do w(("---@field %s %s%s"):format(f[1], shape_type(f[2]), f[3] and (" " .. f[3]) or "")) end
  w("---@field [string] any")
  w()
end

w("-- The request tables of the methods that take one.")
w()
for _, row in ipairs(rows) do
  if not row.args then
    local c, copt = request_class(row, false)
    local h, hopt = c, copt
    if row[4]:find(INSTANCE_PREFIX) then h, hopt = request_class(row, true) end
    requests[row] = { c, h, optional = { copt, hopt } }
  end
end

for _, scoped_handle in ipairs({ false, true }) do
  w(scoped_handle and "-- The resources of a `client:instance(id, token)` handle." or "-- The resources of a client.")
  w()
  for _, res in ipairs(resources) do
    local class = resource_class(res, scoped_handle)
    local var = (scoped_handle and "handle_" or "") .. res
    w(("---`%s.%s`%s (docs/api.md)."):format(scoped_handle and "handle" or "client", res,
      scoped_handle and ": `instance_id` and `instance_token` are filled in" or ""))
    w("---@class " .. class)
    w("local " .. var .. " = {}")
    w()
    for _, row in ipairs(by_resource[res]) do write_method(var, row, scoped_handle) end
  end
end

-- ---------------------------------------------------------------------------
-- types/vzaps.lua: the module, its options, the client and the rest
-- ---------------------------------------------------------------------------

open_file("vzaps.lua", "---@meta")

w("---The options of `vzaps.new` (README \"Client options\").")
w("---@class vzaps.Options")
for _, o in ipairs(options) do
  local required = o[3] == "required"
  w(("---@field %s%s %s %s%s"):format(o[1], required and "" or "?", OPTION_TYPE[o[2]] or "any",
    oneline(o[4]), required and "" or (" (default: " .. o[3] .. ")")))
end
w()

for _, r in ipairs(RECORDS) do
  w("---" .. r[2])
  w("---@class " .. r[1])
  for i = 3, #r do
    local f = r[i]
    w(("---@field %s %s%s"):format(f[1], f[2], f[3] ~= "" and (" " .. f[3]) or ""))
  end
  if r[1] == "vzaps.InstanceHandle" then
    for _, res in ipairs(resources) do w(("---@field %s %s"):format(res, resource_class(res, true))) end
  end
  w()
end

for _, c in ipairs(SURFACE) do
  local var = c[1] == S and "vzaps" or c[1]:gsub("^vzaps%.", ""):gsub("%.", "_")
  w("---" .. c[2])
  w("---@class " .. c[1])
  if c.fields == "resources" then
    w("---@field auth vzaps.Auth")
    w("---@field events vzaps.Events")
    for _, res in ipairs(resources) do w(("---@field %s %s"):format(res, resource_class(res, false))) end
  else
    for _, f in ipairs(c.fields or {}) do w(("---@field %s %s %s"):format(f[1], f[2], f[3])) end
  end
  w("local " .. var .. " = {}")
  w()
  for _, m in ipairs(c.methods) do
    doc(m.doc)
    local names = {}
    for _, p in ipairs(m.params) do
      w(("---@param %s %s%s"):format(p[1], p[2], p[3] and (" " .. p[3]) or ""))
      names[#names + 1] = (p[1]:gsub("%?$", ""))
    end
    if m.failure then
      failure_returns(m.failure[1], m.failure[2])
    else
      for _, r in ipairs(m.returns) do
        w(("---@return %s%s%s"):format(r[1], r[2] and (" " .. r[2]) or "", r[3] and r[3] ~= "" and (" " .. r[3]) or ""))
      end
    end
    w(("function %s%s%s(%s) end"):format(var, m.dot and "." or ":", m[1], table.concat(names, ", ")))
    w()
  end
end
w("return vzaps")

-- ---------------------------------------------------------------------------
-- Writing
-- ---------------------------------------------------------------------------

for _, f in ipairs(files) do
  local h = assert(io.open(dir .. "/" .. f.name, "wb"))
  h:write(table.concat(f.lines, "\n"), "\n")
  h:close()
end
