-- 04: connect an instance to WhatsApp: read the session status, get a QR
-- code or a pair code, see it connect, then log the session out.
--   lua5.4 examples/04-session-and-pairing.lua
local config = require("config")
local emu = require("emu")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Pairing demo" }))
local inst = client:instance(created.id, created.token) -- fills instance_id and the token in

local status = assert(inst.sessions:status())
print("connected? " .. tostring(status.data.connected))

-- Either show this QR code to the phone (WhatsApp > Linked devices) ...
local qr = assert(inst.sessions:qr())
print("QR code (render it as an image): " .. qr.data.qr_code:sub(1, 24) .. "...")

-- ... or ask for a code the user types on the phone instead.
local phone = os.getenv("VZAPS_PHONE") or "+5511988887777"
local pc = assert(inst.sessions:pair_code(phone))
print("pair code for " .. phone .. ": " .. pc.data.pair_code)

-- With the real API a person now scans the QR code or types the pair code
-- on the phone. Against the local emulator nobody does: its control route
-- (POST /__emu/instances/{id}/connect) plays the phone's part.
emu.connect(client, created.id)

status = assert(inst.sessions:status())
if status.data.connected then
  print(("connected as %s (%s)"):format(status.data.push_name, status.data.whatsapp_jid))
  -- A QR code is only for a disconnected session: this one answers 409.
  local _, msg = inst.sessions:qr()
  print("asking for a QR code now: " .. msg)
end

local out = assert(inst.sessions:disconnect())
print("disconnect: " .. out.data.status)
print("connected? " .. tostring(assert(inst.sessions:status()).data.connected))

assert(inst.instances:delete())
