-- spec/resources/fields_spec.lua: known request fields and whole-number
-- bounds (the `fields` and `ints` keys of src/lua/vzaps/endpoints.lua).
-- A key a typed row does not know raises `bad argument #1 to '<method>'
-- (unknown field '<key>'; did you mean <nearest>?)`, or `(...; known fields:
-- a, b, c)` when no known field is near, before anything is sent; rows whose
-- body the contract marks pass-through keep sending the caller's keys
-- (contract §3.4, §4). Paging values the contract does not define (negative,
-- fractional, a page of zero items) raise; its own defaults stay (`page` 0 or
-- unset means 1 for instances.list, D2). Only the key parts of the messages
-- are asserted (string.find, plain).
local wire = require("spec.support.wire")

local ROWS = assert(loadfile("src/lua/vzaps/endpoints.lua"))()
local unpack = table.unpack or unpack

local P = "+5511988887777"

-- Values that make a field valid, by name; any other field gets "x".
local SAMPLE = {
  phone = P, latitude = 1, longitude = 2, id = { "3EB0X" }, options = { "a", "b" }, selected_options = { "a" },
  buttons = { { id = "1", text = "t" } }, sections = { { title = "t", rows = { { id = "r", title = "t" } } } },
  participants = { P }, events = { "Message" }, events_subscribe = { "Message" }, ignore_jids = { "1203630@g.us" },
  filter = {}, sort_desc = true, page = 1, page_size = 5, size = 5,
  webhook_url = "https://example.com/hook", webhook = "https://example.com/hook",
}
local function sample(field)
  local v = SAMPLE[field]
  if v == nil then return "x" end
  return v
end

local copy = require("spec.support.tables").copy

local function find(msg, s) return msg:find(s, 1, true) ~= nil end

local function key_of(row) return row[1] .. "." .. row[2] end

