-- Transport faults for scripted answers ({"fault": "<name>"} in /__emu/script).
--
-- Each fault is fn(ctx) where ctx = {stream=, req=, script=, raw_write=fn(data),
-- drop=fn()}. The request has already been read completely and recorded when
-- a fault runs. A fault owns the connection: the dispatcher writes nothing
-- after it. To add a fault, add one function to M.handlers.
local cqueues = require("cqueues")
local http_util = require("http.util")

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
  -- headers, then half of a chunked body, then the connection is closed
  -- (a reset in the middle of the body; no Content-Length to compare with)
  reset_body = function(ctx)
    ctx.raw_write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      .. "Transfer-Encoding: chunked\r\n\r\n")
    local part = '{"success":true,"data":{"items":[1,2,3'
    ctx.raw_write(string.format("%x\r\n%s\r\n", #part, part))
    ctx.raw_write("40\r\n,4,5,6") -- a chunk announced, cut short
    ctx.drop()
  end,
  -- the status line and part of a header, then close
  partial_headers = function(ctx)
    ctx.raw_write("HTTP/1.1 200 OK\r\nContent-Type: applic")
    ctx.drop()
  end,
  -- a 200 whose body is larger than the client's 64 MiB cap: a valid JSON
  -- document {"data":"xxx..."} streamed 1 MiB at a time (never built whole),
  -- 65 MiB in all; stops when the client goes away
  huge = function(ctx)
    local total = 65 * 1024 * 1024
    local head, tail = '{"data":"', '"}'
    local chunk = string.rep("x", 1024 * 1024)
    -- (a plain pcall cannot yield on Lua 5.1, and socket writes yield)
    http_util.yieldable_pcall(function()
      ctx.raw_write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        .. "Content-Length: " .. total .. "\r\n\r\n" .. head)
      local left = total - #head - #tail
      while left > 0 do
        local n = math.min(left, #chunk)
        ctx.raw_write(n == #chunk and chunk or chunk:sub(1, n))
        left = left - n
      end
      ctx.raw_write(tail)
    end)
    ctx.drop()
  end,
  -- accept the request and never answer: nothing is written until the
  -- client gives up (or two minutes pass), then the connection is closed
  stall = function(ctx)
    cqueues.sleep(120)
    ctx.drop()
  end,
  -- headers of a 200 with a Content-Length, then no body byte at all until
  -- the client gives up (or two minutes pass)
  stall_body = function(ctx)
    ctx.raw_write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      .. "Content-Length: 20\r\n\r\n")
    cqueues.sleep(120)
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
