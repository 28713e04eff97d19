-- spec/one_mapper_spec.lua: each rule of the wire and of argument checking
-- exists once (src/request.c, src/policy.c, src/url.c), so a call sent from
-- C and the same call sent by http.lua have one outcome: the same request
-- on the wire, or the same argument error, raised before anything is sent.
-- The edge values below are those where two copies of a rule used to
-- disagree (issue "One request builder").
local emulator = require("spec.support.emulator")
local compat = require("spec.support.compat")
local vzaps = require("vzaps")

local NAN = 0 / 0
local MININT = math.mininteger or -2 ^ 63
local MAXINT = math.maxinteger or 2 ^ 63 - 1024
local YEAR = 365 * 24 * 3600

local function shape(r)
  local h = {}
  for k, v in pairs(r.headers) do h[k] = v end
  h.authorization = h.authorization and "Bearer <jwt>"
  h.host = nil
  return { method = r.method, path = r.path, query = r.query or "", headers = h, body = r.body }
end

describe("one mapper", function()
  local emu, direct, lua, id, tok

  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, direct = e, c
    vzaps._set_direct(false)
    lua = emu:client({ max_retries = 0 })
    vzaps._set_direct(os.getenv("VZAPS_FAST_PATH") ~= "0")
    local inst = assert(direct.instances:create({ name = "one mapper" }))
    id, tok = inst.id, inst.token
    assert(direct.instances:get(id)) -- both clients hold a token
    assert(lua.instances:get(id))
  end)

  teardown(function() if lua then lua:close() end end)

  -- What one call did: raised (and its message, without the position) or
  -- the requests it put on the wire.
  local function outcome(c, fn)
    emu:clear()
    local ok, err = pcall(fn, c)
    local sent = {}
    for _, r in ipairs(emu:api_requests()) do sent[#sent + 1] = shape(r) end
    if not ok then
      assert.equals(0, #sent, "raised after the request reached the wire: " .. tostring(err))
      return { raised = (tostring(err):gsub("^[^:]*:%d+: ", "")) }
    end
    return { sent = sent }
  end

  local function same_outcome(fn, expect)
    local a, b = outcome(direct, fn), outcome(lua, fn)
    assert.same(a, b)
    if expect == "raises" then assert.is_not_nil(a.raised, "expected an argument error") end
    if expect == "sends" then assert.is_nil(a.raised, a.raised) end
    return a
  end

  local function label(v)
    if type(v) == "string" then return string.format("%q", v) end
    if v ~= v then return "NaN" end
    if v == 0 and 1 / v < 0 then return "-0.0" end
    return tostring(v)
  end

  describe("path values", function()
    local VALUES = { MININT, MAXINT, 2 ^ 53, -0.0, 0.0, NAN, 1.5, math.huge, -math.huge, "", ".", "..", "a/b" }
    for _, v in ipairs(VALUES) do
      it("instances:get(" .. label(v) .. ")", function()
        same_outcome(function(c) return c.instances:get(v) end)
      end)
      it("sessions:pair_code(id, " .. label(v) .. ")", function()
        same_outcome(function(c) return c.sessions:pair_code(id, v, { instance_token = tok }) end)
      end)
      it("messages:edit{message_id = " .. label(v) .. "}", function()
        same_outcome(function(c)
          return c.messages:edit({ instance_id = id, instance_token = tok, message_id = v, message = "m" })
        end)
      end)
    end

    compat.it_if("integers", "math.mininteger is a valid id: sent, never raised after sending", function()
      local o = same_outcome(function(c) return c.instances:get(MININT) end, "sends")
      assert.equals(1, #o.sent)
    end)
  end)

  -- Issue "One call path": entry points that used to apply two rules.
  describe("ids, pages and raw paths: one rule on every entry point", function()
    it("a whole-number instance id is its decimal text for client:instance and for a method alike", function()
      local a = same_outcome(function(c) return c.instances:restart(123, { instance_token = tok }) end, "sends")
      local b = same_outcome(function(c) return c:instance(123, tok).instances:restart() end, "sends")
      assert.same(a, b)
      assert.equals("/instances/123/restart", a.sent[1].path)
      assert.equals("vzaps.instance (123)", tostring(direct:instance(123, tok)))
    end)

    for _, blank in ipairs({ "  ", " \t", "" }) do
      it("a blank instance id " .. label(blank) .. " raises for a method and for client:instance (D16)", function()
        local o = same_outcome(function(c) return c.instances:restart(blank, { instance_token = tok }) end, "raises")
        assert.matches("instance_id is required", o.raised, 1, true)
        local ok, err = pcall(direct.instance, direct, blank, tok)
        assert.is_false(ok)
        assert.matches("bad argument #1 to 'instance' (instance_id must be a non-empty string or a whole number)",
          err, 1, true)
      end)
    end

    it("page = 2^53 is sent by list and by each; 2^53 + 2 raises in both", function()
      local o = same_outcome(function(c) return c.instances:list({ page = 2 ^ 53 }) end, "sends")
      assert.equals(2 ^ 53, emulator.json.decode(o.sent[1].body).page)
      emu:clear()
      local ok = pcall(function() for _ in direct.instances:each({ page = 2 ^ 53 }) do end end)
      assert.is_true(ok)
      local first = emu:api_requests()[1]
      assert.equals(2 ^ 53, emulator.json.decode(first.body).page)
      same_outcome(function(c) return c.instances:list({ page = 2 ^ 53 + 2 }) end, "raises")
      local raised, err = pcall(direct.instances.each, direct.instances, { page = 2 ^ 53 + 2 })
      assert.is_false(raised)
      assert.matches("field 'page' must be a whole number", err, 1, true)
    end)

    local RAW_REFUSED = {
      "../../../i2/chat/send/text?x=1#frag", "../other", "a/../b", "./x", "a/.", "%2e%2e/x", "%2E%2E%2Fx",
      ".%2E/x", "a/%2e/b", "..%2fx", "..\\x", "a%5C..%5Cb", "send/text?x=1", "send/text#f",
    }
    for _, path in ipairs(RAW_REFUSED) do
      it("messages:send with the raw path " .. label(path) .. " raises, nothing sent", function()
        local o = same_outcome(function(c)
          return c.messages:send(id, path, { phone = "5511988887777", message = "m" }, { instance_token = tok })
        end, "raises")
        assert.matches("bad argument #2 to 'send' (path must not contain", o.raised, 1, true)
      end)
    end
    for _, path in ipairs({ "send/text", "/send/text", "a.b/c..d/...", "%2e%2ex/y", "send/%3Fq" }) do
      it("messages:send with the raw path " .. label(path) .. " is sent as given", function()
        local o = same_outcome(function(c)
          return c.messages:send(id, path, { phone = "5511988887777", message = "m" }, { instance_token = tok })
        end, "sends")
        assert.equals("/instances/" .. id .. "/chat/" .. path:gsub("^/", ""), o.sent[1].path)
      end)
    end
  end)

  describe("query values", function()
    local VALUES = { MININT, MAXINT, 2 ^ 53, -0.0, NAN, 1.5, math.huge, true, "", "a b&c", {} }
    for _, v in ipairs(VALUES) do
      it("groups:get{group_id = " .. label(v) .. "}", function()
        same_outcome(function(c) return c.groups:get({ instance_id = id, instance_token = tok, group_id = v }) end)
      end)
      it("client:request query {x = " .. label(v) .. "}", function()
        same_outcome(function(c) return c:request("GET", "/instances/" .. id .. "/group/info", { query = { x = v } }) end)
      end)
    end
  end)

  describe("timeouts", function()
    local VALUES = { YEAR, YEAR + 1, 0, -1, NAN, 1e-9, math.huge, "5" }
    for _, t in ipairs(VALUES) do
      local expect = (t == YEAR or t == 1e-9) and "sends" or "raises"
      it("sessions:status(id, {timeout = " .. label(t) .. "}) " .. expect, function()
        same_outcome(function(c) return c.sessions:status(id, { instance_token = tok, timeout = t }) end, expect)
      end)
      it("client:request timeout = " .. label(t) .. " " .. expect, function()
        same_outcome(function(c) return c:request("POST", "/instances/get", { body = { id = id }, timeout = t }) end,
          expect)
      end)
      it("vzaps.new{timeout = " .. label(t) .. "} " .. expect, function()
        local ok = pcall(vzaps.new, { client_token = "a", client_secret = "b", timeout = t })
        assert.equals(expect == "sends", ok)
      end)
    end
  end)

  describe("header values", function()
    for b = 0, 127 do
      if b < 32 or b == 127 then
        local v = "a" .. string.char(b) .. "b"
        local expect = b == 9 and "sends" or "raises"
        it(("a caller header with byte %d %s"):format(b, expect), function()
          same_outcome(function(c)
            return c.sessions:status(id, { instance_token = tok, headers = { ["X-Trace"] = v } })
          end, expect)
        end)
        it(("an instance token with byte %d raises"):format(b), function()
          same_outcome(function(c) return c.sessions:status(id, { instance_token = tok .. string.char(b) }) end, "raises")
        end)
      end
    end
    it("a blank instance token (spaces and a tab) is 'required' everywhere a token is checked", function()
      local blank = " \t "
      local o = same_outcome(function(c) return c.sessions:status(id, { instance_token = blank }) end, "raises")
      assert.matches("instance_token is required", o.raised, 1, true)
      local ok, err = pcall(direct.instance, direct, id, blank)
      assert.is_false(ok)
      assert.matches("instance_token is required", err, 1, true)
      ok, err = pcall(vzaps.new, { client_token = blank, client_secret = "s" })
      assert.is_false(ok)
      assert.matches("client_token must not be blank", err, 1, true)
    end)
    for _, name in ipairs({ "X T", "X:T", "", "X\r\nY", "Ü" }) do
      it("a header named " .. label(name) .. " raises", function()
        same_outcome(function(c) return c.sessions:status(id, { instance_token = tok, headers = { [name] = "v" } }) end,
          "raises")
      end)
    end
    it("a number value is sent as its text", function()
      local o = same_outcome(function(c)
        return c.sessions:status(id, { instance_token = tok, headers = { ["X-N"] = 2.0, ["X-F"] = 0.5 } })
      end, "sends")
      assert.equals("2", o.sent[1].headers["x-n"])
      assert.equals("0.5", o.sent[1].headers["x-f"])
    end)
  end)
end)