local function path_fields(template)
  local list = {}
  for name in template:gmatch("{([%w_]+)}") do
    if name ~= "instance_id" then list[#list + 1] = name end
  end
  return list
end

describe("known fields (endpoints.lua `fields`, `ints`)", function()
  local ctx, c
  setup(function()
    ctx = wire.start("fields")
    c = ctx.client
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  -- The arguments of a valid call of row (without `extra`), its method name
  -- and the position of the table that carries the body fields. With all =
  -- true every known field is set, else only the required ones.
  local function call_of(row, all, extra)
    local body = {}
    for _, k in ipairs(row.required or {}) do body[k] = sample(k) end
    if all then
      for _, k in ipairs(row.fields or {}) do body[k] = sample(k) end
    end
    for k, v in pairs(extra or {}) do body[k] = v end
    local scoped = row[4]:find("^/instances/{instance_id}") ~= nil
    if row.args then
      local args, at = {}, 1
      for i, a in ipairs(row.args) do
        if a == "instance_id" then args[i] = ctx.id
        elseif a == "phone" then args[i] = P
        elseif a == "path" then args[i] = "send/text"
        elseif a == "body" then args[i], at = body, i
        elseif a == "opts" then args[i] = scoped and copy(ctx.opts) or nil
        end
      end
      return args, #row.args, at
    end
    local t = scoped and ctx:req(body) or body
    for _, p in ipairs(path_fields(row[4])) do t[p] = p == "phone" and P or ("v_" .. p) end
    return { t }, 1, 1
  end

  local function invoke(row, args, n)
    local res = c[row[1]]
    return res[row[2]](res, unpack(args, 1, n))
  end

  -- -----------------------------------------------------------------------
  -- The issue's cases
  -- -----------------------------------------------------------------------

  it("a typo in instances:list names the nearest known field and sends nothing", function()
    local msg = ctx:arg_error(function() c.instances:list({ pagesize = 5 }) end, 1, "list", "unknown field 'pagesize'")
    assert(find(msg, "did you mean page_size?"), msg)
  end)

  it("a key far from every known field lists the known fields", function()
    local msg = ctx:arg_error(function() c.instances:list({ zzz_unknown = 5 }) end, 1, "list",
      "unknown field 'zzz_unknown'")
    assert(find(msg, "known fields:"), msg)
    for _, k in ipairs({ "search", "page_size", "page", "size", "filter", "sort", "sort_desc" }) do
      assert(find(msg, k), ("expected %q among the known fields in %q"):format(k, msg))
    end
  end)

  it("a typo in messages:send_text names message, before the missing-field check", function()
    local msg = ctx:arg_error(function() c.messages:send_text(ctx:req({ phone = P, mesage = "x" })) end, 1,
      "send_text", "unknown field 'mesage'")
    assert(find(msg, "did you mean message?"), msg)
    msg = ctx:arg_error(function() c.messages:send_text(ctx:req({ phone = P, message = "x", mesage = "x" })) end, 1,
      "send_text", "unknown field 'mesage'")
    assert(find(msg, "did you mean message?"), msg)
  end)

  it("instance_id, instance_token, path and query fields are always known", function()
    c.messages:edit(ctx:req({ message_id = "3EB0X", message = "m" })) -- a 404: the request is what counts
    ctx:wire({ method = "PATCH", path = "~/chat/messages/3EB0X", body = { message = "m" } })
    assert(c:instance(ctx.id, ctx.tok).messages:send_text({ phone = P, message = "hi" }))
    ctx:wire({ method = "POST", path = "~/chat/send/text", body = { phone = P, message = "hi" } })
    -- typebot_id: the path field of start_session's first form
    c.typebots:start_session(ctx:req({ typebot_id = "tb_1", phone = P, message = "hi" }))
    ctx:wire({ method = "POST", path = "~/typebots/tb_1/sessions/start", body = { phone = P, message = "hi" } })
  end)

  it("pass-through rows still send an arbitrary caller key", function()
    c.messages:download_image(ctx:req({ url = "https://mmg.example/x", any_caller_key = "k" }))
    ctx:wire({ method = "POST", path = "~/chat/downloadimage",
               body = { url = "https://mmg.example/x", any_caller_key = "k" } })
    c.webhooks:search_logs(ctx:req({ zzz_unknown = 1 }))
    ctx:wire({ method = "POST", path = "~/webhook/logs/search", body = { zzz_unknown = 1 } })
    c.messages:delete(ctx:req({ message_id = "3EB0X", for_everyone = true }))
    ctx:wire({ method = "DELETE", path = "~/chat/messages/3EB0X", body = { for_everyone = true } })
    c.instances:search({ zzz_unknown = "v" })
    ctx:wire({ method = "POST", path = "/instances/search", body = { zzz_unknown = "v" }, instance_token = false })
    assert(c.instances:update(ctx.id, { name = "renamed", zzz_unknown = "v" }, ctx.opts))
    ctx:wire({ method = "PATCH", path = "~", body = { name = "renamed", zzz_unknown = "v" } })
  end)

  -- -----------------------------------------------------------------------
  -- Whole-number bounds
  -- -----------------------------------------------------------------------

  it("instances:list rejects paging values the contract does not define", function()
    ctx:arg_error(function() c.instances:list({ page_size = -1 }) end, 1, "list", "'page_size'")
    ctx:arg_error(function() c.instances:list({ page_size = 0 }) end, 1, "list", "'page_size'")
    ctx:arg_error(function() c.instances:list({ page_size = 2.5 }) end, 1, "list", "'page_size'")
    ctx:arg_error(function() c.instances:list({ page = 1.5 }) end, 1, "list", "'page'")
    ctx:arg_error(function() c.instances:list({ page = -1 }) end, 1, "list", "'page'")
    ctx:arg_error(function() c.instances:list({ page = "2" }) end, 1, "list", "'page'")
    ctx:arg_error(function() c.instances:list({ size = 0 }) end, 1, "list", "'size'")
    ctx:arg_error(function() c.instances:list({ size = -20 }) end, 1, "list", "'size'")
  end)

  it("instances:list keeps the contract's defaults: page 0 is page 1 (D2)", function()
    assert(c.instances:list({ page = 0 }))
    ctx:wire({ method = "POST", path = "/instances/list", body = { page = 1, size = 20, filter = {} },
               instance_token = false })
    assert(c.instances:list({ page = 1, page_size = 1 }))
    ctx:wire({ method = "POST", path = "/instances/list", body = { page = 1, size = 1, filter = {} },
               instance_token = false })
  end)

  for _, name in ipairs({ "groups", "chats" }) do
    it(name .. ":list rejects a query page_size below 1 and a bad page", function()
      local list = function(t) return function() c[name]:list(ctx:req(t)) end end
      ctx:arg_error(list({ page_size = 0 }), 1, "list", "'page_size'")
      ctx:arg_error(list({ page_size = -5 }), 1, "list", "'page_size'")
      ctx:arg_error(list({ page_size = 1.5 }), 1, "list", "'page_size'")
      ctx:arg_error(list({ page = -1 }), 1, "list", "'page'")
      ctx:arg_error(list({ page = 1.5 }), 1, "list", "'page'")
      assert(c[name]:list(ctx:req({ page = 1, page_size = 1 })))
      ctx:wire({ method = "GET", path = name == "groups" and "~/group/list" or "~/chats", query = "page=1&page_size=1" })
    end)
  end

  -- -----------------------------------------------------------------------
  -- Every row with `fields`
  -- -----------------------------------------------------------------------

  for _, row in ipairs(ROWS) do
    if row.fields then
      it(key_of(row) .. ": an unknown key raises and sends nothing; every known field is accepted", function()
        local args, n, at = call_of(row, false, { zzz_unknown = "v" })
        local msg = ctx:arg_error(function() invoke(row, args, n) end, at, row[2], "unknown field 'zzz_unknown'")
        assert(find(msg, "known fields:"), msg)
        -- the same call without the bogus key, every known field set: sent
        args, n = call_of(row, true)
        ctx:clear()
        local ok, err = pcall(invoke, row, args, n)
        assert(ok, tostring(err))
        assert.equals(1, #ctx.emu:api_requests(), "the valid call is sent")
      end)
    end
  end
end)

-- The data itself: consistent with the other keys of each row (passes
-- without the mapper).
describe("endpoints.lua `fields` and `ints` data", function()
  local function set_of(list)
    local s = {}
    for _, k in ipairs(list or {}) do s[k] = true end
    return s
  end

  it("lists every required field, and no path, query or instance field", function()
    local bad = {}
    for _, row in ipairs(ROWS) do
      if row.fields then
        local known = set_of(row.fields)
        for _, k in ipairs(row.required or {}) do
          if not known[k] then bad[#bad + 1] = key_of(row) .. " misses required " .. k end
        end
        local taken = set_of(row.query)
        for _, p in ipairs(path_fields(row[4])) do taken[p] = true end
        taken.instance_id, taken.instance_token = true, true
        for _, k in ipairs(row.fields) do
          if taken[k] then bad[#bad + 1] = key_of(row) .. " lists " .. k end
        end
        if row.body == false or row[3] == "GET" then bad[#bad + 1] = key_of(row) .. " has no body" end
      end
    end
    assert.same({}, bad)
  end)

  it("bounds only known fields, with integer minimums", function()
    local bad = {}
    for _, row in ipairs(ROWS) do
      if row.ints then
        local known = set_of(row.fields)
        for _, k in ipairs(row.query or {}) do known[k] = true end
        for k, min in pairs(row.ints) do
          if not known[k] then bad[#bad + 1] = key_of(row) .. " bounds unknown " .. tostring(k) end
          if type(min) ~= "number" or min ~= math.floor(min) then bad[#bad + 1] = key_of(row) .. "." .. k end
        end
      end
    end
    assert.same({}, bad)
  end)
end)
