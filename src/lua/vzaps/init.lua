-- init.lua: the public module table returned by require("vzaps")
-- (the API description). The C core (src/*.c) is passed in as `core`.

--- Lua client for the VZaps WhatsApp API.
--
--    local vzaps = require("vzaps")
--    local client = vzaps.new{client_token = ..., client_secret = ...}
--    local res, msg, err = client.messages:send_text{instance_id = ..., instance_token = ...,
--                                                   phone = "5511999990000", message = "Hi"}
--
-- Every call that talks to the network returns its result, or `nil, message, err`
-- (`err` is a `vzaps.Error`). The endpoint methods of the resources
-- (`client.instances`, `client.messages`, ...) are listed, with their HTTP
-- route and arguments, in [docs/api.md](../api.md); they all run through the
-- generic call documented in `vzaps.resources`.
-- @module vzaps
-- @field VERSION the module version, e.g. `"0.1.0"` (also `_VERSION`)
-- @field null the JSON null sentinel (a light userdata; equal to `cjson.null`)
-- @field Error the metatable of error objects
local import, core = ...
local errors = import("errors")
local options = import("options")
local resources = import("resources")
local http = import("http")
local events = import("events")
local state = import("state")
local args = import("args")

local type, setmetatable, getmetatable = type, setmetatable, getmetatable
local argerror = args.argerror

--- Tells whether `v` is an error object of this module (a `vzaps.Error`).
-- @function vzaps.is_error
-- @param v any value
-- @treturn boolean
local vzaps = {
  -- Test switch, not API: _set_direct(false) makes the clients made
  -- afterwards send every call through the Lua layer (http.send), so that
  -- the test suite holds both ways of sending to the same wire
  -- (spec/support/helper.lua).
  _set_direct = core.set_direct,
  VERSION = core.VERSION,
  _VERSION = core.VERSION,
  null = core.null,
  Error = errors.Error,
  is_error = errors.is_error,
}

local array_mt = core.array_mt

--- Marks `t` (or a new table) as a JSON array, so that it encodes as `[]`
-- even when empty. Decoded arrays carry the same mark.
-- @tparam[opt] table t a table without a metatable (default: a new one)
-- @treturn table `t`
-- @raise when `t` is not a table or already has another metatable
-- @usage client.instances:update(id, {tags = vzaps.array()}, {instance_token = tok})
function vzaps.array(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then argerror(1, "array", "table expected, got " .. type(t)) end
  local mt = getmetatable(t)
  if mt ~= nil and mt ~= array_mt then argerror(1, "array", "table already has a metatable") end
  return setmetatable(t, array_mt)
end

-- Media values (src/media.c). A value that cannot be made comes back from
-- the core as nil, message, code: the failure tuple, kind "media".
local Error, MEDIA_MAX = errors.Error, core.MEDIA_MAX_BYTES
local media_file, media_bytes = core.media_file, core.media_bytes

local function media(value, message, code, path)
  if value ~= nil then return value end
  local err = setmetatable({ kind = "media", code = code, message = message,
                             details = { path = path, limit = MEDIA_MAX } }, Error)
  return nil, tostring(err), err
end

--- A local file to send as media: any media field (`image`, `audio`,
-- `video`, `document`, `sticker`, `gif`, `jpeg_thumbnail`) and any
-- `client:request` body take it, and it goes out as a
-- `"data:<mime>;base64,..."` string, read from the file (in C, in chunks)
-- only when the request is built. The MIME type comes from the file's
-- magic bytes, else its extension (else `application/octet-stream`); `mime`
-- overrides both. `send_document` without a `file_name` sends the file's
-- base name. The file is checked now: it must be a readable, non-empty
-- regular file of at most 100 MiB (README "Media from local files"). If it
-- cannot be read any more when a request is built, that call raises.
-- The value has `mime`, `size`, `name` (base name), `path` and `source`
-- (`"file"`); `tostring` shows the source, MIME type and size, never the content.
-- @function vzaps.file
-- @tparam string path the file
-- @tparam[opt] string mime e.g. `"audio/ogg; codecs=opus"`
-- @return[1] the media value
-- @return[2] nil
-- @treturn[2] string message, e.g. `vzaps: file 'a.png' is empty`
-- @treturn[2] vzaps.Error err of kind `"media"`, code `MEDIA_UNREADABLE`,
--  `MEDIA_NOT_A_FILE`, `MEDIA_EMPTY` or `MEDIA_TOO_LARGE`
-- @raise when `path` is not a string or `mime` is not a MIME type
-- @usage local img = assert(vzaps.file("photo.jpg"))
-- client.messages:send_image{instance_id = id, instance_token = tok, phone = "5511999990000", image = img}
function vzaps.file(path, mime)
  local value, message, code = media_file(path, mime)
  return media(value, message, code, path)
end

--- Data in memory to send as media, like `vzaps.file`: sent as a
-- `"data:<mime>;base64,..."` string. Without `mime`, the magic bytes tell
-- the type (else `application/octet-stream`). The value keeps a reference
-- to `data`, not a copy.
-- @function vzaps.bytes
-- @tparam string data the bytes (1 byte to 100 MiB)
-- @tparam[opt] string mime e.g. `"image/png"`
-- @return[1] the media value (`source` is `"bytes"`)
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] vzaps.Error err of kind `"media"`, code `MEDIA_EMPTY` or `MEDIA_TOO_LARGE`
-- @raise when `data` is not a string or `mime` is not a MIME type
-- @usage local png = assert(vzaps.bytes(render_chart(), "image/png"))
function vzaps.bytes(data, mime)
  return media(media_bytes(data, mime))
end

-- The module's JSON codec, for scripts that build or read payloads
-- themselves: integers stay integers, null is vzaps.null.

--- Encodes a Lua value as JSON with the module's codec (exact integers on
-- Lua 5.3+, shortest round-trip floats, `vzaps.array` and `vzaps.null`).
-- @function vzaps.json.encode
-- @param v the value
-- @treturn[1] string the JSON text
-- @return[2] nil
-- @treturn[2] string why it cannot be encoded

--- Decodes JSON text with the module's codec (`null` is `vzaps.null`,
-- arrays are marked with `vzaps.array`).
-- @function vzaps.json.decode
-- @tparam string s JSON text
-- @return[1] the value
-- @return[2] nil
-- @treturn[2] string why it is not valid JSON
vzaps.json = {
  encode = function(v) return core.json_encode(v) end,
  decode = function(s)
    if type(s) ~= "string" then argerror(1, "decode", "string expected, got " .. type(s)) end
    return core.json_decode(s)
  end,
}

--- A `transport` for OpenResty / lua-nginx-module built on cosockets
-- (`ngx.socket.tcp`): calls made with it inside a request handler or a timer
-- wait without blocking the nginx worker. Pass `sleep = ngx.sleep` too, so
-- retry backoffs do not block either. Details in `vzaps.ngx`.
-- @tparam[opt] table opts `keepalive_timeout` (seconds, 60), `pool_size` (16),
--  `connect_timeout` (seconds; default the client's), `pool` (pool name prefix, "vzaps")
-- @treturn function a `transport` for `vzaps.new`
-- @raise outside nginx (no `ngx.socket.tcp`), or on a bad option
-- @usage local client = vzaps.new{client_token = ..., client_secret = ...,
--   transport = vzaps.ngx_transport(), sleep = ngx.sleep}
function vzaps.ngx_transport(opts)
  return import("ngx").transport(opts)
end

--- A `token_store` for `vzaps.new` that keeps the JWT in a `lua_shared_dict`
-- (OpenResty / lua-nginx-module), so that every worker of an nginx, and
-- every client made with the same credentials, uses one token. When it is
-- missing or about to expire, one `POST /token` runs (a lock in the dict);
-- the other requests wait for it without blocking the worker and use its
-- token, or get its failure, the same `nil, message, err` for all of them.
-- The dict key is a SHA-1 of `base_url`, `client_token` and
-- `client_secret`: it names the account without holding a credential.
-- See README "OpenResty with many workers".
-- @tparam string dict_name a `lua_shared_dict` of nginx.conf (16k is plenty)
-- @return the store, for `token_store`
-- @raise outside nginx, or when there is no such dict
-- @usage local client = vzaps.new{client_token = tok, client_secret = secret,
--   transport = vzaps.ngx_transport(), sleep = ngx.sleep,
--   token_store = vzaps.ngx_token_store("vzaps_tokens")}
function vzaps.ngx_token_store(dict_name)
  return import("ngx_store").new(dict_name)
end

--- A store (README "Stores") in a `lua_shared_dict`, shared by every
-- worker of one nginx: send budgets (`pace.store`), webhook
-- de-duplication (`dedup_store`) and the JWT (`token_store`, as
-- `vzaps.ngx_token_store` does). Budgets run on the machine's monotonic
-- clock, under a short lock in the dict.
-- @tparam string dict_name a `lua_shared_dict` of nginx.conf
-- @return the store
-- @raise outside nginx, or when there is no such dict
-- @usage local store = vzaps.ngx_store("vzaps")
-- local client = vzaps.new{client_token = tok, client_secret = secret, transport = vzaps.ngx_transport(),
--   sleep = ngx.sleep, token_store = store, pace = {rate = 1, per = 3, store = store}}
function vzaps.ngx_store(dict_name)
  return import("ngx_dict_store").new(dict_name)
end

--- A store (README "Stores") in Redis, shared by every process of every
-- machine: send budgets (`pace.store`), webhook de-duplication
-- (`dedup_store`) and the JWT (`token_store`, one `POST /token` for all).
-- Every operation is one server-side script, on Redis's clock. It uses
-- your Redis client: Debian's `lua-redis` or OpenResty's `lua-resty-redis`
-- (anything with `eval(script, numkeys, ...)`). See README "Many machines (Redis)".
-- @tparam table opts `connect` (required: a function returning a connected
--  client), `release` (`function(client, ok)`, e.g. `set_keepalive` in
--  OpenResty), `prefix` (key prefix, default `"vzaps:"`), `on_error`
--  (`"fail"`, the default: an operation Redis cannot do fails with kind
--  `"store"`; `"local"`: this process carries on with its own local state)
-- @return the store
-- @raise on a bad option
-- @usage local redis = require("redis")
-- local conn = redis.connect({host = "127.0.0.1", port = 6379, timeout = 0.5})
-- local store = vzaps.redis_store{connect = function() return conn end}
function vzaps.redis_store(opts)
  return import("redis_store").new(opts)
end

--- A webhook receiver: a dispatcher with the registration API of a
-- realtime subscription (`hook:on(type, fn)`, `"All"`), `hook:handle(body
-- [, headers])` for any Lua runtime and `hook:ngx()`, a complete content
-- handler for `content_by_lua*`. Details in `vzaps.webhook` and README
-- "Receiving webhooks".
-- @tparam table opts `key` (required: a string of 16+ characters the
--  webhook URL carries as `?key=`, or `false` for none), `dedup` (event ids
--  remembered in memory, default 10000; `false`: off), `dedup_dict` (a
--  `lua_shared_dict` for them instead, shared by the workers), `dedup_store`
--  (a store instead: `vzaps.ngx_store`, `vzaps.redis_store`, ...), `dedup_ttl`
--  (seconds an id stays in that dict or store, default 86400), `max_body` (bytes,
--  default 4 MiB)
-- @return the receiver
-- @raise on a bad option
-- @usage local hook = vzaps.webhook{key = os.getenv("VZAPS_WEBHOOK_KEY")}
-- hook:on("Message", function(ev) print(ev.instance_id, ev.data.event.text) end)
-- assert(hook:handle(body))
function vzaps.webhook(opts)
  return import("webhook").new(opts)
end

-- ---------------------------------------------------------------------------
-- Clients
-- ---------------------------------------------------------------------------

-- The client's private state lives in its user value table under a key
-- only the module holds (state.PRIV), so scripts cannot reach the
-- credentials through the client or its resources.
local PRIV, UD = state.PRIV, state.UD
local check_open = args.check_open

local auth_methods = {}

--- The cached JWT, or a fresh one fetched with the client credentials.
-- @function Auth:get_access_token
-- @treturn[1] string the access token
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] vzaps.Error err
-- @usage local jwt = assert(client.auth:get_access_token())
function auth_methods.get_access_token(self)
  check_open(self[UD])
  return http.token(state.of(self))
end
local AUTH_MT = { __index = auth_methods, __name = "vzaps.auth" }

--- Creates a client.
-- @tparam table opts `client_token` and `client_secret` (required), `base_url`,
--  `realtime_url`, `timeout`, `connect_timeout`, `token_skew` (seconds),
--  `user_agent`, `max_retries`, `ssl_verify`, `ca_file`, `ca_path`, `proxy`,
--  `transport` (a function, see README "Custom transport"), `sleep` (a
--  function(seconds) for retry backoffs; `ngx.sleep` in OpenResty)
-- @treturn Client the client; its resources are `client.instances`, `client.messages`, ... ([docs/api.md](../api.md))
-- @raise `bad argument #1 to 'new' (...)` on a missing or wrong option
-- @usage local client <close> = vzaps.new{client_token = tok, client_secret = secret}
function vzaps.new(opts)
  local st = options.check(opts)
  local members = {}
  local client = core.new_client(st.base_url, st, members)
  st.ud = client
  resources.build(st, nil, members)
  members.events = events.resource(st, nil)
  members.auth = setmetatable({ [UD] = client }, AUTH_MT)
  members[PRIV] = st
  return client
end

local methods = core.client_methods

--- A client, made by `vzaps.new`. Its resources (`client.instances`,
-- `client.messages`, ...) are tables of endpoint methods ([docs/api.md](../api.md)).
-- `tostring(client)` shows the base URL, never a secret.
-- @type Client

--- Releases the client's connections; also done by `__gc` and `__close`
-- (`local c <close> = vzaps.new{...}` on Lua 5.4). Closing twice is harmless;
-- any other call on a closed client raises.
-- @function Client:close

--- Any API call, for operations the resources do not wrap (contract §4.13);
-- same results and errors as the resource methods.
-- @function Client:request
-- @tparam string method HTTP verb, e.g. `"GET"`
-- @tparam string path e.g. `"/instances/list"`
-- @tparam[opt] table opts `query` (table), `body` (table or string), `headers`,
--  `instance_token`, `no_auth` (boolean), `timeout` (seconds)
-- @return[1] the decoded JSON answer (`true` for an empty body)
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] vzaps.Error err
-- @usage local page = assert(client:request("POST", "/instances/list", {body = {page = 1}}))

-- client:request(method, path, opts): any call, for operations the
-- resources do not wrap (contract §4.13), mapped and sent like them.
methods.request = resources.request

--- Runs each function of `fns` as a coroutine; the requests they make
-- through this client run at the same time over one pool of connections
-- (with a custom `transport`, one after another).
-- @function Client:parallel
-- @tparam {function,...} fns the functions
-- @tparam[opt] table opts `concurrency`: functions run at a time (1 to 256, default the
--  client's `concurrency` option, 8 unless set); their requests share the
--  client's `concurrency` transfers with its spawned jobs
-- @treturn {table,...} each function's results, in order, as a packed list
--  (`{n = ..., ...}`); a function that raised gives `{nil, message, err}`
-- @usage local out = client:parallel({
--   function() return client.instances:get(a) end,
--   function() return client.instances:get(b) end,
-- })
function methods.parallel(self, fns, opts)
  check_open(self)
  return import("parallel").run(state.of_client(self), fns, opts)
end

-- scheduler.lua, imported on the first spawn or pump (a client that never
-- starts a job does not load it).
local scheduler
local state_of = core.state -- state.of_client without its call: spawn and pump run per job
local seconds_ok = core.check_seconds
local function scheduler_module()
  scheduler = scheduler or import("scheduler")
  return scheduler
end

--- Starts a call without waiting for it: runs `fn(...)` (any calls of this
-- client: endpoint methods, `client:request`, scoped handles) as a job of
-- the client's scheduler, until its first request is queued, and returns
-- the job. `client:pump` advances it. Token fetch, retries (their backoff
-- is a timer, not a sleep), the 401 replay and the rule that a POST that
-- may have landed is never resent hold as for a blocking call.
-- @function Client:spawn
-- @tparam function fn the call, e.g. `function() return client.messages:send_text{...} end`
-- @param ... passed to `fn`
-- @treturn Job the job: `job:done()`, `job:result()`, `job:cancel()`, `job:on_done(fn)`
-- @usage local job = client:spawn(function() return client.instances:get(id) end)
-- -- each frame:
-- client:pump(0)
-- if job:done() then local inst, msg, err = job:result() end
function methods.spawn(self, fn, ...)
  local s, open = state_of(self)
  if not open then core.raise("vzaps: client is closed") end
  if type(fn) ~= "function" then argerror(1, "spawn", "function expected, got " .. type(fn)) end
  local st = s[PRIV]
  local sched = scheduler or scheduler_module()
  -- A custom transport is called from Lua and may yield on its own
  -- (cosockets): the call runs now, and the job is done when spawn returns.
  if st.transport then return sched.spawn_now(sched.engine(st), fn, ...) end
  return sched.spawn(st.engine or sched.engine(st), fn, ...)
end

--- Advances every started job without blocking longer than `max_wait`
-- seconds (`pump(0)` never waits). Finished jobs' results are ready
-- through `job:result()` and their `on_done` callbacks have run.
-- @function Client:pump
-- @tparam[opt] number max_wait seconds, default 0
-- @treturn integer the number of jobs not finished yet
-- @usage while client:pump(0.005) > 0 do end  -- or once per frame: client:pump(0)
function methods.pump(self, max_wait)
  if max_wait == nil then
    max_wait = 0
  elseif not seconds_ok(max_wait, true) then
    args.check_seconds(max_wait, 1, "pump", "max_wait", true) -- raises
  end
  local s, open = state_of(self)
  local e = s[PRIV].engine
  if not e then return 0 end
  return (scheduler or scheduler_module()).pump(e, max_wait, open)
end

--- An object an event loop can wait on (cqueues' pollable protocol):
-- `p:pollfd()` is one file descriptor, readable when the client's jobs have
-- work; `p:events()` is `"r"`; `p:timeout()` the seconds until the next
-- deadline (libcurl's, a retry backoff; 0 when work was just queued), nil
-- when nothing is in flight. `client:pump(0)` is the step. Linux (epoll);
-- elsewhere `pollfd()` raises: call `pump(0)` from a timer.
-- @function Client:pollable
-- @treturn Pollable the object (the same one on every call)
-- @usage local cqueues = require("cqueues")
-- cqueues.poll(client:pollable()); client:pump(0)
function methods.pollable(self)
  check_open(self)
  local sched = scheduler_module()
  return sched.pollable(sched.engine(state.of_client(self)))
end

-- close(): also ends the client's jobs, each with a `closed` failure.
local c_close = methods.close
function methods.close(self)
  local st = state.of_client(self)
  if st and st.engine and st.engine.live > 0 then import("scheduler").close_all(st.engine) end
  c_close(self)
end
core.client_mt.__close = methods.close

local INSTANCE_MT = {
  __name = "vzaps.instance",
  __tostring = function(h) return "vzaps.instance (" .. h.instance_id .. ")" end,
}

--- A handle whose resources fill in `instance_id` and `instance_token`;
-- it shares the client's connections and token.
-- @function Client:instance
-- @tparam string instance_id
-- @tparam string instance_token
-- @return the handle (`handle.messages:send_text{phone = ..., message = ...}`)
-- @usage local inst = client:instance(id, token)
-- assert(inst.messages:send_text{phone = "5511999990000", message = "Hi"})

-- client:instance(id, token): the resources with instance_id and
-- instance_token filled in; shares the client's connection and token.
function methods.instance(self, instance_id, instance_token)
  check_open(self)
  -- the mapper's rule for ids (src/url.c): a non-blank string, or a whole
  -- number as its decimal text
  instance_id = core.segment_text(instance_id)
  if instance_id == nil then
    argerror(1, "instance", "instance_id must be a non-empty string or a whole number")
  end
  args.check_token(instance_token, 2, "instance", "instance_token")
  local scope = { instance_id = instance_id, instance_token = instance_token }
  local st = state.of_client(self)
  local handle = resources.build(st, scope)
  handle.events = events.resource(st, scope)
  handle.instance_id = instance_id
  return setmetatable(handle, INSTANCE_MT)
end

return vzaps
