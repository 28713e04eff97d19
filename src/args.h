/* args.h: argument errors with the user's line in front (args.c). */
#ifndef VZ_ARGS_H
#define VZ_ARGS_H

#include "compat.h"

void vz_push_caller_position(lua_State *L);
/* The endpoint methods are C functions that user code calls directly
 * (direct_call.c): their frame is the module's own, like its Lua's. */
int vz_is_method_frame(lua_State *L, lua_Debug *ar);
int vz_raise(lua_State *L, const char *fmt, ...);
int vz_argerror(lua_State *L, int n, const char *name, const char *fmt, ...);
void vz_args_register(lua_State *L);

#endif
