-- The token exchange and cache (contract §2.1), the 401 replay (D14).
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")

describe("auth", function()
  local emu
  setup(function() emu = emulator.start() end)
  teardown(function() emu:stop() end)
  before_each(function() emu:reset() end)

  local function token_requests()
    local n = 0
    for _, r in ipairs(emu:requests()) do if r.path == "/token" then n = n + 1 end end
    return n
  end

  it("puts the token exchange on the wire as the contract says", function()
    local c = emu:client()
    local tok = assert(c.auth:get_access_token())
    local r = emu:last_request()
    assert.equal("POST", r.method)
    assert.equal("/token", r.path)
    assert.equal("", r.query)
    assert.same({ client_token = emulator.CLIENT_TOKEN, client_secret = emulator.CLIENT_SECRET }, r.json)
    assert.equal("application/json", r.headers["content-type"])
    assert.equal("application/json", r.headers["accept"])
    assert.equal("VZaps.SDK.Lua/" .. vzaps.VERSION, r.headers["user-agent"])
    assert.is_nil(r.headers["authorization"])
    assert.is_nil(r.headers["x-client-token"])
    assert.is_nil(r.headers["expect"])
    assert.matches("^emu%.", tok)
    c:close()
  end)

  it("fetches the token lazily, never at construction", function()
    local c = emu:client()
    assert.equal(0, token_requests())
    c:close()
  end)

  it("uses one /token call for many calls", function()
    local c = emu:client()
    for _ = 1, 5 do assert(c.instances:list()) end
    local tok1 = c.auth:get_access_token()
    local tok2 = c.auth:get_access_token()
    assert.equal(tok1, tok2)
    assert.equal(1, token_requests())
    for _, r in ipairs(emu:api_requests()) do
      assert.equal("Bearer " .. tok1, r.headers["authorization"])
      assert.equal(emulator.CLIENT_TOKEN, r.headers["x-client-token"])
    end
    c:close()
  end)

  it("refreshes a token within token_skew of its expiry", function()
    emu:config({ token_ttl = 30 })
    local c = emu:client({ token_skew = 60 }) -- every token is already "expired"
    assert(c.instances:list())
    assert(c.instances:list())
    assert.equal(2, token_requests())
    c:close()
  end)

  it("refreshes after the token expires", function()
    emu:config({ token_ttl = 0.3 })
    local c = emu:client({ token_skew = 0 })
    assert(c.instances:list())
    assert(c.instances:list())
    assert.equal(1, token_requests())
    require("socket").sleep(0.4)
    assert(c.instances:list())
    assert.equal(2, token_requests())
    c:close()
  end)

  it("accepts accessToken / expiresIn", function()
    emu:config({ token_style = "camel" })
    local c = emu:client()
    assert.matches("^emu%.", assert(c.auth:get_access_token()))
    assert(c.instances:list())
    assert.equal(1, token_requests())
    c:close()
  end)

  it("accepts expires_in as a numeric string", function()
    emu:script({ path = "/token", status = 200, json = { access_token = "tok-from-script", expires_in = "3600" } })
    local c = emu:client()
    assert.equal("tok-from-script", c.auth:get_access_token())
    c:close()
  end)

  local bad_answers = {
    { "an empty token", { access_token = "", expires_in = 3600 } },
    { "no lifetime", { access_token = "abcd-token" } },
    { "a zero lifetime", { access_token = "abcd-token", expires_in = 0 } },
    { "a non-numeric lifetime", { access_token = "abcd-token", expires_in = "soon" } },
    { "a null token", { access_token = emulator.json.null, expires_in = 10 } },
  }
  for _, case in ipairs(bad_answers) do
    it("reports a token response with " .. case[1] .. " as an auth error", function()
      emu:script({ path = "/token", status = 200, json = case[2] })
      local c = emu:client()
      local tok, msg, err = c.auth:get_access_token()
      assert.is_nil(tok)
      assert.equal("vzaps: token response is missing access_token or expires_in (status 401)", msg)
      assert.equal("auth", err.kind)
      assert.equal(401, err.status)
      assert.equal("AUTHENTICATION_FAILED", err.code)
      assert.equal("POST", err.method)
      assert.equal("/token", err.path)
      assert.not_matches("abcd%-token", msg)
      if type(err.details) == "table" and type(err.details.access_token) == "string" then
        assert.not_matches("abcd%-token", err.details.access_token)
      end
      c:close()
    end)
  end

  -- The token goes in every later request's Authorization header: a CR LF
  -- in it would add a header of the server's choosing (issue 18, item 6).
  local poisoned = {
    { "a CR LF", "jwtAAAA\r\nX-Injected: yes", "control characters" },
    { "a NUL byte", "jwtAAAA\0tail", "control characters" },
    { "a bare LF", "jwtAAAA\nX-Injected: yes", "control characters" },
    { "9,000 bytes", ("j"):rep(9000), "longer than 4096 bytes" },
  }
  for _, case in ipairs(poisoned) do
    it("refuses an access_token with " .. case[1] .. ": auth error, nothing else sent", function()
      emu:script({ path = "/token", status = 200, json = { access_token = case[2], expires_in = 3600 } })
      local c = emu:client({ max_retries = 0 })
      local res, msg, err = c.instances:list()
      assert.is_nil(res)
      assert.truthy(msg:find(case[3], 1, true), msg)
      assert.equal("auth", err.kind)
      assert.equal("AUTHENTICATION_FAILED", err.code)
      assert.equal("/token", err.path)
      assert.is_nil(msg:find("jwtAAAA", 1, true))
      assert.equal(0, #emu:api_requests())
      for _, r in ipairs(emu:requests()) do assert.is_nil(r.headers["x-injected"]) end
      -- the next call fetches a good token and goes out without the header
      assert(c.instances:list())
      local last = emu:last_request()
      assert.equal("/instances/list", last.path)
      assert.is_nil(last.headers["x-injected"])
      c:close()
    end)
  end

  it("reports wrong credentials as an auth error and does not replay /token", function()
    local c = emu:client({ client_secret = "wrong-secret-value" })
    local res, msg, err = c.instances:list()
    assert.is_nil(res)
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("AUTHENTICATION_FAILED", err.code)
    assert.equal("/token", err.path)
    assert.equal(1, token_requests())
    assert.equal(0, #emu:api_requests())
    assert.not_matches("wrong%-secret%-value", msg)
    c:close()
  end)

  it("fetches a new token and replays once after a 401", function()
    local c = emu:client()
    local old = assert(c.auth:get_access_token())
    emu:revoke()
    emu:clear()
    local page = assert(c.instances:list())
    assert.is_table(page.content)
    local reqs = emu:requests()
    assert.equal(3, #reqs)
    assert.equal("/instances/list", reqs[1].path)
    assert.equal("Bearer " .. old, reqs[1].headers["authorization"])
    assert.equal("/token", reqs[2].path)
    assert.equal("/instances/list", reqs[3].path)
    local new = c.auth:get_access_token()
    assert.not_equal(old, new)
    assert.equal("Bearer " .. new, reqs[3].headers["authorization"])
    assert.same(reqs[1].json, reqs[3].json)
    c:close()
  end)

  it("gives up after the one replay when the 401 repeats", function()
    local c = emu:client()
    assert(c.auth:get_access_token())
    emu:clear()
    emu:script({ path = "/instances/list", times = 2, status = 401, json = { error = "token revoked", code = "UNAUTHORIZED" } })
    local res, msg, err = c.instances:list()
    assert.is_nil(res)
    assert.equal("vzaps: token revoked (status 401)", msg)
    assert.equal("auth", err.kind)
    assert.equal("UNAUTHORIZED", err.code)
    assert.equal(2, emu:count("POST", "/instances/list"))
    assert.equal(1, token_requests())
    c:close()
  end)

  it("does not replay a 401 on a request made with no_auth", function()
    local c = emu:client()
    emu:script({ path = "/instances/list", status = 401, json = { error = "nope" } })
    local res, _, err = c:request("POST", "/instances/list", { no_auth = true })
    assert.is_nil(res)
    assert.equal(401, err.status)
    assert.equal(1, #emu:requests())
    c:close()
  end)

  it("does not replay a 403", function()
    local c = emu:client()
    emu:script({ path = "/instances/list", status = 403, json = { message = "forbidden plan" } })
    local res, msg, err = c.instances:list()
    assert.is_nil(res)
    assert.equal("vzaps: forbidden plan (status 403)", msg)
    assert.equal("auth", err.kind)
    assert.equal("AUTHENTICATION_FAILED", err.code)
    assert.equal(1, emu:count("POST", "/instances/list"))
    c:close()
  end)

  it("keeps secrets out of messages, bodies and details", function()
    local c = emu:client()
    local tok = assert(c.auth:get_access_token())
    local inst = emu:new_instance("secret")
    local echo = ("bad %s %s %s %s"):format(emulator.CLIENT_SECRET, emulator.CLIENT_TOKEN, tok, inst.token)
    emu:script({ status = 400, json = { error = echo, detail = { nested = echo } } })
    local res, msg, err = c.instances:restart(inst.id, { instance_token = inst.token })
    assert.is_nil(res)
    for _, text in ipairs({ msg, err.message, err.body, err.details.error, err.details.detail.nested, tostring(err) }) do
      for _, secret in ipairs({ emulator.CLIENT_SECRET, emulator.CLIENT_TOKEN, tok, inst.token }) do
        assert.is_nil(text:find(secret, 1, true), "secret leaked into: " .. text)
      end
    end
    assert.matches("%[REDACTED%]", msg)
    c:close()
  end)
end)
