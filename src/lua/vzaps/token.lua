-- token.lua: the JWT cache (contract §2.1): the /token exchange, where the
-- token is kept, and dropping a refused one. The client's own copy is
-- st.token / st.expires_at, mirrored into C (core.set_token) for the
-- headers and the direct path. Where it is cached is the client's
-- `token_store`: nil for the client's own copy only (one token per client,
-- the default), or a shared store (vzaps.ngx_token_store, ngx_store.lua)
-- that several clients, and several nginx workers, read and refresh as one.
--
-- A store has read(key) -> tok, expires_at | nil; drop(key, tok) (only if
-- tok is still the one it holds); refresh(st, key, fetch) -> tok | nil,
-- msg, err (one fetch per key at a time; it writes what fetch(st) got).
-- http.lua's token() adds the single fetch of a parallel run on top.
local import, core = ...
local errors = import("errors")

local type, tonumber = type, tonumber
local now = core.now

local M = {}

-- The client's copy and its C mirror change together.
function M.mirror(st, tok, expires_at)
  if st.token == tok and st.expires_at == expires_at then return end
  st.token, st.expires_at = tok, expires_at
  core.set_token(st.ud, tok, expires_at)
end

-- The cached token if it is still valid, else nil.
function M.current(st)
  local store = st.token_store
  if store then
    local tok, exp = store:read(st.token_key)
    -- A store is shared with other processes: what it holds is checked
    -- like a fetched token before it goes in a header.
    if tok ~= nil and (type(tok) ~= "string" or core.token_problem(tok)) then
      store:drop(st.token_key, tok)
      tok, exp = nil, nil
    end
    -- what the store holds is what the direct path sends, too
    M.mirror(st, tok, exp)
    return tok
  end
  local tok = st.token
  if tok and now() < st.expires_at then return tok end
  return nil
end

local function lifetime(v)
  if type(v) == "string" then v = tonumber(v) end
  if type(v) == "number" and v > 0 and v < math.huge then return v end
  return nil
end

-- One POST /token through send (http.send): tok, expires_at | nil, msg, err.
-- Caches nothing.
function M.fetch(st, send)
  -- built in C (src/request_object.c): the body holding the secret is
  -- wiped when the request is collected
  local req = core.token_request(st.ud, st.client_secret)
  local res, msg, err = send(st, req)
  if res == nil then return nil, msg, err end
  local tok, ttl
  if type(res) == "table" then
    tok = res.access_token
    if type(tok) ~= "string" or tok == "" then tok = res.accessToken end
    ttl = lifetime(res.expires_in)
    if ttl == nil then ttl = lifetime(res.expiresIn) end
  end
  -- The token goes into every request's Authorization header: one that is
  -- blank, too long or has a control byte (a CR LF would add a header of
  -- the server's choosing) is refused like a missing one (src/policy.c).
  local why = "missing"
  if type(tok) == "string" then why = core.token_problem(tok) end
  if why or not ttl then
    local secrets = errors.secrets(st)
    if type(tok) == "string" and #tok >= 4 then table.insert(secrets, 1, tok) end
    return errors.bad_token(req, type(res) == "table" and res or nil, secrets, why)
  end
  return tok, now() + ttl - st.token_skew
end

-- A new token: fetched, cached and mirrored; tok | nil, msg, err.
function M.refresh(st, send)
  local store = st.token_store
  if store then
    local tok, msg, err = store:refresh(st, st.token_key, function(s) return M.fetch(s, send) end)
    if not tok then return nil, msg, err end
    M.mirror(st, tok, msg)
    return tok
  end
  local tok, expires_at, err = M.fetch(st, send)
  if not tok then return nil, expires_at, err end
  M.mirror(st, tok, expires_at)
  return tok
end

-- The server refused tok (a 401): it is not used again, unless a newer
-- token already replaced it.
function M.drop(st, tok)
  local store = st.token_store
  if store then store:drop(st.token_key, tok) end
  if tok == nil or st.token == tok then M.mirror(st, nil, nil) end
end

return M
