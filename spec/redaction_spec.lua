-- spec/redaction_spec.lua: the gaps of errors.lua's redaction a hostile
-- server could use (issue 18 item 10; docs/reliability.md "Hostile
-- peers"): a secret cut at the 4 KiB edge of err.body, details nested past
-- the walk limit, and a secret echoed JSON-escaped or %-encoded. Each error
-- comes from a real exchange with the emulator, whose scripted answer
-- echoes the secrets; the client's secret holds `/`, `"` and `\`, so that
-- its JSON-escaped and %-encoded forms differ from it.
local vzaps = require("vzaps")
local E = require("spec.support.emulator")

local SECRET = 'sec/ret"quo\\te-' .. string.format("%08x", os.time() % 0x7fffffff)

-- Every string of v (keys and values, at any depth, and tostring).
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in next, v do
      strings(k, out, seen)
      strings(x, out, seen)
    end
  end
  return out
end

local function leaks(needle, ...)
  local found = {}
  for i = 1, select("#", ...) do
    for _, s in ipairs(strings((select(i, ...)))) do
      if s:lower():find(needle:lower(), 1, true) then found[#found + 1] = s:sub(1, 200) end
    end
  end
  return found
end

local function pct(s, all)
  return (s:gsub(all and "." or "[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

describe("redaction of hostile echoes", function()
  local emu, client, inst, jwt

  setup(function()
    emu = E.start({ "--client-secret", SECRET })
    client = emu:client({ client_secret = SECRET, max_retries = 0 })
    inst = assert(client.instances:create({ name = "redaction" }))
    jwt = assert(client.auth:get_access_token())
  end)
  teardown(function()
    client:close()
    emu:stop()
  end)

  local function fail_with(script)
    script.method, script.path = "GET", "/instances/" .. inst.id .. "/session/status"
    emu:script(script)
    local res, msg, err = client:instance(inst.id, inst.token).sessions:status()
    assert.is_nil(res)
    assert.equals("/instances/" .. inst.id .. "/session/status", emu:last_request().path)
    return msg, err
  end

  it("a secret across the 4 KiB cut of err.body leaves no prefix", function()
    for _, secret in ipairs({ jwt, inst.token }) do
      local msg, err = fail_with({ status = 500, body = string.rep("x", 4096 - 8) .. secret })
      assert.equals(4096, #err.body)
      assert.same({}, leaks(secret:sub(1, 8), msg, err))
      assert.equals("[REDACTE", err.body:sub(-8))
    end
  end)

  it("details nested past the walk limit are replaced, not returned unredacted", function()
    local deep = { token = jwt, secret = SECRET }
    for _ = 1, 80 do deep = { next = deep } end
    local msg, err = fail_with({ status = 400, json = { error = "deep", details = deep } })
    assert.same({}, leaks(jwt, msg, err))
    assert.same({}, leaks(SECRET, msg, err))
    local t, depth = err.details, 0
    while type(t) == "table" do t, depth = t.next or t.details, depth + 1 end
    assert.matches("[REDACTED]", t, 1, true)
    assert.is_true(depth >= 40)
  end)

  it("a JSON-escaped echo of a secret is redacted from err.body", function()
    -- The JSON text as a server writes it: "/" escaped or not, or every byte as \u00XX.
    local function u_all(s) return (s:gsub(".", function(c) return string.format("\\u%04X", c:byte()) end)) end
    local esc = SECRET:gsub('[\\"]', "\\%0")
    local forms = { esc, (esc:gsub("/", "\\/")), u_all(SECRET), u_all(inst.token):lower() }
    for _, form in ipairs(forms) do
      local msg, err = fail_with({ status = 400, body = '{"error":"echo ' .. form .. '"}' })
      assert.same({}, leaks(form, msg, err))
      assert.same({}, leaks(SECRET, msg, err)) -- decoded: details.error and the message
      assert.matches("[REDACTED]", err.body, 1, true)
    end
  end)

  it("a %-encoded echo of a secret is redacted, in either hex case", function()
    local forms = { pct(SECRET), pct(SECRET):lower(), pct(SECRET, true), pct(jwt, true):lower(), pct(inst.token, true) }
    for _, form in ipairs(forms) do
      local msg, err = fail_with({ status = 502, body = "<a href='/cb?s=" .. form .. "'>x</a>" })
      assert.same({}, leaks(form, msg, err))
      assert.matches("[REDACTED]", err.body, 1, true)
    end
  end)

  it("a webhook key echoed %-encoded or JSON-escaped by a raising handler is redacted", function()
    local key = "whk/" .. SECRET
    local hook = vzaps.webhook({ key = key })
    local echo
    hook:on("Message", function() error({ url = "https://h/x?key=" .. echo, json = '{"k":"' .. echo .. '"}' }) end)
    for _, form in ipairs({ pct(key), pct(key):lower(), (key:gsub('[\\"/]', "\\%0")) }) do
      echo = form
      local ok, msg, err = hook:handle('{"type":"Message","data":{}}')
      assert.is_nil(ok)
      assert.same({}, leaks(form, msg, err))
      assert.matches("[REDACTED]", err.details.url, 1, true)
    end
  end)

  it("a raised table with a locked metatable, and a secret as a table key, is redacted, not raised again", function()
    local key = "whk-" .. SECRET
    local hook = vzaps.webhook({ key = key })
    hook:on("Message", function()
      error(setmetatable({ [{ key }] = "as a key", note = key }, { __metatable = "locked" }))
    end)
    local ok, msg, err = hook:handle('{"type":"Message","data":{}}')
    assert.is_nil(ok)
    assert.equals("HANDLER_ERROR", err.code)
    assert.same({}, leaks(key, msg, err))
    assert.equals("[REDACTED]", err.details.note)
  end)
end)
