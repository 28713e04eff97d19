-- spec/webhook_ids_spec.lua: webhook event ids of any length (issue "Hostile
-- servers and senders", item 5). De-duplication remembers an id of up to
-- 128 bytes as it is and a longer one by its SHA-256, so 1 MiB ids cannot
-- grow the in-memory store and 60 KB ids cannot evict legitimate ids from a
-- 1 MiB lua_shared_dict: a redelivery still runs its handler once.
local vzaps = require("vzaps")
local emulator = require("spec.support.emulator")
local nginx = require("spec.support.nginx")

local function delivery(id)
  return vzaps.json.encode({ id = id, type = "Message", instance_id = "VZ1", data = { n = 1 } })
end

describe("webhook event ids of any length", function()
  it("100 deliveries with 1 MiB ids keep the in-memory de-duplication small", function()
    local hook = vzaps.webhook({ key = false })
    local runs = 0
    hook:on("All", function() runs = runs + 1 end)
    local base = string.rep("i", 1024 * 1024)
    collectgarbage("collect")
    local before = collectgarbage("count")
    for i = 1, 100 do assert.is_true(hook:handle(delivery(base .. i))) end
    collectgarbage("collect")
    collectgarbage("collect")
    local grown_kib = collectgarbage("count") - before
    assert.is_true(grown_kib < 1024, ("the store grew %.0f KiB"):format(grown_kib)) -- was about 100 MiB
    assert.equals(100, runs)
    -- and each is still known: a redelivery runs nothing
    local ok, why = hook:handle(delivery(base .. 7))
    assert.is_true(ok)
    assert.equals("duplicate", why)
    assert.equals(100, runs)
  end)

  it("a long id and a short one never stand for each other", function()
    local hook = vzaps.webhook({ key = false })
    local runs = 0
    hook:on("All", function() runs = runs + 1 end)
    local long = string.rep("a", 129)
    assert.is_true(hook:handle(delivery(long)))
    assert.is_true(hook:handle(delivery(long:sub(1, 128))))
    assert.is_true(hook:handle(delivery(long .. "b")))
    assert.equals(3, runs)
    assert.equals("duplicate", select(2, hook:handle(delivery(long))))
    assert.equals(3, runs)
  end)

  it("the ring of remembered ids stays `dedup` long with long ids", function()
    local hook = vzaps.webhook({ key = false, dedup = 3 })
    local runs = 0
    hook:on("All", function() runs = runs + 1 end)
    local long = string.rep("x", 4096)
    for i = 1, 4 do assert.is_true(hook:handle(delivery(long .. i))) end
    assert.equals("duplicate", select(2, hook:handle(delivery(long .. 4))))
    assert.is_nil(select(2, hook:handle(delivery(long .. 1)))) -- forgotten: the oldest of 4 with 3 kept
    assert.equals(5, runs)
  end)

  describe("in a 1 MiB lua_shared_dict (nginx, four workers)", function()
    local missing = nginx.missing(nginx.build_dir())
    if missing then
      pending("needs nginx and the LuaJIT build: " .. missing)
      return
    end
    local KEY = "spec-webhook-key-" .. string.rep("y", 16)
    local srv
    nginx.fixture(function(_, s) srv = s end, "spec/support/nginx_workers.conf", { WEBHOOK_KEY = KEY })
    before_each(function() assert.equals(200, (srv:get("/reset"))) end)

    local function runs()
      local status, body = srv:get("/results")
      assert.equals(200, status, body)
      return emulator.json.decode(body).runs
    end

    it("60 KB ids do not evict a legitimate id: its redelivery runs no handler", function()
      local hook = "/hook?key=" .. KEY
      assert.equals(200, (srv:post(hook, delivery("evt_legit_1"))))
      local big = string.rep("k", 60 * 1024)
      for i = 1, 40 do -- 2.4 MB of ids, more than the dict holds
        assert.equals(200, (srv:post(hook, delivery(big .. i))), srv:log())
      end
      assert.equals(41, runs())
      assert.equals(200, (srv:post(hook, delivery("evt_legit_1"))))
      assert.equals(200, (srv:post(hook, delivery(big .. 1))))
      assert.equals(41, runs()) -- neither ran again
    end)
  end)
end)
