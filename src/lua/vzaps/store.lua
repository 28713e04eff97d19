-- store.lua: the store interface shared by three uses (send budgets,
-- webhook de-duplication, the JWT) and the local store, the default: state
-- kept in this Lua state only. vzaps.ngx_store (every worker of one nginx)
-- and vzaps.redis_store (every process of every machine) have the same
-- methods; README "Stores" documents them for users who write their own.
--
-- Budgets (pace.lua):
--   store:take(key, rule, max_wait) -> wait | nil, failure
--     rule = {interval = seconds between sends, burst = sends at once,
--             daily = sends per rolling 24 h or nil, tau = (burst - 1) *
--             interval}
--     Reserves the next turn of the bucket and answers how long the caller
--     waits for it (seconds from now, on the store's clock); nothing is
--     reserved when the wait would pass max_wait or the daily cap:
--     failure = {kind = "rate_limit", code = "PACE_RATE" | "PACE_PAUSED" |
--     "PACE_DAILY", retry_after = seconds, message = text}.
--   store:pause(key, seconds): no turn starts before now + seconds (a 429).
-- De-duplication (webhook.lua):
--   store:claim(id, ttl) -> true (first) | false (seen, or being handled)
--   store:keep(id, ttl): the id was handled; remembered ttl seconds
--   store:release(id): the handler failed; the id may run again
-- The token (token.lua):
--   store:key(st) -> the account's key (a digest: it holds no credential)
--   store:read(key) -> tok, expires_at (core.now() clock) | nil
--   store:refresh(st, key, fetch) -> tok, expires_at | nil, msg, err (one
--     fetch at a time per key; the others get its token or its failure)
--   store:drop(key, tok): forget tok, unless a newer token replaced it
-- A store that cannot work (its server is down) answers nil, failure with
-- kind "store" from take and claim, and nil, msg, err from refresh.
local _, core = ...

local type, pairs, setmetatable, floor, max = type, pairs, setmetatable, math.floor, math.max
local now = core.now

local M = {}

local DAY_MINUTES = 1440

-- The hex SHA-256 of s (core.sha256 gives the raw bytes).
function M.hex_digest(s)
  return (core.sha256(s):gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- ---------------------------------------------------------------------------
-- The bucket arithmetic, shared by the local and nginx stores (redis_store
-- runs the same steps in a server-side script). b = {tat, pause, minutes =
-- {minute = count}, total}; t is the store's clock in seconds.
-- ---------------------------------------------------------------------------

-- The failures of take, worded once for every store (redis_store.lua
-- builds them from its script's answer). Seconds to the millisecond with
-- a '.', whatever LC_NUMERIC says (string.format's %f follows it).
local function seconds_text(s)
  local ms = floor(s * 1000 + 0.5)
  return ("%d.%03d s"):format(floor(ms / 1000), ms % 1000)
end

function M.turn_refused(paused, wait)
  return { kind = "rate_limit", code = paused and "PACE_PAUSED" or "PACE_RATE", retry_after = wait,
           message = (paused and "sends of this instance are paused after a 429 for "
             or "the send budget's next turn is ") .. seconds_text(wait)
             .. (paused and "" or " away") .. ", beyond the call's timeout" }
end

function M.daily_refused(daily, after)
  return { kind = "rate_limit", code = "PACE_DAILY", retry_after = after,
           message = ("the daily cap of %d sends is reached"):format(daily) }
end

-- GCRA: tat is the theoretical arrival time of the next send; a send may
-- start burst - 1 intervals before it. A pause moves the start after it.
function M.bucket_take(b, rule, max_wait, t)
  local interval = rule.interval
  local tau = rule.tau or (rule.burst - 1) * interval
  local tat = max(b.tat or t, t)
  local start = tat - tau
  local paused = false
  if (b.pause or 0) > start then
    start, tat, paused = b.pause, b.pause + tau, true
  end
  local wait = max(0, start - t)
  if wait > max_wait then
    return nil, M.turn_refused(paused, wait)
  end
  local daily = rule.daily
  if daily then
    local minute = floor((t + wait) / 60)
    local minutes, total, oldest = b.minutes or {}, b.total or 0, nil
    for m, n in pairs(minutes) do
      if m <= minute - DAY_MINUTES then
        minutes[m], total = nil, total - n
      elseif not oldest or m < oldest then
        oldest = m
      end
    end
    b.minutes, b.total = minutes, total
    if total >= daily then
      local after = (oldest + DAY_MINUTES) * 60 - t
      return nil, M.daily_refused(daily, max(after, 0))
    end
    minutes[minute] = (minutes[minute] or 0) + 1
    b.total = total + 1
  end
  b.tat = tat + interval
  return wait
end

function M.bucket_pause(b, seconds, t)
  local untl = t + seconds
  if untl > (b.pause or 0) then b.pause = untl end
end

-- ---------------------------------------------------------------------------
-- The local store
-- ---------------------------------------------------------------------------

local Local = {}
local LOCAL_MT = { __index = Local, __name = "vzaps.store",
                   __tostring = function() return "vzaps.store (local)" end }
M.LOCAL_MT = LOCAL_MT

-- The common case first, inline: a turn free now, no pause, no daily cap.
function Local:take(key, rule, max_wait)
  local b = self.buckets[key]
  local t = now()
  if b then
    local tat = b.tat
    if tat < t then tat = t end
    local start = tat - rule.tau
    if start <= t and b.pause <= start and not rule.daily then
      b.tat = tat + rule.interval
      return 0
    end
  else
    b = { tat = t, pause = 0 }
    self.buckets[key] = b
  end
  return M.bucket_take(b, rule, max_wait, t)
end

function Local:pause(key, seconds)
  local b, t = self.buckets[key], now()
  if not b then
    b = { tat = t, pause = 0 }
    self.buckets[key] = b
  end
  M.bucket_pause(b, seconds, t)
end

-- Ids: id -> expiry. Expired ids are swept when the table has doubled.
function Local:claim(id, ttl)
  local ids, t = self.ids, now()
  local exp = ids[id]
  if exp and exp > t then return false end
  if not exp then
    self.nids = self.nids + 1
    if self.nids > self.sweep_at then
      local n = 0
      for k, e in pairs(ids) do
        if e <= t then ids[k] = nil else n = n + 1 end
      end
      self.nids, self.sweep_at = n + 1, max(1024, 2 * n)
    end
  end
  ids[id] = t + ttl
  return true
end

function Local:keep(id, ttl) self.ids[id] = now() + ttl end

function Local:release(id)
  if self.ids[id] then
    self.ids[id] = nil
    self.nids = self.nids - 1
  end
end

-- The token: one per key; this Lua state's jobs already share one fetch
-- per client (http.lua), and blocking calls cannot overlap.
function Local.key(_, st)
  return "token:" .. M.hex_digest(st.base_url .. "\n" .. st.client_token .. "\n" .. st.client_secret)
end

function Local:read(key)
  local e = self.tokens[key]
  if e and now() < e[2] then return e[1], e[2] end
  return nil
end

function Local:refresh(st, key, fetch)
  local tok, exp, err = fetch(st)
  if not tok then return nil, exp, err end
  self.tokens[key] = { tok, exp }
  return tok, exp
end

function Local:drop(key, tok)
  local e = self.tokens[key]
  if e and e[1] == tok then self.tokens[key] = nil end
end

--- A store kept in this Lua state (the default of every use).
function M.new()
  return setmetatable({ buckets = {}, ids = {}, nids = 0, sweep_at = 1024, tokens = {} }, LOCAL_MT)
end

-- Whether v has the methods of one use ("pace", "dedup", "token").
local NEEDS = {
  pace = { "take", "pause" },
  dedup = { "claim", "keep", "release" },
  token = { "key", "read", "refresh", "drop" },
}
function M.usable(v, use)
  if type(v) ~= "table" and type(v) ~= "userdata" then return false end
  for _, name in pairs(NEEDS[use]) do
    if type(v[name]) ~= "function" then return false, name end
  end
  return true
end

return M
