-- spec/json_budget_spec.lua: the JSON decoder's budget (src/json.h; docs/
-- reliability.md "Hostile peers"). A server, or a stranger posting to a
-- webhook, that sends `[{},{},...]` makes every 3 bytes a Lua table: 4 MiB
-- cost over 100 MiB of heap. The decoder charges each value it makes
-- against `json_budget` bytes of Lua memory per byte of text (plus 1 MiB)
-- and fails past it: a REST call with kind `network` (the answer is refused
-- like one over the size cap, never retried), a webhook delivery with
-- BODY_TOO_LARGE (413), `vzaps.json.decode` with nil, message.
local vzaps = require("vzaps")
local E = require("spec.support.emulator")

-- n empty objects in an array: ~3 bytes each.
local function empties(n) return "[" .. string.rep("{},", n - 1) .. "{}]" end

-- A legitimate list of n message objects (~150 bytes each).
local function messages(n)
  local t = {}
  for i = 1, n do
    t[i] = string.format('{"id":"3EB0C767D26A1D3B8A%06d","from_me":true,"phone":"5511999%06d",'
      .. '"timestamp":1700000000,"status":"queued","text":"hello there, how are you"}', i, i)
  end
  return '{"success":true,"total":' .. n .. ',"content":[' .. table.concat(t, ",") .. "]}"
end

local FOUR_MIB = empties(math.floor(4 * 1024 * 1024 / 3))

local function heap_kib()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count")
end

describe("JSON decode budget", function()
  local emu, client
  E.fixture({ max_retries = 2, retry_backoff = 0 }, function(e, c) emu, client = e, c end)

  local function serve(body)
    emu:script({ method = "GET", path = "/budget", status = 200, body = body,
                 headers = { ["Content-Type"] = "application/json" } })
  end

  it("refuses 4 MiB of [{},{},...] from the server: kind network, sent once, not retried", function()
    serve(FOUR_MIB) -- a retry would reach the real route (a 404) and be counted
    local before = heap_kib()
    local t0 = os.clock()
    local res, msg, err = client:request("GET", "/budget")
    assert.is_nil(res)
    assert.equals("network", err.kind)
    assert.equals("NETWORK_ERROR", err.code)
    assert.is_true(err.sent)
    assert.matches("too costly to decode", msg, 1, true)
    assert.matches("decode budget", msg, 1, true)
    assert.equals("GET", err.method)
    assert.equals("/budget", err.path)
    assert.equals(1, emu:count("GET", "/budget")) -- what may have reached the server is never resent
    assert.is_true(os.clock() - t0 < 10)
    assert.is_true(heap_kib() - before < 8 * 1024, "the partial decode was released")
  end)

  it("takes the same answer with a larger json_budget, or with json_budget = false", function()
    for _, b in ipairs({ 64, false }) do
      local c = emu:client({ json_budget = b })
      serve(FOUR_MIB)
      local res, msg = c:request("GET", "/budget")
      assert.is_table(res, msg)
      assert.equals(math.floor(4 * 1024 * 1024 / 3), #res)
      c:close()
    end
  end)

  it("decodes a legitimate 3 MiB list with the default budget", function()
    local body = messages(20000)
    assert.is_true(#body > 2.5 * 1024 * 1024)
    serve(body)
    local res, msg = client:request("GET", "/budget")
    assert.is_table(res, msg)
    assert.equals(20000, #res.content)
    assert.equals("5511999020000", res.content[20000].phone)
  end)

  it("a small json_budget refuses what the default takes, through a custom transport too", function()
    local body = messages(20000)
    local c = emu:client({ json_budget = 1 })
    serve(body)
    local res, msg, err = c:request("GET", "/budget")
    assert.is_nil(res)
    assert.equals("network", err.kind)
    assert.matches("decode budget", msg, 1, true)
    c:close()
    local calls = 0
    local ct = emu:client({ json_budget = 1, transport = function()
      calls = calls + 1
      return { status = 200, headers = { ["Content-Type"] = "application/json" }, body = body }
    end })
    res, msg, err = ct:request("GET", "/budget")
    assert.is_nil(res)
    assert.equals("network", err.kind)
    assert.is_true(err.sent)
    assert.matches("decode budget", msg, 1, true)
    assert.equals(1, calls)
    ct:close()
  end)

  it("an answer below the 1 MiB floor is never refused, whatever the budget", function()
    local c = emu:client({ json_budget = 1 })
    serve(empties(50000)) -- 150 KB, 4 MB estimated: over 1 x 150 KB + 1 MiB
    local res = c:request("GET", "/budget")
    assert.is_nil(res)
    serve(empties(5000)) -- 15 KB, 400 KB estimated: under the floor
    res = c:request("GET", "/budget")
    assert.is_table(res)
    assert.equals(5000, #res)
    c:close()
  end)

  it("vzaps.new checks json_budget", function()
    for _, bad in ipairs({ 0, -1, 1.5, 4097, "16", true, 0 / 0 }) do
      local ok, e = pcall(vzaps.new, { client_token = "t0k3n", client_secret = "s3cret", json_budget = bad })
      assert.is_false(ok)
      assert.matches("json_budget must be an integer from 1 to 4096", tostring(e), 1, true)
    end
  end)

  it("vzaps.json.decode has the default budget", function()
    local v, why = vzaps.json.decode(FOUR_MIB)
    assert.is_nil(v)
    assert.matches("too costly to decode", why, 1, true)
    assert.is_table(vzaps.json.decode(messages(1000)))
  end)

  describe("webhook deliveries", function()
    -- Under the 4 MiB max_body, 3.9 MiB of empty objects in a delivery.
    local body = '{"type":"Message","data":{"v":' .. empties(math.floor(3.9 * 1024 * 1024 / 3)) .. "}}"

    it("refuses a costly delivery with BODY_TOO_LARGE before any handler runs (default budget 8)", function()
      local hook = vzaps.webhook({ key = false })
      local ran = 0
      hook:on("All", function() ran = ran + 1 end)
      local before = heap_kib()
      local ok, msg, err = hook:handle(body)
      assert.is_nil(ok)
      assert.equals("webhook", err.kind)
      assert.equals("BODY_TOO_LARGE", err.code)
      assert.matches("too costly to decode", msg, 1, true)
      assert.equals(0, ran)
      assert.is_true(heap_kib() - before < 8 * 1024)
      -- A legitimate delivery of the same size passes.
      local legit = '{"type":"Message","data":' .. messages(20000) .. "}"
      assert.is_true(#legit > 2.5 * 1024 * 1024 and #legit < 4 * 1024 * 1024)
      assert.is_true(hook:handle(legit))
      assert.equals(1, ran)
    end)

    it("json_budget raises the webhook's budget, and is checked", function()
      local hook = vzaps.webhook({ key = false, json_budget = 64 })
      local got
      hook:on("Message", function(ev) got = #ev.data.v end)
      assert.is_true(hook:handle(body))
      assert.equals(math.floor(3.9 * 1024 * 1024 / 3), got)
      assert.is_true(vzaps.webhook({ key = false, json_budget = false }):handle(body))
      for _, bad in ipairs({ 0, 1.5, 5000, "8", true }) do
        local okc, e = pcall(vzaps.webhook, { key = false, json_budget = bad })
        assert.is_false(okc)
        assert.matches("json_budget must be an integer from 1 to 4096", tostring(e), 1, true)
      end
    end)
  end)
end)
