-- spec/token_nginx_spec.lua: vzaps.ngx_token_store, one JWT for every worker
-- of a real nginx (four workers, spec/support/nginx_workers.conf) over real
-- HTTP: under load exactly one POST /token, again after the token is revoked
-- or expires, one failure handed to every waiter, and a fetch cut off
-- (its light thread killed) that cannot keep the lock.
local emulator = require("spec.support.emulator")
local nginx = require("spec.support.nginx")
local socket = require("socket")
local cjson = emulator.json

local missing = nginx.missing(nginx.build_dir())
-- Under valgrind (make check-valgrind) the spec process sends its requests
-- slowly: the windows that a whole wave must fall into are stretched.
local SLOW = os.getenv("VZAPS_VALGRIND") and 8 or 1

describe("shared token store in nginx (vzaps.ngx_token_store)", function()
  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  local emu, srv
  nginx.fixture(function(e, s) emu, srv = e, s end, "spec/support/nginx_workers.conf",
    { WEBHOOK_KEY = string.rep("k", 20) })

  before_each(function()
    emu:reset()
    assert.equals(200, (srv:get("/reset")))
  end)

  -- n requests of path, `concurrency` at a time: the decoded answers.
  local function load(path, n, concurrency)
    local out = {}
    local i = 0
    while i < n do
      local conns = {}
      for k = 1, math.min(concurrency, n - i) do conns[k] = srv:open(path) end
      for _, c in ipairs(conns) do
        local status, body = c.finish()
        local ok, v = pcall(cjson.decode, body)
        assert(ok and status == 200, "status " .. tostring(status) .. ": " .. tostring(body) .. "\n" .. srv:log())
        out[#out + 1] = v
      end
      i = i + #conns
    end
    return out
  end

  local function all_ok(out)
    local workers, n = {}, 0
    for _, v in ipairs(out) do
      assert.is_true(v.ok, v.message)
      if not workers[v.worker] then workers[v.worker] = true; n = n + 1 end
    end
    return n
  end

  it("200 requests at concurrency 50 over 4 workers: one POST /token", function()
    emu:script({ method = "POST", path = "/token", times = 1, delay = 0.3 }) -- everyone arrives while it runs
    local out = load("/list", 200, 50)
    local workers = all_ok(out)
    assert.is_true(workers >= 2, "the load reached " .. workers .. " worker(s) only")
    assert.equals(1, emu:count("POST", "/token"))
    assert.equals(200, emu:count("POST", "/instances/list"))
  end)

  it("without token_store, every client fetches its own token (the in-process default)", function()
    emu:script({ method = "POST", path = "/token", times = 1, delay = 0.3 })
    all_ok(load("/list?store=none", 50, 50))
    assert.equals(50, emu:count("POST", "/token"))
  end)

  it("a revoked token (401) is dropped once and refetched once for the same load", function()
    all_ok(load("/list", 200, 50))
    assert.equals(1, emu:count("POST", "/token"))
    emu:revoke() -- the emulator expires every token it issued
    emu:script({ method = "POST", path = "/token", times = 1, delay = 0.3 })
    all_ok(load("/list", 200, 50))
    assert.equals(2, emu:count("POST", "/token"))
  end)

  it("a token past its lifetime is refetched once for the same load", function()
    -- token_skew of the emulator's 3600 s leaves the token `life` s here
    local life = 3 * SLOW
    local path = "/list?skew=" .. (3600 - life)
    local t0 = socket.gettime()
    all_ok(load(path, 50, 50))
    assert.is_true(socket.gettime() - t0 < life, "the first wave outlived the token")
    assert.equals(1, emu:count("POST", "/token"))
    socket.sleep(life - (socket.gettime() - t0) + 0.2)
    emu:script({ method = "POST", path = "/token", times = 1, delay = 0.3 })
    all_ok(load(path, 50, 50))
    assert.equals(2, emu:count("POST", "/token"))
  end)

  it("a failed fetch (500) gives every waiting request the same nil, msg, err; the next request fetches again", function()
    emu:script({ method = "POST", path = "/token", times = 1, delay = 0.5 * SLOW, status = 500,
                 json = { error = "token service down", code = "TOKEN_DOWN" } })
    local out = load("/list", 50, 50)
    assert.equals(1, emu:count("POST", "/token"))
    local first = out[1]
    assert.is_false(first.ok)
    assert.equals("vzaps: token service down (status 500)", first.message)
    for _, v in ipairs(out) do
      assert.is_false(v.ok)
      assert.equals(first.message, v.message)
      assert.same(first.err, v.err) -- same request_id too: one fetch's answer
    end
    assert.equals("http", first.err.kind)
    assert.equals(500, first.err.status)
    assert.equals("TOKEN_DOWN", first.err.code)
    assert.is_string(first.err.request_id)
    assert.equals(0, emu:count("POST", "/instances/list"))
    -- the failure is not cached: the next request fetches a token and works
    local next_one = load("/list", 1, 1)[1]
    assert.is_true(next_one.ok, next_one.message)
    assert.equals(2, emu:count("POST", "/token"))
  end)

  it("a fetch that times out releases the lock; its waiters get its timeout", function()
    emu:script({ method = "POST", path = "/token", times = 1, delay = 3 * SLOW })
    local out = load("/list?timeout=" .. SLOW, 30, 30)
    for _, v in ipairs(out) do
      assert.is_false(v.ok)
      assert.equals("timeout", v.err.kind)
      assert.equals(out[1].message, v.message)
    end
    assert.equals(1, emu:count("POST", "/token"))
    all_ok(load("/list", 20, 20))
    assert.equals(2, emu:count("POST", "/token"))
  end)

  it("a fetch whose light thread is killed cannot keep the lock", function()
    -- the killed fetch holds the lock; it expires after the longest a fetch
    -- may take (timeout 1 s, no retries: 2 s), then the next request fetches
    emu:script({ method = "POST", path = "/token", times = 1, delay = 5 })
    assert.equals(200, (srv:get("/list-killed?timeout=1")))
    local t0 = socket.gettime()
    local out = load("/list?timeout=1", 10, 10)
    local elapsed = socket.gettime() - t0
    all_ok(out)
    assert.equals(2, emu:count("POST", "/token"))
    assert.is_true(elapsed < 4 * SLOW, ("waited %.2f s for the abandoned lock"):format(elapsed))
  end)

  -- The value a /list?tag=.. request kept (its worker's pid), once there.
  local function peek(key, within)
    local deadline = socket.gettime() + within
    repeat
      local _, body = srv:get("/peek?key=" .. key)
      body = body:gsub("%s+$", "")
      if body ~= "nil" then return body end
      socket.sleep(0.02)
    until socket.gettime() > deadline
    error("no " .. key .. " within " .. within .. " s")
  end

  it("a worker killed while it fetches holds the lock one lease at most; a waiter keeps to its own timeout", function()
    -- The fetch never ends by itself: its worker is killed (SIGKILL) while
    -- /token is delayed. A waiter with timeout = 3, max_retries = 1 used to
    -- wait the whole fetch budget of the dead worker (73.5 s).
    emu:script({ method = "POST", path = "/token", times = 1, delay = 30 })
    local fetcher = srv:open("/list?timeout=3&retries=1&tag=fetcher")
    local pid = peek("pid:fetcher", 5 * SLOW)
    local deadline = socket.gettime() + 5 * SLOW
    while emu:count("POST", "/token") == 0 and socket.gettime() < deadline do socket.sleep(0.02) end
    assert.equals(1, emu:count("POST", "/token"))
    local killed_at = socket.gettime()
    local killed = os.execute("kill -KILL " .. pid) -- true on 5.2+, 0 on 5.1
    assert.is_true(killed == true or killed == 0, "could not kill worker " .. pid)
    fetcher.finish()
    local t0 = socket.gettime()
    local status, body = srv:get("/list?timeout=3&retries=1")
    local waited = socket.gettime() - t0
    if os.getenv("VZAPS_PRINT") then io.stderr:write(("dead-worker waiter: %.2f s, %s\n"):format(waited, body)) end
    assert.equals(200, status, body)
    local r = cjson.decode(body)
    -- Within its own budget (two attempts of 3 s): it waits one attempt
    -- (timeout + 1 s, 4 s measured), then the dead worker's lease has run
    -- out and it fetched, or it gave up waiting.
    assert.is_true(waited < 6 * SLOW, ("waited %.2f s"):format(waited))
    if not r.ok then
      assert.equals("timeout", r.err.kind)
      assert.matches("^vzaps: request timed out after %d+ s waiting for another process's token fetch; it was not sent$",
        r.message)
    end
    -- Once the dead worker's lease (its timeout + 1 s) is over, calls fetch again.
    local rest = 4.2 - (socket.gettime() - killed_at)
    if rest > 0 then socket.sleep(rest) end
    all_ok(load("/list?timeout=3", 4, 4))
    assert.is_true(emu:count("POST", "/token") <= 3)
  end)

  it("the fetching worker renews its lease between attempts: one fetch through two 2 s Retry-After waits", function()
    -- The lease of a timeout = 1 client is 2 s; the fetch waits 2 s twice
    -- (429 Retry-After: 2), 4+ s in all. Without renewal another worker's
    -- request would take the expired lock and fetch a token of its own.
    emu:script({ method = "POST", path = "/token", times = 2, status = 429, headers = { ["Retry-After"] = "2" },
                 json = { error = "slow down" } })
    local fetcher = srv:open("/list?timeout=1&retries=2")
    local deadline = socket.gettime() + 5 * SLOW
    while emu:count("POST", "/token") == 0 and socket.gettime() < deadline do socket.sleep(0.02) end
    socket.sleep(2.5) -- past the first lease
    local out = load("/list?timeout=10", 8, 8)
    local status, body = fetcher.finish()
    assert.equals(200, status, body)
    assert.is_true(cjson.decode(body).ok, body)
    all_ok(out)
    assert.equals(3, emu:count("POST", "/token")) -- 429, 429, then the one token
  end)

  it("keeps the JWT out of the dict key and the error log", function()
    all_ok(load("/list", 4, 4))
    local _, body = srv:get("/token-keys")
    local keys = cjson.decode(body)
    assert.equals(1, #keys)
    assert.matches("^vzaps%.token%.%x+$", keys[1])
    assert.equals(#"vzaps.token." + 40, #keys[1])
    local jwt
    for _, r in ipairs(emu:requests()) do
      if r.path == "/instances/list" then jwt = r.headers.authorization:match("^Bearer (.+)$") end
    end
    assert.is_string(jwt)
    local log = srv:log()
    assert.is_nil(log:find(jwt, 1, true))
    assert.is_nil(log:find(emulator.CLIENT_SECRET, 1, true))
  end)
end)
