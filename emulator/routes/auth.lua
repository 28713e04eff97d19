-- §4.1 POST /token
local state = require("lib.state")
local api = require("lib.api")

return function(r)
  r:post("/token", function(req)
    local b = api.body(req)
    local cfg = state.config
    if b.client_token ~= cfg.client_token or b.client_secret ~= cfg.client_secret then
      api.fail(401, "AUTHENTICATION_FAILED", "invalid client credentials")
    end
    local tok = state.issue_token()
    if cfg.token_style == "camel" then
      return 200, { accessToken = tok, expiresIn = cfg.token_ttl, tokenType = "Bearer" }
    end
    return 200, { access_token = tok, expires_in = cfg.token_ttl, token_type = "Bearer" }
  end, { auth = false })
end
