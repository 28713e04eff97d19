/* client.c: the vzaps.client userdata. C owns the libcurl handle and its
 * buffers; the Lua layer keeps everything else (options, token cache,
 * resources) in the userdata's user value table. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "policy.h"
#include "request_object.h"
#include "udata.h"
#include "vzaps.h"

#define VZ_DIRECT_OFF "vzaps.direct_off"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

vz_client *vz_client_check(lua_State *L, int idx) {
  vz_client *c = (vz_client *)luaL_checkudata(L, idx, VZ_CLIENT_MT);
  if (c->curl == NULL) luaL_error(L, "vzaps: client is closed");
  return c;
}

/* Secrets are wiped before their memory goes back to the allocator. */
void vz_client_forget_secret(char **s) {
  if (*s != NULL) {
    vz_wipe(*s, strlen(*s));
    free(*s);
    *s = NULL;
  }
}

/* The message of a call made on a client while it maps or sends another. */
static const char BUSY[] =
    "vzaps: this client is in the middle of another call (a metamethod or finalizer called "
    "it while it was preparing or sending one): make this call once that one returned";

int vz_client_run_guarded(lua_State *L, vz_client *c) {
  int status;
  if (c->busy) return vz_raise(L, "%s", BUSY);
  c->busy = 1;
  status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  c->busy = 0;
  if (status != 0) return lua_error(L);
  return lua_gettop(L);
}

/* One function serves close(), __gc and __close, so closing twice is a
 * no-op and nothing is freed twice. */
static void client_release(vz_client *c) {
  vz_xfer_close(&c->rest);
  vz_share_unref(c->share);
  c->share = NULL;
  vz_buf_free(&c->enc);
  vz_buf_free(&c->url);
  if (c->body.data != NULL) vz_wipe(c->body.data, c->body.cap);
  vz_buf_free(&c->body);
  c->curl = NULL;
  free(c->base_url);
  free(c->realtime_url);
  free(c->ca_file);
  free(c->ca_path);
  free(c->proxy);
  free(c->user_agent);
  c->base_url = c->realtime_url = c->ca_file = c->ca_path = c->proxy = c->user_agent = NULL;
  vz_client_forget_secret(&c->client_token);
  vz_client_forget_secret(&c->token);
  vz_client_forget_secret(&c->auth_line);
}

/* A copy of the optional string setting `name`, or NULL when absent. Sets
 * *oom when the copy cannot be made. */
static char *string_setting(lua_State *L, int settings, const char *name, int *oom) {
  char *copy = NULL;
  lua_getfield(L, settings, name);
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    copy = (char *)malloc(n + 1);
    if (copy == NULL)
      *oom = 1;
    else
      memcpy(copy, s, n + 1);
  }
  lua_pop(L, 1);
  return copy;
}

/* Whether the environment names a proxy that libcurl would follow for an
 * http or https URL (its variables, lower case first; HTTP_PROXY too, which
 * libcurl ignores, to stay on the safe side). */
static int environment_names_proxy(void) {
  static const char *const names[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                      "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *v = getenv(names[i]);
    if (v != NULL && v[0] != '\0') return 1;
  }
  return 0;
}

vz_conn vz_client_conn(const vz_client *c) {
  vz_conn s;
  s.connect_timeout_ms = c->connect_timeout_ms;
  s.ssl_verify = c->ssl_verify;
  s.ca_file = c->ca_file;
  s.ca_path = c->ca_path;
  s.proxy = c->proxy;
  s.share = c->share;
  s.json_budget = c->json_budget;
  return s;
}

vz_share *vz_client_share(vz_client *c) {
  if (c->share == NULL && (c->share = vz_share_new()) != NULL) vz_xfer_join(&c->rest, c->share, 0);
  return c->share;
}

vz_ident vz_client_ident(const vz_client *c) {
  vz_ident id;
  id.user_agent = c->user_agent;
  id.client_token = c->client_token;
  id.auth_line = c->token != NULL ? c->auth_line : NULL;
  id.token_gen = c->token_gen;
  return id;
}

