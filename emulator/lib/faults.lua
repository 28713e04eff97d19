-- Transport faults for scripted answers ({"fault": "<name>"} in /__emu/script).
--
-- Each fault is fn(ctx) where ctx = {stream=, req=, script=, raw_write=fn(data),
-- drop=fn()}. The request has already been read completely and recorded when
-- a fault runs. A fault owns the connection: the dispatcher writes nothing
-- after it. To add a fault, add one function to M.handlers.
local cqueues = require("cqueues")

local M = {}

local function context(stream, req, script)
  local conn = stream.connection
  local ctx = { stream = stream, req = req, script = script }
  -- write raw bytes on the socket, bypassing HTTP framing
  function ctx.raw_write(data)
    local sock = conn.socket
    if sock then sock:xwrite(data, "bn", 5); sock:flush("n", 5) end
  end
  -- close the TCP connection; lua-http then finds a dead socket and sends
  -- nothing more (its automatic 503 fails silently)
  function ctx.drop()
    local sock = conn.socket
    if sock then sock:shutdown("rw") end
  end
  return ctx
end

M.handlers = {
  -- close the connection without sending a single response byte
  close = function(ctx)
    ctx.drop()
  end,
  -- answer with bytes that are not HTTP at all, then close
  garbage = function(ctx)
    ctx.raw_write("\0\255 this is not HTTP \r\n\r\n")
    ctx.drop()
  end,
  -- headers announce a longer body than is sent, then close
  truncate = function(ctx)
    local body = '{"success":true,"data":{"truncated":'
    ctx.raw_write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      .. "Content-Length: 200\r\n\r\n" .. body)
    ctx.drop()
  end,
  -- a complete JSON response sent one byte at a time, 50 ms apart
  -- ("delay_per_byte" in the script overrides the pause)
  drip = function(ctx)
    local body = '{"success":true,"data":{"drip":true}}'
    ctx.raw_write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      .. "Content-Length: " .. #body .. "\r\nConnection: close\r\n\r\n")
    local pause = tonumber(ctx.script.delay_per_byte) or 0.05
    for i = 1, #body do
      ctx.raw_write(body:sub(i, i))
      cqueues.sleep(pause)
    end
    ctx.drop()
  end,
}

function M.known(name)
  return M.handlers[name] ~= nil
end

function M.apply(name, stream, req, script)
  return M.handlers[name](context(stream, req, script))
end

return M
