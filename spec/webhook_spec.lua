-- spec/webhook_spec.lua: vzaps.webhook{...} in plain Lua (README "Receiving
-- webhooks"; contract §6.2, §7): hook:on with the realtime registration
-- rules, hook:handle on the envelope and the bare `data` payload, every
-- malformed shape (no handler runs), a raising handler, de-duplication by
-- event id, hook:check_key, and the options. nginx_spec.lua holds hook:ngx().
local vzaps = require("vzaps")

local KEY = "k3y-0123456789abcdef-secret"

local function envelope(id, t, data)
  return vzaps.json.encode({ id = id, type = t or "Message", instance_id = "VZ1",
                             created_at = "2026-06-23T22:57:17.000Z", data = data or { type = t or "Message", event = { text = "hi" } } })
end

describe("webhook receiver", function()
  local hook, seen

  before_each(function()
    hook = vzaps.webhook({ key = KEY })
    seen = {}
    hook:on("Message", function(ev, headers) seen[#seen + 1] = { "Message", ev, headers } end)
    hook:on("All", function(ev) seen[#seen + 1] = { "All", ev } end)
  end)

  it("runs the type handlers, then All, with the envelope as the event table", function()
    local body = envelope("evt_1")
    local headers = { ["content-type"] = "application/json" }
    assert.is_true(hook:handle(body, headers))
    assert.equals(2, #seen)
    assert.equals("Message", seen[1][1])
    assert.equals("All", seen[2][1])
    local ev = seen[1][2]
    assert.equals(seen[2][2], ev)
    assert.equals("evt_1", ev.id)
    assert.equals("Message", ev.type)
    assert.equals("VZ1", ev.instance_id)
    assert.equals("2026-06-23T22:57:17.000Z", ev.created_at)
    assert.equals("hi", ev.data.event.text)
    assert.equals(headers, seen[1][3])
  end)

  it("gives the same event table shape as a realtime subscription", function()
    -- what events.lua hands to sub:on handlers: the decoded frame, as is
    local body = envelope("evt_shape", "Connected", { phone = "5511", extra = { 1, 2 } })
    assert.is_true(hook:handle(body))
    local ev = seen[1][2]
    assert.same(vzaps.json.decode(body), ev)
  end)

  it("takes a bare data payload (contract §7) as the data of an envelope of its type", function()
    local payload = { type = "Message", event = { text = "bare" }, media_url = "https://x/m.jpg", instance_id = "VZ9" }
    assert.is_true(hook:handle(vzaps.json.encode(payload)))
    local ev = seen[1][2]
    assert.equals("Message", ev.type)
    assert.equals("VZ9", ev.instance_id)
    assert.is_nil(ev.id)
    assert.is_nil(ev.created_at)
    assert.equals("bare", ev.data.event.text)
    assert.equals("https://x/m.jpg", ev.data.media_url)
  end)

  it("runs All handlers for types without their own", function()
    assert.is_true(hook:handle(envelope("evt_2", "Presence")))
    assert.equals(1, #seen)
    assert.equals("All", seen[1][1])
  end)

  describe("refuses a body that is not a delivery, running no handler", function()
    local cases = {
      { "empty", "", "is empty" },
      { "not JSON", "this is not json", "is not JSON" },
      { "truncated JSON", '{"type":"Message","data":{', "is not JSON" },
      { "a JSON array", '[{"type":"Message"}]', "is not a JSON object" },
      { "a JSON string", '"Message"', "is not a JSON object" },
      { "JSON null", "null", "is not a JSON object" },
      { "an object without type", '{"id":"e","data":{}}', "no event type" },
      { "a number type", '{"type":5,"data":{}}', "no event type" },
      { "an empty type", '{"type":"","data":{}}', "no event type" },
      { "an envelope with a number id", '{"id":7,"type":"Message","data":{}}', "`id` must be a string" },
      { "an envelope with a table instance_id", '{"type":"Message","instance_id":{},"data":{}}',
        "`instance_id` must be a string" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local ok, msg, err = hook:handle(c[2])
        assert.is_nil(ok)
        assert.is_string(msg)
        assert.truthy(msg:find(c[3], 1, true), msg)
        assert.is_true(vzaps.is_error(err))
        assert.equals("webhook", err.kind)
        assert.equals("INVALID_DELIVERY", err.code)
        assert.equals(tostring(err), msg)
        assert.same({}, seen)
      end)
    end

    it("10 MB (over max_body, 4 MiB by default)", function()
      local big = '{"type":"Message","data":{"blob":"' .. string.rep("x", 10 * 1024 * 1024) .. '"}}'
      local ok, msg, err = hook:handle(big)
      assert.is_nil(ok)
      assert.equals("BODY_TOO_LARGE", err.code)
      assert.truthy(msg:find("max_body", 1, true))
      assert.same({}, seen)
    end)

    it("a body just under a smaller max_body is taken", function()
      local h = vzaps.webhook({ key = false, max_body = 100 })
      local n = 0
      h:on("All", function() n = n + 1 end)
      local body = '{"type":"Message","data":{"x":"' .. string.rep("y", 60) .. '"}}'
      assert.is_true(#body <= 100)
      assert.is_true(h:handle(body))
      local _, _, err = h:handle((body:gsub('"}}$', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"}}')))
      assert.equals("BODY_TOO_LARGE", err.code)
      assert.equals(1, n)
    end)
  end)

  describe("a handler that raises", function()
    it("gives nil, msg, err; the other handlers of the delivery still run", function()
      local after = 0
      hook:on("Message", function() error("handler broke") end)
      hook:on("Message", function() after = after + 1 end)
      local ok, msg, err = hook:handle(envelope("evt_r"))
      assert.is_nil(ok)
      assert.truthy(msg:find("webhook handler failed: ", 1, true), msg)
      assert.truthy(msg:find("handler broke", 1, true), msg)
      assert.equals("webhook", err.kind)
      assert.equals("HANDLER_ERROR", err.code)
      assert.equals("evt_r", err.event_id)
      assert.equals("Message", err.event_type)
      assert.truthy(tostring(err.details):find("handler broke", 1, true))
      assert.equals(1, after)
      assert.equals(2, #seen) -- the first Message handler and All
    end)

    it("keeps a raised table as err.details (a redacted copy)", function()
      local raised = { code = 42 }
      hook:on("Message", function() error(raised) end)
      local _, _, err = hook:handle(envelope("evt_t"))
      assert.same(raised, err.details)
    end)

    it("leaves the event id unrecorded, so the platform's retry runs the handlers again", function()
      local fail = true
      hook:on("Message", function() if fail then error("not yet") end end)
      assert.is_nil((hook:handle(envelope("evt_retry"))))
      fail = false
      assert.is_true(hook:handle(envelope("evt_retry")))
      assert.equals(4, #seen)
      local ok, why = hook:handle(envelope("evt_retry"))
      assert.is_true(ok)
      assert.equals("duplicate", why)
      assert.equals(4, #seen)
    end)

    it("never shows the key, even when the raised text holds it", function()
      hook:on("Message", function() error("leak " .. KEY) end)
      local _, msg, err = hook:handle(envelope("evt_k"))
      assert.is_nil(msg:find(KEY, 1, true))
      assert.is_nil(err.message:find(KEY, 1, true))
      assert.is_nil(tostring(err.details):find(KEY, 1, true))
    end)
  end)

  describe("de-duplication by event id", function()
    it("runs the handlers of an event id once", function()
      assert.is_true(hook:handle(envelope("evt_d")))
      local ok, why = hook:handle(envelope("evt_d"))
      assert.is_true(ok)
      assert.equals("duplicate", why)
      assert.equals(2, #seen)
      assert.is_true(hook:handle(envelope("evt_e")))
      assert.equals(4, #seen)
    end)

    it("does not apply to deliveries without an event id (the bare payload)", function()
      local body = vzaps.json.encode({ type = "Message", event = { text = "x" } })
      assert.is_true(hook:handle(body))
      assert.is_true(hook:handle(body))
      assert.equals(4, #seen)
    end)

    it("remembers the last `dedup` ids only (bounded)", function()
      local h = vzaps.webhook({ key = false, dedup = 2 })
      local n = 0
      h:on("All", function() n = n + 1 end)
      for _, id in ipairs({ "a", "b", "a", "c", "a", "b" }) do h:handle(envelope(id)) end
      -- a, b run; a is a duplicate; c pushes a out; a runs again, pushing b out; b runs again
      assert.equals(5, n)
    end)

    it("is off with dedup = false", function()
      local h = vzaps.webhook({ key = false, dedup = false })
      local n = 0
      h:on("All", function() n = n + 1 end)
      assert.is_true(h:handle(envelope("same")))
      assert.is_true(h:handle(envelope("same")))
      assert.equals(2, n)
    end)
  end)

  describe("hook:check_key", function()
    it("accepts the key", function()
      assert.is_true(hook:check_key(KEY))
    end)

    for name, given in pairs({ missing = false, empty = "", wrong = KEY:sub(1, -2) .. "X", shorter = KEY:sub(1, 10),
                               longer = KEY .. "x", ["not a string"] = 12 }) do
      it("refuses a " .. name .. " key, naming no key", function()
        local ok, msg, err = hook:check_key(given ~= false and given or nil)
        assert.is_nil(ok)
        assert.equals("INVALID_KEY", err.code)
        assert.equals("webhook", err.kind)
        assert.is_nil(msg:find(KEY, 1, true))
        if type(given) == "string" and #given >= 4 then assert.is_nil(msg:find(given, 1, true)) end
      end)
    end

    it("accepts anything when made with key = false", function()
      assert.is_true(vzaps.webhook({ key = false }):check_key(nil))
    end)

    it("tostring(hook) shows no key, and no key is reachable by iterating the receiver", function()
      assert.equals("vzaps.webhook", tostring(hook))
      local function walk(t, depth, visited)
        if visited[t] or depth > 5 then return end
        visited[t] = true
        for k, v in pairs(t) do
          assert.are_not.equal(KEY, k)
          assert.are_not.equal(KEY, v)
          if type(k) == "table" then walk(k, depth + 1, visited) end
          if type(v) == "table" then walk(v, depth + 1, visited) end
        end
      end
      walk(hook, 0, {})
      assert.is_nil(next(hook))
    end)
  end)

  describe("options and misuse raise", function()
    local function raises(fn, pattern)
      local ok, e = pcall(fn)
      assert.is_false(ok)
      assert.truthy(tostring(e):find(pattern, 1, true), tostring(e))
      assert.is_nil(tostring(e):find(KEY, 1, true))
    end

    it("key is required, 16+ characters, or false", function()
      raises(function() vzaps.webhook() end, "key is required")
      raises(function() vzaps.webhook({}) end, "key is required")
      raises(function() vzaps.webhook({ key = "short" }) end, "16 to 1024 characters")
      raises(function() vzaps.webhook({ key = 12 }) end, "key must be a string or false")
      raises(function() vzaps.webhook({ key = "0123456789abcdef ghi" }) end, "spaces or control")
    end)

    it("unknown options and bad values", function()
      raises(function() vzaps.webhook({ key = KEY, keys = 1 }) end, "unknown option 'keys'")
      raises(function() vzaps.webhook({ key = KEY, dedup = 0 }) end, "dedup must be")
      raises(function() vzaps.webhook({ key = KEY, dedup = 1.5 }) end, "dedup must be")
      raises(function() vzaps.webhook({ key = KEY, max_body = 0 }) end, "max_body must be")
      raises(function() vzaps.webhook({ key = KEY, dedup_ttl = 5 }) end, "dedup_ttl applies to dedup_dict and dedup_store only")
      raises(function() vzaps.webhook("x") end, "options table expected")
    end)

    it("dedup_dict and hook:ngx() need nginx", function()
      raises(function() vzaps.webhook({ key = KEY, dedup_dict = "d" }) end, "needs OpenResty or lua-nginx-module")
      raises(function() hook:ngx() end, "needs OpenResty or lua-nginx-module")
    end)

    it("on, handle and check_key check their arguments", function()
      raises(function() hook:on("", function() end) end, "event type must be a non-empty string")
      raises(function() hook:on("Message", "nope") end, "function expected")
      raises(function() hook.on("Message", function() end) end, "use a colon")
      raises(function() hook:handle(nil) end, "string expected")
      raises(function() hook:handle("{}", "headers") end, "headers must be a table")
      raises(function() hook.handle("{}") end, "use a colon")
    end)

    it("a token_store that is not one raises in vzaps.new", function()
      raises(function()
        vzaps.new({ client_token = "t", client_secret = "s", token_store = {} })
      end, "token_store must be a store: vzaps.ngx_token_store(dict_name)")
    end)

    it("vzaps.ngx_token_store needs nginx", function()
      raises(function() vzaps.ngx_token_store("tokens") end, "needs OpenResty or lua-nginx-module")
      raises(function() vzaps.ngx_token_store(5) end, "lua_shared_dict expected")
    end)
  end)
end)
