-- endpoints.lua: every REST operation of the VZaps API as data
-- (vzaps-http-contract.md §4). resources.lua turns each row into a method.
--
-- { resource, method, HTTP verb, path template, options... }
--   {name} in the path    one escaped path segment taken from the arguments
--   args = {...}          positional arguments, in the official Go SDK's order:
--                         "body" is a pass-through table, "opts" is
--                         {instance_token=, headers=, timeout=}; otherwise the
--                         method takes one request table, whose path and query
--                         fields are taken out and whose rest is the JSON body
--   query = {...}         request fields that go in the query string
--   body = false          no body on the wire (unknown fields raise)
--   required = {...}      body fields that must be present
--   lists = {...}         fields sent as [] when empty
--   optional = true       the request table may be omitted
--   raw = "name"          a path field inserted unescaped (Messages.send)
--   prepare = fn(body, f) returns the body to send (D2 for instances.list)
-- Paths under /instances/{instance_id} require an instance token (D16).

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Instances.List (contract D2): page 1 and size 20 by default, filter always
-- an object, a non-blank search trimmed into filter.query.
local function instances_list(b)
  local out = {}
  for k, v in pairs(b) do
    if k ~= "search" and k ~= "page_size" then out[k] = v end
  end
  if out.page == nil or out.page == 0 then out.page = 1 end
  if out.size == nil then out.size = b.page_size or 20 end
  local filter = {}
  if type(b.filter) == "table" then for k, v in pairs(b.filter) do filter[k] = v end end
  if type(b.search) == "string" and b.search:find("%S") then filter.query = trim(b.search) end
  out.filter = filter
  if type(out.sort_desc) ~= "boolean" then out.sort_desc = nil end
  return out
end

local GROUP_LISTS = { "participants" }
local I = "/instances/{instance_id}"

