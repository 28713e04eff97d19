-- spec/support/nginx.lua: starts Debian's nginx with libnginx-mod-http-lua
-- on 127.0.0.1 with the project's config (spec/support/nginx.conf), in a
-- temporary prefix directory of its own (config, pid, logs, temp paths, a
-- self-signed certificate), loading the LuaJIT build of vzaps.so. The specs
-- talk to it with LuaSocket.
local socket = require("socket")
local emulator = require("spec.support.emulator")

local M = {}

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/support/[^/]+$") or "."
M.MODULE = "/usr/lib/nginx/modules/ngx_http_lua_module.so"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end


local read = require("spec.support.files").read

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- What is missing to run the nginx specs, or nil.
function M.missing(build)
  if not sh("command -v nginx >/dev/null 2>&1") then return "nginx is not installed (scripts/deps.sh nginx)" end
  if not io.open(M.MODULE) then return "libnginx-mod-http-lua is not installed (scripts/deps.sh nginx)" end
  if not io.open(build .. "/vzaps.so") then return build .. "/vzaps.so is missing (make nginx-build)" end
  return nil
end

-- The directory of the LuaJIT build (make passes VZAPS_NGINX_BUILD).
function M.build_dir()
  local b = os.getenv("VZAPS_NGINX_BUILD") or "build-luajit"
  if b:sub(1, 1) ~= "/" then b = ROOT .. "/" .. b end
  return b
end

