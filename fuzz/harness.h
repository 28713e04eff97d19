/* fuzz/harness.h: the Lua state the libFuzzer targets share: the standard
 * libraries, `require("vzaps")` preloaded from the module linked into the
 * target, and the target's setup chunk run once; the function it returns is
 * kept in the registry as "fuzz_fn". */
#ifndef VZ_FUZZ_HARNESS_H
#define VZ_FUZZ_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

int luaopen_vzaps(lua_State *L);

static int fuzz_preload_vzaps(lua_State *S) { return luaopen_vzaps(S); }

static lua_State *fuzz_new_state(const char *setup) {
  lua_State *S = luaL_newstate();
  luaL_openlibs(S);
  luaL_getsubtable(S, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(S, fuzz_preload_vzaps);
  lua_setfield(S, -2, "vzaps");
  lua_pop(S, 1);
  if (luaL_dostring(S, setup) != LUA_OK) {
    fprintf(stderr, "setup: %s\n", lua_tostring(S, -1));
    abort();
  }
  lua_setfield(S, LUA_REGISTRYINDEX, "fuzz_fn");
  return S;
}

#endif
