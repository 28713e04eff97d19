-- Method + path-pattern routing.
--
-- Patterns are literal paths whose segments may be ":name" captures, e.g.
-- "/instances/:id/chats/:phone/archive". Matching is done on the raw path
-- split at "/"; each captured segment is then percent-decoded, so "%2F" in a
-- message id stays inside one segment.
local M = {}
M.__index = M

function M.new()
  return setmetatable({ patterns = {} }, M)
end

local function split(path)
  local segs = {}
  for seg in (path .. "/"):gmatch("([^/]*)/") do segs[#segs + 1] = seg end
  return segs
end
M.split = split

function M.decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Register handler for method + pattern. opts are free-form flags read by the
-- dispatcher (e.g. auth=false, instance=true).
function M:add(method, pattern, handler, opts)
  assert(pattern:sub(1, 1) == "/", "pattern must start with /")
  local entry
  for _, p in ipairs(self.patterns) do
    if p.pattern == pattern then entry = p break end
  end
  if not entry then
    local segs = split(pattern:sub(2))
    local spec = {}
    for i, s in ipairs(segs) do
      spec[i] = s:sub(1, 1) == ":" and { capture = s:sub(2) } or { literal = s }
    end
    entry = { pattern = pattern, spec = spec, methods = {} }
    self.patterns[#self.patterns + 1] = entry
  end
  entry.methods[method] = { handler = handler, opts = opts or {}, pattern = pattern }
  return self
end

-- Convenience: r:route{ "GET /a/:b", fn, opts }
for _, m in ipairs({ "GET", "POST", "PUT", "PATCH", "DELETE" }) do
  M[m:lower()] = function(self, pattern, handler, opts)
    return self:add(m, pattern, handler, opts)
  end
end

local function match(entry, segs)
  local spec = entry.spec
  if #spec ~= #segs then return nil end
  local params = {}
  for i, s in ipairs(spec) do
    if s.literal then
      if s.literal ~= segs[i] then return nil end
    else
      params[s.capture] = M.decode(segs[i])
    end
  end
  return params
end

-- literal segments beat captures, comparing left to right
local function more_specific(a, b)
  for i = 1, #a.spec do
    local la, lb = a.spec[i].literal ~= nil, b.spec[i].literal ~= nil
    if la ~= lb then return la end
  end
  return false
end

-- Returns route, params  |  nil, "method" (405)  |  nil, "route" (404)
function M:resolve(method, path)
  local segs = split(path:sub(2))
  local found = {}
  for _, entry in ipairs(self.patterns) do
    local params = match(entry, segs)
    if params then found[#found + 1] = { entry = entry, params = params } end
  end
  if #found == 0 then return nil, "route" end
  table.sort(found, function(a, b) return more_specific(a.entry, b.entry) end)
  for _, f in ipairs(found) do
    local r = f.entry.methods[method]
    if r then return r, f.params end
  end
  return nil, "method"
end

return M
