-- Proxies from the environment (README "Where credentials still go"): with
-- `proxy` unset, a client follows the proxy variables as they are when it
-- is made; without any, it uses no proxy (and spares libcurl reading them
-- on every call). Each case runs in a child process with its own
-- environment; the "proxy" is a loopback port nothing listens on, so a
-- call that goes through it fails to connect.
local emulator = require("spec.support.emulator")
local processes = require("spec.support.processes")

-- Every proxy variable libcurl reads, cleared unless a case sets one.
local PROXY_VARS = { "no_proxy", "NO_PROXY", "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" }

describe("a proxy from the environment", function()
  local emu, dead_port, code
  emulator.fixture({}, function(e)
    emu = e
    dead_port = emulator.free_port()
    local inst = emu:new_instance("proxy env")
    code = ([[
local vzaps = require("vzaps")
local client = vzaps.new({ client_token = %q, client_secret = %q, base_url = %q, max_retries = 0,
  proxy = os.getenv("VZ_PROXY_OPTION") })
local ok, msg, err = client.instances:get(%q)
if ok then print("OK " .. ok.id) else print("FAIL " .. tostring(err and err.kind) .. " " .. tostring(msg)) end
]]):format(emulator.CLIENT_TOKEN, emulator.CLIENT_SECRET, emu.url, inst.id)
  end)

  -- The child's output line.
  local function run(env) return (processes.child(env, code, PROXY_VARS)) end

  it("is followed when set as the client is made", function()
    assert.matches("^FAIL network", run({ http_proxy = "http://127.0.0.1:" .. dead_port }))
  end)

  it("all_proxy too", function()
    assert.matches("^FAIL network", run({ ALL_PROXY = "http://127.0.0.1:" .. dead_port }))
  end)

  it("is not needed: without one the call goes straight to the server", function()
    assert.matches("^OK ", run({}))
  end)

  it("is turned off by proxy = \"\" even when set", function()
    assert.matches("^OK ", run({ http_proxy = "http://127.0.0.1:" .. dead_port, VZ_PROXY_OPTION = "" }))
  end)

  it("is left for the proxy option when one is given", function()
    assert.matches("^FAIL network", run({ VZ_PROXY_OPTION = "http://127.0.0.1:" .. dead_port }))
  end)
end)
