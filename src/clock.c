/* clock.c: the module's one clock, and the blocking sleep of retry
 * backoffs. */
#include <errno.h>
#include <time.h>

#include "clock.h"

double vz_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* core.now(): vz_now for the Lua layer (token expiry, backoffs). */
static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)vz_now());
  return 1;
}

/* core.sleep(seconds): blocks the calling thread (retry backoff). */
static int l_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec ts;
  if (!(s > 0)) return 0;
  if (s > 3600) s = 3600;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return 0;
}

void vz_clock_register(lua_State *L) {
  lua_pushcfunction(L, l_now);
  lua_setfield(L, -2, "now");
  lua_pushcfunction(L, l_sleep);
  lua_setfield(L, -2, "sleep");
}
