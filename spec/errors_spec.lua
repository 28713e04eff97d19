-- Error classification (contract §5), retries (the API description "Reliability")
-- and the guard against sending a POST twice (contract §9, silent resend).
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")


describe("errors and retries", function()
  local emu, client, inst
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("errors")
    assert(client.auth:get_access_token())
  end)


  it("returns nil, message, err for a 404 envelope", function()
    local res, msg, err = client.instances:get("VZNOPE")
    assert.is_nil(res)
    assert.equal("vzaps: instance not found (status 404)", msg)
    assert.equal(msg, tostring(err))
    assert.is_true(vzaps.is_error(err))
    assert.equal(vzaps.Error, getmetatable(err))
    assert.equal("http", err.kind)
    assert.equal(404, err.status)
    assert.equal("NOT_FOUND", err.code)
    assert.equal("instance not found", err.message)
    assert.same({ error = "instance not found", code = "NOT_FOUND" }, err.details)
    assert.equal("POST", err.method)
    assert.equal("/instances/get", err.path)
    assert.matches("^req%-%d+$", err.request_id)
    assert.is_string(err.body)
  end)

  it("makes assert() raise with the message", function()
    local ok, e = pcall(function() return assert(client.instances:get("VZNOPE")) end)
    assert.is_false(ok)
    assert.matches("vzaps: instance not found %(status 404%)", e)
  end)

  local messages = {
    { "error first", { error = "E", message = "M", detail = "D" }, "E" },
    { "then message", { message = "M", detail = "D" }, "M" },
    { "then detail", { detail = "D" }, "D" },
    { "null error skipped", { error = emulator.json.null, message = "M" }, "M" },
    { "empty error skipped", { error = "", detail = "D" }, "D" },
    { "reason phrase", { something = 1 }, "Bad Request" },
  }
  for _, case in ipairs(messages) do
    it("takes the message from the body: " .. case[1], function()
      emu:script({ status = 400, json = case[2] })
      local _, msg, err = client.instances:list()
      assert.equal(case[3], err.message)
      assert.equal("vzaps: " .. case[3] .. " (status 400)", msg)
    end)
  end

  local codes = {
    { "code", { error = "x", code = "BAD_THING" }, "BAD_THING" },
    { "numeric code", { error = "x", code = 4021 }, "4021" },
    { "error_code", { error = "x", error_code = "E42" }, "E42" },
    { "default", { error = "x" }, "HTTP_400" },
  }
  for _, case in ipairs(codes) do
    it("takes the code from the body: " .. case[1], function()
      emu:script({ status = 400, json = case[2] })
      local _, _, err = client.instances:list()
      assert.equal(case[3], err.code)
    end)
  end

  it("classifies 403 as auth and 500 as http", function()
    emu:script({ status = 403, json = { error = "no" } })
    local _, _, e403 = client.instances:list()
    assert.equal("auth", e403.kind)
    assert.equal("AUTHENTICATION_FAILED", e403.code)
    emu:script({ status = 500, json = { error = "boom" } })
    local _, _, e500 = client.instances:list()
    assert.equal("http", e500.kind)
    assert.equal("HTTP_500", e500.code)
    assert.equal(500, e500.status)
  end)

  it("reports a non-JSON error body as text", function()
    emu:script({ status = 502, body = "<html>Bad gateway</html>", headers = { ["Content-Type"] = "text/html" } })
    local _, msg, err = client.instances:list()
    assert.equal("vzaps: Bad Gateway (status 502)", msg)
    assert.equal("<html>Bad gateway</html>", err.details)
    assert.equal("HTTP_502", err.code)
  end)

  it("returns the text of a non-JSON 2xx body, not an error", function()
    emu:script({ status = 200, body = "queued, thanks" })
    assert.equal("queued, thanks", client.instances:list())
  end)

  it("returns true for an empty 2xx body", function()
    emu:script({ status = 200, body = "  \n" })
    assert.is_true(client.instances:list())
    emu:script({ status = 204 })
    assert.is_true(client.instances:list())
  end)

  it("reports 429 as rate_limit with retry_after in seconds", function()
    emu:script({ status = 429, json = { error = "slow down" }, headers = { ["Retry-After"] = "7" } })
    local _, msg, err = client.instances:list()
    assert.equal("vzaps: slow down (status 429)", msg)
    assert.equal("rate_limit", err.kind)
    assert.equal("RATE_LIMITED", err.code)
    assert.equal(7, err.retry_after)
  end)

  it("reads an HTTP-date Retry-After", function()
    local when = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 120)
    emu:script({ status = 429, json = { error = "later" }, headers = { ["Retry-After"] = when } })
    local _, _, err = client.instances:list()
    assert.is_true(err.retry_after > 100 and err.retry_after <= 121, tostring(err.retry_after))
  end)

  it("reports a timeout as kind timeout with no status", function()
    local c = emu:client({ timeout = 0.3, max_retries = 0 })
    emu:script({ delay = 2 })
    local res, msg, err = c.instances:list()
    assert.is_nil(res)
    assert.equal("vzaps: request timed out after 0.3 s; it may have been received", msg)
    assert.equal("timeout", err.kind)
    assert.equal("REQUEST_TIMEOUT", err.code)
    assert.is_nil(err.status)
    c:close()
  end)

  it("reports a refused connection as kind network", function()
    local c = vzaps.new({ client_token = "t", client_secret = "s", base_url = "http://127.0.0.1:" .. emulator.free_port(),
                          max_retries = 0 })
    local res, msg, err = c.instances:list()
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.equal("NETWORK_ERROR", err.code)
    assert.matches("^vzaps: request failed: ", msg)
    assert.equal("/token", err.path)
    c:close()
  end)

  describe("retries", function()
    local rc
    before_each(function() rc = emu:client({ max_retries = 2 }) end)
    after_each(function() rc:close() end)

    it("retries 429 (any method) honouring Retry-After", function()
      assert(rc.auth:get_access_token())
      emu:clear()
      emu:script({ path = "/instances/list", status = 429, json = { error = "wait" }, headers = { ["Retry-After"] = "0" } })
      assert.is_table(rc.instances:list())
      assert.equal(2, emu:count("POST", "/instances/list"))
    end)

    it("stops after max_retries and returns the last error", function()
      assert(rc.auth:get_access_token())
      emu:clear()
      emu:script({ path = "/instances/list", times = 3, status = 429, json = { error = "wait" },
                   headers = { ["Retry-After"] = "0" } })
      local _, _, err = rc.instances:list()
      assert.equal("rate_limit", err.kind)
      assert.equal(3, emu:count("POST", "/instances/list"))
    end)

    it("does not sleep on a Retry-After longer than a minute", function()
      assert(rc.auth:get_access_token())
      emu:clear()
      emu:script({ path = "/instances/list", status = 429, json = { error = "wait" }, headers = { ["Retry-After"] = "3600" } })
      local _, _, err = rc.instances:list()
      assert.equal(3600, err.retry_after)
      assert.equal(1, emu:count("POST", "/instances/list"))
    end)

    it("retries 503 on GET, PUT and DELETE", function()
      local path = "/instances/" .. inst.id .. "/session/status"
      emu:script({ path = path, status = 503, json = { error = "busy" } })
      assert(rc:request("GET", path, { instance_token = inst.token }))
      assert.equal(2, emu:count("GET", path))
      local cancel = "/instances/" .. inst.id .. "/cancel"
      emu:script({ path = cancel, status = 504, json = { error = "busy" } })
      assert(rc.instances:cancel(inst.id, { instance_token = inst.token }))
      assert.equal(2, emu:count("PUT", cancel))
    end)

    it("never retries a POST or PATCH answered 502/503/504", function()
      local restart_path = "/instances/" .. inst.id .. "/restart"
      emu:script({ path = restart_path, status = 503, json = { error = "busy" } })
      local _, _, err = rc.instances:restart(inst.id, { instance_token = inst.token })
      assert.equal(503, err.status)
      assert.equal(1, emu:count("POST", restart_path))
      local patch_path = "/instances/" .. inst.id
      emu:script({ path = patch_path, status = 502, json = { error = "busy" } })
      local _, _, err2 = rc.instances:update(inst.id, { name = "x" }, { instance_token = inst.token })
      assert.equal(502, err2.status)
      assert.equal(1, emu:count("PATCH", patch_path))
    end)

    it("does not retry a 500", function()
      assert(rc.auth:get_access_token())
      emu:clear()
      emu:script({ path = "/instances/list", status = 500, json = { error = "boom" } })
      assert.is_nil(rc.instances:list())
      assert.equal(1, emu:count("POST", "/instances/list"))
    end)
  end)

  describe("a POST whose connection dies after it was sent", function()
    -- libcurl would silently resend on a fresh connection when a reused
    -- keep-alive connection closes without an answer (contract §9).
    local function warm(c) assert(c.instances:list()) end

    it("is not sent again when bodiless", function()
      local c = emu:client({ max_retries = 2 })
      warm(c)
      emu:clear()
      local path = "/instances/" .. inst.id .. "/restart"
      emu:script({ path = path, fault = "close" })
      local res, msg, err = c.instances:restart(inst.id, { instance_token = inst.token })
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.matches("may have been received", msg)
      assert.equal(1, emu:count("POST", path))
      -- and the client keeps working on a fresh connection
      assert.is_table(c.instances:list())
      c:close()
    end)

    it("is not sent again with a body", function()
      local c = emu:client({ max_retries = 2 })
      warm(c)
      emu:clear()
      emu:script({ path = "/instances/search", fault = "close" })
      local res, _, err = c:request("POST", "/instances/search", { body = { query = "x" } })
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.equal(1, emu:count("POST", "/instances/search"))
      c:close()
    end)

    it("a GET may be sent again (safe to repeat)", function()
      local c = emu:client({ max_retries = 0 })
      warm(c)
      emu:clear()
      local path = "/instances/" .. inst.id .. "/session/status"
      emu:script({ path = path, fault = "close" })
      local res = c:request("GET", path, { instance_token = inst.token })
      assert.is_table(res)
      assert.equal(2, emu:count("GET", path))
      c:close()
    end)
  end)
end)
