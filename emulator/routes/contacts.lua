-- §4.6 Contacts
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")

local function add(req)
  local inst = req.instance
  local b = api.body(req)
  local phone = b.phone
  if type(phone) == "number" then phone = string.format("%d", phone) end
  phone = api.required({ phone = phone }, "phone", "string")
  local first = api.required(b, "first_name", "string")
  local full = api.required(b, "full_name", "string")
  local key = api.chat_key(phone)
  local contact
  for _, c in ipairs(inst.contacts) do
    if c.phone == key then contact = c end
  end
  if not contact then
    contact = { phone = key, jid = api.jid(key), created_at = state.iso() }
    inst.contacts[#inst.contacts + 1] = contact
  end
  contact.first_name, contact.full_name = first, full
  contact.updated_at = state.iso()
  return api.ok(contact)
end

local function list(req)
  return api.ok(json.array(api.copy(req.instance.contacts)), { total = #req.instance.contacts })
end

return function(r)
  r:get("/instances/:id/contact/list", list)
  r:post("/instances/:id/contact/add", add)
end