void vz_client_apply_settings(const vz_client *c, CURL *h) {
  vz_conn s = vz_client_conn(c);
  vz_conn_apply(&s, h);
}

static long seconds_to_ms(lua_State *L, int idx, const char *name) {
  lua_Number s = luaL_checknumber(L, idx);
  if (!vz_seconds_ok((double)s, 0)) luaL_error(L, "vzaps: %s must be a positive number of seconds", name);
  return vz_seconds_to_ms((double)s);
}

/* ------------------------------------------------------------------------ */
/* core.new_client(base_url, settings, state)                                */
/* settings = {timeout, connect_timeout, ssl_verify, ca_file, ca_path, proxy,*/
/*             user_agent, client_token, realtime_url, transport};            */
/* the Lua layer has validated them already.                                 */
/* ------------------------------------------------------------------------ */

static int l_new_client(lua_State *L) {
  size_t n;
  const char *base = luaL_checklstring(L, 1, &n);
  vz_client *c;
  vz_conn conn;
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);

  c = (vz_client *)vz_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  luaL_getmetatable(L, VZ_CLIENT_MT);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, 3);
  vz_setuservalue(L, -2);

  c->base_url = (char *)malloc(n + 1);
  if (c->base_url == NULL) return luaL_error(L, "vzaps: out of memory");
  memcpy(c->base_url, base, n + 1);

  lua_getfield(L, 2, "timeout");
  c->timeout_ms = seconds_to_ms(L, -1, "timeout");
  lua_getfield(L, 2, "connect_timeout");
  c->connect_timeout_ms = seconds_to_ms(L, -1, "connect_timeout");
  lua_getfield(L, 2, "ssl_verify");
  c->ssl_verify = lua_toboolean(L, -1);
  lua_getfield(L, 2, "json_budget");
  c->json_budget = vz_json_budget_arg(L, -1);
  lua_pop(L, 4);
  {
    int oom = 0;
    c->realtime_url = string_setting(L, 2, "realtime_url", &oom);
    c->ca_file = string_setting(L, 2, "ca_file", &oom);
    c->ca_path = string_setting(L, 2, "ca_path", &oom);
    c->proxy = string_setting(L, 2, "proxy", &oom);
    /* No proxy option and none in the environment as the client is made:
     * no proxy, said once. Left unset, libcurl reads those variables again
     * for every transfer (about 1 100 instructions a call). */
    if (c->proxy == NULL && !oom && !environment_names_proxy() && (c->proxy = (char *)calloc(1, 1)) == NULL) oom = 1;
    c->user_agent = string_setting(L, 2, "user_agent", &oom);
    c->client_token = string_setting(L, 2, "client_token", &oom);
    if (oom) {
      client_release(c);
      return luaL_error(L, "vzaps: out of memory");
    }
  }
  conn = vz_client_conn(c);
  if (vz_xfer_open(&c->rest, &conn) != 0) {
    client_release(c);
    return luaL_error(L, "vzaps: cannot create a libcurl handle (out of memory)");
  }
  c->curl = c->rest.curl;
  /* What sends every call of this client through the Lua layer (read by
   * direct_call.c's why_not_from_c). */
  lua_getfield(L, 2, "transport");
  lua_getfield(L, 2, "observe");
  lua_getfield(L, LUA_REGISTRYINDEX, VZ_DIRECT_OFF);
  c->has_transport = !lua_isnil(L, -3);
  c->has_observe = !lua_isnil(L, -2);
  c->direct_off = lua_toboolean(L, -1);
  lua_pop(L, 3);
  return 1;
}

/* core.set_token(client, jwt|nil, expires_at|nil): the token cache's
 * current token, mirrored here for the headers (headers.c) and the calls
 * sent from C (direct_call.c). */
