-- spec/webhook_bare_spec.lua: the receiver against deliveries as the
-- contract describes them (§7: the bare `data` object), over real HTTP on
-- loopback: the emulator in webhook_payload "bare" mode POSTs to a small
-- LuaSocket server whose only logic is hook:handle (issue "What a new user
-- trips over, round two", item 1). A bare payload's type ("message",
-- "connected", "read_receipt") reaches the handlers under its contract §6.6
-- name ("Message", ...); a type with no such name under its own, and All.
local emulator = require("spec.support.emulator")
local socket = require("socket")
local vzaps = require("vzaps")

local PHONE = "5511988887777"

-- Accepts one delivery on srv, gives its body and headers to hook:handle,
-- and answers 200 (500 when handle failed); returns what handle returned.
local function serve_one(srv, hook)
  local conn = assert(srv:accept())
  conn:settimeout(5)
  local line = assert(conn:receive("*l"))
  assert(line:match("^POST %S+ HTTP/1%.1$"), line)
  local headers = {}
  for _ = 1, 100 do
    local h = assert(conn:receive("*l"))
    if h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    headers[k:lower()] = v
  end
  local body = assert(conn:receive(tonumber(headers["content-length"])))
  local ok, msg = hook:handle(body, headers)
  local status = ok and 200 or 500
  conn:send(("HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"):format(status))
  conn:close()
  return ok, msg, body
end

describe("webhook receiver and bare deliveries", function()
  local emu, client, srv, url
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
    srv = assert(socket.bind("127.0.0.1", 0))
    srv:settimeout(5)
    local _, port = srv:getsockname()
    url = "http://127.0.0.1:" .. port .. "/hook"
  end)
  teardown(function() if srv then srv:close() end end)
  before_each(function() emu:config({ webhook_payload = "bare" }) end)
  after_each(function() emu:reset() end)

  local function seen_by(hook)
    local seen = {}
    hook:on("All", function(ev) seen[#seen + 1] = "All:" .. ev.type end)
    return seen
  end

  it("runs Message, Connected and Disconnected handlers for what the emulator posts", function()
    local inst = assert(client.instances:create({ name = "Bare", webhook = url }))
    local hook = vzaps.webhook({ key = false })
    local got = {}
    for _, t in ipairs({ "Message", "Connected", "Disconnected" }) do
      hook:on(t, function(ev, headers)
        got[#got + 1] = { t, ev, headers }
      end)
    end
    local all = seen_by(hook)

    assert.equals(200, (emu:control("POST", "/__emu/instances/" .. inst.id .. "/connect")))
    local ok, _, body = serve_one(srv, hook)
    assert.is_true(ok)
    local wire = vzaps.json.decode(body)
    assert.equals("connected", wire.type) -- the emulator's bare payload: no envelope
    assert.is_nil(wire.id)
    assert.is_nil(wire.data)

    local res = assert(client.messages:send_text({ instance_id = inst.id, instance_token = inst.token,
                                                   phone = PHONE, message = "bare hello" }))
    assert.is_true((serve_one(srv, hook)))
    assert.equals(200, (emu:control("POST", "/__emu/instances/" .. inst.id .. "/disconnect")))
    assert.is_true((serve_one(srv, hook)))

    assert.equals(3, #got)
    assert.equals("Connected", got[1][1])
    assert.equals("Connected", got[1][2].type)
    assert.equals("5511999990000", got[1][2].data.phone) -- the emulator's default phone
    assert.equals("Message", got[2][1])
    assert.equals("Message", got[2][2].type)
    assert.equals("message", got[2][2].data.type) -- the payload as sent
    assert.equals(res.data.message_id, got[2][2].data.event.id)
    assert.equals("bare hello", got[2][2].data.event.content.message)
    assert.equals("application/json", got[2][3]["content-type"])
    assert.equals("Disconnected", got[3][2].type)
    assert.equals("emulator", got[3][2].data.reason)
    assert.same({ "All:Connected", "All:Message", "All:Disconnected" }, all)

    -- the delivery log keeps the bare body, and the emulator saw it delivered
    local logs = assert(client.webhooks:search_logs({ instance_id = inst.id, instance_token = inst.token }))
    assert.equals(3, logs.total)
    for _, log in ipairs(logs.data) do assert.is_nil(log.payload.data) end
  end)

  it("maps any case and snake_case to the contract's names; other types keep their own, and All", function()
    local inst = assert(client.instances:create({ name = "Bare types", webhook = url }))
    local hook = vzaps.webhook({ key = false })
    local own = {}
    for _, t in ipairs({ "ReadReceipt", "ChatPresence", "GroupParticipantsAdd", "calloffer" }) do
      hook:on(t, function(ev) own[#own + 1] = t .. "=" .. ev.type end)
    end
    local all = seen_by(hook)
    local function inject(t, data)
      local code = emu:control("POST", "/__emu/instances/" .. inst.id .. "/events", { type = t, data = data })
      assert.equals(200, code)
      assert.is_true((serve_one(srv, hook)))
    end
    inject("ReadReceipt", { type = "read_receipt", ids = { "3EB0" } })
    inject("ChatPresence", { type = "CHATPRESENCE" })
    inject("GroupParticipantsAdd", {}) -- no type in the data: the emulator adds "groupparticipantsadd"
    inject("CallOffer", {})            -- no §6.6 name: dispatched as "calloffer"
    assert.same({ "ReadReceipt=ReadReceipt", "ChatPresence=ChatPresence",
                  "GroupParticipantsAdd=GroupParticipantsAdd", "calloffer=calloffer" }, own)
    assert.same({ "All:ReadReceipt", "All:ChatPresence", "All:GroupParticipantsAdd", "All:calloffer" }, all)
  end)

  it("the issue's own handler runs for a lowercase bare Message", function()
    local hook = vzaps.webhook({ key = false })
    local ran = {}
    hook:on("Message", function() ran[#ran + 1] = "Message" end)
    hook:on("All", function(ev) ran[#ran + 1] = "All " .. ev.type end)
    assert.is_true(hook:handle('{"type":"message","event":{"type":"text","phone":"5511999990000","id":"3EB0"}}'))
    assert.same({ "Message", "All Message" }, ran)
  end)

  it("an envelope keeps its type as sent (the realtime shape is not renamed)", function()
    emu:config({ webhook_payload = "envelope" })
    local hook = vzaps.webhook({ key = false })
    local ran = {}
    hook:on("message", function(ev) ran[#ran + 1] = ev.type end)
    assert.is_true(hook:handle(vzaps.json.encode({ id = "e1", type = "message", data = { type = "message" } })))
    assert.same({ "message" }, ran)
  end)

  it("the emulator refuses an unknown delivery mode", function()
    local code, res = emu:control("POST", "/__emu/config", { webhook_payload = "naked" })
    assert.equals(400, code)
    assert.matches("envelope or bare", vzaps.json.encode(res))
  end)
end)
