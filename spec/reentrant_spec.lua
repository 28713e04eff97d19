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

  it("from finalizers run during calls: each nested call is refused or runs alone, every outer answer is whole", function()
    for i = 1, 30 do assert(c.instances:create({ name = "gc " .. i })) end
    local refused, ran, other = 0, 0, {}
    local function finalizer()
      local ok, msg = pcall(c.instances.get, c.instances, ctx.id)
      if ok then ran = ran + 1
      elseif tostring(msg):find(NESTED, 1, true) then refused = refused + 1
      else other[#other + 1] = tostring(msg) end
    end
    -- Lua 5.1 and LuaJIT run __gc only for userdata (newproxy).
    local mt = { __gc = finalizer }
    local proxy = rawget(_G, "newproxy") and not _VERSION:find("5%.[234]")
    local function garbage()
      if not proxy then return setmetatable({}, mt) end
      local u = rawget(_G, "newproxy")(true)
      getmetatable(u).__gc = finalizer
      return u
    end
    -- A collector that never rests, so finalizers run inside the calls.
    local pause, stepmul = collectgarbage("setpause", 0), collectgarbage("setstepmul", 1000)
    -- Until a finalizer met a call in progress (a large heap takes a
    -- while to reach the finalizers of a cycle), at most 1000 calls.
    for _ = 1, 1000 do
      if refused > 0 then break end
      for _ = 1, 200 do garbage() end -- garbage with finalizers, collected during the next call
      local page = assert(c.instances:list({ page_size = 100 }))
      assert.equals(31, page.total)
      for _, row in ipairs(page.content) do assert.is_string(row.id) end
    end
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage()
    collectgarbage()
    assert.same({}, other)
    assert.is_true(refused > 0, "no finalizer ran during a call: the case was not exercised")
  end)
end)
