-- spec/definitions_spec.lua: the editor definitions (types/, LuaCATS
-- `---@meta` files, README "Editor support") against the live module: every
-- public function and method (module functions, client methods, every
-- resource method and iterator, on a client and on a `client:instance`
-- handle, jobs, subscriptions, webhook receivers) has a definition, and
-- every definition is a function of the object it describes. The files
-- parse as Lua, and their annotations are well-formed: known tags, and
-- every `vzaps.*` type they name is declared. (docs_spec checks that they
-- are what scripts/gen-defs.lua writes.)
local emulator = require("spec.support.emulator")
local surface = require("spec.support.surface")
local read = require("spec.support.files").must_read
local vzaps = require("vzaps")

local FILES = { "types/vzaps.lua", "types/vzaps-resources.lua" }

-- defs[class][name] = true for every `function Var.name(` / `Var:name(` of
-- the files, Var being the table declared right after `---@class class`.
local function definitions()
  local defs, classes = {}, {}
  for _, path in ipairs(FILES) do
    local var_class = {}
    local pending
    for line in (read(path) .. "\n"):gmatch("(.-)\n") do
      local class = line:match("^%-%-%-@class ([%w_.]+)")
      if class then
        pending = class
        classes[class] = true
      else
        local var = line:match("^local ([%w_]+) = {}$")
        if var and pending then var_class[var] = pending end
        if not line:match("^%-%-%-@") then pending = nil end
      end
      local var, name = line:match("^function ([%w_]+)[.:]([%w_]+)%(")
      if var then
        local c = assert(var_class[var], path .. ": function on an undeclared table " .. var)
        defs[c] = defs[c] or {}
        defs[c][name] = true
      end
    end
  end
  return defs, classes
end

