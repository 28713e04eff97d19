/* clock.h: the module's one clock (clock.c). */
#ifndef VZ_CLOCK_H
#define VZ_CLOCK_H

#include "compat.h"

/* Monotonic seconds, immune to wall-clock changes: the one clock of token
 * expiry (core.now in Lua, the calls sent from C), timeouts and deadlines. */
double vz_now(void);
/* core.now and core.sleep. */
void vz_clock_register(lua_State *L);

#endif
