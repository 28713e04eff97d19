-- spec/fast_path_spec.lua: the C fast path of endpoint calls (src/call.c,
-- docs/design.md "The fast path"): which calls take it and which take the
-- Lua path, that both put the same request on the wire, and that an answer
-- other than a 2xx success is handed to the Lua path (retries, the 401
-- replay, errors) without the request being sent again.
-- CI also runs the whole suite with VZAPS_FAST_PATH=0 (every call on the
-- Lua path); the first block checks that the switch works both ways.
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")

local paths = require("spec.support.paths")
local module_lines, LUA_MIN = paths.module_lines, paths.LUA_MIN

local function on_fast_path(fn)
  local n, a, b, c = module_lines(fn)
  assert.is_truthy(a, b)
  paths.assert_fast(n)
  return a, b, c
end

local function on_lua_path(fn)
  local n, a, b, c = module_lines(fn)
  paths.assert_lua(n)
  return a, b, c
end

-- What a request looked like on the wire, for comparing two of them.
local function shape(r)
  local h = {}
  for k, v in pairs(r.headers) do
    if k ~= "content-length" or r.body ~= "" then h[k] = v end
  end
  return { method = r.method, path = r.path, query = r.query or "", headers = h, json = r.json, body = r.json and "" or r.body }
end

