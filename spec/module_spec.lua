-- The module table, vzaps.new's option checks, and the client's lifetime.
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")
local compat = require("spec.support.compat")

local GOOD = { client_token = "ct-1234", client_secret = "cs-secret-5678" }

local function opts(extra)
  local o = {}
  for k, v in pairs(GOOD) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("module table", function()
  it("has VERSION, null, array, is_error, new", function()
    assert.matches("^%d+%.%d+%.%d+$", vzaps.VERSION)
    assert.equal(vzaps.VERSION, vzaps._VERSION)
    assert.equal("userdata", type(vzaps.null))
    assert.is_function(vzaps.new)
    assert.is_function(vzaps.array)
    assert.is_false(vzaps.is_error({}))
    assert.is_false(vzaps.is_error(nil))
  end)

  it("null is the same value as cjson.null", function()
    assert.equal(require("cjson").null, vzaps.null)
  end)

  it("array marks a table and returns it, or makes a new one", function()
    local t = {}
    assert.equal(t, vzaps.array(t))
    assert.equal("[]", vzaps.json.encode(t))
    assert.equal("[]", vzaps.json.encode(vzaps.array()))
    assert.equal("{}", vzaps.json.encode({}))
    assert.has_error(function() vzaps.array("x") end, "bad argument #1 to 'array' (table expected, got string)")
    assert.has_error(function() vzaps.array(setmetatable({}, {})) end)
  end)

  it("does not set globals", function()
    assert.is_nil(rawget(_G, "vzaps"))
  end)
end)

