-- Fault injection, one case per fault and request class ("<fault> / <class>"):
-- what the caller gets (the result, or the failure tuple with kind, code and
-- status) and how many times the request reached the emulator. A POST that
-- may have reached the server is never sent twice; GET/PUT/DELETE and 429
-- are retried within max_retries (the API description "Reliability", contract §9).
--
-- The table FAULTS below is also the table of docs/reliability.md: the last
-- spec checks that every row of the doc is what these cases assert.
-- VZAPS_FAULT_TABLE=path writes the rows to path (to regenerate the doc).
local support = require("spec.reliability.support")
local socket = require("socket")
local vzaps = require("vzaps")

local CLASSES = support.CLASSES

-- Expected outcomes --------------------------------------------------------
local function OK(arrivals, check) return { ok = true, arrivals = arrivals, check = check } end
local function ERR(kind, code, status, arrivals, pattern)
  return { kind = kind, code = code, status = status, arrivals = arrivals, pattern = pattern }
end
local function each(outcome) return { GET = outcome, POST = outcome, PUT = outcome, DELETE = outcome } end
local function safe_post(safe, post) return { GET = safe, POST = post, PUT = safe, DELETE = safe } end

local function is_table(v) return type(v) == "table" end
local function drip_value(v) return type(v) == "table" and v.data and v.data.drip == true end

local MAY_HAVE = "may have been received"

-- An HTTP-date for now (Retry-After in the date form; a wait of 0-1 s).
local function http_date(offset) return os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + (offset or 0)) end

-- Each fault: name, what it does, script(class path, method) -> /__emu/script
-- body (or prepare(emu, client) for token faults), client options, and the
-- outcome per class. max_retries is 2 everywhere.
local FAULTS = {
  { name = "delay 0.3 s before headers", script = { delay = 0.3 }, opts = { timeout = 5 },
    expect = each(OK(1, is_table)) },
  { name = "delay past the timeout", script = { delay = 3 }, opts = { timeout = 0.5 },
    expect = each(ERR("timeout", "REQUEST_TIMEOUT", nil, 1)) },
  { name = "slow drip of the body", script = { fault = "drip", delay_per_byte = 0.01 }, opts = { timeout = 10 },
    expect = each(OK(1, drip_value)) },
  { name = "slow drip past the timeout", script = { fault = "drip", delay_per_byte = 0.1 }, opts = { timeout = 0.4 },
    expect = each(ERR("timeout", "REQUEST_TIMEOUT", nil, 1)) },
  -- libcurl resends a request whose reused connection died before any answer
  -- byte; the module lets it do so for GET/PUT/DELETE and stops it for POST.
  { name = "reset before any response", script = { fault = "close" },
    expect = safe_post(OK(2, is_table), ERR("network", "NETWORK_ERROR", nil, 1, MAY_HAVE)) },
  { name = "reset before any response, twice", script = { fault = "close", times = 2 },
    expect = safe_post(ERR("network", "NETWORK_ERROR", nil, 2), ERR("network", "NETWORK_ERROR", nil, 1, MAY_HAVE)) },
  { name = "reset in the middle of the body", script = { fault = "reset_body" },
    expect = each(ERR("network", "NETWORK_ERROR", nil, 1)) },
  { name = "truncated body (Content-Length too long)", script = { fault = "truncate" },
    expect = each(ERR("network", "NETWORK_ERROR", nil, 1)) },
  -- libcurl 7.88 ends this transfer with CURLE_OK and status 200; the module
  -- notices that the header block never ended and reports it (a GET must not
  -- lose its data, a POST must not report success).
  { name = "headers cut short", script = { fault = "partial_headers" },
    expect = each(ERR("network", "NETWORK_ERROR", nil, 1)) },
  { name = "garbage instead of HTTP", script = { fault = "garbage" },
    expect = each(ERR("network", "NETWORK_ERROR", nil, 1)) },
  { name = "2xx with invalid JSON", script = { status = 200, body = "{not json" },
    expect = each(OK(1, function(v) return v == "{not json" end)) },
  { name = "body over the 64 MiB cap", script = { fault = "huge" }, opts = { timeout = 120 },
    expect = each(ERR("network", "NETWORK_ERROR", nil, 1, "64 MiB")) },
  { name = "429 Retry-After: 0 (seconds)",
    script = { status = 429, json = { error = "slow down" }, headers = { ["Retry-After"] = "0" } },
    expect = each(OK(2, is_table)) },
  { name = "429 Retry-After: HTTP-date",
    script = function() return { status = 429, json = { error = "slow down" }, headers = { ["Retry-After"] = http_date() } } end,
    expect = each(OK(2, is_table)) },
  { name = "429 three times (over max_retries)",
    script = { status = 429, times = 3, json = { error = "slow down" }, headers = { ["Retry-After"] = "0" } },
    expect = each(ERR("rate_limit", "RATE_LIMITED", 429, 3)) },
  { name = "429 Retry-After: 3600 (too long to wait)",
    script = { status = 429, json = { error = "later" }, headers = { ["Retry-After"] = "3600" } },
    expect = each(ERR("rate_limit", "RATE_LIMITED", 429, 1)) },
  { name = "500", script = { status = 500, json = { error = "boom" } },
    expect = each(ERR("http", "HTTP_500", 500, 1)) },
  { name = "502", script = { status = 502, body = "<html>bad gateway</html>" },
    expect = safe_post(OK(2, is_table), ERR("http", "HTTP_502", 502, 1)) },
  { name = "503", script = { status = 503, json = { error = "busy" } },
    expect = safe_post(OK(2, is_table), ERR("http", "HTTP_503", 503, 1)) },
  { name = "504", script = { status = 504, json = { error = "slow upstream", code = "UPSTREAM" } },
    expect = safe_post(OK(2, is_table), ERR("http", "UPSTREAM", 504, 1)) },
  { name = "503 three times (over max_retries)", script = { status = 503, times = 3, json = { error = "busy" } },
    expect = safe_post(ERR("http", "HTTP_503", 503, 3), ERR("http", "HTTP_503", 503, 1)) },
  -- The cached JWT is refused: one new /token, the call replayed once (a 401
  -- means nothing was executed, so a POST is replayed too; contract D14).
  { name = "token expired early (token_ttl 0)", token = "early", tokens = 2,
    expect = each(OK(2, is_table)) },
  { name = "token lifetime over (token_ttl 0.3, refreshed first)", token = "ttl", tokens = 1,
    opts = { token_skew = 0 }, expect = each(OK(1, is_table)) },
  { name = "token revoked (401 on the next call)", token = "revoke", tokens = 1,
    expect = each(OK(2, is_table)) },
  { name = "401 on the call and on its replay", script = { status = 401, times = 2, json = { error = "nope" } },
    tokens = 1, expect = each(ERR("auth", "AUTHENTICATION_FAILED", 401, 2)) },
  { name = "server never answers", script = { fault = "stall" }, opts = { timeout = 0.5 },
    expect = each(ERR("timeout", "REQUEST_TIMEOUT", nil, 1)) },
  { name = "headers, then the body never comes", script = { fault = "stall_body" }, opts = { timeout = 0.5 },
    expect = each(ERR("timeout", "REQUEST_TIMEOUT", nil, 1)) },
}

