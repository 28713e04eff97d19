-- The optional per-instance send rate: at most config.send_rate sends per
-- config.send_per seconds (a sliding window) for each instance; one more is
-- answered 429 RATE_LIMITED with Retry-After, as the platform does when a
-- number sends faster than WhatsApp tolerates. Off while send_rate is nil.
-- The sends are the calls that make WhatsApp send something: POST
-- .../chat/send/*, .../chat/react, .../chat/poll/vote and PATCH or DELETE
-- .../chat/messages/{id}, and DELETE .../chat/react.
local state = require("lib.state")

local M = {}

local windows = {} -- instance id (as in the path) -> accepted send times
-- A new rate (POST /__emu/config) or a reset starts every window afresh.
function M.forget() windows = {} end
state.on_reset(M.forget)

local function is_send(method, rest)
  if rest:find("^send/") or rest == "poll/vote" then return method == "POST" end
  if rest == "react" then return method == "POST" or method == "DELETE" end
  if rest:find("^messages/[^/]+$") then return method == "PATCH" or method == "DELETE" end
  return false
end

-- nil when req may go on; else the 429 response.
function M.check(req)
  local rate = state.config.send_rate
  if not rate then return nil end
  local id, rest = req.path:match("^/instances/([^/]+)/chat/(.+)$")
  if not id or not is_send(req.method, rest) then return nil end
  local per, now = state.config.send_per or 1, state.monotime()
  local w = windows[id] or {}
  windows[id] = w
  while w[1] and w[1] <= now - per do table.remove(w, 1) end
  if #w < rate then
    w[#w + 1] = now
    return nil
  end
  local wait = math.max(1, math.ceil(w[1] + per - now))
  local json = require("lib.json")
  return { status = 429, content_type = "application/json", headers = { ["retry-after"] = tostring(wait) },
           body = json.encode({ error = "too many messages for this instance; retry later", code = "RATE_LIMITED" }) }
end

return M
