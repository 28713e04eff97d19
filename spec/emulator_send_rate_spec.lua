-- The emulator's optional per-instance send rate (emulator/lib/send_rate.lua):
-- beyond send_rate sends per send_per seconds an instance's sends get 429
-- with Retry-After; reads and other instances are not limited. The same
-- limit with the client's `pace` gets no 429.
local emulator = require("spec.support.emulator")

describe("emulator send rate", function()
  local emu, client, inst, other
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("rate")
    other = emu:new_instance("rate 2")
  end)
  after_each(function() emu:config({ send_rate = emulator.json.null }) end)

  local function send(target)
    return client.messages:send_text({ instance_id = target.id, instance_token = target.token,
                                       phone = "5511", message = "m" })
  end

  it("answers 429 with Retry-After beyond the rate, per instance, sends only", function()
    emu:config({ send_rate = 2, send_per = 5 })
    assert(send(inst))
    assert(send(inst))
    local res, _, err = send(inst)
    assert.is_nil(res)
    assert.equals(429, err.status)
    assert.equals("rate_limit", err.kind)
    assert.equals("RATE_LIMITED", err.code)
    assert(err.retry_after >= 1 and err.retry_after <= 5)
    assert(send(other))
    assert(client.sessions:status(inst.id, { instance_token = inst.token }))
  end)

  it("lets sends through again when the window has passed", function()
    emu:config({ send_rate = 1, send_per = 0.3 })
    assert(send(inst))
    assert.is_nil((send(inst)))
    require("socket").sleep(0.35)
    assert(send(inst))
  end)

  it("gives no 429 to a client paced at the same rate", function()
    emu:config({ send_rate = 5, send_per = 1 })
    local c = emu:client({ max_retries = 0, pace = { rate = 5, per = 1.05 } })
    for _ = 1, 8 do
      assert(c.messages:send_text({ instance_id = inst.id, instance_token = inst.token, phone = "5511", message = "m" }))
    end
    c:close()
  end)

  it("takes --send-rate N/SECONDS on the command line", function()
    local e = emulator.start({ "--send-rate", "1/10" })
    local c = e:client({ max_retries = 0 })
    local i = e:new_instance()
    local function s() return c.messages:send_text({ instance_id = i.id, instance_token = i.token, phone = "1", message = "m" }) end
    assert(s())
    local _, _, err = s()
    assert.equals(429, err.status)
    c:close()
    e:stop()
  end)
end)
