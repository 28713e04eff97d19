-- spec/realtime_flood_spec.lua: a realtime subscription against hostile
-- servers (spec/support/hostile_ws_server.lua, started here on 127.0.0.1) that
-- complete the handshake and then flood without ever reading: pings that
-- each owe a pong, 1 MiB events nonstop, empty frames, 8 KiB frames. The
-- process keeps bounded memory, sub:poll(t) returns within its time, and a
-- peer past a limit ends the connection with kind "network" and a message
-- naming the limit (docs/realtime.md "Flood limits").
local emulator = require("spec.support.emulator")
local hostile_ws = require("spec.support.hostile_ws")
local socket = require("socket")

local clock = socket.gettime
-- Sanitizers keep freed memory in quarantine and valgrind slows everything:
-- memory bounds are checked on plain builds only, times stretch.
local CHECKED = os.getenv("VZAPS_VALGRIND") or os.getenv("VZAPS_SANITIZE")
local SLOW = os.getenv("VZAPS_VALGRIND") and 8 or 1
local REPORT = os.getenv("VZAPS_FLOOD_REPORT") -- prints the figures docs/reliability.md records

local function status_kb(field)
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end

-- Resets the process's peak RSS (VmHWM) to its current RSS (Linux).
local function reset_peak()
  local f = io.open("/proc/self/clear_refs", "w")
  if f then f:write("5"); f:close() end
end

