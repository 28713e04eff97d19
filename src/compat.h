/* compat.h: every difference between Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT that
 * the module touches, and nothing else. Shims are static and vz_-prefixed so
 * they never clash with functions LuaJIT or a compat library already exports. */
#ifndef VZ_COMPAT_H
#define VZ_COMPAT_H

#include <stdint.h>

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
#define vz_absindex(L, i) (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
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
/* lua_rawgeti's index is a lua_Integer from 5.3 on, an int before. */
#define vz_rawgeti(L, t, n) lua_rawgeti((L), (t), (lua_Integer)(n))

/* Pushes the integer m (or -m when neg, m > 0) exactly: a lua_Integer on
 * 5.3+. Returns 0, pushing nothing, when it does not fit. */
static inline int vz_push_exact_integer(lua_State *L, uint64_t m, int neg) {
  if (!neg) {
    if (m > (uint64_t)LUA_MAXINTEGER) return 0;
    lua_pushinteger(L, (lua_Integer)m);
  } else {
    if (m == 0 || m - 1 > (uint64_t)LUA_MAXINTEGER) return 0;
    lua_pushinteger(L, -(lua_Integer)(m - 1) - 1); /* no overflow at MIN */
  }
  return 1;
}

/* The number key at idx as an array index >= 1, in *k. 5.3+ turns integral
 * float keys into integers, so only integer keys can be indices. */
static inline int vz_array_index(lua_State *L, int idx, long long *k) {
  lua_Integer i;
  if (!lua_isinteger(L, idx)) return 0;
  i = lua_tointeger(L, idx);
  if (i < 1) return 0;
  *k = (long long)i;
  return 1;
}
#else
#define vz_isinteger(L, i) 0
#define vz_rawgeti(L, t, n) lua_rawgeti((L), (t), (int)(n))

/* Doubles only: m (or -m) is pushed when a double holds it exactly (up to
 * 2^53); 0, pushing nothing, otherwise. */
static inline int vz_push_exact_integer(lua_State *L, uint64_t m, int neg) {
  double v;
  if (m > ((uint64_t)1 << 53) || (neg && m == 0)) return 0;
  v = (double)m;
  lua_pushnumber(L, (lua_Number)(neg ? -v : v));
  return 1;
}

/* The number key at idx as an array index >= 1, in *k: any integral double
 * from 1 to 2^53. */
static inline int vz_array_index(lua_State *L, int idx, long long *k) {
  double v = (double)lua_tonumber(L, idx);
  if (!(v >= 1 && v <= 9007199254740992.0) || (double)(long long)v != v) return 0;
  *k = (long long)v;
  return 1;
}
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
