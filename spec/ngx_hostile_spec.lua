-- spec/ngx_hostile_spec.lua: vzaps.ngx_transport against a hostile server
-- (issue 18 item 3; docs/reliability.md "Hostile peers"), inside a real
-- nginx (spec/support/nginx_hostile.conf): the header block is capped as
-- libcurl caps it (300 KiB in all, 100 KiB a line; 1xx answers and chunked
-- trailers count), so 4 MB of headers, 100 000 repeated headers, an endless
-- line, endless 1xx answers or trailers fail promptly with kind `network`;
-- repeated headers are joined once; a body of one-byte chunks is read
-- without one string per byte; honest answers near the limits still work.
local nginx = require("spec.support.nginx")
local emulator = require("spec.support.emulator")
local cjson = emulator.json

local missing = nginx.missing(nginx.build_dir())
-- Under valgrind and ASan the spec process and nginx are slower.
local SLOW = (os.getenv("VZAPS_VALGRIND") or os.getenv("VZAPS_SANITIZE")) and 5 or 1

describe("ngx_transport against hostile answers", function()
  if missing then
    pending("needs nginx and the LuaJIT build: " .. missing)
    return
  end

  local srv
  nginx.fixture(function(_, s) srv = s end, "spec/support/nginx_hostile.conf")

  local function call(what, extra)
    local status, body = srv:get("/call?path=/hostile/" .. what .. (extra or ""))
    assert.equals(200, status, tostring(body) .. "\n" .. srv:log())
    return cjson.decode(body)
  end

  for _, case in ipairs({
    { "big", "4 MB of header lines" },
    { "repeated", "100 000 copies of one header" },
    { "interim", "100 000 1xx answers" },
    { "trailers", "4 MB of chunked trailers" },
  }) do
    it("refuses " .. case[2] .. " at the 300 KiB header cap, promptly", function()
      local r = call(case[1])
      assert.is_false(r.ok)
      assert.equals("network", r.kind)
      assert.matches("response headers exceed the 307200-byte limit", r.message, 1, true)
      assert.is_true(r.elapsed < 2 * SLOW, "took " .. r.elapsed .. " s")
    end)
  end

  it("refuses a header line that never ends at 100 KiB", function()
    local r = call("longline")
    assert.is_false(r.ok)
    assert.equals("network", r.kind)
    assert.matches("a response header line is over 100 KiB", r.message, 1, true)
    assert.is_true(r.elapsed < 2 * SLOW, "took " .. r.elapsed .. " s")
  end)

  it("max_header_bytes moves the cap", function()
    local r = call("repeated", "&max=1048576")
    assert.is_true(r.ok, r.message)
    assert.equals(1, r.n)
    r = call("legit", "&max=100000")
    assert.is_false(r.ok)
    assert.matches("response headers exceed the 100000-byte limit", r.message, 1, true)
  end)

  it("takes 150 KB of honest headers and joins a repeated one once, in order", function()
    local r = call("legit", "&raw=1")
    assert.is_true(r.ok, r.message)
    assert.equals(1, r.n)
    local want = {}
    for i = 1, 50 do want[i] = "c" .. i .. "=v" end
    assert.equals(table.concat(want, ", "), r.headers["set-cookie"])
    assert.equals(string.rep("b", 1000), r.headers["x-big-150"])
  end)

  it("reads a body of 200 000 one-byte chunks", function()
    local r = call("chunks")
    assert.is_true(r.ok, r.message)
    assert.equals(2, r.n)
  end)

  it("ngx_transport checks max_header_bytes", function()
    -- Outside nginx the option is checked before nginx is looked for.
    local vzaps = require("vzaps")
    for _, bad in ipairs({ 0, 1023, 1.5, "300", 2 ^ 27 }) do
      local ok, e = pcall(vzaps.ngx_transport, { max_header_bytes = bad })
      assert.is_false(ok)
      assert.matches("max_header_bytes must be a whole number of bytes from 1024 to 2^26", tostring(e), 1, true)
    end
  end)
end)
