/* digest.h: core.digest, a hex SHA-256 for store keys that name an account
 * without holding its credentials (store.lua, redis_store.lua). */
#ifndef VZ_DIGEST_H
#define VZ_DIGEST_H

#include <lua.h>

/* Adds core.digest to the core table at the top of the stack. */
void vz_digest_register(lua_State *L);

#endif
