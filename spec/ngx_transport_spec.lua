-- spec/ngx_transport_spec.lua: the parts of the OpenResty support that plain
-- Lua can check (spec/nginx_spec.lua runs the transport inside nginx): the
-- `sleep` option, the error kind a custom transport may return, and
-- vzaps.ngx_transport's argument checks outside nginx.
local vzaps = require("vzaps")

local function client(opts)
  local o = { client_token = "ct-1234", client_secret = "cs-secret-5678", base_url = "http://127.0.0.1:9" }
  for k, v in pairs(opts) do o[k] = v end
  return vzaps.new(o)
end

-- A transport answering the token call, then the given answers in order.
local function scripted(answers)
  local seen = {}
  return function(req)
    seen[#seen + 1] = req
    if req.url:find("/token$") then
      return { status = 200, headers = {}, body = '{"access_token":"jwt-1","expires_in":3600}' }
    end
    local a = table.remove(answers, 1)
    if type(a) == "function" then return a(req) end
    return a
  end, seen
end

describe("sleep option", function()
  it("is used for retry backoffs instead of the blocking sleep", function()
    local slept = {}
    local t = scripted({
      { status = 503, headers = { ["Retry-After"] = "7" }, body = "{}" },
      { status = 200, headers = {}, body = '{"ok":true}' },
    })
    local c = client({ transport = t, max_retries = 1, sleep = function(s) slept[#slept + 1] = s end })
    local res = assert(c:request("GET", "/x"))
    assert.same({ ok = true }, res)
    assert.same({ 7 }, slept)
    c:close()
  end)

  it("must be a function", function()
    assert.has_error(function() client({ sleep = 1 }) end,
      "bad argument #1 to 'new' (sleep must be a function, got number)")
  end)
end)

describe("custom transport", function()
  it("receives the client's connect_timeout and ssl_verify", function()
    local t, seen = scripted({ { status = 200, headers = {}, body = "{}" } })
    local c = client({ transport = t, connect_timeout = 2.5, ssl_verify = false })
    assert(c:request("GET", "/x"))
    assert.equals(2.5, seen[2].connect_timeout)
    assert.is_false(seen[2].ssl_verify)
    c:close()
  end)

  for _, kind in ipairs({ "tls", "timeout", "network" }) do
    it("may name the error kind of a failure: " .. kind, function()
      local t = scripted({ function() return nil, "handshake went wrong", kind end })
      local c = client({ transport = t, max_retries = 0 })
      local res, msg, err = c:request("GET", "/x")
      assert.is_nil(res)
      assert.equals(kind, err.kind)
      assert.is_string(msg)
      c:close()
    end)
  end

  it("an unknown kind falls back to the message rule", function()
    local t = scripted({ function() return nil, "boom", "weird" end })
    local c = client({ transport = t, max_retries = 0 })
    local _, _, err = c:request("GET", "/x")
    assert.equals("network", err.kind)
    c:close()
  end)
end)

describe("vzaps.ngx_transport", function()
  it("raises outside nginx, naming what it needs", function()
    assert.is_nil(rawget(_G, "ngx"))
    local ok, err = pcall(vzaps.ngx_transport)
    assert.is_false(ok)
    assert.matches("needs OpenResty", err)
  end)

  it("checks its options first", function()
    assert.has_error(function() vzaps.ngx_transport("x") end,
      "bad argument #1 to 'ngx_transport' (options table expected, got string)")
    assert.has_error(function() vzaps.ngx_transport({ pool_size = 0 }) end,
      "bad argument #1 to 'ngx_transport' (pool_size must be a positive number)")
    assert.has_error(function() vzaps.ngx_transport({ nope = 1 }) end,
      "bad argument #1 to 'ngx_transport' (unknown option 'nope')")
  end)
end)
