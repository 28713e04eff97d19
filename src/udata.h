/* udata.h: a userdata checked against a metatable that the calling C
 * function holds (an upvalue), cheaper than luaL_checkudata's registry
 * lookup by name; callers that must raise fall back on that one, which
 * words the error. */
#ifndef VZ_UDATA_H
#define VZ_UDATA_H

#include "compat.h"

/* The userdata at idx when its metatable is the value at mt (an absolute
 * or pseudo-index), else NULL. */
static inline void *vz_udata_of(lua_State *L, int idx, int mt) {
  void *p = lua_touserdata(L, idx);
  int ours;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  ours = lua_rawequal(L, -1, mt);
  lua_pop(L, 1);
  return ours ? p : NULL;
}

#endif
