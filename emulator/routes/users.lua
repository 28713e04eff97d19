-- §4.8 Users. `phone` may be one string or an array of strings.
-- A number "is on WhatsApp" unless it has fewer than 8 digits or its digits
-- start with "000" (so tests can ask for both answers).
local json = require("lib.json")
local api = require("lib.api")

local function phones(req)
  local b = api.body(req)
  local p = b.phone
  if type(p) == "string" or type(p) == "number" then p = { p } end
  if not api.present(p) or type(p) ~= "table" or #p == 0 then api.bad("phone is required") end
  local out = {}
  for i, v in ipairs(p) do
    if type(v) == "number" then v = string.format("%d", v) end
    if type(v) ~= "string" or v == "" then api.bad("phone[" .. i .. "] must be a string") end
    out[i] = v
  end
  return out
end

local function on_whatsapp(phone)
  local d = api.chat_key(phone)
  if d:find("@") then return true end
  return #d >= 8 and d:sub(1, 3) ~= "000"
end

local function each(req, fn)
  local out = json.array()
  for _, p in ipairs(phones(req)) do out[#out + 1] = fn(p, api.chat_key(p)) end
  return api.ok(out)
end

return function(r)
  r:post("/instances/:id/user/info", function(req)
    return each(req, function(p, key)
      return { query = p, phone = key, jid = api.jid(key), is_on_whatsapp = on_whatsapp(p),
               status = "Hey there! I am using WhatsApp.", verified_name = json.null,
               picture_id = "1700000000" }
    end)
  end)
  r:post("/instances/:id/user/check", function(req)
    return each(req, function(p, key)
      return { query = p, phone = key, jid = api.jid(key), is_on_whatsapp = on_whatsapp(p) }
    end)
  end)
  r:post("/instances/:id/user/avatar", function(req)
    return each(req, function(p, key)
      return { phone = key, id = "1700000000",
               url = "https://pps.whatsapp.local/v/" .. key .. ".jpg", type = "image" }
    end)
  end)
  r:get("/instances/:id/user/contacts", function(req)
    local out = json.array()
    for _, c in ipairs(req.instance.contacts) do
      out[#out + 1] = { phone = c.phone, jid = c.jid, first_name = c.first_name,
                        full_name = c.full_name, push_name = c.first_name }
    end
    return api.ok(out, { total = #out })
  end)
end
