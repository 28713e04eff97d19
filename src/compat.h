/* compat.h: every difference between Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT that
 * the module touches, and nothing else. Shims are static and vz_-prefixed so
 * they never clash with functions LuaJIT or a compat library already exports. */
#ifndef VZ_COMPAT_H
#define VZ_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 503
#define VZ_HAS_INTEGERS 1
#else
#define VZ_HAS_INTEGERS 0
#endif

#if LUA_VERSION_NUM < 502
#define vz_rawlen(L, i) lua_objlen((L), (i))
/* luaL_setfuncs for 5.1: register l into the table on top, sharing nup upvalues. */
static inline void vz_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
static inline void *vz_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (p == NULL || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, tname);
  if (!lua_rawequal(L, -1, -2)) p = NULL;
  lua_pop(L, 2);
  return p;
}
#define vz_absindex(L, i) \
  (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#else
#define vz_rawlen(L, i) lua_rawlen((L), (i))
#define vz_setfuncs(L, l, n) luaL_setfuncs((L), (l), (n))
#define vz_testudata(L, i, t) luaL_testudata((L), (i), (t))
#define vz_absindex(L, i) lua_absindex((L), (i))
#endif

/* Integers: on 5.3+ a JSON integer becomes a Lua integer; before that every
 * number is a double (exact up to 2^53). */
#if VZ_HAS_INTEGERS
#define vz_isinteger(L, i) lua_isinteger((L), (i))
#else
#define vz_isinteger(L, i) 0
#endif

/* One Lua value owned by a userdata (its "user value"): 5.4 has numbered
 * slots, 5.2/5.3 one slot, 5.1 the function environment (a table). */
#if LUA_VERSION_NUM >= 504
#define vz_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 1)
#define vz_setuservalue(L, i) ((void)lua_setiuservalue((L), (i), 1))
#define vz_getuservalue(L, i) ((void)lua_getiuservalue((L), (i), 1))
#elif LUA_VERSION_NUM >= 502
#define vz_newuserdata(L, sz) lua_newuserdata((L), (sz))
#define vz_setuservalue(L, i) lua_setuservalue((L), (i))
#define vz_getuservalue(L, i) ((void)lua_getuservalue((L), (i)))
#else
#define vz_newuserdata(L, sz) lua_newuserdata((L), (sz))
#define vz_setuservalue(L, i) ((void)lua_setfenv((L), (i)))
#define vz_getuservalue(L, i) lua_getfenv((L), (i))
#endif

#endif
