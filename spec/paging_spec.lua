-- spec/paging_spec.lua: the `each` and `pages` iterators of the resources
-- whose list row pages (endpoints.lua `paging`): instances, groups, chats,
-- webhooks. One request per page, made only when the loop needs it; the end
-- at total_pages, total, an empty or a short page; a failure on the first
-- or a later page raises the vzaps.Error (never a quiet end); a server that
-- answers the same page again raises PAGE_REPEATED instead of looping. Plain
-- generic-for loops and pcall: the same on Lua 5.1-5.4 and LuaJIT.
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")

local HERE = "^spec/paging_spec%.lua:%d+: "

describe("paging iterators", function()
  local emu, client
  emulator.fixture({ max_retries = 0 }, function(e, c)
    emu, client = e, c
  end)
  before_each(function() emu:reset() end)

  -- The list requests on the wire, in order.
  local function lists(path)
    local out = {}
    for _, r in ipairs(emu:api_requests()) do
      if r.path == path then out[#out + 1] = r end
    end
    return out
  end

  local function make_instances(n)
    for i = 1, n do assert(client.instances:create({ name = "Paging " .. i })) end
    emu:clear()
  end

  -- Runs a whole loop over it, collecting every first value; returns them
  -- and, when the loop raised, the raised value.
  local function drain(it)
    local got = {}
    local ok, err = pcall(function()
      for x in it do got[#got + 1] = x end
    end)
    if ok then return got, nil end
    return got, err
  end

  local function ids(items)
    local out, seen = {}, {}
    for _, inst in ipairs(items) do
      assert.is_nil(seen[inst.id], "item twice: " .. tostring(inst.id))
      seen[inst.id] = true
      out[#out + 1] = inst.id
    end
    return out, seen
  end

  describe("instances (page object, content[])", function()
    it("3 pages: every item once, one request per page, each only when the loop needs it", function()
      make_instances(7)
      local it = client.instances:each({ page_size = 3 })
      assert.equals(0, #lists("/instances/list"), "nothing sent before the loop")
      local first, page = it()
      assert.is_string(first.id)
      assert.equals(1, page.page)
      assert.equals(1, #lists("/instances/list"))
      local got = { first }
      for inst in it do got[#got + 1] = inst end
      assert.equals(7, #got)
      local _, seen = ids(got)
      local all = assert(client.instances:list({ page_size = 10 }))
      for _, inst in ipairs(all.content) do assert.is_true(seen[inst.id], inst.id) end
      emu:clear()
      -- after the end: nil again, nothing sent
      assert.is_nil(it())
      assert.equals(0, #lists("/instances/list"))
    end)

    it("sends page 1, 2, 3 with the caller's fields and stops at the last page", function()
      make_instances(7)
      local got = drain(client.instances:each({ page_size = 3, search = "paging" }))
      assert.equals(7, #got)
      local reqs = lists("/instances/list")
      assert.equals(3, #reqs)
      for i, r in ipairs(reqs) do
        assert.equals("POST", r.method)
        assert.equals(i, r.json.page)
        assert.equals(3, r.json.size)
        assert.equals("paging", r.json.filter.query)
      end
    end)

    it("pages: the page answers and their items; break sends no more", function()
      make_instances(7)
      local seen = {}
      for page, items in client.instances:pages({ page_size = 3 }) do
        assert.equals(page.content, items)
        seen[#seen + 1] = { page.page, #items, page.total, page.total_pages }
      end
      assert.same({ { 1, 3, 7, 3 }, { 2, 3, 7, 3 }, { 3, 1, 7, 3 } }, seen)
      emu:clear()
      for page in client.instances:pages({ page_size = 3 }) do -- luacheck: ignore 512
        assert.equals(1, page.page)
        break
      end
      assert.equals(1, #lists("/instances/list"))
    end)

    it("a list that fills its last page ends there; page = n starts at page n", function()
      make_instances(6)
      assert.equals(6, #drain(client.instances:each({ page_size = 3 })))
      assert.equals(2, #lists("/instances/list"), "no request after total_pages")
      emu:clear()
      local got = drain(client.instances:each({ page_size = 3, page = 2 }))
      assert.equals(3, #got)
      local reqs = lists("/instances/list")
      assert.equals(1, #reqs)
      assert.equals(2, reqs[1].json.page)
      -- page = 0 is page 1 (D2)
      emu:clear()
      assert.equals(6, #drain(client.instances:each({ page_size = 4, page = 0 })))
      assert.equals(1, lists("/instances/list")[1].json.page)
    end)

    it("an empty list: no item, no page, one request", function()
      local got, err = drain(client.instances:each())
      assert.is_nil(err)
      assert.same({}, got)
      assert.equals(1, #lists("/instances/list"))
      local n = 0
      for _ in client.instances:pages() do n = n + 1 end
      assert.equals(0, n)
    end)

    it("a failure on page 1 raises the request's vzaps.Error, again on the next step", function()
      make_instances(2)
      emu:script({ method = "POST", path = "/instances/list", status = 500,
                   json = { error = "list is down", code = "BOOM" } })
      local it = client.instances:each()
      local got, err = drain(it)
      assert.same({}, got)
      assert.is_true(vzaps.is_error(err), tostring(err))
      assert.equals("http", err.kind)
      assert.equals(500, err.status)
      assert.equals("BOOM", err.code)
      assert.equals(1, err.page)
      assert.equals("vzaps: list is down (status 500)", tostring(err))
      -- the failed iterator stays failed: the same error, nothing sent
      emu:clear()
      local ok, again = pcall(it)
      assert.is_false(ok)
      assert.equals(err, again)
      assert.equals(0, #lists("/instances/list"))
      -- the same for pages
      emu:script({ method = "POST", path = "/instances/list", status = 500, json = { error = "down" } })
      local _, perr = drain(client.instances:pages())
      assert.equals(500, perr.status)
      assert.equals(1, perr.page)
    end)

    it("a failure on page 3 raises after the items of pages 1 and 2", function()
      make_instances(7)
      emu:script({ method = "POST", path = "/instances/list", times = 2 }) -- the real answers
      emu:script({ method = "POST", path = "/instances/list", status = 503, json = { error = "busy" } })
      local got, err = drain(client.instances:each({ page_size = 3 }))
      assert.equals(6, #got)
      ids(got)
      assert.is_true(vzaps.is_error(err))
      assert.equals(503, err.status)
      assert.equals(3, err.page)
      assert.equals(3, #lists("/instances/list"), "a POST is not retried")
      -- pages: two pages, then the network failure of the third
      emu:script({ method = "POST", path = "/instances/list", times = 2 })
      emu:script({ method = "POST", path = "/instances/list", fault = "close" })
      local pages, perr = drain(client.instances:pages({ page_size = 3 }))
      assert.equals(2, #pages)
      assert.equals("network", perr.kind)
      assert.equals(3, perr.page)
    end)

    it("a server that answers the same page number again raises PAGE_REPEATED", function()
      emu:script({ method = "POST", path = "/instances/list", times = 50, status = 200,
                   json = { page = 1, size = 2, total = 10, total_pages = 5,
                            content = { { id = "VZa" }, { id = "VZb" } } } })
      local got, err = drain(client.instances:each({ page_size = 2 }))
      assert.equals(2, #got)
      assert.is_true(vzaps.is_error(err), tostring(err))
      assert.equals("paging", err.kind)
      assert.equals("PAGE_REPEATED", err.code)
      assert.equals(2, err.page)
      assert.equals("instances.list", err.op)
      assert.matches("asked for page 2, the server answered page 1", err.message, 1, true)
      assert.equals(2, #lists("/instances/list"))
    end)

    it("a server that answers the same items without a page number raises PAGE_REPEATED", function()
      emu:script({ method = "POST", path = "/instances/list", times = 50, status = 200,
                   json = { content = { { id = "VZa", tags = { "x" } }, { id = "VZb" } } } })
      local pages, err = drain(client.instances:pages())
      assert.equals(1, #pages)
      assert.equals("PAGE_REPEATED", err.code)
      assert.equals(2, err.page)
      assert.matches("page 2 has the items of page 1", tostring(err), 1, true)
      assert.equals(2, #lists("/instances/list"))
    end)

    it("an answer without its list raises BAD_PAGE", function()
      emu:script({ method = "POST", path = "/instances/list", status = 200, json = { page = 1, total = 3 } })
      local got, err = drain(client.instances:each())
      assert.same({}, got)
      assert.equals("paging", err.kind)
      assert.equals("BAD_PAGE", err.code)
      assert.equals(1, err.page)
    end)

    it("wrong arguments raise at the caller's line", function()
      local ok, e = pcall(function() client.instances:each({ page = "2" }) end)
      assert.is_false(ok)
      assert.matches(HERE .. "bad argument #1 to 'each' %(field 'page' must be a whole number", e)
      ok, e = pcall(function() client.instances:pages({ page = 1.5 }) end)
      assert.is_false(ok)
      assert.matches(HERE .. "bad argument #1 to 'pages'", e)
      ok, e = pcall(function() client.instances:each("x") end)
      assert.is_false(ok)
      assert.matches(HERE .. "bad argument #1 to 'each' %(table expected, got string%)", e)
      ok, e = pcall(function() client.instances.each({}) end)
      assert.is_false(ok)
      assert.matches(HERE .. "vzaps: instances.each is a method: call it with ':'", e)
      -- fields are the list method's: checked by its mapper at the first step
      local it = client.instances:each({ serch = "x" })
      ok, e = pcall(function()
        for _ in it do end
      end)
      assert.is_false(ok)
      assert.matches(HERE .. "bad argument #1 to 'list' %(unknown field 'serch'; did you mean search%?%)", e)
      assert.equals(0, #lists("/instances/list"))
    end)
  end)

  describe("groups, chats and webhook logs (data[] pages)", function()
    local inst, scoped
    before_each(function()
      inst = emu:new_instance("paging data")
      scoped = client:instance(inst.id, inst.token)
    end)

    it("groups: 3 pages over the query string, on an instance handle", function()
      for i = 1, 5 do assert(scoped.groups:create({ group_name = "G" .. i, participants = { "551190000000" .. i } })) end
      emu:clear()
      local names = {}
      for g, page in scoped.groups:each({ page_size = 2 }) do
        names[#names + 1] = g.name
        assert.equals(5, page.total)
      end
      assert.same({ "G1", "G2", "G3", "G4", "G5" }, names)
      local reqs = lists("/instances/" .. inst.id .. "/group/list")
      assert.equals(3, #reqs)
      for i, r in ipairs(reqs) do
        assert.equals("GET", r.method)
        assert.equals("page=" .. i .. "&page_size=2", r.query)
      end
      -- the client's own resource with the ids in the table
      emu:clear()
      local n = 0
      for _ in client.groups:each({ instance_id = inst.id, instance_token = inst.token }) do n = n + 1 end
      assert.equals(5, n)
      assert.equals(1, #lists("/instances/" .. inst.id .. "/group/list"), "one short page of 20")
    end)

    it("groups: a failure on page 1 and on page 3", function()
      for i = 1, 5 do assert(scoped.groups:create({ group_name = "G" .. i })) end
      local path = "/instances/" .. inst.id .. "/group/list"
      emu:script({ method = "GET", path = path, status = 500, json = { error = "no groups today" } })
      local got, err = drain(scoped.groups:each({ page_size = 2 }))
      assert.same({}, got)
      assert.equals(500, err.status)
      assert.equals(1, err.page)
      emu:script({ method = "GET", path = path, times = 2 })
      emu:script({ method = "GET", path = path, status = 404, json = { error = "instance not found", code = "NOT_FOUND" } })
      got, err = drain(scoped.groups:each({ page_size = 2 }))
      assert.equals(4, #got)
      assert.equals("NOT_FOUND", err.code)
      assert.equals(3, err.page)
    end)

    it("chats: pages of data[], sorted as the server sorts them", function()
      for i = 1, 3 do
        assert(scoped.messages:send_text({ phone = "551198888000" .. i, message = "hi " .. i }))
      end
      emu:clear()
      local sizes, chats = {}, {}
      for _, items in scoped.chats:pages({ page_size = 2 }) do
        sizes[#sizes + 1] = #items
        for _, c in ipairs(items) do chats[#chats + 1] = c.id end
      end
      assert.same({ 2, 1 }, sizes)
      local all = assert(scoped.chats:list({ page_size = 10 }))
      local want = {}
      for _, c in ipairs(all.data) do want[#want + 1] = c.id end
      assert.same(want, chats)
    end)

    it("webhook logs: total reached without total_pages; the filters in the body", function()
      assert(scoped.webhooks:set({ webhook_url = "https://example.com/hook" }))
      for i = 1, 5 do assert(scoped.messages:send_text({ phone = "5511977770001", message = "m" .. i })) end
      local total = assert(scoped.webhooks:search_logs({ event = "Message" })).total
      assert.equals(5, total)
      emu:clear()
      local n = 0
      for log in scoped.webhooks:each({ event = "Message", page_size = 2 }) do
        assert.equals("Message", log.event)
        n = n + 1
      end
      assert.equals(5, n)
      local reqs = lists("/instances/" .. inst.id .. "/webhook/logs/search")
      assert.equals(3, #reqs)
      for i, r in ipairs(reqs) do
        assert.same({ event = "Message", page = i, page_size = 2 }, r.json)
      end
    end)

    it("ends on a short page, or on an empty one when the answer tells no size or total", function()
      local path = "/instances/" .. inst.id .. "/group/list"
      emu:script({ method = "GET", path = path, status = 200, json = { data = { 1, 2, 3 } } })
      emu:script({ method = "GET", path = path, status = 200, json = { data = { 4 } } })
      assert.same({ 1, 2, 3, 4 }, (drain(scoped.groups:each({ page_size = 3 }))))
      assert.equals(2, #lists(path))
      emu:clear()
      emu:script({ method = "GET", path = path, status = 200, json = { data = { 1, 2 } } })
      emu:script({ method = "GET", path = path, status = 200, json = { data = { 3 } } })
      emu:script({ method = "GET", path = path, status = 200, json = { data = {} } })
      assert.same({ 1, 2, 3 }, (drain(scoped.groups:each())))
      assert.equals(3, #lists(path))
    end)

    it("a repeated data page raises, for groups and chats alike", function()
      for _, p in ipairs({ "/group/list", "/chats" }) do
        local path = "/instances/" .. inst.id .. p
        emu:script({ method = "GET", path = path, times = 50, status = 200,
                     json = { success = true, data = { { id = "x" }, { id = "y" } }, page = 1, page_size = 2,
                              total = 9, total_pages = 5 } })
      end
      local got, err = drain(scoped.groups:each({ page_size = 2 }))
      assert.equals(2, #got)
      assert.equals("PAGE_REPEATED", err.code)
      assert.equals("groups.list", err.op)
      local pages, cerr = drain(scoped.chats:pages({ page_size = 2 }))
      assert.equals(1, #pages)
      assert.equals("PAGE_REPEATED", cerr.code)
      assert.equals(2, cerr.page)
    end)
  end)
end)
