-- args.lua: argument errors and the checks that several modules share.
-- The wording and the user's-line position come from the C core
-- (core.argerror, src/args.c), the one place that raises them; the rules
-- for tokens and times from src/policy.c.
local _, core = ...

local type = type
local is_open, raise, argerror = core.is_open, core.raise, core.argerror
local check_seconds = core.check_seconds

local M = {}

-- `bad argument #n to 'name' (why)`, at the user's line.
M.argerror = argerror
-- A message at the user's line (no `bad argument` wording).
M.raise = raise

-- Any call on a closed client raises (the API description, "Client").
function M.check_open(client)
  if not is_open(client) then raise("vzaps: client is closed") end
end

-- A token that goes in a header: non-blank, single line (the rule of
-- src/policy.c, as the mapper applies it).
local token_problem = core.token_problem
function M.check_token(v, n, name, field)
  local why = "blank"
  if type(v) == "string" then why = token_problem(v) end
  if why == "blank" then argerror(n, name, field .. " is required") end
  if why == "control" then argerror(n, name, field .. " contains control characters") end
  if why == "long" then argerror(n, name, field .. " is longer than " .. core.MAX_TOKEN .. " bytes") end
  return v
end

-- A number of seconds in the module's range (src/policy.c): more than zero
-- (or zero too, with zero_ok), at most one year.
function M.check_seconds(v, n, name, field, zero_ok)
  if not check_seconds(v, zero_ok) then
    argerror(n, name, field .. " must be " .. (zero_ok and "zero or more" or "a positive number of")
      .. " seconds, at most one year")
  end
  return v
end

return M
