-- spec/nginx_spec.lua: the module inside nginx (Debian's nginx with
-- libnginx-mod-http-lua, LuaJIT): require("vzaps") from a content handler
-- and from an ngx.timer.at job, with the blocking libcurl transport and with
-- the cosocket transport (vzaps.ngx_transport), against the emulator. One
-- worker (spec/support/nginx.conf), so a blocked worker shows in the timings.
local emulator = require("spec.support.emulator")
local nginx = require("spec.support.nginx")
local socket = require("socket")
local cjson = emulator.json

local missing = nginx.missing(nginx.build_dir())

describe("nginx with lua-nginx-module", function()
  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  local emu, srv
  nginx.fixture(function(e, s) emu, srv = e, s end)

  before_each(function() emu:reset() end)

  -- GET path on nginx: status and the decoded JSON answer.
  local function get_json(path)
    local status, body = srv:get(path)
    local ok, v = pcall(cjson.decode, body)
    assert(ok, "not JSON (status " .. tostring(status) .. "): " .. tostring(body) .. "\n" .. srv:log())
    return status, v
  end

  -- Starts every path at once on its own connection, waits for all;
  -- returns the answers (decoded) and the elapsed wall time.
  local function concurrently(paths)
    local t0 = socket.gettime()
    local conns = {}
    for i, p in ipairs(paths) do conns[i] = srv:open(p) end
    local out = {}
    for i, c in ipairs(conns) do
      local status, body = c.finish()
      local ok, v = pcall(cjson.decode, body)
      assert(ok, "not JSON (status " .. tostring(status) .. "): " .. tostring(body))
      out[i] = v
    end
    return out, socket.gettime() - t0
  end

  it("loads vzaps.so in a content_by_lua_block", function()
    local status, body = srv:get("/version")
    assert.equals(200, status, srv:log())
    assert.equals(require("vzaps").VERSION, (body:gsub("%s+$", "")))
  end)

  for _, mode in ipairs({ "curl", "cosocket" }) do
    it("a request handler calls the API (" .. mode .. " transport)", function()
      local status, v = get_json("/instances?mode=" .. mode)
      assert.equals(200, status)
      assert.is_true(v.ok, v.message)
      assert.matches("^VZ", v.result.id)
      assert.equals(1, v.result.total)
      assert.equals(1, emu:count("PUT", "/instances/create"))
      assert.equals(1, emu:count("POST", "/instances/list"))
      assert.equals(1, emu:count("POST", "/token"))
    end)

    it("an ngx.timer.at job calls the API (" .. mode .. " transport)", function()
      emu:new_instance("timer")
      local key = "timer-" .. mode .. "-" .. math.random(1e9)
      local status = srv:get("/timer?mode=" .. mode .. "&key=" .. key)
      assert.equals(202, status)
      local v
      local deadline = socket.gettime() + 10
      repeat
        local st, body = srv:get("/timer-result?key=" .. key)
        if st == 200 then v = cjson.decode(body) else socket.sleep(0.05) end
      until v or socket.gettime() > deadline
      assert.is_table(v, "the timer job did not report\n" .. srv:log())
      assert.is_true(v.ok, v.message)
      assert.equals(1, v.total)
    end)
  end

  it("cosocket transport: two slow calls in one worker overlap (about 1 s, not 2 s)", function()
    emu:script({ path = "/slow", times = 2, delay = 1, status = 200, json = { ok = true } })
    local path = "/get?mode=cosocket&path=/slow"
    local t0 = socket.gettime()
    local a, b = srv:open(path), srv:open(path)
    -- while both wait on the emulator, the worker still answers at once
    socket.sleep(0.3)
    local t1 = socket.gettime()
    local status = srv:get("/version")
    local quick = socket.gettime() - t1
    local sa, ba = a.finish()
    local sb, bb = b.finish()
    local elapsed = socket.gettime() - t0
    assert.equals(200, status)
    assert.is_true(quick < 0.3, ("/version took %.2f s while the calls waited"):format(quick))
    assert.equals(200, sa)
    assert.equals(200, sb)
    assert.is_true(cjson.decode(ba).ok, ba)
    assert.is_true(cjson.decode(bb).ok, bb)
    assert.equals(2, emu:count("GET", "/slow"))
    assert.is_true(elapsed >= 0.95 and elapsed < 1.7, ("two overlapping 1 s calls took %.2f s"):format(elapsed))
  end)

  it("libcurl transport: the same two calls block the worker (about 2 s)", function()
    emu:script({ path = "/slow", times = 2, delay = 1, status = 200, json = { ok = true } })
    local out, elapsed = concurrently({ "/get?mode=curl&path=/slow", "/get?mode=curl&path=/slow" })
    assert.is_true(out[1].ok, out[1].message)
    assert.is_true(out[2].ok, out[2].message)
    assert.is_true(elapsed >= 1.9, ("two blocking 1 s calls took only %.2f s"):format(elapsed))
  end)

  it("cosocket transport with sleep = ngx.sleep: retry backoffs overlap too", function()
    -- Both calls get a 503 with Retry-After: 1, sleep 1 s, and retry.
    emu:script({ method = "GET", path = "/busy", times = 2, status = 503, headers = { ["Retry-After"] = "1" },
                 json = { error = "busy" } })
    emu:script({ method = "GET", path = "/busy", times = 2, status = 200, json = { ok = true } })
    local path = "/get?mode=cosocket&retries=1&path=/busy"
    local out, elapsed = concurrently({ path, path })
    assert.is_true(out[1].ok, out[1].message)
    assert.is_true(out[2].ok, out[2].message)
    assert.equals(4, emu:count("GET", "/busy"))
    assert.is_true(elapsed >= 0.95 and elapsed < 1.7, ("two 1 s backoffs took %.2f s"):format(elapsed))
  end)

  it("cosocket transport: API errors map like libcurl's (404 -> http error)", function()
    local status, v = get_json("/get?mode=cosocket&path=/no/such/route")
    assert.equals(200, status)
    assert.is_false(v.ok)
    assert.equals("http", v.kind)
    assert.equals(404, v.status)
    assert.matches("^vzaps: ", v.message)
  end)

  describe("cosocket transport HTTP/1.1 reader", function()
    local function call(query)
      local status, v = get_json("/call?mode=cosocket&" .. query)
      assert.equals(200, status)
      return v
    end

    it("reads a Content-Length body", function()
      local v = call("path=/raw/length")
      assert.is_true(v.ok, v.message)
      assert.same({ kind = "length", method = "GET", n = 0 }, v.result)
    end)

    it("sends a body with Content-Length", function()
      local v = call("method=POST&path=/raw/length&body=hello")
      assert.is_true(v.ok, v.message)
      assert.same({ kind = "length", method = "POST", n = 5 }, v.result)
    end)

    it("reads a chunked body", function()
      local v = call("path=/raw/chunked")
      assert.is_true(v.ok, v.message)
      assert.equals("chunked", v.result.kind)
      assert.same({ 1, 2, 3 }, v.result.items)
      assert.equals(100000, #v.result.big)
    end)

    it("reads a body that ends when the connection closes", function()
      local v = call("path=/raw/close")
      assert.is_true(v.ok, v.message)
      assert.same({ kind = "until-close", ok = true }, v.result)
    end)

    it("reads an empty 204 as true", function()
      local v = call("path=/raw/empty")
      assert.is_true(v.ok, v.message)
      assert.is_true(v.result)
    end)

    it("gives a timeout error when the answer is late, in the one wording of every path", function()
      local v = call("path=/raw/slow&timeout=0.3")
      assert.is_false(v.ok)
      assert.equals("timeout", v.kind)
      -- the same text as the blocking call and the jobs (spec/timeout_wording_spec.lua)
      assert.equals("vzaps: request timed out after 0.3 s; it may have been received", v.message)
    end)

    it("speaks https, with ssl_verify = false", function()
      local v = call("base=tls&verify=0&path=/raw/chunked")
      assert.is_true(v.ok, v.message)
      assert.equals("chunked", v.result.kind)
    end)

    it("refuses an untrusted certificate with ssl_verify = true (kind tls)", function()
      local v = call("base=tls&path=/raw/length")
      assert.is_false(v.ok)
      assert.equals("tls", v.kind)
      assert.matches("TLS", v.message)
    end)
  end)
end)
