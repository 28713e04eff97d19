-- option_table.lua: every option of vzaps.new, in the one place that
-- defines them. options.lua checks against it; scripts/gen-api.lua writes
-- the option reference of docs/api.md and README.md from it, so the docs
-- cannot list an option the module does not take, or miss one it does.
--
-- { name, type, default (text for the docs), doc }
--   type: "string", "secret" (a credential: required, one line), "url",
--         "seconds", "integer", "budget" (an integer or false), "boolean",
--         "function", "table"
return {
  { "client_token", "secret", "`VZAPS_CLIENT_TOKEN`, else required", "account client token (sent as `X-Client-Token`)" },
  { "client_secret", "secret", "`VZAPS_CLIENT_SECRET`, else required",
    "account client secret (only sent to `POST /token`)" },
  { "base_url", "url", "`VZAPS_BASE_URL`, else `https://api.vzaps.com`",
    "REST endpoint; a trailing `/` is ignored; no `user:password@` (refused)" },
  { "realtime_url", "url", "`VZAPS_REALTIME_URL`, else `wss://realtime.vzaps.com`",
    "realtime endpoint (`ws://` for local use); no `user:password@` (refused)" },
  { "timeout", "seconds", "`30`", "whole-request budget (connect + send + receive), at most one year" },
  { "connect_timeout", "seconds", "`10`", "TCP + TLS connect budget" },
  { "token_skew", "seconds", "`60`", "refresh the JWT this long before it expires" },
  { "user_agent", "string", "`VZaps.SDK.Lua/<VERSION>`", "`User-Agent` header" },
  { "max_retries", "integer", "`2`", "see Reliability; `0` turns retries off (0 to 100)" },
  { "concurrency", "integer", "`8`",
    "requests of `client:spawn` jobs and `client:parallel` runs in flight at once (1 to 256); see README "
      .. "\"Calls that never stall a frame loop\"" },
  { "ssl_verify", "boolean", "`true`", "verify the server certificate and host name" },
  { "ca_file", "string", "system store", "CA bundle file" },
  { "ca_path", "string", "system store", "CA certificate directory" },
  { "proxy", "string", "the environment's, read by vzaps.new", "proxy URL; `\"\"` turns every proxy off, those from the environment too" },
  { "transport", "function", "libcurl",
    "`function(req) -> res` or `nil, errmsg[, kind[, sent]]`, for custom runtimes and tests; `vzaps.ngx_transport()` in OpenResty" },
  { "retry_backoff", "seconds", "`0.5`",
    "first delay of the exponential retry backoff (doubles per retry, capped at 8 s, with jitter); `0` allowed" },
  { "observe", "function", "none",
    "`function(info)` called for every attempt of every call (operation, method, path, attempt, status, kind, "
      .. "retry reason and delay, timings); see README \"Request hooks\"" },
  { "observe_payloads", "boolean", "`false`",
    "also give the hook each attempt's request headers and body and the response, redacted" },
  { "token_store", "store", "this client",
    "where the JWT is cached: `vzaps.ngx_token_store(\"dict\")` keeps one token for every worker of an nginx, "
      .. "refreshed by one `POST /token` (README \"OpenResty with many workers\")" },
  { "json_budget", "budget", "`16`",
    "a JSON answer may decode into at most this many bytes of Lua memory per byte, plus 1 MiB (estimated); "
      .. "more fails with kind `network`; `false`: no limit (1 to 4096; docs/reliability.md \"Hostile peers\")" },
  { "pace", "table", "none",
    "send budget per instance: `{rate = n, per = seconds (1), burst = n (1), jitter = fraction (0), daily = n, "
      .. "store = store}`; the calls that make WhatsApp send something wait for their turn "
      .. "(README \"Sending at WhatsApp's pace\")" },
  { "sleep", "function", "blocking sleep",
    "`function(seconds)` used for retry backoffs; pass `ngx.sleep` in OpenResty so a backoff does not block the worker" },
}
