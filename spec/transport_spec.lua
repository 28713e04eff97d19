-- spec/transport_spec.lua: the `transport` client option (the API description,
-- "Client options"): a Lua function in place of libcurl. A recording fake
-- transport with canned answers; no emulator.
local vzaps = require("vzaps")
local wire = require("spec.support.wire")
local compat = require("spec.support.compat")

local UA = "VZaps.SDK.Lua/" .. vzaps.VERSION
local BASE = "https://api.test"
local CT, CS = "ct-transport-1234", "cs-transport-5678"

-- The fake: records every request table (a copy, headers lowercased for the
-- checks) and answers from a handler; /token answers jwt-1, jwt-2, ... unless
-- the handler takes it.
local NONE = setmetatable({}, { __name = "NONE" }) -- handler result: return plain nil

local function fake(handler)
  local t = { calls = {}, tokens = 0 }
  function t.fn(req)
    local copy = { method = req.method, url = req.url, body = req.body, timeout = req.timeout,
                   headers = {}, raw_headers = req.headers }
    local names = {}
    for k, v in pairs(req.headers) do
      local lk = k:lower()
      assert(names[lk] == nil, "header " .. lk .. " given twice")
      names[lk] = true
      copy.headers[lk] = v
    end
    t.calls[#t.calls + 1] = copy
    if handler then
      local a, b = handler(req, t)
      if a == NONE then return nil end
      if a ~= nil or b ~= nil then return a, b end
    end
    if req.url == BASE .. "/token" then
      t.tokens = t.tokens + 1
      return { status = 200, headers = { ["Content-Type"] = "application/json" },
               body = '{"access_token":"jwt-' .. t.tokens .. '","expires_in":3600}' }
    end
    return { status = 200, headers = {}, body = '{"ok":true}' }
  end
  function t.api_calls()
    local out = {}
    for _, c in ipairs(t.calls) do
      if c.url ~= BASE .. "/token" then out[#out + 1] = c end
    end
    return out
  end
  function t.token_calls()
    return #t.calls - #t.api_calls()
  end
  return t
end

local function new_client(f, opts)
  local o = { client_token = CT, client_secret = CS, base_url = BASE, transport = f.fn }
  for k, v in pairs(opts or {}) do o[k] = v end
  return vzaps.new(o)
end

-- An answer for API calls only (the token exchange keeps working).
local function api_answer(res, errmsg)
  return function(req)
    if req.url ~= BASE .. "/token" then return res, errmsg end
  end
end

local assert_failure = wire.tuple -- the failure tuple's shape; returns err

describe("transport option", function()
  -- -------------------------------------------------------------------------
  -- what the transport receives
  -- -------------------------------------------------------------------------

  it("receives the token exchange: POST /token, credentials body, no auth headers", function()
    local f = fake()
    local c = new_client(f)
    assert.equals("jwt-1", c.auth:get_access_token())
    assert.equals(1, #f.calls)
    local t = f.calls[1]
    assert.equals("POST", t.method)
    assert.equals(BASE .. "/token", t.url)
    assert.same({ accept = "application/json", ["user-agent"] = UA, ["content-type"] = "application/json" },
      t.headers)
    assert.same({ client_token = CT, client_secret = CS }, vzaps.json.decode(t.body))
    assert.equals(30, t.timeout)
    c:close()
  end)

  it("receives method, url, exactly the libcurl headers, body and timeout for a call with a body", function()
    local f = fake()
    local c = new_client(f)
    local res = assert(c.instances:get("VZ1"))
    assert.same({ ok = true }, res)
    local calls = f.api_calls()
    assert.equals(1, #calls)
    local r = calls[1]
    assert.equals("POST", r.method)
    assert.equals(BASE .. "/instances/get", r.url)
    assert.same({
      accept = "application/json", ["user-agent"] = UA, authorization = "Bearer jwt-1",
      ["x-client-token"] = CT, ["content-type"] = "application/json",
    }, r.headers)
    assert.equals('{"id":"VZ1"}', r.body)
    assert.equals(30, r.timeout)
    for k, v in pairs(r.raw_headers) do
      assert.is_string(k)
      assert.is_string(v)
    end
    c:close()
  end)

  it("receives X-Instance-Token and no body / Content-Type on a bodiless instance call", function()
    local f = fake()
    local c = new_client(f)
    assert(c.instances:restart("VZ/1", { instance_token = "itok-1" }))
    local r = f.api_calls()[1]
    assert.equals("POST", r.method)
    assert.equals(BASE .. "/instances/VZ%2F1/restart", r.url)
    assert.is_nil(r.body)
    assert.same({
      accept = "application/json", ["user-agent"] = UA, authorization = "Bearer jwt-1",
      ["x-client-token"] = CT, ["x-instance-token"] = "itok-1",
    }, r.headers)
    c:close()
  end)

  it("receives a request with no_auth without auth headers and without any /token call", function()
    local f = fake()
    local c = new_client(f)
    assert(c:request("GET", "/open", { no_auth = true, query = { pageSize = 2 } }))
    assert.equals(1, #f.calls)
    local r = f.calls[1]
    assert.equals("GET", r.method)
    assert.equals(BASE .. "/open?page_size=2", r.url)
    assert.is_nil(r.body)
    assert.same({ accept = "application/json", ["user-agent"] = UA }, r.headers)
    c:close()
  end)

  it("receives caller headers and the custom user_agent", function()
    local f = fake()
    local c = new_client(f, { user_agent = "Custom/9" })
    assert(c:request("PUT", "/x", { body = "[1]", headers = { ["X-Trace"] = "abc", ACCEPT = "*/*" } }))
    local r = f.api_calls()[1]
    assert.equals("PUT", r.method)
    assert.equals("[1]", r.body)
    assert.same({
      accept = "*/*", ["user-agent"] = "Custom/9", authorization = "Bearer jwt-1", ["x-client-token"] = CT,
      ["content-type"] = "application/json", ["x-trace"] = "abc",
    }, r.headers)
    c:close()
  end)

  it("receives the client timeout, or the per-call timeout", function()
    local f = fake()
    local c = new_client(f, { timeout = 12 })
    assert(c:request("GET", "/a"))
    assert(c:request("GET", "/b", { timeout = 2.5 }))
    assert(c.instances:restart("VZ1", { instance_token = "itok", timeout = 4 }))
    local calls = f.api_calls()
    assert.equals(12, calls[1].timeout)
    assert.equals(2.5, calls[2].timeout)
    assert.equals(4, calls[3].timeout)
    c:close()
  end)

  it("does the token exchange once for several calls", function()
    local f = fake()
    local c = new_client(f)
    assert(c.instances:get("VZ1"))
    assert(c.instances:list())
    assert(c:request("GET", "/x"))
    assert(c.instances:restart("VZ1", { instance_token = "t-1" }))
    assert.equals(1, f.token_calls())
    assert.equals(4, #f.api_calls())
    for _, r in ipairs(f.api_calls()) do assert.equals("Bearer jwt-1", r.headers.authorization) end
    assert.equals(BASE .. "/token", f.calls[1].url)
    c:close()
  end)

  it("a 401 drops the token, fetches a new one and replays once", function()
    local n = 0
    local f = fake(function(req)
      if req.url ~= BASE .. "/token" then
        n = n + 1
        if n == 1 then return { status = 401, headers = {}, body = '{"error":"expired"}' } end
      end
    end)
    local c = new_client(f)
    local res = assert(c.instances:get("VZ1"))
    assert.same({ ok = true }, res)
    local urls = {}
    for i, r in ipairs(f.calls) do urls[i] = r.url end
    assert.same({ BASE .. "/token", BASE .. "/instances/get", BASE .. "/token", BASE .. "/instances/get" }, urls)
    assert.equals("Bearer jwt-1", f.calls[2].headers.authorization)
    assert.equals("Bearer jwt-2", f.calls[4].headers.authorization)
    assert.equals(f.calls[2].body, f.calls[4].body)
    c:close()
  end)

  it("a failed token exchange through the transport fails the call with kind auth", function()
    local f = fake(function(req)
      if req.url == BASE .. "/token" then
        return { status = 401, headers = {}, body = '{"error":"invalid client credentials","code":"AUTHENTICATION_FAILED"}' }
      end
    end)
    local c = new_client(f)
    local ok, msg, err = c.instances:get("VZ1")
    err = assert_failure(ok, msg, err)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals("invalid client credentials", err.message)
    assert.equals(0, #f.api_calls(), "the API call is never made without a token")
    assert.equals(1, f.token_calls(), "the token exchange is not replayed")
    assert.is_nil(msg:find(CS, 1, true))
    c:close()
  end)

  it("a token response without a usable token fails with kind auth and AUTHENTICATION_FAILED", function()
    local f = fake(function(req)
      if req.url == BASE .. "/token" then return { status = 200, headers = {}, body = '{"access_token":"jwt-x"}' } end
    end)
    local c = new_client(f)
    local ok, msg, err = c.instances:get("VZ1")
    err = assert_failure(ok, msg, err)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals("AUTHENTICATION_FAILED", err.code)
    assert.equals("token response is missing access_token or expires_in", err.message)
    assert.equals(0, #f.api_calls())
    c:close()
  end)

  -- -------------------------------------------------------------------------
  -- decoding the transport's answer
  -- -------------------------------------------------------------------------

  local success_cases = {
    { "a 2xx JSON body decodes with integers", { status = 200, body = '{"n":5,"big":9007199254740992,"x":null}' },
      function(res)
        assert.equals(5, res.n)
        compat.assert_integer(res.n)
        assert.equals(9007199254740992, res.big)
        compat.assert_integer(res.big)
        assert.equals(vzaps.null, res.x)
      end },
    { "a 2xx JSON body keeps integers above 2^53 exact", { status = 200, body = '{"big":9007199254740993}' },
      function(res)
        assert.equals(9007199254740993, res.big)
        compat.assert_integer(res.big)
      end, needs = "integers" },
    { "an empty 2xx body is true", { status = 204, body = "" }, function(res) assert.is_true(res) end },
    { "a missing body is true", { status = 200 }, function(res) assert.is_true(res) end },
    { "a whitespace body is true", { status = 200, body = " \n" }, function(res) assert.is_true(res) end },
    { "a 2xx text body is the text", { status = 201, body = "created!" },
      function(res) assert.equals("created!", res) end },
    { "a 2xx JSON array", { status = 200, body = '[{"a":[]},2]' },
      function(res)
        assert.equals(2, #res)
        assert.same({}, res[1].a)
        compat.assert_integer(res[2])
      end },
  }
  for _, case in ipairs(success_cases) do
    compat.it_if(case.needs, "answer: " .. case[1], function()
      local res_t = case[2]
      res_t.headers = res_t.headers or {}
      local f = fake(api_answer(res_t))
      local c = new_client(f)
      local res, msg, err = c:request("POST", "/x")
      assert.is_nil(msg)
      assert.is_nil(err)
      case[3](res)
      c:close()
    end)
  end

  it("answer: a non-2xx gives the failure tuple with message, code, details, retry_after and request_id", function()
    local f = fake(api_answer({ status = 404, headers = { ["Retry-After"] = "7", ["X-Request-Id"] = "rid-9" },
                                body = '{"error":"gone","code":"NOT_FOUND","extra":[1]}' }))
    local c = new_client(f)
    local ok, msg, err = c.instances:get("VZ1")
    err = assert_failure(ok, msg, err)
    assert.equals("vzaps: gone (status 404)", msg)
    assert.equals("http", err.kind)
    assert.equals(404, err.status)
    assert.equals("NOT_FOUND", err.code)
    assert.equals("gone", err.message)
    assert.same({ error = "gone", code = "NOT_FOUND", extra = { 1 } }, err.details)
    assert.equals(7, err.retry_after)
    assert.equals("rid-9", err.request_id)
    assert.equals("POST", err.method)
    assert.equals("/instances/get", err.path)
    c:close()
  end)

  it("answer: response header names are read case-insensitively", function()
    local f = fake(api_answer({ status = 429, headers = { ["RETRY-AFTER"] = "3", ["x-REQUEST-id"] = "rid-up" },
                                body = '{"message":"slow down"}' }))
    local c = new_client(f, { max_retries = 0 })
    local ok, msg, err = c:request("POST", "/x")
    err = assert_failure(ok, msg, err)
    assert.equals("rate_limit", err.kind)
    assert.equals(429, err.status)
    assert.equals("RATE_LIMITED", err.code)
    assert.equals("slow down", err.message)
    assert.equals(3, err.retry_after)
    assert.equals("rid-up", err.request_id)
    assert.equals(1, #f.api_calls())
    c:close()
  end)

  local message_cases = {
    { "error first", '{"error":"E","message":"M","detail":"D"}', "E" },
    { "then message", '{"error":null,"message":"M","detail":"D"}', "M" },
    { "then detail", '{"error":"","detail":"D"}', "D" },
    { "then the fallback", '{"code":"X"}', "request failed with HTTP 418" },
    { "non-JSON body", "teapot", "request failed with HTTP 418" },
  }
  for _, case in ipairs(message_cases) do
    it("answer: error message from the body, " .. case[1], function()
      local f = fake(api_answer({ status = 418, headers = {}, body = case[2] }))
      local c = new_client(f)
      local ok, msg, err = c:request("POST", "/x")
      err = assert_failure(ok, msg, err)
      assert.equals(case[3], err.message)
      assert.equals("vzaps: " .. case[3] .. " (status 418)", msg)
      assert.equals("http", err.kind)
      c:close()
    end)
  end

  it("answer: a 403 is kind auth, a 401 after the replay too", function()
    local f = fake(api_answer({ status = 403, headers = {}, body = '{"error":"forbidden"}' }))
    local c = new_client(f)
    local _, _, err = c:request("POST", "/x")
    assert.equals("auth", err.kind)
    assert.equals(403, err.status)
    assert.equals("AUTHENTICATION_FAILED", err.code)
    c:close()

    local f2 = fake(api_answer({ status = 401, headers = {}, body = '{"error":"nope","code":"UNAUTHORIZED"}' }))
    local c2 = new_client(f2)
    local _, _, err2 = c2:request("POST", "/x")
    assert.equals("auth", err2.kind)
    assert.equals(401, err2.status)
    assert.equals("UNAUTHORIZED", err2.code)
    assert.equals(2, #f2.api_calls())
    assert.equals(2, f2.token_calls())
    c2:close()
  end)

  -- -------------------------------------------------------------------------
  -- transport failures
  -- -------------------------------------------------------------------------

  it("failure: nil, \"connection refused\" gives kind network", function()
    local f = fake(api_answer(nil, "connection refused"))
    local c = new_client(f)
    local ok, msg, err = c.instances:get("VZ1")
    err = assert_failure(ok, msg, err)
    assert.equals("network", err.kind)
    assert.equals("NETWORK_ERROR", err.code)
    assert.is_nil(err.status)
    assert.truthy(err.message:find("connection refused", 1, true))
    assert.equals("POST", err.method)
    assert.equals("/instances/get", err.path)
    c:close()
  end)

  it("failure: a transport that raises gives kind network and does not raise out of the call", function()
    local f = fake(function(req)
      if req.url ~= BASE .. "/token" then error("socket exploded") end
    end)
    local c = new_client(f)
    local ok, r1, r2, r3 = pcall(c.instances.restart, c.instances, "VZ1", { instance_token = "itok" })
    assert.is_true(ok, "the call must not raise")
    local err = assert_failure(r1, r2, r3)
    assert.equals("network", err.kind)
    assert.equals("NETWORK_ERROR", err.code)
    assert.truthy(err.message:find("socket exploded", 1, true))
    assert.equals("POST", err.method)
    assert.equals("/instances/VZ1/restart", err.path)
    c:close()
  end)

  it("failure: a transport raising a non-string error value gives kind network", function()
    local f = fake(function(req)
      if req.url ~= BASE .. "/token" then error({ code = 1 }) end
    end)
    local c = new_client(f)
    local ok, r1, r2, r3 = pcall(c.request, c, "GET", "/x")
    assert.is_true(ok, "the call must not raise")
    local err = assert_failure(r1, r2, r3)
    assert.equals("network", err.kind)
    c:close()
  end)

  it("failure: nil, \"timeout\" gives kind timeout, code REQUEST_TIMEOUT", function()
    local f = fake(api_answer(nil, "timeout"))
    local c = new_client(f)
    local ok, msg, err = c:request("GET", "/slow")
    err = assert_failure(ok, msg, err)
    assert.equals("timeout", err.kind)
    assert.equals("REQUEST_TIMEOUT", err.code)
    assert.is_nil(err.status)
    assert.equals("GET", err.method)
    assert.equals("/slow", err.path)
    c:close()
  end)

  it("failure: a failing token exchange is reported, not raised", function()
    local f = fake(function(req)
      if req.url == BASE .. "/token" then return nil, "connection refused" end
    end)
    local c = new_client(f)
    local ok, msg, err = c:request("GET", "/x")
    err = assert_failure(ok, msg, err)
    assert.equals("network", err.kind)
    assert.equals(0, #f.api_calls())
    local tok, tmsg, terr = c.auth:get_access_token()
    assert.is_nil(tok)
    assert.equals("network", assert_failure(tok, tmsg, terr).kind)
    c:close()
  end)

  local bad_answers = {
    { "nothing", NONE },
    { "a string", "200 OK" },
    { "no status", { headers = {}, body = "{}" } },
    { "status out of range", { status = 99, headers = {}, body = "{}" } },
    { "status not a number", { status = "abc", headers = {}, body = "{}" } },
    { "a non-string body", { status = 200, headers = {}, body = { 1 } } },
  }
  for _, case in ipairs(bad_answers) do
    it("failure: a malformed answer (" .. case[1] .. ") gives kind network", function()
      local f = fake(function(req)
        if req.url ~= BASE .. "/token" then return case[2] end
      end)
      local c = new_client(f)
      local ok, r1, r2, r3 = pcall(c.request, c, "POST", "/x")
      assert.is_true(ok, "the call must not raise")
      local err = assert_failure(r1, r2, r3)
      assert.equals("network", err.kind)
      assert.equals("NETWORK_ERROR", err.code)
      c:close()
    end)
  end

  it("failure: messages never contain the client secret or the token", function()
    local f = fake(function(req)
      if req.url ~= BASE .. "/token" then return nil, "refused, had " .. CS .. " and jwt-1" end
    end)
    local c = new_client(f)
    local ok, msg, err = c:request("GET", "/x")
    err = assert_failure(ok, msg, err)
    assert.is_nil(msg:find(CS, 1, true))
    assert.is_nil(msg:find("jwt-1", 1, true))
    assert.equals("network", err.kind)
    c:close()
  end)

  -- -------------------------------------------------------------------------
  -- `sent`: a transport says whether anything reached the server
  -- -------------------------------------------------------------------------

  -- A transport whose API calls fail with the given results (recorded
  -- like the fake's; /token still answers).
  local function failing(...)
    local results = { n = select("#", ...), ... }
    local f = fake()
    local record = f.fn
    f.fn = function(req)
      local res = record(req)
      if req.url == BASE .. "/token" then return res end
      return (table.unpack or unpack)(results, 1, results.n)
    end
    return f
  end

  it("sent = false: a POST is retried like a libcurl failure before sending", function()
    local f = failing(nil, "connection refused", "network", false)
    local c = new_client(f, { max_retries = 2, retry_backoff = 0.001 })
    local ok, msg, err = c.instances:restart("VZ1", { instance_token = "itok" })
    err = assert_failure(ok, msg, err)
    assert.equals(3, #f.api_calls(), "one attempt and two retries")
    assert.equals("network", err.kind)
    assert.is_false(err.sent)
    assert.equals("POST", f.api_calls()[3].method)
    c:close()
  end)

  it("sent = false with kind timeout: retried too", function()
    local f = failing(nil, "connect timeout", "timeout", false)
    local c = new_client(f, { max_retries = 1, retry_backoff = 0.001 })
    local ok, msg, err = c:request("POST", "/x", { body = { a = 1 } })
    err = assert_failure(ok, msg, err)
    assert.equals(2, #f.api_calls())
    assert.equals("timeout", err.kind)
    c:close()
  end)

  it("nothing said about sent: the request may have been sent, and is never sent twice", function()
    local f = failing(nil, "connection reset", "network")
    local c = new_client(f, { max_retries = 2, retry_backoff = 0.001 })
    local ok, msg, err = c.instances:restart("VZ1", { instance_token = "itok" })
    err = assert_failure(ok, msg, err)
    assert.equals(1, #f.api_calls(), "a request that may have been received is not resent")
    assert.equals("network", err.kind)
    assert.is_true(err.sent)
    assert.truthy(err.message:find("connection reset", 1, true))
    c:close()
  end)

  it("a transport that raises may have sent the request: not retried", function()
    local f = fake(function(req)
      if req.url ~= BASE .. "/token" then error("socket exploded") end
    end)
    local c = new_client(f, { max_retries = 2, retry_backoff = 0.001 })
    local ok, msg, err = c:request("GET", "/x")
    err = assert_failure(ok, msg, err)
    assert.equals(1, #f.api_calls())
    assert.is_true(err.sent)
    c:close()
  end)
end)
