-- spec/environment_spec.lua: vzaps.new takes client_token, client_secret,
-- base_url and realtime_url from VZAPS_CLIENT_TOKEN, VZAPS_CLIENT_SECRET,
-- VZAPS_BASE_URL and VZAPS_REALTIME_URL when they are not given; options
-- given win (issue "What a new user trips over, round two", item 5). Each
-- case runs in a child Lua with the variables set (scripts/busted.sh clears
-- VZAPS_* from the run itself), against the emulator.
local emulator = require("spec.support.emulator")
local processes = require("spec.support.processes")

-- Runs code in a child of the same Lua with env = {NAME = value} (and no
-- other VZAPS_* of ours); returns its output and whether it exited 0.
local child = processes.child

describe("vzaps.new and the environment", function()
  local emu, inst
  emulator.fixture({}, function(e)
    emu = e
    inst = emu:new_instance("env")
  end)

  local function creds(extra)
    local t = { VZAPS_CLIENT_TOKEN = emulator.CLIENT_TOKEN, VZAPS_CLIENT_SECRET = emulator.CLIENT_SECRET,
                VZAPS_BASE_URL = emu.url }
    for k, v in pairs(extra or {}) do t[k] = v end
    return t
  end

  it("vzaps.new{} talks to VZAPS_BASE_URL with VZAPS_CLIENT_TOKEN and VZAPS_CLIENT_SECRET", function()
    local out, ok = child(creds(), [[
      local vzaps = require("vzaps")
      local client = vzaps.new{}
      print(tostring(client))
      local page = assert(client.instances:list{})
      print("total", page.total)
      client:close()
    ]])
    assert.is_true(ok, out)
    assert.matches("vzaps.client (" .. emu.url .. ")", out, 1, true)
    assert.matches("total%s+%d+", out)
    local token = emu:requests()[1]
    assert.equals("/token", token.path)
    assert.equals(emulator.CLIENT_TOKEN, token.json.client_token)
    assert.equals(emulator.CLIENT_SECRET, token.json.client_secret)
    local list = emu:last_request()
    assert.equals("/instances/list", list.path)
    assert.equals(emulator.CLIENT_TOKEN, list.headers["x-client-token"])
  end)

  it("options given win over the environment", function()
    local out, ok = child(creds({ VZAPS_BASE_URL = "http://127.0.0.1:9", VZAPS_CLIENT_TOKEN = "wrong-token" }), [[
      local vzaps = require("vzaps")
      local client = vzaps.new{base_url = "]] .. emu.url .. [[", client_token = "]] .. emulator.CLIENT_TOKEN .. [["}
      assert(client.instances:list{})
      print("listed")
    ]])
    assert.is_true(ok, out)
    assert.matches("listed", out, 1, true)
    assert.equals(emulator.CLIENT_TOKEN, emu:last_request().headers["x-client-token"])
  end)

  it("realtime_url comes from VZAPS_REALTIME_URL", function()
    local ws = emu.url:gsub("^http", "ws")
    local out, ok = child(creds({ VZAPS_BASE_URL = "http://127.0.0.1:9", VZAPS_REALTIME_URL = ws }), [[
      local vzaps = require("vzaps")
      local client = vzaps.new{base_url = "]] .. emu.url .. [["}
      local sub = assert(client.events:subscribe{instance_id = "]] .. inst.id .. [[",
                                                 instance_token = "]] .. inst.token .. [["})
      local ev = sub:poll(0.2)
      print("subscribed", ev == nil)
      sub:close()
    ]])
    assert.is_true(ok, out)
    assert.matches("subscribed", out, 1, true)
    assert.equals(1, emu:count("GET", "/events/ws"))
  end)

  it("a bad value names its variable; a missing credential names both ways", function()
    local out, ok = child(creds({ VZAPS_BASE_URL = "ftp://example" }), [[
      local vzaps = require("vzaps")
      local okc, err = pcall(vzaps.new, {})
      print(err)
    ]])
    assert.is_true(ok, out)
    assert.matches("base_url must be an http:// or https:// URL without spaces (from VZAPS_BASE_URL)", out, 1, true)
    out = child({ VZAPS_CLIENT_SECRET = "s" }, [[
      local okc, err = pcall(require("vzaps").new, {})
      print(err)
    ]])
    assert.matches("client_token is required (or set VZAPS_CLIENT_TOKEN)", out, 1, true)
  end)

  it("an empty variable counts as unset", function()
    local out = child({ VZAPS_CLIENT_TOKEN = "", VZAPS_CLIENT_SECRET = "s", VZAPS_BASE_URL = "" }, [[
      local okc, err = pcall(require("vzaps").new, {})
      print(err)
      print(tostring(require("vzaps").new{client_token = "t"}))
    ]])
    assert.matches("client_token is required", out, 1, true)
    assert.matches("vzaps.client (https://api.vzaps.com)", out, 1, true)
  end)

  it("the spec run itself sees no VZAPS_* configuration (scripts/busted.sh clears it)", function()
    for _, v in ipairs({ "VZAPS_CLIENT_TOKEN", "VZAPS_CLIENT_SECRET", "VZAPS_BASE_URL", "VZAPS_REALTIME_URL" }) do
      assert.is_nil(os.getenv(v), v)
    end
  end)
end)
