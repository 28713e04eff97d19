-- state.lua: where a client keeps what scripts must not reach.
-- A resource object holds its client (the userdata) and scope under keys
-- only the module holds. The client's Lua state (credentials, token cache)
-- sits in the userdata's user value under PRIV, where no script can iterate
-- to it: pairs() over a resource shows the userdata, never the secrets.
local _, core = ...

local M = {}

local UD, SCOPE, PRIV = {}, {}, {}
M.UD, M.SCOPE, M.PRIV = UD, SCOPE, PRIV
local state_of = core.state

-- The private state of a client, or of the client a resource belongs to.
function M.of_client(client) return state_of(client)[PRIV] end
function M.of(obj) return state_of(obj[UD])[PRIV] end

return M
