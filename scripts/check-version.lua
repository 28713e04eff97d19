-- scripts/check-version.lua: the version is written once, as VZ_VERSION in
-- src/vzaps.h. CMake reads it from there; this checks that the rockspecs
-- agree: rockspec/vzaps-<VZ_VERSION>-1.rockspec exists with that version and
-- tag v<VZ_VERSION>, and the scm rockspec is "scm-1". Any Lua 5.1+.
--   lua scripts/check-version.lua        (from the repository root; `make check-version`)
local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local problems = {}
local function problem(msg) problems[#problems + 1] = msg end

local header = read("src/vzaps.h") or ""
local v = header:match('#define%s+VZ_VERSION%s+"([^"]+)"')
if not v then
  problem("src/vzaps.h: no #define VZ_VERSION \"x.y.z\"")
  v = "?"
elseif not v:match("^%d+%.%d+%.%d+$") then
  problem("VZ_VERSION " .. v .. " is not x.y.z")
end

local function rockspec_field(text, name)
  return text:match("\n" .. name .. '%s*=%s*"([^"]*)"') or text:match("^" .. name .. '%s*=%s*"([^"]*)"')
end

local release = "rockspec/vzaps-" .. v .. "-1.rockspec"
local text = read(release)
if not text then
  problem(release .. " is missing (the release rockspec of VZ_VERSION " .. v .. ")")
else
  if rockspec_field(text, "version") ~= v .. "-1" then
    problem(release .. ': version must be "' .. v .. '-1"')
  end
  if not text:find('tag%s*=%s*"v' .. v:gsub("%.", "%%.") .. '"') then
    problem(release .. ': source.tag must be "v' .. v .. '"')
  end
end

local scm = read("rockspec/vzaps-scm-1.rockspec")
if not scm then
  problem("rockspec/vzaps-scm-1.rockspec is missing")
elseif rockspec_field(scm, "version") ~= "scm-1" then
  problem('rockspec/vzaps-scm-1.rockspec: version must be "scm-1"')
end

local cmake = read("CMakeLists.txt") or ""
if not cmake:find('file(STRINGS "${CMAKE_CURRENT_SOURCE_DIR}/src/vzaps.h" VZ_VERSION_LINE', 1, true)
  or not cmake:find("project(vzaps VERSION ${VZAPS_VERSION}", 1, true) then
  problem("CMakeLists.txt does not take its version from VZ_VERSION in src/vzaps.h")
end

if #problems > 0 then
  io.stderr:write("version check failed:\n  " .. table.concat(problems, "\n  ") .. "\n")
  os.exit(1)
end
io.write("version ", v, ": src/vzaps.h, CMakeLists.txt and rockspec/ agree\n")
