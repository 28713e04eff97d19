-- What a new user trips over (issue "clear errors for common mistakes"):
-- each case failed before its fix.
local emulator = require("spec.support.emulator")
local compat = require("spec.support.compat")
local vzaps = require("vzaps")

local ROWS = assert(loadfile("src/lua/vzaps/endpoints.lua"))()

describe("a new user", function()
  local emu, client, inst
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("new user")
  end)

  describe("calls a method with '.' instead of ':'", function()
    it("on every resource method, and is told to use ':'", function()
      local h = client:instance(inst.id, inst.token)
      for _, row in ipairs(ROWS) do
        local resource, name = row[1], row[2]
        for _, owner in ipairs({ client, h }) do
          local ok, err = pcall(owner[resource][name], { instance_id = "VZ1", instance_token = "t" })
          assert.is_false(ok)
          assert.matches(resource .. "." .. name .. " is a method: call it with ':'", err, 1, true)
          assert.matches("client." .. resource .. ":" .. name, err, 1, true)
          assert.is_nil(err:find("vzaps/", 1, true), "an internal position: " .. err)
        end
      end
      assert.equals(0, #emu:api_requests())
    end)

    it("on client:request too", function()
      local ok, err = pcall(client.request, "GET", "/x")
      assert.is_false(ok)
      assert.matches("call it with ':'", err, 1, true)
    end)
  end)

  it("gets argument errors at their own line, never at the module's", function()
    local ok, err = pcall(function()
      local r = client.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "1" })
      return r
    end)
    assert.is_false(ok)
    assert.matches("^spec/new_user_spec%.lua:%d+: bad argument #1 to 'send_text'", err)
  end)

  it("gets one 'vzaps: ' prefix on a failure", function()
    local c = emu:client({ timeout = 0.2, max_retries = 0 })
    emu:script({ path = "/instances/get", delay = 1, times = 1 })
    local _, msg, err = c.instances:get(inst.id)
    assert.equals("vzaps: request timed out after 0.2 s; it may have been received", msg)
    assert.equals("request timed out after 0.2 s; it may have been received", err.message)
    c:close()
    local d = emu:client({ base_url = "http://127.0.0.1:9", max_retries = 0 })
    local _, msg2 = d.instances:get(inst.id)
    assert.matches("^vzaps: request failed: ", msg2)
    d:close()
  end)

  it("names the client type the same way in tostring and in argument errors", function()
    assert.matches("^vzaps%.client %(", tostring(client))
    local ok, err = pcall(vzaps.new({ client_token = "a", client_secret = "b" }).close, {})
    assert.is_false(ok)
    assert.matches("vzaps.client expected", err, 1, true)
  end)

  compat.it_if("integers", "gets err.retry_after as an integer of seconds", function()
    emu:script({ status = 429, json = { error = "slow down" }, headers = { ["Retry-After"] = "120" } })
    local _, _, err = client.instances:get(inst.id)
    assert.equals(120, err.retry_after)
    assert.equals("integer", math.type(err.retry_after))
  end)

  it("turns every proxy off with proxy = \"\"", function()
    local c = emu:client({ proxy = "" })
    assert(c.instances:get(inst.id))
    c:close()
  end)
end)
