-- 14: send media from local files and from memory (vzaps.file, vzaps.bytes):
-- an image, a document with its file name, a voice note with an explicit
-- MIME type, and what happens with a file that cannot be sent.
--   lua5.4 examples/14-send-media-from-file.lua [phone]
local vzaps = require("vzaps")
local config = require("config")

local client <close> = config.client()
local created = assert(client.instances:create({ name = "Media from files" }))
local inst = client:instance(created.id, created.token)
local phone = arg[1] or os.getenv("VZAPS_PHONE") or "+5511988887777"

local function report(what, res) print(("%-9s %s (%s)"):format(what, res.data.message_id, res.data.status)) end

-- A 1x1 PNG written to a temporary file, as if it came from a camera or a
-- report generator. vzaps.file checks the file now and reads it only when
-- the request is built, straight from the file into the request body.
local png_path = os.tmpname()
local f = assert(io.open(png_path, "wb"))
f:write("\137PNG\13\10\26\10\0\0\0\13IHDR\0\0\0\1\0\0\0\1\8\6\0\0\0\31\21\196\137\0\0\0\13IDATx\218cd\248\207P"
  .. "\15\0\3\134\1\128Z4}k\0\0\0\0IEND\174B`\130")
f:close()

local image = assert(vzaps.file(png_path))  -- the type comes from the file's first bytes
print(tostring(image))                       -- vzaps.media (file, image/png, 70 bytes)
report("image", assert(inst.messages:send_image({ phone = phone, image = image, caption = "Today's chart" })))

-- A document: without file_name, the file's base name is sent
-- (here "14-send-media-from-file.lua", typed text/x-lua by its extension).
local script = assert(vzaps.file(arg[0]))
report("document", assert(inst.messages:send_document({ phone = phone, document = script })))
-- ... or name it yourself.
report("document", assert(inst.messages:send_document({ phone = phone, document = image, file_name = "chart.png" })))

-- Data already in memory: vzaps.bytes, with the MIME type you know better
-- than the magic bytes (WhatsApp voice notes are Ogg Opus).
local ogg = "OggS\0\2" .. ("\0"):rep(64)  -- stand-in bytes for a recording
report("audio", assert(inst.messages:send_audio({
  phone = phone, audio = assert(vzaps.bytes(ogg, "audio/ogg; codecs=opus")), ptt = true,
})))

-- Files that cannot be sent give nil, msg, err before anything is sent.
local _, msg, err = vzaps.file("/tmp")
print(("refused  %s [%s]"):format(msg, err.code))        -- a directory
os.remove(png_path)
_, msg, err = vzaps.file(png_path)
print(("refused  %s [%s]"):format(msg, err.code))        -- gone
-- A value whose file disappeared afterwards raises when the call is built.
local ok, raised = pcall(inst.messages.send_image, inst.messages, { phone = phone, image = image })
print(("raised   %s"):format(ok and "nothing?" or raised))

assert(inst.instances:delete())
