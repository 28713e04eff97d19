-- Secrets: the client token and secret, the JWT and instance tokens never
-- appear in an error message, an error field, or tostring of any object the
-- module hands out — also when the server echoes them back. (The fault and
-- bad-input specs scan every error they produce the same way.)
local support = require("spec.reliability.support")
local vzaps = require("vzaps")

describe("secrets", function()
  local emu, client, inst, jwt, collector

  support.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
    collector = support.collector()
    collector:secret(support.CLIENT_TOKEN)
    collector:secret(support.CLIENT_SECRET)
    inst = emu:new_instance("secrets")
    collector:secret(inst.token)
    jwt = assert(client.auth:get_access_token())
    collector:secret(jwt)
  end)

  local function all() return { support.CLIENT_TOKEN, support.CLIENT_SECRET, jwt, inst.token } end

  -- Scans the values; a case that shows a module bug (bug = true) is kept
  -- out of the file-wide collector so the last spec reports the rest.
  local function scan(bug, where, ...)
    local c = support.collector()
    for s in pairs(collector.secrets) do c:secret(s) end
    c:add(where, ...)
    if not bug then collector:add(where, ...) end
    assert.same({}, c:leaks())
  end
  local function check(where, ...) return scan(false, where, ...) end

  local function scoped() return client:instance(inst.id, inst.token) end

  it("an error envelope echoing every secret, in values and keys, at any depth", function()
    local s = all()
    local body = { error = "bad " .. s[1] .. " " .. s[2], message = s[3], detail = s[4], error_code = 7,
                   details = { nested = { deeper = { s[1], s[2], s[3], s[4] } }, [s[2]] = "as a key" } }
    emu:script({ status = 400, json = body })
    local res, msg, err = scoped().sessions:status()
    assert.is_nil(res)
    check("envelope", msg, err, tostring(err))
    assert.matches("[REDACTED]", err.message, 1, true)
  end)

  it("a non-JSON error body echoing the secrets (err.body, err.details)", function()
    emu:script({ status = 502, body = "<html>" .. table.concat(all(), " | ") .. "</html>" })
    local _, msg, err = scoped().messages:send_text({ phone = support.PHONE, message = "x" })
    check("html", msg, err)
  end)

  it("a 2 MiB error body with secrets past the 4 KiB cut", function()
    emu:script({ status = 500, body = string.rep("x", 2 * 1024 * 1024 - 10) .. jwt })
    local _, msg, err = scoped().sessions:status()
    check("long body", msg, err)
    emu:script({ status = 500, body = string.rep("x", 4090) .. jwt })
    local _, msg2, err2 = scoped().sessions:status()
    check("secret across the 4 KiB cut", msg2, err2)
  end)

  -- err.code comes from the body's code (or error_code): redacted too.
  it("an error envelope whose code echoes the JWT", function()
    emu:script({ status = 400, json = { error = "x", code = jwt } })
    local _, msg, err = scoped().sessions:status()
    scan(true, "code", msg, err)
  end)

  -- err.request_id comes from X-Request-Id: redacted too.
  it("a 5xx whose X-Request-Id echoes the JWT", function()
    emu:script({ status = 500, json = { error = "x" }, headers = { ["X-Request-Id"] = "req-" .. jwt } })
    local _, msg, err = scoped().sessions:status()
    scan(true, "x-request-id", msg, err)
  end)

  it("a token answer without expires_in that carries the token", function()
    local c = emu:client({ max_retries = 0 })
    emu:script({ method = "POST", path = "/token", status = 200,
                 json = { access_token = "jwt-without-expiry-" .. jwt, echo = support.CLIENT_SECRET } })
    collector:secret("jwt-without-expiry-" .. jwt)
    local _, msg, err = c.instances:list()
    assert.equal("auth", err.kind)
    check("bad token answer", msg, err)
    c:close()
  end)

  it("a 401 from /token that echoes the credentials", function()
    local c = emu:client({ max_retries = 0 })
    emu:script({ method = "POST", path = "/token", status = 401,
                 json = { error = "bad credentials " .. support.CLIENT_TOKEN .. ":" .. support.CLIENT_SECRET } })
    local _, msg, err = c.instances:list()
    assert.equal("auth", err.kind)
    check("token 401", msg, err)
    c:close()
  end)

  it("a custom transport that fails with the secrets in its message or error value", function()
    for _, mode in ipairs({ "return", "raise", "raise table", "timeout" }) do
      local c = vzaps.new({ client_token = support.CLIENT_TOKEN, client_secret = support.CLIENT_SECRET,
        max_retries = 0,
        transport = function(req)
          if req.url:find("/token$") then
            return { status = 200, body = '{"access_token":"' .. jwt .. '","expires_in":3600}' }
          end
          local text = "failed " .. table.concat(all(), " ") .. " " .. req.headers.Authorization
          if mode == "return" then return nil, text end
          if mode == "raise" then error(text) end
          if mode == "timeout" then return nil, "timeout " .. text end
          error({ text })
        end })
      local _, msg, err = c:instance(inst.id, inst.token).sessions:status()
      check("transport " .. mode, msg, err)
      c:close()
    end
  end)

  it("tostring of the client, handles, resources, auth and errors shows no secret", function()
    local h = scoped()
    local list = { tostring(client), tostring(h), tostring(client.auth), tostring(h.messages) }
    for _, r in ipairs({ "instances", "sessions", "messages", "webhooks", "contacts", "groups", "users",
                         "queues", "typebots", "chatwoot", "chats", "events" }) do
      list[#list + 1] = tostring(client[r])
    end
    check("tostring", list)
  end)

  -- The private state sits behind the client userdata, under a key only the
  -- module holds: iterating a public object never reaches a credential.
  it("the credentials are not reachable through the fields of public objects", function()
    local reach = {}
    for _, r in ipairs({ "auth", "instances", "messages", "chats" }) do
      local obj = client[r]
      for k, v in pairs(obj) do
        if type(v) == "table" then
          for k2, v2 in pairs(v) do
            if v2 == support.CLIENT_SECRET or v2 == jwt or v2 == support.CLIENT_TOKEN then
              reach[#reach + 1] = ("client.%s.%s.%s"):format(r, tostring(k), tostring(k2))
            end
          end
        end
      end
    end
    assert.same({}, reach)
  end)

  it("argument errors never quote a token", function()
    local c = emu:client()
    local errs = {}
    for _, fn in ipairs({
      function() return c:instance(inst.id, inst.token .. "\r\n") end,
      function() return c.sessions:status(inst.id, { instance_token = inst.token .. "\n" }) end,
      function() return c:request("GET", "/x", { instance_token = inst.token .. "\0" }) end,
      function() return c:request("GET", "/x", { headers = { Authorization = "Bearer " .. jwt .. "\r\n" } }) end,
      function() return vzaps.new({ client_token = support.CLIENT_TOKEN .. "\n", client_secret = "s" }) end,
      function() return vzaps.new({ client_token = "t", client_secret = support.CLIENT_SECRET .. "\r" }) end,
      function() return vzaps.new({ client_token = "t", client_secret = support.CLIENT_SECRET, nope = jwt }) end,
    }) do
      local ok, e = pcall(fn)
      assert.is_false(ok)
      errs[#errs + 1] = e
    end
    check("argument errors", errs)
    c:close()
  end)

  it("nothing collected in this file holds a secret", function()
    collector:secrets_from(emu)
    assert.is_true(collector.n > 20)
    assert.same({}, collector:leaks())
  end)
end)
