-- gen_data.lua DIR PORT [ECHO_MODULE_PATH]
-- Writes the fixed answers the bench server gives (DIR/www/*.json) and the
-- nginx config (DIR/nginx.conf, from bench/nginx.conf.in beside this file).
-- Instances look like the emulator's summary (emulator/lib/state.lua).
local dir, port, echo = arg[1], arg[2], arg[3] or ""
local here = arg[0]:match("^(.*)/[^/]*$") or "."

local function instance_id(i) return string.format("VZ%020X", 0x5EED0000 + i) end
local function instance(i)
  local id = instance_id(i)
  local stamp = string.format("2026-%02d-%02dT%02d:%02d:%02d.%03dZ", i % 12 + 1, i % 28 + 1, i % 24, i % 60, (i * 7) % 60, i % 1000)
  local connected = i % 3 ~= 0
  return table.concat({
    '{"id":"', id, '","name":"Support desk ', i, '","token":"', string.format("%032x", i * 2654435761),
    '","url":"https://api.vzaps.local/instances/', id,
    '","webhook":', i % 5 == 0 and "null" or ('"https://hooks.example.com/vzaps/' .. i .. '"'),
    ',"events_subscribe":["Message","Connected","Disconnected","MessageStatus"]',
    ',"status":"', connected and "connected" or "disconnected",
    '","phone":', connected and ('"55119' .. string.format("%08d", i) .. '"') or "null",
    ',"subscription_status":"active","created_at":"', stamp, '","updated_at":"', stamp, '"}',
  })
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

os.execute("mkdir -p '" .. dir .. "/www/data'")
for _, rows in ipairs({ 20, 200, 1000, 5000 }) do
  local content, connected = {}, 0
  for i = 1, rows do
    content[i] = instance(i)
    if i % 3 ~= 0 then connected = connected + 1 end
  end
  write(string.format("%s/www/data/list_%d.json", dir, rows), string.format(
    '{"page":1,"size":%d,"total":%d,"total_pages":1,"content":[%s],"summary":{"total":%d,"connected":%d,"disconnected":%d}}',
    rows, rows, table.concat(content, ","), rows, connected, rows - connected))
end

local token = '{"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJiZW5jaCIsImV4cCI6NDEwMjQ0NDgwMH0.'
  .. 'c2lnbmF0dXJlLW9mLXRoZS1iZW5jaC10b2tlbi0wMDAwMDAwMDAwMDA","expires_in":3600,"token_type":"Bearer"}'
local send = '{"message_id":"3EB0C431C26A1916E0B5","status":"queued","phone":"5511999990000","timestamp":1767225600}'
local subst = {
  DIR = dir, PORT = port, TOKEN = token, INSTANCE = instance(1), SEND = send,
  IDONLY = '{"id":"' .. instance_id(1) .. '"}',
  ECHO = echo ~= "" and ("load_module " .. echo .. ";") or "# echo module not available",
}
local conf = assert(io.open(here .. "/nginx.conf.in")):read("a")
write(dir .. "/nginx.conf", (conf:gsub("@(%u+)@", subst)))
