-- dispatch.lua: what a realtime subscription (events.lua) and a webhook
-- receiver (webhook.lua) share: the handler registry behind `:on(type, fn)`
-- with its "All" wildcard, turning a JSON text into the event table the
-- handlers get, and running the handlers of one event (contract §6.2, §6.3:
-- type handlers first, then "All", D46).
local import, core = ...
local args = import("args")

local type, pcall, getmetatable = type, pcall, getmetatable
local json_decode, array_mt = core.json_decode, core.array_mt
local argerror = args.argerror

local M = {}

function M.check_fn(fn, n, name)
  if type(fn) ~= "function" then argerror(n, name, "function expected, got " .. type(fn)) end
end

-- obj:on(type, fn): fn(event) for events of that type; "All" for every one.
-- handlers is the object's registry ({[type] = {fn, ...}}).
function M.on(handlers, event_type, fn)
  if type(event_type) ~= "string" or event_type == "" then argerror(1, "on", "event type must be a non-empty string") end
  M.check_fn(fn, 2, "on")
  local list = handlers[event_type]
  if not list then list = {}; handlers[event_type] = list end
  list[#list + 1] = fn
end

function M.is_object(v)
  return type(v) == "table" and getmetatable(v) ~= array_mt
end

-- The decoded JSON object of text, or nil when text is not one.
function M.decode(text)
  local v = json_decode(text)
  if M.is_object(v) then return v end
  return nil
end

local NONE = {}

-- Runs the handlers of ev (with the extra arguments): those of its type,
-- then the "All" ones. Every handler runs, also after one raised; failed
-- (optional) is called as failed(raised value, ev) for each that raised.
-- Returns true when none raised, else false and the first raised value.
function M.run(handlers, ev, failed, ...)
  local t = ev.type
  local ok_all, first = true, nil
  for pass = 1, 2 do
    local list = pass == 1 and (type(t) == "string" and t ~= "All" and handlers[t] or NONE) or handlers.All or NONE
    for i = 1, #list do
      local ok, e = pcall(list[i], ev, ...)
      if not ok then
        if ok_all then ok_all, first = false, e end
        if failed then failed(e, ev) end
      end
    end
  end
  return ok_all, first
end

return M