-- Starts nginx; vars = {EMU_URL, CLIENT_TOKEN, CLIENT_SECRET, ...}: the
-- {{...}} values of conf (default spec/support/nginx.conf). opts.edit(text,
-- values) may change the config text first (values.PORT is the port to
-- listen on), and opts.env = {NAME = value} is nginx's environment.
function M.start(vars, conf_path, opts)
  opts = opts or {}
  local build = M.build_dir()
  local prefix = os.tmpname()
  os.remove(prefix)
  assert(sh("mkdir -p " .. sh_quote(prefix .. "/logs") .. " " .. sh_quote(prefix .. "/tmp")))
  -- nginx workers run as nobody when the master is root: let them in.
  sh("chmod 755 " .. sh_quote(prefix))
  assert(sh(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
    .. "-keyout %s -out %s >/dev/null 2>&1"):format(sh_quote(prefix .. "/key.pem"), sh_quote(prefix .. "/cert.pem"))),
    "openssl could not make a test certificate")

  local values = {}
  for k, v in pairs(vars) do values[k] = v end
  values.PREFIX = prefix
  values.CPATH = build .. "/?.so"
  local conf = assert(read(ROOT .. "/" .. (conf_path or "spec/support/nginx.conf")))
  local self = { prefix = prefix }
  for _ = 1, 5 do -- a port taken between emulator.free_port() and nginx's bind: try again
    values.PORT, values.TLS_PORT = emulator.free_port(), emulator.free_port()
    local text = conf:gsub("{{([%w_]+)}}", function(k) return assert(values[k], k) and tostring(values[k]) end)
    if opts.edit then text = opts.edit(text, values) end
    -- Whatever the config says, nginx stays in the foreground (daemon off
    -- on the command line), so self.pid is the master the specs stop; a
    -- daemonizing config (the README's) would leave it running otherwise.
    text = ("\n" .. text):gsub("\n[ \t]*daemon[ \t]+%w+[ \t]*;", "\n"):sub(2)
    local f = assert(io.open(prefix .. "/nginx.conf", "w"))
    f:write(text)
    f:close()
    -- LD_PRELOAD is dropped so a sanitizer runtime preloaded into the spec
    -- process does not follow nginx.
    local env = {}
    for k, v in pairs(opts.env or {}) do env[#env + 1] = k .. "=" .. sh_quote(v) end
    local cmd = ("env -u LD_PRELOAD %s nginx -g 'daemon off;' -p %s -c %s -e %s >>%s 2>&1 & echo $!"):format(
      table.concat(env, " "), sh_quote(prefix), sh_quote(prefix .. "/nginx.conf"), sh_quote(prefix .. "/logs/error.log"),
      sh_quote(prefix .. "/logs/stderr.log"))
    local p = assert(io.popen(cmd))
    self.pid = p:read("*l")
    p:close()
    -- nginx writes its pid file once every listening socket is bound: a
    -- connection alone could reach another server that took the port
    -- (suites run side by side in CI) while nginx retries its bind.
    local pid_file = ("\n" .. text):match("\n[ \t]*pid[ \t]+([^;%s]+)[ \t]*;")
    if pid_file and pid_file:sub(1, 1) ~= "/" then pid_file = prefix .. "/" .. pid_file end
    local deadline = socket.gettime() + 10
    repeat
      local c = socket.tcp()
      c:settimeout(0.2)
      local ok = c:connect("127.0.0.1", values.PORT)
      c:close()
      if ok and pid_file then ok = tonumber(read(pid_file) or "") == tonumber(self.pid) end
      if ok then
        self.port, self.tls_port = values.PORT, values.TLS_PORT
        self.url = "http://127.0.0.1:" .. values.PORT
        return setmetatable(self, { __index = M })
      end
      socket.sleep(0.05)
    until socket.gettime() > deadline or not sh("kill -0 " .. self.pid .. " 2>/dev/null")
    sh("kill " .. self.pid .. " 2>/dev/null")
  end
  error("nginx did not start:\n" .. (read(prefix .. "/logs/error.log") or "") .. (read(prefix .. "/logs/stderr.log") or ""))
end

-- The fixture the nginx specs share, registered in the calling describe
-- block: an emulator, then an nginx on conf_path (default nginx.conf) with
-- the emulator's URL and credentials as {{EMU_URL}}, {{CLIENT_TOKEN}},
-- {{CLIENT_SECRET}} plus vars; opts as M.start's, or a function(emu)
-- returning them. ready(emu, srv) gets both; they stop after the tests.
function M.fixture(ready, conf_path, vars, opts)
  local busted = require("busted") -- its block functions are not globals here
  local emu, srv
  busted.setup(function()
    emu = emulator.start()
    local v = { EMU_URL = emu.url, CLIENT_TOKEN = emulator.CLIENT_TOKEN, CLIENT_SECRET = emulator.CLIENT_SECRET }
    for k, x in pairs(vars or {}) do v[k] = x end
    if type(opts) == "function" then opts = opts(emu) end
    srv = M.start(v, conf_path, opts)
    ready(emu, srv)
  end)
  busted.teardown(function()
    if srv then srv:stop() end
    if emu then emu:stop() end
  end)
end

function M:log()
  return read(self.prefix .. "/logs/error.log") or ""
end

function M:stop()
  if self.pid then
    sh("kill -QUIT " .. self.pid .. " 2>/dev/null")
    -- wait for the master to go (it removes its pid file), then the files
    local deadline = socket.gettime() + 5
    while sh("kill -0 " .. self.pid .. " 2>/dev/null") and socket.gettime() < deadline do socket.sleep(0.05) end
    sh("kill -KILL " .. self.pid .. " 2>/dev/null")
    self.pid = nil
  end
  if self.prefix and os.getenv("VZAPS_KEEP_NGINX") == nil then
    sh("rm -rf " .. sh_quote(self.prefix))
  end
end

-- A raw HTTP/1.1 request on a fresh connection (so requests can overlap):
-- a connection object with :finish() -> status, body. GET without a body;
-- with one, `method` (default POST) and a Content-Length body.
function M:open(path, body, method)
  local c = assert(socket.tcp())
  c:settimeout(30)
  assert(c:connect("127.0.0.1", self.port))
  local head = (method or (body and "POST" or "GET")) .. " " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
  if body then head = head .. "Content-Type: application/json\r\nContent-Length: " .. #body .. "\r\n" end
  -- not asserted: a server that answers early (401, 413) may close before a
  -- large body is all sent; the answer is what the caller checks
  c:send(head .. "\r\n" .. (body or ""))
  return {
    finish = function()
      local data, _, partial = c:receive("*a")
      data = data or partial or ""
      c:close()
      local status = tonumber(data:match("^HTTP/1%.%d (%d%d%d)"))
      local rbody = data:match("\r\n\r\n(.*)$") or ""
      if data:lower():find("\r\ntransfer%-encoding: chunked") then
        local out, pos = {}, 1
        while true do
          local size, next_pos = rbody:match("^(%x+)[^\r\n]*\r\n()", pos)
          size = tonumber(size or "0", 16)
          if size == 0 then break end
          out[#out + 1] = rbody:sub(next_pos, next_pos + size - 1)
          pos = next_pos + size + 2
        end
        rbody = table.concat(out)
      end
      return status, rbody
    end,
  }
end

function M:get(path)
  return self:open(path).finish()
end

function M:post(path, body, method)
  return self:open(path, body, method).finish()
end

return M
