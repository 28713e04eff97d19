-- spec/emulator_spec.lua: behaviour of the bundled emulator itself (not of
-- the module): list order of instances created together, and its command
-- line (default port, a port already in use).
local emulator = require("spec.support.emulator")
local socket = require("socket")

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]+$") or "."
local MAIN = ROOT .. "/emulator/main.lua"

describe("emulator", function()
  describe("instances list order", function()
    local emu, client
    emulator.fixture(nil, function(e, c) emu, client = e, c end)

    -- n instances "Bot 1".."Bot n" created in one burst: the requests are
    -- pipelined on one connection, so most land in the same millisecond.
    local function create_burst(n)
      local tok = assert(client.auth:get_access_token())
      local s = assert(socket.connect("127.0.0.1", emu.port))
      s:settimeout(5)
      local reqs = {}
      for i = 1, n do
        local body = ('{"name":"Bot %d"}'):format(i)
        reqs[i] = ("PUT /instances/create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
          .. "X-Client-Token: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s")
          :format(tok, emulator.CLIENT_TOKEN, #body, i == n and "Connection: close\r\n" or "", body)
      end
      assert(s:send(table.concat(reqs)))
      local all, err, partial = s:receive("*a") -- until the server closes
      s:close()
      local created = 0
      for _ in (all or partial or ""):gmatch("HTTP/1%.1 200 ") do created = created + 1 end
      assert.equals(n, created, "burst creates: " .. tostring(err))
    end

    local function names(list)
      local out = {}
      for i, inst in ipairs(list) do out[i] = inst.name end
      return out
    end

    local function pages(args)
      local got = {}
      for page = 1, 3 do
        args.page, args.size = page, 2
        local res = assert(client.instances:list(args))
        assert.equals(5, res.total)
        for _, name in ipairs(names(res.content)) do got[#got + 1] = name end
      end
      return got
    end

    local ASC = { "Bot 1", "Bot 2", "Bot 3", "Bot 4", "Bot 5" }
    local DESC = { "Bot 5", "Bot 4", "Bot 3", "Bot 2", "Bot 1" }

    -- Ties on created_at used to be broken by the random id (pages came
    -- back as Bot 1, 3, 2, 5, 4); the creation sequence breaks them now.
    -- A few rounds (a handful of milliseconds each), so that before the fix
    -- a lucky random order could not pass.
    it("pages instances created in the same millisecond in creation order", function()
      for _ = 1, 5 do
        emu:reset()
        create_burst(5)
        assert.same(ASC, pages({}))
        assert.same(DESC, pages({ sort_desc = true }))
        -- a tie on another sort key (all disconnected) falls back to it too
        assert.same(ASC, pages({ sort = "status" }))
        -- search uses the same order
        assert.same(ASC, names(assert(client.instances:search({ query = "Bot" })).content))
      end
    end)
  end)

  describe("command line", function()
    local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

    -- Runs the emulator with args (it is expected to exit by itself, bounded
    -- by `timeout`); returns its exit status and stderr.
    local function run(args)
      local err_file = os.tmpname()
      local cmd = ("env -u LD_PRELOAD timeout 10 lua5.1 %s %s </dev/null >/dev/null 2>%s; echo $?")
        :format(sh_quote(MAIN), args, sh_quote(err_file))
      local p = assert(io.popen(cmd))
      local rc = tonumber(p:read("*l"))
      p:close()
      local f = assert(io.open(err_file))
      local stderr = f:read("*a")
      f:close()
      os.remove(err_file)
      return rc, stderr
    end

    -- Holds host:port for the duration of fn; nil when someone else has it.
    local function occupy(port)
      local s = socket.bind("127.0.0.1", port)
      if s then
        local _, p = s:getsockname()
        return s, tonumber(p)
      end
    end

    it("a port in use is one clear line and a non-zero exit, no stack trace", function()
      local held, port = assert(occupy(0))
      local rc, stderr = run("--port " .. port)
      held:close()
      assert.is_true(rc ~= 0 and rc ~= 124, "exit status " .. tostring(rc))
      assert.equals(("vzaps-emulator: 127.0.0.1:%d is in use (another emulator?); pass --port N\n"):format(port),
        stderr)
    end)

    -- Without --port the emulator listens on 8787, the examples' default.
    -- Checked with 8787 taken (by this test, or by someone else already), so
    -- the test never holds the real port and never depends on it being free.
    it("defaults to port 8787 without --port", function()
      -- This test holds 8787 itself (waiting a little if another run of the
      -- suite holds it now), so its emulator can never bind it.
      local held
      for _ = 1, 100 do
        held = occupy(8787)
        if held then break end
        socket.sleep(0.05)
      end
      assert(held, "127.0.0.1:8787 stayed taken by another program for 5 s")
      local rc, stderr = run("--quiet")
      held:close()
      assert.is_true(rc ~= 0 and rc ~= 124, "exit status " .. tostring(rc))
      assert.equals("vzaps-emulator: 127.0.0.1:8787 is in use (another emulator?); pass --port N\n", stderr)
    end)

    it("--port 0 still picks a free port", function()
      local emu = emulator.start()
      assert.is_true(emu.port > 0 and emu.port ~= 8787)
      emu:stop()
    end)
  end)
end)