local function outcome_text(e)
  if e.ok then return "result" end
  return e.kind .. (e.status and (" " .. e.status) or "") .. " " .. e.code
end

-- The markdown rows of docs/reliability.md, one per fault.
local function table_rows()
  local rows = {}
  for _, f in ipairs(FAULTS) do
    local cells = { f.name .. (f.bug and " **(module bug: gets `true`)**" or "") }
    for _, cls in ipairs(CLASSES) do
      local e = f.expect[cls.name]
      cells[#cells + 1] = outcome_text(e) .. ", " .. e.arrivals .. "×"
    end
    rows[#rows + 1] = "| " .. table.concat(cells, " | ") .. " |"
  end
  return rows
end

describe("faults", function()
  local emu, inst, collector
  local ran = {}

  setup(function()
    emu = support.start()
    collector = support.collector()
    collector:secret(support.CLIENT_TOKEN)
    collector:secret(support.CLIENT_SECRET)
  end)
  teardown(function()
    emu:stop()
  end)

  -- A fresh emulator state for each case (no left-over scripts), one
  -- instance with a chat (for set_expiration), and a client whose one
  -- connection is warm (the token exchange opened it), so that the silent
  -- resend of libcurl behaves the same in every case.
  local function fresh(opts)
    emu:reset()
    emu:config({ client_token = support.CLIENT_TOKEN, client_secret = support.CLIENT_SECRET })
    inst = emu:new_instance("faults")
    collector:secret(inst.token)
    local o = { max_retries = 2, retry_backoff = 0.01 } -- counts are asserted, not backoff timing
    for k, v in pairs(opts or {}) do o[k] = v end
    local c = emu:client(o)
    local h = c:instance(inst.id, inst.token)
    assert(h.messages:send_text({ phone = support.PHONE, message = "creates the chat" }))
    emu:clear()
    return c, h
  end

  -- A token the emulator will refuse, handed to the client as valid for an
  -- hour by a scripted /token answer.
  local function expired_token()
    emu:config({ token_ttl = 0 })
    local _, res = emu:control("POST", "/token", { client_token = support.CLIENT_TOKEN,
                                                   client_secret = support.CLIENT_SECRET })
    emu:config({ token_ttl = 3600 })
    return res.access_token
  end

  for _, f in ipairs(FAULTS) do
    for _, cls in ipairs(CLASSES) do
      local e = f.expect[cls.name]
      it(f.name .. " / " .. cls.name, function()
        local c, h
        if f.token == "early" then
          c = fresh(f.opts)
          emu:script({ method = "POST", path = "/token", status = 200,
                       json = { access_token = expired_token(), expires_in = 3600 } })
          -- a new client (no cached token) gets the scripted answer
          c:close()
          c = emu:client({ max_retries = 2, retry_backoff = 0.01 })
          h = c:instance(inst.id, inst.token)
          emu:clear()
        elseif f.token == "ttl" then
          c = fresh(f.opts)
          c:close()
          emu:config({ token_ttl = 0.3 })
          c = emu:client({ max_retries = 2, retry_backoff = 0.01, token_skew = 0 })
          h = c:instance(inst.id, inst.token)
          assert(c.auth:get_access_token())
          emu:config({ token_ttl = 3600 })
          socket.sleep(0.4)
          emu:clear()
        elseif f.token == "revoke" then
          c, h = fresh(f.opts)
          emu:revoke()
        else
          c, h = fresh(f.opts)
          local s = type(f.script) == "function" and f.script() or f.script
          local body = { method = cls.method, path = cls.path(inst) }
          for k, v in pairs(s) do body[k] = v end
          emu:script(body)
        end

        local res, msg, err = cls.call(h)
        collector:add(f.name .. " / " .. cls.name, msg, err, tostring(c), tostring(h))
        collector:secrets_from(emu)
        local arrivals = emu:arrivals(cls.method, cls.path(inst))
        local tokens = emu:arrivals("POST", "/token")
        c:close()

        if e.ok then
          assert.is_nil(err, msg)
          assert.is_truthy(e.check(res), "unexpected result " .. tostring(res))
        else
          assert.is_nil(res)
          assert.is_true(vzaps.is_error(err))
          assert.equal(tostring(err), msg)
          assert.equal(e.kind, err.kind, msg)
          assert.equal(e.code, err.code, msg)
          assert.equal(e.status, err.status, msg)
          assert.equal(cls.method, err.method)
          assert.equal(cls.path(inst), err.path)
          if e.pattern then assert.matches(e.pattern, msg, 1, true) end
        end
        assert.equal(e.arrivals, arrivals, "arrivals of " .. cls.method .. " " .. cls.path(inst))
        if f.tokens then assert.equal(f.tokens, tokens, "POST /token arrivals") end
        ran[#ran + 1] = f.name .. " / " .. cls.name
      end)
    end
  end

  -- A plain LuaSocket listener that never accepts: the kernel completes the
  -- handshake, the request sits unread. The token exchange comes first, so
  -- it is the request that times out; nothing else is sent.
  for _, cls in ipairs(CLASSES) do
    it("listener that accepts and never answers / " .. cls.name, function()
      local server = assert(socket.bind("127.0.0.1", 0))
      local _, port = server:getsockname()
      local c = vzaps.new({ client_token = support.CLIENT_TOKEN, client_secret = support.CLIENT_SECRET,
                            base_url = "http://127.0.0.1:" .. port, timeout = 0.5, max_retries = 2 })
      local h = c:instance("VZSILENT", "instance-token-silent")
      local t0 = socket.gettime()
      local res, msg, err = cls.call(h)
      local took = socket.gettime() - t0
      collector:add("silent / " .. cls.name, res, msg, err)
      c:close()
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
      assert.equal("REQUEST_TIMEOUT", err.code)
      assert.equal("/token", err.path)
      assert.is_true(took < 5, "took " .. took .. " s")
      -- what reached the socket: one connection, one request (the token
      -- exchange), never retried
      server:settimeout(0.2)
      local requests = 0
      while true do
        local conn = server:accept()
        if not conn then break end
        conn:settimeout(0.2)
        local line = conn:receive("*l")
        if line and line:find("^POST /token HTTP") then requests = requests + 1 end
        conn:close()
      end
      server:close()
      assert.equal(1, requests)
    end)
  end

  -- Nothing listens: nothing was sent, so the module retries max_retries
  -- times, then reports a network error.
  for _, cls in ipairs(CLASSES) do
    it("connection refused / " .. cls.name, function()
      local c = vzaps.new({ client_token = support.CLIENT_TOKEN, client_secret = support.CLIENT_SECRET,
                            base_url = "http://127.0.0.1:" .. support.closed_port(), max_retries = 1 })
      local res, msg, err = cls.call(c:instance("VZREFUSED", "instance-token-refused"))
      collector:add("refused / " .. cls.name, res, msg, err)
      c:close()
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.equal("NETWORK_ERROR", err.code)
      assert.is_nil(err.status)
    end)
  end

  it("docs/reliability.md holds exactly the fault table these cases assert", function()
    local rows = table_rows()
    local out = os.getenv("VZAPS_FAULT_TABLE")
    if out then
      local fh = assert(io.open(out, "w"))
      fh:write(table.concat(rows, "\n"), "\n")
      fh:close()
    end
    local fh = assert(io.open("docs/reliability.md"))
    local doc = fh:read("*a")
    fh:close()
    for _, row in ipairs(rows) do
      assert.is_truthy(doc:find(row, 1, true), "docs/reliability.md lacks the row\n" .. row)
    end
  end)

  it("no secret in any result, message or error of the cases above", function()
    assert.is_true(#ran > 0)
    assert.is_true(collector.n > 0)
    assert.same({}, collector:leaks())
  end)
end)
