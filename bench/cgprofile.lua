-- cgprofile.lua BASE.out RUN.out N [TOP]
-- Per-call profile from two callgrind runs of the same program, one with 0
-- timed calls and one with N: every function's (and every object's) cost in
-- RUN minus its cost in BASE, divided by N, so start-up is left out.
-- Prints self cost by object, then the TOP functions by inclusive and by
-- self cost (callgrind_annotate does the symbol work).
local base, run, n, top = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]) or 25

local function annotate(file, inclusive)
  local cmd = string.format("callgrind_annotate --threshold=100 --inclusive=%s '%s' 2>/dev/null",
    inclusive and "yes" or "no", file)
  local fns, total = {}, 0
  local p = assert(io.popen(cmd))
  for line in p:lines() do
    local ir, rest = line:match("^%s*([%d,]+)%s+%(%s*[%d.]+%%%)%s+(.+)$")
    if ir then
      ir = tonumber((ir:gsub(",", "")))
      if rest == "PROGRAM TOTALS" then total = ir
      else fns[rest] = (fns[rest] or 0) + ir end
    end
  end
  p:close()
  return fns, total
end

-- "file:function [object]" -> short function name, short object name
local function names(key)
  local fn, obj = key:match("^(.-)%s*%[(.-)%]$")
  if not fn then fn, obj = key, "?" end
  fn = fn:match(":([^:]+)$") or fn
  obj = obj:match("([^/]+)$") or obj
  return fn, obj
end

-- The groups docs/performance.md uses.
local function group(fn, obj)
  if obj:find("^vzaps") then
    return (fn:find("json") or fn:find("^parse_") or fn:find("^put_")) and "module C: JSON" or "module C: other"
  end
  if obj:find("libcurl") then return "libcurl" end
  if obj:find("cjson") then return "lua-cjson" end
  if obj:find("socket") then return "LuaSocket" end
  if obj:find("^lua") or obj:find("liblua") then return "Lua VM + Lua C API" end
  if obj:find("^libc") then return "libc (malloc, memcpy, syscall stubs)" end
  return "other (" .. obj .. ")"
end

local function diff(inclusive)
  local a = annotate(base, inclusive)
  local b, total_b = annotate(run, inclusive)
  local _, total_a = annotate(base, false)
  local rows = {}
  for k, v in pairs(b) do
    local d = (v - (a[k] or 0)) / n
    if d > 0.5 then rows[#rows + 1] = { key = k, ir = d } end
  end
  table.sort(rows, function(x, y) return x.ir > y.ir end)
  return rows, (total_b - total_a) / n
end

local self_rows, per_call = diff(false)
print(string.format("instructions per call: %.0f", per_call))
local groups, order = {}, {}
for _, r in ipairs(self_rows) do
  local g = group(names(r.key))
  if not groups[g] then groups[g] = 0; order[#order + 1] = g end
  groups[g] = groups[g] + r.ir
end
table.sort(order, function(x, y) return groups[x] > groups[y] end)
print("\nself cost by group (per call)")
for _, g in ipairs(order) do
  print(string.format("  %-40s %9.0f  %5.1f%%", g, groups[g], 100 * groups[g] / per_call))
end

local function show(title, rows)
  print("\n" .. title)
  for i = 1, math.min(top, #rows) do
    local fn, obj = names(rows[i].key)
    print(string.format("  %9.0f  %5.1f%%  %-44s %s", rows[i].ir, 100 * rows[i].ir / per_call, fn:sub(1, 44), obj))
  end
end
local incl_rows = diff(true)
-- The module's call path, split at its C entry points (when present).
local incl = {}
for _, r in ipairs(incl_rows) do
  local fn = names(r.key)
  fn = fn:gsub("'%d+$", "")
  if not incl[fn] then incl[fn] = r.ir end
end
-- The C entry point of the call: core.call (sent from C, src/direct_call.c) or
-- core.send (the Lua path's exchange).
local entry = incl.l_call and "l_call" or "l_client_send"
if incl[entry] and incl.curl_easy_perform then
  local decode = incl.vz_json_decode_cached or incl.vz_json_decode_hinted or incl.vz_json_decode or 0
  local parts = {
    { "Lua: the bench loop, the method's wrapper, GC", per_call - incl[entry] },
    { "request set-up (" .. entry .. " mapping, URL, body, headers, setopts)",
      incl[entry] - incl.curl_easy_perform - (incl.vz_xfer_finish or decode) },
    { "libcurl: curl_easy_perform", incl.curl_easy_perform },
    { "JSON decode of the answer into Lua tables", decode },
    { "rest of the result (status, outcome)", (incl.vz_xfer_finish or decode) - decode },
  }
  print("\ncall path split (inclusive, per call)")
  for _, p in ipairs(parts) do
    print(string.format("  %-72s %9.0f  %5.1f%%", p[1], p[2], 100 * p[2] / per_call))
  end
end
show("top functions, inclusive (per call)", incl_rows)
show("top functions, self (per call)", self_rows)
