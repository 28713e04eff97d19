-- Conversion between Lua and JSON, through vzaps.json and on the wire
-- (raw request bodies as the emulator received them).
local emulator = require("spec.support.emulator")
local vzaps = require("vzaps")
local json = vzaps.json
local compat = require("spec.support.compat")

describe("JSON decoding", function()
  compat.it_if("integers", "keeps integers integers and floats floats", function()
    local v = json.decode('{"a":1,"b":-7,"c":1.5,"d":1e2,"e":0,"f":-0}')
    assert.equal(1, v.a)
    assert.equal("integer", math.type(v.a))
    assert.equal("integer", math.type(v.b))
    assert.equal("float", math.type(v.c))
    assert.equal("float", math.type(v.d))
    assert.equal(100, v.d)
    assert.equal("integer", math.type(v.e))
    assert.equal("float", math.type(v.f))
  end)

  compat.it_if("doubles", "decodes every number as a double, integral ones exactly", function()
    local v = json.decode('{"a":1,"b":-7,"c":1.5,"d":1e2,"e":0,"f":-0}')
    assert.equal(1, v.a)
    assert.equal(-7, v.b)
    assert.equal(1.5, v.c)
    assert.equal(100, v.d)
    assert.equal(0, v.e)
    assert.equal(-math.huge, 1 / v.f) -- "-0" keeps its sign
  end)

  compat.it_if("doubles", "decodes integers up to 2^53 exactly, larger ones as the nearest double", function()
    local v = json.decode("[9007199254740992,-9007199254740992,9007199254740993,9223372036854775807]")
    assert.equal(2 ^ 53, v[1])
    assert.equal(-2 ^ 53, v[2])
    assert.equal(2 ^ 53, v[3]) -- 2^53 + 1 has no double
    assert.equal(2 ^ 63, v[4])
  end)

  compat.it_if("integers", "decodes 64-bit integers exactly, and overflowing ones as floats", function()
    local v = json.decode("[9007199254740993,9223372036854775807,-9223372036854775808,9223372036854775808,123456789012345678]")
    assert.equal(9007199254740993, v[1])
    assert.equal(math.maxinteger, v[2])
    assert.equal(math.mininteger, v[3])
    assert.equal("float", math.type(v[4]))
    assert.equal(123456789012345678, v[5])
  end)

  it("decodes null as vzaps.null and keeps the key", function()
    local v = json.decode('{"a":null,"b":[null,1]}')
    assert.equal(vzaps.null, v.a)
    assert.equal(vzaps.null, v.b[1])
    assert.equal(2, #v.b)
  end)

  it("marks arrays so that empty ones round-trip", function()
    local v = json.decode('{"list":[],"obj":{}}')
    assert.equal('[]', json.encode(v.list))
    assert.equal('{}', json.encode(v.obj))
  end)

  it("decodes escapes, surrogate pairs and raw UTF-8", function()
    local v = json.decode([["a\"b\\c\/d\n\t\u00e9\ud83d\ude00 ção"]])
    assert.equal('a"b\\c/d\n\té😀 ção', v)
  end)

  it("rejects malformed JSON with a message and no value", function()
    for _, bad in ipairs({ "", "{", "[1,]", "01", "1.", ".5", "+1", "-", '{"a" 1}', '"abc', "[1] x", "nul", '"\1"' }) do
      local v, err = json.decode(bad)
      assert.is_nil(v, bad)
      assert.is_string(err, bad)
    end
  end)

  it("refuses absurd nesting without crashing", function()
    local v, err = json.decode(string.rep("[", 100000))
    assert.is_nil(v)
    assert.matches("deep", err)
  end)
end)

describe("JSON encoding", function()
  local function roundtrip(v) return json.decode(json.encode(v)) end

  compat.it_if("doubles", "writes integral doubles exactly up to 2^53, without a fraction", function()
    assert.equal("[1,-1,0,9007199254740992,-9007199254740992,123456789012345]",
      json.encode({ 1, -1, 0, 2 ^ 53, -2 ^ 53, 123456789012345 }))
  end)

  compat.it_if("integers", "writes integers exactly, all 64 bits", function()
    assert.equal("[1,-1,0,9223372036854775807,-9223372036854775808,123456789012345]",
      json.encode({ 1, -1, 0, math.maxinteger, math.mininteger, 123456789012345 }))
  end)

  it("writes floats with up to 17 significant digits, shortest first", function()
    assert.equal("0.1", json.encode(0.1))
    assert.equal(1 / 3, roundtrip({ 1 / 3 })[1])
    assert.equal(2 ^ -1074, roundtrip({ 2 ^ -1074 })[1])
    assert.equal(1.7976931348623157e308, roundtrip({ 1.7976931348623157e308 })[1])
    assert.equal("3", json.encode(3.0)) -- integral floats without .0: servers typed int reject 3.0
  end)

  it("writes strings with escapes and UTF-8 intact", function()
    assert.equal([["a\"b\\c/d\n\r\t\u0000\u001f é😀"]], json.encode('a"b\\c/d\n\r\t\0\31 é😀'))
  end)

  it("writes null, booleans and nested tables", function()
    local v = roundtrip({ a = vzaps.null, b = true, c = false, d = { e = { 1, { f = "g" } } } })
    assert.equal(vzaps.null, v.a)
    assert.is_true(v.b)
    assert.is_false(v.c)
    assert.equal("g", v.d.e[2].f)
  end)

  local bad = {
    { "a function", { f = print }, "field 'f': cannot encode a function" },
    { "a coroutine", { co = coroutine.create(function() end) }, "cannot encode a thread" },
    { "NaN", { x = 0 / 0 }, "field 'x': cannot encode NaN or infinity" },
    { "infinity", { list = { 1, math.huge } }, "field 'list[2]': cannot encode NaN or infinity" },
    { "mixed keys", { 1, 2, a = 3 }, "cannot encode a table mixing array and string keys" },
    { "a sparse array", { [1] = 1, [3] = 3 }, "cannot encode a sparse array" },
    { "a boolean key", { [true] = 1 }, "cannot encode a table key of type boolean" },
    { "a userdata", { u = io.stdout }, "field 'u': cannot encode a userdata" },
  }
  for _, case in ipairs(bad) do
    it("refuses " .. case[1] .. " with a message naming the field", function()
      local s, err = json.encode(case[2])
      assert.is_nil(s)
      assert.truthy(err:find(case[3], 1, true), err)
    end)
  end

  it("refuses a cyclic table", function()
    local t = { a = {} }
    t.a.back = t
    local s, err = json.encode(t)
    assert.is_nil(s)
    assert.matches("cyclic", err)
  end)
end)

describe("JSON on the wire", function()
  local emu, client, inst
  emulator.fixture(nil, function(e, c)
    emu, client = e, c
    inst = emu:new_instance("wire")
  end)

  it("sends integers without .0", function()
    assert(client:request("POST", "/instances/search", { body = { page = 1, big = 9007199254740992, f = 2.5 } }))
    local body = emu:last_request().body
    assert.matches('"page":1[,}]', body)
    assert.matches('"big":9007199254740992[,}]', body)
    assert.matches('"f":2.5[,}]', body)
  end)

  compat.it_if("integers", "keeps integers above 2^53 exact on the wire", function()
    assert(client:request("POST", "/instances/search", { body = { page = 1, big = 9007199254740993 } }))
    assert.matches('"big":9007199254740993[,}]', emu:last_request().body)
  end)

  it("sends list fields as [] when empty, other empty tables as {}", function()
    assert(client.instances:create({ name = "x", events_subscribe = {} }))
    assert.matches('"events_subscribe":%[%]', emu:last_request().body)
    assert(client.instances:update(inst.id, { meta = {} }, { instance_token = inst.token }))
    assert.matches('"meta":{}', emu:last_request().body)
    assert(client.instances:update(inst.id, { tags = vzaps.array() }, { instance_token = inst.token }))
    assert.matches('"tags":%[%]', emu:last_request().body)
  end)

  it("sends UTF-8 and escapes intact", function()
    assert(client.instances:create({ name = 'Suporte "Ação" 😀\n' }))
    local r = emu:last_request()
    assert.equal('Suporte "Ação" 😀\n', r.json.name)
  end)

  it("sends null where the caller put vzaps.null", function()
    assert(client.instances:update(inst.id, { webhook = vzaps.null }, { instance_token = inst.token }))
    assert.matches('"webhook":null', emu:last_request().body)
  end)

  it("decodes integers, nulls and empty arrays in responses", function()
    emu:script({ path = "/instances/get", status = 200,
      body = '{"id":"VZ1","count":42,"big":123456789012345,"ratio":0.25,"phone":null,"events_subscribe":[]}' })
    local v = assert(client.instances:get("VZ1"))
    compat.assert_integer(v.count)
    assert.equal(123456789012345, v.big)
    assert.equal(0.25, v.ratio)
    assert.equal(vzaps.null, v.phone)
    assert.equal("[]", json.encode(v.events_subscribe))
  end)

  compat.it_if("integers", "decodes 18-digit integers in responses exactly", function()
    emu:script({ path = "/instances/get", status = 200, body = '{"id":"VZ1","big":123456789012345678}' })
    local v = assert(client.instances:get("VZ1"))
    assert.equal(123456789012345678, v.big)
    compat.assert_integer(v.big)
  end)

  it("raises before sending anything when the body cannot be encoded", function()
    local cyclic = {}
    cyclic.self = cyclic
    for _, body in ipairs({ { name = "x", cb = print }, { name = "x", n = 0 / 0 }, { name = "x", t = cyclic },
                            { name = "x", mixed = { 1, a = 2 } } }) do
      local ok, err = pcall(client.instances.create, client.instances, body)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'create' %(", err)
    end
    assert.same({}, emu:requests())
  end)

  it("does not modify the caller's table", function()
    local req = { name = "n", events_subscribe = {}, webhook = "https://example.test/hook" }
    assert(client.instances:create(req))
    assert.same({ name = "n", events_subscribe = {}, webhook = "https://example.test/hook" }, req)
    assert.is_nil(getmetatable(req.events_subscribe))
    local body = { name = "renamed" }
    assert(client:instance(inst.id, inst.token).instances:update(body))
    assert.same({ name = "renamed" }, body)
  end)
end)
