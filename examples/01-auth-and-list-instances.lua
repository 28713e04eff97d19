-- 01: authenticate and list the account's instances, page by page.
--   lua5.4 examples/01-auth-and-list-instances.lua
local config = require("config")

local client <close> = config.client()

-- The token is fetched on first use and cached; asking for it is optional.
local token = assert(client.auth:get_access_token())
print("got an access token of " .. #token .. " characters")

-- Make sure there is something to list.
for _, name in ipairs({ "Support", "Sales", "Support (night shift)" }) do
  assert(client.instances:create({ name = name }))
end

local page = assert(client.instances:list({ page = 1, page_size = 2 }))
print(("page %d of %d, %d instances in all"):format(page.page, page.total_pages, page.total))
for _, inst in ipairs(page.content) do print("  " .. inst.id .. "  " .. inst.name .. "  " .. inst.status) end

local found = assert(client.instances:list({ search = "support" }))
print(("%d instances match 'support'"):format(found.total))

-- A failed call returns nil, message, err: nothing is raised.
local none, msg, err = client.instances:get("VZ-does-not-exist")
assert(none == nil and err.status == 404)
print("looking up a missing instance: " .. msg .. " [kind=" .. err.kind .. ", code=" .. err.code .. "]")
