-- spec/support/processes.lua: runs a Lua chunk in several OS processes of
-- the interpreter running the specs, at once, with this process's
-- package.path and cpath (so they load the same vzaps.so), and gives back
-- what each wrote with `emit`. The chunk gets (index, emit, ...).
local compat = require("spec.support.compat")

local M = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- run(n, source, ...): source is the chunk's text; the extra arguments are
-- strings passed to it. Returns {output of process 1, ...} and each
-- process's exit status text (nil when it exited 0).
function M.run(n, source, ...)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(("package.path = %q\npackage.cpath = %q\n"):format(package.path, package.cpath))
  f:write([[
local index, out = tonumber(arg[1]), arg[2]
local file = assert(io.open(out, "w"))
local function emit(line) file:write(tostring(line), "\n") file:flush() end
local chunk = assert(loadfile(arg[3]))
local ok, err = pcall(chunk, index, emit, select(4, ...))
if not ok then emit("ERROR " .. tostring(err)) end
file:close()
os.exit(ok and 0 or 1)
]])
  f:close()
  local body = os.tmpname()
  f = assert(io.open(body, "w"))
  f:write(source)
  f:close()
  local extra = {}
  for i = 1, select("#", ...) do extra[i] = quote(select(i, ...)) end
  local outs, cmds = {}, {}
  for i = 1, n do
    outs[i] = os.tmpname()
    cmds[i] = ("%s %s %d %s %s %s"):format(compat.interpreter, quote(script), i, quote(outs[i]), quote(body),
      table.concat(extra, " "))
  end
  -- started together in one shell, which waits for all of them
  local status = os.execute("( " .. table.concat(cmds, " & ") .. " & wait )")
  local results = {}
  for i = 1, n do
    local o = io.open(outs[i])
    results[i] = o and o:read("*a") or ""
    if o then o:close() end
    os.remove(outs[i])
  end
  os.remove(script)
  os.remove(body)
  return results, status
end

-- child(env, code[, unset]): runs code (a Lua chunk's text) in one child of
-- the interpreter running the specs, with this process's package.path and
-- cpath, the variables env = {NAME = value} set and those named in unset
-- (and VZAPS_FAST_PATH) removed; returns its output (stdout and stderr) and
-- whether it exited 0.
function M.child(env, code, unset)
  local vars = { "-u VZAPS_FAST_PATH" }
  for _, name in ipairs(unset or {}) do vars[#vars + 1] = "-u " .. name end
  vars[#vars + 1] = "LUA_CPATH=" .. quote(package.cpath)
  vars[#vars + 1] = "LUA_PATH=" .. quote(package.path)
  for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. quote(v) end
  local cmd = ("env %s %s -e %s 2>&1"):format(table.concat(vars, " "), compat.interpreter, quote(code))
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  local ok = p:close()
  return out, ok == true or ok == 0
end

-- The lines of an output, as a list.
function M.lines(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

return M
