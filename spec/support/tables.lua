-- spec/support/tables.lua: table helpers the specs share.
local M = {}

-- A deep copy (values that are not tables are shared), to prove that a
-- call left the caller's table alone.
function M.copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = M.copy(v) end
  return c
end

return M
