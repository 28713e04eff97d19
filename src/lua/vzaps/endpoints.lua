-- endpoints.lua: every REST operation of the VZaps API as data
-- (the contract §4). resources.lua turns each row into a method.
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
--   body_args = {...}     body fields taken from arguments: {id = "instance_id"}
--   prepare = fn(body)    returns the body to send (D2 for instances.list)
--   fields = {...}        the known body fields: every field the contract's
--                         §4 lists for the row that goes in the JSON body or
--                         is read by its prepare (instances.list's search,
--                         page_size). A request-table key that is none of
--                         these, nor a path field, a query field,
--                         instance_id or instance_token, raises (naming the
--                         nearest known field, or all of them). On a
--                         positional row: the keys of its body table. No
--                         `fields`: the body is pass-through (the caller's
--                         table is the body) or there is none (body = false,
--                         GET), which already rejects unexpected fields
--   ints = {f = min, ...} body or query fields whose value, when given, must
--                         be a whole number (an integer, or a float with an
--                         integral value) not below min; anything else
--                         raises before sending. Paging: page = 0 (0 or
--                         unset means page 1, D2), page_size and size = 1
--   paging = {...}        the row answers one page of a longer list: its
--                         resource gets `each` (the items) and `pages` (the
--                         page answers) iterators, one generic pair in
--                         resources.lua that calls this row's method once
--                         per page. Keys, each naming a field:
--                           page         the page number, sent in the
--                                        request (1, 2, ...) and, when the
--                                        answer has it, echoed there
--                           size         the page size, read from the
--                                        answer, else from the request
--                           items        the answer's list of items
--                           total        the answer's count of all items
--                           total_pages  the answer's count of pages (opt.)
--                         At most one paging row per resource; table-form
--                         rows only (the iterator sets `page` in a copy of
--                         the caller's request table).
--   paced = true         the call makes WhatsApp send something to a chat
--                         (a message, a reaction, a vote, an edit, a
--                         revoke): a client with the `pace` option takes
--                         the instance's turn before it (pace.lua). Reads,
--                         lists, downloads, presence and read marks are not
--                         paced, nor client:request
--   returns = SHAPE       the answer's known fields, where the contract's §4
--                         or the seed documents them (the shapes below); read
--                         only by the docs and editor definitions
--                         (scripts/gen-api.lua, scripts/gen-defs.lua). A
--                         string is the Lua value itself ("true": an empty
--                         2xx answer). No `returns`: the platform documents
--                         no answer shape, and the decoded JSON is returned
--                         as it comes.
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
-- Known body fields shared by several rows (contract §4.2, §4.7, §4.10, §4.11).
local INSTANCE_FIELDS = { "name", "webhook", "events_subscribe" }
-- One Go struct for all seven group POSTs; which subset each endpoint reads
-- is undocumented, so each accepts the whole struct.
local GROUP_FIELDS = {
  "group_id", "image", "name", "description", "admin_only_message", "admin_only_settings", "delay_message",
  "group_name", "group_description", "group_image", "participants",
}
local TYPEBOT_FIELDS = {
  "enabled", "description", "typebot_url", "public_id", "trigger_type", "trigger_operator", "trigger_value",
  "priority", "expire_in_minutes", "keyword_finish", "default_delay_ms", "unknown_message", "listen_from_me",
  "stop_bot_from_me", "keep_open", "debounce_ms", "ignore_groups", "transcribe_audio",
}
local CHATWOOT_FIELDS = {
  "enabled", "url", "account_id", "token", "name_inbox", "sign_msg", "sign_delimiter", "number",
  "reopen_conversation", "conversation_pending", "import_contacts", "import_messages", "days_limit_import_messages",
  "auto_create", "organization", "logo", "ignore_jids", "ignore_groups",
}
-- Groups.List, Chats.List query paging (§3.3): page 0 stays allowed (Go
-- sends page=0 for an unset page, D21); a page holds at least one item.
local PAGING = { page = 0, page_size = 1 }
-- The two page shapes of the answers (§4.2; groups and chats as the
-- emulator answers them, api.paged): a page object with `content`, and
-- `{success, data = [...], page, page_size, total, total_pages}`.
local PAGE_OBJECT = { page = "page", size = "size", items = "content", total = "total", total_pages = "total_pages" }
local DATA_PAGE = { page = "page", size = "page_size", items = "data", total = "total", total_pages = "total_pages" }
-- The documented answer shapes (contract §4.2, §4.3; the seed), for
-- `returns`: { name =, doc =, {field, type[, doc]}, ... }. A type is a
-- LuaCATS type ("string", "integer", "table<string, string>", '"ok"'),
-- another shape, or {shape}, a list of them. An answer may carry more
-- fields than these; they pass through.
local function shape(name, doc, fields, base)
  local s = { name = name, doc = doc }
  for _, f in ipairs(base or {}) do s[#s + 1] = f end
  for _, f in ipairs(fields) do s[#s + 1] = f end
  return s
end
local INSTANCE = shape("Instance", "an instance, in the public summary shape (one item of instances.list)", {
  { "id", "string" }, { "name", "string" }, { "token", "string", "the instance token" }, { "url", "string" },
  { "webhook", "string" }, { "status", "string" },
})
local CREATED_INSTANCE = shape("CreatedInstance", "the instance instances.create made", {
  { "events_subscribe", "string[]" }, { "created_at", "string" }, { "updated_at", "string" },
}, INSTANCE)
local INSTANCE_PAGE = shape("InstancePage", "one page of instances", {
  { "page", "integer" }, { "size", "integer" }, { "total", "integer" }, { "total_pages", "integer" },
  { "content", { INSTANCE } }, { "summary", "table" },
})
local INSTANCE_ACTION = shape("InstanceAction", "what an instance action did", {
  { "instance_id", "string" }, { "status", "string" }, { "details", "any" },
})
local HOSTED_SESSION = shape("BillingSession", "a billing hosted session", {
  { "url", "string", "the page to send the customer to" }, { "session_id", "string" },
  { "mode", '"direct"|"checkout"' }, { "subscription_id", "string" },
})
local STATUS_OK = shape("StatusOk", "a plain acknowledgement", { { "status", '"ok"' } })
local CANCELLATION = shape("Cancellation", "the cancellation, done or scheduled for the end of the period", {
  { "message", "string" },
})
local BUSINESS_PROFILE = shape("BusinessProfile", "the WhatsApp Business profile of the phone", {
  { "business_hours_timezone", "string" }, { "categories", "{id: string, name: string}[]" },
  { "profile_options", "table<string, string>" }, { "address", "string" }, { "email", "string" },
})
local SESSION = shape("Session", "the session; only `connected` when it is not", {
  { "connected", "boolean" }, { "phone", "string" }, { "whatsapp_jid", "string" }, { "push_name", "string" },
  { "business_name", "string" }, { "business_profile", BUSINESS_PROFILE }, { "profile_picture_id", "string" },
  { "profile_picture_url", "string" }, { "profile_url", "string" }, { "verified_name", "string", "optional" },
  { "about", "string", "optional" }, { "website", "string", "optional" },
})
local SESSION_STATUS = shape("SessionStatus", "the session status (all the official SDKs type it)", {
  { "code", "integer" }, { "success", "boolean" }, { "data", SESSION },
})
local I = "/instances/{instance_id}"

return {
  -- Instances and billing (§4.2) ------------------------------------------
  { "instances", "create", "PUT", "/instances/create", required = { "name" }, lists = { "events_subscribe" },
    fields = INSTANCE_FIELDS,
    doc = "Creates an instance; returns it with its id, token, url and status.",
    returns = CREATED_INSTANCE },
  { "instances", "list", "POST", "/instances/list", optional = true, prepare = instances_list,
    fields = { "search", "page_size", "page", "size", "filter", "sort", "sort_desc" },
    ints = { page = 0, page_size = 1, size = 1 }, paging = PAGE_OBJECT,
    doc = "Lists the account's instances a page at a time (default page 1, 20 a page); search matches name or id.",
    returns = INSTANCE_PAGE },
  { "instances", "get", "POST", "/instances/get", args = { "instance_id" },
    body_args = { id = "instance_id" },
    doc = "Reads one instance by id (no instance token needed).",
    returns = INSTANCE },
  { "instances", "update", "PATCH", I, args = { "instance_id", "body", "opts" }, lists = { "events_subscribe" },
    doc = "Changes an instance (name, webhook, events_subscribe, ...); returns the updated instance.",
    returns = INSTANCE },
  { "instances", "restart", "POST", I .. "/restart", args = { "instance_id", "opts" },
    doc = "Restarts the instance's WhatsApp connection; returns instance_id, status, details.",
    returns = INSTANCE_ACTION },
  { "instances", "delete", "DELETE", I, args = { "instance_id", "opts" },
    doc = "Deletes the instance; returns true.",
    returns = "true" },
  { "instances", "provision", "PUT", "/instances/provision", required = { "name" }, lists = { "events_subscribe" },
    fields = INSTANCE_FIELDS,
    doc = "Provisions an instance from the same fields as create." },
  { "instances", "search", "POST", "/instances/search", optional = true,
    doc = "Searches instances; the filters are passed through." },
  { "instances", "subscribe", "POST", I .. "/subscribe", args = { "instance_id", "body", "opts" },
    doc = "Starts the billing subscription; returns the hosted url, session_id, mode and subscription_id.",
    returns = HOSTED_SESSION },
  { "instances", "resume_subscription", "POST", I .. "/resume-subscription", args = { "instance_id", "opts" },
    doc = "Resumes the instance's subscription; returns {status = \"ok\"}.",
    returns = STATUS_OK },
  { "instances", "cancel", "PUT", I .. "/cancel", args = { "instance_id", "opts" },
    doc = "Cancels the instance's subscription, at once or at the end of the period; returns a message.",
    returns = CANCELLATION },

  -- Sessions (§4.3) --------------------------------------------------------
  { "sessions", "status", "GET", I .. "/session/status", args = { "instance_id", "opts" },
    doc = "Whether the session is connected (data.connected) and, when it is, the phone's profile.",
    returns = SESSION_STATUS },
  { "sessions", "qr", "GET", I .. "/session/qr", args = { "instance_id", "opts" },
    doc = "A QR code for the phone to scan (while disconnected)." },
  { "sessions", "pair_code", "GET", I .. "/session/paircode/{phone}", args = { "instance_id", "phone", "opts" },
    doc = "A code to type on the phone instead of scanning the QR code (while disconnected)." },
  { "sessions", "disconnect", "POST", I .. "/session/disconnect", args = { "instance_id", "opts" },
    doc = "Logs the WhatsApp session out." },

  -- Messages (§4.4) --------------------------------------------------------
  { "messages", "send_text", "POST", I .. "/chat/send/text", paced = true, required = { "phone", "message" },
    fields = { "phone", "message" },
    doc = "Sends a text message." },
  { "messages", "send_image", "POST", I .. "/chat/send/image", paced = true, required = { "phone", "image" },
    fields = { "phone", "image", "caption" },
    doc = "Sends an image (URL or base64) with an optional caption." },
  { "messages", "send_audio", "POST", I .. "/chat/send/audio", paced = true, required = { "phone", "audio" },
    fields = { "phone", "audio", "ptt" },
    doc = "Sends audio; ptt = true sends it as a voice note." },
  { "messages", "send_document", "POST", I .. "/chat/send/document", paced = true, required = { "phone", "document" },
    fields = { "phone", "document", "file_name", "caption" },
    doc = "Sends a document with an optional file_name and caption." },
  { "messages", "send_video", "POST", I .. "/chat/send/video", paced = true, required = { "phone", "video" },
    fields = { "phone", "video", "caption" },
    doc = "Sends a video with an optional caption." },
  { "messages", "send_sticker", "POST", I .. "/chat/send/sticker", paced = true, required = { "phone", "sticker" },
    fields = { "phone", "sticker" },
    doc = "Sends a sticker." },
  { "messages", "send_gif", "POST", I .. "/chat/send/gif", paced = true, required = { "phone", "gif" },
    fields = { "phone", "gif", "caption" },
    doc = "Sends a GIF with an optional caption." },
  { "messages", "send_location", "POST", I .. "/chat/send/location", paced = true,
    required = { "phone", "latitude", "longitude" },
    fields = { "phone", "latitude", "longitude", "name", "address" },
    doc = "Sends a location pin (latitude, longitude, optional name and address)." },
  { "messages", "send_contact", "POST", I .. "/chat/send/contact", paced = true, required = { "phone" },
    fields = { "phone", "contact_name", "contact_phone" },
    doc = "Sends a contact card." },
  { "messages", "send_buttons", "POST", I .. "/chat/send/buttons", paced = true,
    required = { "phone", "message", "buttons" },
    lists = { "buttons" },
    fields = { "phone", "message", "buttons", "footer" },
    doc = "Sends a message with reply buttons, each {id, text}." },
  { "messages", "send_list", "POST", I .. "/chat/send/list", paced = true,
    required = { "phone", "title", "description", "button_text", "sections" }, lists = { "sections", "rows" },
    fields = { "phone", "title", "description", "button_text", "sections", "footer" },
    doc = "Sends a list menu: sections, each {title, rows}, a row {id, title, description}." },
  { "messages", "send_link", "POST", I .. "/chat/send/link", paced = true,
    required = { "phone", "message", "link_url", "title", "link_description" },
    fields = { "phone", "message", "link_url", "title", "link_description", "jpeg_thumbnail" },
    doc = "Sends a message with a link preview." },
  { "messages", "send_poll", "POST", I .. "/chat/send/poll", paced = true, required = { "phone", "name", "options" },
    lists = { "options" },
    fields = { "phone", "name", "options", "selectable_options_count", "hide_participant_names", "end_time",
      "allow_add_option" },
    doc = "Sends a poll with its options." },
  { "messages", "poll_vote", "POST", I .. "/chat/poll/vote", paced = true, required = { "phone", "message_id" },
    lists = { "selected_options" },
    fields = { "phone", "message_id", "vote", "selected_options", "poll_sender", "from_me" },
    doc = "Votes on a poll message (selected_options, or vote)." },
  { "messages", "react", "POST", I .. "/chat/react", paced = true, required = { "phone", "message_id", "reaction" },
    fields = { "phone", "message_id", "reaction" },
    doc = "Reacts to a message with an emoji." },
  { "messages", "remove_reaction", "DELETE", I .. "/chat/react", paced = true, required = { "phone", "message_id" },
    fields = { "phone", "message_id" },
    doc = "Removes a reaction from a message (DELETE with a JSON body)." },
  { "messages", "presence", "POST", I .. "/chat/presence", required = { "phone", "state" },
    fields = { "phone", "state", "media" },
    doc = "Shows a presence in a chat: available, unavailable, composing, recording or paused." },
  { "messages", "mark_read", "POST", I .. "/chat/markread", required = { "id", "chat" }, lists = { "id" },
    fields = { "id", "chat", "sender" },
    doc = "Marks messages (their ids in id) of a chat as read." },
  { "messages", "download_image", "POST", I .. "/chat/downloadimage", optional = true,
    doc = "Downloads the image of a received message; its media fields are passed through." },
  { "messages", "download_video", "POST", I .. "/chat/downloadvideo", optional = true,
    doc = "Downloads the video of a received message; its media fields are passed through." },
  { "messages", "download_audio", "POST", I .. "/chat/downloadaudio", optional = true,
    doc = "Downloads the audio of a received message; its media fields are passed through." },
  { "messages", "download_document", "POST", I .. "/chat/downloaddocument", optional = true,
    doc = "Downloads the document of a received message; its media fields are passed through." },
  { "messages", "edit", "PATCH", I .. "/chat/messages/{message_id}", paced = true, required = { "message" },
    fields = { "message" },
    doc = "Edits the text of a sent message." },
  { "messages", "delete", "DELETE", I .. "/chat/messages/{message_id}", paced = true,
    doc = "Deletes a sent message; other fields are passed through as the body." },
  { "messages", "send", "POST", I .. "/chat/{path}", paced = true,
    args = { "instance_id", "path", "body", "opts" }, raw = "path",
    doc = "Sends to any /chat/ path (e.g. \"send/text\"), unescaped (no `.`/`..` segment, `?` or `#`), "
      .. "with the body as given; always POST." },

  -- Webhooks (§4.5) --------------------------------------------------------
  { "webhooks", "get", "GET", I .. "/webhook", args = { "instance_id", "opts" },
    doc = "Reads the webhook configuration (webhook_url, events, enabled)." },
  { "webhooks", "set", "POST", I .. "/webhook", required = { "webhook_url" }, lists = { "events" },
    fields = { "webhook_url", "events" },
    doc = "Sets the webhook URL and the events delivered to it." },
  -- Pages like the emulator (page, size or page_size in the body; the
  -- answer {success, data, page, page_size, total}); the contract only
  -- passes the filters through.
  { "webhooks", "search_logs", "POST", I .. "/webhook/logs/search", optional = true,
    paging = { page = "page", size = "page_size", items = "data", total = "total" },
    doc = "Searches the webhook delivery logs a page at a time; the filters are passed through." },
  { "webhooks", "get_log", "GET", I .. "/webhook/logs/{log_id}", doc = "Reads one webhook delivery log." },
  { "webhooks", "retry_log", "POST", I .. "/webhook/logs/{log_id}/retry", body = false,
    doc = "Delivers a logged webhook event again." },

  -- Contacts (§4.6) --------------------------------------------------------
  { "contacts", "list", "GET", I .. "/contact/list", args = { "instance_id", "opts" },
    doc = "Lists the instance's contacts." },
  { "contacts", "add", "POST", I .. "/contact/add", required = { "phone", "first_name", "full_name" },
    fields = { "phone", "first_name", "full_name" },
    doc = "Adds (or updates) a contact." },

  -- Groups (§4.7) ----------------------------------------------------------
  { "groups", "list", "GET", I .. "/group/list", query = { "page", "page_size" }, optional = true,
    ints = PAGING, paging = DATA_PAGE,
    doc = "Lists the instance's groups a page at a time." },
  { "groups", "get", "GET", I .. "/group/info", query = { "group_id" },
    doc = "Reads a group's metadata and participants." },
  { "groups", "invite_link", "GET", I .. "/group/invitelink", query = { "group_id", "reset" },
    doc = "Reads a group's invite link; reset = true replaces it with a new one." },
  { "groups", "set_photo", "POST", I .. "/group/photo", lists = GROUP_LISTS,
    fields = GROUP_FIELDS,
    doc = "Changes a group's photo (group_id, image)." },
  { "groups", "set_name", "POST", I .. "/group/name", lists = GROUP_LISTS,
    fields = GROUP_FIELDS,
    doc = "Renames a group (group_id, name)." },
  { "groups", "set_description", "POST", I .. "/group/description", lists = GROUP_LISTS,
    fields = GROUP_FIELDS,
    doc = "Changes a group's description (group_id, description)." },
  { "groups", "set_settings", "POST", I .. "/group/settings", lists = GROUP_LISTS,
    fields = GROUP_FIELDS,
    doc = "Changes a group's settings (group_id, admin_only_message, admin_only_settings, delay_message)." },
  { "groups", "create", "POST", I .. "/group/create", lists = GROUP_LISTS,
    fields = GROUP_FIELDS,
    doc = "Creates a group (group_name, group_description, group_image, participants)." },
  { "groups", "add_admin", "POST", I .. "/group/add-admin", lists = GROUP_LISTS,
    fields = GROUP_FIELDS,
    doc = "Makes participants admins of a group (group_id, participants)." },
  { "groups", "remove_admin", "POST", I .. "/group/remove-admin", lists = GROUP_LISTS,
    fields = GROUP_FIELDS,
    doc = "Takes admin rights from participants of a group (group_id, participants)." },

  -- Users (§4.8) -----------------------------------------------------------
  { "users", "info", "POST", I .. "/user/info",
    fields = { "phone" },
    doc = "Profile information of a phone number (or a list of them)." },
  { "users", "check", "POST", I .. "/user/check",
    fields = { "phone" },
    doc = "Whether phone numbers are on WhatsApp." },
  { "users", "avatar", "POST", I .. "/user/avatar",
    fields = { "phone" },
    doc = "The profile picture of a phone number." },
  { "users", "contacts", "GET", I .. "/user/contacts", args = { "instance_id", "opts" },
    doc = "The phone's WhatsApp contacts." },

  -- Queues (§4.9) ----------------------------------------------------------
  { "queues", "list_messages", "GET", I .. "/queue/messages", optional = true,
    doc = "Outgoing messages waiting to be sent." },
  { "queues", "purge_messages", "DELETE", I .. "/queue/messages", body = false, optional = true,
    doc = "Drops every queued outgoing message." },
  { "queues", "remove_message", "DELETE", I .. "/queue/messages/{message_id}", body = false,
    doc = "Drops one queued outgoing message." },
  { "queues", "list_operations", "GET", I .. "/queue/operations", optional = true,
    doc = "Chat and group actions waiting to run." },
  { "queues", "purge_operations", "DELETE", I .. "/queue/operations", body = false, optional = true,
    doc = "Drops every queued operation." },
  { "queues", "remove_operation", "DELETE", I .. "/queue/operations/{message_id}", body = false,
    doc = "Drops one queued operation (its id goes in message_id)." },

  -- Typebots (§4.10) -------------------------------------------------------
  { "typebots", "list", "GET", I .. "/typebots", args = { "instance_id", "opts" },
    doc = "Lists the instance's Typebot integrations." },
  { "typebots", "create", "POST", I .. "/typebots",
    fields = TYPEBOT_FIELDS,
    doc = "Adds a Typebot integration (enabled, typebot_url, public_id, trigger_*, priority, ...)." },
  { "typebots", "update", "PATCH", I .. "/typebots/{typebot_id}",
    fields = TYPEBOT_FIELDS,
    doc = "Changes a Typebot integration." },
  { "typebots", "delete", "DELETE", I .. "/typebots/{typebot_id}", body = false,
    doc = "Removes a Typebot integration." },
  { "typebots", "list_sessions", "GET", I .. "/typebots/sessions", args = { "instance_id", "opts" },
    doc = "Lists the Typebot conversations." },
  -- With a typebot_id the session starts on that typebot, else on the
  -- instance's trigger rules (two path forms, one method).
  { "typebots", "start_session", "POST", I .. "/typebots/{typebot_id}/sessions/start",
    without = { typebot_id = I .. "/typebots/sessions/start" }, required = { "phone", "message" },
    fields = { "public_id", "phone", "push_name", "message" },
    doc = "Starts a Typebot conversation: on typebot_id when given, else by the trigger rules." },
  { "typebots", "close_session", "POST", I .. "/typebots/sessions/{session}/close", body = false,
    doc = "Ends a Typebot conversation." },
  { "typebots", "pause_session", "POST", I .. "/typebots/sessions/{session}/pause", body = false,
    doc = "Pauses a Typebot conversation." },

  -- Chatwoot (§4.11) -------------------------------------------------------
  { "chatwoot", "get", "GET", I .. "/chatwoot", args = { "instance_id", "opts" },
    doc = "Reads the Chatwoot integration." },
  { "chatwoot", "set", "POST", I .. "/chatwoot", lists = { "ignore_jids" },
    fields = CHATWOOT_FIELDS,
    doc = "Configures the Chatwoot integration (enabled, url, account_id, token, name_inbox, ...)." },
  { "chatwoot", "delete", "DELETE", I .. "/chatwoot", args = { "instance_id", "opts" },
    doc = "Removes the Chatwoot integration." },
  { "chatwoot", "trigger_import", "POST", I .. "/chatwoot/import/{what}", body = false,
    doc = "Starts importing what (e.g. \"contacts\", \"messages\") into Chatwoot." },

  -- Chats (§4.12) ----------------------------------------------------------
  { "chats", "list", "GET", I .. "/chats", query = { "page", "page_size" }, optional = true,
    ints = PAGING, paging = DATA_PAGE,
    doc = "Lists the chats a page at a time." },
  { "chats", "get", "GET", I .. "/chats/{phone}", doc = "Reads one chat (a phone number or a JID)." },
  { "chats", "archive", "POST", I .. "/chats/{phone}/archive", body = false, doc = "Archives a chat." },
  { "chats", "unarchive", "POST", I .. "/chats/{phone}/unarchive", body = false, doc = "Unarchives a chat." },
  { "chats", "mute", "POST", I .. "/chats/{phone}/mute",
    fields = { "duration_seconds" },
    doc = "Mutes a chat, for duration_seconds when given." },
  { "chats", "unmute", "POST", I .. "/chats/{phone}/unmute", body = false, doc = "Unmutes a chat." },
  { "chats", "pin", "POST", I .. "/chats/{phone}/pin", body = false, doc = "Pins a chat." },
  { "chats", "unpin", "POST", I .. "/chats/{phone}/unpin", body = false, doc = "Unpins a chat." },
  { "chats", "read", "POST", I .. "/chats/{phone}/read", body = false, doc = "Marks a chat as read." },
  { "chats", "unread", "POST", I .. "/chats/{phone}/unread", body = false, doc = "Marks a chat as unread." },
  { "chats", "clear", "POST", I .. "/chats/{phone}/clear",
    fields = { "delete_media" },
    doc = "Clears a chat's messages (delete_media to drop their media too)." },
  { "chats", "delete", "DELETE", I .. "/chats/{phone}",
    fields = { "delete_media" },
    doc = "Deletes a chat (delete_media to drop its media too)." },
  { "chats", "set_expiration", "PUT", I .. "/chats/{phone}/expiration", required = { "expiration" },
    fields = { "expiration" },
    doc = "Sets a chat's disappearing-messages timer (expiration, e.g. \"86400\"; \"0\" turns it off)." },
}
