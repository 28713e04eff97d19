-- Shared settings of the examples: VZAPS_* environment variables, defaulting
-- to the local emulator (make demo starts one and sets them).
local vzaps = require("vzaps")

local M = {}

function M.client(extra)
  local opts = {
    client_token = os.getenv("VZAPS_CLIENT_TOKEN") or "emu-client-token",
    client_secret = os.getenv("VZAPS_CLIENT_SECRET") or "emu-client-secret",
    base_url = os.getenv("VZAPS_BASE_URL") or "http://127.0.0.1:8787",
    realtime_url = os.getenv("VZAPS_REALTIME_URL") or "ws://127.0.0.1:8787",
  }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return vzaps.new(opts)
end

-- Prints a value as JSON (sorted keys are not needed for a demo).
function M.show(label, v)
  print(label .. ": " .. (type(v) == "table" and assert(vzaps.json.encode(v)) or tostring(v)))
end

return M
