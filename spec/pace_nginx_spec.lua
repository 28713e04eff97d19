-- spec/pace_nginx_spec.lua: vzaps.ngx_store in a real nginx with four
-- workers (spec/support/nginx_pace.conf): a send budget that holds across
-- the workers (the emulator's arrival times), one JWT for all of them, and
-- webhook ids handled once whichever worker gets a redelivery.
local emulator = require("spec.support.emulator")
local nginx = require("spec.support.nginx")
local cjson = emulator.json

local missing = nginx.missing(nginx.build_dir())

describe("vzaps.ngx_store in nginx with four workers", function()
  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  local emu, srv, inst
  nginx.fixture(function(e, s)
    emu, srv = e, s
    inst = emu:new_instance("nginx pace")
  end, "spec/support/nginx_pace.conf")

  it("keeps 40 sends from every worker within 10 a second, with one POST /token", function()
    emu:clear()
    local conns, workers, nworkers = {}, {}, 0
    for i = 1, 40 do
      conns[i] = srv:open(("/send?id=%s&tok=%s&phone=5511%d"):format(inst.id, inst.token, i))
    end
    for i = 1, 40 do
      local status, body = conns[i].finish()
      assert.equals(200, status, body .. srv:log())
      local v = cjson.decode(body)
      assert(v.ok, v.message)
      if not workers[v.worker] then workers[v.worker], nworkers = true, nworkers + 1 end
    end
    assert(nworkers >= 2, "the load reached " .. nworkers .. " worker(s) only")
    local at = emu:arrivals("/instances/" .. inst.id .. "/chat/send/text")
    assert.equals(40, #at)
    local most = emulator.densest(at, 1)
    assert(most <= 11, "a one-second window held " .. most .. " sends")
    assert.equals(1, emu:count("POST", "/token"))
  end)

  it("handles each of 50 events once when every delivery comes twice, to any worker", function()
    local conns = {}
    for round = 1, 2 do
      for i = 1, 50 do
        conns[#conns + 1] = srv:open("/hook", ('{"id":"ev-%d","type":"Message","data":{"r":%d}}'):format(i, round))
      end
    end
    for _, c in ipairs(conns) do assert.equals(200, (c.finish())) end
    local _, body = srv:get("/results")
    assert.same({ ids = 50, most = 1 }, cjson.decode(body))
  end)
end)
