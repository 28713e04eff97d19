-- §4.10 Typebots
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")

local FIELDS = {
  enabled = "boolean", description = "string", typebot_url = "string",
  public_id = "string", trigger_type = "string", trigger_operator = "string",
  trigger_value = "string", priority = "integer", expire_in_minutes = "integer",
  keyword_finish = "string", default_delay_ms = "integer", unknown_message = "string",
  listen_from_me = "boolean", stop_bot_from_me = "boolean", keep_open = "boolean",
  debounce_ms = "integer", ignore_groups = "boolean", transcribe_audio = "boolean",
}

-- copy known fields (type-checked) and pass unknown ones through
local function apply(tb, b)
  for k in pairs(b) do
    if FIELDS[k] then api.optional(b, k, FIELDS[k]) end
  end
  for k, v in pairs(b) do
    if k ~= "id" and k ~= "created_at" then tb[k] = v end
  end
end

local function find(inst, id)
  local tb = inst.typebots[id]
  if not tb then api.not_found("typebot not found") end
  return tb
end

local function ordered(map, order)
  local out = json.array()
  for _, id in ipairs(order) do
    if map[id] then out[#out + 1] = map[id] end
  end
  return out
end

local function create(req)
  local inst = req.instance
  local b = api.body(req)
  local now = state.iso()
  local tb = { id = "tb_" .. state.hex(8), enabled = true, created_at = now }
  apply(tb, b)
  tb.updated_at = now
  inst.typebots[tb.id] = tb
  inst.typebot_order[#inst.typebot_order + 1] = tb.id
  return api.ok(tb)
end

local function update(req)
  local tb = find(req.instance, req.params.typebot_id)
  apply(tb, api.body(req))
  tb.updated_at = state.iso()
  return api.ok(tb)
end

local function delete(req)
  local inst = req.instance
  local tb = find(inst, req.params.typebot_id)
  inst.typebots[tb.id] = nil
  return api.ok({ id = tb.id, deleted = true })
end

local function start(req)
  local inst = req.instance
  local tb
  if req.params.typebot_id then
    tb = find(inst, req.params.typebot_id)
  else
    for _, id in ipairs(inst.typebot_order) do  -- first enabled typebot, if any
      local t = inst.typebots[id]
      if t and t.enabled ~= false then tb = t break end
    end
  end
  local b = api.body(req)
  local phone = b.phone
  if type(phone) == "number" then phone = string.format("%d", phone) end
  phone = api.required({ phone = phone }, "phone", "string")
  local message = api.required(b, "message", "string")
  local now = state.iso()
  local s = {
    id = "tbs_" .. state.hex(8), typebot_id = tb and tb.id or json.null,
    public_id = api.optional(b, "public_id", "string") or (tb and tb.public_id) or json.null,
    phone = phone, push_name = api.optional(b, "push_name", "string") or json.null,
    status = "opened", messages = json.array({ message }), created_at = now, updated_at = now,
  }
  s.session = s.id
  inst.typebot_sessions[s.id] = s
  inst.typebot_session_order[#inst.typebot_session_order + 1] = s.id
  return api.ok(s)
end

local function session_action(new_status)
  return function(req)
    local s = req.instance.typebot_sessions[req.params.session]
    if not s then api.not_found("typebot session not found") end
    api.body(req)
    s.status = new_status
    s.updated_at = state.iso()
    return api.ok(s)
  end
end

return function(r)
  r:get("/instances/:id/typebots", function(req)
    local i = req.instance
    return api.ok(ordered(i.typebots, i.typebot_order))
  end)
  r:post("/instances/:id/typebots", create)
  r:patch("/instances/:id/typebots/:typebot_id", update)
  r:delete("/instances/:id/typebots/:typebot_id", delete)
  r:get("/instances/:id/typebots/sessions", function(req)
    local i = req.instance
    return api.ok(ordered(i.typebot_sessions, i.typebot_session_order))
  end)
  r:post("/instances/:id/typebots/sessions/start", start)
  r:post("/instances/:id/typebots/:typebot_id/sessions/start", start)
  r:post("/instances/:id/typebots/sessions/:session/close", session_action("closed"))
  r:post("/instances/:id/typebots/sessions/:session/pause", session_action("paused"))
end
