-- spec/locale_spec.lua: numbers on the wire do not depend on the C locale.
-- A host may set LC_NUMERIC to a locale with a decimal comma (Lua's own
-- tostring(2.25) then gives "2,25"); the query, a header and the body of
-- one call must still carry "2.25", sent from C and by the Lua layer alike.
-- Debian ships no such locale: scripts/deps.sh generates de_DE.UTF-8.
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")

local LOCALE = "de_DE.UTF-8"

describe("a decimal-comma locale", function()
  local emu, clients
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu = e
    vzaps._set_direct(false)
    local lua_layer = emu:client({ max_retries = 0 })
    vzaps._set_direct(os.getenv("VZAPS_FAST_PATH") ~= "0")
    clients = { ["sent from C"] = c, ["sent by the Lua layer"] = lua_layer }
  end)

  local before
  before_each(function()
    before = os.setlocale(nil, "numeric")
    assert(os.setlocale(LOCALE, "numeric"), LOCALE .. " is missing: run scripts/deps.sh test (it runs localedef)")
    assert.equals("2,25", tostring(2.25):gsub("%.", ","), "the locale does not use a decimal comma")
  end)
  after_each(function() os.setlocale(before, "numeric") end)

  for name in pairs({ ["sent from C"] = true, ["sent by the Lua layer"] = true }) do
    it("puts 2.25 and 1.5 with a '.' in the query, a header and the body (" .. name .. ")", function()
      emu:clear()
      local c = clients[name]
      c:request("POST", "/instances/list", {
        query = { lat = 1.5, n = 3.0 }, headers = { ["X-Num"] = 2.25 }, body = { x = 2.25, page = 1 },
      })
      local r = emu:api_requests()[1]
      assert.equals("lat=1.5&n=3", r.query)
      assert.equals("2.25", r.headers["x-num"])
      assert.truthy(r.body:find('"x":2.25', 1, true), r.body)
      local _, _, err = c.groups:get({ instance_id = "i1", instance_token = "tok", group_id = 0.5 })
      assert.is_table(err)
      assert.equals("group_id=0.5", emu:api_requests()[2].query)
    end)
  end
end)
