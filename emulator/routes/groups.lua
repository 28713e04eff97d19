-- §4.7 Groups. Mutation bodies use the shared field set of the contract
-- (group_id, image, name, description, admin_only_message, admin_only_settings,
-- delay_message, group_name, group_description, group_image, participants).
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")

local function view(g)
  local parts, admins = json.array(), json.array()
  for _, p in ipairs(g.participants) do
    parts[#parts + 1] = { jid = p.jid, phone = p.phone, is_admin = p.is_admin,
                          is_super_admin = p.is_super_admin }
    if p.is_admin then admins[#admins + 1] = p.jid end
  end
  return {
    group_id = g.id, id = g.id, jid = g.id, name = g.name, description = g.description,
    image = g.image, owner = g.owner, participants = parts, admins = admins,
    participants_count = #parts,
    admin_only_message = g.admin_only_message, admin_only_settings = g.admin_only_settings,
    delay_message = g.delay_message, created_at = g.created_at, updated_at = g.updated_at,
  }
end

local function participants(b, required)
  local list = required and api.required(b, "participants", "array")
    or api.optional(b, "participants", "array") or {}
  for i, p in ipairs(list) do
    if type(p) == "number" then list[i] = string.format("%d", p)
    elseif type(p) ~= "string" then api.bad("participants[" .. i .. "] must be a string") end
  end
  return list
end

local function find_group(inst, id)
  local g = inst.groups[id]
  if not g then api.not_found("group not found") end
  return g
end

local function from_query(req)
  local id = api.required(req.query, "group_id", "string")
  return find_group(req.instance, id)
end

local function from_body(req)
  local b = api.body(req)
  local id = api.required(b, "group_id", "string")
  return find_group(req.instance, id), b
end

local function member(g, phone)
  local key = api.chat_key(phone)
  for _, p in ipairs(g.participants) do
    if p.phone == key then return p end
  end
  local p = { phone = key, jid = api.jid(key), is_admin = false, is_super_admin = false }
  g.participants[#g.participants + 1] = p
  return p
end

local function create(req)
  local inst = req.instance
  local b = api.body(req)
  local name = api.optional(b, "group_name", "string") or api.optional(b, "name", "string")
  if not api.present(name) then api.bad("group_name is required") end
  local parts = participants(b, false)
  local now = state.iso()
  local g = {
    id = "1203630" .. state.digits(11) .. "@g.us",
    name = name,
    description = api.optional(b, "group_description", "string")
      or api.optional(b, "description", "string") or "",
    image = api.optional(b, "group_image", "string") or api.optional(b, "image", "string") or json.null,
    owner = inst.phone ~= json.null and api.jid(inst.phone) or json.null,
    participants = {}, admin_only_message = false, admin_only_settings = false,
    delay_message = 0, invite_code = state.hex(11), created_at = now, updated_at = now,
  }
  for _, p in ipairs(parts) do member(g, p) end
  inst.groups[g.id] = g
  inst.group_order[#inst.group_order + 1] = g.id
  api.operation(inst, "group.create", g.id)
  return api.ok(view(g))
end

local function mutate(kind, fn)
  return function(req)
    local g, b = from_body(req)
    fn(g, b)
    g.updated_at = state.iso()
    api.operation(req.instance, "group." .. kind, g.id)
    return api.ok(view(g))
  end
end

local function list(req)
  local page, size = api.paging(req)
  local out = {}
  for _, id in ipairs(req.instance.group_order) do
    local g = req.instance.groups[id]
    if g then out[#out + 1] = view(g) end
  end
  return api.paged(out, page, size)
end

local function invitelink(req)
  local g = from_query(req)
  local reset = req.query.reset
  if reset == "true" or reset == "1" then g.invite_code = state.hex(11) end
  return api.ok({ group_id = g.id, invite_code = g.invite_code,
                  invite_link = "https://chat.whatsapp.com/" .. g.invite_code })
end

return function(r)
  r:get("/instances/:id/group/list", list)
  r:get("/instances/:id/group/info", function(req) return api.ok(view(from_query(req))) end)
  r:get("/instances/:id/group/invitelink", invitelink)
  r:post("/instances/:id/group/create", create)
  r:post("/instances/:id/group/photo", mutate("photo", function(g, b)
    local img = api.optional(b, "image", "string") or api.optional(b, "group_image", "string")
    if not api.present(img) then api.bad("image is required") end
    g.image = img
  end))
  r:post("/instances/:id/group/name", mutate("name", function(g, b)
    local name = api.optional(b, "name", "string") or api.optional(b, "group_name", "string")
    if not api.present(name) then api.bad("name is required") end
    g.name = name
  end))
  r:post("/instances/:id/group/description", mutate("description", function(g, b)
    local d = api.optional(b, "description", "string") or api.optional(b, "group_description", "string")
    if d == nil then api.bad("description is required") end
    g.description = d
  end))
  r:post("/instances/:id/group/settings", mutate("settings", function(g, b)
    local m = api.optional(b, "admin_only_message", "boolean")
    local s = api.optional(b, "admin_only_settings", "boolean")
    local d = api.optional(b, "delay_message", "integer")
    if m ~= nil then g.admin_only_message = m end
    if s ~= nil then g.admin_only_settings = s end
    if d ~= nil then g.delay_message = d end
  end))
  r:post("/instances/:id/group/add-admin", mutate("add-admin", function(g, b)
    for _, p in ipairs(participants(b, true)) do member(g, p).is_admin = true end
  end))
  r:post("/instances/:id/group/remove-admin", mutate("remove-admin", function(g, b)
    for _, p in ipairs(participants(b, true)) do
      local m = member(g, p)
      m.is_admin = false
      m.is_super_admin = false
    end
  end))
end
