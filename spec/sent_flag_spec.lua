-- err.sent and the message say the same thing (issue "What a new user trips
-- over, round two", items 2 and 3): "not sent" and sent == false when no
-- byte left; "may have been received" and sent == true only when libcurl had
-- begun sending, checked against what the emulator recorded.
local emulator = require("spec.support.emulator")

describe("err.sent", function()
  local emu, client, inst
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("sent")
    assert(client.instances:get(inst.id)) -- a token, so only the call itself goes out
  end)

  local function send_text(c)
    return c.messages:send_text({ instance_id = inst.id, instance_token = inst.token,
                                  phone = "5511900000001", message = "hi" })
  end

  it("a job cancelled right after spawn: not sent, sent == false, nothing on the wire", function()
    emu:clear()
    local job = client:spawn(function() return send_text(client) end)
    assert.is_true(job:cancel())
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.equals("vzaps: request cancelled (not sent)", msg)
    assert.equals("cancelled", err.kind)
    assert.is_false(err.sent)
    client:pump(0.1)
    assert.equals(0, #emu:api_requests())
  end)

  it("a job closed right after spawn: not sent either", function()
    local c = emu:client({ max_retries = 0 })
    assert(c.instances:get(inst.id))
    emu:clear()
    local job = c:spawn(function() return send_text(c) end)
    c:close()
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.equals("vzaps: client is closed", msg)
    assert.is_false(err.sent)
    assert.equals(0, #emu:api_requests())
  end)

  it("a POST that timed out after it was sent: may have been received, sent == true", function()
    local c = emu:client({ timeout = 0.3, max_retries = 2, retry_backoff = 0.01 })
    assert(c.instances:get(inst.id))
    emu:clear()
    emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 1.5, times = 1 })
    local res, msg, err = send_text(c)
    assert.is_nil(res)
    assert.equals("vzaps: request timed out after 0.3 s; it may have been received", msg)
    assert.equals("timeout", err.kind)
    assert.is_true(err.sent)
    assert.equals(1, emu:count("POST", "/instances/" .. inst.id .. "/chat/send/text")) -- never twice
    c:close()
  end)

  it("a refused connection: nothing sent, sent == false", function()
    local c = emu:client({ base_url = "http://127.0.0.1:" .. emulator.free_port(), max_retries = 0 })
    local res, msg, err = c.instances:get(inst.id)
    assert.is_nil(res)
    assert.matches("^vzaps: request failed: ", msg)
    assert.is_nil(msg:find("may have been received", 1, true))
    assert.equals("network", err.kind)
    assert.is_false(err.sent)
    c:close()
  end)
end)
