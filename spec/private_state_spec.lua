-- spec/private_state_spec.lua: no credential is reachable by walking the
-- public objects the way inspect or serpent do (pairs over tables, keys
-- included, and getmetatable of tables and userdata, at any depth): not
-- from a client, not from an instance handle or its resources (whose
-- instance token lives in state.lua's weak-keyed SCOPES, issue 18 item
-- 11). That private entry goes with its object, also on Lua 5.1 and LuaJIT
-- (no ephemerons: the scope never refers back to its object).
local E = require("spec.support.emulator")

-- Every string reachable from root by pairs and getmetatable.
local function walk(root)
  local found, seen = {}, {}
  local function visit(v, depth)
    if depth > 100 then return end
    local t = type(v)
    if t == "string" then
      found[#found + 1] = v
    elseif t == "table" or t == "userdata" then
      if seen[v] then return end
      seen[v] = true
      if t == "table" then
        for k, x in next, v do
          visit(k, depth + 1)
          visit(x, depth + 1)
        end
      end
      visit(getmetatable(v), depth + 1)
    end
  end
  visit(root, 0)
  return found
end

local function reached(root, secret)
  for _, s in ipairs(walk(root)) do
    if s:find(secret, 1, true) then return true end
  end
  return false
end

describe("private state", function()
  local emu, client, inst, jwt

  E.fixture(nil, function(e, c)
    emu, client = e, c
    inst = e:new_instance("private")
    jwt = assert(client.auth:get_access_token())
  end)

  it("walking a client, a handle and every resource reaches no credential", function()
    local h = client:instance(inst.id, inst.token)
    -- The handle works, so the walk below is over live objects.
    assert.is_table(h.sessions:status())
    assert.equals("/instances/" .. inst.id .. "/session/status", emu:last_request().path)
    assert.equals(inst.token, emu:last_request().headers["x-instance-token"])
    local roots = { client = client, handle = h, auth = client.auth, events = client.events, hevents = h.events }
    for name, v in pairs(h) do roots["handle." .. tostring(name)] = v end
    for _, r in ipairs({ "instances", "messages", "chats", "groups", "webhooks", "sessions" }) do
      roots["client." .. r] = client[r]
    end
    local walked = 0
    for name, root in pairs(roots) do
      walked = walked + #walk(root)
      for what, secret in pairs({ instance_token = inst.token, client_secret = E.CLIENT_SECRET,
                                  client_token = E.CLIENT_TOKEN, jwt = jwt }) do
        assert.is_false(reached(root, secret), name .. " reaches the " .. what)
      end
    end
    assert.is_true(walked > 50) -- the walk did see the methods' names and metatables
    assert.is_true(reached(h, inst.id)) -- what is public stays visible
  end)

  it("a handle's private entry is collected with it (also without ephemerons)", function()
    local function handles()
      for i = 1, 4000 do
        local tok = string.format("%08d", i) .. string.rep("t", 4000)
        local h = client:instance(inst.id, tok)
        assert.is_table(h.messages)
      end
      collectgarbage()
      collectgarbage()
    end
    -- A first round sizes the weak table's hash part (on 5.1 and 5.2 it
    -- keeps that size after its entries go), so the second one measures
    -- only what is kept.
    handles()
    local before = collectgarbage("count")
    handles()
    local grown = collectgarbage("count") - before
    -- 4000 handles held 16 MB of tokens; kept entries would show it.
    assert.is_true(grown < 2048, ("grew %.0f KiB"):format(grown))
    -- A handle still alive keeps its scope: its calls still carry the token.
    local h = client:instance(inst.id, inst.token)
    collectgarbage()
    assert.is_table(h.sessions:status())
    assert.equals(inst.token, emu:last_request().headers["x-instance-token"])
  end)
end)
