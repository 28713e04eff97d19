/* request_object.c: the request object (vzaps.request). One call's request
 * as the mapper built it, held in C: method, URL, body, instance token,
 * timeout and the operation's name in one block, the caller's headers (a
 * Lua table) as its user value. Every transport sends this object: the
 * client's easy handle (core.send), the multi handle (m:add), a custom
 * transport (http.lua builds its table from the fields) and cosockets.
 * Lua reads the fields errors and the observe hook need through __index.
 * It is made only when the Lua layer takes the call over (a call sent from
 * C with a 2xx answer never makes one); the secrets in it are wiped when
 * it is collected. */
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "request_object.h"

/* Copies s[0..n) plus a NUL to *at and advances it. */
static char *place(char **at, const char *s, size_t n) {
  char *p = *at;
  if (n > 0) memcpy(p, s, n);
  p[n] = '\0';
  *at = p + n + 1;
  return p;
}

vz_req *vz_req_new(lua_State *L, const vz_req_parts *p) {
  size_t oplen = strlen(p->op), msglen = p->refuse_msg != NULL ? strlen(p->refuse_msg) : 0;
  size_t size = sizeof(vz_req) + p->url_len + 1 + p->body_len + 1 + p->itoken_len + 1 + oplen + 1 + msglen + 1;
  vz_req *r = (vz_req *)vz_newuserdata(L, size);
  char *at = (char *)(r + 1);
  memset(r, 0, sizeof *r);
  luaL_getmetatable(L, VZ_REQ_MT);
  lua_setmetatable(L, -2);
  {
    size_t mn = strlen(p->method);
    memcpy(r->method, p->method, mn < sizeof r->method ? mn : sizeof r->method - 1);
  }
  r->auth = p->auth;
  r->timeout = p->timeout;
  r->secret_body = p->secret_body;
  r->url = place(&at, p->url, p->url_len);
  r->url_len = p->url_len;
  r->path_at = p->path_at;
  r->path_len = p->path_len;
  r->has_body = p->body != NULL;
  r->body = place(&at, p->body ? p->body : "", p->body_len);
  r->body_len = p->body_len;
  r->itoken = p->itoken ? place(&at, p->itoken, p->itoken_len) : NULL;
  r->itoken_len = p->itoken_len;
  r->op = place(&at, p->op, oplen);
  r->refuse_field = p->refuse_field;
  r->refuse_kind = p->refuse_kind;
  r->refuse_size = p->refuse_size;
  r->refuse_limit = p->refuse_limit;
  r->refuse_code = p->refuse_code;
  r->refuse_msg = p->refuse_msg != NULL ? place(&at, p->refuse_msg, msglen) : NULL;
  if (p->headers != 0) {
    lua_pushvalue(L, p->headers);
    vz_setuservalue(L, -2);
    r->has_headers = 1;
  }
  return r;
}

vz_req *vz_req_check(lua_State *L, int idx) { return (vz_req *)luaL_checkudata(L, idx, VZ_REQ_MT); }

vz_req *vz_req_at(lua_State *L, int idx, int mt) {
  vz_req *r = (vz_req *)lua_touserdata(L, idx);
  if (r == NULL || !lua_getmetatable(L, idx)) return vz_req_check(L, idx);
  if (!lua_rawequal(L, -1, mt)) return vz_req_check(L, idx);
  lua_pop(L, 1);
  return r;
}

int vz_req_push_headers(lua_State *L, int idx, const vz_req *r) {
  if (!r->has_headers) return 0;
  vz_getuservalue(L, idx);
  return lua_gettop(L);
}

void vz_req_call_headers(lua_State *L, int idx, const vz_req *r, vz_call_headers *h) {
  h->auth = r->auth;
  h->has_body = r->has_body;
  h->upgrade = 0;
  h->instance_token = r->itoken;
  h->instance_token_len = r->itoken_len;
  h->extra = vz_req_push_headers(L, idx, r);
}

/* The request object of a metamethod or of core.req_flags (argument 1),
 * checked against the metatable they hold as their upvalue. */
static vz_req *self_arg(lua_State *L) { return vz_req_at(L, 1, lua_upvalueindex(1)); }

