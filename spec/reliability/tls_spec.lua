-- TLS: the emulator behind socat (OPENSSL-LISTEN) with certificates made by
-- scripts/tls.sh for this run, in a temporary directory. Verification is on
-- by default; an unknown CA or a wrong host name gives kind "tls"; ca_file
-- makes the test CA trusted; ssl_verify = false turns checks off only when
-- asked. The same for the realtime client (wss://, "wss" below): socat
-- relays the bytes after TLS as they are, so the WebSocket Upgrade and the
-- frames pass through it.
local support = require("spec.reliability.support")
local socket = require("socket")
local vzaps = require("vzaps")

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/reliability/[^/]+$") or "."

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function have(cmd)
  local p = io.popen("command -v " .. cmd .. " 2>/dev/null")
  local out = p:read("*a")
  p:close()
  return out ~= ""
end

describe("tls", function()
  local emu, dir, proxies = nil, nil, {}

  -- socat terminating TLS with the given certificate bundle, forwarding to
  -- the emulator; returns its port.
  -- options: more socat OPENSSL-LISTEN options; env: "NAME=value" for socat.
  local function proxy(bundle, options, env)
    local port = support.closed_port()
    local cmd = ("socat OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,verify=0,cert=%s%s TCP:127.0.0.1:%d "
      .. ">/dev/null 2>&1 & echo $!"):format(port, sh_quote(dir .. "/" .. bundle), options and "," .. options or "",
      emu.port)
    local p = assert(io.popen("env -u LD_PRELOAD " .. (env or "") .. " " .. cmd))
    local pid = p:read("*l")
    p:close()
    proxies[#proxies + 1] = pid
    local deadline = socket.gettime() + 10
    repeat
      local s = socket.tcp()
      s:settimeout(0.2)
      local ok = s:connect("127.0.0.1", port)
      s:close()
      if ok then return port end
      socket.sleep(0.05)
    until socket.gettime() > deadline
    error("socat did not start on port " .. port)
  end

  local ports = {}

  setup(function()
    assert(have("socat"), "socat is missing (scripts/deps.sh test installs it)")
    assert(have("openssl"), "openssl is missing")
    emu = support.start()
    local p = assert(io.popen("mktemp -d /tmp/vzaps-tls.XXXXXX"))
    dir = p:read("*l")
    p:close()
    assert(os.execute("sh " .. sh_quote(ROOT .. "/scripts/tls.sh") .. " " .. sh_quote(dir) .. " >/dev/null"))
    ports.server = proxy("server.bundle.pem")
    ports.wronghost = proxy("wronghost.bundle.pem")
    ports.selfsigned = proxy("selfsigned.bundle.pem")
  end)

  teardown(function()
    for _, pid in ipairs(proxies) do os.execute("kill " .. pid .. " 2>/dev/null") end
    if dir then os.execute("rm -rf " .. sh_quote(dir)) end
    if emu then emu:stop() end
  end)

  local function client(which, opts, host)
    local o = { client_token = support.CLIENT_TOKEN, client_secret = support.CLIENT_SECRET, max_retries = 2,
                base_url = "https://" .. (host or "127.0.0.1") .. ":" .. ports[which], timeout = 20 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return vzaps.new(o)
  end

  local function fails_tls(c)
    emu:clear()
    local res, msg, err = c.instances:list()
    c:close()
    assert.is_nil(res)
    assert.equal("tls", err.kind, msg)
    assert.equal("TLS_ERROR", err.code)
    assert.is_nil(err.status)
    assert.matches("^vzaps: TLS error: ", msg)
    -- nothing got through to the emulator, and a TLS failure is not retried
    assert.equal(0, #emu:requests())
    return err
  end

  local function works(c)
    emu:clear()
    local res, msg = c.instances:list()
    c:close()
    assert.is_table(res, msg)
    assert.equal(1, emu:count("POST", "/instances/list"))
  end

  -- TLS 1.2 is the module's minimum (CURLOPT_SSLVERSION), not only the
  -- system OpenSSL policy's: a child process whose OpenSSL allows TLS 1.0
  -- (OPENSSL_CONF) still refuses a server that offers at most TLS 1.1.
  it("refuses a server that offers at most TLS 1.1, even where OpenSSL's policy would allow it", function()
    local weak = dir .. "/weak.cnf"
    local f = assert(io.open(weak, "w"))
    f:write("openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\n",
      "system_default = system_default_sect\n[system_default_sect]\nMinProtocol = TLSv1\n",
      "CipherString = DEFAULT:@SECLEVEL=0\n")
    f:close()
    local port = proxy("server.bundle.pem", "openssl-max-proto-version=TLS1.1", "OPENSSL_CONF=" .. sh_quote(weak))
    local script = os.tmpname()
    f = assert(io.open(script, "w"))
    f:write(table.concat({
      "package.cpath = " .. ("%q"):format(package.cpath),
      "local c = require('vzaps').new{client_token = " .. ("%q"):format(support.CLIENT_TOKEN)
        .. ", client_secret = " .. ("%q"):format(support.CLIENT_SECRET)
        .. ", base_url = 'https://127.0.0.1:" .. port .. "', ssl_verify = false, max_retries = 0}",
      "local res, msg, err = c.instances:list()",
      "io.write(tostring(res and 'ok' or err.kind), '|', tostring(msg))",
    }, "\n"))
    f:close()
    emu:clear()
    local p = assert(io.popen("OPENSSL_CONF=" .. sh_quote(weak) .. " " .. require("spec.support.compat").interpreter
      .. " " .. script .. " 2>&1"))
    local out = p:read("*a")
    p:close()
    os.remove(script)
    assert.matches("^tls|vzaps: TLS error: ", out)
    assert.equal(0, #emu:requests())
  end)

  it("verifies by default: a certificate from an unknown CA fails with kind tls", function()
    fails_tls(client("server"))
  end)

  it("a self-signed certificate fails with kind tls", function()
    fails_tls(client("selfsigned"))
  end)

  it("ca_file = the test CA makes 127.0.0.1 and localhost pass", function()
    works(client("server", { ca_file = dir .. "/ca.pem" }))
    works(client("server", { ca_file = dir .. "/ca.pem" }, "localhost"))
  end)

  it("ca_path = a directory holding only the test CA (hashed) passes", function()
    local ok = os.execute("cd " .. sh_quote(dir) .. " && mkdir -p capath && cp ca.pem capath/ "
      .. "&& openssl rehash capath >/dev/null 2>&1")
    if not ok then return pending("openssl rehash unavailable") end
    works(client("server", { ca_path = dir .. "/capath", ca_file = dir .. "/ca.pem" }))
  end)

  it("a host name mismatch fails with kind tls even with the right CA", function()
    fails_tls(client("wronghost", { ca_file = dir .. "/ca.pem" }))
    fails_tls(client("wronghost", { ca_file = dir .. "/ca.pem" }, "localhost"))
  end)

  it("ssl_verify = false passes only when asked", function()
    fails_tls(client("selfsigned", { ssl_verify = true }))
    works(client("selfsigned", { ssl_verify = false }))
    works(client("wronghost", { ssl_verify = false }))
    fails_tls(client("wronghost"))
  end)

  it("a ca_file that does not exist or is not a certificate gives kind tls", function()
    fails_tls(client("server", { ca_file = dir .. "/no-such-file.pem" }))
    fails_tls(client("server", { ca_file = dir .. "/server.ext" }))
  end)

  it("the four request classes work over TLS with the test CA", function()
    local inst
    do
      local c = client("server", { ca_file = dir .. "/ca.pem" })
      inst = assert(c.instances:create({ name = "tls" }))
      c:close()
    end
    local c = client("server", { ca_file = dir .. "/ca.pem" })
    local h = c:instance(inst.id, inst.token)
    assert(h.messages:send_text({ phone = support.PHONE, message = "over tls" }))
    for _, cls in ipairs(support.CLASSES) do
      local res, msg = cls.call(h)
      assert.is_truthy(res, cls.name .. ": " .. tostring(msg))
    end
    c:close()
  end)

  it("plain http to the TLS port fails with a failure tuple, no crash", function()
    local c = vzaps.new({ client_token = support.CLIENT_TOKEN, client_secret = support.CLIENT_SECRET,
                          base_url = "http://127.0.0.1:" .. ports.server, timeout = 3, max_retries = 0 })
    local res, msg, err = c.instances:list()
    c:close()
    assert.is_nil(res)
    assert.is_string(msg)
    assert.is_true(err.kind == "network" or err.kind == "timeout", msg)
  end)

  -- -------------------------------------------------------------------------
  -- wss: client.events:subscribe follows the client's TLS settings. REST
  -- (the token exchange) goes to the emulator in plain http, so a failure
  -- is the WebSocket connection's own.
  -- -------------------------------------------------------------------------

  local inst

  local function rt_client(which, opts, host)
    local o = { base_url = emu.url, realtime_url = "wss://" .. (host or "127.0.0.1") .. ":" .. ports[which],
                timeout = 20 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return emu:client(o)
  end

  local function handshakes()
    local n = 0
    for _, r in ipairs(emu:requests()) do
      if r.path == "/events/ws" then n = n + 1 end
    end
    return n
  end

  local function subscribe(c)
    if not inst then inst = emu:new_instance("wss") end
    emu:clear()
    return c.events:subscribe({ instance_id = inst.id, instance_token = inst.token, reconnect = false })
  end

  local function wss_fails_tls(c)
    local sub, msg, err = subscribe(c)
    c:close()
    assert.is_nil(sub)
    assert.equal("tls", err.kind, msg)
    assert.equal("TLS_ERROR", err.code)
    assert.is_nil(err.status)
    assert.matches("^vzaps: realtime TLS error: ", msg)
    assert.equal(tostring(err), msg)
    -- the token came over plain http; no handshake got through socat
    assert.equal(0, handshakes())
  end

  -- Subscribes, has the emulator emit one event, receives it, acks it.
  local function wss_works(c)
    local sub, msg = subscribe(c)
    assert.is_table(sub, msg)
    -- the Upgrade went through socat to the emulator's realtime route
    local hs
    for _, r in ipairs(emu:requests()) do
      if r.path == "/events/ws" then hs = r end
    end
    assert.is_table(hs)
    assert.equal("websocket", hs.headers.upgrade:lower())
    assert.equal(inst.token, hs.headers["x-instance-token"])
    local code, env = emu:control("POST", "/__emu/instances/" .. inst.id .. "/events",
      { type = "Message", data = { text = "over wss" } })
    assert.equal(200, code)
    local ev
    local deadline = socket.gettime() + 5
    repeat
      ev = sub:poll(0.2)
    until ev or socket.gettime() > deadline
    assert.is_table(ev, "no event over wss")
    assert.equal(env.id, ev.id)
    assert.equal("Message", ev.type)
    assert.equal("over wss", ev.data.text)
    assert.is_nil(sub:poll(0.05)) -- acks it (client -> server frames through socat too)
    local acked
    deadline = socket.gettime() + 3
    repeat
      local _, res = emu:control("GET", "/__emu/realtime/acks?instance_id=" .. inst.id)
      for _, a in ipairs(res.acks) do
        if a.event_id == env.id then acked = true end
      end
      if not acked then socket.sleep(0.02) end
    until acked or socket.gettime() > deadline
    assert.is_true(acked, "the ack did not reach the emulator")
    assert.is_true(sub:close())
    c:close()
  end

  it("wss: verifies by default: an unknown CA fails subscribe with kind tls", function()
    wss_fails_tls(rt_client("server"))
  end)

  it("wss: a self-signed certificate fails with kind tls", function()
    wss_fails_tls(rt_client("selfsigned"))
  end)

  it("wss: ca_file = the test CA: an event is received and acked (127.0.0.1 and localhost)", function()
    wss_works(rt_client("server", { ca_file = dir .. "/ca.pem" }))
    wss_works(rt_client("server", { ca_file = dir .. "/ca.pem" }, "localhost"))
  end)

  it("wss: REST and realtime both over TLS with the test CA", function()
    wss_works(rt_client("server", { ca_file = dir .. "/ca.pem", base_url = "https://127.0.0.1:" .. ports.server }))
  end)

  it("wss: a host name mismatch fails with kind tls even with the right CA", function()
    wss_fails_tls(rt_client("wronghost", { ca_file = dir .. "/ca.pem" }))
    wss_fails_tls(rt_client("wronghost", { ca_file = dir .. "/ca.pem" }, "localhost"))
  end)

  it("wss: ssl_verify = false passes only when asked", function()
    wss_fails_tls(rt_client("selfsigned", { ssl_verify = true }))
    wss_works(rt_client("selfsigned", { ssl_verify = false }))
    wss_works(rt_client("wronghost", { ssl_verify = false }))
    wss_fails_tls(rt_client("wronghost"))
  end)

  it("wss: a ca_file that does not exist gives kind tls", function()
    wss_fails_tls(rt_client("server", { ca_file = dir .. "/no-such-file.pem" }))
  end)

  it("wss: ws:// (no TLS) to the TLS port fails with a failure tuple, no crash", function()
    local c = emu:client({ base_url = emu.url, realtime_url = "ws://127.0.0.1:" .. ports.server, timeout = 3 })
    local sub, msg, err = subscribe(c)
    c:close()
    assert.is_nil(sub)
    assert.is_string(msg)
    assert.is_true(err.kind == "network" or err.kind == "timeout", msg)
    assert.equal(0, handshakes())
  end)
end)
