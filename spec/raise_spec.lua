-- spec/raise_spec.lua: what parallel.lua, events.lua and ngx.lua raise names
-- the user's line (like `bad argument` from resources.lua), never a
-- position inside the module (`vzaps/events.lua:351: ...`), which would
-- point at a file the user does not have.
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")

local INTERNAL = "vzaps/[%w_]+%.lua:%d+:"
local HERE = "^spec/raise_spec%.lua:%d+: "
-- PUC Lua 5.1 loses the frames a tail call replaced, so a `bad argument`
-- raised behind one (client:parallel, vzaps.ngx_transport) has no position
-- there; it must still not have an internal one.
local PUC51 = _VERSION == "Lua 5.1" and not rawget(_G, "jit")

-- The message fn raised: a string that starts with a line of this file and
-- holds no internal position.
local function raised(fn, what)
  local ok, e = pcall(fn)
  assert.is_false(ok, what .. " did not raise")
  assert.is_string(e, what)
  assert.is_nil(e:find(INTERNAL), what .. ": internal position in " .. e)
  if not (PUC51 and e:find("^bad argument")) then
    assert.truthy(e:find(HERE), what .. ": not at the caller's line: " .. e)
  end
  return e
end

describe("raised messages", function()
  local emu, client, inst
  emulator.fixture({ max_retries = 0 }, function(e)
    emu = e
    client = emu:client({ max_retries = 0, realtime_url = emu.ws_url })
    inst = emu:new_instance("raise spec")
  end)
  teardown(function() client:close() end)

  local function subscribe()
    return assert(client.events:subscribe({ instance_id = inst.id, instance_token = inst.token, retry_delay = 0.05 }))
  end

  it("client:parallel (parallel.lua)", function()
    raised(function() client:parallel("x") end, "not a list")
    raised(function() client:parallel({ 1 }) end, "item")
    raised(function() client:parallel({}, 5) end, "options")
    raised(function() client:parallel({}, { nope = 1 }) end, "unknown option")
    raised(function() client:parallel({}, { concurrency = 0 }) end, "concurrency")
    -- nested: raised inside a function of the run, so it is in its slot
    local res = client:parallel({ function() client:parallel({}) end })
    assert.equals("raised", res[1][3].kind)
    assert.truthy(res[1][3].details:find(HERE) or PUC51, res[1][3].details)
    assert.is_nil(res[1][3].details:find(INTERNAL), res[1][3].details)
    assert.is_nil(res[1][2]:find(INTERNAL), res[1][2])
    local c = emu:client()
    c:close()
    raised(function() c:parallel({}) end, "closed client")
  end)

  it("client.events:subscribe and the subscription (events.lua)", function()
    for _, o in ipairs({ "x", { nope = 1 }, { instance_token = "t" }, { instance_id = inst.id },
                         { instance_id = inst.id, instance_token = "t", events = 5 },
                         { instance_id = inst.id, instance_token = "t", events = { "" } },
                         { instance_id = inst.id, instance_token = "t", reconnect = 1 },
                         { instance_id = inst.id, instance_token = "t", max_retries = -1 },
                         { instance_id = inst.id, instance_token = "t", retry_delay = 99 },
                         { instance_id = inst.id, instance_token = "t", last_event_id = 1 },
                         { instance_id = inst.id, instance_token = "t", ping_interval = 0 } }) do
      raised(function() client.events:subscribe(o) end, "subscribe")
    end
    raised(function() client:instance(inst.id, inst.token).events:subscribe({ nope = 1 }) end, "scoped subscribe")

    local sub = subscribe()
    for _, name in ipairs({ "poll", "run", "on", "on_open", "on_close", "on_error", "close" }) do
      raised(function() sub[name]() end, "sub." .. name .. "() without a colon")
    end
    raised(function() sub:on("", print) end, "on: type")
    raised(function() sub:on("All", 1) end, "on: function")
    raised(function() sub:on_error(1) end, "on_error: function")
    raised(function() sub:poll(-1) end, "poll: timeout")

    -- run() and poll() from inside run(): raised in a handler, so reported
    -- to on_error with the raised text in err.details
    local inner = {}
    sub:on_error(function(err) inner[#inner + 1] = err end)
    sub:on("All", function()
      sub:run()
    end)
    sub:on("All", function()
      sub:poll(0)
    end)
    sub:on("All", function() sub:close() end)
    assert(emu:control("POST", "/__emu/instances/" .. inst.id .. "/events", { type = "Message" }) == 200)
    assert.is_true(sub:run())
    assert.equals(2, #inner)
    for i, what in ipairs({ "sub:run%(%) is already running", "sub:poll%(%) cannot be used inside sub:run%(%)" }) do
      local e = inner[i].details
      assert.is_string(e)
      assert.truthy(e:find(what), e)
      assert.truthy(e:find(HERE), "not at the handler's line: " .. e)
      assert.is_nil(e:find(INTERNAL), e)
      assert.is_nil(tostring(inner[i]):find(INTERNAL), tostring(inner[i]))
    end

    -- a closed client
    local c = emu:client({ realtime_url = emu.ws_url })
    local sub2 = assert(c.events:subscribe({ instance_id = inst.id, instance_token = inst.token }))
    c:close()
    raised(function() sub2:poll(0) end, "poll on a closed client")
    raised(function() sub2:run() end, "run on a closed client")
    raised(function() c.events:subscribe({ instance_id = inst.id, instance_token = inst.token }) end,
      "subscribe on a closed client")
    sub2:close()
  end)

  it("vzaps.ngx_transport (ngx.lua)", function()
    raised(function() vzaps.ngx_transport("x") end, "options")
    raised(function() vzaps.ngx_transport({ nope = 1 }) end, "unknown option")
    raised(function() vzaps.ngx_transport({ pool_size = 1.5 }) end, "pool_size")
    raised(function() vzaps.ngx_transport({ pool = 1 }) end, "pool")
    raised(function() vzaps.ngx_transport({ keepalive_timeout = -1 }) end, "keepalive_timeout")
    -- the position must not depend on how vzaps.ngx_transport reaches ngx.lua
    local e = raised(function() local t = vzaps.ngx_transport() return t end, "outside nginx")
    assert.truthy(e:find("needs OpenResty", 1, true), e)
  end)
end)