return {
  -- Instances and billing (§4.2) ------------------------------------------
  { "instances", "create", "PUT", "/instances/create", required = { "name" }, lists = { "events_subscribe" } },
  { "instances", "list", "POST", "/instances/list", optional = true, prepare = instances_list },
  { "instances", "get", "POST", "/instances/get", args = { "instance_id" },
    prepare = function(_, f) return { id = f.instance_id } end },
  { "instances", "update", "PATCH", I, args = { "instance_id", "body", "opts" }, lists = { "events_subscribe" } },
  { "instances", "restart", "POST", I .. "/restart", args = { "instance_id", "opts" } },
  { "instances", "delete", "DELETE", I, args = { "instance_id", "opts" } },
  { "instances", "provision", "PUT", "/instances/provision", required = { "name" }, lists = { "events_subscribe" } },
  { "instances", "search", "POST", "/instances/search", optional = true },
  { "instances", "subscribe", "POST", I .. "/subscribe", args = { "instance_id", "body", "opts" } },
  { "instances", "resume_subscription", "POST", I .. "/resume-subscription", args = { "instance_id", "opts" } },
  { "instances", "cancel", "PUT", I .. "/cancel", args = { "instance_id", "opts" } },

  -- Sessions (§4.3) --------------------------------------------------------
  { "sessions", "status", "GET", I .. "/session/status", args = { "instance_id", "opts" } },
  { "sessions", "qr", "GET", I .. "/session/qr", args = { "instance_id", "opts" } },
  { "sessions", "pair_code", "GET", I .. "/session/paircode/{phone}", args = { "instance_id", "phone", "opts" } },
  { "sessions", "disconnect", "POST", I .. "/session/disconnect", args = { "instance_id", "opts" } },

  -- Messages (§4.4) --------------------------------------------------------
  { "messages", "send_text", "POST", I .. "/chat/send/text", required = { "phone", "message" } },
  { "messages", "send_image", "POST", I .. "/chat/send/image", required = { "phone", "image" } },
  { "messages", "send_audio", "POST", I .. "/chat/send/audio", required = { "phone", "audio" } },
  { "messages", "send_document", "POST", I .. "/chat/send/document", required = { "phone", "document" } },
  { "messages", "send_video", "POST", I .. "/chat/send/video", required = { "phone", "video" } },
  { "messages", "send_sticker", "POST", I .. "/chat/send/sticker", required = { "phone", "sticker" } },
  { "messages", "send_gif", "POST", I .. "/chat/send/gif", required = { "phone", "gif" } },
  { "messages", "send_location", "POST", I .. "/chat/send/location", required = { "phone", "latitude", "longitude" } },
  { "messages", "send_contact", "POST", I .. "/chat/send/contact", required = { "phone" } },
  { "messages", "send_buttons", "POST", I .. "/chat/send/buttons", required = { "phone", "message", "buttons" },
    lists = { "buttons" } },
  { "messages", "send_list", "POST", I .. "/chat/send/list",
    required = { "phone", "title", "description", "button_text", "sections" }, lists = { "sections", "rows" } },
  { "messages", "send_link", "POST", I .. "/chat/send/link",
    required = { "phone", "message", "link_url", "title", "link_description" } },
  { "messages", "send_poll", "POST", I .. "/chat/send/poll", required = { "phone", "name", "options" },
    lists = { "options" } },
  { "messages", "poll_vote", "POST", I .. "/chat/poll/vote", required = { "phone", "message_id" },
    lists = { "selected_options" } },
  { "messages", "react", "POST", I .. "/chat/react", required = { "phone", "message_id", "reaction" } },
  { "messages", "remove_reaction", "DELETE", I .. "/chat/react", required = { "phone", "message_id" } },
  { "messages", "presence", "POST", I .. "/chat/presence", required = { "phone", "state" } },
  { "messages", "mark_read", "POST", I .. "/chat/markread", required = { "id", "chat" }, lists = { "id" } },
  { "messages", "download_image", "POST", I .. "/chat/downloadimage", optional = true },
  { "messages", "download_video", "POST", I .. "/chat/downloadvideo", optional = true },
  { "messages", "download_audio", "POST", I .. "/chat/downloadaudio", optional = true },
  { "messages", "download_document", "POST", I .. "/chat/downloaddocument", optional = true },
  { "messages", "edit", "PATCH", I .. "/chat/messages/{message_id}", required = { "message" } },
  { "messages", "delete", "DELETE", I .. "/chat/messages/{message_id}" },
  { "messages", "send", "POST", I .. "/chat/{path}", args = { "instance_id", "path", "body", "opts" }, raw = "path" },

  -- Webhooks (§4.5) --------------------------------------------------------
  { "webhooks", "get", "GET", I .. "/webhook", args = { "instance_id", "opts" } },
  { "webhooks", "set", "POST", I .. "/webhook", required = { "webhook_url" }, lists = { "events" } },
  { "webhooks", "search_logs", "POST", I .. "/webhook/logs/search", optional = true },
  { "webhooks", "get_log", "GET", I .. "/webhook/logs/{log_id}" },
  { "webhooks", "retry_log", "POST", I .. "/webhook/logs/{log_id}/retry", body = false },

  -- Contacts (§4.6) --------------------------------------------------------
  { "contacts", "list", "GET", I .. "/contact/list", args = { "instance_id", "opts" } },
  { "contacts", "add", "POST", I .. "/contact/add", required = { "phone", "first_name", "full_name" } },

  -- Groups (§4.7) ----------------------------------------------------------
  { "groups", "list", "GET", I .. "/group/list", query = { "page", "page_size" }, optional = true },
  { "groups", "get", "GET", I .. "/group/info", query = { "group_id" } },
  { "groups", "invite_link", "GET", I .. "/group/invitelink", query = { "group_id", "reset" } },
  { "groups", "set_photo", "POST", I .. "/group/photo", lists = GROUP_LISTS },
  { "groups", "set_name", "POST", I .. "/group/name", lists = GROUP_LISTS },
  { "groups", "set_description", "POST", I .. "/group/description", lists = GROUP_LISTS },
  { "groups", "set_settings", "POST", I .. "/group/settings", lists = GROUP_LISTS },
  { "groups", "create", "POST", I .. "/group/create", lists = GROUP_LISTS },
  { "groups", "add_admin", "POST", I .. "/group/add-admin", lists = GROUP_LISTS },
  { "groups", "remove_admin", "POST", I .. "/group/remove-admin", lists = GROUP_LISTS },

  -- Users (§4.8) -----------------------------------------------------------
  { "users", "info", "POST", I .. "/user/info" },
  { "users", "check", "POST", I .. "/user/check" },
  { "users", "avatar", "POST", I .. "/user/avatar" },
  { "users", "contacts", "GET", I .. "/user/contacts", args = { "instance_id", "opts" } },

  -- Queues (§4.9) ----------------------------------------------------------
  { "queues", "list_messages", "GET", I .. "/queue/messages", optional = true },
  { "queues", "purge_messages", "DELETE", I .. "/queue/messages", body = false, optional = true },
  { "queues", "remove_message", "DELETE", I .. "/queue/messages/{message_id}", body = false },
  { "queues", "list_operations", "GET", I .. "/queue/operations", optional = true },
  { "queues", "purge_operations", "DELETE", I .. "/queue/operations", body = false, optional = true },
  { "queues", "remove_operation", "DELETE", I .. "/queue/operations/{message_id}", body = false },

  -- Typebots (§4.10) -------------------------------------------------------
  { "typebots", "list", "GET", I .. "/typebots", args = { "instance_id", "opts" } },
  { "typebots", "create", "POST", I .. "/typebots" },
  { "typebots", "update", "PATCH", I .. "/typebots/{typebot_id}" },
  { "typebots", "delete", "DELETE", I .. "/typebots/{typebot_id}", body = false },
  { "typebots", "list_sessions", "GET", I .. "/typebots/sessions", args = { "instance_id", "opts" } },
  -- With a typebot_id the session starts on that typebot, else on the
  -- instance's trigger rules (two path forms, one method).
  { "typebots", "start_session", "POST", I .. "/typebots/{typebot_id}/sessions/start",
    without = { typebot_id = I .. "/typebots/sessions/start" }, required = { "phone", "message" } },
  { "typebots", "close_session", "POST", I .. "/typebots/sessions/{session}/close", body = false },
  { "typebots", "pause_session", "POST", I .. "/typebots/sessions/{session}/pause", body = false },

  -- Chatwoot (§4.11) -------------------------------------------------------
  { "chatwoot", "get", "GET", I .. "/chatwoot", args = { "instance_id", "opts" } },
  { "chatwoot", "set", "POST", I .. "/chatwoot", lists = { "ignore_jids" } },
  { "chatwoot", "delete", "DELETE", I .. "/chatwoot", args = { "instance_id", "opts" } },
  { "chatwoot", "trigger_import", "POST", I .. "/chatwoot/import/{what}", body = false },

  -- Chats (§4.12) ----------------------------------------------------------
  { "chats", "list", "GET", I .. "/chats", query = { "page", "page_size" }, optional = true },
  { "chats", "get", "GET", I .. "/chats/{phone}" },
  { "chats", "archive", "POST", I .. "/chats/{phone}/archive", body = false },
  { "chats", "unarchive", "POST", I .. "/chats/{phone}/unarchive", body = false },
  { "chats", "mute", "POST", I .. "/chats/{phone}/mute" },
  { "chats", "unmute", "POST", I .. "/chats/{phone}/unmute", body = false },
  { "chats", "pin", "POST", I .. "/chats/{phone}/pin", body = false },
  { "chats", "unpin", "POST", I .. "/chats/{phone}/unpin", body = false },
  { "chats", "read", "POST", I .. "/chats/{phone}/read", body = false },
  { "chats", "unread", "POST", I .. "/chats/{phone}/unread", body = false },
  { "chats", "clear", "POST", I .. "/chats/{phone}/clear" },
  { "chats", "delete", "DELETE", I .. "/chats/{phone}" },
  { "chats", "set_expiration", "PUT", I .. "/chats/{phone}/expiration", required = { "expiration" } },
}
