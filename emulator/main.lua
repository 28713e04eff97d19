-- VZaps API emulator: lua5.1 emulator/main.lua [options]
-- See README.md beside this file.

-- Resolve modules relative to this script, whatever the cwd.
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = script_dir .. "/?.lua;" .. script_dir .. "/?/init.lua;" .. package.path

local cqueues = require("cqueues")
local signal = require("cqueues.signal")
local cerrno = require("cqueues.errno")
local http_server = require("http.server")
local state = require("lib.state")
local app = require("lib.app")

local USAGE = [==[
usage: lua5.1 main.lua [--host 127.0.0.1] [--port 8787] [--port-file PATH]
                       [--client-token T] [--client-secret S]
                       [--token-ttl SECONDS] [--send-rate N[/SECONDS]] [--quiet]]==]

local function die(msg)
  io.stderr:write("vzaps-emulator: ", msg, "\n", USAGE, "\n")
  os.exit(2)
end

-- CLI ---------------------------------------------------------------------------
-- 8787 is the base_url the examples default to (examples/config.lua); the
-- specs and scripts/demo.sh pass --port 0 (any free port) and --port-file.
local DEFAULT_PORT = 8787
local opts = { host = "127.0.0.1", port = DEFAULT_PORT }
do
  local i = 1
  local function value(name)
    i = i + 1
    local v = arg[i]
    if v == nil then die(name .. " needs a value") end
    return v
  end
  while i <= #arg do
    local a = arg[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    if name then a = name; table.insert(arg, i + 1, inline) end
    if a == "--host" then opts.host = value(a)
    elseif a == "--port" then opts.port = tonumber(value(a)) or die("bad --port")
    elseif a == "--port-file" then opts.port_file = value(a)
    elseif a == "--client-token" then state.set_defaults({ client_token = value(a) })
    elseif a == "--client-secret" then state.set_defaults({ client_secret = value(a) })
    elseif a == "--token-ttl" then
      local ttl = tonumber(value(a))
      if not ttl or ttl < 0 then die("bad --token-ttl") end
      state.set_defaults({ token_ttl = ttl })
    elseif a == "--send-rate" then
      local n, per = value(a):match("^(%d+)/?([%d.]*)$")
      n, per = tonumber(n), tonumber(per ~= "" and per or "1")
      if not n or n < 1 or not per or per <= 0 then die("bad --send-rate (N or N/SECONDS)") end
      state.set_defaults({ send_rate = n, send_per = per })
    elseif a == "--quiet" then app.quiet = true
    elseif a == "-h" or a == "--help" then io.stdout:write(USAGE, "\n") os.exit(0)
    else die("unknown argument " .. a) end
    i = i + 1
  end
end

local function loopback(host)
  if host == "localhost" then return "127.0.0.1" end
  if host == "::1" or host == "[::1]" then return "::1" end
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if a == "127" and tonumber(b) < 256 and tonumber(c) < 256 and tonumber(d) < 256 then
    return host
  end
  return nil
end
local host = loopback(opts.host) or die("refusing to bind " .. opts.host .. ": loopback addresses only")
if opts.port < 0 or opts.port > 65535 or opts.port % 1 ~= 0 then die("bad --port") end

state.reset()       -- apply CLI defaults
app.load_routes()

-- Server -----------------------------------------------------------------------
local cq = cqueues.new()
app.cq = cq
if opts.port_file then os.remove(opts.port_file) end  -- never leave a stale port

local shown = host:find(":") and ("[" .. host .. "]") or host

-- A taken port is a common mistake (a second emulator on 8787): one line
-- that says what to do, not the usage text.
local function in_use(errno)
  if errno ~= cerrno.EADDRINUSE then return end
  io.stderr:write(("vzaps-emulator: %s:%d is in use (another emulator?); pass --port N\n"):format(shown, opts.port))
  os.exit(1)
end

local server, err, errno = http_server.listen({
  cq = cq,
  host = host,
  port = opts.port,
  reuseaddr = true,
  tls = false,
  onstream = app.onstream,
  onerror = function(_, context, op, e)
    -- client-side disconnects and the like: note and keep serving
    if not app.quiet then
      io.stderr:write("vzaps-emulator: ", tostring(op), " error: ", tostring(e), "\n")
    end
  end,
})
if not server then
  in_use(errno)
  die("cannot listen: " .. tostring(err))
end
local ok, lerr, lerrno = server:listen()
if not ok then
  in_use(lerrno)
  die("cannot listen on " .. host .. ":" .. opts.port .. ": " .. tostring(lerr))
end
local _, _, port = server:localname()

if opts.port_file then
  local tmp = opts.port_file .. ".tmp." .. tostring(port)
  local f = assert(io.open(tmp, "w"))
  f:write(tostring(port), "\n")
  f:close()
  assert(os.rename(tmp, opts.port_file))
end

io.stdout:write("vzaps-emulator listening on http://", shown, ":", tostring(port), "\n")
io.stdout:flush()

function app.shutdown(reason)
  cq:wrap(function()
    cqueues.sleep(0.05)   -- let a pending response reach the socket
    if not app.quiet then io.stderr:write("vzaps-emulator: exiting (", reason, ")\n") end
    io.stdout:flush()
    os.exit(0)
  end)
end

signal.block(signal.SIGTERM, signal.SIGINT)
local sigs = signal.listen(signal.SIGTERM, signal.SIGINT)
cq:wrap(function()
  local signo = sigs:wait()
  while not signo do signo = sigs:wait() end
  if not app.quiet then io.stderr:write("vzaps-emulator: exiting (signal ", signo, ")\n") end
  os.exit(0)
end)

while true do
  local lok, lerr2 = cq:loop()
  if lok then break end
  io.stderr:write("vzaps-emulator: loop error: ", tostring(lerr2), "\n")
end
