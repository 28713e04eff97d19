-- The decoder's string cache and its member memo (src/json_decode.c): an
-- answer decodes to the same value whatever the answers before it held.
-- The memo remembers, per level and position, the cache slot of the last
-- object's key and string value (and of an array's strings), and tries it
-- first; these answers are built to defeat it: keys of the same length with
-- other bytes, a memo's bytes followed by an escape or by more bytes,
-- escaped forms of remembered strings, empty and over-long strings, more
-- members and items than the memo has places, deep nesting. Each answer is
-- scripted in the emulator and fetched over HTTP (so decoded with the
-- client's cache, as every answer is), then compared with the decoder that
-- uses no cache (vzaps.json.decode).
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")

-- Equal values, metatables aside (both decoders give arrays the same one):
-- luassert's own comparison, as assert.same uses it.
local same = require("luassert.util").deepcompare

-- Strings chosen to collide with each other in the memo: same lengths,
-- shared prefixes, escapes that decode to a neighbour, the cache's length
-- limit (40) on both sides.
local WORDS = {
  "id", "ib", "di", "status", "statux", "stat", "status2", "", "a",
  [[st\u0061tus]], [[stat\"us]], [[status\n]], [[\u00e9t\u00e9]], "été",
  string.rep("k", 39), string.rep("k", 40), string.rep("k", 41), string.rep("k", 39) .. "j",
  "connected", "connecteD", "Connected", "MessageStatus", "Message",
}

local function word(rnd) return '"' .. WORDS[rnd(#WORDS)] .. '"' end

-- A container is either wide (more members or items than the memo's 32
-- places, holding only strings and numbers) or small and nested, so that
-- an answer stays a few kilobytes.
local value
local function object(rnd, depth)
  local parts, wide = {}, rnd(4) == 1
  for i = 1, wide and 40 or rnd(6) - 1 do
    parts[i] = word(rnd) .. (rnd(4) == 1 and " : " or ":") .. value(rnd, wide and 99 or depth + 1)
  end
  return "{" .. table.concat(parts, rnd(5) == 1 and " ,\n" or ",") .. "}"
end

local function array(rnd, depth)
  local parts, wide = {}, rnd(4) == 1
  for i = 1, wide and 36 or rnd(5) - 1 do parts[i] = value(rnd, wide and 99 or depth + 1) end
  return "[" .. table.concat(parts, ",") .. "]"
end

function value(rnd, depth)
  local r = rnd(depth > 5 and 3 or 6)
  if r <= 2 then return word(rnd) end
  if r == 3 then return tostring(rnd(1000)) end
  if r == 4 then return object(rnd, depth) end
  if r == 5 then return array(rnd, depth) end
  return rnd(2) == 1 and "null" or "true"
end

describe("decoded answers, through the string cache and its memo", function()
  local emu, client
  emulator.fixture({ max_retries = 0 }, function(e, c) emu, client = e, c end)

  -- The answers of texts, one request each, against the decoder without a cache.
  local function fetch_all(texts)
    for n, text in ipairs(texts) do
      emu:script({ method = "GET", path = "/shapes", status = 200, body = text, headers = { ["Content-Type"] = "application/json" } })
      local got = assert(client:request("GET", "/shapes", { no_auth = true }))
      local want = vzaps.json.decode(text)
      if not same(got, want, true) then error(("answer %d decoded differently: %s"):format(n, text)) end
    end
  end

  it("are what the decoder without a cache gives, answer after answer", function()
    local texts = {}
    -- a fixed seed: the same answers on every run and every Lua
    local seed = 12345
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    for i = 1, 300 do texts[i] = object(rnd, 0) end
    -- the same shapes again, so that memo places are filled when tried
    for i = 1, 100 do texts[#texts + 1] = texts[i] end
    fetch_all(texts)
    assert.equals(#texts, #emu:requests())
  end)

  it("holds a string the memo remembers when its next use is escaped, longer or shorter", function()
    local bodies = {
      '{"status":"connected","id":"a","events":["Message","Connected"]}',
      '{"st\\u0061tus":"connecte\\u0064","id":"b","events":["Messag\\u0065","Connected!"]}',
      '{"statusX":"connectedX","idid":"c","events":["MessageX","Connecte"]}',
      '{"stat":"connect","i":"d","events":["Mess","C"]}',
      '{"status":"connected","id":"a","events":["Message","Connected"]}',
    }
    fetch_all(bodies)
    assert.same({ statusX = "connectedX", idid = "c", events = { "MessageX", "Connecte" } },
      vzaps.json.decode(bodies[3]))
  end)
end)
