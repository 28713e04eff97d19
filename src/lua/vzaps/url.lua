-- url.lua: URL assembly and query strings (contract §3.1, §3.3).
local _, core = ...

local type, pairs, tostring, format = type, pairs, tostring, string.format
local escape, sort, concat = core.escape, table.sort, table.concat
local floor, huge = math.floor, math.huge

local M = {}

-- camelCase -> snake_case: "_" before every uppercase letter but the first,
-- then lowercase (pageSize -> page_size; already-snake keys unchanged).
function M.snake(key)
  if not key:find("%u") then return key end
  return (key:sub(1, 1) .. key:sub(2):gsub("%u", "_%0")):lower()
end

-- Text of one query value; nil plus a reason when it cannot be one.
local function number_text(v)
  if v ~= v or v == huge or v == -huge then return nil, "NaN or infinity" end
  if math.type and math.type(v) == "integer" then return tostring(v) end
  if v == floor(v) and v > -2^63 and v < 2^63 then return format("%.0f", v) end
  -- The shortest text that reads back as the same double (rare in queries,
  -- so a plain search over the precisions is fine).
  for digits = 1, 16 do
    local s = format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return format("%.17g", v)
end
M.number_text = number_text

function M.value_text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then return number_text(v) end
  return nil, t .. " values cannot go in a query string"
end

-- Encodes a query table: nil values dropped, keys snake_cased and sorted.
-- Returns "" when nothing is left, or nil, key, reason on a bad value.
function M.query(q)
  local keys, values = {}, {}
  for k, v in pairs(q) do
    if type(k) ~= "string" then return nil, tostring(k), "query keys must be strings" end
    local text, why = M.value_text(v)
    if not text then return nil, k, why end
    local sk = M.snake(k)
    keys[#keys + 1] = sk
    values[sk] = text
  end
  if #keys == 0 then return "" end
  sort(keys)
  local parts = {}
  for i = 1, #keys do
    local k = keys[i]
    parts[i] = escape(k) .. "=" .. escape(values[k])
  end
  return concat(parts, "&")
end

-- base (no trailing "/") + "/" + path (leading "/" stripped) + "?" + query;
-- a path that already has a query string gets "&" + query.
function M.join(base, path, query)
  if path:byte(1) == 47 then path = path:gsub("^/+", "") end
  if query and query ~= "" then
    return base .. "/" .. path .. (path:find("?", 1, true) and "&" or "?") .. query
  end
  return base .. "/" .. path
end

return M