/* The instance token, and a body that carries the client secret (/token),
 * do not stay in freed memory. */
static int l_req_gc(lua_State *L) {
  vz_req *r = self_arg(L);
  if (r->itoken != NULL) vz_wipe(r->itoken, r->itoken_len);
  if (r->secret_body) vz_wipe(r->body, r->body_len);
  r->itoken_len = 0;
  r->body_len = r->secret_body ? 0 : r->body_len;
  return 0;
}

static void push_refuse(lua_State *L, const vz_req *r) {
  if (r->refuse_code != NULL) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, r->refuse_code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, r->refuse_msg);
    lua_setfield(L, -2, "message");
    return;
  }
  if (r->refuse_field == NULL) {
    lua_pushnil(L);
    return;
  }
  lua_createtable(L, 0, 4);
  lua_pushstring(L, r->refuse_field);
  lua_setfield(L, -2, "field");
  lua_pushstring(L, r->refuse_kind);
  lua_setfield(L, -2, "what");
  lua_pushnumber(L, (lua_Number)r->refuse_size);
  lua_setfield(L, -2, "size");
  lua_pushnumber(L, (lua_Number)r->refuse_limit);
  lua_setfield(L, -2, "limit");
}

/* req.method, .path, .url, .body, .auth, .instance_token, .headers,
 * .timeout, .op, .refuse: nil where the request has none. */
static int l_req_index(lua_State *L) {
  vz_req *r = self_arg(L);
  size_t n;
  const char *k = luaL_checklstring(L, 2, &n);
#define IS(s) (n == sizeof(s) - 1 && memcmp(k, s, n) == 0)
  if (IS("method"))
    lua_pushstring(L, r->method);
  else if (IS("auth"))
    lua_pushboolean(L, r->auth);
  else if (IS("op"))
    lua_pushstring(L, r->op);
  else if (IS("path"))
    lua_pushlstring(L, r->url + r->path_at, r->path_len);
  else if (IS("url"))
    lua_pushlstring(L, r->url, r->url_len);
  else if (IS("body") && r->has_body)
    lua_pushlstring(L, r->body, r->body_len);
  else if (IS("instance_token") && r->itoken != NULL)
    lua_pushlstring(L, r->itoken, r->itoken_len);
  else if (IS("headers") && r->has_headers)
    vz_getuservalue(L, 1);
  else if (IS("timeout") && r->timeout > 0)
    lua_pushnumber(L, (lua_Number)r->timeout);
  else if (IS("refuse"))
    push_refuse(L, r);
  else
    lua_pushnil(L);
#undef IS
  return 1;
}

/* core.req_flags(req) -> refused, auth: what http.send reads of every
 * request before its first attempt, in one call rather than two __index
 * look-ups (req.refuse builds a table; this only says whether there is one). */
static int l_req_flags(lua_State *L) {
  vz_req *r = self_arg(L);
  lua_pushboolean(L, r->refuse_code != NULL || r->refuse_field != NULL);
  lua_pushboolean(L, r->auth);
  return 2;
}

/* core.req_names(req) -> op, method, path: what the observe hook's table
 * names the request by (observe.lua), in one call. */
static int l_req_names(lua_State *L) {
  vz_req *r = self_arg(L);
  lua_pushstring(L, r->op);
  lua_pushstring(L, r->method);
  lua_pushlstring(L, r->url + r->path_at, r->path_len);
  return 3;
}

static int l_req_newindex(lua_State *L) { return luaL_error(L, "vzaps: a request cannot be changed"); }

static int l_req_tostring(lua_State *L) {
  vz_req *r = vz_req_check(L, 1);
  lua_pushfstring(L, "vzaps.request (%s ", r->method);
  lua_pushlstring(L, r->url + r->path_at, r->path_len);
  lua_pushliteral(L, ")");
  lua_concat(L, 3);
  return 1;
}

void vz_req_register(lua_State *L) {
  luaL_newmetatable(L, VZ_REQ_MT);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, l_req_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_req_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, l_req_gc, 1);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_req_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, VZ_REQ_MT);
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, l_req_flags, 1);
  lua_setfield(L, -3, "req_flags");
  lua_pushcclosure(L, l_req_names, 1);
  lua_setfield(L, -2, "req_names");
}
