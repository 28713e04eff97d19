/* observe_info.h: what the observe hook's table for an attempt takes from
 * C (observe_info.c). */
#ifndef VZ_OBSERVE_INFO_H
#define VZ_OBSERVE_INFO_H

#include "compat.h"

/* core.observe_facts on the core table on top of the stack (after the
 * client's and the request object's metatables are registered). */
void vz_observe_register(lua_State *L);

#endif
