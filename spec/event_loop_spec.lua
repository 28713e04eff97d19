-- client:pollable (issue "Any event loop"): the client waited on by real
-- event loops (luv, cqueues, Neovim's vim.loop) through one fd and a
-- timeout, with client:pump(0) as the step; README "Inside an event loop"'s
-- snippets run as written. Every case checks what reached the emulator.
local emulator = require("spec.support.emulator")
local files = require("spec.support.files")
local socket = require("socket")

local has_luv, uv = pcall(require, "luv")
local has_cqueues, cqueues = pcall(require, "cqueues")
-- lua-http: packaged completely only for Lua 5.1 in Debian (the emulator's)
local has_http = has_cqueues and pcall(require, "http.server") and pcall(require, "http.request")

local function section(readme, title)
  local from = assert(readme:find("\n## " .. title .. "\n", 1, true), title)
  local to = readme:find("\n## ", from + 4, true) or #readme
  return readme:sub(from, to)
end

-- The README section's ```lua blocks, in order: luv, Neovim, cqueues.
local function snippets()
  local out = {}
  for code in section(files.must_read("README.md"), "Inside an event loop"):gmatch("```lua\n(.-)```") do
    out[#out + 1] = code
  end
  assert(#out == 3, "README \"Inside an event loop\" must have its three snippets")
  return out
end

-- Runs a snippet with the names it uses; returns what it printed.
local function run_snippet(code, env)
  local printed = {}
  local g = setmetatable({ print = function(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
    printed[#printed + 1] = table.concat(t, " ")
  end }, { __index = function(_, k) if env[k] ~= nil then return env[k] end return _G[k] end })
  local fn = assert((loadstring or load)(code, "=README", "t", g))
  if rawget(_G, "setfenv") then _G.setfenv(fn, g) end
  fn()
  return printed
end

-- Whether the fd shows readable within `seconds` (luv's own poll handle).
local function fd_fires(fd, seconds)
  local fired = 0
  local poll, stop = uv.new_poll(fd), uv.new_timer()
  poll:start("r", function() fired = fired + 1 poll:stop() end)
  uv.update_time() -- timers count from the loop's cached time, as old as its last run
  stop:start(math.floor(seconds * 1000), 0, function() poll:stop() end)
  uv.run()
  poll:close()
  stop:close()
  uv.run("nowait")
  return fired > 0
end

describe("client:pollable", function()
  local emu, client, inst
  emulator.fixture({ max_retries = 2, retry_backoff = 0.2 }, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("event loops")
  end)

  local function send(c, i, text)
    return c:spawn(function()
      return c.messages:send_text({ instance_id = inst.id, instance_token = inst.token,
                                    phone = "5511900000" .. i, message = text or ("m" .. i) })
    end)
  end

  local function sent_texts()
    local out = {}
    for _, r in ipairs(emu:api_requests()) do
      if r.json and r.json.message then out[#out + 1] = r.json.message end
    end
    return out
  end

  it("is one object with one fd, events 'r', and a timeout that says when to step", function()
    local p = client:pollable()
    assert.equals(p, client:pollable())
    local fd = p:pollfd()
    assert.equals("number", type(fd))
    assert.equals(math.floor(fd), fd)
    assert.equals(fd, p:pollfd())
    assert.equals("r", p:events())
    assert.is_nil(p:timeout(), "idle: no deadline")
    local job = send(client, 1)
    assert.equals(0, p:timeout(), "work just queued: step at once")
    local t0 = socket.gettime()
    while client:pump(0) > 0 do
      local t = p:timeout()
      assert(t and t >= 0, "a job in flight has a deadline")
      assert(socket.gettime() - t0 < 10, "the job did not finish")
      socket.sleep(0.001)
    end
    assert.is_true(job:result().success)
    assert.is_nil(p:timeout(), "idle again")
    assert.same({ "m1" }, sent_texts())
  end)

  it("counts a retry backoff as a deadline", function()
    -- A backoff of 0.25 to 0.5 s: libcurl's timers here are at most 0.2 s
    -- (happy eyeballs) or the 10 s transfer timeout.
    local c = emu:client({ max_retries = 2, retry_backoff = 0.5 })
    local path = "/instances/" .. inst.id .. "/session/status"
    emu:script({ method = "GET", path = path, status = 503, times = 1 })
    local p = c:pollable()
    local job = c:spawn(function() return c.sessions:status(inst.id, { instance_token = inst.token }) end)
    local t0 = socket.gettime()
    local saw
    while not saw do
      if c:pump(0) == 0 then
        local _, msg = job:result()
        error("the job finished without a backoff: " .. tostring(msg) .. ", saw " .. #emu:api_requests() .. " requests")
      end
      local t = p:timeout()
      if t and t > 0.21 and t <= 0.5 then saw = t end
      assert(socket.gettime() - t0 < 10, "no backoff seen")
      socket.sleep(0.002)
    end
    assert.is_true(job:cancel())
    local _, _, err = job:result()
    assert.equals("cancelled", err.kind)
    assert.is_nil(p:timeout(), "idle once the job ended")
    c:close()
    local reqs = emu:api_requests()
    assert.equals(1, #reqs, "the 503 only: the retry waited")
    assert.equals(path, reqs[1].path)
  end)

  it("counts a pace wait as a deadline", function()
    -- One send a second, burst 1: the second job waits about 1 s on a timer.
    local c = emu:client({ pace = { rate = 1, per = 1, burst = 1 } })
    local p = c:pollable()
    local first = send(c, 1)
    while not first:done() do c:pump(0.01) end
    local second = send(c, 2)
    local t0 = socket.gettime()
    local saw
    while not saw do
      assert(c:pump(0) > 0, "the second send did not wait")
      local t = p:timeout()
      if t and t > 0.3 and t <= 1.01 then saw = t end
      assert(socket.gettime() - t0 < 10, "no pace wait seen")
      socket.sleep(0.002)
    end
    assert.is_true(second:cancel())
    assert.is_nil(p:timeout())
    c:close()
    assert.same({ "m1" }, sent_texts(), "the paced send waited")
  end)

  it("refuses a closed client", function()
    local c = emu:client()
    local p = c:pollable()
    c:close()
    assert.has_error(function() p:pollfd() end, "vzaps: client is closed")
    assert.has_error(function() c:pollable() end)
  end)

  if not has_luv then
    pending("luv loops need lua-luv for this Lua")
  else
    it("idle means idle: the fd stays quiet with nothing in flight", function()
      local p = client:pollable()
      local job = send(client, 3)
      while client:pump(0.01) > 0 do end
      assert.is_true(job:result().success)
      client:pump(0)
      assert.is_nil(p:timeout())
      assert.is_false(fd_fires(p:pollfd(), 0.3), "the fd woke an idle loop")
      assert.same({ "m3" }, sent_texts())
    end)

    it("runs the README's luv snippet as written", function()
      local printed = run_snippet(snippets()[1], { client = client, id = inst.id, tok = inst.token,
                                                   phone = "5511988887777" })
      assert.same({ "sent" }, printed)
      local reqs = emu:api_requests()
      assert.equals(1, #reqs)
      assert.equals("/instances/" .. inst.id .. "/chat/send/text", reqs[1].path)
      assert.same({ phone = "5511988887777", message = "hello from luv" }, reqs[1].json)
    end)

    it("drives 50 sends from a luv loop with a 10 ms ticker that keeps ticking", function()
      local p = client:pollable()
      local poll, timer, ticker = uv.new_poll(p:pollfd()), uv.new_timer(), uv.new_timer()
      local done, steps, gap, last = 0, 0, 0, uv.hrtime()
      local function arm(t, step)
        timer:stop()
        if t then timer:start(math.max(1, math.ceil(t * 1000)), 0, step) end
      end
      local function step()
        steps = steps + 1
        if client:pump(0) == 0 then poll:stop() ticker:stop() end
        arm(p:timeout(), step)
      end
      ticker:start(10, 10, function()
        local t = uv.hrtime()
        gap = math.max(gap, (t - last) / 1e6)
        last = t
      end)
      for i = 1, 50 do send(client, i, "luv " .. i):on_done(function(res) if res then done = done + 1 end end) end
      poll:start("r", step)
      arm(0, step)
      uv.run()
      for _, h in ipairs({ poll, timer, ticker }) do h:close() end
      uv.run("nowait")
      assert.equals(50, done)
      assert.equals(50, #sent_texts())
      assert(steps < 2000, "the loop spun: " .. steps .. " steps")
      assert(gap < 200, "the ticker stalled for " .. gap .. " ms") -- generous: a loaded machine
    end)
  end

  local nvim_so = "build-luajit/vzaps.so"
  local which = io.popen("command -v nvim")
  local has_nvim = which:read("*l") ~= nil
  which:close()
  if not has_nvim then
    pending("the Neovim loop needs nvim")
  elseif not files.read(nvim_so) then
    pending("the Neovim loop needs vzaps.so for LuaJIT: make LUA=luajit")
  else
    it("runs the README's Neovim snippet in nvim --headless: 50 sends, a 10 ms timer keeps ticking", function()
      local snippet, out = os.tmpname(), os.tmpname()
      local f = assert(io.open(snippet, "w"))
      f:write(snippets()[2])
      f:close()
      local env = { VZ_CPATH = "./build-luajit/?.so", VZ_OUT = out, VZ_SNIPPET = snippet, VZ_URL = emu.url,
        VZ_ID = inst.id, VZ_TOK = inst.token, VZ_CLIENT_TOKEN = emulator.CLIENT_TOKEN,
        VZ_CLIENT_SECRET = emulator.CLIENT_SECRET }
      local cmd = {}
      for k, v in pairs(env) do cmd[#cmd + 1] = k .. "='" .. v .. "'" end
      cmd[#cmd + 1] = "timeout 60 nvim --headless -u NONE -i NONE -n -c 'luafile spec/support/nvim_loop.lua' </dev/null >/dev/null 2>&1"
      os.execute("env " .. table.concat(cmd, " "))
      local r = assert(loadfile(out))()
      os.remove(snippet)
      os.remove(out)
      assert.equals("done", r.why)
      assert.equals(50, r.ok)
      assert.equals("sent", r.first_note)
      -- The property: the loop never stalls behind the client (30 ms on an
      -- idle machine, about 10 ms measured; the bound is doubled for a shared machine).
      assert(r.gap_ms < 60, "the 10 ms timer stalled for " .. r.gap_ms .. " ms")
      local texts = sent_texts()
      assert.equals(50, #texts)
      local seen = {}
      for _, t in ipairs(texts) do seen[t] = true end
      assert.is_true(seen["from nvim"])
      assert.is_true(seen["nvim 49"])
    end)
  end

  if not has_cqueues then
    pending("cqueues loops need lua-cqueues for this Lua")
  else
    it("runs the README's cqueues snippet as written", function()
      local printed = run_snippet(snippets()[3], { client = client, id = inst.id, tok = inst.token,
                                                   phone = "5511977776666" })
      assert.equals(1, #printed)
      assert.truthy(printed[1]:find("^table"))
      local reqs = emu:api_requests()
      assert.equals(1, #reqs)
      assert.same({ phone = "5511977776666", message = "hello from cqueues" }, reqs[1].json)
    end)

    if not has_http then
      pending("the lua-http server case needs lua-http for this Lua (Debian packages it for 5.1)")
    else
      it("serves a lua-http handler that calls the API without blocking the server's other connections", function()
        local http_server, http_request = require("http.server"), require("http.request")
        emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 0.5, times = 1 })
        local p = client:pollable()
        local server = assert(http_server.listen({ host = "127.0.0.1", port = 0, onstream = function(_, stream)
          local headers = assert(stream:get_headers())
          local path, body = headers:get(":path"), "pong"
          if path == "/send" then
            local job = send(client, 7, "from a handler")
            while client:pump(0) > 0 do cqueues.poll(p) end
            local res = job:result()
            body = res and res.success and "sent" or "failed"
          end
          local out = require("http.headers").new()
          out:append(":status", "200")
          assert(stream:write_headers(out, false))
          assert(stream:write_chunk(body, true))
        end }))
        assert(server:listen())
        local _, _, port = server:localname()
        local cq = cqueues.new()
        local order = {}
        local function fetch(path)
          local headers, stream = assert(http_request.new_from_uri("http://127.0.0.1:" .. port .. path):go(10))
          assert.equals("200", headers:get(":status"))
          order[#order + 1] = path .. "=" .. assert(stream:get_body_as_string())
        end
        cq:wrap(function() assert(server:loop()) end)
        cq:wrap(function()
          local inner = cqueues.new()
          inner:wrap(fetch, "/send")
          inner:wrap(function() cqueues.sleep(0.05) fetch("/ping") end)
          assert(inner:loop())
          server:close()
        end)
        assert(cq:loop(20))
        assert.same({ "/ping=pong", "/send=sent" }, order, "the slow API call held up another connection")
        assert.same({ "from a handler" }, sent_texts())
      end)
    end

    it("keeps a cqueues controller's other coroutines running while calls are in flight", function()
      emu:script({ path = "/instances/" .. inst.id .. "/chat/send/text", delay = 0.3, times = 5 })
      local cq = cqueues.new()
      local ticks, results = 0, {}
      local finished = false
      cq:wrap(function()
        while not finished do ticks = ticks + 1 cqueues.sleep(0.01) end
      end)
      cq:wrap(function()
        local jobs = {}
        for i = 1, 5 do jobs[i] = send(client, i, "cq " .. i) end
        local p = client:pollable()
        while client:pump(0) > 0 do cqueues.poll(p) end
        for i = 1, 5 do results[i] = jobs[i]:result() end
        finished = true
      end)
      assert(cq:loop())
      for i = 1, 5 do assert.is_true(results[i].success) end
      assert(ticks >= 10, "the other coroutine stalled (" .. ticks .. " ticks)")
      assert.equals(5, #sent_texts())
    end)
  end
end)
