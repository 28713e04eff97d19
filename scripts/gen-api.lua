-- scripts/gen-api.lua: writes the API reference (docs/api.md) from the
-- endpoint table itself (src/lua/vzaps/endpoints.lua) and the options of
-- vzaps.new from src/lua/vzaps/option_table.lua, so the docs cannot drift;
-- spec/docs_spec.lua fails when they do, or when a row has no `doc`.
--   lua5.4 scripts/gen-api.lua docs/api.md      (from the repository root)
--   lua5.4 scripts/gen-api.lua -                (to stdout)
--   lua5.4 scripts/gen-api.lua --index          (the README's API index block, to stdout)
--   lua5.4 scripts/gen-api.lua --options        (the README's client options block, to stdout)
--   lua5.4 scripts/gen-api.lua docs/api.md README.md   (also rewrites both blocks in README.md)
local out_path, readme_path = ...
if not out_path then
  io.stderr:write("usage: lua5.4 scripts/gen-api.lua OUTPUT.md|-|--index|--options [README.md]\n")
  os.exit(2)
end

local rows = assert(loadfile("src/lua/vzaps/endpoints.lua"))()
local options = assert(loadfile("src/lua/vzaps/option_table.lua"))()

-- The option table in Markdown: { name, type, default, doc } per row. The
-- types "secret" (a required credential) and "url" are strings to the caller.
local OPTION_TYPE = { secret = "string", url = "string", budget = "integer or `false`" }
local function option_lines()
  local lines = { "| option | type | default | meaning |", "|---|---|---|---|" }
  for _, o in ipairs(options) do
    lines[#lines + 1] = ("| `%s` | %s | %s | %s |"):format(o[1], OPTION_TYPE[o[2]] or o[2], o[3], o[4])
  end
  return lines
end

local RESOURCES = {
  { "instances", "Instances and billing", "§4.2" },
  { "sessions", "Sessions", "§4.3" },
  { "messages", "Messages", "§4.4" },
  { "webhooks", "Webhooks", "§4.5" },
  { "contacts", "Contacts", "§4.6" },
  { "groups", "Groups", "§4.7" },
  { "users", "Users", "§4.8" },
  { "queues", "Queues", "§4.9" },
  { "typebots", "Typebots", "§4.10" },
  { "chatwoot", "Chatwoot", "§4.11" },
  { "chats", "Chats", "§4.12" },
}

-- The calls that are not endpoint rows, kept by hand:
-- {name, signature, returns, doc, example, [more lines after the doc]}
local HAND = {
  { "vzaps.new", "vzaps.new(opts)", "a client",
    "Creates a client. `opts` takes the options below (from `src/lua/vzaps/option_table.lua`); a wrong type, a "
      .. "blank credential or an unknown option name raises `bad argument #1 to 'new' (...)`. Times are in seconds "
      .. "(fractions allowed). Nothing is sent until the first call.",
    'local client <close> = vzaps.new{client_token = os.getenv("VZAPS_CLIENT_TOKEN"), client_secret = os.getenv("VZAPS_CLIENT_SECRET")}',
    option_lines() },
  { "vzaps.array", "vzaps.array([t])", "`t` (or a new table)",
    "Marks a table as a JSON array, so that it is sent as `[]` even when empty.",
    "client.webhooks:set{instance_id = id, instance_token = token, webhook_url = url, events = vzaps.array()}" },
  { "vzaps.is_error", "vzaps.is_error(v)", "boolean",
    "True when `v` is an error object of this module (the third value of a failure tuple).",
    "local res, msg, err = client.instances:get(id); if vzaps.is_error(err) then print(err.kind, err.status) end" },
  { "vzaps.null", "vzaps.null", "a sentinel value",
    "JSON `null`, as decoded (and encoded) by the module.",
    "if inst.webhook == vzaps.null then print(\"no webhook\") end" },
  { "vzaps.json", "vzaps.json.encode(v) / vzaps.json.decode(s)", "text / value (nil, message on failure)",
    "The module's JSON codec: integers stay integers, `null` is `vzaps.null`.",
    'print(vzaps.json.encode({id = vzaps.array({"3EB0..."})}))' },
  { "vzaps.file", "vzaps.file(path, [mime])", "a media value, or nil, message, err",
    "A local file for any media field (`image`, `audio`, `video`, `document`, `sticker`, `gif`, `jpeg_thumbnail`) "
      .. "or `client:request` body, sent as `\"data:<mime>;base64,...\"`, read in C straight into the request body. "
      .. "The MIME type comes from the magic bytes, then the extension; `mime` overrides both. `send_document` without "
      .. "`file_name` sends the file's base name. A file that cannot be read, a directory, an empty file or one above "
      .. "100 MiB gives `nil, msg, err` (kind `\"media\"`); see README \"Media from local files\".",
    'client.messages:send_image{instance_id = id, instance_token = token, phone = "5511999999999", '
      .. 'image = assert(vzaps.file("photo.jpg"))}' },
  { "vzaps.bytes", "vzaps.bytes(data, mime)", "a media value, or nil, message, err",
    "Data in memory for a media field, like `vzaps.file`; without `mime` the magic bytes tell the type.",
    'local voice = assert(vzaps.bytes(recording, "audio/ogg; codecs=opus"))' },
  { "auth.get_access_token", "client.auth:get_access_token()", "the JWT string",
    "The cached access token, fetched (`POST /token`) when missing or about to expire.",
    "local jwt = assert(client.auth:get_access_token())" },
  { "client:request", "client:request(method, path, [opts])", "the decoded JSON answer",
    "Any call the resources do not wrap. `path` is relative to `base_url` and not escaped; "
      .. "`opts = {query = table, body = table|string, headers = table, instance_token = string, no_auth = boolean, "
      .. "timeout = seconds}`.",
    'local inst = assert(client:request("POST", "/instances/get", {body = {id = id}}))' },
  { "client:instance", "client:instance(instance_id, instance_token)", "a scoped handle",
    "The resources with `instance_id` and `instance_token` filled in: request tables may leave both out, and "
      .. "positional methods drop their `instance_id` argument. Shares the client's connections and token.",
    'client:instance(id, token).messages:send_text{phone = "5511999999999", message = "Hi"}' },
  { "client:parallel", "client:parallel(fns, {concurrency = n})", "a list of each function's results",
    "Runs each function of `fns` as a coroutine; the requests they make through this client run at the "
      .. "same time, up to `concurrency` transfers over one pool of connections. Returns, in order, a table "
      .. "of each function's return values; a function that raised gives `{nil, message, err}`.",
    "local results = client:parallel({function() return client.instances:list() end})" },
  { "client:spawn", "client:spawn(fn, ...)", "a job",
    "Starts `fn(...)` (any calls of this client) without waiting for it; `client:pump` advances it. "
      .. "The job has `done()`, `result()` (the blocking call's results; nothing while pending), `cancel()` and "
      .. "`on_done(fn)`. See README \"Calls that never stall a frame loop\".",
    "local job = client:spawn(function() return client.instances:get(id) end)" },
  { "client:pump", "client:pump([max_wait])", "the number of jobs not finished",
    "Advances every started job, waiting at most `max_wait` seconds (default 0: never waits).",
    "while client:pump(0.005) > 0 do end" },
  { "events.subscribe", "client.events:subscribe{instance_id=, instance_token=, events=, reconnect=, "
      .. "max_retries=, retry_delay=, last_event_id=, ping_interval=, max_queued_bytes=, max_queued_messages=, "
      .. "max_unsent_frames=}", "a subscription, or nil, message, err",
    "Opens the realtime WebSocket (`{realtime_url}/events/ws`). The subscription has `on(type, fn)`, "
      .. "`on(\"All\", fn)`, `on_open`, `on_close`, `on_error`, `run()`, `poll(timeout)` (which runs the `on` "
      .. "handlers of the event it returns), `close()` and `last_event_id`; the `max_*` options are its flood "
      .. "limits. See docs/realtime.md.",
    'local sub = assert(client.events:subscribe{instance_id = id, instance_token = token, events = {"Message"}})' },
  { "vzaps.webhook", "vzaps.webhook{key=, dedup=, dedup_dict=, dedup_ttl=, max_body=}", "a webhook receiver",
    "A webhook receiver with the registration API of a realtime subscription. Its methods: "
      .. "`hook:on(type, fn)` (`fn(event, headers)`; `\"All\"` for every type, after the type's own handlers), "
      .. "`hook:handle(body [, headers])` (plain Lua: `true`, `true, \"duplicate\"` or `nil, message, err` with "
      .. "`err.kind` `\"webhook\"` and `err.code` `INVALID_DELIVERY`, `BODY_TOO_LARGE` or `HANDLER_ERROR`), "
      .. "`hook:check_key(key)` (constant time; `INVALID_KEY`) and `hook:ngx()`, a complete `content_by_lua*` "
      .. "handler (200, 400, 401, 405, 413, 500). Takes the realtime envelope and the bare `data` payload; see "
      .. "README \"Receiving webhooks\".",
    'local hook = vzaps.webhook{key = os.getenv("VZAPS_WEBHOOK_KEY")}; hook:on("Message", function(ev) print(ev.id) end)',
    {
      "| option | type | default | meaning |", "|---|---|---|---|",
      "| `key` | string or `false` | required | 16 to 1024 characters the webhook URL carries as `?key=`; "
        .. "`false`: no key check |",
      "| `dedup` | integer or `false` | `10000` | event ids remembered in this Lua state; `false`: no de-duplication |",
      "| `dedup_dict` | string | none | a `lua_shared_dict` for the ids instead, shared by every nginx worker |",
      "| `dedup_store` | store | none | a store for the ids instead (`vzaps.ngx_store`, `vzaps.redis_store`, README "
        .. "\"Stores\"); not with `dedup_dict` |",
      "| `dedup_ttl` | seconds | `86400` | how long an id stays in `dedup_dict` or `dedup_store` |",
      "| `max_body` | integer | `4194304` | the largest delivery, in bytes (larger: `BODY_TOO_LARGE`, 413) |",
      "| `json_budget` | integer or `false` | `8` | a delivery may decode into at most this many bytes of Lua memory "
        .. "per byte of JSON, plus 1 MiB (more: `BODY_TOO_LARGE`, 413); `false`: no limit |",
    } },
  { "vzaps.ngx_token_store", "vzaps.ngx_token_store(dict_name)", "a `token_store` for `vzaps.new`",
    "Keeps the JWT in a `lua_shared_dict`, so that every worker of an nginx uses one token. It is refreshed by one "
      .. "`POST /token` (a lock in the dict, a lease of one attempt that the fetch renews between attempts; "
      .. "waiters sleep with `ngx.sleep`, at most one attempt of their own, and get the fetch's token, or its "
      .. "failure as the same `nil, message, err`). Raises outside nginx or for an unknown dict; see README "
      .. "\"OpenResty with many workers\".",
    'vzaps.new{client_token = tok, client_secret = secret, transport = vzaps.ngx_transport(), sleep = ngx.sleep, '
      .. 'token_store = vzaps.ngx_token_store("vzaps_tokens")}' },
  { "vzaps.ngx_store", "vzaps.ngx_store(dict_name)", "a store for `pace.store`, `dedup_store` and `token_store`",
    "A store in a `lua_shared_dict`, shared by every worker of one nginx: send budgets (under a short lock in the "
      .. "dict, on the machine's monotonic clock), webhook ids, and the JWT as `vzaps.ngx_token_store` keeps it. "
      .. "Raises outside nginx or for an unknown dict; see README \"Stores\".",
    'local store = vzaps.ngx_store("vzaps"); vzaps.new{client_token = tok, client_secret = secret, '
      .. 'transport = vzaps.ngx_transport(), sleep = ngx.sleep, token_store = store, pace = {rate = 1, store = store}}' },
  { "vzaps.redis_store", "vzaps.redis_store{connect = fn, release = fn, prefix = \"vzaps:\", on_error = \"fail\"}",
    "a store for `pace.store`, `dedup_store` and `token_store`",
    "A store in Redis, shared by every process of every machine. `connect()` returns your connected client "
      .. "(anything with `eval(script, numkeys, ...)`: Debian's `lua-redis`, OpenResty's `lua-resty-redis`), "
      .. "`release(client, ok)` gives it back. Every operation is one server-side script on Redis's clock. "
      .. "Redis down: kind `\"store\"`, code `STORE_UNAVAILABLE`, nothing sent; `on_error = \"local\"` carries on "
      .. "with this process's own state. See README \"Many machines (Redis)\".",
    'local conn = require("redis").connect({host = "127.0.0.1", port = 6379, timeout = 0.5}); '
      .. 'local store = vzaps.redis_store{connect = function() return conn end}' },
  { "client:close", "client:close()", "nothing",
    "Releases the connections. Also done by `__gc` and `__close`; closing twice is harmless; "
      .. "any later call on the client (or its handles) raises.",
    "client:close()" },
}

-- Sample values for the one-line examples, by field name.
local SAMPLE = {
  instance_id = "id", instance_token = "token",
  phone = '"5511999999999"', message = '"Hello"', name = '"Support"', image = '"https://example.com/a.jpg"',
  audio = '"https://example.com/a.ogg"', document = '"https://example.com/a.pdf"',
  video = '"https://example.com/a.mp4"', sticker = '"https://example.com/a.webp"', gif = '"https://example.com/a.gif"',
  latitude = "-23.5613", longitude = "-46.6565", buttons = '{{id = "yes", text = "Yes"}}',
  title = '"Menu"', description = '"Pick one"', button_text = '"Open"',
  sections = '{{title = "Main", rows = {{id = "r1", title = "One"}}}}',
  link_url = '"https://vzaps.com"', link_description = '"WhatsApp API"', options = '{"Pizza", "Sushi"}',
  message_id = '"3EB0C767D26A1D8C"', reaction = '"👍"', state = '"composing"', id = '{"3EB0C767D26A1D8C"}',
  chat = '"5511999999999"', webhook_url = '"https://example.com/hook"', first_name = '"Ana"',
  full_name = '"Ana Souza"', expiration = '"86400"', log_id = '"whl_1a2b3c"', typebot_id = '"tb_1a2b3c"',
  session = '"tbs_1a2b3c"', what = '"contacts"', group_id = '"120363012345678901@g.us"', path = '"send/text"',
  body = '{phone = "5511999999999", message = "Hi"}',
}

-- Optional fields worth showing for rows with few or no required ones.
local HINT = {
  ["instances.list"] = { { "page", "1" }, { "page_size", "20" }, { "search", '"support"' } },
  ["instances.update"] = { { "body", '{name = "Commercial Support"}' } },
  ["instances.subscribe"] = { { "body", "nil" } },
  ["instances.search"] = { { "query", '"support"' } },
  ["messages.send_contact"] = { { "contact_name", '"Ana"' }, { "contact_phone", '"5511988887777"' } },
  ["messages.poll_vote"] = { { "selected_options", '{"Sushi"}' } },
  ["messages.download_image"] = { { "url", "media.url" }, { "media_key", "media.media_key" } },
  ["messages.download_video"] = { { "url", "media.url" }, { "media_key", "media.media_key" } },
  ["messages.download_audio"] = { { "url", "media.url" }, { "media_key", "media.media_key" } },
  ["messages.download_document"] = { { "url", "media.url" }, { "media_key", "media.media_key" } },
  ["webhooks.set"] = { { "events", '{"Message", "Connected"}' } },
  ["webhooks.search_logs"] = { { "event", '"Message"' } },
  ["groups.list"] = { { "page", "1" }, { "page_size", "50" } },
  ["groups.get"] = { { "group_id", SAMPLE.group_id } },
  ["groups.invite_link"] = { { "group_id", SAMPLE.group_id }, { "reset", "true" } },
  ["groups.set_photo"] = { { "group_id", SAMPLE.group_id }, { "image", SAMPLE.image } },
  ["groups.set_name"] = { { "group_id", SAMPLE.group_id }, { "name", '"Team"' } },
  ["groups.set_description"] = { { "group_id", SAMPLE.group_id }, { "description", '"Our team"' } },
  ["groups.set_settings"] = { { "group_id", SAMPLE.group_id }, { "admin_only_message", "true" } },
  ["groups.create"] = { { "group_name", '"Team"' }, { "participants", '{"5511999999999"}' } },
  ["groups.add_admin"] = { { "group_id", SAMPLE.group_id }, { "participants", '{"5511999999999"}' } },
  ["groups.remove_admin"] = { { "group_id", SAMPLE.group_id }, { "participants", '{"5511999999999"}' } },
  ["users.info"] = { { "phone", SAMPLE.phone } },
  ["users.check"] = { { "phone", '{"5511999999999", "5511988887777"}' } },
  ["users.avatar"] = { { "phone", SAMPLE.phone } },
  ["typebots.create"] = { { "typebot_url", '"https://typebot.example.com"' }, { "public_id", '"sales"' } },
  ["typebots.update"] = { { "enabled", "false" } },
  ["chatwoot.set"] = { { "enabled", "true" }, { "url", '"https://chatwoot.example.com"' }, { "token", '"..."' } },
  ["chats.list"] = { { "page", "1" }, { "page_size", "20" } },
  ["chats.mute"] = { { "duration_seconds", "3600" } },
  ["chats.clear"] = { { "delete_media", "false" } },
  ["chats.delete"] = { { "delete_media", "true" } },
}

local RETURNS = "the decoded JSON answer (`true` for an empty one); `nil, message, err` on failure"

-- ---------------------------------------------------------------------------
-- Answer shapes: the rows' `returns` (endpoints.lua)
-- ---------------------------------------------------------------------------

-- Every named shape the rows return, nested ones included, in first-seen order.
local function answer_shapes()
  local list, seen = {}, {}
  local function visit(s)
    if type(s) ~= "table" then return end
    if not s.name then return visit(s[1]) end -- {shape}: a list of them
    if seen[s] then return end
    seen[s] = true
    list[#list + 1] = s
    for _, f in ipairs(s) do visit(f[2]) end
  end
  for _, row in ipairs(rows) do visit(row.returns) end
  return list
end

local function shape_link(s) return ("[`%s`](#%s)"):format(s.name, s.name:lower()) end

-- A field type in Markdown: a LuaCATS type as text, or a link to its shape.
local function type_text(t)
  if type(t) == "string" then return "`" .. t .. "`" end
  if t.name then return shape_link(t) end
  return "list of " .. shape_link(t[1])
end

local function field_names(s)
  local names = {}
  for _, f in ipairs(s) do names[#names + 1] = "`" .. f[1] .. "`" end
  return table.concat(names, ", ")
end

-- The Returns line of a row: its documented answer, or plainly none.
local function returns_text(row)
  local r = row.returns
  if r == nil then
    return "the decoded JSON answer as it comes (`true` for an empty one): the platform documents no answer "
      .. "shape for it; `nil, message, err` on failure"
  elseif type(r) == "string" then
    return ("`%s` (the platform answers with no body); `nil, message, err` on failure"):format(r)
  end
  return ("%s, %s: %s (more fields pass through); `nil, message, err` on failure"):format(shape_link(r), r.doc,
    field_names(r))
end

-- ---------------------------------------------------------------------------
-- The iterators of a paging row (its `paging` key): resource:each, :pages
-- ---------------------------------------------------------------------------

local ITERATORS = {
  { "each", "item, page", "The items", "page after page",
    "the next item and the page answer it came from" },
  { "pages", "page, items", "The pages", "one a step",
    "the next non-empty page answer, as decoded, and its list of items; an empty list gives no step" },
}

-- The iterator entries of a described row: {key, name, vars, what, step}.
local function iterators(d)
  if not d.row.paging then return {} end
  local out = {}
  for _, it in ipairs(ITERATORS) do
    out[#out + 1] = { key = d.resource .. "." .. it[1], name = it[1], vars = it[2], what = it[3], how = it[4],
      step = it[5] }
  end
  return out
end

-- "items at `content`, page number `page`, ...": what the iterator reads.
local function paging_text(p)
  local parts = { ("items at `%s`"):format(p.items), ("page number `%s` (sent, and checked when answered)"):format(p.page),
    ("page size `%s` (answered, else as sent)"):format(p.size), ("total `%s`"):format(p.total) }
  if p.total_pages then parts[#parts + 1] = ("page count `%s`"):format(p.total_pages) end
  return table.concat(parts, ", ")
end

-- ---------------------------------------------------------------------------
-- One row -> its description
-- ---------------------------------------------------------------------------

local function path_fields(template)
  local list = {}
  for name in template:gmatch("{([%w_]+)}") do list[#list + 1] = name end
  return list
end

local function set_of(list)
  local s = {}
  for _, k in ipairs(list or {}) do s[k] = true end
  return s
end

local function describe(row)
  local d = {
    resource = row[1], name = row[2], method = row[3], path = row[4], doc = row.doc, row = row,
    key = row[1] .. "." .. row[2],
    scoped = row[4]:find("^/instances/{instance_id}") ~= nil,
    no_body = row.body == false or row[3] == "GET",
  }
  d.paths = path_fields(row[4])
  d.lists = set_of(row.lists)
  d.query = row.query or {}
  if row.without then
    for field, template in pairs(row.without) do d.without = { field = field, path = template } end
  end
  return d
end

-- The `#`-free display path with {instance_id} shortened to {id}.
local function show_path(p) return (p:gsub("{instance_id}", "{id}")) end

local function signature(d)
  local call = "client." .. d.resource .. ":" .. d.name
  if d.row.args then
    local args = {}
    for _, a in ipairs(d.row.args) do args[#args + 1] = a == "opts" and "[opts]" or a == "body" and "[body]" or a end
    return call .. "(" .. table.concat(args, ", ") .. ")"
  end
  local fields = {}
  if d.scoped then fields[#fields + 1] = "instance_id!"; fields[#fields + 1] = "instance_token!" end
  local seen = {}
  for _, p in ipairs(d.paths) do
    if p ~= "instance_id" then
      local opt = d.without and d.without.field == p
      fields[#fields + 1] = p .. (opt and "" or "!")
      seen[p] = true
    end
  end
  for _, q in ipairs(d.query) do fields[#fields + 1] = q; seen[q] = true end
  for _, r in ipairs(d.row.required or {}) do
    if not seen[r] then fields[#fields + 1] = r .. "!"; seen[r] = true end
  end
  if d.row.fields then
    -- a closed set: every known field, and nothing else
    for _, k in ipairs(d.row.fields) do
      if not seen[k] then fields[#fields + 1] = k; seen[k] = true end
    end
  else
    local hints = HINT[d.key] or {}
    for _, h in ipairs(hints) do
      if not seen[h[1]] and not d.no_body then fields[#fields + 1] = h[1]; seen[h[1]] = true end
    end
    if not d.no_body then fields[#fields + 1] = "..." end
  end
  local t = "{" .. table.concat(fields, ", ") .. "}"
  if d.row.optional and not d.scoped then t = "[" .. t .. "]" end
  return call .. t
end

-- The argument notes: one bullet per field / argument.
local POSITIONAL = {
  instance_id = "`instance_id` (string, required): the instance; one escaped path segment",
  phone = "`phone` (string or integer, required): one escaped path segment (`+` → `%2B`)",
  path = "`path` (string, required): appended to `/chat/` as given (not escaped; leading `/` stripped)",
  body = "`body` (table or nil): the JSON body, passed through; none is sent when nil or empty",
  opts = "`opts` (table): `instance_token` (required for `/instances/{id}/…` routes, sent as `X-Instance-Token`), "
    .. "`headers`, `timeout`",
}

-- "`page` ≥ 0, `page_size` ≥ 1": the row's ints, in the order of its
-- fields, then its query fields, then by name.
local function ints_text(row)
  if not row.ints then return nil end
  local order, seen = {}, {}
  local function add(k)
    if row.ints[k] ~= nil and not seen[k] then order[#order + 1] = k; seen[k] = true end
  end
  for _, k in ipairs(row.fields or {}) do add(k) end
  for _, k in ipairs(row.query or {}) do add(k) end
  local rest = {}
  for k in pairs(row.ints) do if not seen[k] then rest[#rest + 1] = k end end
  table.sort(rest)
  for _, k in ipairs(rest) do add(k) end
  local parts = {}
  for _, k in ipairs(order) do parts[#parts + 1] = ("`%s` ≥ %d"):format(k, row.ints[k]) end
  return "whole numbers (an integer, or a float without fraction): " .. table.concat(parts, ", ")
    .. "; any other value raises"
end

local function notes(d)
  local list = {}
  if d.row.args then
    for _, a in ipairs(d.row.args) do
      local text = POSITIONAL[a]
      if a == "opts" and not d.scoped then text = "`opts` (table): `headers`, `timeout`" end
      if a == "instance_id" and not d.scoped then
        text = "`instance_id` (string, required): sent as the body `{\"id\": instance_id}`; no instance token"
      end
      if a == "body" and d.row.fields then
        text = ("`body` (table or nil): the JSON body; its known fields: `%s` (any other key raises); "
          .. "none is sent when nil or empty"):format(table.concat(d.row.fields, "`, `"))
      end
      if a == "body" and d.row.lists then
        text = text .. "; list fields sent as `[]` when empty: `" .. table.concat(d.row.lists, "`, `") .. "`"
      end
      list[#list + 1] = text
    end
    local ints = ints_text(d.row)
    if ints then list[#list + 1] = ints end
    return list
  end
  if d.scoped then
    list[#list + 1] = "`instance_id` (required): path segment; `instance_token` (required): `X-Instance-Token` header "
      .. "(both filled in by `client:instance`)"
  end
  for _, p in ipairs(d.paths) do
    if p ~= "instance_id" then
      if d.without and d.without.field == p then
        list[#list + 1] = ("`%s` (optional): escaped path segment; without it the path is `%s`"):format(p,
          show_path(d.without.path))
      else
        list[#list + 1] = ("`%s` (required): escaped path segment, never in the body"):format(p)
      end
    end
  end
  for _, q in ipairs(d.query) do
    list[#list + 1] = ("`%s`: query string, omitted when nil"):format(q)
  end
  local req = {}
  for _, r in ipairs(d.row.required or {}) do req[#req + 1] = "`" .. r .. "`" end
  if #req > 0 then list[#list + 1] = "required body fields: " .. table.concat(req, ", ") end
  if d.row.lists then
    local l = {}
    for _, k in ipairs(d.row.lists) do l[#l + 1] = "`" .. k .. "`" end
    list[#list + 1] = "list fields (sent as `[]` when empty): " .. table.concat(l, ", ")
  end
  local ints = ints_text(d.row)
  if ints then list[#list + 1] = ints end
  if d.no_body then
    list[#list + 1] = "no body is sent; any other field raises"
  elseif d.row.fields then
    local known = {}
    for _, k in ipairs(d.row.fields) do known[#known + 1] = "`" .. k .. "`" end
    list[#list + 1] = "known body fields: " .. table.concat(known, ", ")
      .. "; they are the JSON body, as given (`false` and `0` included), and any other field raises "
      .. "`unknown field` (naming the nearest known one); no body when there is none"
  else
    list[#list + 1] = "every other field is the JSON body, passed through as given (`false` and `0` included); "
      .. "no body when there is none"
  end
  if d.row.optional and not d.scoped then list[#list + 1] = "the table may be omitted" end
  return list
end

local function example(d)
  if d.row.example then return d.row.example end
  local call = "client." .. d.resource .. ":" .. d.name
  local hints = HINT[d.key] or {}
  if d.row.args then
    local args = {}
    local hint = {}
    for _, h in ipairs(hints) do hint[h[1]] = h[2] end
    for _, a in ipairs(d.row.args) do
      if a == "opts" then
        if d.scoped then args[#args + 1] = "{instance_token = token}" end
      else
        args[#args + 1] = hint[a] or SAMPLE[a] or ("<" .. a .. ">")
      end
    end
    return call .. "(" .. table.concat(args, ", ") .. ")"
  end
  local fields, seen = {}, {}
  local function add(k, v)
    if not seen[k] then fields[#fields + 1] = k .. " = " .. v; seen[k] = true end
  end
  if d.scoped then add("instance_id", "id"); add("instance_token", "token") end
  for _, p in ipairs(d.paths) do
    if p ~= "instance_id" then add(p, SAMPLE[p] or '"..."') end
  end
  for _, r in ipairs(d.row.required or {}) do add(r, SAMPLE[r] or '"..."') end
  for _, h in ipairs(hints) do
    -- an example must not show a field its row would reject
    if d.row.fields then
      local ok = false
      for _, k in ipairs(d.row.fields) do ok = ok or k == h[1] end
      for _, k in ipairs(d.query) do ok = ok or k == h[1] end
      for _, k in ipairs(d.paths) do ok = ok or k == h[1] end
      assert(ok, d.key .. ": HINT field " .. h[1] .. " is not one of its known fields")
    end
    add(h[1], h[2])
  end
  return call .. "{" .. table.concat(fields, ", ") .. "}"
end

-- ---------------------------------------------------------------------------
-- The document
-- ---------------------------------------------------------------------------

local out = {}
local function w(s) out[#out + 1] = s or "" end
local function anchor(s) return (s:lower():gsub("[^%w_ -]", ""):gsub(" ", "-")) end

local by_resource = {}
local count = 0
for _, row in ipairs(rows) do
  local d = describe(row)
  by_resource[d.resource] = by_resource[d.resource] or {}
  table.insert(by_resource[d.resource], d)
  count = count + 1
end

w("# vzaps API reference")
w()
w("Generated by `scripts/gen-api.lua` from `src/lua/vzaps/endpoints.lua` (run `make docs`);")
w("do not edit by hand. `spec/docs_spec.lua` fails when this file is out of date or a row has no `doc`.")
w()
w(("%d REST methods plus the client calls below. Conventions (lua-api.md):"):format(count))
w()
w("- A method that talks to the network returns its result, or `nil, message, err` on failure (never raises for")
w("  network, HTTP or decoding failures). A wrong or missing argument raises `bad argument #n to 'name' (...)`")
w("  before anything is sent.")
w("- `field!` marks a required field. In request tables, `instance_id`, `instance_token`, path fields and query")
w("  fields are taken out; the rest is the JSON body, as given. Where a method lists its known body fields (a")
w("  signature without `...`), any other key raises `unknown field`; the others pass every key through. `opts`")
w("  of positional methods is `{instance_token=, headers=, timeout=}`.")
w("- Every `/instances/{id}/…` method needs `instance_id` and `instance_token`; `client:instance(id, token)`")
w("  returns a handle that fills both in (`client:instance(id, token).sessions:pair_code(phone)`).")
w("- One rule for ids and numbers everywhere (methods, `client:instance`, the paging iterators): a path value is")
w("  a string that is not blank, or a whole number sent as its decimal text (`123` → `/instances/123/...`); a")
w("  blank one raises as missing (contract D16). Whole-number fields (`page`, `size`, ...) take values up to 2^53.")
w("  Numbers in queries and headers are written like the body's, with a `.` whatever the C locale says.")
w("- Returns: " .. RETURNS .. ".")
w("  Where the platform documents the answer (contract §4, the official SDKs' docs), the method lists its fields")
w("  ([Answer shapes](#answer-shapes)); elsewhere it says that none is documented: the answer is the decoded JSON")
w("  as it comes.")
w("- The lists that page also have two iterators on their resource, `each` (the items) and `pages` (the pages),")
w("  for generic `for` loops on every Lua version. They request a page only when the loop needs it and stop after")
w("  the last one; unlike the methods, they **raise** a failure (the page's `vzaps.Error`, with `err.page`), so that")
w("  it never looks like the end of the list ([README, \"Paging\"](../README.md#paging)).")
w()
w("## Index")
w()
w("| method | HTTP | path | what |")
w("|---|---|---|---|")
for _, h in ipairs(HAND) do
  w(("| [`%s`](#%s) | | | %s |"):format(h[1], anchor(h[1]), h[4]:match("^(.-%.)%s") or h[4]))
end
for _, res in ipairs(RESOURCES) do
  for _, d in ipairs(by_resource[res[1]] or {}) do
    w(("| [`%s`](#%s) | %s | `%s` | %s |"):format(d.key, anchor(d.key), d.method, show_path(d.path), d.doc))
    for _, it in ipairs(iterators(d)) do
      w(("| [`%s`](#%s) | %s | `%s` | %s of `%s`, %s, for a `for` loop. |"):format(it.key, anchor(it.key),
        d.method, show_path(d.path), it.what, d.key, it.how))
    end
  end
end
w()
w("## Module and client")
w()
for _, h in ipairs(HAND) do
  w("### " .. h[1])
  w()
  w("`" .. h[2] .. "` → " .. h[3])
  w()
  w(h[4])
  w()
  if h[6] then
    for _, l in ipairs(h[6]) do w(l) end
    w()
  end
  w("```lua")
  w(h[5])
  w("```")
  w()
end

for _, res in ipairs(RESOURCES) do
  local list = by_resource[res[1]] or {}
  w(("## %s (`client.%s`, contract %s)"):format(res[2], res[1], res[3]))
  w()
  for _, d in ipairs(list) do
    w("### " .. d.key)
    w()
    w("`" .. signature(d) .. "`")
    w()
    w(d.doc)
    w()
    local http = "- HTTP: `" .. d.method .. " " .. show_path(d.path) .. "`"
    if d.without then
      http = http .. "; without `" .. d.without.field .. "`: `" .. d.method .. " " .. show_path(d.without.path) .. "`"
    end
    w(http)
    for _, n in ipairs(notes(d)) do w("- " .. n) end
    if d.row.paced then
      w("- Paced: with the client option `pace`, waits for the instance's turn first "
        .. "([README, \"Sending at WhatsApp's pace\"](../README.md#sending-at-whatsapps-pace))")
    end
    w("- Returns: " .. returns_text(d.row))
    w()
    w("```lua")
    w(example(d))
    w("```")
    w()
    for _, it in ipairs(iterators(d)) do
      local call = "client." .. d.resource .. ":" .. it.name
      w("### " .. it.key)
      w()
      w("`for " .. it.vars .. " in " .. call .. signature(d):match("%b{}") .. " do ... end`")
      w()
      w(("%s of [`%s`](#%s), %s, for a generic `for` loop: each step answers %s. It takes `%s`'s request "
        .. "table (`%s` is the first page, default 1), requests the next page only when the loop needs it, and ends "
        .. "after the last page: the page count or the total reached, or an empty or short page."):format(it.what,
        d.key, anchor(d.key), it.how, it.step, d.name, d.row.paging.page))
      w()
      w("- Pages: " .. paging_text(d.row.paging))
      w("- Raises the failed page's `vzaps.Error` (with `page`, its page number), or one of kind `paging`: "
        .. "`PAGE_REPEATED` (a page answered again), `BAD_PAGE` (no list), `TOO_MANY_PAGES` (10000); after that, "
        .. "every step raises it again. Wrong fields raise `bad argument ... to '" .. d.name .. "'` at the first "
        .. "step, a wrong `" .. d.row.paging.page .. "` at once")
      w()
      local ex = example(d):gsub("^client%." .. d.resource .. ":" .. d.name, call)
      w("```lua")
      if it.name == "each" then
        w("for item in " .. ex .. " do print(item.id) end")
      else
        w("for page, items in " .. ex .. " do print(#items) end")
      end
      w("```")
      w()
    end
  end
end

w("## Answer shapes")
w()
w("The answers the platform documents (contract §4 and the official SDKs' docs), from the rows' `returns` in")
w("`src/lua/vzaps/endpoints.lua`. Every other method returns the decoded JSON as it comes: the platform documents")
w("no shape for it. An answer may carry more fields than those listed; they pass through as decoded.")
w()
for _, s in ipairs(answer_shapes()) do
  w("### " .. s.name)
  w()
  w(s.doc:sub(1, 1):upper() .. s.doc:sub(2) .. ".")
  w()
  w("| field | type | note |")
  w("|---|---|---|")
  for _, f in ipairs(s) do
    w(("| `%s` | %s | %s |"):format(f[1], type_text(f[2]):gsub("|", "\\|"), f[3] or ""))
  end
  w()
end

-- The README's API index: every method by resource, between two markers.
local INDEX_BEGIN = "<!-- api-index: generated by scripts/gen-api.lua, do not edit -->"
local INDEX_END = "<!-- /api-index -->"
local function index_block()
  local lines = { INDEX_BEGIN, "", "| resource | methods |", "|---|---|" }
  lines[#lines + 1] = "| `vzaps` | `new`, `array`, `is_error`, `null`, `json.encode`, `json.decode`, `file`, `bytes`, "
    .. "`ngx_transport`, `ngx_token_store`, `ngx_store`, `redis_store`, `webhook`, `VERSION` |"
  lines[#lines + 1] = "| `client` | `request`, `instance`, `parallel`, `close`, `auth:get_access_token`, `events:subscribe` |"
  for _, res in ipairs(RESOURCES) do
    local names = {}
    local iters = {}
    for _, d in ipairs(by_resource[res[1]] or {}) do
      names[#names + 1] = ("[`%s`](docs/api.md#%s)"):format(d.name, anchor(d.key))
      for _, it in ipairs(iterators(d)) do
        iters[#iters + 1] = ("[`%s`](docs/api.md#%s)"):format(it.name, anchor(it.key))
      end
    end
    local list = table.concat(names, ", ")
    if #iters > 0 then list = list .. "; iterators " .. table.concat(iters, ", ") end
    lines[#lines + 1] = ("| `client.%s` (%d) | %s |"):format(res[1], #names, list)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = INDEX_END
  return table.concat(lines, "\n")
end

-- The README's "Client options" table, between two markers.
local OPTIONS_BEGIN = "<!-- client-options: generated by scripts/gen-api.lua from src/lua/vzaps/option_table.lua, do not edit -->"
local OPTIONS_END = "<!-- /client-options -->"
local function options_block()
  local lines = { OPTIONS_BEGIN, "" }
  for _, l in ipairs(option_lines()) do lines[#lines + 1] = l end
  lines[#lines + 1] = ""
  lines[#lines + 1] = OPTIONS_END
  return table.concat(lines, "\n")
end

if out_path == "--index" then
  io.write(index_block(), "\n")
  return
end
if out_path == "--options" then
  io.write(options_block(), "\n")
  return
end

-- Replaces the text from `first` to `last` (both markers included) by block.
local function replace_block(text, first, last, block, what)
  local a = text:find(first, 1, true)
  local _, b = text:find(last, 1, true)
  assert(a and b and a < b, readme_path .. " has no " .. what .. " markers")
  return text:sub(1, a - 1) .. block .. text:sub(b + 1)
end

if readme_path then
  local f = assert(io.open(readme_path, "rb"))
  local readme = f:read("*a")
  f:close()
  readme = replace_block(readme, INDEX_BEGIN, INDEX_END, index_block(), "API index")
  readme = replace_block(readme, OPTIONS_BEGIN, OPTIONS_END, options_block(), "client options")
  f = assert(io.open(readme_path, "wb"))
  f:write(readme)
  f:close()
end

local text = table.concat(out, "\n")
if out_path == "-" then
  io.write(text)
else
  local f = assert(io.open(out_path, "wb"))
  f:write(text)
  f:close()
end
