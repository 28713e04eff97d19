-- ngx_dict_store.lua: vzaps.ngx_store("dict"), a store (store.lua's
-- interface) in a lua_shared_dict, shared by every worker of one nginx.
-- Budgets: the bucket of store.lua, read and written under a short lock in
-- the dict (dict:add; it expires by itself if a worker dies holding it), on
-- core.now() (CLOCK_MONOTONIC: one clock for every process of the machine).
-- De-duplication: dict:add / set / delete, as hook dedup_dict does. The
-- token: vzaps.ngx_token_store's single flight (ngx_store.lua) on the same
-- dict, unchanged.
local import, core = ...
local args = import("args")
local store_mod = import("store")

local type, pairs, tonumber, tostring, setmetatable, rawget, concat =
  type, pairs, tonumber, tostring, setmetatable, rawget, table.concat
local format = string.format
local now = core.now

local M = {}

local P = "vzaps.store."
local LOCK_TTL = 1          -- seconds a bucket lock lives at most
local LOCK_TRIES = 500      -- 1 ms apart: half a second, then a store failure

local Store = {}
local STORE_MT = {
  __index = Store,
  __name = "vzaps.store",
  __tostring = function(s) return "vzaps.store (lua_shared_dict " .. s.name .. ")" end,
}

-- A bucket as dict text: "tat pause total minute:count ...".
local function encode(b)
  local parts = { format("%.6f", b.tat or 0), format("%.6f", b.pause or 0), tostring(b.total or 0) }
  for m, n in pairs(b.minutes or {}) do parts[#parts + 1] = m .. ":" .. n end
  return concat(parts, " ")
end

local function decode(text)
  local b = { minutes = {} }
  if type(text) ~= "string" then return b end
  local i = 0
  for word in text:gmatch("%S+") do
    i = i + 1
    if i == 1 then b.tat = tonumber(word)
    elseif i == 2 then b.pause = tonumber(word)
    elseif i == 3 then b.total = tonumber(word)
    else
      local m, n = word:match("^(%d+):(%d+)$")
      if m then b.minutes[tonumber(m)] = tonumber(n) end
    end
  end
  if b.tat == 0 then b.tat = nil end
  return b
end

-- Runs fn(bucket, t) under the bucket's lock; writes the bucket back.
local function with_bucket(self, key, fn)
  local dict, lock = self.dict, P .. key .. ".lock"
  local got = false
  for _ = 1, LOCK_TRIES do
    if dict:add(lock, 1, LOCK_TTL) then
      got = true
      break
    end
    self.ngx.sleep(0.001)
  end
  if not got then
    return nil, { kind = "store", code = "STORE_UNAVAILABLE",
                  message = "lua_shared_dict " .. self.name .. ": the budget's lock stayed busy" }
  end
  local b = decode(dict:get(P .. key))
  local t = now()
  local a, c = fn(b, t)
  -- kept a day past its last use (the daily window), or till the dict evicts it
  dict:set(P .. key, encode(b), 90000)
  dict:delete(lock)
  return a, c
end

function Store:take(key, rule, max_wait)
  return with_bucket(self, key, function(b, t) return store_mod.bucket_take(b, rule, max_wait, t) end)
end

function Store:pause(key, seconds)
  return with_bucket(self, key, function(b, t)
    store_mod.bucket_pause(b, seconds, t)
    return true
  end)
end

function Store:claim(id, ttl)
  local ok, err = self.dict:add(P .. "id." .. id, 0, ttl)
  return ok or err ~= "exists"
end

function Store:keep(id, ttl) self.dict:set(P .. "id." .. id, 1, ttl) end
function Store:release(id) self.dict:delete(P .. "id." .. id) end

function Store:key(st) return self.tokens:key(st) end
function Store:read(key) return self.tokens:read(key) end
function Store:refresh(st, key, fetch) return self.tokens:refresh(st, key, fetch) end
function Store:drop(key, tok) return self.tokens:drop(key, tok) end

function M.new(name)
  if type(name) ~= "string" or name == "" then
    args.argerror(1, "ngx_store", "the name of a lua_shared_dict expected, got " .. type(name))
  end
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.shared) ~= "table" or type(ngx.sleep) ~= "function" then
    args.raise("vzaps: ngx_store needs OpenResty or lua-nginx-module (ngx.shared)")
  end
  local dict = ngx.shared[name]
  if not dict then args.argerror(1, "ngx_store", "no lua_shared_dict named '" .. name .. "' (declare it in nginx.conf)") end
  return setmetatable({ name = name, dict = dict, ngx = ngx, tokens = import("ngx_store").new(name) }, STORE_MT)
end

return M
