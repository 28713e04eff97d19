-- spec/reliability/wipe_spec.lua: the secret-bearing buffers the module owns
-- are wiped before they are freed. After calls that fetched a JWT and sent
-- an instance token, close() and a full collection, the process memory
-- (its heap and anonymous mappings, read from /proc/self/mem) holds none
-- of the forms only the module's buffers have: the NUL-terminated header
-- lines of its libcurl header lists (libcurl's own copy of the request
-- head has each line after another one), and
-- the /token request object (the URL's NUL, then the JSON body with the
-- client secret). Lua strings and
-- libcurl's own copies cannot be wiped (docs/reliability.md, "What stays in
-- memory"), so the spec looks for these forms only.
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")

local CT = "wipe-ct-" .. string.format("%08x", math.random(0, 0x7fffffff))
local CS = "wipe-cs-" .. string.format("%08x", math.random(0, 0x7fffffff))

-- The readable, writable private mappings: [heap] and anonymous ones
-- (sanitizer shadows and other huge reservations are skipped).
local function regions()
  local out = {}
  local maps = io.open("/proc/self/maps")
  if not maps then return nil end
  for line in maps:lines() do
    local a, b, perms, rest = line:match("^(%x+)%-(%x+) (%S+) %S+ %S+ %S+%s*(.*)$")
    if a and perms:sub(1, 2) == "rw" and (rest == "" or rest == "[heap]") then
      local from, to = tonumber(a, 16), tonumber(b, 16)
      if to - from <= 512 * 1024 * 1024 then out[#out + 1] = { from, to } end
    end
  end
  maps:close()
  return out
end

-- How many times each pattern {prefix, rest} is found in those mappings:
-- the prefix, and right after it `rest` (or, with `within`, `rest` in the
-- next `within` bytes). With `line` (how far back the header line starts),
-- a line that follows another one ("\n" before it) is libcurl's own copy of
-- the request head, not the module's, and is not counted. Only plain finds on the chunk read: the spec never
-- builds a string holding a whole pattern, which the scan would then find.
-- Each prefix hit looks for `rest` only where it may start (at the hit, or
-- in the `within` bytes after it), with a pattern anchored there: a search
-- to the end of the chunk for every hit of a short prefix (": " is
-- everywhere) made the scan quadratic, minutes under valgrind.
local function anchored(s)
  return "^" .. s:gsub("[%z%^%$%(%)%%%.%[%]%*%+%-%?]", function(ch) return ch == "\0" and "%z" or "%" .. ch end)
end

local function scan(mem, list, patterns)
  local found, keep = {}, 512
  for _, p in pairs(patterns) do p.anchored = p.anchored or anchored(p.rest) end
  for _, r in ipairs(list) do
    local at, tail = r[1], ""
    while at < r[2] do
      local n = math.min(1024 * 1024, r[2] - at)
      local chunk = mem:seek("set", at) and mem:read(n)
      if not chunk then break end
      local text = tail .. chunk
      for name, p in pairs(patterns) do
        local i = text:find(p.prefix, 1, true)
        while i do
          local after = i + #p.prefix
          local j
          for k = after, after + (p.within or 0) do
            if text:find(p.anchored, k) then j = k break end
          end
          local libcurls = p.line and i - p.line > 1 and text:byte(i - p.line - 1) == 10
          if j and not libcurls then
            found[name] = (found[name] or 0) + 1
          end
          i = text:find(p.prefix, i + 1, true)
        end
      end
      tail = text:sub(-keep)
      at = at + n
    end
  end
  return found
end

describe("wiping secrets", function()
  local emu

  setup(function() emu = emulator.start({ "--client-token", CT, "--client-secret", CS }) end)
  teardown(function() if emu then emu:stop() end end)

  it("leaves no header line or /token body of a closed client in memory", function()
    local probe = io.open("/proc/self/mem", "rb")
    if not probe then
      pending("needs /proc/self/mem (Linux)")
      return
    end
    probe:close()
    local itok, jwt, c, inst
    c = vzaps.new({ client_token = CT, client_secret = CS, base_url = emu.url, max_retries = 0 })
    inst = assert(c.instances:create({ name = "wipe spec" }))
    itok = inst.token
    jwt = assert(c.auth:get_access_token())
    assert(c.instances:restart(inst.id, { instance_token = itok }))
    assert(c:request("POST", "/instances/" .. inst.id .. "/restart", { instance_token = itok }))
    -- Everything the scan needs is made first: what it allocates after the
    -- close could reuse (and so hide) the freed buffers.
    local patterns = {
      -- malloc writes its own pointers over the first 16 bytes of a freed
      -- line ("Authorization: B", "X-Instance-Token"): the tails stay
      auth = { prefix = "earer ", rest = jwt .. "\0", line = #"Authorization: B" },
      instance = { prefix = ": ", rest = itok .. "\0", line = #"X-Instance-Token" },
      client = { prefix = "X-Client-Token: ", rest = CT .. "\0", line = 0 },
      token_body = { prefix = "/token\0{", rest = CS, within = 200 },
    }
    local mem, list = assert(io.open("/proc/self/mem", "rb")), assert(regions())
    c:close()
    c = nil -- luacheck: ignore 311 (dropped so the collection takes the client)
    inst = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    local found = scan(mem, list, patterns)
    mem:close()
    assert.same({}, found)
  end)
end)
