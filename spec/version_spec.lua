-- spec/version_spec.lua: the version is written once (VZ_VERSION in
-- src/vzaps.h); the module, CMake and the rockspecs follow it.
local vzaps = require("vzaps")
local compat = require("spec.support.compat")

local read = require("spec.support.files").must_read

describe("version", function()
  local v = read("src/vzaps.h"):match('#define%s+VZ_VERSION%s+"([^"]+)"')

  it("is VZ_VERSION of src/vzaps.h in the built module", function()
    assert.is_string(v)
    assert.equals(v, vzaps.VERSION)
    assert.equals(v, vzaps._VERSION)
  end)

  it("matches the rockspecs and CMake (scripts/check-version.lua)", function()
    local p = assert(io.popen("env -u LD_PRELOAD " .. compat.interpreter .. " scripts/check-version.lua 2>&1; echo \"rc=$?\""))
    local out = p:read("*a")
    p:close()
    assert.matches("rc=0", out, out)
  end)
end)
