-- 13: walk a whole list with the paging iterators, each (the items) and
-- pages (the page answers); a failed page raises, it never ends the loop
-- quietly.
--   lua5.4 examples/13-page-through-instances.lua
local config = require("config")

local client <close> = config.client()

-- Seven instances to page through, three a page.
for i = 1, 7 do assert(client.instances:create({ name = "Paging demo " .. i })) end

-- Every item, page after page: a page is requested only when the loop
-- needs its first item, and the loop stops after the last page.
local n = 0
for inst, page in client.instances:each({ search = "paging demo", page_size = 3, sort = "name" }) do
  n = n + 1
  print(("  %-14s  from page %d of %d"):format(inst.name, page.page, page.total_pages))
end
print(n .. " instances named 'Paging demo'")

-- Page by page: the page answer as decoded, and its items.
for page, items in client.instances:pages({ search = "paging demo", page_size = 3, sort = "name" }) do
  local names = {}
  for i, inst in ipairs(items) do names[i] = inst.name end
  print(("page %d: %s"):format(page.page, table.concat(names, ", ")))
end

-- Stopping early is a plain `break`: no further page is requested.
for inst in client.instances:each({ search = "paging demo", page_size = 3 }) do -- luacheck: ignore 512
  print("the first one: " .. inst.name)
  break
end

-- A failure raises the page's vzaps.Error (err.page is the page it failed
-- on), so a loop cannot mistake it for the end of the list. Here the
-- instance token is wrong, so the first page of groups already fails.
local inst = assert(client.instances:create({ name = "Paging demo, wrong token" }))
local ok, err = pcall(function()
  for group in client:instance(inst.id, "not-the-token").groups:each() do print(group.name) end
end)
assert(not ok and require("vzaps").is_error(err))
print(("the loop raised: %s [kind=%s, page=%d]"):format(tostring(err), err.kind, err.page))