describe("fast path", function()
  local emu, client, id, tok

  emulator.fixture({ max_retries = 1, retry_backoff = 0.01 }, function(e, c)
    emu, client = e, c
    local inst = assert(client.instances:create({ name = "fast path" }))
    id, tok = inst.id, inst.token
  end)

  describe("is taken by the common call shapes", function()
    it("positional id (instances:get, a body from an argument)", function()
      local inst = on_fast_path(function() return client.instances:get(id) end)
      assert.equals(id, inst.id)
      assert.same({ id = id }, emu:api_requests()[1].json)
    end)

    it("request table with instance fields (messages:send_text)", function()
      on_fast_path(function()
        return client.messages:send_text({ instance_id = id, instance_token = tok, phone = "5511999990000", message = "hi" })
      end)
    end)

    it("positional id and {instance_token = ...} (instances:restart)", function()
      on_fast_path(function() return client.instances:restart(id, { instance_token = tok }) end)
    end)

    it("a path field after the instance (sessions:pair_code)", function()
      on_fast_path(function() return client.sessions:pair_code(id, "+5511999990000", { instance_token = tok }) end)
      assert.equals("/instances/" .. id .. "/session/paircode/%2B5511999990000", emu:api_requests()[1].path)
    end)

    it("a positional body (instances:update)", function()
      on_fast_path(function()
        return client.instances:update(id, { name = "renamed", events_subscribe = {} }, { instance_token = tok })
      end)
      assert.matches('"events_subscribe":[]', emu:api_requests()[1].body, 1, true)
    end)

    it("an instance handle", function()
      local h = client:instance(id, tok)
      on_fast_path(function() return h.messages:send_text({ phone = "5511999990000", message = "hi" }) end)
      on_fast_path(function() return h.sessions:status() end)
    end)
  end)

  describe("leaves to the Lua path", function()
    it("calls with caller headers or a timeout", function()
      on_lua_path(function() return client.sessions:status(id, { instance_token = tok, headers = { ["X-Trace"] = "1" } }) end)
      on_lua_path(function() return client.sessions:status(id, { instance_token = tok, timeout = 5 }) end)
    end)

    it("rows with a query string or a prepare step", function()
      on_lua_path(function() return client.groups:list({ instance_id = id, instance_token = tok, page = 1 }) end)
      on_lua_path(function() return client.instances:list({ page = 1 }) end)
    end)

    it("request tables with a metatable, and bad arguments (which raise there)", function()
      local t = setmetatable({ instance_id = id, instance_token = tok, phone = "1", message = "m" }, {})
      on_lua_path(function() return client.messages:send_text(t) end)
      local n, ok, err = module_lines(function()
        return pcall(client.messages.send_text, client.messages, { instance_id = id, instance_token = tok })
      end)
      assert.is_false(ok)
      assert.matches("phone' is required", err, 1, true)
      assert(n >= LUA_MIN)
    end)

    it("the first call of a client (no token yet), then the fast path", function()
      local c = emu:client()
      on_lua_path(function() return c.instances:get(id) end)
      on_fast_path(function() return c.instances:get(id) end)
      c:close()
    end)

    it("a token past its expiry (the Lua path fetches a new one), then the fast path", function()
      emu:config({ token_ttl = 0.3 })
      finally(function() emu:config({ token_ttl = 3600 }) end) -- the emulator's default
      local c = emu:client({ token_skew = 0 })
      on_lua_path(function() return c.instances:get(id) end)
      on_fast_path(function() return c.instances:get(id) end)
      require("socket").sleep(0.4)
      emu:clear()
      on_lua_path(function() return c.instances:get(id) end)
      assert.equals(1, emu:count("POST", "/token"))
      on_fast_path(function() return c.instances:get(id) end)
      c:close()
    end)

    it("a custom transport", function()
      local seen = 0
      local c = vzaps.new({
        base_url = emu.url, client_token = emulator.CLIENT_TOKEN, client_secret = emulator.CLIENT_SECRET,
        transport = function(req)
          seen = seen + 1
          if req.url:find("/token$") then
            return { status = 200, body = '{"access_token":"jwt-x","expires_in":3600}' }
          end
          return { status = 200, body = '{"id":"x"}' }
        end,
      })
      assert(c.instances:get("x"))
      on_lua_path(function() return c.instances:get("x") end)
      assert.equals(3, seen)
      c:close()
    end)

    it("calls made inside client:parallel (they yield to its scheduler)", function()
      client.instances:get(id) -- a token first
      local lines
      local out = client:parallel({
        function()
          local n, v = module_lines(function() return client.instances:get(id) end, true)
          lines = n
          return v
        end,
      })
      assert.equals(id, out[1][1].id)
      assert(lines >= LUA_MIN, "a call in a parallel run must take the Lua path, ran " .. lines .. " lines")
      on_fast_path(function() return client.instances:get(id) end) -- on again after the run
    end)
  end)

  describe("puts the same request on the wire as the Lua path", function()
    -- Each case: the call as the fast path takes it, and the same call made
    -- to take the Lua path (an empty caller-headers table, or a request
    -- table behind a metatable); both requests must be identical.
    local P = "+5511999990000"
    -- A request table, and the options of a positional call; lua = true
    -- makes them take the Lua path.
    local function req(lua, t)
      t.instance_id, t.instance_token = id, tok
      return lua and setmetatable(t, {}) or t
    end
    local function opts(lua) return { instance_token = tok, headers = lua and {} or nil } end
    local CASES = {
      { "instances:get (against client:request)", function(lua)
        if lua then return client:request("POST", "/instances/get", { body = { id = id } }) end
        return client.instances:get(id)
      end },
      { "instances:restart", function(lua) return client.instances:restart(id, opts(lua)) end },
      { "instances:update", function(lua)
        return client.instances:update(id, { name = "n", events_subscribe = {}, paused = false }, opts(lua))
      end },
      { "sessions:pair_code", function(lua) return client.sessions:pair_code(id, P, opts(lua)) end },
      { "sessions:status (GET, no body)", function(lua) return client.sessions:status(id, opts(lua)) end },
      { "messages:send_text", function(lua)
        return client.messages:send_text(req(lua, { phone = P, message = "a\"b" }))
      end },
      { "messages:edit (a path field from the request table)", function(lua)
        return client.messages:edit(req(lua, { message_id = "3EB0/..", message = "m" }))
      end },
      { "messages:remove_reaction (DELETE with a body)", function(lua)
        return client.messages:remove_reaction(req(lua, { phone = P, message_id = "X" }))
      end },
      { "messages:download_image (POST, no body)", function(lua)
        return client.messages:download_image(req(lua, {}))
      end },
    }
    for _, case in ipairs(CASES) do
      it(case[1], function()
        emu:clear()
        case[2](false)
        case[2](true)
        local list = emu:api_requests()
        assert.equals(2, #list)
        assert.same(shape(list[1]), shape(list[2]))
      end)
    end
  end)

  describe("hands other answers to the Lua path without sending again", function()
    it("a 503 on a POST: one request, the error", function()
      emu:script({ path = "/instances/" .. id .. "/chat/send/text", status = 503, json = { error = "busy" } })
      local res, msg, err = client.messages:send_text({ instance_id = id, instance_token = tok, phone = "1", message = "m" })
      assert.is_nil(res)
      assert.equals(503, err.status)
      assert.matches("status 503", msg, 1, true)
      assert.equals(1, emu:count("POST", "/instances/" .. id .. "/chat/send/text"))
    end)

    it("a 503 on a GET: retried by the Lua path, then the answer", function()
      emu:script({ path = "/instances/" .. id .. "/session/status", status = 503, times = 1 })
      assert(client.sessions:status(id, { instance_token = tok }))
      assert.equals(2, emu:count("GET", "/instances/" .. id .. "/session/status"))
    end)

    it("a 401: a new token, the call replayed once", function()
      client.instances:get(id)
      emu:revoke()
      emu:clear()
      local inst = assert(client.instances:get(id))
      assert.equals(id, inst.id)
      assert.equals(1, emu:count("POST", "/token"))
      assert.equals(2, emu:count("POST", "/instances/get"))
      on_fast_path(function() return client.instances:get(id) end) -- the new token is used by C too
    end)

    it("a 2xx answer that is not JSON: its text", function()
      emu:script({ path = "/instances/get", status = 200, body = "done" })
      assert.equals("done", client.instances:get(id))
    end)
  end)
end)