describe("realtime subscription against a flooding server", function()
  local emu

  setup(function() emu = emulator.start() end)
  teardown(function() emu:stop() end)

  -- Subscribes to a hostile server of mode (the token comes from the
  -- emulator), then polls with timeout t until the subscription fails or
  -- `seconds` pass. Returns what happened: the failure, the longest poll,
  -- events seen, time to fail, peak RSS growth (KiB).
  local function flood(mode, opts, t, seconds)
    local url, stop = hostile_ws.start(mode)
    local client = emu:client({ realtime_url = url })
    local o = { instance_id = "VZ-flood", instance_token = "flood-instance-token", reconnect = false,
                ping_interval = false }
    for k, v in pairs(opts or {}) do o[k] = v end
    collectgarbage()
    collectgarbage()
    local rss0 = status_kb("VmRSS")
    reset_peak()
    local t0 = clock()
    local sub = assert(client.events:subscribe(o))
    local r = { events = 0, longest = 0 }
    while clock() - t0 < seconds do
      local p0 = clock()
      local ev, msg, err = sub:poll(t)
      local dt = clock() - p0
      if dt > r.longest then r.longest = dt end
      if ev then
        r.events = r.events + 1
      elseif msg then
        r.msg, r.err, r.failed_after = msg, err, clock() - t0
        break
      end
    end
    local peak = status_kb("VmHWM")
    r.rss_growth = peak and rss0 and (peak - rss0)
    sub:close()
    client:close()
    stop()
    if REPORT then
      io.stderr:write(("\n[flood %s] peak RSS +%s KiB, longest poll(%s) %.3f s, events %d, failed after %s s: %s\n")
        :format(mode, tostring(r.rss_growth), t, r.longest, r.events,
          r.failed_after and ("%.3f"):format(r.failed_after) or "-", tostring(r.msg)))
    end
    return r
  end

  it("fails a server that floods pings and never reads (max_unsent_frames), in bounded memory and time", function()
    local r = flood("pings", nil, 0.5, 15 * SLOW)
    assert.is_string(r.msg, "the subscription did not fail")
    assert.equals("network", r.err.kind)
    assert.matches("does not read", r.msg)
    assert.matches("max_unsent_frames", r.msg)
    assert.matches("1024 frames", r.msg)
    assert.is_true(r.longest < 0.5 + 1.5 * SLOW, "a poll(0.5) took " .. r.longest)
    if not CHECKED and r.rss_growth then
      assert.is_true(r.rss_growth < 64 * 1024, "RSS grew by " .. r.rss_growth .. " KiB")
    end
  end)

  it("keeps poll(t) on time and memory bounded under nonstop 1 MiB events", function()
    local r = flood("texts", nil, 0.5, 4 * SLOW)
    assert.is_nil(r.msg) -- a fast stream of valid events is not an attack the client can tell
    assert.is_true(r.events > 0)
    assert.is_true(r.longest < 0.5 + 1.5 * SLOW, "a poll(0.5) took " .. r.longest)
    if not CHECKED and r.rss_growth then
      assert.is_true(r.rss_growth < 160 * 1024, "RSS grew by " .. r.rss_growth .. " KiB")
    end
  end)

  it("fails a flood of empty frames past max_queued_messages, before handing them out", function()
    -- The queue only grows within one read step, which stops at the poll's
    -- deadline: under valgrind one step reads too few frames to pass the
    -- default, so the limit is lowered there (the frames are then just
    -- handed out slowly, in bounded memory).
    local limit = os.getenv("VZAPS_VALGRIND") and 10000 or 100000 -- the default
    local r = flood("tiny", limit < 100000 and { max_queued_messages = limit } or nil, 0.5, 15 * SLOW)
    assert.is_string(r.msg, "the subscription did not fail")
    assert.equals("network", r.err.kind)
    assert.matches("more than " .. limit .. " messages wait %(max_queued_messages%)", r.msg)
    assert.is_true(r.longest < 0.5 + 1.5 * SLOW, "a poll(0.5) took " .. r.longest)
    if not CHECKED and r.rss_growth then
      assert.is_true(r.rss_growth < 64 * 1024, "RSS grew by " .. r.rss_growth .. " KiB")
    end
  end)

  it("fails run() on a server that sends events and never reads the acks (max_unsent_frames)", function()
    local url, stop = hostile_ws.start("events")
    local client = emu:client({ realtime_url = url })
    local sub = assert(client.events:subscribe({ instance_id = "VZ-flood", instance_token = "flood-instance-token",
      reconnect = false, ping_interval = false }))
    local n = 0
    sub:on("All", function() n = n + 1 end)
    local t0 = clock()
    local ok, msg, err = sub:run()
    local dt = clock() - t0
    stop()
    client:close()
    if REPORT then io.stderr:write(("\n[flood events/run] %d events, failed after %.3f s: %s\n"):format(n, dt, msg)) end
    assert.is_nil(ok)
    assert.equals("network", err.kind)
    assert.matches("does not read: more than 1024 frames wait to be sent %(max_unsent_frames%)", msg)
    assert.is_true(n > 1024)
    assert.is_true(dt < 30 * SLOW, "took " .. dt)
  end)

  it("takes its limits from the subscription's options", function()
    local r = flood("chunks", { max_queued_bytes = 65536 }, 0.5, 15 * SLOW)
    assert.equals("network", r.err.kind)
    assert.matches("more than 65536 bytes of messages wait %(max_queued_bytes%)", r.msg)

    r = flood("tiny", { max_queued_messages = 10 }, 0.5, 15 * SLOW)
    assert.matches("more than 10 messages wait", r.msg)

    r = flood("pings", { max_unsent_frames = 5000 }, 0.5, 15 * SLOW)
    assert.matches("more than 5000 frames wait to be sent", r.msg)
  end)

  it("refuses bad limits", function()
    local client = emu:client({ realtime_url = "ws://127.0.0.1:1" })
    for _, name in ipairs({ "max_queued_bytes", "max_queued_messages", "max_unsent_frames" }) do
      for _, bad in ipairs({ 0, -1, 1.5, "10", 2 ^ 31, true }) do
        assert.has_error(function()
          client.events:subscribe({ instance_id = "VZ-x", instance_token = "tok-x", [name] = bad })
        end, "bad argument #1 to 'subscribe' (" .. name .. " must be an integer from 1 to 2147483647)")
      end
    end
    client:close()
  end)
end)
