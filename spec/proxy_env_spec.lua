-- Proxies from the environment (README "Where credentials still go"): with
-- `proxy` unset, a client follows the proxy variables as they are when it
-- is made; without any, it uses no proxy (and spares libcurl reading them
-- on every call). Each case runs in a child process with its own
-- environment; the "proxy" is a loopback port nothing listens on, so a
-- call that goes through it fails to connect.
local emulator = require("spec.support.emulator")
local compat = require("spec.support.compat")

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("a proxy from the environment", function()
  local emu, dead_port, script
  emulator.fixture({}, function(e)
    emu = e
    dead_port = emulator.free_port()
    local inst = emu:new_instance("proxy env")
    script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(("package.path = %q\npackage.cpath = %q\n"):format(package.path, package.cpath))
    f:write(([[
local vzaps = require("vzaps")
local client = vzaps.new({ client_token = %q, client_secret = %q, base_url = %q, max_retries = 0,
  proxy = os.getenv("VZ_PROXY_OPTION") })
local ok, msg, err = client.instances:get(%q)
if ok then print("OK " .. ok.id) else print("FAIL " .. tostring(err and err.kind) .. " " .. tostring(msg)) end
]]):format(emulator.CLIENT_TOKEN, emulator.CLIENT_SECRET, emu.url, inst.id))
    f:close()
  end)
  teardown(function() if script then os.remove(script) end end)

  -- The child's output line; env is a list of NAME=value.
  local function run(env)
    local p = assert(io.popen(("env -u no_proxy -u NO_PROXY -u http_proxy -u https_proxy -u HTTPS_PROXY "
      .. "-u all_proxy -u ALL_PROXY %s %s %s 2>&1"):format(table.concat(env, " "), compat.interpreter, quote(script))))
    local out = p:read("*a")
    p:close()
    return out
  end

  it("is followed when set as the client is made", function()
    local out = run({ "http_proxy=http://127.0.0.1:" .. dead_port })
    assert.matches("^FAIL network", out)
  end)

  it("all_proxy too", function()
    local out = run({ "ALL_PROXY=http://127.0.0.1:" .. dead_port })
    assert.matches("^FAIL network", out)
  end)

  it("is not needed: without one the call goes straight to the server", function()
    assert.matches("^OK ", run({}))
  end)

  it("is turned off by proxy = \"\" even when set", function()
    assert.matches("^OK ", run({ "http_proxy=http://127.0.0.1:" .. dead_port, "VZ_PROXY_OPTION=" }))
  end)

  it("is left for the proxy option when one is given", function()
    local out = run({ "VZ_PROXY_OPTION=http://127.0.0.1:" .. dead_port })
    assert.matches("^FAIL network", out)
  end)
end)
