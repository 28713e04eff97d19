-- spec/support/redis.lua: a real redis-server (Debian's package) on a free
-- loopback port for one spec file, started and stopped by the spec, with no
-- persistence; and Debian's lua-redis client (pure Lua over LuaSocket),
-- which Debian packages for 5.1-5.3 and which loads as it is on 5.4.
local socket = require("socket")

local M = {}

-- lua-redis from this Lua's path, else from the 5.3 one (Lua 5.4).
function M.client_module()
  local ok, redis = pcall(require, "redis")
  if ok then return redis end
  for _, v in ipairs({ "5.3", "5.2", "5.1" }) do
    local file = "/usr/share/lua/" .. v .. "/redis.lua"
    local f = io.open(file)
    if f then
      f:close()
      redis = dofile(file)
      package.loaded.redis = redis
      return redis
    end
  end
  error("lua-redis is not installed (apt-get install lua-redis)")
end

-- A connect function for vzaps.redis_store: one connection per process,
-- opened on first use and again after a failure (release(client, false)).
function M.connector(port, timeout)
  local redis = M.client_module()
  local conn
  local function connect()
    if not conn then conn = redis.connect({ host = "127.0.0.1", port = port, timeout = timeout or 2 }) end
    return conn
  end
  local function release(client, ok)
    if not ok and conn == client then
      pcall(client.quit, client)
      conn = nil
    end
  end
  return connect, release
end

local Server = {}
Server.__index = Server

-- A port from emulator.free_port() may be taken by another process before
-- redis-server binds it (suites run side by side in CI): redis-server then
-- exits, and the start is tried again on another port. The server that
-- answers must be the one started here (INFO's process_id).
local function alive(pid)
  local ok = os.execute("kill -0 " .. pid .. " 2>/dev/null")
  return ok == true or ok == 0
end

local function server_pid(c)
  c:send("INFO server\r\n")
  local head = c:receive("*l")
  local n = head and tonumber(head:match("^%$(%d+)$"))
  local info = n and c:receive(n + 2)
  return info and info:match("\nprocess_id:(%d+)")
end

function M.start()
  for _ = 1, 5 do
    local port = require("spec.support.emulator").free_port()
    -- LD_PRELOAD is dropped: a sanitizer runtime preloaded into the spec
    -- process must not follow the server.
    local p = assert(io.popen(("env -u LD_PRELOAD redis-server --port %d --bind 127.0.0.1 --save '' "
      .. "--appendonly no --daemonize no --loglevel warning >/dev/null 2>&1 & echo $!"):format(port)))
    local pid = p:read("*l")
    p:close()
    local deadline = socket.gettime() + 10
    while alive(pid) do
      local c = socket.tcp()
      c:settimeout(0.2)
      if c:connect("127.0.0.1", port) then
        local answered = server_pid(c)
        c:close()
        if answered == pid then return setmetatable({ pid = pid, port = port }, Server) end
      else
        c:close()
      end
      assert(socket.gettime() < deadline, "redis-server did not start")
      socket.sleep(0.02)
    end
  end
  error("redis-server did not start: its port was taken five times")
end

-- A raw command on a fresh connection (FLUSHALL between tests, ...).
function Server:command(...)
  local redis = M.client_module()
  local c = redis.connect({ host = "127.0.0.1", port = self.port, timeout = 2 })
  local r = c:raw_cmd(table.concat({ ... }, " ") .. "\r\n")
  c:quit()
  return r
end

function Server:flush() self:command("FLUSHALL") end

function Server:stop()
  if self.pid then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    self.pid = nil
  end
end

return M
