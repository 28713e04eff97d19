-- spec/reentrant_spec.lua: a call made on a client while that same client
-- is still mapping or sending another one (from an __index metamethod of an
-- argument table, or from a finalizer that a collection runs in the middle
-- of the call) raises a clear error instead of sharing the client's URL,
-- body and response buffers with the outer call. Run under ASan and
-- valgrind by make check, where the old sharing showed as heap corruption.
local wire = require("spec.support.wire")
local vzaps = require("vzaps")

local PHONE = "+5511988887777"
local NESTED = "vzaps: this client is in the middle of another call"

describe("a nested call on the same client", function()
  local ctx, c, inst, dir
  setup(function()
    ctx = wire.start("reentrant spec")
    c = ctx.client
    inst = c:instance(ctx.id, ctx.tok)
    dir = os.tmpname()
    local f = assert(io.open(dir, "wb"))
    f:write("%PDF-1.4 a small document")
    f:close()
  end)
  teardown(function()
    os.remove(dir)
    ctx:stop()
  end)
  before_each(function() ctx:clear() end)

  it("from an argument's __index raises, and the outer call goes out as mapped", function()
    local inner_ok, inner_msg
    local args = setmetatable({ phone = PHONE, document = vzaps.file(dir, "application/pdf") }, {
      __index = function(_, k)
        if k == "file_name" then
          inner_ok, inner_msg = pcall(inst.messages.send_text, inst.messages, { phone = PHONE, message = "inner" })
        end
      end,
    })
    assert(inst.messages:send_document(args))
    assert.is_false(inner_ok)
    assert.truthy(tostring(inner_msg):find(NESTED, 1, true), inner_msg)
    local reqs = ctx.emu:api_requests()
    assert.equals(1, #reqs)
    assert.equals("/instances/" .. ctx.id .. "/chat/send/document", reqs[1].path)
    local body = wire.json.decode(reqs[1].body)
    assert.equals(PHONE, body.phone)
    assert.equals(dir:match("[^/]+$"), body.file_name)
  end)

  it("from an argument's __index that lets the error through: the outer call raises it, nothing is sent", function()
    local args = setmetatable({ phone = PHONE, document = vzaps.file(dir, "application/pdf") }, {
      __index = function(_, k)
        if k == "file_name" then inst.messages:send_text({ phone = PHONE, message = "inner" }) end
      end,
    })
    local ok, msg = pcall(inst.messages.send_document, inst.messages, args)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find(NESTED, 1, true), msg)
    assert.equals(0, #ctx.emu:api_requests())
    -- the guard is released: the next call on the client goes out
    assert(inst.messages:send_text({ phone = PHONE, message = "after" }))
    assert.equals(1, #ctx.emu:api_requests())
  end)

  it("from client:request's query __index raises the same way", function()
    local opts = setmetatable({ query = { a = "1" } }, {
      __index = function(_, k)
        if k == "headers" then c:request("GET", "/instances") end
      end,
    })
    local ok, msg = pcall(c.request, c, "GET", "/instances", opts)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find(NESTED, 1, true), msg)
    assert.equals(0, #ctx.emu:api_requests())
  end)

  -- Finalizers that call the client, on every Lua: 5.1 and LuaJIT run
  -- __gc only for userdata (newproxy).
  local function finalizers(fn)
    local proxy = rawget(_G, "newproxy") and not _VERSION:find("5%.[234]")
    local mt = { __gc = fn }
    return function()
      if not proxy then return setmetatable({}, mt) end
      local u = rawget(_G, "newproxy")(true)
      getmetatable(u).__gc = fn
      return u
    end
  end

  it("from a finalizer that a collection inside the call runs: refused, the outer call goes out whole", function()
    local outcomes = {}
    local garbage = finalizers(function()
      local ok, msg = pcall(c.instances.get, c.instances, ctx.id)
      outcomes[#outcomes + 1] = ok and "ran" or tostring(msg)
    end)
    for _ = 1, 5 do garbage() end
    -- send_document reads `file_name` (to default it) while it maps; a
    -- full collection there runs the pending finalizers mid-call.
    local args = setmetatable({ phone = PHONE, document = vzaps.file(dir, "application/pdf") }, {
      __index = function(_, k) if k == "file_name" then collectgarbage() end end,
    })
    assert(inst.messages:send_document(args))
    assert.equals(5, #outcomes)
    for _, o in ipairs(outcomes) do assert.truthy(o:find(NESTED, 1, true), o) end
    local reqs = ctx.emu:api_requests()
    assert.equals(1, #reqs)
    assert.equals("/instances/" .. ctx.id .. "/chat/send/document", reqs[1].path)
  end)

  it("from finalizers the call's own allocations run: each nested call is refused or runs alone, answers whole", function()
    for i = 1, 30 do assert(c.instances:create({ name = "gc " .. i })) end
    local refused, ran, other = 0, 0, {}
    local garbage = finalizers(function()
      local ok, msg = pcall(c.instances.get, c.instances, ctx.id)
      if ok then ran = ran + 1
      elseif tostring(msg):find(NESTED, 1, true) then refused = refused + 1
      else other[#other + 1] = tostring(msg) end
    end)
    -- A collector that never rests, so finalizers run inside the calls
    -- (how many do depends on the heap: the case above is the exact one).
    local pause, stepmul = collectgarbage("setpause", 0), collectgarbage("setstepmul", 1000)
    for _ = 1, 40 do
      for _ = 1, 200 do garbage() end
      local page = assert(c.instances:list({ page_size = 100 }))
      assert.equals(31, page.total)
      for _, row in ipairs(page.content) do assert.is_string(row.id) end
    end
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage()
    collectgarbage()
    assert.same({}, other)
    assert.equals(40 * 200, refused + ran)
  end)
end)
