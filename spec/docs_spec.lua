-- spec/docs_spec.lua: the API reference cannot drift from the endpoint
-- table: every row of src/lua/vzaps/endpoints.lua has a `doc`, and
-- docs/api.md is exactly what scripts/gen-api.lua writes now (`make docs`).
local LUA = os.getenv("LUA") or "lua5.4"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

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
