-- spec/media_spec.lua: vzaps.file(path [, mime]) and vzaps.bytes(data, mime)
-- (README "Media from local files"): the MIME type from the magic bytes,
-- then the extension, then the explicit argument; the checks that return
-- nil, msg, err before anything is sent (unreadable, directory, empty, too
-- large); and what reaches the wire through the emulator: every media field
-- as "data:<mime>;base64,...", a document's default file_name, and a 5 MiB
-- file round-tripped byte for byte, sent from C and by the Lua layer.
local wire = require("spec.support.wire")
local vzaps = require("vzaps")
local mime = require("mime") -- LuaSocket's base64, independent of the module

local PHONE = "+5511988887777"
local LIMIT = 100 * 1024 * 1024

local function b64(s) return (mime.b64(s)) end
local function data_url(type_, content) return "data:" .. type_ .. ";base64," .. b64(content) end

-- A scratch directory for the spec's files, removed at the end.
local dir
local function path(name) return dir .. "/" .. name end
local function write(name, content)
  local f = assert(io.open(path(name), "wb"))
  f:write(content)
  f:close()
  return path(name)
end
-- A sparse file of `size` bytes (nothing is written but its last byte).
local function sparse(name, size)
  local f = assert(io.open(path(name), "wb"))
  f:seek("set", size - 1)
  f:write("x")
  f:close()
  return path(name)
end

setup(function()
  dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
end)
teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

-- The failure tuple of a media value that cannot be made; returns err.
local function refused(code, ok, msg, err)
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.is_true(vzaps.is_error(err), "third value must be a vzaps error")
  assert.equals(tostring(err), msg)
  assert.equals("media", err.kind)
  assert.equals(code, err.code)
  assert.equals(LIMIT, err.details.limit)
  return err
end

-- A few bytes of each format, in a file without an extension (so only the
-- magic bytes can tell), and the MIME type they must give.
local MAGIC = {
  { "image/jpeg", "\255\216\255\224\0\16JFIF\0\1\1" },
  { "image/png", "\137PNG\r\n\26\n\0\0\0\rIHDR" },
  { "image/gif", "GIF89a\1\0\1\0\128\0\0" },
  { "image/gif", "GIF87a\1\0\1\0" },
  { "image/webp", "RIFF\36\0\0\0WEBPVP8 \24\0\0\0" },
  { "image/heic", "\0\0\0\24ftypheic\0\0\0\0mif1heic" },
  { "image/avif", "\0\0\0\28ftypavif\0\0\0\0avifmif1" },
  { "image/tiff", "II*\0\8\0\0\0" },
  { "video/mp4", "\0\0\0\24ftypisom\0\0\2\0isomiso2" },
  { "video/mp4", "\0\0\0\28ftypmp42\0\0\0\0mp42isom" },
  { "video/quicktime", "\0\0\0\20ftypqt  \0\0\0\0qt  " },
  { "video/3gpp", "\0\0\0\24ftyp3gp4\0\0\0\0isom" },
  { "video/webm", "\26\69\223\163\159\66\134\129\1\66\247\129\1\66\242\129\4\66\243\129\8\66\130\132webm" },
  { "video/x-matroska", "\26\69\223\163\163\66\134\129\1\66\247\129\1\66\130\136matroska" },
  { "video/x-msvideo", "RIFF\36\0\0\0AVI LIST" },
  { "audio/ogg", "OggS\0\2\0\0\0\0\0\0\0\0OpusHead" },
  { "audio/mpeg", "ID3\3\0\0\0\0\0\0" },
  { "audio/mpeg", "\255\251\144\100\0\0\0\0" },
  { "audio/aac", "\255\241\80\128\2\31\252" },
  { "audio/mp4", "\0\0\0\32ftypM4A \0\0\0\0M4A mp42" },
  { "audio/wav", "RIFF\36\0\0\0WAVEfmt " },
  { "audio/amr", "#!AMR\n\60\0\0" },
  { "audio/flac", "fLaC\0\0\0\34" },
  { "application/pdf", "%PDF-1.7\n%\226\227\207\211\n" },
  { "application/zip", "PK\3\4\20\0\0\0\8\0" },
  { "application/gzip", "\31\139\8\0\0\0\0\0" },
  { "application/vnd.rar", "Rar!\26\7\1\0" },
  { "application/x-7z-compressed", "7z\188\175\39\28\0\4" },
  { "application/rtf", "{\\rtf1\\ansi" },
  { "text/vcard", "BEGIN:VCARD\r\nVERSION:3.0\r\n" },
  { "application/octet-stream", "\0\1\2\3 nothing known" },
}