describe("vzaps.new", function()
  it("returns a client userdata whose tostring shows the base URL only", function()
    local c = vzaps.new(opts({ base_url = "http://127.0.0.1:9/api/" }))
    assert.equal("userdata", type(c))
    assert.equal("vzaps.client (http://127.0.0.1:9/api)", tostring(c))
    assert.not_matches("cs%-secret", tostring(c))
    c:close()
  end)

  it("defaults base_url to the production endpoint", function()
    local c = vzaps.new(opts())
    assert.equal("vzaps.client (https://api.vzaps.com)", tostring(c))
    c:close()
  end)

  it("exposes every resource of the API description", function()
    local c = vzaps.new(opts())
    for _, name in ipairs({ "auth", "instances", "sessions", "messages", "webhooks", "contacts", "groups",
                            "users", "queues", "typebots", "chatwoot", "chats" }) do
      assert.is_table(c[name], name)
    end
    assert.is_function(c.instances.create)
    assert.is_function(c.auth.get_access_token)
    c:close()
  end)

  it("does not let scripts reach the credentials through the client", function()
    local c = vzaps.new(opts())
    for _, k in ipairs({ "client_secret", "client_token", "token", "st", "options" }) do
      assert.is_nil(c[k], k)
    end
    assert.has_error(function() c.instances = 1 end)
    c:close()
  end)

  local bad = {
    { "options not a table", "x", "options table expected, got string" },
    { "missing client_token", { client_secret = "s" }, "client_token is required" },
    { "missing client_secret", { client_token = "t" }, "client_secret is required" },
    { "blank client_token", opts({ client_token = "  \t" }), "client_token must not be blank" },
    { "empty client_secret", opts({ client_secret = "" }), "client_secret must not be blank" },
    { "CR/LF in client_token", opts({ client_token = "a\r\nX-Evil: 1" }), "client_token contains control characters" },
    { "NUL in client_secret", opts({ client_secret = "a\0b" }), "client_secret contains control characters" },
    { "numeric client_token", opts({ client_token = 12 }), "client_token must be a string, got number" },
    { "unknown option", opts({ timout = 3 }), "unknown option 'timout'" },
    { "base_url not http", opts({ base_url = "ftp://x" }), "base_url must be an http:// or https:// URL" },
    { "base_url with spaces", opts({ base_url = "http://a b" }), "base_url must be an http:// or https:// URL" },
    { "base_url with user info", opts({ base_url = "http://user:s3cretpw@127.0.0.1:9" }),
      "base_url must not contain user info (user:password@)" },
    { "base_url with a user name", opts({ base_url = "https://user@127.0.0.1:9/v1" }),
      "base_url must not contain user info (user:password@)" },
    { "realtime_url with user info", opts({ realtime_url = "ws://u:p@127.0.0.1:9" }),
      "realtime_url must not contain user info (user:password@)" },
    { "realtime_url not ws", opts({ realtime_url = "http://x" }), "realtime_url must be a ws:// or wss:// URL" },
    { "timeout zero", opts({ timeout = 0 }), "timeout must be positive" },
    { "timeout string", opts({ timeout = "3" }), "timeout must be a number of seconds" },
    { "timeout NaN", opts({ timeout = 0 / 0 }), "timeout must be a number of seconds" },
    { "connect_timeout negative", opts({ connect_timeout = -1 }), "connect_timeout must be positive" },
    { "token_skew negative", opts({ token_skew = -1 }), "token_skew must be zero or more" },
    { "max_retries fraction", opts({ max_retries = 1.5 }), "max_retries must be an integer from 0 to 100" },
    { "max_retries negative", opts({ max_retries = -1 }), "max_retries must be an integer from 0 to 100" },
    { "ssl_verify string", opts({ ssl_verify = "no" }), "ssl_verify must be a boolean, got string" },
    { "user_agent with newline", opts({ user_agent = "a\nb" }), "user_agent must be a non-empty single line" },
    { "user_agent empty", opts({ user_agent = "" }), "user_agent must be a non-empty single line" },
    { "transport not a function", opts({ transport = {} }), "transport must be a function, got table" },
    { "ca_file with NUL", opts({ ca_file = "/etc/a\0b" }), "ca_file contains a NUL byte" },
    { "proxy number", opts({ proxy = 8080 }), "proxy must be a string, got number" },
  }
  for _, case in ipairs(bad) do
    it("raises on " .. case[1], function()
      local ok, err = pcall(vzaps.new, case[2])
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'new' %(", err)
      assert.truthy(err:find(case[3], 1, true), err)
      assert.not_matches("cs%-secret", err)
    end)
  end

  it("takes an @ after the host (path, query) as part of the URL, not as user info", function()
    local c = vzaps.new(opts({ base_url = "http://127.0.0.1:9/v1/@team?x=a@b" }))
    assert.equal("vzaps.client (http://127.0.0.1:9/v1/@team?x=a@b)", tostring(c))
    c:close()
  end)

  it("accepts every documented option", function()
    local c = vzaps.new(opts({
      base_url = "http://127.0.0.1:9", realtime_url = "ws://127.0.0.1:9", timeout = 5, connect_timeout = 1,
      token_skew = 0, user_agent = "my-bot/1.0", max_retries = 0, ssl_verify = false, ca_file = "/etc/ssl/certs/ca-certificates.crt",
      proxy = "http://127.0.0.1:3128", transport = function() return nil, "unused" end,
    }))
    assert.equal("vzaps.client (http://127.0.0.1:9)", tostring(c))
    c:close()
  end)

  it("does not modify the options table", function()
    local o = opts({ base_url = "http://127.0.0.1:9///" })
    local copy = {}
    for k, v in pairs(o) do copy[k] = v end
    vzaps.new(o):close()
    assert.same(copy, o)
  end)
end)

describe("client lifetime", function()
  local emu
  setup(function() emu = emulator.start() end)
  teardown(function() emu:stop() end)

  it("close twice is harmless", function()
    local c = emu:client()
    c:close()
    c:close()
    assert.equal("vzaps.client (closed)", tostring(c))
  end)

  it("any call after close raises", function()
    local c = emu:client()
    c:close()
    assert.has_error(function() c.instances:list() end, "vzaps: client is closed")
    assert.has_error(function() c.auth:get_access_token() end, "vzaps: client is closed")
    assert.has_error(function() c:request("GET", "/x") end, "vzaps: client is closed")
    assert.has_error(function() c:instance("VZ1", "tok") end, "vzaps: client is closed")
  end)

  it("the closed error points at the caller's line", function()
    local c = emu:client()
    c:close()
    local ok, err = pcall(function() local r = c.instances:list() return r end)
    assert.is_false(ok)
    assert.matches("module_spec%.lua:%d+: vzaps: client is closed", err)
  end)

  compat.it_if("close", "works with <close> and __gc", function()
    local chunk = assert(compat.load([[
      local vzaps, url = ...
      do
        local c <close> = vzaps.new{client_token = "t", client_secret = "s", base_url = url}
        assert(tostring(c):find(url, 1, true))
        return c
      end
    ]]))
    local c = chunk(vzaps, emu.url)
    assert.equal("vzaps.client (closed)", tostring(c))
  end)

  it("survives a create/use/drop loop with collectgarbage", function()
    for i = 1, 200 do
      local c = emu:client()
      if i % 50 == 0 then assert(c.instances:list()) end
      if i % 2 == 0 then c:close() end
      c = nil -- luacheck: ignore 311 (drops the reference for the collector)
      if i % 10 == 0 then collectgarbage() end
    end
    collectgarbage()
    collectgarbage()
    local c = emu:client()
    assert.is_table(c.instances:list())
    c:close()
  end)

  it("keeps working when a resource outlives its client variable", function()
    local instances = emu:client().instances
    collectgarbage()
    collectgarbage()
    assert.is_table(instances:list())
  end)
end)
