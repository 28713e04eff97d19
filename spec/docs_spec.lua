-- spec/docs_spec.lua: the API reference cannot drift from the endpoint
-- table: every row of src/lua/vzaps/endpoints.lua has a `doc`, and
-- docs/api.md is exactly what scripts/gen-api.lua writes now (`make docs`);
-- so are the README's API index and client options table (the latter from
-- src/lua/vzaps/option_table.lua), and the editor definitions in types/
-- (scripts/gen-defs.lua).
local LUA = require("spec.support.compat").interpreter

local read = require("spec.support.files").must_read

describe("API reference", function()
  local rows = assert(loadfile("src/lua/vzaps/endpoints.lua"))()

  it("documents every endpoint row", function()
    local missing = {}
    for _, row in ipairs(rows) do
      if type(row.doc) ~= "string" or not row.doc:find("%S") then missing[#missing + 1] = row[1] .. "." .. row[2] end
    end
    assert.same({}, missing, "endpoint rows without doc: " .. table.concat(missing, ", "))
  end)

  it("docs/api.md is what scripts/gen-api.lua generates (run `make docs`)", function()
    local tmp = os.tmpname()
    local ok = os.execute(LUA .. " scripts/gen-api.lua " .. tmp)
    local generated = read(tmp)
    os.remove(tmp)
    assert.is_true(ok == true or ok == 0, "the generator failed")
    local current = read("docs/api.md")
    if current ~= generated then
      -- name the first differing line, to make the failure readable
      local n = 1
      local cl, gl = {}, {}
      for l in (current .. "\n"):gmatch("(.-)\n") do cl[#cl + 1] = l end
      for l in (generated .. "\n"):gmatch("(.-)\n") do gl[#gl + 1] = l end
      for i = 1, math.max(#cl, #gl) do
        if cl[i] ~= gl[i] then n = i break end
      end
      error(("docs/api.md is out of date at line %d:\n  file:      %s\n  generated: %s\nrun `make docs`")
        :format(n, tostring(cl[n]), tostring(gl[n])), 0)
    end
  end)

  -- The README block scripts/gen-api.lua writes with flag, asserted to be
  -- in README.md as generated; returns it.
  local function generated_block(flag, what)
    local p = assert(io.popen(LUA .. " scripts/gen-api.lua " .. flag))
    local block = p:read("*a")
    p:close()
    assert.truthy(read("README.md"):find(block:gsub("\n$", ""), 1, true),
      "README.md's " .. what .. " is out of date: run `make docs`")
    return block
  end

  it("the README's API index is what scripts/gen-api.lua generates (run `make docs`)", function()
    local block = generated_block("--index", "API index")
    for _, row in ipairs(rows) do
      assert.truthy(block:find("[`" .. row[2] .. "`](docs/api.md#" .. row[1] .. row[2], 1, true), row[1] .. "." .. row[2])
    end
  end)

  it("the README's client options table is what scripts/gen-api.lua generates (run `make docs`)", function()
    local block = generated_block("--options", "client options table")
    for _, o in ipairs(assert(loadfile("src/lua/vzaps/option_table.lua"))()) do
      assert.truthy(block:find("| `" .. o[1] .. "` |", 1, true), "option " .. o[1])
    end
  end)

  -- Issue 19.8: the answer fields of every row that has them, and plainly
  -- "none" for the others, in the method's own entry.
  it("says what each method returns: the documented fields, or that none are documented", function()
    local text = read("docs/api.md")
    for _, row in ipairs(rows) do
      local key = row[1] .. "." .. row[2]
      local entry = text:match("\n### " .. key:gsub("%p", "%%%0") .. "\n(.-)\n### ")
      assert(entry, "no entry for " .. key)
      local returns = entry:match("\n%- Returns: ([^\n]*)")
      assert(returns, "no Returns line for " .. key)
      local r = row.returns
      if r == nil then
        assert(returns:find("the platform documents no answer shape", 1, true), key .. ": " .. returns)
      elseif type(r) == "string" then
        assert(returns:find("`" .. r .. "`", 1, true), key .. ": " .. returns)
      else
        assert(returns:find("[`" .. r.name .. "`](#" .. r.name:lower() .. ")", 1, true), key .. ": " .. returns)
        for _, f in ipairs(r) do assert(returns:find("`" .. f[1] .. "`", 1, true), key .. ": field " .. f[1]) end
        assert(text:find("\n### " .. r.name .. "\n", 1, true), "no Answer shapes entry for " .. r.name)
      end
    end
    -- the issue's own example
    local list = text:match("\n### instances%.list\n(.-)\n### ")
    assert.truthy(list:find("`page`, `size`, `total`, `total_pages`, `content`, `summary`", 1, true))
  end)

  it("lists every method, with its HTTP method and path", function()
    local text = read("docs/api.md")
    for _, row in ipairs(rows) do
      local key = row[1] .. "." .. row[2]
      assert(text:find("### " .. key .. "\n", 1, true), "no section for " .. key)
      local path = row[4]:gsub("{instance_id}", "{id}")
      assert(text:find("`" .. row[3] .. " " .. path .. "`", 1, true), "no HTTP line for " .. key)
    end
  end)
end)

-- The editor definitions (types/, README "Editor support") are exactly
-- what scripts/gen-defs.lua writes now from the same tables (`make docs`).
describe("editor definitions", function()
  local function ls(dir)
    local p = assert(io.popen("ls " .. dir))
    local names = {}
    for name in p:lines() do names[#names + 1] = name end
    p:close()
    table.sort(names)
    return names
  end

  it("types/ is what scripts/gen-defs.lua generates (run `make docs`)", function()
    local tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir " .. tmp))
    local ok = os.execute(LUA .. " scripts/gen-defs.lua " .. tmp)
    local generated = ls(tmp)
    local contents = {}
    for _, name in ipairs(generated) do contents[name] = read(tmp .. "/" .. name) end
    os.execute("rm -rf " .. tmp)
    assert.is_true(ok == true or ok == 0, "the generator failed")
    assert.is_true(#generated >= 2, "the generator wrote too few files")
    assert.same(generated, ls("types"), "types/ holds other files than the generator writes: run `make docs`")
    for _, name in ipairs(generated) do
      if read("types/" .. name) ~= contents[name] then
        error("types/" .. name .. " is out of date: run `make docs`", 0)
      end
    end
  end)

  it("follows the rows: every method, request field and option is in them", function()
    local text = read("types/vzaps.lua") .. read("types/vzaps-resources.lua")
    for _, row in ipairs(assert(loadfile("src/lua/vzaps/endpoints.lua"))()) do
      assert(text:find(":" .. row[2] .. "%("), row[1] .. "." .. row[2])
      if not row.args then
        local class = text:match("\n%-%-%-@class vzaps%.request%." .. row[1] .. "%." .. row[2] .. "\n(.-)\n\n")
        assert(class, "no request class for " .. row[1] .. "." .. row[2])
        for _, f in ipairs(row.fields or row.required or {}) do
          assert(class:find("@field " .. f .. "%??%s"), row[1] .. "." .. row[2] .. " field " .. f)
        end
      end
    end
    for _, o in ipairs(assert(loadfile("src/lua/vzaps/option_table.lua"))()) do
      assert(text:find("---@field " .. o[1] .. "%??%s"), "option " .. o[1])
    end
  end)
end)

-- Every public function registered on the module or a client has an LDoc
-- comment (a `---` block over the function, or one with an explicit
-- `@function name`) in the files config.ld reads; `make ldoc` renders them.
describe("LDoc comments", function()
  local vzaps = require("vzaps")

  local function ldoc_files()
    local cfg = read("config.ld")
    local files = {}
    for path in cfg:match("file%s*=%s*(%b{})"):gmatch('"([^"]+)"') do files[#files + 1] = path end
    return files
  end

  -- Names of the documented functions, as written (vzaps.new, Client:close).
  local function documented()
    local names = {}
    for _, path in ipairs(ldoc_files()) do
      local lines = {}
      for l in (read(path) .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
      local i = 1
      while i <= #lines do
        if lines[i]:match("^%s*%-%-%-%s") or lines[i]:match("^%s*%-%-%-$") then
          local tag
          local j = i
          while j <= #lines and lines[j]:match("^%s*%-%-") do
            tag = tag or lines[j]:match("@function%s+([%w_.:]+)")
            j = j + 1
          end
          local name = tag or (lines[j] or ""):match("^%s*function%s+([%w_.:]+)%s*%(")
          if name then names[name] = path end
          i = j
        else
          i = i + 1
        end
      end
    end
    return names
  end

  -- Names of the public functions, from the live objects.
  local function registered()
    local names = {}
    for k, v in pairs(vzaps) do
      -- "_" names are private (the test switch _set_direct)
      if type(v) == "function" and k:sub(1, 1) ~= "_" then names[#names + 1] = "vzaps." .. k end
    end
    for k, v in pairs(vzaps.json) do
      if type(v) == "function" then names[#names + 1] = "vzaps.json." .. k end
    end
    local c = vzaps.new({ client_token = "t", client_secret = "s", base_url = "http://127.0.0.1:9" })
    local methods = require("spec.support.surface").client_methods(c)
    for k, v in pairs(methods) do
      if type(v) == "function" then names[#names + 1] = "Client:" .. k end
    end
    for k, v in pairs(getmetatable(c.auth).__index) do
      if type(v) == "function" then names[#names + 1] = "Auth:" .. k end
    end
    c:close()
    table.sort(names)
    return names
  end

  it("covers every public function of the module and the client", function()
    local docs = documented()
    local reg = registered()
    assert.is_true(#reg >= 10, "found too few public functions: " .. table.concat(reg, ", "))
    local missing = {}
    for _, name in ipairs(reg) do
      if not docs[name] then missing[#missing + 1] = name end
    end
    assert.same({}, missing, "public functions without an LDoc comment: " .. table.concat(missing, ", "))
  end)

  it("documents the generic resource method and the ngx transport", function()
    local docs = documented()
    assert.is_string(docs["resource:method"])
    assert.is_string(docs["M.transport"])
    assert.is_string(docs["M.run"])
  end)
end)

-- The docs stand alone: every relative link (and every `../path` named in
-- code) of the repository's Markdown resolves to a file of the repository.
-- Anchors and http(s)/mailto links are not checked.
describe("Markdown links", function()
  local files = require("spec.support.files")

  -- a/b/../c -> a/c; nil when the path leaves the repository root
  local function normalise(path)
    local out = {}
    for seg in path:gmatch("[^/]+") do
      if seg == ".." then
        if #out == 0 then return nil end
        out[#out] = nil
      elseif seg ~= "." then
        out[#out + 1] = seg
      end
    end
    return table.concat(out, "/")
  end

  -- The relative targets of a Markdown text: inline links and images, and
  -- reference definitions, outside fenced code; plus code spans that are a
  -- path starting with ./ or ../ (a file named, not linked).
  local function targets(text)
    local out, fenced = {}, false
    for line in (text .. "\n"):gmatch("(.-)\r?\n") do
      if line:match("^%s*```") or line:match("^%s*~~~") then
        fenced = not fenced
      elseif not fenced then
        for span in line:gmatch("`([^`]+)`") do
          if span:match("^%.%.?/[^%s]+$") then out[#out + 1] = span end
        end
        local plain = line:gsub("`[^`]*`", "")
        for t in plain:gmatch("%]%(%s*<?([^%s)>]+)>?[^)]*%)") do out[#out + 1] = t end
        local def = plain:match("^%s*%[[^%]]+%]:%s*<?([^%s>]+)")
        if def then out[#out + 1] = def end
      end
    end
    local rel = {}
    for _, t in ipairs(out) do
      if not t:match("^%a[%w+.-]*:") and t:sub(1, 1) ~= "#" then
        local path = t:gsub("[#?].*$", "")
        if path ~= "" then rel[#rel + 1] = path end
      end
    end
    return rel
  end

  -- "file: target" for every target of file that is not in the repository.
  local function broken(file, text)
    local dir = file:match("^(.*)/[^/]*$")
    local bad = {}
    for _, t in ipairs(targets(text)) do
      local path = t:sub(1, 1) == "/" and t:sub(2) or (dir and (dir .. "/" .. t) or t)
      local norm = normalise(path)
      local f = norm and norm ~= "" and io.open(norm, "rb")
      if f then f:close() else bad[#bad + 1] = file .. ": " .. t end
    end
    return bad
  end

  it("finds the links it must check, and only those", function()
    local text = table.concat({
      "[a](gone.md) and ![img](pics/none.png \"title\") and [ok](docs_spec.lua#x)",
      "[anchor](#part) [web](https://example.com/x.md) [mail](mailto:a@b.c)",
      "named `../../outside/file.md` and `vzaps/events.lua:351:` (a message, not a path)",
      "[ref]: ../../away.md",
      "```", "[in code](fenced.md)", "```",
      "`[in a span](span.md)`",
    }, "\n")
    assert.same({ "gone.md", "pics/none.png", "docs_spec.lua", "../../outside/file.md", "../../away.md" },
      targets(text))
    assert.same({ "spec/x.md: gone.md", "spec/x.md: pics/none.png", "spec/x.md: ../../outside/file.md",
                  "spec/x.md: ../../away.md" }, broken("spec/x.md", text))
  end)

  it("every relative link of README.md, docs/, emulator/, examples/ and bench/ resolves", function()
    local list = {}
    local p = assert(io.popen("ls README.md docs/*.md emulator/*.md examples/*.md bench/*.md 2>/dev/null"))
    for path in p:lines() do list[#list + 1] = path end
    p:close()
    assert.is_true(#list >= 5, "found too few Markdown files: " .. table.concat(list, ", "))
    local bad = {}
    for _, path in ipairs(list) do
      for _, b in ipairs(broken(path, files.must_read(path))) do bad[#bad + 1] = b end
    end
    assert.same({}, bad, "links to files the repository does not have:\n  " .. table.concat(bad, "\n  "))
  end)
end)
