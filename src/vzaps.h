/* vzaps.h: what every C file of the module shares: its version, the
 * export of luaopen_vzaps, and the upvalues of core functions. Each part
 * has its own header (client.h, transport.h, headers.h, policy.h, url.h,
 * clock.h, ...). */
#ifndef VZ_VZAPS_H
#define VZ_VZAPS_H

#include "compat.h"

#define VZ_VERSION "0.1.0"

#if defined(_WIN32)
#define VZ_EXPORT __declspec(dllexport)
#else
#define VZ_EXPORT __attribute__((visibility("default")))
#endif

/* Stack index of the JSON array metatable: every core function carries it as
 * upvalue 1, and the decoder's string cache as upvalue 2. */
#define VZ_ARRAY_MT lua_upvalueindex(1)
#define VZ_STRCACHE lua_upvalueindex(2)

/* The registration of each part on the core table (core.c calls them). */
void vz_direct_register(lua_State *L); /* direct_call.c: core.caller; route.c: core.route */
void vz_multi_register(lua_State *L);  /* multi.c: the jobs' curl multi handle (core.multi_new) */
void vz_ws_register(lua_State *L);     /* ws.c: the realtime WebSocket (vzaps.WebSocket, core.ws_connect) */

#endif
