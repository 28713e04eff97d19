-- 08: send media (image, document, audio, location, contact) and
-- interactive messages (buttons, list, link preview), then download a
-- received image.
--   lua5.4 examples/08-send-media-and-interactive.lua [phone]
local config = require("config")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Media demo" }))
local inst = client:instance(created.id, created.token)
local phone = arg[1] or os.getenv("VZAPS_PHONE") or "+5511988887777"

local function report(what, res) print(("%-9s %s (%s)"):format(what, res.data.message_id, res.data.status)) end

-- Media is given as a URL (or a data URI / base64, as the API accepts).
report("image", assert(inst.messages:send_image({
  phone = phone, image = "https://picsum.photos/seed/vzaps/640/480.jpg", caption = "Our new office",
})))
report("document", assert(inst.messages:send_document({
  phone = phone, document = "https://example.com/files/price-list.pdf", file_name = "price-list.pdf",
})))
report("audio", assert(inst.messages:send_audio({
  phone = phone, audio = "https://example.com/files/hello.ogg", ptt = true, -- a voice note
})))
report("location", assert(inst.messages:send_location({
  phone = phone, latitude = -23.5613, longitude = -46.6565, name = "MASP", address = "Av. Paulista, 1578",
})))
report("contact", assert(inst.messages:send_contact({
  phone = phone, contact_name = "VZaps Support", contact_phone = "5511900001111",
})))

report("buttons", assert(inst.messages:send_buttons({
  phone = phone, message = "Did this solve your problem?", footer = "Support",
  buttons = { { id = "yes", text = "Yes" }, { id = "no", text = "No, talk to a person" } },
})))
report("list", assert(inst.messages:send_list({
  phone = phone, title = "Menu", description = "What do you need?", button_text = "Open menu",
  sections = {
    { title = "Orders", rows = { { id = "track", title = "Track my order" },
                                 { id = "cancel", title = "Cancel an order", description = "within 7 days" } } },
    { title = "Other", rows = { { id = "human", title = "Talk to a person" } } },
  },
})))
report("link", assert(inst.messages:send_link({
  phone = phone, message = "Our docs: https://vzaps.com/docs", link_url = "https://vzaps.com/docs",
  title = "VZaps docs", link_description = "WhatsApp API for developers",
})))

-- The API checks what the module cannot: an out-of-range latitude is a 400.
local _, msg, err = inst.messages:send_location({ phone = phone, latitude = 123, longitude = 0 })
print("bad location: " .. msg .. " [code " .. err.code .. "]")

-- Downloading media of an incoming message: pass its media fields through.
local media = assert(inst.messages:download_image({
  url = "https://mmg.whatsapp.net/v/t62.7118-24/example.enc", media_key = "bWVkaWEta2V5", mimetype = "image/jpeg",
}))
print(("downloaded %s, %d base64 characters"):format(media.data.mimetype, #media.data.data))

assert(inst.instances:delete())