describe("editor definitions (types/)", function()
  local emu, client, handle, sub, inst
  local defs, classes = definitions()

  setup(function()
    emu = emulator.start()
    client = emu:client({ realtime_url = "ws" .. emu.url:sub(5) })
    inst = emu:new_instance("Definitions spec")
    handle = client:instance(inst.id, inst.token)
    sub = assert(client.events:subscribe({ instance_id = inst.id, instance_token = inst.token }))
  end)

  teardown(function()
    if sub then sub:close() end
    client:close()
    emu:stop()
  end)

  it("parse as Lua and are ---@meta files", function()
    for _, path in ipairs(FILES) do
      assert(loadfile(path))
      assert.truthy(read(path):match("^%-%-%-@meta"), path .. " is not a ---@meta file")
    end
    -- the language server resolves require("vzaps") to vzaps.lua; the other is types only
    assert.truthy(read("types/vzaps.lua"):match("^%-%-%-@meta\n"))
    assert.truthy(read("types/vzaps-resources.lua"):match("^%-%-%-@meta _\n"))
  end)

  -- `make install` (cmake --install) puts them in a folder of their own,
  -- never where require("vzaps") would find a vzaps.lua before vzaps.so.
  it("are installed into share/vzaps/types, off package.path", function()
    local build
    for dir in package.cpath:gmatch("%./([^;]-)/%?%.so") do
      local f = io.open(dir .. "/cmake_install.cmake")
      if f then f:close() build = build or dir end
    end
    assert(build, "no build directory on package.cpath: " .. package.cpath)
    local prefix = os.tmpname()
    os.remove(prefix)
    local ok = os.execute("cmake --install " .. build .. " --prefix " .. prefix .. " >/dev/null")
    local p = assert(io.popen("cd " .. prefix .. " && find . -type f | sort"))
    local installed = {}
    for line in p:lines() do installed[#installed + 1] = line end
    p:close()
    local copies = {}
    for _, path in ipairs(FILES) do
      local name = path:match("[^/]+$")
      local f = io.open(prefix .. "/share/vzaps/types/" .. name, "rb")
      copies[name] = f and f:read("*a")
      if f then f:close() end
    end
    os.execute("rm -rf " .. prefix)
    assert.is_true(ok == true or ok == 0, "cmake --install failed")
    for _, path in ipairs(FILES) do
      assert.equals(read(path), copies[path:match("[^/]+$")], path .. " not installed as it is")
    end
    for _, f in ipairs(installed) do
      assert.is_nil(f:match("^%./share/lua/") or f:match("^%./lib/lua/.*%.lua$"), "on a Lua path: " .. f)
    end
  end)

  -- The type expression of an annotation (after the name for @param and
  -- @field): up to the first blank outside brackets; a `fun(...)` type runs
  -- to the end of the line. nil when the brackets do not balance.
  local function type_expr(tag, rest)
    if tag == "class" then return rest:match(": (.*)$") or "" end
    if tag == "meta" then return "" end
    if tag == "param" or tag == "field" then rest = rest:match("^%S+%s+(.*)$") or "" end
    if rest:match("^fun%(") then rest = rest .. " " end
    local depth, fun = 0, rest:match("^fun%(")
    for i = 1, #rest do
      local c = rest:sub(i, i)
      if c == "(" or c == "{" or c == "<" then
        depth = depth + 1
      elseif c == ")" or c == "}" or c == ">" then
        depth = depth - 1
        if depth < 0 then return nil end
      elseif c:match("%s") and depth == 0 and not fun then
        return rest:sub(1, i - 1)
      end
    end
    if depth ~= 0 then return nil end
    return rest
  end

  it("use known tags, well-formed, and name only declared vzaps types", function()
    local TAGS = { meta = true, class = true, field = true, param = true, ["return"] = true }
    for _, path in ipairs(FILES) do
      local n = 0
      for line in (read(path) .. "\n"):gmatch("(.-)\n") do
        n = n + 1
        local tag, rest = line:match("^%-%-%-@(%w+)%s*(.*)$")
        if tag then
          local where = path .. ":" .. n .. ": " .. line
          assert(TAGS[tag], "unknown tag: " .. where)
          if tag == "param" then
            assert(rest:match("^[%w_.]+%??%s+%S"), "@param needs a name and a type: " .. where)
          elseif tag == "field" then
            assert(rest:match("^[%w_]+%??%s+%S") or rest:match("^%[string%]%s+%S"), "bad @field: " .. where)
          elseif tag == "class" then
            assert(rest:match("^vzaps[%w_.]*$") or rest:match("^vzaps[%w_.]*: vzaps[%w_.]+$"), "bad @class: " .. where)
          elseif tag == "return" then
            assert(rest:match("^%S"), "@return needs a type: " .. where)
          end
          -- every vzaps.X type it names is a declared class
          local ty = type_expr(tag, rest)
          assert(ty, "no type: " .. where)
          for name in ty:gmatch("vzaps%.[%w_.]*[%w_]") do
            assert(classes[name], "undeclared type " .. name .. ": " .. where)
          end
        end
      end
    end
  end)

  -- class name -> the live object whose functions it defines
  local function live_objects()
    local objects = {
      ["vzaps"] = { vzaps, module = true },
      ["vzaps.json"] = { vzaps.json, module = true },
      ["vzaps.Client"] = { surface.client_methods(client), methods = true },
      ["vzaps.Auth"] = { client.auth },
      ["vzaps.Events"] = { client.events },
      ["vzaps.Subscription"] = { sub },
      ["vzaps.Webhook"] = { vzaps.webhook({ key = false }) },
    }
    local tr = vzaps.new({ client_token = "t", client_secret = "s", base_url = "http://127.0.0.1:9",
      transport = function() return { status = 200, headers = {}, body = "{}" } end })
    objects["vzaps.Job"] = { tr:spawn(function() return 1 end) }
    tr:close()
    -- every resource of a client and of an instance handle, whatever rows exist
    for k, v in pairs(surface.client_members(client)) do
      if type(k) == "string" and k ~= "events" and k ~= "auth" and type(v) == "table" then
        objects["vzaps.resource." .. k] = { v }
      end
    end
    for k, v in pairs(handle) do
      if type(k) == "string" and k ~= "events" and type(v) == "table" then objects["vzaps.handle." .. k] = { v } end
    end
    assert.equals(client.events, client.events) -- one events resource per client
    assert.equals(getmetatable(client.events), getmetatable(handle.events))
    return objects
  end

  local function functions_of(o)
    if o.module or o.methods then
      local out = {}
      for k, v in pairs(o[1]) do
        if type(k) == "string" and type(v) == "function" and k:sub(1, 1) ~= "_" then out[k] = v end
      end
      return out
    end
    return surface.methods_of(o[1])
  end

  it("define every public function and method, and only those", function()
    local objects = live_objects()
    assert.truthy(objects["vzaps.resource.messages"] and objects["vzaps.handle.messages"])
    local missing, extra, count = {}, {}, 0
    for class, o in pairs(objects) do
      local live = functions_of(o)
      for name in pairs(live) do
        count = count + 1
        if not (defs[class] and defs[class][name]) then missing[#missing + 1] = class .. ":" .. name end
      end
      for name in pairs(defs[class] or {}) do
        if type(live[name]) ~= "function" then extra[#extra + 1] = class .. ":" .. name end
      end
    end
    -- a class with functions that no live object answers for
    for class in pairs(defs) do
      if not objects[class] then extra[#extra + 1] = class .. " (no such object)" end
    end
    table.sort(missing)
    table.sort(extra)
    assert.is_true(count > 200, "found too few public functions: " .. count)
    assert.same({}, missing, "public functions without a definition (scripts/gen-defs.lua, `make docs`): "
      .. table.concat(missing, ", "))
    assert.same({}, extra, "definitions without a function: " .. table.concat(extra, ", "))
  end)

  it("declare the resources of a client and of a handle as fields", function()
    local text = read("types/vzaps.lua")
    local client_class = text:match("\n%-%-%-@class vzaps%.Client\n(.-)\nlocal ")
    local handle_class = text:match("\n%-%-%-@class vzaps%.InstanceHandle\n(.-)\n\n")
    for k, v in pairs(surface.client_members(client)) do
      if type(k) == "string" and type(v) == "table" then
        assert.truthy(client_class:find("@field " .. k .. " ", 1, true), "client." .. k)
      end
    end
    for k, v in pairs(handle) do
      if type(k) == "string" then
        assert.truthy(handle_class:find("@field " .. k .. " ", 1, true), "handle." .. k .. " (" .. type(v) .. ")")
      end
    end
  end)
end)
