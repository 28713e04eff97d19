-- spec/support/helper.lua: loaded by busted before any spec (.busted).
-- VZAPS_FAST_PATH=0 (CI's second 5.4 run) makes every client of the run
-- send its calls through the Lua layer (http.send) instead of from C, so
-- that both ways of sending are held to the same specs. The switch is the
-- module's private `_set_direct`; the module reads no test switch from the
-- environment.
if os.getenv("VZAPS_FAST_PATH") == "0" then require("vzaps")._set_direct(false) end

-- The module does read the user's configuration (VZAPS_CLIENT_TOKEN & co.,
-- README "Client options"); scripts/busted.sh clears it, so that no spec
-- depends on the shell. busted started some other way must not inherit it.
for _, v in ipairs({ "VZAPS_CLIENT_TOKEN", "VZAPS_CLIENT_SECRET", "VZAPS_BASE_URL", "VZAPS_REALTIME_URL" }) do
  if os.getenv(v) then error(v .. " is set: run the specs through scripts/busted.sh, which clears VZAPS_*", 0) end
end

-- busted insulates each spec file: what a file required is dropped from
-- package.loaded after it, and collected. A collected luv module closes
-- libuv's default loop, under the next file's handles (a crash in
-- uv_poll_init, or a poll handle that never fires); loaded here, before any
-- file, luv stays loaded for the whole run.
pcall(require, "luv")