describe("vzaps.file", function()
  it("takes the MIME type from the magic bytes, for each kind", function()
    for i, case in ipairs(MAGIC) do
      local p = write("magic" .. i, case[2])
      local m = assert(vzaps.file(p))
      assert.equals(case[1], m.mime, "magic bytes of " .. case[1])
      assert.equals(#case[2], m.size)
      -- vzaps.bytes reads the same magic
      assert.equals(case[1], assert(vzaps.bytes(case[2])).mime)
    end
  end)

  it("prefers the magic bytes to the extension", function()
    assert.equals("image/png", assert(vzaps.file(write("really-a.jpg", MAGIC[2][2]))).mime)
    assert.equals("application/pdf", assert(vzaps.file(write("scan.png", "%PDF-1.4\n"))).mime)
  end)

  it("tells ZIP- and OLE2-based office documents apart by their extension", function()
    local zip, ole = "PK\3\4\20\0\6\0", "\208\207\17\224\161\177\26\225\0\0"
    local cases = {
      { "report.docx", zip, "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
      { "sheet.XLSX", zip, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
      { "deck.pptx", zip, "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
      { "text.odt", zip, "application/vnd.oasis.opendocument.text" },
      { "book.epub", zip, "application/epub+zip" },
      { "archive.zip", zip, "application/zip" },
      { "notes.txt", zip, "application/zip" }, -- a zip named .txt is a zip
      { "old.doc", ole, "application/msword" },
      { "old.xls", ole, "application/vnd.ms-excel" },
      { "old.ppt", ole, "application/vnd.ms-powerpoint" },
      { "old.bin", ole, "application/octet-stream" },
    }
    for _, case in ipairs(cases) do
      assert.equals(case[3], assert(vzaps.file(write(case[1], case[2]))).mime, case[1])
    end
  end)

  it("falls back on the extension (any case), then application/octet-stream", function()
    local cases = {
      { "notes.txt", "text/plain" }, { "NOTES.TXT", "text/plain" }, { "data.csv", "text/csv" },
      { "clip.mov", "video/quicktime" }, { "voice.opus", "audio/ogg" }, { "song.mp3", "audio/mpeg" },
      { "page.html", "text/html" }, { "script.lua", "text/x-lua" }, { "a.json", "application/json" },
      { "contact.vcf", "text/vcard" }, { "photo.JPEG", "image/jpeg" },
      { "file.unknownext", "application/octet-stream" }, { "noext", "application/octet-stream" },
      { ".profile", "application/octet-stream" }, { "trailing.", "application/octet-stream" },
    }
    for _, case in ipairs(cases) do
      assert.equals(case[2], assert(vzaps.file(write(case[1], "plain text, no magic\n"))).mime, case[1])
    end
  end)

  it("lets the explicit mime override both", function()
    local p = write("voice.ogg", MAGIC[16][2])
    assert.equals("audio/ogg; codecs=opus", assert(vzaps.file(p, "audio/ogg; codecs=opus")).mime)
    assert.equals("application/x-custom+json", assert(vzaps.file(p, "application/x-custom+json")).mime)
    assert.equals("image/png", assert(vzaps.bytes(MAGIC[1][2], "image/png")).mime)
  end)

  it("exposes mime, size, name, path and source; tostring never shows the content", function()
    local p = write("secret.txt", "TOP-SECRET-CONTENT")
    local m = assert(vzaps.file(p))
    assert.equals("text/plain", m.mime)
    assert.equals(18, m.size)
    assert.equals("secret.txt", m.name)
    assert.equals(p, m.path)
    assert.equals("file", m.source)
    assert.is_nil(m.other)
    assert.equals("vzaps.media (file, text/plain, 18 bytes)", tostring(m))
    local b = assert(vzaps.bytes("TOP-SECRET-CONTENT", "text/plain"))
    assert.equals("vzaps.media (bytes, text/plain, 18 bytes)", tostring(b))
    assert.equals("bytes", b.source)
    assert.is_nil(b.name)
    assert.is_nil(b.path)
    assert.equals("vzaps.media", getmetatable(m)) -- protected
    assert.has_error(function() setmetatable(m, nil) end)
  end)

  it("returns nil, msg, err for a path that cannot be read", function()
    local err = refused("MEDIA_UNREADABLE", vzaps.file(path("missing.png")))
    assert.matches("cannot read file '.*missing%.png': No such file or directory", err.message)
    assert.equals(path("missing.png"), err.details.path)
    local file = write("plain", "x")
    err = refused("MEDIA_UNREADABLE", vzaps.file(file .. "/below"))
    assert.matches("Not a directory", err.message)
    refused("MEDIA_UNREADABLE", vzaps.file(""))
    refused("MEDIA_UNREADABLE", vzaps.file("a\0b"))
  end)

  it("returns nil, msg, err for a file without read permission", function()
    local p = write("locked.jpg", MAGIC[1][2])
    os.execute("chmod 000 '" .. p .. "'")
    local f = io.open(p, "rb")
    if f then -- root reads anything: nothing to test here
      f:close()
      return
    end
    local err = refused("MEDIA_UNREADABLE", vzaps.file(p))
    assert.matches("Permission denied", err.message)
  end)

  it("returns nil, msg, err for a directory, a device, a FIFO and an empty file", function()
    local err = refused("MEDIA_NOT_A_FILE", vzaps.file(dir))
    assert.equals("vzaps: file '" .. dir .. "' is a directory", tostring(err))
    refused("MEDIA_NOT_A_FILE", vzaps.file("/dev/null"))
    local fifo = path("fifo")
    if os.execute("mkfifo '" .. fifo .. "' 2>/dev/null") then
      refused("MEDIA_NOT_A_FILE", vzaps.file(fifo)) -- at once: a FIFO is never opened
    end
    err = refused("MEDIA_EMPTY", vzaps.file(write("empty.pdf", "")))
    assert.matches("is empty$", err.message)
  end)

  it("returns nil, msg, err for a file above the 100 MiB media limit; the limit itself is fine", function()
    local err = refused("MEDIA_TOO_LARGE", vzaps.file(sparse("huge.mp4", LIMIT + 1)))
    assert.matches("larger than the 100 MiB limit", err.message)
    local m = assert(vzaps.file(sparse("edge.bin", LIMIT)))
    assert.equals(LIMIT, m.size)
    os.remove(path("huge.mp4"))
    os.remove(path("edge.bin"))
  end)

  it("raises on a path that is not a string, or a mime that is not a MIME type", function()
    local function raises(fn, head)
      local ok, msg = pcall(fn)
      assert.is_false(ok)
      assert.matches("media_spec%.lua:%d+: " .. head:gsub("[%(%)%.%-%[%]#']", "%%%0"), msg)
    end
    raises(function() vzaps.file() end, "bad argument #1 to 'file' (path must be a string, got nil)")
    raises(function() vzaps.file(42) end, "bad argument #1 to 'file' (path must be a string, got number)")
    raises(function() vzaps.file({}) end, "bad argument #1 to 'file' (path must be a string, got table)")
    local p = write("ok.png", MAGIC[2][2])
    raises(function() vzaps.file(p, 1) end, "bad argument #2 to 'file' (mime must be a string, got number)")
    for _, bad in ipairs({ "", "png", "image/", "/png", 'image/png"', "image/png,x", "image/p\ng", "ïmage/png",
                           "image\\/png", "image/p\0ng", ("a"):rep(130) .. "/b" }) do
      raises(function() vzaps.file(p, bad) end, "bad argument #2 to 'file' (mime must be a MIME type")
      raises(function() vzaps.bytes("x", bad) end, "bad argument #2 to 'bytes' (mime must be a MIME type")
    end
  end)
end)

describe("vzaps.bytes", function()
  it("keeps data in memory, with the type the magic bytes or mime give", function()
    local m = assert(vzaps.bytes("%PDF-1.4 ..."))
    assert.equals("application/pdf", m.mime)
    assert.equals(12, m.size)
    assert.equals("application/octet-stream", assert(vzaps.bytes("no magic")).mime)
  end)

  it("returns nil, msg, err for empty data and data above 100 MiB", function()
    refused("MEDIA_EMPTY", vzaps.bytes(""))
    refused("MEDIA_TOO_LARGE", vzaps.bytes(("x"):rep(LIMIT + 1)))
    collectgarbage()
  end)

  it("raises on data that is not a string", function()
    local ok, msg = pcall(function() vzaps.bytes(nil, "image/png") end)
    assert.is_false(ok)
    assert.matches("media_spec%.lua:%d+: bad argument #1 to 'bytes' %(data must be a string, got nil%)", msg)
  end)

  it("encodes with vzaps.json.encode too", function()
    assert.equals('{"a":"data:text/plain;base64,YWJj"}', vzaps.json.encode({ a = assert(vzaps.bytes("abc", "text/plain")) }))
    assert.equals('["data:application/octet-stream;base64,AA=="]', vzaps.json.encode({ assert(vzaps.bytes("\0")) }))
  end)
end)

-- Both ways of sending (from C, and by the Lua layer: http.lua) put the
-- same body on the wire.
for _, way in ipairs({ "from C", "by the Lua layer" }) do
  describe("media on the wire, sent " .. way, function()
    local ctx, c
    setup(function()
      ctx = wire.start("media " .. way)
      if way == "by the Lua layer" then
        vzaps._set_direct(false)
        c = ctx.emu:client({ max_retries = 0 })
        vzaps._set_direct(os.getenv("VZAPS_FAST_PATH") ~= "0")
        assert(c.auth:get_access_token())
        ctx.jwt = assert(c.auth:get_access_token())
      else
        c = ctx.client
      end
      ctx:clear()
    end)
    teardown(function()
      if c ~= ctx.client then c:close() end
      ctx:stop()
    end)
    before_each(function() ctx:clear() end)

    -- Every media field: {method, endpoint kind, field, magic sample, extra fields}
    local FIELDS = {
      { "send_image", "image", "image", 2 },
      { "send_audio", "audio", "audio", 16, { ptt = true } },
      { "send_video", "video", "video", 9 },
      { "send_document", "document", "document", 24 },
      { "send_sticker", "sticker", "sticker", 5 },
      { "send_gif", "gif", "gif", 3, { caption = "loop" } },
      { "send_link", "link", "jpeg_thumbnail", 1,
        { message = "See", link_url = "https://vzaps.com", title = "VZaps", link_description = "API" } },
    }
    for _, f in ipairs(FIELDS) do
      local name, kind, field, sample, extra = f[1], f[2], f[3], MAGIC[f[4]], f[5] or {}
      it("messages." .. name .. ": " .. field .. " from vzaps.file is a data URL", function()
        local content = sample[2] .. ("\0\1\2\255"):rep(100)
        local args = { phone = PHONE, [field] = assert(vzaps.file(write("sample-" .. field, content))) }
        for k, v in pairs(extra) do args[k] = v end
        assert(c.messages[name](c.messages, ctx:req(args)))
        local want = { phone = PHONE, [field] = data_url(sample[1], content) }
        for k, v in pairs(extra) do want[k] = v end
        if field == "document" then want.file_name = "sample-document" end
        ctx:wire({ method = "POST", path = "~/chat/send/" .. kind, body = want })
      end)
    end

    it("send_document: file_name defaults to the base name; a given one is kept; bytes have none", function()
      local doc = assert(vzaps.file(write("price list.pdf", "%PDF-1.4\n...")))
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = doc, caption = "prices" })))
      ctx:wire({ method = "POST", path = "~/chat/send/document",
                 body = { phone = PHONE, document = data_url("application/pdf", "%PDF-1.4\n..."),
                          file_name = "price list.pdf", caption = "prices" } })
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = doc, file_name = "2026.pdf" })))
      ctx:wire({ method = "POST", path = "~/chat/send/document",
                 body = { phone = PHONE, document = data_url("application/pdf", "%PDF-1.4\n..."), file_name = "2026.pdf" } })
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = assert(vzaps.bytes("%PDF-1.4\n...")) })))
      ctx:wire({ method = "POST", path = "~/chat/send/document",
                 body = { phone = PHONE, document = data_url("application/pdf", "%PDF-1.4\n...") }, absent = { "file_name" } })
      -- a name that needs JSON escaping
      local odd = assert(vzaps.file(write('q"uote\\.txt', "hi")))
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = odd })))
      ctx:wire({ method = "POST", path = "~/chat/send/document",
                 body = { phone = PHONE, document = data_url("text/plain", "hi"), file_name = 'q"uote\\.txt' } })
    end)

    it("on an instance handle, and in client:request bodies (sent as given: no file_name added)", function()
      local img = assert(vzaps.file(write("pic.png", MAGIC[2][2])))
      local h = c:instance(ctx.id, ctx.tok)
      assert(h.messages:send_image({ phone = PHONE, image = img, caption = "hi" }))
      ctx:wire({ method = "POST", path = "~/chat/send/image",
                 body = { phone = PHONE, image = data_url("image/png", MAGIC[2][2]), caption = "hi" } })
      local doc = assert(vzaps.file(write("r.pdf", "%PDF-1.4")))
      assert(c:request("POST", ctx.base .. "/chat/send/document", { instance_token = ctx.tok,
        body = { phone = PHONE, document = doc, list = { img } } }))
      ctx:wire({ method = "POST", path = "~/chat/send/document",
                 body = { phone = PHONE, document = data_url("application/pdf", "%PDF-1.4"),
                          list = { data_url("image/png", MAGIC[2][2]) } } })
      assert(c.messages:send(ctx.id, "send/image", { phone = PHONE, image = img }, { instance_token = ctx.tok }))
      ctx:wire({ method = "POST", path = "~/chat/send/image",
                 body = { phone = PHONE, image = data_url("image/png", MAGIC[2][2]) } })
    end)

    it("reads the file again for each call that sends it", function()
      local p = write("again.txt", "first")
      local m = assert(vzaps.file(p))
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = m })))
      ctx:wire({ method = "POST", path = "~/chat/send/document",
                 body = { phone = PHONE, document = data_url("text/plain", "first"), file_name = "again.txt" } })
      write("again.txt", "second, longer")
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = m })))
      ctx:wire({ method = "POST", path = "~/chat/send/document",
                 body = { phone = PHONE, document = data_url("text/plain", "second, longer"), file_name = "again.txt" } })
    end)

    it("returns nil, msg, err, sending nothing, for a file above its field's WhatsApp limit", function()
      local cases = {
        { "send_image", "image", 5 * 1024 * 1024 }, { "send_video", "video", 16 * 1024 * 1024 },
        { "send_audio", "audio", 16 * 1024 * 1024 }, { "send_gif", "gif", 16 * 1024 * 1024 },
        { "send_sticker", "sticker", 500 * 1024 },
      }
      for _, case in ipairs(cases) do
        local name, field, limit = case[1], case[2], case[3]
        local m = assert(vzaps.file(sparse("big-" .. field, limit + 1)))
        local res, msg, err = c.messages[name](c.messages, ctx:req({ phone = PHONE, [field] = m }))
        assert.is_nil(res)
        assert.equals(tostring(err), msg)
        assert.equals("media", err.kind)
        assert.equals("MEDIA_TOO_LARGE", err.code)
        assert.equals(field, err.details.field)
        assert.equals(limit, err.details.limit)
        assert.matches("field '" .. field .. "'", msg, 1, true)
        assert.matches("nothing was sent", msg, 1, true)
        assert.equals(0, #ctx.emu:api_requests(), name .. " reached the wire")
      end
      -- the limit itself is fine, and a document may be up to 100 MiB
      local m = assert(vzaps.file(sparse("sticker-at-limit", 500 * 1024)))
      assert(c.messages:send_sticker(ctx:req({ phone = PHONE, sticker = m })))
      assert.equals(1, #ctx.emu:api_requests())
    end)

    -- The world's fault, not the caller's: nil, msg, err (kind media) and
    -- nothing sent, from every entry point and both ways of sending.
    local function media_failure(code, text, ok, msg, err)
      assert.is_nil(ok)
      assert.is_true(vzaps.is_error(err), "third value must be a vzaps error")
      assert.equals("media", err.kind)
      assert.equals(code, err.code)
      assert.truthy(msg:find(text, 1, true), msg)
      assert.truthy(msg:find("nothing was sent", 1, true), msg)
      assert.equals(0, #ctx.emu:api_requests())
    end

    it("returns a media failure, sending nothing, when the file cannot be read any more", function()
      local m = assert(vzaps.file(write("gone.png", MAGIC[2][2])))
      os.remove(path("gone.png"))
      media_failure("MEDIA_UNREADABLE", "field 'image': cannot read file 'gone.png': No such file or directory",
        c.messages:send_image(ctx:req({ phone = PHONE, image = m })))
      write("gone.png", "")
      media_failure("MEDIA_EMPTY", "field 'image': file 'gone.png' is empty",
        c.messages:send_image(ctx:req({ phone = PHONE, image = m })))
      sparse("gone.png", LIMIT + 1)
      media_failure("MEDIA_TOO_LARGE", "larger than the 100 MiB limit",
        c.messages:send_image(ctx:req({ phone = PHONE, image = m })))
      os.remove(path("gone.png"))
      media_failure("MEDIA_UNREADABLE", "body: field 'image': cannot read file 'gone.png'",
        c:request("POST", ctx.base .. "/chat/send/image", { instance_token = ctx.tok, body = { image = m } }))
      -- inside a job too (the Lua layer)
      local job = c:spawn(function() return c.messages:send_image(ctx:req({ phone = PHONE, image = m })) end)
      while not job:done() do c:pump(0.05) end
      media_failure("MEDIA_UNREADABLE", "cannot read file 'gone.png'", job:result())
      -- the client still works
      assert(c.messages:send_text(ctx:req({ phone = PHONE, message = "still here" })))
    end)

    it("reads a file as it is when sent: a new size is sent as the file now is", function()
      local p = write("moving.pdf", "%PDF-1.4 " .. ("x"):rep(1000))
      local m = assert(vzaps.file(p))
      write("moving.pdf", "%PDF-1.4 " .. ("y"):rep(2000))
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = m })))
      local body = ctx.emu:api_requests()[1].json
      assert.equals(b64("%PDF-1.4 " .. ("y"):rep(2000)), body.document:match(",(.*)$"))
      ctx:clear()
    end)

    -- A file that gives fewer bytes than its size said, while it is read: a
    -- sysfs attribute reports 4096 bytes and holds a few.
    local SHORT = "/sys/devices/system/cpu/online"
    local short = io.open(SHORT, "rb")
    if short then short:close() end
    local it_short = short and it or pending
    it_short("returns MEDIA_CHANGED when the file got shorter while it was read (" .. SHORT .. ")", function()
      local m = assert(vzaps.file(SHORT, "text/plain"))
      media_failure("MEDIA_CHANGED", "file 'online' changed after vzaps.file (it got shorter while being read)",
        c.messages:send_document(ctx:req({ phone = PHONE, document = m })))
    end)

    it("round-trips a 5 MiB file byte for byte", function()
      local f = assert(io.open("/dev/urandom", "rb"))
      local content = f:read(5 * 1024 * 1024)
      f:close()
      assert.equals(5 * 1024 * 1024, #content)
      local p = write("big.bin", "%PDF-1.7\n" .. content)
      content = "%PDF-1.7\n" .. content
      local m = assert(vzaps.file(p))
      assert.equals(#content, m.size)
      assert(c.messages:send_document(ctx:req({ phone = PHONE, document = m, caption = "5 MiB" })))
      local list = ctx.emu:api_requests()
      assert.equals(1, #list)
      local r = list[1]
      assert.equals(tostring(#r.body), r.headers["content-length"])
      local url = r.json.document
      local prefix = "data:application/pdf;base64,"
      assert.equals(prefix, url:sub(1, #prefix))
      local encoded = url:sub(#prefix + 1)
      assert.equals(4 * math.ceil(#content / 3), #encoded)
      assert.is_true(mime.unb64(encoded) == content, "the decoded upload differs from the file")
      assert.is_true(encoded == b64(content), "the base64 differs from LuaSocket's")
      assert.equals("big.bin", r.json.file_name)
      assert.equals("5 MiB", r.json.caption)
      ctx:clear()
    end)
  end)
end
