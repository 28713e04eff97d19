-- driver.lua: runs every workload against the bench server and writes
-- bench/RESULTS.md. Called by bench/run.sh, which sets the environment:
--   BENCH (this folder), BUILD (vzaps.so's folder), WORK (scratch),
--   BASE (http://127.0.0.1:PORT), C_LOOP (the built c_loop), SRV (server dir)
local env = setmetatable({}, { __index = function(_, k) return assert(os.getenv(k), k .. " not set") end })
local BENCH, BUILD, WORK, BASE, C_LOOP, SRV = env.BENCH, env.BUILD, env.WORK, env.BASE, env.C_LOOP, env.SRV
package.path = BENCH .. "/?.lua;" .. package.path
local common = require("common")
local QUICK = os.getenv("BENCH_QUICK") == "1" -- smaller N, for trying the bench out

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  if not ok then error("command failed: " .. cmd .. "\n" .. out) end
  return out
end

local function say(fmt, ...) io.stderr:write(string.format(fmt, ...) .. "\n") end

-- The three implementations of one workload, as commands.
local IMPLS = { "c", "lua", "vzaps" }
local LABEL = {
  c = "C libcurl loop (floor)", lua = "hand-written Lua 5.4 (LuaSocket + lua-cjson + int fix)", vzaps = "vzaps module",
}
local function command(impl, base, mode, warmup, n)
  if impl == "c" then return string.format("%s %s %s %d %d", C_LOOP, base, mode, warmup, n) end
  if impl == "lua" then return string.format("lua5.4 %s/lua_loop.lua %s %s %d %d", BENCH, base, mode, warmup, n) end
  return string.format("lua5.4 %s/vzaps_loop.lua %s %s %s %d %d", BENCH, BUILD, base, mode, warmup, n)
end

local function parse_result(out)
  local r = {}
  local line = assert(out:match("RESULT ([^\n]+)"), "no RESULT line in:\n" .. out)
  for k, v in line:gmatch("([%w_]+)=([%d.]+)") do r[k] = tonumber(v) end
  return r
end

-- Instructions per call: callgrind on the same command with N and with 0
-- timed calls (same warm-up), so start-up, the token and the first
-- connection cancel out. The N run's profile is kept for cgprofile.lua.
local function ir_total(cmd, outfile)
  local out = sh(string.format("valgrind --tool=callgrind --callgrind-out-file=%s %s", outfile or "/dev/null", cmd))
  return tonumber((assert(out:match("I%s+refs:%s+([%d,]+)"), out):gsub(",", "")))
end
local function ir_per_call(impl, base, mode, warmup, n, keep)
  local f0 = keep and string.format("%s/cg.%s.0.out", WORK, keep)
  local f1 = keep and string.format("%s/cg.%s.%d.out", WORK, keep, n)
  local a = ir_total(command(impl, base, mode, warmup, 0), f0)
  local b = ir_total(command(impl, base, mode, warmup, n), f1)
  return (b - a) / n, f0, f1
end

-- Heap allocations per call (memcheck's "total heap usage"), same method.
local function allocs(cmd)
  local out = sh("valgrind --tool=memcheck --leak-check=no " .. cmd)
  local a, b = out:match("total heap usage: ([%d,]+) allocs, [%d,]+ frees, ([%d,]+) bytes allocated")
  return tonumber((a:gsub(",", ""))), tonumber((b:gsub(",", "")))
end
local function allocs_per_call(impl, base, mode, warmup, n)
  local a0, b0 = allocs(command(impl, base, mode, warmup, 0))
  local a1, b1 = allocs(command(impl, base, mode, warmup, n))
  return (a1 - a0) / n, (b1 - b0) / n
end

local file_size = common.file_size

local function fmt_int(x)
  local s = string.format("%.0f", x):reverse():gsub("(%d%d%d)", "%1 "):reverse()
  return (s:gsub("^[- ]+", function(p) return p:gsub(" ", "") end))
end

------------------------------------------------------------------------------
-- 1. Wall time, CPU and peak RSS; 2. instructions per call
------------------------------------------------------------------------------
local WL = {
  { name = "instances:get", mode = "get", base = BASE, n = QUICK and 2000 or 20000, cg = QUICK and 100 or 300 },
  { name = "messages:send_text", mode = "send", base = BASE, n = QUICK and 2000 or 20000, cg = QUICK and 100 or 300 },
  { name = "instances:list (1000 rows)", mode = "list", base = BASE .. "/rows1000", n = QUICK and 50 or 200, cg = 5 },
}
local rows = {}
for _, w in ipairs(WL) do
  for _, impl in ipairs(IMPLS) do
    say("  %s, %s: %d calls", w.name, impl, w.n)
    local r = parse_result(sh(command(impl, w.base, w.mode, 10, w.n)))
    say("  %s, %s: callgrind, %d calls", w.name, impl, w.cg)
    local keep = (impl == "vzaps" or impl == "c") and (impl .. "_" .. w.mode) or nil
    r.ir = ir_per_call(impl, w.base, w.mode, 3, w.cg, keep)
    rows[w.name .. "/" .. impl] = r
  end
end

------------------------------------------------------------------------------
-- 3. Growth with the response size
------------------------------------------------------------------------------
local GROWTH = { { 20, 100 }, { 200, 20 }, { 1000, 5 }, { 5000, 2 } }
local growth = {}
for _, g in ipairs(GROWTH) do
  local nrows, n = g[1], g[2]
  local e = { rows = nrows, bytes = file_size(string.format("%s/www/data/list_%d.json", SRV, nrows)) }
  for _, impl in ipairs(IMPLS) do
    say("  growth: %d rows, %s: callgrind, %d calls", nrows, impl, n)
    e[impl] = ir_per_call(impl, BASE .. "/rows" .. nrows, "list", 2, n)
  end
  growth[#growth + 1] = e
end

------------------------------------------------------------------------------
-- 4. Allocations per call, 5. memory over 100 000 calls, 6. parallel
------------------------------------------------------------------------------
local alloc = {}
for _, impl in ipairs(IMPLS) do
  say("  allocations per instances:get call, %s (memcheck)", impl)
  alloc[impl] = { allocs_per_call(impl, BASE, "get", 3, QUICK and 50 or 200) }
end
say("  vzaps list 1000 rows allocations (memcheck)")
alloc.list = { allocs_per_call("vzaps", BASE .. "/rows1000", "list", 2, 3) }

local MEM_N = QUICK and 10000 or 100000
say("  memory: %d instances:get calls", MEM_N)
local mem = {}
do
  local out = sh(command("vzaps", BASE, "mem", 0, MEM_N))
  for k, v in assert(out:match("MEM ([^\n]+)"), out):gmatch("([%w_]+)=([%d.]+)") do mem[k] = tonumber(v) end
end

say("  parallel: 200 send_text calls, 20 ms server delay, concurrency 10")
local par_line = sh(command("vzaps", BASE .. "/slow", "parallel", 10, 200)):match("PARALLEL ([^\n]+)")
local par = {}
if par_line then for k, v in par_line:gmatch("([%w_]+)=([%d.]+)") do par[k] = tonumber(v) end end

say("  tick loop: 50 spawned sends, 200 ms server delay, 60 Hz pump(0)")
local tick = {}
do
  local emu = os.getenv("EMU_URL")
  local line = sh(string.format("lua5.4 %s/tick.lua %s %s %s", BENCH, BUILD, BASE, emu or "")):match("TICK ([^\n]+)")
  for k, v in assert(line, "no TICK line"):gmatch("([%w_]+)=([%d.-]+)") do tick[k] = tonumber(v) end
end
say("  event loop: idle CPU waiting on client:pollable() vs pump(0) every 5 ms; answer to callback")
local loop = {}
do
  local line = sh(string.format("IDLE_SECONDS=%d lua5.4 %s/event_loop.lua %s %s", QUICK and 2 or 10, BENCH, BUILD, BASE))
    :match("LOOP ([^\n]+)")
  for k, v in assert(line, "no LOOP line"):gmatch("([%w_]+)=([%d.-]+)") do loop[k] = tonumber(v) end
end
-- send_text by each way of sending, against the same C loop of the table
-- above: sent from C (that table's row), through the Lua layer (a client
-- with an observe hook), started with client:spawn and pumped.
say("  send_text through the Lua layer (observe hook): callgrind")
local observe_ir = ir_per_call("vzaps", BASE, "observe", 3, QUICK and 100 or 300)
say("  send_text through the Lua layer without a hook (test switch): callgrind")
local lualayer_ir = ir_per_call("vzaps", BASE, "lualayer", 3, QUICK and 100 or 300)
-- A plain-Lua floor (a bench script taking an iteration count, no module
-- loaded): instructions per iteration, N minus 0, as for the calls.
local function plain_lua_ir(script, extra)
  local cmd = string.format("lua5.4 %s/%s ", BENCH, script)
  local k = QUICK and 2000 or 20000
  extra = extra and " " .. extra or ""
  return (ir_total(cmd .. k .. extra) - ir_total(cmd .. "0" .. extra)) / k
end
say("  the observe hook's tables and pcall alone, plain Lua: callgrind")
local hook_tables_ir = plain_lua_ir("observe_tables.lua")
say("  instances:get's answer as Lua tables alone, plain Lua: callgrind")
local answer_tables_ir = plain_lua_ir("answer_tables.lua")
-- The floors of the two goals the module does not meet (Goals below):
-- instances:get answered with its id alone (the /idonly route: next to
-- nothing to read), less that answer's one-field table, plus the full
-- answer's tables: the call if reading its JSON cost nothing. And a send
-- from C followed by the hook's two tables and pcall: the observe mode if
-- the Lua layer cost nothing.
say("  floors: instances:get answered {id} alone, send_text then the hook's tables: callgrind")
local idonly_ir = ir_per_call("vzaps", BASE .. "/idonly", "get", 3, QUICK and 100 or 300)
local idonly_tables_ir = plain_lua_ir("answer_tables.lua", "idonly")
local sendhook_ir = ir_per_call("vzaps", BASE, "sendhook", 3, QUICK and 100 or 300)
say("  started vs blocking send_text: callgrind")
local spawn_ir = ir_per_call("vzaps", BASE, "spawn", 3, QUICK and 100 or 300)
-- Send budgets (bench/pace.lua): the pace step's bookkeeping on a send_text
-- sent from C (a local store, a budget that never waits), and the rate a
-- minute of paced sends achieves.
say("  pace: paced vs plain send_text: callgrind")
local function pace_cmd(mode, warmup, k)
  return string.format("lua5.4 %s/pace.lua %s %s %s %d %d", BENCH, BUILD, BASE, mode, warmup, k)
end
local pace_ir = {}
for _, m in ipairs({ "plain", "paced" }) do
  local k = QUICK and 100 or 300
  pace_ir[m] = (ir_total(pace_cmd(m, 3, k)) - ir_total(pace_cmd(m, 3, 0))) / k
end
local PACE_RATE, PACE_SECONDS = 50, QUICK and 10 or 60
say("  pace: %d s of send_text at rate = %d", PACE_SECONDS, PACE_RATE)
local pace_rate = {}
do
  local line = sh(pace_cmd("rate", PACE_RATE, PACE_SECONDS)):match("PACE ([^\n]+)")
  for k, v in assert(line, "no PACE line"):gmatch("([%w_]+)=([%d.]+)") do pace_rate[k] = tonumber(v) end
end
-- 7. A 50 MiB document from a file (bench/media.lua): peak RSS of one call.
local MEDIA_MIB = QUICK and 10 or 50
local media_file = string.format("%s/media-%dMiB.bin", WORK, MEDIA_MIB)
say("  media: send_document of a %d MiB file", MEDIA_MIB)
sh(string.format("head -c %d /dev/urandom > %s", MEDIA_MIB * 1024 * 1024, media_file))
local media = {}
for line in sh(string.format("lua5.4 %s/media.lua %s %s %s", BENCH, BUILD, BASE, media_file)):gmatch("MEDIA ([^\n]+)") do
  local r = {}
  for k, v in line:gmatch("([%w_]+)=([%w.-]+)") do r[k] = tonumber(v) or v end
  media[r.run] = r
end
os.remove(media_file)
-- 7. A webhook delivery: the receiver against hand-written decode + dispatch
local WEBHOOK = { { "vzaps", "vzaps.webhook `hook:handle` (dedup on, the default)" },
                  { "vzaps_nodup", "vzaps.webhook `hook:handle`, `dedup = false`" },
                  { "lua", "hand-written Lua 5.4: `cjson.decode` + type check + handlers under pcall" } }
local WH_N = QUICK and 500 or 2000
local webhook = {}
for _, w in ipairs(WEBHOOK) do
  say("  webhook delivery, %s: callgrind, %d deliveries", w[1], WH_N)
  local cmd = function(k) return string.format("lua5.4 %s/webhook_loop.lua %s %s 3 %d", BENCH, BUILD, w[1], k) end
  webhook[w[1]] = (ir_total(cmd(WH_N)) - ir_total(cmd(0))) / WH_N
end

say("  profile of instances:get (cgprofile.lua)")
local profile = sh(string.format("lua5.4 %s/cgprofile.lua %s/cg.vzaps_get.0.out %s/cg.vzaps_get.%d.out %d 30",
  BENCH, WORK, WORK, WL[1].cg, WL[1].cg))
os.execute(string.format("mkdir -p %s/out", BENCH))
local pf = assert(io.open(BENCH .. "/out/profile_get.txt", "w"))
pf:write(profile)
pf:close()

------------------------------------------------------------------------------
-- Report
------------------------------------------------------------------------------
local function first_line(cmd) return (sh(cmd):match("[^\n]+") or "?") end
local cpu_model = first_line("grep -m1 'model name' /proc/cpuinfo"):gsub("^model name%s*:%s*", "")
local out = {}
local function w(fmt, ...) out[#out + 1] = string.format(fmt, ...) end

w("# vzaps benchmark results")
w("")
w("Written by `make bench` (bench/run.sh, bench/driver.lua) on %s.", os.date("!%Y-%m-%d %H:%M UTC"))
w("")
w("- machine: %s CPUs, %s; %s", first_line("nproc"), cpu_model, first_line("uname -sr"))
w("- libcurl %s; %s; %s; nginx %s; %s", first_line("curl-config --version"):gsub("libcurl ", ""),
  first_line("lua5.4 -v"):match("Lua [%d.]+"), "lua-cjson " .. first_line("lua5.4 -e 'print(require\"cjson\"._VERSION)'"),
  first_line("nginx -v"):match("nginx/([%d.]+)") or "?", first_line("lua5.4 -e 'print(require\"socket\"._VERSION)'"))
w("- server: nginx on 127.0.0.1, one worker, fixed answers (bench/nginx.conf.in); all three clients in the same run")
w("- instructions: callgrind, (Ir with N calls - Ir with 0 calls) / N, client process only;")
w("  wall, CPU (user+sys) and peak RSS: a separate plain run with the larger N")
w("")
w("## Calls")
w("")
w("| workload | client | calls | wall s | calls/s | CPU µs/call | instructions/call | vs C floor | vs hand-written Lua | peak RSS MiB |")
w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for _, wl in ipairs(WL) do
  local c, l = rows[wl.name .. "/c"], rows[wl.name .. "/lua"]
  for _, impl in ipairs(IMPLS) do
    local r = rows[wl.name .. "/" .. impl]
    w("| %s | %s%s | %d | %.3f | %s | %.1f | %s | %.2fx | %s | %.1f |", wl.name, LABEL[impl],
      (impl == "c" and wl.mode == "list") and " (no JSON parse)" or "",
      r.calls, r.wall, fmt_int(r.calls / r.wall), 1e6 * r.cpu / r.calls, fmt_int(r.ir), r.ir / c.ir,
      impl == "c" and "" or string.format("%.2fx", r.ir / l.ir), r.maxrss_kb / 1024)
  end
end
w("")
w("## Cost against response size (instances:list, instructions per call)")
w("")
w("| rows | body KB | C loop (no parse) | hand-written Lua | vzaps | vzaps per KB | vzaps / hand-written |")
w("|---:|---:|---:|---:|---:|---:|---:|")
for _, e in ipairs(growth) do
  w("| %d | %.1f | %s | %s | %s | %s | %.2fx |", e.rows, e.bytes / 1024, fmt_int(e.c), fmt_int(e.lua), fmt_int(e.vzaps),
    fmt_int(e.vzaps / (e.bytes / 1024)), e.vzaps / e.lua)
end
w("")
w("## Memory")
w("")
w("| client | heap allocations per instances:get call | bytes allocated per call |")
w("|---|---:|---:|")
for _, impl in ipairs(IMPLS) do
  w("| %s | %.1f | %s |", LABEL[impl], alloc[impl][1], fmt_int(alloc[impl][2]))
end
w("| vzaps module, instances:list 1000 rows | %.0f | %s |", alloc.list[1], fmt_int(alloc.list[2]))
w("")
w("(valgrind memcheck's heap totals, N calls minus 0 calls; Lua's own allocations go through realloc and count too.)")
w("")
w("RSS after 1 000 instances:get calls: %.2f MiB; after %s: %.2f MiB (difference %+d KiB; peak %.2f MiB; %.1f s for the %s calls).",
  mem.rss_1000_kb / 1024, fmt_int(mem.calls), mem.rss_n_kb / 1024, mem.rss_n_kb - mem.rss_1000_kb, mem.hwm_kb / 1024,
  mem.wall, fmt_int(mem.calls - 1000))
w("")
w("## Parallel")
w("")
if par.calls then
  w("%d send_text calls against a server that answers after 20 ms: one after another %.3f s, `client:parallel` at concurrency %d %.3f s (%.1fx faster, %d failed).",
    par.calls, par.sequential, par.concurrency, par.parallel, par.sequential / par.parallel, par.failed)
else
  w("not available: `client.parallel` is nil in this build.")
end
w("")
w("## Calls that never stall a frame loop (client:spawn, client:pump)")
w("")
w("A 60 Hz loop starts %d send_text jobs against a server that answers after 200 ms and calls "
  .. "`client:pump(0)` once a frame (bench/tick.lua): %d of %d done in %d frames (%.2f s); starting all %d took %.2f ms.",
  tick.jobs, tick.ok, tick.jobs, tick.frames, tick.total, tick.jobs, tick.spawn_ms)
w("")
w("| per frame | longest | 99th percentile |")
w("|---|---:|---:|")
w("| `client:pump(0)` | %.3f ms | %.3f ms |", tick.pump_max_ms, tick.pump_p99_ms)
if tick.poll_max_ms and tick.poll_max_ms >= 0 then
  w("| `sub:poll(0)` of a realtime subscription (emulator) | %.3f ms | %.3f ms |", tick.poll_max_ms, tick.poll_p99_ms)
end
w("")
w("## Inside an event loop (client:pollable)")
w("")
w("A luv loop waiting on `client:pollable()` (its fd and a timer from `timeout()`, as README \"Inside an event loop\") "
  .. "against the same loop calling `client:pump(0)` every 5 ms (bench/event_loop.lua): process CPU time over %d idle "
  .. "seconds, and the time from the start of a send_text to its `on_done` callback beyond the server's 200 ms "
  .. "(%d sends, one at a time; a blocking call's own exchange takes %.3f ms).", loop.idle_s, loop.sends, loop.block_med_ms)
w("")
w("| loop | CPU while idle | start to callback, median | longest |")
w("|---|---:|---:|---:|")
w("| waits on the fd | %.3f ms | %.3f ms | %.3f ms |", loop.fd_idle_cpu_ms, loop.fd_med_ms, loop.fd_max_ms)
w("| `pump(0)` every 5 ms | %.3f ms | %.3f ms | %.3f ms |", loop.tick_idle_cpu_ms, loop.tick_med_ms, loop.tick_max_ms)
w("")
local c_send = rows["messages:send_text/c"].ir
w("Instructions per send_text call, each way of sending, against the C loop (%s):", fmt_int(c_send))
w("")
w("| way of sending | instructions/call | vs C loop |")
w("|---|---:|---:|")
w("| sent from C (blocking call) | %s | %.2fx |", fmt_int(rows["messages:send_text/vzaps"].ir), rows["messages:send_text/vzaps"].ir / c_send)
w("| through the Lua layer (`http.send`: a client with an `observe` hook) | %s | %.2fx |", fmt_int(observe_ir), observe_ir / c_send)
w("| started with `client:spawn` and pumped to its end | %s | %.2fx |", fmt_int(spawn_ir), spawn_ir / c_send)
w("| through the Lua layer without a hook (the test switch `vzaps._set_direct(false)`) | %s | %.2fx |",
  fmt_int(lualayer_ir), lualayer_ir / c_send)
w("")
w("The hook's own price per attempt is the difference of the second and the last row: %s instructions. "
  .. "Of it, the two tables the hook is documented to get (`info` and `info.timings`) and the `pcall` that keeps "
  .. "a raising hook from breaking the call cost %s built in plain Lua 5.4 with no module loaded "
  .. "(bench/observe_tables.lua), %.1f%% of the C loop's call.", fmt_int(observe_ir - lualayer_ir),
  fmt_int(hook_tables_ir), 100 * hook_tables_ir / c_send)
w("")
w("## Media from a file")
w("")
local MEDIA_LABEL = {
  ["file-c"] = "`vzaps.file`, sent from C", ["file-lua"] = "`vzaps.file`, sent by the Lua layer (retries, transports)",
  ["bytes-c"] = "`vzaps.bytes` of the file read into a Lua string, sent from C",
  hand = "hand-written Lua (io.read + mime.b64 + lua-cjson + LuaSocket)",
}
local fm = media["file-c"]
if fm then
  w("One `messages:send_document` of a %d MiB file (%.1f MiB base64) to the bench server, each in a fresh process; "
    .. "RSS before the call (client made, token fetched; the string read, for `vzaps.bytes`) and at its peak (VmHWM%s).",
    MEDIA_MIB, fm.encoded / 1048576, fm.reset == 1 and ", reset just before the call" or "")
  w("")
  w("| run | RSS before MiB | peak RSS MiB | growth MiB | growth / file size | growth / encoded size | wall s |")
  w("|---|---:|---:|---:|---:|---:|---:|")
  for _, run in ipairs({ "file-c", "file-lua", "bytes-c", "hand" }) do
    local r = media[run]
    if r then
      local grow = (r.peak_kb - r.before_kb) * 1024
      w("| %s | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.3f |", MEDIA_LABEL[run], r.before_kb / 1024, r.peak_kb / 1024,
        grow / 1048576, grow / r.size, grow / r.encoded, r.wall)
    end
  end
else
  w("not available: bench/media.lua gave no result.")
end
w("")
w("## Webhook receiver")
w("")
w("One delivery (a 323-byte Message envelope, its own event id each time) parsed and dispatched to two no-op")
w("handlers (the type's and All), %s deliveries, instructions per delivery (callgrind, N minus 0, bench/webhook_loop.lua):", fmt_int(WH_N))
w("")
w("| receiver | instructions/delivery | vs hand-written |")
w("|---|---:|---:|")
for _, wh in ipairs(WEBHOOK) do
  w("| %s | %s | %.2fx |", wh[2], fmt_int(webhook[wh[1]]), webhook[wh[1]] / webhook.lua)
end
w("")
w("## Goals")
w("")
local g = rows["instances:get/vzaps"].ir / rows["instances:get/c"].ir
local s = rows["messages:send_text/vzaps"].ir / rows["messages:send_text/c"].ir
local lname = "instances:list (1000 rows)"
local li = rows[lname .. "/vzaps"].ir / rows[lname .. "/lua"].ir
local function met(ok) return ok and "**met**" or "**not met**" end
w("| goal | measured | |")
w("|---|---|---|")
w("| instances:get ≤ 1.15x the C loop | %.2fx (%s vs %s instructions) | %s |", g, fmt_int(rows["instances:get/vzaps"].ir), fmt_int(rows["instances:get/c"].ir), met(g <= 1.15))
w("| (for reference) instances:get's answer built as Lua tables from constants, plain Lua (bench/answer_tables.lua) | %s instructions, %.1f%% of the C loop's call | |",
  fmt_int(answer_tables_ir), 100 * answer_tables_ir / rows["instances:get/c"].ir)
do
  local c_get = rows["instances:get/c"].ir
  local floor = idonly_ir - idonly_tables_ir + answer_tables_ir
  w("| (floor) instances:get if reading its JSON cost nothing: the call answered `{\"id\":...}` alone (%s), less that "
    .. "table (%s), plus the full answer's tables | %s, %.3fx: the goal leaves %s instructions to read the 439 bytes | |",
    fmt_int(idonly_ir), fmt_int(idonly_tables_ir), fmt_int(floor), floor / c_get, fmt_int(1.15 * c_get - floor))
end
w("| messages:send_text sent from C ≤ 1.15x the C loop | %.2fx (%s vs %s) | %s |", s,
  fmt_int(rows["messages:send_text/vzaps"].ir), fmt_int(rows["messages:send_text/c"].ir), met(s <= 1.15))
local so, ss = observe_ir / rows["messages:send_text/c"].ir, spawn_ir / rows["messages:send_text/c"].ir
w("| messages:send_text through the Lua layer (observe hook) ≤ 1.25x the C loop | %.2fx (%s) | %s |", so, fmt_int(observe_ir), met(so <= 1.25))
w("| (floor) sent from C, then the hook's two documented tables and its pcall (bench/vzaps_loop.lua, sendhook) "
  .. "| %.3fx (%s): the goal leaves %s instructions for all the Lua layer does besides | |",
  sendhook_ir / rows["messages:send_text/c"].ir, fmt_int(sendhook_ir), fmt_int(1.25 * rows["messages:send_text/c"].ir - sendhook_ir))
w("| messages:send_text spawned and pumped ≤ 1.5x the C loop | %.2fx (%s) | %s |", ss, fmt_int(spawn_ir), met(ss <= 1.5))
w("| (for reference) the Lua layer without a hook (test switch) | %.2fx (%s) | |", lualayer_ir / rows["messages:send_text/c"].ir,
  fmt_int(lualayer_ir))
w("| list 1000 rows ≤ 0.5x hand-written Lua | %.2fx (%s vs %s) | %s |", li, fmt_int(rows[lname .. "/vzaps"].ir), fmt_int(rows[lname .. "/lua"].ir), met(li <= 0.5))
local drss = mem.rss_n_kb - mem.rss_1000_kb
w("| RSS after %s calls within 1 MiB of after 1 000 | %+d KiB | %s |", fmt_int(mem.calls), drss, met(drss <= 1024))
local per_kb_small, per_kb_big = growth[2].vzaps / growth[2].bytes, growth[4].vzaps / growth[4].bytes
w("| linear in response size (instructions per KB, 200 vs 5000 rows) | %s vs %s per KB (%.2fx) | %s |",
  fmt_int(per_kb_small * 1024), fmt_int(per_kb_big * 1024), per_kb_big / per_kb_small, met(per_kb_big / per_kb_small <= 1.25))
if par.calls then
  local ratio = par.parallel / par.sequential
  w("| parallel ≤ 1/7 of sequential | 1/%.1f | %s |", 1 / ratio, met(ratio <= 1 / 7))
else
  w("| parallel ≤ 1/7 of sequential | not available | skipped |")
end
w("| longest pump(0) of the tick loop < 1 ms | %.3f ms | %s |", tick.pump_max_ms, met(tick.pump_max_ms < 1))
w("| a loop waiting on client:pollable() idle for %d s uses no measurable CPU (< 10 ms) | %.3f ms | %s |", loop.idle_s,
  loop.fd_idle_cpu_ms, met(loop.fd_idle_cpu_ms < 10))
local handled = loop.fd_med_ms - loop.block_med_ms
w("| an answer handled within 1 ms when the loop waits on the fd (median, beyond a blocking call) | %.3f ms | %s |",
  handled, met(handled <= 1))
local pace_cost = pace_ir.paced / pace_ir.plain - 1
w("| paced send_text (local store) ≤ 5%% over an unpaced one | %+.1f%% (%s vs %s instructions) | %s |", pace_cost * 100,
  fmt_int(pace_ir.paced), fmt_int(pace_ir.plain), met(pace_cost <= 0.05))
local pace_off = math.abs(pace_rate.achieved / pace_rate.configured - 1)
w("| paced rate over %d s within 2%% of the configured %d/s | %.3f/s (%.2f%% off) | %s |", PACE_SECONDS,
  PACE_RATE, pace_rate.achieved, pace_off * 100, met(pace_off <= 0.02))
if fm then
  local worst = 0
  for _, run in ipairs({ "file-c", "file-lua" }) do
    local r = media[run]
    if r then worst = math.max(worst, (r.peak_kb - r.before_kb) * 1024 / r.encoded) end
  end
  w("| %d MiB file: peak RSS growth about 2x its encoded size at most (≤ 2.05x; vzaps.file, either path) | %.2fx | %s |",
    MEDIA_MIB, worst, met(worst <= 2.05))
end
w("")
w("## Where one instances:get call's instructions go (bench/cgprofile.lua)")
w("")
w("```")
w("%s", (profile:match("^(.-)\ntop functions") or profile))
w("```")
w("")
w("The top functions are in bench/out/profile_get.txt (not committed).")

local text = table.concat(out, "\n") .. "\n"
local f = assert(io.open(BENCH .. "/RESULTS.md", "w"))
f:write(text)
f:close()
io.write(text)
