-- spec/support/files.lua: reading a whole file, for specs and their helpers.
local M = {}

-- The file's bytes, or nil and the reason (a log that was never written).
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

-- The file's bytes; raises when it cannot be read (a file the spec needs).
function M.must_read(path) return assert(M.read(path)) end

return M
