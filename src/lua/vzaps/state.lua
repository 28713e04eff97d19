-- state.lua: where a client keeps what scripts must not reach.
-- A resource object holds its client (the userdata) under a key only the
-- module holds. The client's Lua state (credentials, token cache) sits in
-- the userdata's user value under PRIV, and an instance handle's scope
-- ({instance_id, instance_token}) in SCOPES, keyed by the resource object:
-- pairs() and getmetatable() over any public object show the userdata and
-- methods, never a secret (as webhook.lua keeps its key).
local _, core = ...

local M = {}

local UD, PRIV = {}, {}
-- Weak keys: an entry goes with its object. The scope never refers back to
-- the object, so Lua 5.1 and LuaJIT (no ephemerons) collect it too.
local SCOPES = setmetatable({}, { __mode = "k" })
M.UD, M.PRIV, M.SCOPES = UD, PRIV, SCOPES
local state_of = core.state

-- A resource object of client st, with its scope (nil for the client's own).
function M.object(st, scope, mt)
  local obj = setmetatable({ [UD] = st.ud }, mt)
  SCOPES[obj] = scope
  return obj
end

-- The scope of a resource object (nil for a client's own).
function M.scope(obj) return SCOPES[obj] end

-- The private state of a client, or of the client a resource belongs to.
function M.of_client(client) return state_of(client)[PRIV] end
function M.of(obj) return state_of(obj[UD])[PRIV] end

return M
