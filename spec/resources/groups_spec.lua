-- spec/resources/groups_spec.lua: client.groups (contract §4.7, §3.3, D19,
-- D21, D22): query strings of the GET routes (page/page_size omitted when
-- unset, sorted keys, reset=true/false as given), the mutation bodies, and
-- groups created being read back.
local wire = require("spec.support.wire")

describe("groups", function()
  local ctx, c, gid
  setup(function()
    ctx = wire.start("groups")
    c = ctx.client
    local g = assert(c.groups:create(ctx:req({ group_name = "Team", participants = { "5511911112222" } })))
    gid = g.data.group_id
  end)
  teardown(function() ctx:stop() end)
  before_each(function() ctx:clear() end)

  it("groups.create", function()
    local body = { group_name = "Support", group_description = "Help desk", group_image = "https://cdn.example/g.jpg",
                   participants = { "+5511933334444", "5511955556666" } }
    local res = assert(c.groups:create(ctx:req(body)))
    ctx:wire({ method = "POST", path = "~/group/create", body = body })
    local g = res.data
    assert.matches("^1203630%d+@g%.us$", g.group_id)
    assert.equals("Support", g.name)
    assert.equals("Help desk", g.description)
    assert.equals(2, g.participants_count)
    -- read back
    local info = assert(c.groups:get(ctx:req({ group_id = g.group_id })))
    assert.equals("Support", info.data.name)
    -- an empty participant list is []
    assert(c.groups:create(ctx:req({ group_name = "Alone", participants = {} })))
    ctx:clear()
    assert(c.groups:create(ctx:req({ group_name = "Alone", participants = {} })))
    ctx:wire({ method = "POST", path = "~/group/create", body = { group_name = "Alone", participants = {} },
               raw = { '"participants":[]' } })
    -- no name: the server's 400
    local err = wire.failure(400, c.groups:create(ctx:req({ participants = { "5511" } })))
    assert.equals("group_name is required", err.message)
  end)

  it("groups.list", function()
    local res = assert(c.groups:list(ctx:req()))
    ctx:wire({ method = "GET", path = "~/group/list", query = "" })
    assert.equals(1, res.page)
    assert.is_true(res.total >= 1)
    local ids = {}
    for _, g in ipairs(res.data) do ids[g.group_id] = true end
    assert.is_true(ids[gid])
    res = assert(c.groups:list(ctx:req({ page_size = 1, page = 2 })))
    ctx:wire({ method = "GET", path = "~/group/list", query = "page=2&page_size=1" })
    assert.equals(2, res.page)
    assert.equals(1, res.page_size)
    assert(c.groups:list(ctx:req({ page = 1 })))
    ctx:wire({ method = "GET", path = "~/group/list", query = "page=1" })
    -- a page of no groups is not a page the contract defines: raised
    assert.has_error(function() c.groups:list(ctx:req({ page_size = 0 })) end)
    -- an integral float prints without fraction (§3.3)
    assert(c.groups:list(ctx:req({ page = 2.0, page_size = 10 })))
    ctx:wire({ method = "GET", path = "~/group/list", query = "page=2&page_size=10" })
    -- the scoped form takes no table at all
    assert(ctx.client:instance(ctx.id, ctx.tok).groups:list())
    ctx:wire({ method = "GET", path = "~/group/list", query = "" })
    ctx:arg_error(function() c.groups:list(ctx:req({ page = {} })) end, 1, "list", "'page'")
    ctx:arg_error(function() c.groups:list(ctx:req({ name = "x" })) end, 1, "list", "unexpected field 'name'")
  end)

  it("groups.get", function()
    local res = assert(c.groups:get(ctx:req({ group_id = gid })))
    ctx:wire({ method = "GET", path = "~/group/info", query = "group_id=" .. gid:gsub("@", "%%40") })
    assert.equals(gid, res.data.group_id)
    assert.equals("Team", res.data.name)
    assert.equals(1, #res.data.participants)
    assert.equals("5511911112222", res.data.participants[1].phone)
    wire.failure(404, c.groups:get(ctx:req({ group_id = "1@g.us" })))
    ctx:wire({ method = "GET", path = "~/group/info", query = "group_id=1%40g.us" })
    -- a space is %20 in the query (D23)
    wire.failure(404, c.groups:get(ctx:req({ group_id = "a b+c" })))
    ctx:wire({ method = "GET", path = "~/group/info", query = "group_id=a%20b%2Bc" })
    -- missing group_id: the query is empty and the server says 400
    wire.failure(400, c.groups:get(ctx:req()))
    ctx:wire({ method = "GET", path = "~/group/info", query = "" })
  end)

  it("groups.invite_link", function()
    local q = "group_id=" .. gid:gsub("@", "%%40")
    local first = assert(c.groups:invite_link(ctx:req({ group_id = gid })))
    ctx:wire({ method = "GET", path = "~/group/invitelink", query = q })
    assert.matches("^https://chat%.whatsapp%.com/", first.data.invite_link)
    local same = assert(c.groups:invite_link(ctx:req({ group_id = gid, reset = false })))
    ctx:wire({ method = "GET", path = "~/group/invitelink", query = q .. "&reset=false" })
    assert.equals(first.data.invite_code, same.data.invite_code)
    local reset = assert(c.groups:invite_link(ctx:req({ reset = true, group_id = gid })))
    ctx:wire({ method = "GET", path = "~/group/invitelink", query = q .. "&reset=true" })
    assert.not_equals(first.data.invite_code, reset.data.invite_code)
  end)

  -- The six POST mutations: body as given (group_id in the body, not the query).
  local MUTATIONS = {
    { "set_photo", "photo", { image = "https://cdn.example/new.jpg" }, function(g) return g.image == "https://cdn.example/new.jpg" end },
    { "set_name", "name", { name = "Team B" }, function(g) return g.name == "Team B" end },
    { "set_description", "description", { description = "" }, function(g) return g.description == "" end, { '"description":""' } },
    { "set_settings", "settings", { admin_only_message = true, admin_only_settings = false, delay_message = 0 },
      function(g) return g.admin_only_message == true and g.admin_only_settings == false and g.delay_message == 0 end,
      { '"admin_only_settings":false', '"delay_message":0' } },
    { "add_admin", "add-admin", { participants = { "5511911112222" } },
      function(g) return g.participants[1].is_admin == true and g.admins[1] == "5511911112222@s.whatsapp.net" end },
    { "remove_admin", "remove-admin", { participants = { "5511911112222" } },
      function(g) return g.participants[1].is_admin == false and #g.admins == 0 end },
  }
  for _, m in ipairs(MUTATIONS) do
    local name, suffix, fields, check, raw = m[1], m[2], m[3], m[4], m[5]
    it("groups." .. name, function()
      local body = { group_id = gid }
      for k, v in pairs(fields) do body[k] = v end
      local res = assert(c.groups[name](c.groups, ctx:req(body)))
      ctx:wire({ method = "POST", path = "~/group/" .. suffix, body = body, raw = raw })
      assert.is_true(check(res.data), name .. " applied")
      -- read back
      local info = assert(c.groups:get(ctx:req({ group_id = gid })))
      assert.is_true(check(info.data), name .. " read back")
      ctx:clear()
      -- it queued one group operation
      local ops = assert(c.queues:list_operations(ctx:req()))
      assert.equals("group." .. suffix, ops.data[#ops.data].type)
      -- unknown group: 404
      body.group_id = "999@g.us"
      wire.failure(404, c.groups[name](c.groups, ctx:req(body)))
    end)
  end

  it("groups.add_admin: an empty participant list is []", function()
    assert(c.groups:add_admin(ctx:req({ group_id = gid, participants = {} })))
    ctx:wire({ method = "POST", path = "~/group/add-admin", body = { group_id = gid, participants = {} },
               raw = { '"participants":[]' } })
    ctx:arg_error(function() c.groups:add_admin({ instance_id = ctx.id, group_id = gid }) end, 1, "add_admin",
      "instance_token")
  end)
end)
