-- hook_contract.lua: what the observe hook's documented contract asks of
-- any implementation for a first attempt that succeeded (README "Request
-- hooks"): `info` with its nine fields (the platform answers with a request
-- id), `info.timings` with five, and the protected call of the hook, as
-- observe.lua makes them. bench/observe_tables.lua measures it alone and
-- bench/vzaps_loop.lua (mode sendhook) after a send from C: one definition,
-- so both measure the same thing.
local pcall = pcall
return function(hook, op, method, path, request_id)
  local timings = { name_lookup = 1e-6, connect = 2e-6, tls = 0, first_byte = 4e-4, total = 5e-4 }
  return pcall(hook, {
    op = op, method = method, path = path, attempt = 1, status = 200, kind = "ok", retry = false,
    timings = timings, request_id = request_id,
  })
end
