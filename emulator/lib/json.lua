-- JSON helpers on a private lua-cjson instance.
--
-- cjson 2.1.0 cannot tell an empty array from an empty object, so:
--   * json.array(t) marks a table as a list (encodes as [] when empty);
--   * json.decode() keeps empty JSON arrays as marked lists, so a body that
--     said `"events": []` is echoed back as `[]`;
--   * json.encode() is a small recursive encoder (sorted object keys, integral
--     numbers without ".0") that uses cjson only for strings.
local cjson = require("cjson").new()
cjson.encode_number_precision(14)

local M = {}

M.null = cjson.null
local array_mt = { __jsontype = "array" }
M.array_mt = array_mt

function M.array(t)
  return setmetatable(t or {}, array_mt)
end

function M.is_array(v)
  if type(v) ~= "table" then return false end
  if getmetatable(v) == array_mt then return true end
  local n = #v
  if n == 0 then return false end
  local count = 0
  for _ in pairs(v) do count = count + 1 end
  return count == n
end

function M.is_object(v)
  return type(v) == "table" and not M.is_array(v)
    and getmetatable(v) ~= array_mt
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if n == math.floor(n) and math.abs(n) < 2^53 then
    return string.format("%d", n)
  end
  local s = string.format("%.14g", n)
  if tonumber(s) ~= n then s = string.format("%.17g", n) end
  return s
end

local encode_value
function encode_value(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = (cjson.encode(v):gsub("\\/", "/"))  -- cjson writes \/
  elseif t == "number" then
    out[#out + 1] = encode_number(v)
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == nil or v == cjson.null then
    out[#out + 1] = "null"
  elseif t == "table" then
    if M.is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = (cjson.encode(k):gsub("\\/", "/"))
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode_value(val, out)
      end
      out[#out + 1] = "}"
    end
  else
    error("cannot encode a " .. t .. " as JSON")
  end
end

function M.encode(v)
  local out = {}
  encode_value(v, out)
  return table.concat(out)
end

-- Replace every `[ ]` outside strings by a sentinel object so the decoded
-- value can be turned back into a marked empty list.
local SENTINEL_KEY = "\0emu-empty-array"
local SENTINEL = '{"\\u0000emu-empty-array":true}'

local function mark_empty_arrays(s)
  if not s:find("%[%s*%]") then return s, false end
  local out, from, pos, in_str = {}, 1, 1, false
  while true do
    local j = s:find(in_str and '[\\"]' or '["%[]', pos)
    if not j then break end
    local c = s:sub(j, j)
    if in_str then
      if c == "\\" then pos = j + 2 else in_str = false; pos = j + 1 end
    elseif c == '"' then
      in_str = true; pos = j + 1
    else
      local k = s:match("^%[%s*%]()", j)
      if k then
        out[#out + 1] = s:sub(from, j - 1)
        out[#out + 1] = SENTINEL
        from, pos = k, k
      else
        pos = j + 1
      end
    end
  end
  out[#out + 1] = s:sub(from)
  return table.concat(out), true
end

local function fix(v)
  if type(v) ~= "table" then return v end
  if v[SENTINEL_KEY] == true and next(v, next(v)) == nil then
    return M.array()
  end
  local n = #v
  if n > 0 then setmetatable(v, array_mt) end
  for k, x in pairs(v) do
    if type(x) == "table" then v[k] = fix(x) end
  end
  return v
end

-- Returns value or nil, errmsg. Non-empty sequences are marked as arrays too.
function M.decode(s)
  local text = mark_empty_arrays(s)
  local ok, v = pcall(cjson.decode, text)
  if not ok then return nil, tostring(v) end
  return fix(v)
end

return M
