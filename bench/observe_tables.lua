-- observe_tables.lua N: what the observe hook's contract costs by itself, in
-- plain Lua 5.4 with no module loaded: per attempt, the two documented
-- tables of a first attempt that succeeded and the protected call of the
-- hook (bench/hook_contract.lua). The driver runs it with N and with 0
-- iterations under callgrind, so the difference divided by N is the floor
-- any implementation of the hook pays per attempt.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local call_hook = require("hook_contract")
local n = tonumber(arg[1]) or 0
local seen = 0
local function hook(info) seen = seen + info.attempt end
local op, method, path = "messages.send_text", "POST", "/instances/VZ0000000000005EED0001/chat/send/text"
for _ = 1, n do call_hook(hook, op, method, path, "bench") end
assert(seen == n)
