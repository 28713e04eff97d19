-- spec/call_shape_spec.lua: a method that takes one request table, called
-- with a positional value, says how to call it (issue "What a new user trips
-- over, round two", item 7), on the client and on an instance handle, and
-- sends nothing.
local emulator = require("spec.support.emulator")

describe("a table-form method given a positional value", function()
  local emu, client, inst, h
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("shape")
    h = client:instance(inst.id, inst.token)
  end)

  local function raised(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    return err
  end

  it("the README's case: h.webhooks:retry_log(log.id)", function()
    local err = raised(function()
      local r = h.webhooks:retry_log("whl_1") -- not a tail call: the error names this line
      return r
    end)
    assert.matches("bad argument #1 to 'retry_log' (table expected, got string: call it as "
      .. "webhooks:retry_log{log_id = ...})", err, 1, true)
    assert.matches("^spec/call_shape_spec%.lua:%d+: ", err) -- at the caller's line
    assert.equals(0, #emu:api_requests())
  end)

  it("names the path field, else the first required field, else {...}", function()
    local cases = {
      { function() return client.webhooks:retry_log(42) end, "got number: call it as webhooks:retry_log{log_id = ...}" },
      { function() return client.webhooks:retry_log() end, "got nil: call it as webhooks:retry_log{log_id = ...}" },
      { function() return h.messages:send_text("5511999990000") end, "got string: call it as messages:send_text{phone = ...}" },
      { function() return client.instances:create("Support") end, "got string: call it as instances:create{name = ...}" },
      { function() return h.webhooks:search_logs("x") end, "got string: call it as webhooks:search_logs{...}" },
    }
    for _, c in ipairs(cases) do
      assert.matches("table expected, " .. c[2] .. ")", raised(c[1]), 1, true)
    end
    assert.equals(0, #emu:api_requests())
  end)

  it("the table form itself still works", function()
    assert(h.sessions:status())
    local res = h.webhooks:search_logs({})
    assert.is_table(res)
  end)
end)
