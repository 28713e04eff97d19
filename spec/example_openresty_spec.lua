-- spec/example_openresty_spec.lua: the snippets of README "OpenResty (nginx
-- + lua-nginx-module)" and "OpenResty with many workers" run as written
-- (issue "What a new user trips over, round two", item 10), with only
-- vzaps.so's path changed: the first ```nginx block's main, http and server
-- parts go into spec/support/nginx_snippets.conf; the many-workers ```lua
-- block becomes a location of its own. The credentials come from the
-- environment through the snippet's `env` lines, the instance token from a
-- header; the query string carries no secret.
local emulator = require("spec.support.emulator")
local nginx = require("spec.support.nginx")
local files = require("spec.support.files")

local missing = nginx.missing(nginx.build_dir())

local function section(readme, title)
  local from = assert(readme:find("\n## " .. title .. "\n", 1, true), title)
  local to = readme:find("\n## ", from + 4, true) or #readme
  return readme:sub(from, to)
end

-- The first snippet, cut at its "# main context", "# http { ... }" and
-- "# server { ... }" comments.
local function basic_snippet(readme)
  local text = assert(section(readme, "OpenResty (nginx + lua-nginx-module)"):match("```nginx\n(.-)```"))
  local main, http, server = text:match("^(# main context.-)\n(# http { ... }\n.-)\n(# server { ... }\n.*)$")
  assert(main, "the OpenResty snippet must have its main, http and server parts")
  return main, http, server
end

local function many_workers_snippet(readme)
  local s = section(readme, "OpenResty with many workers")
  return assert(s:match("```nginx\n(.-)```")), assert(s:match("```lua\n(.-)```"))
end

describe("README's OpenResty snippets", function()
  local readme = files.must_read("README.md")

  it("give os.getenv its env lines, no resolver that needs systemd-resolved, no token in a URL", function()
    local main, http, server = basic_snippet(readme)
    for _, v in ipairs({ "VZAPS_CLIENT_TOKEN", "VZAPS_CLIENT_SECRET", "VZAPS_BASE_URL" }) do
      assert.truthy(main:find("\nenv " .. v .. ";", 1, true), v)
    end
    assert.is_nil(http:find("127.0.0.53", 1, true))
    assert.is_nil(server:find("arg_token", 1, true))
    assert.truthy(server:find("ngx.var.http_x_instance_token", 1, true))
    local prose = section(readme, "OpenResty (nginx + lua-nginx-module)")
    assert.truthy(prose:find("/etc/hosts", 1, true))
    assert.truthy(prose:find("http://127.0.0.1:8787", 1, true))
  end)

  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  local emu, srv, inst
  local main, http, server = basic_snippet(readme)
  local dict, lua = many_workers_snippet(readme)

  local n
  http, n = http:gsub('"/usr/local/lib/lua/5%.1/%?%.so;;"', function() return '"' .. nginx.build_dir() .. '/?.so;;"' end)
  assert(n == 1, "no lua_package_cpath to change")
  local shared = "location = /shared {\n  content_by_lua_block {\n    local vzaps = require(\"vzaps\")\n"
    .. lua .. "\n    local page = assert(client.instances:list{})\n    client:close()\n    ngx.say(page.total)\n  }\n}\n"

  nginx.fixture(function(e, s)
    emu, srv = e, s
    local c = emu:client()
    inst = assert(c.instances:create({ name = "OpenResty snippet" }))
    c:close()
  end, "spec/support/nginx_snippets.conf", { MAIN = main, HTTP = http .. "\n" .. dict, SERVER = server .. "\n" .. shared },
  function(e)
    return { env = { VZAPS_CLIENT_TOKEN = emulator.CLIENT_TOKEN, VZAPS_CLIENT_SECRET = emulator.CLIENT_SECRET,
                     VZAPS_BASE_URL = e.url } }
  end)

  local function notify(query, token)
    local c = assert(require("socket").tcp())
    c:settimeout(30)
    assert(c:connect("127.0.0.1", srv.port))
    -- HTTP/1.0: the answer comes whole, not chunked
    c:send("GET /notify?" .. query .. " HTTP/1.0\r\nHost: 127.0.0.1\r\n"
      .. (token and ("X-Instance-Token: " .. token .. "\r\n") or "") .. "\r\n")
    local data = c:receive("*a")
    c:close()
    return tonumber(data:match("^HTTP/1%.%d (%d%d%d)")), data:match("\r\n\r\n(.*)$")
  end

  it("/notify sends with the env credentials and the header's instance token", function()
    local status, body = notify("id=" .. inst.id .. "&phone=5511988887777", inst.token)
    assert.equals(200, status, body .. srv:log())
    assert.equals("sent\n", body)
    local sent = emu:last_request()
    assert.equals("/instances/" .. inst.id .. "/chat/send/text", sent.path)
    assert.equals(inst.token, sent.headers["x-instance-token"])
    assert.equals(emulator.CLIENT_TOKEN, sent.headers["x-client-token"])
    assert.equals("5511988887777", sent.json.phone)
  end)

  it("/notify with a wrong token fails as a 502, and no token reaches nginx's logs", function()
    local status, body = notify("id=" .. inst.id .. "&phone=5511988887777", "wrong-token")
    assert.equals(502, status)
    assert.matches("vzaps: ", body)
    local access = files.read(srv.prefix .. "/logs/access.log") or ""
    assert.truthy(access:find("/notify?id=", 1, true), "the access log is written")
    assert.is_nil(access:find(inst.token, 1, true))
    assert.is_nil(srv:log():find(inst.token, 1, true))
  end)

  it("the many-workers client keeps its token in the lua_shared_dict", function()
    local before = emu:count("POST", "/token")
    local status, body = srv:get("/shared")
    assert.equals(200, status, tostring(body) .. srv:log())
    assert.matches("^%d+\n$", body)
    status = srv:get("/shared")
    assert.equals(200, status)
    assert.equals(before + 1, emu:count("POST", "/token")) -- one fetch, then the dict's token
  end)
end)
