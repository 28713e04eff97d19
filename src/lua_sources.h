/* lua_sources.h: the Lua half of the module, embedded at build time by
 * cmake/embed_lua.cmake from src/lua/vzaps/ (one .so, nothing else to install). */
#ifndef VZ_LUA_SOURCES_H
#define VZ_LUA_SOURCES_H

#include <stddef.h>

typedef struct vz_lua_source {
  const char *name; /* "init", "errors", ... */
  const char *code;
  size_t len;
} vz_lua_source;

extern const vz_lua_source vz_lua_sources[];

#endif
