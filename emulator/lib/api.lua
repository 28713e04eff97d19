-- Helpers for route handlers: error raising, body access, field validation,
-- instance lookup. Handlers raise errors with api.fail(); the dispatcher turns
-- them into the {"error","code"} envelope.
local json = require("lib.json")
local state = require("lib.state")

local M = {}

function M.fail(status, code, message)
  error({ emu_error = true, status = status, code = code, message = message }, 0)
end
function M.bad(message) M.fail(400, "VALIDATION_ERROR", message) end
function M.not_found(message) M.fail(404, "NOT_FOUND", message) end
function M.conflict(message) M.fail(409, "CONFLICT", message) end

-- Decoded JSON body as an object ({} when there is no body).
function M.body(req)
  local v = req:json()
  if v == nil then return {} end
  if type(v) == "table" and next(v) == nil then return {} end  -- [] as {} (PHP SDKs)
  if not json.is_object(v) then M.bad("request body must be a JSON object") end
  return v
end

local function present(v)
  return v ~= nil and v ~= json.null and v ~= ""
end
M.present = present

local checks = {
  string = function(v) return type(v) == "string" end,
  number = function(v) return type(v) == "number" end,
  boolean = function(v) return type(v) == "boolean" end,
  array = function(v) return json.is_array(v) or (type(v) == "table" and next(v) == nil) end,
  object = function(v) return json.is_object(v) end,
}
local article = { array = "an array", object = "an object", integer = "an integer" }

local function check_type(name, v, kind)
  if not kind then return end
  local ok
  if kind == "integer" then ok = type(v) == "number" and v == math.floor(v)
  else ok = checks[kind](v) end
  if not ok then M.bad(name .. " must be " .. (article[kind] or ("a " .. kind))) end
  -- an empty {} given for a list field is a list
  if kind == "array" and type(v) == "table" then setmetatable(v, json.array_mt) end
end

-- Field `name` of table t must be present (not nil/null/""), of `kind`.
function M.required(t, name, kind, label)
  local v = t[name]
  label = label or name
  if not present(v) then M.bad(label .. " is required") end
  check_type(label, v, kind)
  return v
end

-- Optional field: nil/null is fine, otherwise must be of `kind`.
function M.optional(t, name, kind, label)
  local v = t[name]
  if v == nil or v == json.null then return nil end
  check_type(label or name, v, kind)
  return v
end

function M.ok(data, extra)
  local out = { success = true, data = data }
  for k, v in pairs(extra or {}) do out[k] = v end
  return 200, out
end

function M.instance(id)
  local inst = state.instances[id]
  if not inst then M.not_found("instance not found") end
  return inst
end

-- page / page_size from the query string (defaults 1 / 20)
function M.paging(req)
  local page = tonumber(req.query.page) or 1
  local size = tonumber(req.query.page_size) or 20
  if page < 1 then page = 1 end
  if size < 1 then size = 20 end
  return math.floor(page), math.floor(size)
end

-- Returns the items of list for that page, as a JSON array
function M.slice(list, page, size)
  local out = json.array()
  for i = (page - 1) * size + 1, math.min(#list, page * size) do
    out[#out + 1] = list[i]
  end
  return out
end

function M.paged(list, page, size)
  return M.ok(M.slice(list, page, size), {
    page = page, page_size = size, total = #list,
    total_pages = math.ceil(#list / size),
  })
end

function M.copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return setmetatable(c, getmetatable(t))
end

-- Normalised chat key for a phone / JID: JIDs other than @s.whatsapp.net are
-- kept as given; phone numbers keep their digits only.
function M.chat_key(phone)
  phone = tostring(phone)
  if phone:find("@") then
    local user, server = phone:match("^([^@]*)@(.*)$")
    if server == "s.whatsapp.net" then return (user:gsub("%D", "")) end
    return phone
  end
  local d = phone:gsub("%D", "")
  if d == "" then return phone end
  return d
end

function M.jid(phone)
  local key = M.chat_key(phone)
  if key:find("@") then return key end
  return key .. "@s.whatsapp.net"
end

-- Record a background operation in the instance's operations queue
-- (GET /instances/{id}/queue/operations) until /__emu/.../process-queue.
function M.operation(inst, kind, target)
  local op = {
    id = "op_" .. state.hex(8), type = kind, target = target,
    status = "queued", created_at = state.iso(),
  }
  inst.operations[#inst.operations + 1] = op
  return op
end

return M