static int l_client_set_token(lua_State *L) {
  vz_client *c = (vz_client *)luaL_checkudata(L, 1, VZ_CLIENT_MT);
  size_t n = 0;
  const char *tok = luaL_optlstring(L, 2, NULL, &n);
  char *copy = NULL, *line = NULL;
  lua_Number expires = tok != NULL ? luaL_checknumber(L, 3) : 0;
  if (tok != NULL) {
    copy = (char *)malloc(n + 1);
    line = (char *)malloc(n + 8);
    if (copy == NULL || line == NULL) {
      free(copy);
      free(line);
      return luaL_error(L, "vzaps: out of memory");
    }
    memcpy(copy, tok, n + 1);
    memcpy(line, "Bearer ", 7);
    memcpy(line + 7, tok, n + 1);
  }
  vz_client_forget_secret(&c->token);
  vz_client_forget_secret(&c->auth_line);
  c->token = copy;
  c->auth_line = line;
  c->token_expires = expires;
  c->token_gen++;
  return 0;
}

/* core.set_direct(on): the test switch. Off, the clients made afterwards
 * send every call through the Lua layer (http.send), so that the test
 * suite holds both ways of sending to the same specs. Kept in the registry:
 * it outlives a second require of the module in the same state. */
static int l_set_direct(lua_State *L) {
  lua_pushboolean(L, !lua_toboolean(L, 1));
  lua_setfield(L, LUA_REGISTRYINDEX, VZ_DIRECT_OFF);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Metamethods and C methods                                                 */
/* ------------------------------------------------------------------------ */

static int l_client_close(lua_State *L) {
  vz_client *c = (vz_client *)luaL_checkudata(L, 1, VZ_CLIENT_MT);
  /* __gc cannot run while busy (the call holds the client); close() and
   * __close from a metamethod of the call's arguments can: refuse, since
   * the call is still using the handle and buffers. */
  if (c->busy) return vz_raise(L, "%s", BUSY);
  client_release(c);
  return 0;
}

static int l_client_tostring(lua_State *L) {
  vz_client *c = (vz_client *)luaL_checkudata(L, 1, VZ_CLIENT_MT);
  if (c->curl == NULL)
    lua_pushstring(L, "vzaps.client (closed)");
  else
    lua_pushfstring(L, "vzaps.client (%s)", c->base_url);
  return 1;
}

/* client.x: a method (shared methods table, upvalue 1), else a member of the
 * client's own table (its resources). Private Lua state sits in that table
 * under a key only the Lua layer holds. */
static int l_client_index(lua_State *L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  vz_getuservalue(L, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int l_client_newindex(lua_State *L) {
  return luaL_error(L, "vzaps: cannot set field '%s' of a client", lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

vz_client *vz_client_at(lua_State *L, int idx, int mt) {
  vz_client *c = (vz_client *)vz_udata_of(L, idx, mt);
  return c != NULL ? c : (vz_client *)luaL_checkudata(L, idx, VZ_CLIENT_MT);
}

/* The client at idx, closed or not: the client's functions hold its
 * metatable as upvalue 4. */
static vz_client *client_at(lua_State *L, int idx) { return vz_client_at(L, idx, lua_upvalueindex(4)); }

/* core.state(client) -> the client's Lua-side table (closed or not), and
 * whether the client is open: spawn and pump ask both in one call. */
static int l_client_state(lua_State *L) {
  vz_client *c = client_at(L, 1);
  vz_getuservalue(L, 1);
  lua_pushboolean(L, c->curl != NULL);
  return 2;
}

/* core.is_open(client) */
static int l_client_is_open(lua_State *L) {
  lua_pushboolean(L, client_at(L, 1)->curl != NULL);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Sending on the client's own easy handle                                   */
/* ------------------------------------------------------------------------ */

/* core.send(client, req): one attempt of the request object req on the
 * client's own easy handle (blocking) -> value, status, request_id |
 * nil, outcome, nil (transport.c, vz_xfer_finish). */
static int send_body(lua_State *L) {
  vz_client *c = (vz_client *)lua_touserdata(L, 1);
  vz_req *r = (vz_req *)lua_touserdata(L, 2); /* checked by l_client_send */
  vz_ident id = vz_client_ident(c);
  if (!vz_xfer_setup_req(L, &c->rest, &id, r, 2, c->timeout_ms)) return luaL_error(L, "vzaps: out of memory");
  vz_xfer_finish(L, &c->rest, curl_easy_perform(c->rest.curl));
  return 3;
}

/* The open client at idx (client_at), or NULL when it is closed. */
static vz_client *client_arg(lua_State *L, int idx) {
  vz_client *c = client_at(L, idx);
  return c->curl != NULL ? c : NULL;
}

/* The exchange runs with the client guarded: a finalizer run by the
 * decoder's allocations must not start another exchange on the same handle
 * and buffers (vz_client_run_guarded). */
static int l_client_send(lua_State *L) {
  vz_client *c = client_arg(L, 1);
  if (c == NULL) return luaL_error(L, "vzaps: client is closed");
  vz_req_at(L, 2, lua_upvalueindex(5));
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(3)); /* send_body, made once (vz_client_register) */
  lua_insert(L, 1);
  return vz_client_run_guarded(L, c);
}

/* core.engine_made(client): the scheduler made this client's engine
 * (scheduler.lua), so direct_call.c's why_not_from_c reads its live jobs
 * from now on; a client that never starts a job spares those look-ups. */
static int l_client_engine_made(lua_State *L) {
  client_at(L, 1)->has_engine = 1;
  return 0;
}

/* core.headers(client, req) -> a fresh table of the headers of the
 * request object req (a custom transport's, the observe hook's). */
static int l_client_headers(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  vz_req *q = vz_req_check(L, 2);
  vz_ident id = vz_client_ident(c);
  vz_call_headers h;
  lua_settop(L, 2);
  vz_req_call_headers(L, 2, q, &h);
  vz_call_headers_push(L, &id, &h);
  return 1;
}

/* core.upgrade_headers(client, instance_token) -> the headers of the
 * realtime handshake: a call's, with the client's current token, and no
 * Accept (contract §6.1). */
static int l_client_upgrade_headers(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  vz_ident id = vz_client_ident(c);
  vz_call_headers h;
  memset(&h, 0, sizeof h);
  h.auth = 1;
  h.upgrade = 1;
  h.instance_token = luaL_optlstring(L, 2, NULL, &h.instance_token_len);
  vz_call_headers_push(L, &id, &h);
  return 1;
}

static const luaL_Reg client_funcs[] = {
    {"new_client", l_new_client},
    {"state", l_client_state},
    {"is_open", l_client_is_open},
    {"set_token", l_client_set_token},
    {"set_direct", l_set_direct},
    {"send", l_client_send},
    {"engine_made", l_client_engine_made},
    {"headers", l_client_headers},
    {"upgrade_headers", l_client_upgrade_headers},
    {NULL, NULL},
};

/* Registers the vzaps.client metatable and puts client_methods (the table
 * the Lua layer fills) and the functions above on the core table at the
 * top of the stack. */
void vz_client_register(lua_State *L) {
  int core = lua_gettop(L);
  lua_newtable(L); /* methods */
  lua_pushcfunction(L, l_client_close);
  lua_setfield(L, -2, "close");
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "client_methods");

  luaL_newmetatable(L, VZ_CLIENT_MT);
  lua_pushcfunction(L, l_client_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_client_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_client_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, l_client_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, VZ_CLIENT_MT);
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_setfield(L, core, "client_mt"); /* the Lua layer sets __close */
  lua_pushvalue(L, -2);               /* methods */
  lua_pushcclosure(L, l_client_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 2);

  /* core.send decodes answers: the array metatable and the string cache
   * are its upvalues 1 and 2 (vzaps.h), and its guarded body upvalue 3;
   * the client and request metatables are upvalues 4 and 5 of every
   * function here (client_arg, vz_req_at). */
  lua_pushvalue(L, core);
  lua_getfield(L, core, "array_mt");
  lua_getfield(L, core, "strcache");
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, send_body, 2);
  luaL_getmetatable(L, VZ_CLIENT_MT);
  luaL_getmetatable(L, VZ_REQ_MT);
  vz_setfuncs(L, client_funcs, 5);
  lua_pop(L, 1);
}
