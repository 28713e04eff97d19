/* args.c: argument errors, raised the same way by every part of the module
 * (the API description: `bad argument #n to 'name' (why)`), with the position of the
 * user's line in front: the first calling frame that is not the module's
 * own Lua (@vzaps/...) or an endpoint method, however deep in the module
 * the check ran. The Lua
 * layer raises through core.argerror, so there is one wording. */
#include <stdarg.h>
#include <string.h>

#include "args.h"

/* Whether the frame at level is Lua code of the module (@vzaps/...). */
static int module_lua_frame(lua_State *L, int level) {
  lua_Debug ar;
  return lua_getstack(L, level, &ar) && lua_getinfo(L, "S", &ar) && strncmp(ar.source, "@vzaps/", 7) == 0;
}

/* Pushes "file:line: " of the user's calling line, or "" when a C function
 * called the module (no line to point at). A C function that the module's
 * own Lua called is the module's too (core.call runs its body through a
 * guard), so the walk goes on past it. */
void vz_push_caller_position(lua_State *L) {
  lua_Debug ar;
  int level;
  for (level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar)) break;
    if (strcmp(ar.what, "C") == 0) {
      if (module_lua_frame(L, level + 1) || vz_is_method_frame(L, &ar)) continue;
      break;
    }
    if (strcmp(ar.what, "tail") == 0) continue; /* Lua 5.1: the mark a tail call leaves */
    if (strncmp(ar.source, "@vzaps/", 7) == 0) continue;
    if (ar.currentline > 0) {
      lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
      return;
    }
    break;
  }
  lua_pushliteral(L, "");
}

int vz_raise(lua_State *L, const char *fmt, ...) {
  va_list ap;
  vz_push_caller_position(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  return lua_error(L);
}

int vz_argerror(lua_State *L, int n, const char *name, const char *fmt, ...) {
  va_list ap;
  vz_push_caller_position(L);
  lua_pushfstring(L, "bad argument #%d to '%s' (", n, name);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_pushliteral(L, ")");
  lua_concat(L, 4);
  return lua_error(L);
}

/* core.argerror(n, name, why): raises */
static int l_argerror(lua_State *L) {
  int n = (int)luaL_checkinteger(L, 1);
  const char *name = luaL_checkstring(L, 2);
  const char *why = luaL_checkstring(L, 3);
  return vz_argerror(L, n, name, "%s", why);
}

/* core.raise(message): raises message with the user's position in front */
static int l_raise(lua_State *L) { return vz_raise(L, "%s", luaL_checkstring(L, 1)); }

void vz_args_register(lua_State *L) {
  int core = lua_gettop(L);
  lua_pushcfunction(L, l_argerror);
  lua_setfield(L, core, "argerror");
  lua_pushcfunction(L, l_raise);
  lua_setfield(L, core, "raise");
}
