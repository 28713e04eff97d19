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
local compat = require("spec.support.compat")
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
    client = emu:client({ realtime_url = emu.ws_url })
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
    local p = assert(io.popen("cd " .. prefix .. " && env -u LD_PRELOAD find . -type f | sort"))
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
      ["vzaps.SubscriptionPollable"] = { sub:pollable() },
      ["vzaps.Webhook"] = { vzaps.webhook({ key = false }) },
      ["vzaps.Pollable"] = { client:pollable() },
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
    assert.same({}, missing, "public functions without a definition (a row, or SURFACE in scripts/gen-defs.lua; then `make docs`): "
      .. table.concat(missing, ", "))
    assert.same({}, extra, "definitions without a function: " .. table.concat(extra, ", "))
  end)

  -- Request classes as the files declare them: class -> {{name, optional,
  -- type}}; and every resource method: {resource, method, params, and for
  -- one that takes a request table its class and whether it is optional}.
  local function requests()
    local text = read("types/vzaps-resources.lua")
    local classes_of, calls, var_class = {}, {}, {}
    for class, body in text:gmatch("\n%-%-%-@class (vzaps%.[%w_]*request%.[%w_.]+)\n(.-)\n\n") do
      local fields = {}
      for name, opt, ty in body:gmatch("%-%-%-@field ([%w_]+)(%??) (%S+)") do
        fields[#fields + 1] = { name = name, optional = opt == "?", type = ty }
      end
      classes_of[class] = fields
    end
    for class, var in text:gmatch("\n%-%-%-@class (vzaps%.[%w_]+%.[%w_]+)\nlocal ([%w_]+) = {}") do var_class[var] = class end
    local params = {}
    for line in text:gmatch("[^\n]+") do
      local pname, opt, ty = line:match("^%-%-%-@param ([%w_]+)(%??) (%S+)")
      if pname then params[#params + 1] = { name = pname, optional = opt == "?", type = ty } end
      local var, name = line:match("^function ([%w_]+):([%w_]+)%(")
      if var and name ~= "each" and name ~= "pages" then
        local call = { resource = var_class[var], method = name, params = params }
        if params[1] and params[1].name == "req" then call.class, call.optional = params[1].type, params[1].optional end
        calls[#calls + 1] = call
      end
      if line:match("^function ") then params = {} end
    end
    return classes_of, calls
  end

  -- A value of a declared field type.
  local SAMPLE = {
    ["{id: string, text: string}[]"] = { { id = "b1", text = "Yes" } },
    ["{title: string, rows: {id: string, title: string, description?: string}[]}[]"] =
      { { title = "Main", rows = { { id = "r1", title = "One" } } } },
  }
  local function sample(ty)
    if SAMPLE[ty] then return SAMPLE[ty] end
    if ty == "vzaps.InstanceCallOptions" then return { instance_token = "itok" } end
    if ty == "vzaps.CallOptions" then return {} end
    local literal = ty:match('^"([^"]*)"')
    if literal then return literal end
    local first = ty:match("^([%w_.]+)")
    if ty:match("^[%w_.]+%[%]$") then return { sample(first) } end
    if first == "integer" or first == "number" then return 1 end
    if first == "boolean" then return true end
    if first == "table" then return {} end
    return "x1"
  end

  -- Every method against the mapper (no network: a transport answers
  -- 200): what the definitions call optional may be left out, each required
  -- field or argument is needed, and every declared field is taken.
  it("mark required and optional as the mapper takes them", function()
    local c = vzaps.new({ client_token = "t", client_secret = "s", base_url = "http://127.0.0.1:9", max_retries = 0,
      transport = function(req)
        if req.url:find("/token$") then
          return { status = 200, headers = {}, body = '{"access_token":"jwt-1234","expires_in":3600}' }
        end
        return { status = 200, headers = {}, body = "{}" }
      end })
    local h = c:instance("VZ-1", "itok")
    local classes_of, calls = requests()
    assert.is_true(#calls > 150, "found too few methods: " .. #calls)
    local wrong = {}
    local function try(what, ok_expected, fn)
      local ok, e = pcall(fn)
      if ok ~= ok_expected then
        wrong[#wrong + 1] = what .. (ok and ": took it" or (": raised " .. tostring(e)))
      end
    end
    local positional = 0
    for _, call in ipairs(calls) do
      local on_handle = call.resource:match("^vzaps%.handle%.")
      local res = (on_handle and h or c)[call.resource:match("([%w_]+)$")]
      local m = res[call.method]
      local label = call.resource .. ":" .. call.method
      if not call.class then
        -- positional: the required arguments are enough, and needed
        positional = positional + 1
        local args, n, needed = {}, 0, false
        for i, p in ipairs(call.params) do
          if not p.optional then args[i], n, needed = sample(p.type), i, true end
        end
        try(label .. " with its required arguments", true, function() return m(res, compat.unpack(args, 1, n)) end)
        if needed then try(label .. " with no arguments", false, function() return m(res) end) end
      end
      local fields = classes_of[call.class] or {}
      local minimal, full = {}, {}
      for _, f in ipairs(fields) do
        full[f.name] = sample(f.type)
        if not f.optional then minimal[f.name] = sample(f.type) end
      end
      if call.class then try(label .. " with nothing", call.optional, function() return m(res) end) end
      if call.class then
        try(label .. " with its required fields", true, function() return m(res, minimal) end)
        try(label .. " with every declared field", true, function() return m(res, full) end)
      end
      for _, f in ipairs(fields) do
        if not f.optional then
          local t = {}
          for k, v in pairs(minimal) do t[k] = v end
          t[f.name] = nil
          try(label .. " without " .. f.name, false, function() return m(res, t) end)
        end
      end
    end
    c:close()
    assert.is_true(positional > 20, "found too few positional methods: " .. positional)
    assert.same({}, wrong)
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
