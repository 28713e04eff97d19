-- client:parallel: ordering, errors, timeouts and the concurrency limit.
local emulator = require("spec.support.emulator")
local socket = require("socket")
local vzaps = require("vzaps")

describe("client:parallel", function()
  local emu, client, inst
  emulator.fixture({ max_retries = 2 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("parallel")
  end)

  local function send(i)
    return function()
      return client.messages:send_text({ instance_id = inst.id, instance_token = inst.token,
                                         phone = "5511900000" .. i, message = "m" .. i })
    end
  end

  it("returns each function's results in order", function()
    local fns = {}
    for i = 1, 12 do fns[i] = send(i) end
    fns[13] = function() return 1, nil, "three" end
    local res = client:parallel(fns, { concurrency = 4 })
    assert.equal(13, #res)
    for i = 1, 12 do
      assert.is_true(res[i][1].success, "call " .. i)
      assert.equal("5511900000" .. i, res[i][1].data.phone)
    end
    assert.same({ n = 3, 1, nil, "three" }, res[13])
    local sent = {}
    for _, r in ipairs(emu:api_requests()) do sent[#sent + 1] = r.json.phone end
    assert.equal(12, #sent)
  end)

  it("gives {nil, message, err} for a function that raised or failed", function()
    local custom = { custom = true }
    local res = client:parallel({
      function() error("boom", 0) end,
      function() error(custom) end,
      function() return client.instances:get("VZ-missing") end,
      send(1),
    })
    assert.equal(3, res[1].n)
    assert.is_nil(res[1][1])
    assert.equal("vzaps: boom", res[1][2])
    assert.is_true(vzaps.is_error(res[1][3]))
    assert.equal("raised", res[1][3].kind)
    assert.equal("RAISED", res[1][3].code)
    assert.equal("boom", res[1][3].message)
    assert.equal("boom", res[1][3].details)
    assert.is_nil(res[2][1])
    assert.equal("raised", res[2][3].kind)
    assert.equal(custom, res[2][3].details) -- the raised value itself
    assert.is_nil(res[3][1])
    assert.equal("vzaps: instance not found (status 404)", res[3][2])
    assert.equal(404, res[3][3].status)
    assert.is_true(res[4][1].success)
  end)

  -- Whatever was raised, the slot has the shape of every failure: a string
  -- message that is tostring(err), and an error object of kind "raised".
  local function check_raised(r, message, details)
    assert.equal(3, r.n)
    assert.is_nil(r[1])
    assert.is_string(r[2])
    assert.is_true(vzaps.is_error(r[3]), "err is a vzaps.Error")
    assert.equal("raised", r[3].kind)
    assert.equal(tostring(r[3]), r[2])
    assert.equal(message, r[3].message)
    assert.equal(details, r[3].details)
    assert.is_nil(r[2]:find("vzaps/[%w_]+%.lua:%d+:"), "internal position in " .. r[2])
  end

  local function raisers(c)
    local t = setmetatable({}, { __tostring = function() return "my error" end })
    local plain = { code = 1 }
    return {
      function() error("boom") end,             -- with the position of this line
      function() error(plain) end,
      function() error(nil) end,
      function() error(42) end,
      function() error(t) end,
      function() error("vzaps/http.lua:12: inside", 0) end,
      -- what assert(c.instances:get(...)) raises, without and with a position
      -- (busted's assert is luassert's: it raises something else)
      function() error(select(2, c.instances:get("VZ-missing")), 0) end,
      function() error((select(2, c.instances:get("VZ-missing")))) end,
    }, plain, t
  end

  local function check_all(res, plain, t)
    local line = res[1][3].details:match("^spec/parallel_spec%.lua:(%d+): boom$")
    assert.truthy(line, res[1][3].details)
    check_raised(res[1], "spec/parallel_spec.lua:" .. line .. ": boom", res[1][3].details)
    assert.equal("vzaps: spec/parallel_spec.lua:" .. line .. ": boom", res[1][2])
    check_raised(res[2], "(error object is a table value)", plain)
    check_raised(res[3], "(error object is a nil value)", nil)
    if type(res[4][3].details) == "number" then
      check_raised(res[4], "42", 42)
    else -- Lua 5.1 and LuaJIT: error() turns a number into a string with a position
      assert.truthy(res[4][3].details:find("^spec/parallel_spec%.lua:%d+: 42$"), res[4][3].details)
      check_raised(res[4], res[4][3].details, res[4][3].details)
    end
    check_raised(res[5], "my error", t)
    check_raised(res[6], "inside", "vzaps/http.lua:12: inside")
    -- one "vzaps: " in front, not "vzaps: vzaps: ..."
    check_raised(res[7], "instance not found (status 404)", "vzaps: instance not found (status 404)")
    assert.equal("vzaps: instance not found (status 404)", res[7][2])
    local where = res[8][3].details:match("^(spec/parallel_spec%.lua:%d+: )vzaps: instance not found %(status 404%)$")
    assert.truthy(where, res[8][3].details)
    check_raised(res[8], where .. "instance not found (status 404)", res[8][3].details)
    assert.equal("vzaps: " .. where .. "instance not found (status 404)", res[8][2])
  end

  it("turns any raised value (string, table, nil, number) into a vzaps.Error of kind 'raised'", function()
    local fns, plain, t = raisers(client)
    check_all(client:parallel(fns), plain, t)
  end)

  it("does the same when the functions run one by one (custom transport)", function()
    local c = emu:client({ transport = function(req)
      if req.url:find("/token$") then return { status = 200, body = '{"access_token":"tok-1","expires_in":3600}' } end
      return { status = 404, body = '{"error":"instance not found"}' }
    end })
    local fns, plain, t = raisers(c)
    local res = c:parallel(fns)
    c:close()
    check_all(res, plain, t)
  end)

  it("runs requests at the same time", function()
    emu:script({ delay = 0.5, times = 10, path = "/instances/" .. inst.id .. "/chat/send/text" })
    local fns = {}
    for i = 1, 10 do fns[i] = send(i) end
    local t0 = socket.gettime()
    local res = client:parallel(fns, { concurrency = 10 })
    local elapsed = socket.gettime() - t0
    for i = 1, 10 do assert.is_table(res[i][1]) end
    assert.is_true(elapsed < 2.5, ("10 calls of 0.5 s took %.2f s"):format(elapsed)) -- 5 s one after another
  end)

  it("keeps at most `concurrency` transfers in flight", function()
    emu:script({ delay = 0.3, times = 8, path = "/instances/" .. inst.id .. "/chat/send/text" })
    local fns = {}
    for i = 1, 8 do fns[i] = send(i) end
    local t0 = socket.gettime()
    client:parallel(fns, { concurrency = 2 })
    -- 8 delayed calls two at a time need at least four rounds of 0.3 s
    assert.is_true(socket.gettime() - t0 >= 1.15)
  end)

  it("lets the client's timeout end a stuck transfer", function()
    local c = emu:client({ timeout = 0.5, max_retries = 0 })
    assert(c.auth:get_access_token())
    emu:script({ delay = 5, path = "/instances/list" })
    local t0 = socket.gettime()
    local res = c:parallel({
      function() return c.instances:list() end,
      function() return c.instances:get(inst.id) end,
    })
    assert.is_true(socket.gettime() - t0 < 4)
    assert.equal("timeout", res[1][3].kind)
    assert.equal(inst.id, res[2][1].id)
    c:close()
  end)

  it("fetches one token for the whole run", function()
    local c = emu:client()
    local fns = {}
    for i = 1, 6 do fns[i] = function() return c.instances:list() end end
    c:parallel(fns, { concurrency = 6 })
    assert.equal(1, emu:count("POST", "/token"))
    assert.equal(6, emu:count("POST", "/instances/list"))
    c:close()
  end)

  it("retries a 429 inside a run, honouring Retry-After", function()
    emu:script({ path = "/instances/list", status = 429, json = { error = "wait" }, headers = { ["Retry-After"] = "0" } })
    local res = client:parallel({ function() return client.instances:list() end })
    assert.is_table(res[1][1].content)
    assert.equal(2, emu:count("POST", "/instances/list"))
  end)

  it("never resends a POST whose kept-alive connection died", function()
    client:parallel({ function() return client.instances:list() end }) -- warm a pooled connection
    emu:clear()
    local path = "/instances/" .. inst.id .. "/restart"
    emu:script({ path = path, fault = "close" })
    local res = client:parallel({ function()
      return client.instances:restart(inst.id, { instance_token = inst.token })
    end })
    assert.equal("network", res[1][3].kind)
    assert.equal(1, emu:count("POST", path))
  end)

  it("works through a scoped instance handle", function()
    local h = client:instance(inst.id, inst.token)
    local res = client:parallel({
      function() return h.messages:send_text({ phone = "5511911111111", message = "a" }) end,
      function() return h.sessions:status() end,
    })
    assert.is_true(res[1][1].success)
    assert.is_table(res[2][1].data)
  end)

  it("reports a function that yields on its own", function()
    local res = client:parallel({ function() coroutine.yield("mine") end, send(1) })
    assert.is_nil(res[1][1])
    assert.equal("vzaps: a function run by client:parallel or client:spawn yielded outside the client", res[1][2])
    assert.equal("raised", res[1][3].kind)
    assert.equal("BAD_YIELD", res[1][3].code)
    assert.is_true(res[2][1].success)
  end)

  it("returns {} for no functions", function()
    assert.same({}, client:parallel({}))
  end)

  it("checks its arguments", function()
    assert.has_error(function() client:parallel("x") end,
      "bad argument #1 to 'parallel' (list of functions expected, got string)")
    assert.has_error(function() client:parallel({ 1 }) end, "bad argument #1 to 'parallel' (item 1 is not a function)")
    assert.has_error(function() client:parallel({}, { concurrency = 0 }) end,
      "bad argument #2 to 'parallel' (concurrency must be an integer from 1 to 256)")
    assert.has_error(function() client:parallel({}, { conc = 2 }) end,
      "bad argument #2 to 'parallel' (unknown option 'conc')")
    local res = client:parallel({ function() return client:parallel({}) end })
    assert.matches("cannot be nested", res[1][2])
  end)

  it("runs the functions one by one with a custom transport", function()
    local order = {}
    local c = vzaps.new({ client_token = "t", client_secret = "s", transport = function(req)
      order[#order + 1] = req.url
      if req.url:find("/token$") then
        return { status = 200, body = '{"access_token":"tok-1","expires_in":3600}' }
      end
      return { status = 200, body = '{"ok":true}' }
    end })
    local res = c:parallel({ function() return c.instances:list() end, function() return c.instances:get("VZ1") end })
    assert.is_true(res[1][1].ok)
    assert.is_true(res[2][1].ok)
    assert.equal(3, #order)
    c:close()
  end)

  it("raises on a closed client", function()
    local c = emu:client()
    c:close()
    assert.has_error(function() c:parallel({}) end, "vzaps: client is closed")
  end)
end)
