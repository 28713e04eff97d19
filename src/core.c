/* core.c: luaopen_vzaps and the small C helpers the Lua layer calls
 * (JSON, Retry-After, the embedded Lua). The public surface itself is Lua, compiled into
 * this library (see src/lua/ and docs/design.md). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "args.h"
#include "client.h"
#include "clock.h"
#include "json.h"
#include "lua_sources.h"
#include "media.h"
#include "observe_info.h"
#include "policy.h"
#include "request.h"
#include "request_object.h"
#include "transport.h"
#include "url.h"
#include "vzaps.h"

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

/* core.json_encode(value, list_keys|nil, client|nil) -> text | nil, message
 * With a client, its reused encode buffer is used (no allocation per call). */
static int l_json_encode(lua_State *L) {
  vz_buf tmp, *b = &tmp;
  char err[160];
  int list_keys = 0, ok;
  luaL_checkany(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    list_keys = 2;
  }
  if (!lua_isnoneornil(L, 3)) {
    vz_client *c = vz_client_check(L, 3);
    b = &c->enc;
    vz_buf_reset(b, VZ_KEEP_BUFFER);
  } else {
    vz_buf_init(b);
  }
  lua_settop(L, 3);
  ok = vz_json_encode(L, 1, b, vz_absindex(L, VZ_ARRAY_MT), list_keys, err, sizeof err);
  if (ok) lua_pushlstring(L, b->data ? b->data : "", b->len);
  if (b == &tmp) vz_buf_free(b);
  if (ok) return 1;
  lua_pushnil(L);
  lua_pushstring(L, err);
  return 2;
}

/* core.json_decode(text [, budget]) -> value | nil, message [, true]
 * budget: bytes of Lua memory per byte of text (json.h), nil for the
 * default, false for none; the third value says the text was over it. */
static int l_json_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  char err[160];
  vz_json_hints h;
  memset(&h, 0, sizeof h);
  h.budget = vz_json_budget_arg(L, 2);
  if (vz_json_decode_hinted(L, s, n, vz_absindex(L, VZ_ARRAY_MT), &h, err, sizeof err)) return 1;
  lua_pushnil(L);
  lua_pushstring(L, err);
  if (!h.over_budget) return 2;
  lua_pushboolean(L, 1);
  return 3;
}

/* core.retry_after(value) -> seconds | nil. Retry-After is either a number
 * of seconds or an HTTP-date (RFC 9110 §10.2.3); libcurl parses the date. */
static int l_retry_after(lua_State *L) {
  const char *s = luaL_checkstring(L, 1);
  char *end;
  double secs;
  while (*s == ' ') s++;
  secs = strtod(s, &end);
  if (end != s && *end == '\0') {
    if (!(secs >= 0) || secs != secs) return 0;
    /* whole seconds (what the header carries) as an integer */
    if (secs == floor(secs) && secs < 9007199254740992.0)
      lua_pushinteger(L, (lua_Integer)secs);
    else
      lua_pushnumber(L, secs);
    return 1;
  } else {
    time_t at = curl_getdate(s, NULL), now = time(NULL);
    if (at == (time_t)-1) return 0;
    lua_pushinteger(L, at > now ? (lua_Integer)(at - now) : 0);
    return 1;
  }
}

/* core.sha256(s) -> the 32-byte SHA-256 digest of s: a fixed-size stand-in
 * for a string a peer chose (webhook event ids of any length). */
static int l_sha256(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)s, n, md);
  lua_pushlstring(L, (const char *)md, sizeof md);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Embedded Lua modules                                                      */
/* ------------------------------------------------------------------------ */

/* import(name): runs the embedded module vzaps/<name>.lua once, passing it
 * (import, core), and caches its result. Upvalues: cache, core. */
static int l_import(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const vz_lua_source *src;
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  for (src = vz_lua_sources; src->name != NULL; src++)
    if (strcmp(src->name, name) == 0) break;
  if (src->name == NULL) return luaL_error(L, "vzaps: no embedded module '%s'", name);
  lua_pushfstring(L, "@vzaps/%s.lua", name);
  if (luaL_loadbuffer(L, src->code, src->len, lua_tostring(L, -1)) != 0) return lua_error(L);
  lua_pushvalue(L, lua_upvalueindex(3)); /* import itself */
  lua_pushvalue(L, lua_upvalueindex(2)); /* core */
  lua_call(L, 2, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, lua_upvalueindex(1));
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Module entry                                                              */
/* ------------------------------------------------------------------------ */

static const luaL_Reg core_funcs[] = {
    {"json_encode", l_json_encode},
    {"json_decode", l_json_decode},
    {"retry_after", l_retry_after},
    {"sha256", l_sha256},
    {NULL, NULL},
};

/* libcurl wants curl_global_init once per process before any thread uses
 * it. Hosts that do it themselves set VZAPS_NO_CURL_GLOBAL_INIT. */
static void global_init_once(void) {
  static int done = 0;
  if (done) return;
  done = 1;
  if (getenv("VZAPS_NO_CURL_GLOBAL_INIT") == NULL) curl_global_init(CURL_GLOBAL_DEFAULT);
}

VZ_EXPORT int luaopen_vzaps(lua_State *L);

int luaopen_vzaps(lua_State *L) {
  int core;
  global_init_once();

  lua_newtable(L);
  core = lua_gettop(L);
  /* The JSON array metatable: one per Lua state, upvalue 1 of every core
   * function, so decoded arrays re-encode as arrays (also when empty). */
  lua_newtable(L);
  lua_pushliteral(L, "vzaps.array");
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "array_mt");
  /* The decoder's string cache (json.h): one per Lua state, upvalue 2. */
  lua_createtable(L, VZ_JSON_STRCACHE_SLOTS, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "strcache");
  vz_setfuncs(L, core_funcs, 2);

  vz_clock_register(L);
  vz_req_register(L); /* before the client's functions, which hold its metatable */
  vz_client_register(L);
  vz_observe_register(L);
  vz_transport_register(L);
  vz_request_register(L);
  vz_policy_register(L);
  vz_url_register(L);
  vz_args_register(L);
  vz_direct_register(L);
  vz_multi_register(L);
  vz_ws_register(L);
  vz_media_register(L);
  lua_pushliteral(L, VZ_VERSION);
  lua_setfield(L, core, "VERSION");
  lua_pushlightuserdata(L, NULL); /* JSON null: the same value as cjson.null */
  lua_setfield(L, core, "null");

  /* import = closure(cache, core, <self>): the self slot is filled in below
   * so that modules can import each other. */
  lua_newtable(L);
  lua_pushvalue(L, core);
  lua_pushnil(L);
  lua_pushcclosure(L, l_import, 3);
  lua_pushvalue(L, -1);
  lua_setupvalue(L, -2, 3);
  lua_pushliteral(L, "init");
  lua_call(L, 1, 1);
  return 1;
}
