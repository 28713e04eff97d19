-- spec/example_nginx_spec.lua: the complete nginx.conf of README "Receiving
-- webhooks" (examples/12-webhook-receiver/nginx.conf, the same text) runs as
-- given, with only its listen port and vzaps.so's path changed: the emulator
-- delivers a send_text to its receiver, and its /instances location calls the
-- API with the shared token.
local emulator = require("spec.support.emulator")
local nginx = require("spec.support.nginx")
local files = require("spec.support.files")
local cjson = emulator.json

local missing = nginx.missing(nginx.build_dir())
local CONF = "examples/12-webhook-receiver/nginx.conf"

describe("README's nginx.conf", function()
  it("is examples/12-webhook-receiver/nginx.conf, word for word", function()
    local readme = files.must_read("README.md")
    local conf = files.must_read(CONF)
    assert.truthy(readme:find("```nginx\n" .. conf .. "```", 1, true),
      "README.md must show " .. CONF .. " verbatim in an ```nginx block")
  end)

  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  local emu, srv
  local KEY = "readme-example-key-0123456789"

  nginx.fixture(function(e, s) emu, srv = e, s end, CONF, {}, function(e)
    return {
      env = { VZAPS_CLIENT_TOKEN = emulator.CLIENT_TOKEN, VZAPS_CLIENT_SECRET = emulator.CLIENT_SECRET,
              VZAPS_WEBHOOK_KEY = KEY, VZAPS_BASE_URL = e.url },
      edit = function(text, values)
        local n
        text, n = text:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. values.PORT .. ";")
        assert(n == 1, "no listen line to change")
        text, n = text:gsub('"/usr/local/lib/lua/5%.1/%?%.so;;"', '"' .. values.CPATH .. ';;"')
        assert(n == 1, "no lua_package_cpath to change")
        return text
      end,
    }
  end)

  it("receives the emulator's delivery and calls the API with the shared token", function()
    local status, body = srv:get("/instances")
    assert.equals(200, status, body .. srv:log())
    assert.equals(0, cjson.decode(body).total)
    assert.equals(1, emu:count("POST", "/token"))
    local c = emu:client() -- a token of its own
    local inst = assert(c.instances:create({ name = "README conf", events_subscribe = { "Message" },
                                             webhook = srv.url .. "/webhooks/vzaps?key=" .. KEY }))
    assert(c:instance(inst.id, inst.token).messages:send_text({ phone = "5511988887777", message = "hi" }))
    c:close()
    local code, res = emu:control("GET", "/__emu/webhooks/attempts?min=1&timeout=10&instance_id=" .. inst.id)
    assert.equals(200, code)
    assert.equals(200, res.attempts[1].response_status, srv:log())
    status, body = srv:get("/last-event")
    assert.equals(200, status)
    local ev = cjson.decode(body)
    assert.equals("Message", ev.type)
    assert.equals(inst.id, ev.instance_id)
    local fetched = emu:count("POST", "/token")
    status, body = srv:get("/instances")
    assert.equals(200, status)
    assert.equals(1, cjson.decode(body).total)
    assert.equals(fetched, emu:count("POST", "/token")) -- nginx's token again, from the dict
    assert.is_nil(srv:log():find(KEY, 1, true))
    -- The receiver's access log line has its query masked (README's log_format).
    local access = files.must_read(srv.prefix .. "/logs/access.log")
    assert.truthy(access:find('"POST /webhooks/vzaps?[masked] HTTP/1.1" 200', 1, true), access)
    assert.is_nil(access:find(KEY, 1, true))
  end)
end)

describe("the nginx fixture", function()
  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  -- The README's config has no `daemon off;`: the fixture must still stop
  -- the master and every worker it started, or each run leaves them behind.
  it("leaves no nginx process behind with a config that daemonizes", function()
    local conf = files.must_read(CONF)
    assert.falsy(conf:find("\n%s*daemon%s+off"), "the README config is expected to daemonize")
    local srv = nginx.start({}, CONF, {
      env = { VZAPS_CLIENT_TOKEN = "t", VZAPS_CLIENT_SECRET = "s", VZAPS_WEBHOOK_KEY = "k" .. ("x"):rep(24),
              VZAPS_BASE_URL = "http://127.0.0.1:9" },
      edit = function(text, values)
        text = text:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. values.PORT .. ";")
        return (text:gsub('"/usr/local/lib/lua/5%.1/%?%.so;;"', '"' .. values.CPATH .. ';;"'))
      end,
    })
    local prefix = srv.prefix
    local function running()
      local p = assert(io.popen("env -u LD_PRELOAD ps -eo args= | grep -F -- '" .. prefix .. "' | grep -v grep"))
      local out = p:read("*a")
      p:close()
      return out
    end
    assert.truthy(running():find("nginx: master", 1, true))
    srv:stop()
    assert.equals("", running())
  end)
end)
