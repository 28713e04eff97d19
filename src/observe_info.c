/* observe_info.c: what the `observe` hook's table for an attempt (README
 * "Request hooks") takes from C, in one call: the request's names and
 * libcurl's timings, as values. observe.lua builds the tables: a Lua
 * constructor sets constant keys more cheaply than lua_setfield, whose
 * key lookup compares the whole string. */
#include "client.h"
#include "observe_info.h"
#include "request_object.h"
#include "transport.h"

#define UP_CLIENT_MT lua_upvalueindex(1)
#define UP_REQ_MT lua_upvalueindex(2)

/* core.observe_facts(client, req, with_timings) -> op, method, path
 * [, name_lookup, connect, tls, first_byte, total]: the request's names
 * and, when asked and the client is open, libcurl's timings of its own
 * handle's last transfer, in seconds. */
static int l_observe_facts(lua_State *L) {
  vz_client *c = vz_client_at(L, 1, UP_CLIENT_MT);
  vz_req *r = vz_req_at(L, 2, UP_REQ_MT);
  int with_timings = lua_toboolean(L, 3) && c->curl != NULL;
  lua_pushstring(L, r->op);
  lua_pushstring(L, r->method);
  lua_pushlstring(L, r->url + r->path_at, r->path_len);
  if (!with_timings) return 3;
  return 3 + vz_xfer_push_timing_values(L, &c->rest);
}

void vz_observe_register(lua_State *L) {
  luaL_getmetatable(L, VZ_CLIENT_MT);
  luaL_getmetatable(L, VZ_REQ_MT);
  lua_pushcclosure(L, l_observe_facts, 2);
  lua_setfield(L, -2, "observe_facts");
}
