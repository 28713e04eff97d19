-- spec/h2_sharing_spec.lua: over HTTPS with HTTP/2, a client's transfers
-- share a connection: the blocking call's easy handle and the jobs' multi
-- handle use one connection cache, and the jobs wait for a connection that
-- can multiplex (CURLOPT_PIPEWAIT) instead of each opening its own. An
-- nginx with canned answers (spec/support/nginx_h2.conf) logs each request
-- with its connection's serial number; the spec counts them.
local socket = require("socket")
local vzaps = require("vzaps")
local nginx = require("spec.support.nginx")
local read = require("spec.support.files").read

describe("HTTP/2 connection sharing", function()
  local srv

  setup(function() srv = nginx.start({}, "spec/support/nginx_h2.conf") end)
  teardown(function() if srv then srv:stop() end end)

  -- nginx logs a request when it is done with its stream, which may come
  -- a little after the client has the answer (later still on a loaded
  -- machine): wait for n lines, then a moment for any extra one.
  local function await_lines(n)
    local function count_lines()
      local _, k = (read(srv.prefix .. "/logs/access.log") or ""):gsub("\n", "")
      return k
    end
    local deadline = socket.gettime() + 15
    while count_lines() < n and socket.gettime() < deadline do socket.sleep(0.05) end
    socket.sleep(0.2)
  end

  -- {connection serial -> requests} and the requests, from nginx's log.
  local function log()
    local conns, lines = {}, {}
    for line in (read(srv.prefix .. "/logs/access.log") or ""):gmatch("[^\n]+") do
      local conn, proto, method, uri = line:match("^(%d+) (%S+) (%S+) (%S+)$")
      assert(conn, "unexpected log line: " .. line)
      conns[conn] = (conns[conn] or 0) + 1
      lines[#lines + 1] = { conn = conn, proto = proto, method = method, uri = uri }
    end
    return conns, lines
  end

  local function count(t)
    local n = 0
    for _ in pairs(t) do n = n + 1 end
    return n
  end

  it("a blocking call, then 50 send_text at concurrency 10, open at most 2 connections", function()
    local c = vzaps.new({
      client_token = "ct-h2-1234", client_secret = "cs-h2-5678",
      base_url = "https://127.0.0.1:" .. srv.tls_port, ssl_verify = false,
    })
    local inst = c:instance("VZ1", "itok-h2")
    assert(inst.messages:send_text({ phone = "5511999999999", message = "first" }))
    local calls = {}
    for i = 1, 50 do
      calls[i] = function() return inst.messages:send_text({ phone = "5511999999999", message = "m" .. i }) end
    end
    local results = c:parallel(calls, { concurrency = 10 })
    for i = 1, 50 do assert.is_truthy(results[i][1], "call " .. i .. " failed: " .. tostring(results[i][2])) end
    c:close()

    await_lines(52) -- the token and 51 send_text
    local conns, lines = log()
    local sends = 0
    for _, l in ipairs(lines) do
      assert.equals("HTTP/2.0", l.proto)
      if l.uri:find("/chat/send/text$") then
        sends = sends + 1
        assert.equals("POST", l.method)
      end
    end
    assert.equals(51, sends, "every send_text reached the server once")
    assert.equals(1, lines[1].uri == "/token" and 1 or 0, "the token first")
    assert.is_true(count(conns) <= 2, "connections opened: " .. count(conns))
  end)
end)
