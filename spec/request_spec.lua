-- spec/request_spec.lua: client:request(method, path, opts), the escape
-- hatch (the contract §2, §3.1, §3.3, §4.13, §5; the API description).
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")
local wire = require("spec.support.wire")
local compat = require("spec.support.compat")

local UA = "VZaps.SDK.Lua/" .. vzaps.VERSION

-- A client whose transport records the requests (for what the emulator
-- cannot show: the exact URL, "?" or not) and answers {"ok":true}.
local function recording_client()
  local seen = {}
  local c = vzaps.new({
    client_token = "ct-record", client_secret = "cs-record", base_url = "https://api.test/",
    transport = function(req)
      seen[#seen + 1] = req
      if req.url == "https://api.test/token" then
        return { status = 200, headers = {}, body = '{"access_token":"jwt-rec","expires_in":3600}' }
      end
      return { status = 200, headers = {}, body = '{"ok":true}' }
    end,
  })
  return c, seen
end

describe("client:request", function()
  local emu, client
  emulator.fixture(nil, function(e, c) emu, client = e, c end)

  -- -------------------------------------------------------------------------
  -- helpers
  -- -------------------------------------------------------------------------

  local function new_instance(name)
    local inst = assert(client.instances:create({ name = name or "Request spec" }))
    emu:clear()
    return inst
  end

  local function only_api_request()
    local list = emu:api_requests()
    assert.equals(1, #list, "expected exactly one API request")
    return list[1]
  end

  local function assert_auth_headers(r)
    assert.equals("Bearer " .. client.auth:get_access_token(), r.headers.authorization)
    assert.equals(emulator.CLIENT_TOKEN, r.headers["x-client-token"])
    assert.equals("application/json", r.headers.accept)
    assert.equals(UA, r.headers["user-agent"])
  end

  local assert_failure = wire.tuple -- the failure tuple's shape; returns err

  local function assert_arg_error(fn, n, why)
    emu:clear()
    local ok, msg = pcall(fn)
    assert.is_false(ok, "expected an argument error")
    assert.is_string(msg)
    local head = ("bad argument #%d to 'request' ("):format(n)
    local at = msg:find(head, 1, true)
    assert(at, ("expected %q in %q"):format(head, msg))
    assert.matches("%)$", msg)
    assert(msg:find("request_spec%.lua:%d+: bad argument"), "the message should point at the caller: " .. msg)
    if why then assert(msg:find(why, at + #head, true), ("expected %q in %q"):format(why, msg)) end
    assert.equals(0, #emu:requests(), "nothing may be sent before an argument error")
  end

  -- Queues a scripted answer for the next request to path.
  local function answer(path, status, body, headers)
    emu:script({ path = path, status = status, body = body, headers = headers })
  end

  -- -------------------------------------------------------------------------
  -- basics
  -- -------------------------------------------------------------------------

  it("runs the README example POST /instances/get with a body table", function()
    local inst = new_instance("Readme example")
    local res = assert(client:request("POST", "/instances/get", { body = { id = inst.id } }))
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals("/instances/get", r.path)
    assert.equals("", r.query)
    assert.equals('{"id":"' .. inst.id .. '"}', r.body)
    assert_auth_headers(r)
    assert.equals("application/json", r.headers["content-type"])
    assert.is_nil(r.headers["x-instance-token"])
    assert.equals(inst.id, res.id)
    assert.equals("Readme example", res.name)
    assert.equals(inst.token, res.token)
  end)

  it("accepts a path without the leading /", function()
    local inst = new_instance("No slash")
    local res = assert(client:request("POST", "instances/get", { body = { id = inst.id } }))
    local r = only_api_request()
    assert.equals("/instances/get", r.path)
    assert.equals(inst.id, res.id)

    local c, seen = recording_client()
    assert(c:request("GET", "a/b"))
    assert(c:request("GET", "/a/b"))
    assert(c:request("GET", "//a/b"))
    assert.equals("https://api.test/a/b", seen[2].url)
    assert.equals("https://api.test/a/b", seen[3].url)
    assert.equals("https://api.test/a/b", seen[4].url)
    c:close()
  end)

  it("sends a string body verbatim with Content-Type application/json", function()
    local raw = '{ "query" : "verbatim-\\u00e9",  "n": 1.0 }'
    local res = assert(client:request("POST", "/instances/search", { body = raw }))
    local r = only_api_request()
    assert.equals("POST", r.method)
    assert.equals(raw, r.body)
    assert.equals("application/json", r.headers["content-type"])
    assert.equals(tostring(#raw), r.headers["content-length"])
    assert.is_table(res.content)
  end)

  it("encodes a table body (integers plain, empty table {}, vzaps.array [] and vzaps.null)", function()
    answer("/echo", 200, '{"ok":true}')
    local body = { n = 1, big = 9007199254740992, f = 2.5, flag = false, obj = {}, arr = vzaps.array(),
                   list = { 1, 2, 3 }, none = vzaps.null, s = "x" }
    local res = assert(client:request("PATCH", "/echo", { body = body }))
    assert.same({ ok = true }, res)
    local r = only_api_request()
    assert.equals("PATCH", r.method)
    assert.matches('"n":1[,}]', r.body)
    assert.matches('"big":9007199254740992[,}]', r.body)
    assert.matches('"f":2%.5[,}]', r.body)
    assert.matches('"flag":false', r.body)
    assert.matches('"obj":{}', r.body)
    assert.matches('"arr":%[%]', r.body)
    assert.matches('"list":%[1,2,3%]', r.body)
    assert.matches('"none":null', r.body)
    assert.equals("x", r.json.s)
    assert.equals("application/json", r.headers["content-type"])
  end)

  compat.it_if("integers", "encodes integers above 2^53 exactly, all 64 bits", function()
    answer("/echo", 200, '{"ok":true}')
    assert(client:request("PATCH", "/echo", { body = { big = 9007199254740993, max = math.maxinteger,
                                                      min = math.mininteger } }))
    local r = only_api_request()
    assert.matches('"big":9007199254740993[,}]', r.body)
    assert.matches('"max":9223372036854775807[,}]', r.body)
    assert.matches('"min":%-9223372036854775808[,}]', r.body)
  end)

  it("sends no body and no Content-Type when opts.body is nil (Content-Length 0 on POST/PUT/PATCH)", function()
    for _, m in ipairs({ "POST", "PUT", "PATCH", "DELETE" }) do
      emu:clear()
      answer("/nobody", 204)
      assert.is_true(client:request(m, "/nobody"))
      local r = only_api_request()
      assert.equals(m, r.method)
      assert.equals("", r.body)
      assert.is_nil(r.headers["content-type"], m)
      if m ~= "DELETE" then assert.equals("0", r.headers["content-length"], m) end
      assert_auth_headers(r)
    end
  end)

  it("sends a body with DELETE, PUT, PATCH and OPTIONS under the given method", function()
    for _, m in ipairs({ "DELETE", "PUT", "PATCH", "OPTIONS" }) do
      emu:clear()
      answer("/verb", 200, '{"m":"' .. m .. '"}')
      local res = assert(client:request(m, "/verb", { body = { a = 1 } }))
      assert.equals(m, res.m)
      local r = only_api_request()
      assert.equals(m, r.method)
      assert.equals('{"a":1}', r.body)
      assert.equals("application/json", r.headers["content-type"], m)
    end
  end)

  it("sends a large body in one go, without Expect: 100-continue", function()
    answer("/big", 200, '{"ok":true}')
    local big = string.rep("x", 5000)
    assert(client:request("POST", "/big", { body = { s = big } }))
    local r = only_api_request()
    assert.is_nil(r.headers.expect)
    assert.equals(big, r.json.s)
    assert.equals(tostring(#r.body), r.headers["content-length"])
  end)

  it("a HEAD request returns true", function()
    -- "method: any HTTP verb string" (contract §4.13). A client of its own:
    -- the emulator wrongly sends a body after a HEAD answer (see the next
    -- spec), which must not reach the shared client's connection.
    local c = emu:client()
    emu:clear()
    answer("/head", 200, '{"ignored":true}')
    local res, msg = c:request("HEAD", "/head")
    c:close()
    assert.is_true(res, msg)
    local r = only_api_request()
    assert.equals("HEAD", r.method)
    assert.equals("", r.body)
  end)

  it("emulator: the answer to a HEAD request carries no body (RFC 9110 §9.3.2)", function()
    -- With a body after the headers, the module's next request on the same
    -- keep-alive connection may read those bytes as its response and fail
    -- with "Received HTTP/0.9 when not allowed" (a race with libcurl's
    -- dead-connection check). Checked here on a raw socket, deterministically.
    local socket = require("socket")
    answer("/head", 200, '{"ignored":true}')
    local s = socket.tcp()
    s:settimeout(2)
    assert(s:connect("127.0.0.1", emu.port))
    assert(s:send("HEAD /head HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
    local raw, _, partial = s:receive("*a")
    s:close()
    raw = raw or partial
    local head_end = raw:find("\r\n\r\n", 1, true)
    assert.truthy(head_end, "no complete header block: " .. raw)
    assert.matches("^HTTP/1%.1 200", raw)
    assert.equals("", raw:sub(head_end + 4), "bytes after the header block of a HEAD answer")
  end)

  -- -------------------------------------------------------------------------
  -- query strings (§3.3)
  -- -------------------------------------------------------------------------

  local query_cases = {
    { "camelCase keys are snake_cased", { pageSize = 20, groupId = "g1" }, "group_id=g1&page_size=20" },
    { "acronyms split per letter", { groupID = "x" }, "group_i_d=x" },
    { "a leading capital is lowercased with no leading _", { PageSize = 3 }, "page_size=3" },
    { "snake keys unchanged", { page_size = 2, already_snake = "y" }, "already_snake=y&page_size=2" },
    { "nil values dropped", { page = 1, reset = nil }, "page=1" },
    { "booleans are true/false", { reset = true, archived = false }, "archived=false&reset=true" },
    { "integers plain", { n = 42, neg = -7, big = 9007199254740992 }, "big=9007199254740992&n=42&neg=-7" },
    { "integers above 2^53 exact", { big = 9007199254740993, max = math.maxinteger },
      "big=9007199254740993&max=9223372036854775807", needs = "integers" },
    { "integral floats without fraction", { a = 3.0, b = 1e15, c = -2.0 }, "a=3&b=1000000000000000&c=-2" },
    { "other floats shortest round trip", { a = 0.1, b = 2.5, c = 1 / 3, d = 0.1 + 0.2 },
      "a=0.1&b=2.5&c=0.3333333333333333&d=0.30000000000000004" },
    { "subnormal floats shortest round trip too", { d = 5e-324, e = 1e-310 }, "d=5e-324&e=1e-310" },
    { "keys sorted", { zeta = 1, alpha = 2, mid = 3 }, "alpha=2&mid=3&zeta=1" },
    { "RFC 3986 escaping with %20 for space", { q = "a b+c&d=e/f?g#h~-._*" },
      "q=a%20b%2Bc%26d%3De%2Ff%3Fg%23h~-._%2A" },
    { "UTF-8 escaped per byte, uppercase hex", { q = "caf\195\169" }, "q=caf%C3%A9" },
    { "empty string kept", { q = "" }, "q=" },
    { "keys escaped too", { ["a b"] = 1 }, "a%20b=1" },
  }
  for _, case in ipairs(query_cases) do
    compat.it_if(case.needs, "query: " .. case[1], function()
      answer("/q", 200, '{"ok":true}')
      local res = assert(client:request("GET", "/q", { query = case[2] }))
      assert.same({ ok = true }, res)
      local r = only_api_request()
      assert.equals("GET", r.method)
      assert.equals("/q", r.path)
      assert.equals(case[3], r.query)
      assert.equals("", r.body)
    end)
  end

  it("query: an empty or all-nil query adds no ? to the URL", function()
    local c, seen = recording_client()
    assert(c:request("GET", "/q", { query = {} }))
    assert(c:request("GET", "/q", { query = { a = nil } }))
    assert(c:request("GET", "/q"))
    assert(c:request("GET", "/q", { query = { a = 1 } }))
    assert.equals("https://api.test/q", seen[2].url)
    assert.equals("https://api.test/q", seen[3].url)
    assert.equals("https://api.test/q", seen[4].url)
    assert.equals("https://api.test/q?a=1", seen[5].url)
    c:close()
  end)

  it("query: values that cannot be sent raise before sending", function()
    assert_arg_error(function() client:request("GET", "/q", { query = { t = {} } }) end, 3, "'t'")
    assert_arg_error(function() client:request("GET", "/q", { query = { f = print } }) end, 3, "'f'")
    assert_arg_error(function() client:request("GET", "/q", { query = { n = 0 / 0 } }) end, 3, "'n'")
    assert_arg_error(function() client:request("GET", "/q", { query = "a=1" }) end, 3, "query")
  end)

  -- -------------------------------------------------------------------------
  -- auth, instance token, headers
  -- -------------------------------------------------------------------------

  it("no_auth = true sends no Authorization / X-Client-Token and never calls /token", function()
    local fresh = emu:client()
    emu:clear()
    answer("/open", 200, '{"public":true}')
    local res = assert(fresh:request("PUT", "/open", { no_auth = true, instance_token = "itok-1" }))
    assert.same({ public = true }, res)
    local list = emu:requests()
    assert.equals(1, #list, "exactly one request, no /token")
    local r = list[1]
    assert.equals("PUT", r.method)
    assert.equals("/open", r.path)
    assert.is_nil(r.headers.authorization)
    assert.is_nil(r.headers["x-client-token"])
    assert.equals("itok-1", r.headers["x-instance-token"])
    assert.equals("application/json", r.headers.accept)
    assert.equals(UA, r.headers["user-agent"])
    assert.equals(0, emu:count("POST", "/token"))

    -- an authenticated-only route answers 401, which is not replayed with auth off
    emu:clear()
    local ok, msg, err = fresh:request("POST", "/instances/get", { no_auth = true, body = { id = "x" } })
    err = assert_failure(ok, msg, err)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals(1, #emu:requests())
    assert.equals(0, emu:count("POST", "/token"))
    fresh:close()
  end)

  it("instance_token is sent as X-Instance-Token", function()
    local inst = new_instance("Token holder")
    local res = assert(client:request("POST", "/instances/" .. inst.id .. "/restart",
      { instance_token = inst.token }))
    local r = only_api_request()
    assert.equals(inst.token, r.headers["x-instance-token"])
    assert_auth_headers(r)
    assert.is_nil(r.headers["content-type"])
    assert.equals("0", r.headers["content-length"])
    assert.equals("restarting", res.status)
    assert.equals(inst.id, res.instance_id)
  end)

  it("caller headers are applied last, replace same-named ones case-insensitively, and skip empty values", function()
    answer("/h", 200, '{"ok":true}')
    assert(client:request("POST", "/h", {
      body = { a = 1 },
      headers = { accept = "text/plain", ["USER-AGENT"] = "Caller/2", ["Content-type"] = "application/vnd+json",
                  ["X-Custom"] = "v1", ["X-Empty"] = "" },
    }))
    local r = only_api_request()
    assert.equals("text/plain", r.headers.accept)
    assert.equals("Caller/2", r.headers["user-agent"])
    assert.equals("application/vnd+json", r.headers["content-type"])
    assert.equals("v1", r.headers["x-custom"])
    assert.is_nil(r.headers["x-empty"])
    assert.equals(emulator.CLIENT_TOKEN, r.headers["x-client-token"])
    assert.equals("Bearer " .. client.auth:get_access_token(), r.headers.authorization)
  end)

  it("a caller X-Instance-Token header replaces the instance_token option", function()
    answer("/h2", 200, '{"ok":true}')
    assert(client:request("POST", "/h2", { instance_token = "from-opt", headers = { ["x-instance-token"] = "from-h" } }))
    local r = only_api_request()
    assert.equals("from-h", r.headers["x-instance-token"])
  end)

  it("the user_agent option replaces the default User-Agent", function()
    local c = emu:client({ user_agent = "MyApp/1.2 (+https://example.com)" })
    emu:clear()
    answer("/ua", 204)
    assert.is_true(c:request("POST", "/ua"))
    local r = only_api_request()
    assert.equals("MyApp/1.2 (+https://example.com)", r.headers["user-agent"])
    c:close()
  end)

  it("bad header names and values raise before sending", function()
    assert_arg_error(function() client:request("GET", "/h", { headers = { ["X-A"] = "a\r\nX-Injected: 1" } }) end, 3,
      "X-A")
    assert_arg_error(function() client:request("GET", "/h", { headers = { ["X-A"] = "a\nb" } }) end, 3, "X-A")
    assert_arg_error(function() client:request("GET", "/h", { headers = { ["X-A"] = "a\rb" } }) end, 3, "X-A")
    assert_arg_error(function() client:request("GET", "/h", { headers = { ["X A"] = "v" } }) end, 3, "header name")
    assert_arg_error(function() client:request("GET", "/h", { headers = { ["X:A"] = "v" } }) end, 3, "header name")
    assert_arg_error(function() client:request("GET", "/h", { headers = { [""] = "v" } }) end, 3, "header name")
    assert_arg_error(function() client:request("GET", "/h", { headers = { "positional" } }) end, 3, "header name")
    assert_arg_error(function() client:request("GET", "/h", { headers = { ["X-T"] = {} } }) end, 3, "X-T")
    assert_arg_error(function() client:request("GET", "/h", { headers = "X-A: 1" }) end, 3, "headers")
  end)

  -- -------------------------------------------------------------------------
  -- argument errors
  -- -------------------------------------------------------------------------

  it("a GET with a body raises before sending", function()
    assert_arg_error(function() client:request("GET", "/x", { body = { a = 1 } }) end, 3, "GET")
    assert_arg_error(function() client:request("get", "/x", { body = "{}" }) end, 3, "GET")
  end)

  it("a method that is not an HTTP verb raises before sending", function()
    assert_arg_error(function() client:request("GE T", "/x") end, 1)
    assert_arg_error(function() client:request("GET\r\nX-Evil: 1", "/x") end, 1)
    assert_arg_error(function() client:request("POST/1", "/x") end, 1)
    assert_arg_error(function() client:request("", "/x") end, 1)
    assert_arg_error(function() client:request(nil, "/x") end, 1)
    assert_arg_error(function() client:request(42, "/x") end, 1)
  end)

  it("a missing or bad path raises before sending", function()
    assert_arg_error(function() client:request("GET") end, 2)
    assert_arg_error(function() client:request("GET", "") end, 2)
    assert_arg_error(function() client:request("GET", {}) end, 2)
    assert_arg_error(function() client:request("GET", "/a b") end, 2)
    assert_arg_error(function() client:request("GET", "/a\r\nHost: evil") end, 2)
  end)

  it("unknown or mistyped options raise before sending", function()
    assert_arg_error(function() client:request("GET", "/x", { querry = {} }) end, 3, "unknown option 'querry'")
    assert_arg_error(function() client:request("GET", "/x", { auth = false }) end, 3, "unknown option 'auth'")
    assert_arg_error(function() client:request("GET", "/x", "opts") end, 3, "got string")
    assert_arg_error(function() client:request("GET", "/x", { no_auth = "yes" }) end, 3, "no_auth")
    assert_arg_error(function() client:request("GET", "/x", { instance_token = "" }) end, 3, "instance_token")
    assert_arg_error(function() client:request("GET", "/x", { instance_token = "a\nb" }) end, 3, "instance_token")
    assert_arg_error(function() client:request("GET", "/x", { timeout = 0 }) end, 3, "timeout")
    assert_arg_error(function() client:request("GET", "/x", { timeout = "1" }) end, 3, "timeout")
    assert_arg_error(function() client:request("POST", "/x", { body = { f = print } }) end, 3, "body")
  end)

  -- -------------------------------------------------------------------------
  -- timeout
  -- -------------------------------------------------------------------------

  it("the timeout option gives err.kind timeout, code REQUEST_TIMEOUT", function()
    emu:script({ path = "/slow", delay = 2, status = 200, json = { late = true } })
    local ok, msg, err = client:request("GET", "/slow", { timeout = 0.3 })
    err = assert_failure(ok, msg, err)
    assert.equals("timeout", err.kind)
    assert.equals("REQUEST_TIMEOUT", err.code)
    assert.is_nil(err.status)
    assert.equals("GET", err.method)
    assert.equals("/slow", err.path)
    assert.equals(1, emu:count("GET", "/slow"))
  end)

  -- -------------------------------------------------------------------------
  -- results (§5.1) and errors (§5.2)
  -- -------------------------------------------------------------------------

  it("result: a 204 returns true", function()
    answer("/r", 204)
    local res, msg, err = client:request("DELETE", "/r")
    assert.is_true(res)
    assert.is_nil(msg)
    assert.is_nil(err)
  end)

  it("result: a whitespace-only 200 body returns true", function()
    answer("/r", 200, "  \r\n\t ")
    assert.is_true(client:request("POST", "/r"))
  end)

  it("result: a 2xx non-JSON body returns its text", function()
    answer("/r", 200, "queued: ok")
    assert.equals("queued: ok", client:request("POST", "/r"))
    answer("/r", 202, "<html>accepted</html>", { ["content-type"] = "text/html" })
    assert.equals("<html>accepted</html>", client:request("POST", "/r"))
  end)

  compat.it_if("integers", "result: integers above 2^53 decode exactly, all 64 bits", function()
    answer("/r", 200, '{"big":9007199254740993,"neg":-9223372036854775808,"max":9223372036854775807}')
    local res = assert(client:request("POST", "/r"))
    assert.equals(9007199254740993, res.big)
    compat.assert_integer(res.big)
    assert.equals(math.mininteger, res.neg)
    compat.assert_integer(res.neg)
    assert.equals(math.maxinteger, res.max)
    compat.assert_integer(res.max)
  end)

  compat.it_if("doubles", "result: integers up to 2^53 decode exactly, larger ones as the nearest double", function()
    answer("/r", 200, '{"exact":9007199254740992,"neg":-9007199254740992,"big":9007199254740993}')
    local res = assert(client:request("POST", "/r"))
    assert.equals(2 ^ 53, res.exact)
    assert.equals(-2 ^ 53, res.neg)
    assert.equals(2 ^ 53, res.big) -- 2^53 + 1 has no double: the nearest is 2^53
  end)

  it("result: JSON with nested arrays/objects, null, floats and big integers", function()
    answer("/r", 200, '{"a":[1,[2,3],{"b":null}],"big":9007199254740992,'
      .. '"f":1.5,"zero":0,"s":"t\\u00e9","t":true,"empty_a":[],"empty_o":{}}')
    local res = assert(client:request("POST", "/r"))
    assert.equals(9007199254740992, res.big)
    compat.assert_integer(res.big)
    assert.equals(1, res.a[1])
    compat.assert_integer(res.a[1])
    assert.equals(3, res.a[2][2])
    compat.assert_integer(res.a[2][2])
    assert.equals(vzaps.null, res.a[3].b)
    assert.equals(1.5, res.f)
    compat.assert_float(res.f)
    compat.assert_integer(res.zero)
    assert.equals("t\195\169", res.s)
    assert.is_true(res.t)
    assert.same({}, res.empty_a)
    assert.same({}, res.empty_o)
    assert.equals(3, #res.a)
  end)

  it("result: top-level JSON arrays, strings and null", function()
    answer("/r", 201, "[1,2,3]")
    local arr = assert(client:request("POST", "/r"))
    assert.same({ 1, 2, 3 }, arr)
    compat.assert_integer(arr[3])
    answer("/r", 200, '"text"')
    assert.equals("text", client:request("POST", "/r"))
    answer("/r", 200, "null")
    assert.equals(vzaps.null, client:request("POST", "/r"))
  end)

  it("error: a non-2xx JSON envelope gives message, code, details and request_id", function()
    answer("/e", 422, '{"detail":"bad thing","error_code":"E1","extra":null}')
    local ok, msg, err = client:request("POST", "/e", { body = { a = 1 } })
    err = assert_failure(ok, msg, err)
    assert.equals("http", err.kind)
    assert.equals(422, err.status)
    assert.equals("bad thing", err.message)
    assert.equals("E1", err.code)
    assert.equals("vzaps: bad thing (status 422)", msg)
    assert.is_table(err.details)
    assert.equals(vzaps.null, err.details.extra)
    assert.equals("POST", err.method)
    assert.equals("/e", err.path)
    assert.matches("^req%-%d+$", err.request_id)
  end)

  it("error: error wins over message, which wins over detail; null and empty count as absent", function()
    answer("/e", 400, '{"error":"E-text","message":"M-text","detail":"D-text","code":"C1"}')
    local _, _, err = client:request("POST", "/e")
    assert.equals("E-text", err.message)
    assert.equals("C1", err.code)
    answer("/e", 400, '{"error":null,"message":"M-text","detail":"D-text"}')
    _, _, err = client:request("POST", "/e")
    assert.equals("M-text", err.message)
    assert.equals("HTTP_400", err.code)
    answer("/e", 400, '{"error":"","message":"","detail":"D-text","code":42}')
    _, _, err = client:request("POST", "/e")
    assert.equals("D-text", err.message)
    assert.equals("42", err.code)
  end)

  it("error: a non-JSON error body falls back to the reason phrase, details = the text", function()
    answer("/e", 500, "oops, not json")
    local ok, msg, err = client:request("POST", "/e")
    err = assert_failure(ok, msg, err)
    assert.equals("http", err.kind)
    assert.equals(500, err.status)
    assert.equals("Internal Server Error", err.message)
    assert.equals("HTTP_500", err.code)
    assert.equals("oops, not json", err.details)
    assert.equals(1, emu:count("POST", "/e"), "a POST is never retried")
  end)

  it("error: a query is not part of err.path", function()
    answer("/e", 404, '{"error":"nope"}')
    local _, _, err = client:request("GET", "e", { query = { a = 1 } })
    assert.equals("/e", err.path)
    assert.equals("GET", err.method)
    assert.equals(404, err.status)
  end)
end)
