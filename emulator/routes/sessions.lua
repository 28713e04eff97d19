-- §4.3 Sessions. The phone side (scanning the QR / entering the pair code) is
-- simulated with POST /__emu/instances/{id}/connect.
local json = require("lib.json")
local state = require("lib.state")
local api = require("lib.api")
local events = require("lib.events")

local M = {}

function M.disconnect(inst, reason)
  local was = inst.status
  inst.status = "disconnected"
  inst.phone = json.null
  inst.session.connected_at = nil
  state.touch(inst)
  if was == "connected" then
    events.emit(inst.id, "Disconnected", { reason = reason or "logout" })
  end
end

local function status(req)
  local inst = req.instance
  if inst.status ~= "connected" then
    return 200, { code = 200, success = true, data = { connected = false } }
  end
  local phone = inst.phone
  local name = inst.session.push_name or inst.name
  return 200, { code = 200, success = true, data = {
    connected = true,
    phone = phone,
    whatsapp_jid = phone .. "@s.whatsapp.net",
    push_name = name,
    business_name = name,
    business_profile = {
      business_hours_timezone = "America/Sao_Paulo",
      categories = json.array({ { id = "133436743388217", name = "Software" } }),
      profile_options = { commerce_experience = "none" },
      address = "Av. Paulista, 1000, Sao Paulo",
      email = "contact@vzaps.local",
    },
    profile_picture_id = "1700000000",
    profile_picture_url = "https://pps.whatsapp.local/v/" .. phone .. ".jpg",
    profile_url = "https://wa.me/" .. phone,
    verified_name = name,
    about = "Hey there! I am using WhatsApp.",
    website = "https://vzaps.local",
  } }
end

local function qr(req)
  local inst = req.instance
  if inst.status == "connected" then api.conflict("instance already connected") end
  local code = "2@" .. state.hex(24) .. "," .. state.hex(16) .. "," .. state.hex(16)
  inst.session.qr = code
  return api.ok({ qr_code = code, expires_in = 60, status = "waiting_scan" })
end

local function paircode(req)
  local inst = req.instance
  if inst.status == "connected" then api.conflict("instance already connected") end
  local phone = req.params.phone
  if not phone:find("%d") then api.bad("phone must contain digits") end
  local alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ123456789"
  local bytes, code = require("openssl.rand").bytes(8), {}
  for i = 1, 8 do
    local k = bytes:byte(i) % #alphabet + 1
    code[i] = alphabet:sub(k, k)
  end
  inst.session.pair_phone = phone
  inst.session.pair_code = table.concat(code)
  return api.ok({ pair_code = inst.session.pair_code, phone = phone, expires_in = 160 })
end

local function disconnect(req)
  local inst = req.instance
  M.disconnect(inst, "logout")
  return api.ok({ connected = false, status = "disconnected",
                  details = "session disconnected" })
end

setmetatable(M, { __call = function(_, r)
  r:get("/instances/:id/session/status", status)
  r:get("/instances/:id/session/qr", qr)
  r:get("/instances/:id/session/paircode/:phone", paircode)
  r:post("/instances/:id/session/disconnect", disconnect)
end })

return M
