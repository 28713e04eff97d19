-- spec/timeout_wording_spec.lua: one timeout, one message. The same late
-- answer gives the same message, kind and code whichever way the call
-- leaves: sent from C, through the Lua layer (an observe hook), as a job
-- (client:spawn, client:parallel) and through a custom transport (here
-- LuaSocket; spec/nginx_spec.lua checks the cosocket transport); and a
-- connection that never opens names the connect budget and says that
-- nothing was sent. The wording is the core's (src/transport.c,
-- vz_push_timeout_text).
local emulator = require("spec.support.emulator")
local socket = require("socket")
local shttp = require("socket.http")
local ltn12 = require("ltn12")

local WANT = "vzaps: request timed out after 0.3 s; it may have been received"

-- A custom transport over LuaSocket: a timeout is its "timeout" failure,
-- with nothing said about whether the request left.
local function luasocket_transport(req)
  local out = {}
  local before = shttp.TIMEOUT -- socket.http sets it on every socket it opens
  shttp.TIMEOUT = req.timeout
  local ok, status, headers = shttp.request({
    url = req.url, method = req.method, headers = req.headers,
    source = req.body and ltn12.source.string(req.body) or nil, sink = ltn12.sink.table(out),
    create = function()
      local s = socket.tcp()
      s:settimeout(req.timeout)
      return s
    end,
  })
  shttp.TIMEOUT = before
  if not ok then return nil, status, status == "timeout" and "timeout" or "network" end
  return { status = status, headers = headers, body = table.concat(out) }
end

describe("a request that timed out", function()
  local emu, inst
  emulator.fixture({}, function(e)
    emu = e
    inst = emu:new_instance("timeouts")
  end)

  local function late_get()
    emu:script({ path = "/instances/" .. inst.id .. "/webhook", delay = 1.5, times = 1 })
  end

  -- The failure of instances:status on a client with opts, made by `how`.
  local function failed(opts, how)
    local o = { timeout = 0.3, max_retries = 0 }
    for k, v in pairs(opts) do o[k] = v end
    local c = emu:client(o)
    assert(c.auth:get_access_token()) -- the token call is not the one that is late
    late_get()
    local res, msg, err = how(c, function() return c.webhooks:get(inst.id, { instance_token = inst.token }) end)
    c:close()
    assert.is_nil(res)
    return msg, err
  end

  local function blocking(_, call) return call() end

  local function spawned(c, call)
    local job = c:spawn(call)
    local t0 = socket.gettime()
    while not job:done() do
      c:pump(0.01)
      assert(socket.gettime() - t0 < 10, "the job did not finish")
    end
    return job:result()
  end

  local function in_parallel(c, call)
    local r = c:parallel({ call })[1]
    return r[1], r[2], r[3]
  end

  local ways = {
    { "sent from C", {}, blocking },
    { "through the Lua layer", { observe = function() end }, blocking },
    { "as a spawned job", {}, spawned },
    { "in client:parallel", {}, in_parallel },
    { "through a custom transport", { transport = luasocket_transport }, blocking },
  }
  for _, w in ipairs(ways) do
    it("gives the one message, kind and code " .. w[1], function()
      local msg, err = failed(w[2], w[3])
      assert.equals(WANT, msg)
      assert.equals("timeout", err.kind)
      assert.equals("REQUEST_TIMEOUT", err.code)
      assert.is_true(err.sent)
      assert.equals("GET", err.method)
    end)
  end

  it("a connection that never opens: the connect budget, not sent, the same on every way", function()
    -- A listener whose accept queue is full (backlog 0, filled, never
    -- accepted): the kernel drops the next SYNs, so connecting hangs.
    local srv = assert(socket.bind("127.0.0.1", 0, 0))
    local _, port = srv:getsockname()
    local fill = {}
    for i = 1, 3 do
      fill[i] = socket.tcp()
      fill[i]:settimeout(0)
      fill[i]:connect("127.0.0.1", port)
    end
    socket.sleep(0.1)
    for _, w in ipairs({ ways[1], ways[2], ways[3] }) do
      local o = { base_url = "http://127.0.0.1:" .. port, timeout = 1, connect_timeout = 0.2, max_retries = 0 }
      for k, v in pairs(w[2]) do o[k] = v end
      local c = emu:client(o)
      local res, msg, err = w[3](c, function() return c:request("GET", "/x", { no_auth = true }) end)
      c:close()
      assert.is_nil(res, w[1])
      assert.equals("vzaps: request timed out after 0.2 s; it was not sent", msg, w[1])
      assert.equals("timeout", err.kind, w[1])
      assert.is_false(err.sent, w[1])
    end
    for _, f in ipairs(fill) do f:close() end
    srv:close()
  end)

  it("says which budget ran out when nothing was sent: the connect phase's", function()
    -- A transport that knows it sent nothing (sent = false) is retried like
    -- libcurl's failed connect, and the message names connect_timeout.
    local calls = 0
    local c = emu:client({ timeout = 0.3, connect_timeout = 0.1, max_retries = 1, retry_backoff = 0.01,
      transport = function(req)
        if req.url:find("/token$") then return luasocket_transport(req) end
        calls = calls + 1
        return nil, "connect timeout", "timeout", false
      end })
    local res, msg, err = c.webhooks:get(inst.id, { instance_token = inst.token })
    c:close()
    assert.is_nil(res)
    assert.equals(2, calls)
    assert.equals("vzaps: request timed out after 0.1 s; it was not sent", msg)
    assert.equals("timeout", err.kind)
    assert.is_false(err.sent)
  end)

  it("is written with '.' whatever LC_NUMERIC says", function()
    local function in_comma_locale(_, call)
      local prev = os.setlocale(nil, "numeric")
      assert(os.setlocale("de_DE.UTF-8", "numeric"), "de_DE.UTF-8 is missing: run scripts/deps.sh test (it runs localedef)")
      local ok, res, msg, err = pcall(call)
      os.setlocale(prev, "numeric")
      assert(ok, res)
      return res, msg, err
    end
    local msg, err = failed({}, in_comma_locale)
    assert.equals(WANT, msg)
    assert.equals("timeout", err.kind)
  end)
end)
