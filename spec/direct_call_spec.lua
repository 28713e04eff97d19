-- spec/direct_call_spec.lua: how a call is sent (src/direct_call.c,
-- docs/design.md "One request builder"). Every call is mapped once, in C;
-- it is then sent from C when nothing needs the Lua layer, or handed, as
-- the request the mapper built, to http.lua (token fetch, retries, custom
-- transports, parallel runs). Both put the same request on the wire, and an
-- answer other than a 2xx success is handed to http.lua without the request
-- being sent again. CI also runs the whole suite with VZAPS_FAST_PATH=0
-- (every call sent by http.lua: spec/support/helper.lua).
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

-- A client whose calls are all sent by http.lua (the test switch).
local function lua_client(emu, opts)
  vzaps._set_direct(false)
  local ok, c = pcall(emu.client, emu, opts)
  vzaps._set_direct(os.getenv("VZAPS_FAST_PATH") ~= "0")
  assert(ok, c)
  return c
end

-- What a request looked like on the wire, for comparing two of them.
local function shape(r)
  local h = {}
  for k, v in pairs(r.headers) do
    if k ~= "content-length" or r.body ~= "" then h[k] = v end
  end
  -- two clients, two JWTs: the header's form is what must agree
  if h.authorization then h.authorization = h.authorization:gsub("^Bearer .+$", "Bearer <jwt>") end
  return { method = r.method, path = r.path, query = r.query or "", headers = h, json = r.json, body = r.json and "" or r.body }
end

describe("direct calls", function()
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

  describe("sends from C every row and option", function()
    it("caller headers and a timeout", function()
      on_fast_path(function() return client.sessions:status(id, { instance_token = tok, headers = { ["X-Trace"] = "1" } }) end)
      assert.equals("1", emu:api_requests()[1].headers["x-trace"])
      on_fast_path(function() return client.sessions:status(id, { instance_token = tok, timeout = 5 }) end)
    end)

    it("rows with a query string or a prepare step", function()
      on_fast_path(function() return client.groups:list({ instance_id = id, instance_token = tok, page = 1 }) end)
      assert.equals("page=1", emu:api_requests()[1].query)
      emu:clear()
      on_fast_path(function() return client.instances:list({ page = 1 }) end)
      assert.same({ page = 1, size = 20, filter = {} }, emu:api_requests()[1].json)
    end)

    it("request tables with a metatable, and client:request", function()
      local t = setmetatable({ instance_id = id, instance_token = tok, phone = "1", message = "m" }, {})
      on_fast_path(function() return client.messages:send_text(t) end)
      on_fast_path(function() return client:request("POST", "/instances/get", { body = { id = id } }) end)
    end)
  end)

  describe("hands to the Lua layer", function()
    it("nothing at all for bad arguments: they raise before anything is sent", function()
      emu:clear()
      local n, ok, err = module_lines(function()
        return pcall(client.messages.send_text, client.messages, { instance_id = id, instance_token = tok })
      end)
      assert.is_false(ok)
      assert.matches("phone' is required", err, 1, true)
      assert.equals(0, n)
      assert.equals(0, #emu:api_requests())
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

    it("calls made inside a job: to the scheduler's slots straight from the method", function()
      client.instances:get(id) -- a token first
      local lines
      local job = client:spawn(function()
        local n, v = module_lines(function() return client.instances:get(id) end, true)
        lines = n
        return v
      end)
      -- It waits for a slot (a call sent from C would have ended the job)
      assert.is_false(job:done())
      while client:pump(1) > 0 do end
      assert.equals(id, job:result().id)
      -- On 5.1, 5.2 and LuaJIT the method is a Lua closure (a coroutine
      -- cannot yield across a C call there): http.lua sends a job's call.
      local c_method = (_VERSION == "Lua 5.3" or _VERSION == "Lua 5.4") and not rawget(_G, "jit")
      if paths.FAST and c_method then
        assert.equals(0, lines, "a job's call that C may map goes to its slot without http.lua")
      else
        assert(lines >= LUA_MIN, "http.lua sends it, ran " .. lines .. " lines")
      end
      local out = client:parallel({ function() return client.instances:get(id) end })
      assert.equals(id, out[1][1].id)
      on_fast_path(function() return client.instances:get(id) end) -- from C again once no job is live
    end)

    it("calls made inside a job: a first attempt that failed goes on in http.send (401: new token, replayed)", function()
      client.instances:get(id) -- a token first
      emu:clear()
      emu:script({ method = "POST", path = "/instances/get", times = 1, status = 401, json = { error = "expired" } })
      local job = client:spawn(function() return client.instances:get(id) end)
      while client:pump(1) > 0 do end
      assert.equals(id, (job:result()).id)
      assert.equals(2, emu:count("POST", "/instances/get"))
      assert.equals(1, emu:count("POST", "/token"))
      emu:script({ method = "POST", path = "/instances/get", times = 1, status = 404, json = { error = "no such instance" } })
      job = client:spawn(function() return client.instances:get(id) end)
      while client:pump(1) > 0 do end
      local v, msg, err = job:result()
      assert.is_nil(v)
      assert.equals(404, err.status)
      assert.matches("404", msg)
    end)
  end)

  describe("puts the same request on the wire from C and from http.lua", function()
    -- Each case: the call made with a client that sends from C, then with
    -- one whose calls are all sent by http.lua; both requests must be
    -- identical.
    local P = "+5511999990000"
    local lc
    before_each(function()
      lc = lc or lua_client(emu)
    end)
    local function req(_, t)
      t.instance_id, t.instance_token = id, tok
      return t
    end
    local function opts() return { instance_token = tok } end
    local function client_for(lua) return lua and lc or client end
    local CASES = {
      { "instances:get (against client:request)", function(lua)
        if lua then return lc:request("POST", "/instances/get", { body = { id = id } }) end
        return client.instances:get(id)
      end },
      { "groups:list (a query string)", function(lua)
        return client_for(lua).groups:list(req(lua, { page = 2, page_size = 10 }))
      end },
      { "instances:list (a prepare step)", function(lua)
        return client_for(lua).instances:list({ search = " x ", page_size = 5 })
      end },
      { "instances:restart", function(lua) return client_for(lua).instances:restart(id, opts(lua)) end },
      { "instances:update", function(lua)
        return client_for(lua).instances:update(id, { name = "n", events_subscribe = {}, paused = false }, opts(lua))
      end },
      { "sessions:pair_code", function(lua) return client_for(lua).sessions:pair_code(id, P, opts(lua)) end },
      { "sessions:status (GET, no body)", function(lua) return client_for(lua).sessions:status(id, opts(lua)) end },
      { "messages:send_text", function(lua)
        return client_for(lua).messages:send_text(req(lua, { phone = P, message = "a\"b" }))
      end },
      { "messages:edit (a path field from the request table)", function(lua)
        return client_for(lua).messages:edit(req(lua, { message_id = "3EB0/..", message = "m" }))
      end },
      { "messages:remove_reaction (DELETE with a body)", function(lua)
        return client_for(lua).messages:remove_reaction(req(lua, { phone = P, message_id = "X" }))
      end },
      { "messages:download_image (POST, no body)", function(lua)
        return client_for(lua).messages:download_image(req(lua, {}))
      end },
    }
    for _, case in ipairs(CASES) do
      it(case[1], function()
        case[2](true) -- its token first
        emu:clear()
        case[2](false)
        case[2](true)
        local list = emu:api_requests()
        assert.equals(2, #list)
        assert.same(shape(list[1]), shape(list[2]))
      end)
    end
  end)

  describe("hands other answers to http.lua without sending again", function()
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
