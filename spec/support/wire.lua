-- spec/support/wire.lua: shared fixture of the spec/resources/ specs. One
-- emulator, one client and one instance per spec file; helpers that check
-- the one request an operation put on the wire (as the emulator recorded
-- it: method, raw path, raw query, headers, raw and decoded body) and the
-- argument errors raised before anything is sent (the contract
-- §2.3, §3, §4; the API description "How arguments map").
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")
local assert = require("luassert")

local M = {}
M.UA = "VZaps.SDK.Lua/" .. vzaps.VERSION
M.json = emulator.json

local Ctx = {}
Ctx.__index = Ctx

-- Starts the emulator, a client (no retries: every call is one request) and
-- an instance; the request log is cleared.
function M.start(name)
  local emu = emulator.start()
  local client = emu:client({ max_retries = 0 })
  local inst = assert(client.instances:create({ name = name or "resources spec" }))
  local ctx = setmetatable({ emu = emu, client = client, id = inst.id, tok = inst.token, instance = inst }, Ctx)
  ctx.jwt = assert(client.auth:get_access_token())
  ctx.base = "/instances/" .. inst.id
  ctx.opts = { instance_token = inst.token }
  emu:clear()
  return ctx
end

function Ctx:stop()
  self.client:close()
  self.emu:stop()
end

function Ctx:clear() self.emu:clear() end

-- A request table with instance_id and instance_token filled in.
function Ctx:req(t)
  local out = { instance_id = self.id, instance_token = self.tok }
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

-- Control routes of the emulator (never recorded).
function Ctx:control(method, path, body)
  return self.emu:control(method, path, body)
end
function Ctx:connect(body)
  local code, res = self.emu:control("POST", "/__emu/instances/" .. self.id .. "/connect", body)
  assert.equals(200, code)
  return res
end
function Ctx:process_queue()
  local code, res = self.emu:control("POST", "/__emu/instances/" .. self.id .. "/process-queue")
  assert.equals(200, code)
  return res
end

-- The one API request (not /token) since the last clear; the log is cleared.
-- want = {
--   method, path (raw, after base when it starts with "~"), query (raw, "" by default),
--   body = table|nil  (nil: no body at all),
--   raw = {plain substrings the raw body must contain},
--   absent = {keys that must not be in the body},
--   instance_token (default: the fixture's token; false: none),
-- }
function Ctx:wire(want)
  local list = self.emu:api_requests()
  assert.equals(1, #list, "expected exactly one API request, got " .. #list)
  local r = list[1]
  local path = want.path
  if path:sub(1, 1) == "~" then path = self.base .. path:sub(2) end
  assert.equals(want.method, r.method)
  assert.equals(path, r.path)
  assert.equals(want.query or "", r.query or "")
  local h = r.headers
  assert.equals("Bearer " .. self.jwt, h.authorization)
  assert.equals(emulator.CLIENT_TOKEN, h["x-client-token"])
  assert.equals("application/json", h.accept)
  assert.equals(M.UA, h["user-agent"])
  local tok = want.instance_token
  if tok == nil then tok = self.tok end
  if tok == false then tok = nil end
  assert.equals(tok, h["x-instance-token"])
  if want.body ~= nil then
    assert.equals("application/json", h["content-type"])
    assert.is_true(#r.body > 0, "expected a body")
    assert.equals(tostring(#r.body), h["content-length"])
    assert.same(want.body, r.json)
    for _, k in ipairs({ "instance_id", "instance_token" }) do
      assert.is_nil(r.body:find('"' .. k .. '"', 1, true), k .. " must never be in the body")
    end
  else
    assert.is_nil(h["content-type"], "a bodiless request carries no Content-Type")
    assert.equals("", r.body or "", "expected no body")
    if r.method == "POST" or r.method == "PUT" or r.method == "PATCH" then
      assert.equals("0", h["content-length"], "bodiless " .. r.method .. " sends Content-Length: 0")
    end
  end
  for _, s in ipairs(want.raw or {}) do
    assert(r.body:find(s, 1, true), ("expected %q in the body %q"):format(s, r.body))
  end
  for _, k in ipairs(want.absent or {}) do
    assert.is_nil(r.body:find('"' .. k .. '"', 1, true), k .. " must not be in the body " .. r.body)
  end
  self.emu:clear()
  return r
end

-- The failure tuple's shape (nil, tostring(err), a vzaps error); returns err.
function M.tuple(ok, msg, err)
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.is_true(vzaps.is_error(err), "third value must be a vzaps error")
  assert.equals(tostring(err), msg)
  return err
end

-- A call expected to fail with the failure tuple and this status; returns err.
function M.failure(status, ok, msg, err)
  M.tuple(ok, msg, err)
  assert.equals(status, err.status)
  return err
end

-- fn must raise `bad argument #n to 'name' (...why...)` and send nothing at
-- all; why is a plain substring (the field name, usually).
function Ctx:arg_error(fn, n, name, why)
  self.emu:clear()
  local ok, msg = pcall(fn)
  assert.is_false(ok, "expected an argument error")
  assert.is_string(msg)
  local head = ("bad argument #%d to '%s' ("):format(n, name)
  local at = msg:find(head, 1, true)
  assert(at, ("expected %q in %q"):format(head, msg))
  assert.matches("%)$", msg)
  if why then assert(msg:find(why, at + #head, true), ("expected %q in %q"):format(why, msg)) end
  assert.equals(0, #self.emu:requests(), "nothing may be sent before an argument error")
  return msg
end

-- Sends a text message through the API and returns its id (log cleared).
function Ctx:send_text(phone, text)
  local res = assert(self.client.messages:send_text(self:req({ phone = phone or "5511988887777", message = text or "hello" })))
  self.emu:clear()
  return res.data.message_id
end

return M
