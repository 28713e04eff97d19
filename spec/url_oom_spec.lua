-- spec/url_oom_spec.lua: src/url.c's query builder when an allocation
-- fails, driven from C (spec/c/query_oom.c, malloc wrapped to fail), since
-- no Lua input can make malloc fail on cue. Built with ASan+UBSan so a read
-- before the key array is an error, not a silent garbage key.
local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]+$") or "."

local function sh(cmd)
  local p = assert(io.popen("env -u LD_PRELOAD sh -c '" .. cmd:gsub("'", "'\\''") .. "' 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  return out:match("rc=(%d+)%s*$") == "0", out
end

describe("the query builder out of memory", function()
  local have_cc = sh("command -v gcc && pkg-config --exists lua5.4 libcurl")
  if not have_cc then
    pending("needs gcc and the Lua 5.4 and libcurl headers (scripts/deps.sh build)")
    return
  end

  it("reports out of memory and names a key of the table, not keys[-1]", function()
    local exe = os.tmpname()
    local ok, out = sh(("gcc -std=c99 -D_POSIX_C_SOURCE=200809L -g -fsanitize=address,undefined "
      .. "-fno-sanitize-recover=undefined -I%s/src $(pkg-config --cflags lua5.4 libcurl) %s/spec/c/query_oom.c "
      .. "%s/src/url.c %s/src/json_number.c %s/src/buffer.c -Wl,--wrap=malloc $(pkg-config --libs lua5.4 libcurl) -lm -o %s")
      :format(ROOT, ROOT, ROOT, ROOT, ROOT, exe))
    assert(ok, out)
    ok, out = sh("ASAN_OPTIONS=detect_leaks=0 " .. exe)
    os.remove(exe)
    assert(ok, out)
    assert.truthy(out:find("^ok\n"), out)
  end)
end)
