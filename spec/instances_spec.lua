-- spec/instances_spec.lua: every method of client.instances against the
-- emulator: what went on the wire (method, path, headers, raw body) and the
-- decoded result (the contract §2, §3, §4.2, §5; the API description).
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")
local wire = require("spec.support.wire")
local compat = require("spec.support.compat")

local UA = "VZaps.SDK.Lua/" .. vzaps.VERSION

describe("instances", function()
  local emu, client
  emulator.fixture(nil, function(e, c) emu, client = e, c end)

  -- -------------------------------------------------------------------------
  -- helpers
  -- -------------------------------------------------------------------------

  -- A fresh instance (created through the API), the log cleared afterwards.
  local function new_instance(name)
    local inst = assert(client.instances:create({ name = name or "Spec instance" }))
    emu:clear()
    return inst
  end

  local function only_api_request()
    local list = emu:api_requests()
    assert.equals(1, #list, "expected exactly one API request")
    return list[1]
  end

  -- The headers every authenticated request carries, plus the body and
  -- instance-token headers as the call needs them (contract §2.3).
  -- want = {instance_token = string|nil, body = boolean}
  local function assert_headers(r, want)
    local h = r.headers
    assert.equals("Bearer " .. client.auth:get_access_token(), h.authorization)
    assert.equals(emulator.CLIENT_TOKEN, h["x-client-token"])
    assert.equals("application/json", h.accept)
    assert.equals(UA, h["user-agent"])
    assert.equals(want.instance_token, h["x-instance-token"])
    if want.body then
      assert.equals("application/json", h["content-type"])
      assert.is_true(#r.body > 0, "expected a body")
      assert.equals(tostring(#r.body), h["content-length"])
    else
      assert.is_nil(h["content-type"], "a bodiless request carries no Content-Type")
      assert.equals("", r.body or "")
      if r.method == "POST" or r.method == "PUT" or r.method == "PATCH" then
        assert.equals("0", h["content-length"])
      end
    end
  end

  local assert_failure = wire.tuple -- the failure tuple's shape; returns err

  -- fn must raise `<this file>:<line>: bad argument #n to 'name' (...why...)`
  -- and send nothing at all (not even the token exchange).
  local function assert_arg_error(fn, n, name, why)
    emu:clear()
    local ok, msg = pcall(fn)
    assert.is_false(ok, "expected an argument error")
    assert.is_string(msg)
    local head = ("bad argument #%d to '%s' ("):format(n, name)
    local at = msg:find(head, 1, true)
    assert(at, ("expected %q in %q"):format(head, msg))
    assert.matches("%)$", msg)
    assert(msg:find("instances_spec%.lua:%d+: bad argument"),
      "the message should point at the caller's line: " .. msg)
    if why then
      assert(msg:find(why, at + #head, true), ("expected %q in %q"):format(why, msg))
    end
    assert.equals(0, #emu:requests(), "nothing may be sent before an argument error")
  end

  -- -------------------------------------------------------------------------
  -- create
  -- -------------------------------------------------------------------------

  it("create sends PUT /instances/create with name, webhook and events_subscribe", function()
    local res = assert(client.instances:create({
      name = "Support", webhook = "https://example.com/hook", events_subscribe = { "Message", "Connected" },
    }))
    local r = only_api_request()
    assert.equals("PUT", r.method)
    assert.equals("/instances/create", r.path)
    assert.equals("", r.query)
    assert.same({ name = "Support", webhook = "https://example.com/hook",
                  events_subscribe = { "Message", "Connected" } }, r.json)
    assert.matches('"events_subscribe":%["Message","Connected"%]', r.body)
    assert_headers(r, { body = true })

    for _, k in ipairs({ "id", "name", "token", "url", "webhook", "status", "created_at", "updated_at" }) do
      assert.is_string(res[k], "result field " .. k)
    end
    assert.equals("Support", res.name)
    assert.equals("https://example.com/hook", res.webhook)
    assert.same({ "Message", "Connected" }, res.events_subscribe)
    assert.matches("^VZ", res.id)
    assert.equals("disconnected", res.status)
  end)

  it("create sends an empty events_subscribe as [] and decodes JSON null as vzaps.null", function()
    local events = {}
    local res = assert(client.instances:create({ name = "Empty events", events_subscribe = events }))
    local r = only_api_request()
    assert.matches('"events_subscribe":%[%]', r.body)
    assert.is_nil(r.body:find('"events_subscribe":{}', 1, true))
    assert.is_nil(getmetatable(events), "the caller's table must not be modified")
    assert.equals(0, #res.events_subscribe)
    assert.equals(vzaps.null, res.webhook)
    assert.equals(vzaps.null, res.phone)
  end)

  it("create raises argument errors before sending", function()
    assert_arg_error(function() client.instances:create({ webhook = "https://x" }) end, 1, "create", "name")
    assert_arg_error(function() client.instances:create() end, 1, "create", "table expected")
    assert_arg_error(function() client.instances:create("Support") end, 1, "create", "table expected, got string")
    assert_arg_error(function() client.instances:create({ name = "x", webhook = function() end }) end, 1, "create")
  end)

  -- -------------------------------------------------------------------------
  -- list (D2)
  -- -------------------------------------------------------------------------

  it("list with no arguments sends page 1, size 20 and an empty filter object", function()
    local res = assert(client.instances:list())
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/list", r.path)
    assert.same({ page = 1, size = 20, filter = {} }, r.json)
    assert.matches('"page":1[,}]', r.body)
    assert.matches('"size":20[,}]', r.body)
    assert.matches('"filter":{}', r.body)
    assert_headers(r, { body = true })
    compat.assert_integer(res.page)
    compat.assert_integer(res.size)
    compat.assert_integer(res.total)
    assert.equals(1, res.page)
    assert.equals(20, res.size)
  end)

  local list_cases = {
    { name = "page=0 becomes 1", args = { page = 0 }, want = { page = 1, size = 20, filter = {} } },
    { name = "page_size becomes size", args = { page = 3, page_size = 5 }, want = { page = 3, size = 5, filter = {} } },
    { name = "size wins over page_size", args = { size = 7, page_size = 5 }, want = { page = 1, size = 7, filter = {} } },
    { name = "search is trimmed into filter.query", args = { search = "  support  " },
      want = { page = 1, size = 20, filter = { query = "support" } } },
    { name = "search replaces a caller filter.query and keeps other filter keys",
      args = { search = "new", filter = { query = "old", status = "disconnected" } },
      want = { page = 1, size = 20, filter = { query = "new", status = "disconnected" } } },
    { name = "blank search is ignored", args = { search = "   ", filter = { query = "keep" } },
      want = { page = 1, size = 20, filter = { query = "keep" } } },
    { name = "sort and sort_desc=true are sent", args = { sort = "name", sort_desc = true },
      want = { page = 1, size = 20, filter = {}, sort = "name", sort_desc = true } },
    { name = "sort_desc=false is sent when given", args = { sort = "id", sort_desc = false },
      want = { page = 1, size = 20, filter = {}, sort = "id", sort_desc = false } },
  }
  for _, case in ipairs(list_cases) do
    it("list: " .. case.name, function()
      -- a deep copy to prove the caller's table is left alone
      local before = require("spec.support.tables").copy(case.args)
      assert(client.instances:list(case.args))
      local r = only_api_request()
      assert.same(case.want, r.json)
      assert.is_nil(r.body:find('"search"', 1, true), "search is never sent")
      assert.is_nil(r.body:find('"page_size"', 1, true), "page_size is never sent")
      assert.matches('"page":' .. case.want.page .. '[,}]', r.body)
      assert.matches('"size":' .. case.want.size .. '[,}]', r.body)
      if case.want.sort_desc == false then assert.matches('"sort_desc":false', r.body) end
      assert.same(before, case.args, "the caller's table must not be modified")
    end)
  end

  it("list pages, sorts and filters the emulator's instances", function()
    local names = { "pgx-delta", "pgx-alpha", "pgx-echo", "pgx-charlie", "pgx-bravo" }
    for _, n in ipairs(names) do new_instance(n) end
    new_instance("unrelated")

    local res = assert(client.instances:list({ search = "pgx-", sort = "name", page = 2, page_size = 2 }))
    assert.equals(2, res.page)
    assert.equals(2, res.size)
    assert.equals(5, res.total)
    assert.equals(3, res.total_pages)
    for _, k in ipairs({ "page", "size", "total", "total_pages" }) do
      compat.assert_integer(res[k], k .. " must decode as an integer")
    end
    assert.equals(2, #res.content)
    assert.equals("pgx-charlie", res.content[1].name)
    assert.equals("pgx-delta", res.content[2].name)
    assert.is_table(res.summary)
    assert.equals(5, res.summary.total)
    compat.assert_integer(res.summary.total)

    local last = assert(client.instances:list({ search = "pgx-", sort = "name", sort_desc = true, page = 3, size = 2 }))
    assert.equals(1, #last.content)
    assert.equals("pgx-alpha", last.content[1].name)

    local one = assert(client.instances:list({ search = " ECHO " }))
    assert.equals(1, one.total)
    assert.equals("pgx-echo", one.content[1].name)
    for _, k in ipairs({ "id", "name", "token", "url", "status", "created_at", "updated_at" }) do
      assert.is_string(one.content[1][k], "content field " .. k)
    end
  end)

  it("list raises argument errors before sending", function()
    assert_arg_error(function() client.instances:list("support") end, 1, "list", "table expected, got string")
    assert_arg_error(function() client.instances:list({ filter = { f = function() end } }) end, 1, "list")
  end)

  -- -------------------------------------------------------------------------
  -- get
  -- -------------------------------------------------------------------------

  it("get sends POST /instances/get with exactly {\"id\":...} and no instance token", function()
    local inst = new_instance("Get me")
    local res = assert(client.instances:get(inst.id))
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/get", r.path)
    assert.equals('{"id":"' .. inst.id .. '"}', r.body)
    assert_headers(r, { body = true })
    assert.is_nil(r.headers["x-instance-token"])
    assert.equals(inst.id, res.id)
    assert.equals("Get me", res.name)
    assert.equals(inst.token, res.token)
    assert.equals(inst.url, res.url)
    assert.equals("disconnected", res.status)
  end)

  it("get sends the id unescaped in the JSON body (no \\/)", function()
    local ok, msg, err = client.instances:get("a/b c@d")
    assert.is_nil(ok)
    assert.equals(404, err.status, msg)
    local r = only_api_request()
    assert.equals("/instances/get", r.path)
    assert.equals('{"id":"a/b c@d"}', r.body)
  end)

  it("get of an unknown id returns the failure tuple (nil, message, err)", function()
    local ok, msg, err = client.instances:get("VZ-does-not-exist")
    err = assert_failure(ok, msg, err)
    assert.equals("http", err.kind)
    assert.equals(404, err.status)
    assert.equals("NOT_FOUND", err.code)
    assert.equals("instance not found", err.message)
    assert.equals("vzaps: instance not found (status 404)", msg)
    assert.equals("POST", err.method)
    assert.equals("/instances/get", err.path)
    assert.is_table(err.details)
    assert.equals("NOT_FOUND", err.details.code)
    assert.matches("^req%-%d+$", err.request_id)
  end)

  it("get inside assert() raises with the error message", function()
    -- busted replaces assert with luassert (which takes a third argument as
    -- a level), so Lua's own assert is exercised in a child process of the
    -- same Lua, loading the same build.
    local script = table.concat({
      "package.cpath = " .. ("%q"):format(package.cpath),
      "local c = require('vzaps').new{client_token = " .. ("%q"):format(emulator.CLIENT_TOKEN)
        .. ", client_secret = " .. ("%q"):format(emulator.CLIENT_SECRET)
        .. ", base_url = " .. ("%q"):format(emu.url) .. "}",
      "local ok, msg = pcall(function() return assert(c.instances:get('nope')) end)",
      "io.write(tostring(ok), '|', type(msg), '|', tostring(msg))",
    }, "\n")
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    -- (LD_PRELOAD is kept: under ASan the child loads the same instrumented build)
    local p = assert(io.popen(compat.interpreter .. " " .. path .. " 2>&1"))
    local out = p:read("*a")
    p:close()
    os.remove(path)
    -- Lua 5.4's assert may prefix the chunk position; the message is ours
    assert.matches("^false|string|.-vzaps: instance not found %(status 404%)$", out)
    assert.equals(1, emu:count("POST", "/instances/get"))
  end)

  it("get raises argument errors before sending", function()
    assert_arg_error(function() client.instances:get() end, 1, "get", "instance_id")
    assert_arg_error(function() client.instances:get("") end, 1, "get", "instance_id")
    assert_arg_error(function() client.instances:get(true) end, 1, "get", "instance_id")
    assert_arg_error(function() client.instances:get({ id = "VZ1" }) end, 1, "get", "instance_id")
  end)

  -- -------------------------------------------------------------------------
  -- update
  -- -------------------------------------------------------------------------

  it("update sends PATCH /instances/{id} with the body as given and X-Instance-Token", function()
    local inst = new_instance("Before")
    local body = { name = "Commercial Support", custom = { nested = { 1, 2 } }, enabled = false, events_subscribe = {} }
    local res = assert(client.instances:update(inst.id, body, { instance_token = inst.token }))
    local r = only_api_request()
    assert.equals("PATCH", r.method)
    assert.equals("/instances/" .. inst.id, r.path)
    assert.same({ name = "Commercial Support", custom = { nested = { 1, 2 } }, enabled = false,
                  events_subscribe = {} }, r.json)
    assert.matches('"nested":%[1,2%]', r.body)
    assert.matches('"enabled":false', r.body)
    assert.matches('"events_subscribe":%[%]', r.body)
    assert_headers(r, { body = true, instance_token = inst.token })
    assert.equals(inst.id, res.id)
    assert.equals("Commercial Support", res.name)
    assert.same({ name = "Commercial Support", custom = { nested = { 1, 2 } }, enabled = false,
                  events_subscribe = {} }, body)
  end)

  it("update with a wrong instance token fails with kind auth, status 401 and the envelope code", function()
    local inst = new_instance("Guarded")
    local ok, msg, err = client.instances:update(inst.id, { name = "x" }, { instance_token = "wrong-token" })
    err = assert_failure(ok, msg, err)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals("INVALID_INSTANCE_TOKEN", err.code)
    assert.equals("invalid instance token", err.message)
    assert.equals("PATCH", err.method)
    assert.equals("/instances/" .. inst.id, err.path)
    -- D14: one replay with a fresh token, no more
    assert.equals(2, emu:count("PATCH", "/instances/" .. inst.id))
    -- nothing changed
    assert.equals("Guarded", assert(client.instances:get(inst.id)).name)
  end)

  it("update raises argument errors before sending", function()
    local u = function(...) local a = { ... } return function() client.instances:update(table.unpack(a, 1, 3)) end end
    assert_arg_error(u(nil, { name = "x" }, { instance_token = "t" }), 1, "update", "instance_id")
    assert_arg_error(u("", { name = "x" }, { instance_token = "t" }), 1, "update", "instance_id")
    assert_arg_error(u("VZ1", { name = "x" }), 3, "update", "instance_token")
    assert_arg_error(u("VZ1", { name = "x" }, {}), 3, "update", "instance_token")
    assert_arg_error(u("VZ1", { name = "x" }, { instance_token = "" }), 3, "update", "instance_token")
    assert_arg_error(u("VZ1", { name = "x" }, { instance_token = "  \t" }), 3, "update", "instance_token")
    assert_arg_error(u("VZ1", { name = "x" }, { instance_token = 42 }), 3, "update", "instance_token")
    assert_arg_error(u("VZ1", { name = "x" }, { instance_token = "a\r\nX-Evil: 1" }), 3, "update", "instance_token")
    assert_arg_error(u("VZ1", "name=x", { instance_token = "t" }), 2, "update", "got string")
    assert_arg_error(u("VZ1", { name = "x" }, "t"), 3, "update", "options table expected")
    assert_arg_error(u("VZ1", { name = "x" }, { instance_token = "t", instance_tokn = "t" }), 3, "update",
      "unknown option 'instance_tokn'")
    assert_arg_error(u("VZ1", { name = function() end }, { instance_token = "t" }), 2, "update")
  end)

  -- -------------------------------------------------------------------------
  -- path escaping (§3.2)
  -- -------------------------------------------------------------------------

  local escape_cases = {
    { "slash", "a/b", "a%2Fb" },
    { "space", "a b", "a%20b" },
    { "at sign", "1203@g.us", "1203%40g.us" },
    { "plus", "+5511", "%2B5511" },
    { "percent", "50%", "50%25" },
    { "colon and query characters", "a:b?c#d&e=f", "a%3Ab%3Fc%23d%26e%3Df" },
    { "non-ASCII UTF-8", "caf\195\169-\240\159\152\128", "caf%C3%A9-%F0%9F%98%80" },
    { "unreserved kept", "AZaz09-._~", "AZaz09-._~" },
  }
  for _, case in ipairs(escape_cases) do
    it("update escapes the instance id in the path: " .. case[1], function()
      local ok, msg, err = client.instances:update(case[2], { name = "x" }, { instance_token = "tok-1" })
      err = assert_failure(ok, msg, err)
      assert.equals("http", err.kind)
      assert.equals(404, err.status)
      local r = only_api_request()
      assert.equals("PATCH", r.method)
      assert.equals("/instances/" .. case[3], r.path)
      assert.equals("", r.query)
      assert.equals("/instances/" .. case[3], err.path)
    end)
  end

  it("restart, delete, subscribe, resume_subscription and cancel escape the id too", function()
    local calls = {
      { "restart", "POST", "/restart" }, { "delete", "DELETE", "" }, { "subscribe", "POST", "/subscribe" },
      { "resume_subscription", "POST", "/resume-subscription" }, { "cancel", "PUT", "/cancel" },
    }
    for _, c in ipairs(calls) do
      emu:clear()
      local ok, msg, err
      if c[1] == "subscribe" then
        ok, msg, err = client.instances:subscribe("x/y z", nil, { instance_token = "tok-1" })
      else
        ok, msg, err = client.instances[c[1]](client.instances, "x/y z", { instance_token = "tok-1" })
      end
      err = assert_failure(ok, msg, err)
      assert.equals(404, err.status, c[1])
      local r = only_api_request()
      assert.equals(c[2], r.method, c[1])
      assert.equals("/instances/x%2Fy%20z" .. c[3], r.path, c[1])
    end
  end)

  -- -------------------------------------------------------------------------
  -- restart
  -- -------------------------------------------------------------------------

  it("restart sends POST /instances/{id}/restart with no body and Content-Length 0", function()
    local inst = new_instance("Restart me")
    local res = assert(client.instances:restart(inst.id, { instance_token = inst.token }))
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/" .. inst.id .. "/restart", r.path)
    assert_headers(r, { body = false, instance_token = inst.token })
    assert.equals(inst.id, res.instance_id)
    assert.equals("restarting", res.status)
    assert.is_string(res.details)
  end)

  it("restart raises argument errors before sending", function()
    assert_arg_error(function() client.instances:restart("VZ1") end, 2, "restart", "instance_token")
    assert_arg_error(function() client.instances:restart("VZ1", { instance_token = " " }) end, 2, "restart",
      "instance_token")
    assert_arg_error(function() client.instances:restart(nil, { instance_token = "t" }) end, 1, "restart",
      "instance_id")
    assert_arg_error(function() client.instances:restart("VZ1", "tok") end, 2, "restart", "options table expected")
    assert_arg_error(function() client.instances:restart("VZ1", { instance_token = "t", body = {} }) end, 2,
      "restart", "unknown option 'body'")
  end)

  -- -------------------------------------------------------------------------
  -- delete
  -- -------------------------------------------------------------------------

  it("delete sends DELETE /instances/{id}, returns true on 204, and a later get is a 404", function()
    local inst = new_instance("Delete me")
    local res, msg, err = client.instances:delete(inst.id, { instance_token = inst.token })
    assert.is_nil(msg)
    assert.is_nil(err)
    assert.is_true(res)
    local r = only_api_request()
    assert.equals("DELETE", r.method)
    assert.equals("/instances/" .. inst.id, r.path)
    assert_headers(r, { body = false, instance_token = inst.token })

    local ok, gmsg, gerr = client.instances:get(inst.id)
    gerr = assert_failure(ok, gmsg, gerr)
    assert.equals("http", gerr.kind)
    assert.equals(404, gerr.status)
    assert.equals("POST", gerr.method)
    assert.equals("/instances/get", gerr.path)
  end)

  it("delete raises argument errors before sending", function()
    assert_arg_error(function() client.instances:delete("VZ1") end, 2, "delete", "instance_token")
    assert_arg_error(function() client.instances:delete("VZ1", { instance_token = "" }) end, 2, "delete",
      "instance_token")
    assert_arg_error(function() client.instances:delete("", { instance_token = "t" }) end, 1, "delete",
      "instance_id")
  end)

  -- -------------------------------------------------------------------------
  -- provision, search
  -- -------------------------------------------------------------------------

  it("provision sends PUT /instances/provision with the create fields", function()
    local res = assert(client.instances:provision({ name = "Provisioned", webhook = "https://p.example/h",
                                                    events_subscribe = {} }))
    local r = only_api_request()
    assert.equals("PUT", r.method)
    assert.equals("/instances/provision", r.path)
    assert.same({ name = "Provisioned", webhook = "https://p.example/h", events_subscribe = {} }, r.json)
    assert.matches('"events_subscribe":%[%]', r.body)
    assert_headers(r, { body = true })
    assert.is_string(res.id)
    assert.is_string(res.token)
    assert.equals("Provisioned", res.name)
  end)

  it("search sends POST /instances/search with the body passed through", function()
    local inst = new_instance("Searchable-zz9")
    local res = assert(client.instances:search({ query = "searchable-zz9", extra = { deep = { true } } }))
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/search", r.path)
    assert.same({ query = "searchable-zz9", extra = { deep = { true } } }, r.json)
    assert_headers(r, { body = true })
    assert.equals(1, res.total)
    compat.assert_integer(res.total)
    assert.equals(inst.id, res.content[1].id)
  end)

  it("search with no argument sends no body", function()
    local res = assert(client.instances:search())
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/search", r.path)
    assert_headers(r, { body = false })
    assert.is_table(res.content)
  end)

  -- -------------------------------------------------------------------------
  -- subscribe, resume_subscription, cancel
  -- -------------------------------------------------------------------------

  it("subscribe with a nil body sends POST /instances/{id}/subscribe with no body", function()
    local inst = new_instance("Billing")
    local res = assert(client.instances:subscribe(inst.id, nil, { instance_token = inst.token }))
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/" .. inst.id .. "/subscribe", r.path)
    assert_headers(r, { body = false, instance_token = inst.token })
    assert.is_string(res.url)
    assert.is_string(res.session_id)
    assert.is_string(res.subscription_id)
    assert.equals("checkout", res.mode)
  end)

  it("subscribe with a table sends that table as the body", function()
    local inst = new_instance("Billing direct")
    local res = assert(client.instances:subscribe(inst.id, { billing_type = "direct", seats = 3 },
      { instance_token = inst.token }))
    local r = only_api_request()
    assert.equals("/instances/" .. inst.id .. "/subscribe", r.path)
    assert.same({ billing_type = "direct", seats = 3 }, r.json)
    assert.matches('"seats":3[,}]', r.body)
    assert_headers(r, { body = true, instance_token = inst.token })
    assert.equals("direct", res.mode)
  end)

  it("subscribe raises argument errors before sending", function()
    assert_arg_error(function() client.instances:subscribe("VZ1", nil) end, 3, "subscribe", "instance_token")
    assert_arg_error(function() client.instances:subscribe("VZ1", nil, { instance_token = "\t" }) end, 3,
      "subscribe", "instance_token")
    assert_arg_error(function() client.instances:subscribe("VZ1", "direct", { instance_token = "t" }) end, 2,
      "subscribe", "got string")
    assert_arg_error(function() client.instances:subscribe(nil, nil, { instance_token = "t" }) end, 1,
      "subscribe", "instance_id")
  end)

  it("resume_subscription sends POST /instances/{id}/resume-subscription with no body", function()
    local inst = new_instance("Resume")
    local res = assert(client.instances:resume_subscription(inst.id, { instance_token = inst.token }))
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/" .. inst.id .. "/resume-subscription", r.path)
    assert_headers(r, { body = false, instance_token = inst.token })
    assert.same({ status = "ok" }, res)
  end)

  it("resume_subscription raises argument errors before sending", function()
    assert_arg_error(function() client.instances:resume_subscription("VZ1") end, 2, "resume_subscription",
      "instance_token")
    assert_arg_error(function() client.instances:resume_subscription("VZ1", { instance_token = "" }) end, 2,
      "resume_subscription", "instance_token")
    assert_arg_error(function() client.instances:resume_subscription(nil, { instance_token = "t" }) end, 1,
      "resume_subscription", "instance_id")
  end)

  it("cancel sends PUT /instances/{id}/cancel with no body and Content-Length 0", function()
    local inst = new_instance("Cancel")
    local res = assert(client.instances:cancel(inst.id, { instance_token = inst.token }))
    local r = only_api_request()
    assert.equals("PUT", r.method)
    assert.equals("/instances/" .. inst.id .. "/cancel", r.path)
    assert_headers(r, { body = false, instance_token = inst.token })
    assert.is_string(res.message)
  end)

  it("cancel raises argument errors before sending", function()
    assert_arg_error(function() client.instances:cancel("VZ1") end, 2, "cancel", "instance_token")
    assert_arg_error(function() client.instances:cancel("VZ1", { instance_token = "   " }) end, 2, "cancel",
      "instance_token")
    assert_arg_error(function() client.instances:cancel(false, { instance_token = "t" }) end, 1, "cancel",
      "instance_id")
  end)
end)
