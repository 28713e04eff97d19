-- Helpers of the examples for the steps that, with the real API, happen on
-- a phone (scanning a QR code) or inside VZaps (sending queued messages).
-- Against the local emulator (make demo) they use its unauthenticated
-- /__emu/ control routes; against anything else they do nothing.
local M = {}

-- True when VZAPS_BASE_URL is unset (the examples' default is the local
-- emulator) or points at this machine.
function M.active()
  local url = os.getenv("VZAPS_BASE_URL") or "http://127.0.0.1:8787"
  return url:find("^https?://127%.") ~= nil or url:find("^https?://localhost[:/]") ~= nil
    or url:find("^https?://localhost$") ~= nil
end

-- The phone scanned the QR code / typed the pair code: the instance connects.
function M.connect(client, instance_id)
  if not M.active() then return false end
  return assert(client:request("POST", "/__emu/instances/" .. instance_id .. "/connect", { no_auth = true }))
end

-- VZaps delivered everything queued for the instance.
function M.process_queue(client, instance_id)
  if not M.active() then return false end
  return assert(client:request("POST", "/__emu/instances/" .. instance_id .. "/process-queue", { no_auth = true }))
end

return M
