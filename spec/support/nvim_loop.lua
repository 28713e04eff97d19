-- spec/support/nvim_loop.lua: run by `nvim --headless` for
-- spec/event_loop_spec.lua. Spawns 49 sends, then runs README "Inside an
-- event loop"'s Neovim snippet as written (it spawns the 50th and drives
-- them all on vim.loop) while a 10 ms timer ticks; writes what it saw to
-- $VZ_OUT as Lua ("return {...}") and quits.
-- luacheck: globals vim
package.cpath = os.getenv("VZ_CPATH") .. ";" .. package.cpath
local vzaps = require("vzaps")
local uv = vim.loop
local out_path, id, tok = os.getenv("VZ_OUT"), os.getenv("VZ_ID"), os.getenv("VZ_TOK")

local client = vzaps.new({ client_token = os.getenv("VZ_CLIENT_TOKEN"), client_secret = os.getenv("VZ_CLIENT_SECRET"),
  base_url = os.getenv("VZ_URL") })

local ok_count, notes, gap, last, ended = 0, {}, 0, uv.hrtime(), false
local ticker, guard = uv.new_timer(), uv.new_timer()

local function finish(why)
  if ended then return end
  ended = true
  ticker:stop()
  guard:stop()
  local f = assert(io.open(out_path, "w"))
  f:write(string.format("return { why = %q, ok = %d, gap_ms = %.3f, notes = %d, first_note = %q }\n",
    why, ok_count, gap, #notes, tostring(notes[1])))
  f:close()
  vim.schedule(function() vim.cmd("qa!") end)
end

ticker:start(10, 10, function()
  local t = uv.hrtime()
  if (t - last) / 1e6 > gap then gap = (t - last) / 1e6 end
  last = t
end)
guard:start(30000, 0, function() finish("timed out") end)

local function count(res)
  if res then ok_count = ok_count + 1 end
  if ok_count == 50 then finish("done") end
end
for i = 1, 49 do
  client:spawn(function()
    return client.messages:send_text{ instance_id = id, instance_token = tok, phone = "55119000" .. (1000 + i),
      message = "nvim " .. i }
  end):on_done(count)
end

vim.notify = function(msg)
  notes[#notes + 1] = msg
  count(msg == "sent")
end
-- Neovim's Lua is LuaJIT: the snippet's names come through setfenv.
local snippet = assert(loadfile(os.getenv("VZ_SNIPPET")))
rawget(_G, "setfenv")(snippet, setmetatable({ client = client, id = id, tok = tok, phone = "5511955554444" },
  { __index = _G }))
snippet()
