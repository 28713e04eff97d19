-- §4.2 Instances and billing
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")

local NOINST = {}  -- authenticated, no instance token

local function validate_fields(b, name_required)
  if name_required then
    api.required(b, "name", "string")
  elseif b.name ~= nil then
    if type(b.name) ~= "string" or b.name == "" then api.bad("name must be a non-empty string") end
  end
  local wh = api.optional(b, "webhook", "string")
  local ev = api.optional(b, "events_subscribe", "array")
  if ev then
    for i, e in ipairs(ev) do
      if type(e) ~= "string" then api.bad("events_subscribe[" .. i .. "] must be a string") end
    end
  end
  return wh, ev
end

local function create(req)
  local b = api.body(req)
  local wh, ev = validate_fields(b, true)
  local inst = state.new_instance({ name = b.name, webhook = wh, events_subscribe = ev })
  return 200, state.summary(inst)
end

local SORT_FIELDS = { name = true, created_at = true, status = true, id = true }

local function sorted_instances(sort, desc)
  local list = {}
  for _, inst in pairs(state.instances) do list[#list + 1] = inst end
  -- created_at order is the creation sequence: several instances share a
  -- millisecond, and their random ids would put them in random order.
  local function key(inst, f)
    if f == "created_at" then return inst.seq end
    if f == "name" then return tostring(inst.name):lower() end
    return inst[f]
  end
  table.sort(list, function(a, b)
    local ka, kb = key(a, sort), key(b, sort)
    if ka == kb then ka, kb = a.seq, b.seq end  -- ties: creation order
    if desc then return ka > kb end
    return ka < kb
  end)
  return list
end

local function filter_list(list, f)
  local q = f.query and f.query ~= json.null and tostring(f.query):lower() or nil
  local name = f.name and f.name ~= json.null and tostring(f.name):lower() or nil
  local status = f.status and f.status ~= json.null and tostring(f.status) or nil
  local out = {}
  for _, inst in ipairs(list) do
    local keep = true
    if q and q ~= "" then
      keep = tostring(inst.name):lower():find(q, 1, true) ~= nil
        or inst.id:lower():find(q, 1, true) ~= nil
    end
    if keep and name and name ~= "" then
      keep = tostring(inst.name):lower():find(name, 1, true) ~= nil
    end
    if keep and status and status ~= "" then keep = inst.status == status end
    if keep then out[#out + 1] = inst end
  end
  return out
end

local function list(req)
  local b = api.body(req)
  local page = api.optional(b, "page", "integer") or 1
  local size = api.optional(b, "size", "integer") or api.optional(b, "page_size", "integer") or 20
  if page < 1 then page = 1 end
  if size < 1 then size = 20 end
  local filter = b.filter
  if type(filter) == "table" and next(filter) == nil then filter = {} end  -- [] too
  filter = api.optional({ filter = filter }, "filter", "object") or {}
  local sort = api.optional(b, "sort", "string") or "created_at"
  if sort == "" then sort = "created_at" end
  if not SORT_FIELDS[sort] then api.bad("sort must be one of name, created_at, status, id") end
  local desc = api.optional(b, "sort_desc", "boolean") or false
  local all = filter_list(sorted_instances(sort, desc), filter)
  local content = json.array()
  local connected = 0
  for _, inst in ipairs(all) do
    if inst.status == "connected" then connected = connected + 1 end
  end
  for i = (page - 1) * size + 1, math.min(#all, page * size) do
    content[#content + 1] = state.summary(all[i])
  end
  return 200, {
    page = page, size = size, total = #all,
    total_pages = math.ceil(#all / size),
    content = content,
    summary = { total = #all, connected = connected, disconnected = #all - connected },
  }
end

local function get(req)
  local b = api.body(req)
  local id = api.required(b, "id", "string")
  return 200, state.summary(api.instance(id))
end

local function update(req)
  local inst = req.instance
  local b = api.body(req)
  local wh, ev = validate_fields(b, false)
  if b.name ~= nil then inst.name = b.name end
  if b.webhook ~= nil then inst.webhook = wh or json.null end
  if ev then inst.events_subscribe = ev end
  state.touch(inst)
  return 200, state.summary(inst)
end

local function restart(req)
  state.touch(req.instance)
  return 200, { instance_id = req.instance.id, status = "restarting",
                details = "instance restart requested" }
end

local function delete(req)
  state.instances[req.instance.id] = nil
  return 204
end

local function search(req)
  local b = api.body(req)
  local f = {}
  if json.is_object(b.filter) then for k, v in pairs(b.filter) do f[k] = v end end
  for _, k in ipairs({ "query", "status", "name" }) do
    if b[k] ~= nil then f[k] = b[k] end
  end
  local found = filter_list(sorted_instances("created_at", false), f)
  local content = json.array()
  for i, inst in ipairs(found) do content[i] = state.summary(inst) end
  return 200, { content = content, total = #found }
end

local function subscribe(req)
  local inst = req.instance
  local b = api.body(req)
  local mode = "checkout"
  for _, k in ipairs({ "mode", "billing_type", "billing" }) do
    if b[k] == "direct" then mode = "direct" end
  end
  local session_id = "cs_" .. state.hex(12)
  local sub = {
    url = "https://billing.vzaps.local/checkout/" .. session_id,
    session_id = session_id,
    mode = mode,
    subscription_id = "sub_" .. state.hex(12),
  }
  inst.subscription = sub
  inst.subscription_status = mode == "direct" and "active" or "pending"
  state.touch(inst)
  return 200, sub
end

local function resume(req)
  req.instance.subscription_status = "active"
  state.touch(req.instance)
  return 200, { status = "ok" }
end

local function cancel(req)
  req.instance.subscription_status = "canceled"
  state.touch(req.instance)
  return 200, { message = "subscription cancellation scheduled" }
end

return function(r)
  r:put("/instances/create", create, NOINST)
  r:put("/instances/provision", create, NOINST)
  r:post("/instances/list", list, NOINST)
  r:post("/instances/get", get, NOINST)
  r:post("/instances/search", search, NOINST)
  r:patch("/instances/:id", update)
  r:delete("/instances/:id", delete)
  r:post("/instances/:id/restart", restart)
  r:post("/instances/:id/subscribe", subscribe)
  r:post("/instances/:id/resume-subscription", resume)
  r:put("/instances/:id/cancel", cancel)
end
