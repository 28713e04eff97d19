-- spec/support/helper.lua: loaded by busted before any spec (.busted).
-- VZAPS_FAST_PATH=0 (CI's second 5.4 run) makes every client of the run
-- send its calls through the Lua layer (http.send) instead of from C, so
-- that both ways of sending are held to the same specs. The switch is the
-- module's private `_set_direct`; production code reads no environment.
if os.getenv("VZAPS_FAST_PATH") == "0" then require("vzaps")._set_direct(false) end
