-- §4.11 Chatwoot
local state = require("lib.state")
local api = require("lib.api")

local FIELDS = {
  enabled = "boolean", url = "string", account_id = "string", token = "string",
  name_inbox = "string", sign_msg = "boolean", sign_delimiter = "string",
  number = "string", reopen_conversation = "boolean", conversation_pending = "boolean",
  import_contacts = "boolean", import_messages = "boolean",
  days_limit_import_messages = "integer", auto_create = "boolean",
  organization = "string", logo = "string", ignore_groups = "boolean",
}

return function(r)
  r:get("/instances/:id/chatwoot", function(req)
    local cfg = req.instance.chatwoot
    if not cfg then return api.ok({ enabled = false, configured = false }) end
    return api.ok(cfg)
  end)
  r:post("/instances/:id/chatwoot", function(req)
    local b = api.body(req)
    local cfg = req.instance.chatwoot or { created_at = state.iso() }
    for k in pairs(b) do
      if FIELDS[k] then api.optional(b, k, FIELDS[k]) end
    end
    for k, v in pairs(b) do cfg[k] = v end
    if cfg.enabled == nil then cfg.enabled = true end
    cfg.configured = true
    cfg.updated_at = state.iso()
    req.instance.chatwoot = cfg
    return api.ok(cfg)
  end)
  r:delete("/instances/:id/chatwoot", function(req)
    req.instance.chatwoot = nil
    return api.ok({ deleted = true })
  end)
  r:post("/instances/:id/chatwoot/import/:what", function(req)
    api.body(req)
    local what = req.params.what
    return 202, { success = true, data = {
      job_id = "job_" .. state.hex(8), what = what, status = "accepted",
      created_at = state.iso(),
    } }
  end)
end
