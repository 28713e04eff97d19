-- Scripted answers queued with POST /__emu/script, matched first-queued-first.
local state = require("lib.state")

local M = {}

function M.add(s)
  s.remaining = s.times or 1
  state.scripts[#state.scripts + 1] = s
end

-- Returns the first script matching this request (using one of its `times`).
function M.take(req)
  for i, s in ipairs(state.scripts) do
    if (s.method == nil or s.method == req.method)
      and (s.path == nil or s.path == req.path) then
      s.remaining = s.remaining - 1
      if s.remaining <= 0 then table.remove(state.scripts, i) end
      return s
    end
  end
  return nil
end

return M
