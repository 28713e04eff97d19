/* request_object.c: the request object (vzaps.request). One call's request
 * as the mapper built it, held in C: method, URL, body, instance token,
 * timeout and the operation's name in one block, the caller's headers (a
 * Lua table) as its user value. Every transport sends this object: the
 * client's easy handle (core.send), the multi handle (m:add), a custom
 * transport (http.lua builds its table from the fields) and cosockets.
 * Lua reads the fields errors and the observe hook need through __index.
 * It is made only when the Lua layer takes the call over (a call sent from
 * C with a 2xx answer never makes one). The instance token is the caller's
 * own Lua string, kept as a user value: a copy would have to be wiped by a
 * finalizer. Only the /token request copies a secret (its body), and only
 * it has a finalizer, which wipes it (VZ_REQ_SECRET_MT). */
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "request_object.h"
#include "udata.h"

/* Copies s[0..n) plus a NUL to *at and advances it. */
static char *place(char **at, const char *s, size_t n) {
  char *p = *at;
  if (n > 0) memcpy(p, s, n);
  p[n] = '\0';
  *at = p + n + 1;
  return p;
}

/* The user values: the caller's checked headers and the instance token.
 * Lua 5.4 gives a userdata two; before, one table holds both. */
#define VZ_REQ_UV_HEADERS 1
#define VZ_REQ_UV_TOKEN 2

#if LUA_VERSION_NUM >= 504
static void *new_object(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 2); }
static void set_values(lua_State *L, int headers, int itoken) {
  if (headers != 0) lua_pushvalue(L, headers), lua_setiuservalue(L, -2, VZ_REQ_UV_HEADERS);
  if (itoken != 0) lua_pushvalue(L, itoken), lua_setiuservalue(L, -2, VZ_REQ_UV_TOKEN);
}
static void push_value(lua_State *L, int idx, int which) { lua_getiuservalue(L, idx, which); }
#else
static void *new_object(lua_State *L, size_t size) { return vz_newuserdata(L, size); }
static void set_values(lua_State *L, int headers, int itoken) {
  if (headers == 0 && itoken == 0) return;
  lua_createtable(L, 2, 0);
  if (headers != 0) lua_pushvalue(L, headers), lua_rawseti(L, -2, VZ_REQ_UV_HEADERS);
  if (itoken != 0) lua_pushvalue(L, itoken), lua_rawseti(L, -2, VZ_REQ_UV_TOKEN);
  vz_setuservalue(L, -2);
}
static void push_value(lua_State *L, int idx, int which) {
  vz_getuservalue(L, idx);
  lua_rawgeti(L, -1, which);
  lua_remove(L, -2);
}
#endif

vz_req *vz_req_new(lua_State *L, const vz_req_parts *p) {
  size_t oplen = strlen(p->op), msglen = p->refuse_msg != NULL ? strlen(p->refuse_msg) : 0;
  size_t size = sizeof(vz_req) + p->url_len + 1 + p->body_len + 1 + oplen + 1 + msglen + 1;
  vz_req *r = (vz_req *)new_object(L, size);
  char *at = (char *)(r + 1);
  memset(r, 0, sizeof *r);
  luaL_getmetatable(L, p->secret_body ? VZ_REQ_SECRET_MT : VZ_REQ_MT);
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
  r->op = place(&at, p->op, oplen);
  r->refuse_field = p->refuse_field;
  r->refuse_kind = p->refuse_kind;
  r->refuse_size = p->refuse_size;
  r->refuse_limit = p->refuse_limit;
  r->refuse_code = p->refuse_code;
  r->refuse_msg = p->refuse_msg != NULL ? place(&at, p->refuse_msg, msglen) : NULL;
  set_values(L, p->headers, p->itoken);
  r->uv = (p->headers != 0 ? VZ_REQ_UV_HEADERS : 0) | (p->itoken != 0 ? VZ_REQ_UV_TOKEN : 0);
  return r;
}

vz_req *vz_req_check(lua_State *L, int idx) {
  void *r = vz_testudata(L, idx, VZ_REQ_MT);
  if (r == NULL) r = vz_testudata(L, idx, VZ_REQ_SECRET_MT);
  if (r == NULL) r = luaL_checkudata(L, idx, VZ_REQ_MT); /* raises the usual message */
  return (vz_req *)r;
}

vz_req *vz_req_at(lua_State *L, int idx, int mt) {
  vz_req *r = (vz_req *)vz_udata_of(L, idx, mt);
  return r != NULL ? r : vz_req_check(L, idx);
}

int vz_req_push_headers(lua_State *L, int idx, const vz_req *r) {
  if (!(r->uv & VZ_REQ_UV_HEADERS)) return 0;
  push_value(L, idx, VZ_REQ_UV_HEADERS);
  return lua_gettop(L);
}

void vz_req_call_headers(lua_State *L, int idx, const vz_req *r, vz_call_headers *h) {
  idx = vz_absindex(L, idx);
  h->auth = r->auth;
  h->has_body = r->has_body;
  h->upgrade = 0;
  h->instance_token = NULL;
  h->instance_token_len = 0;
  if (r->uv & VZ_REQ_UV_TOKEN) {
    push_value(L, idx, VZ_REQ_UV_TOKEN); /* stays on the stack while h is used */
    h->instance_token = lua_tolstring(L, -1, &h->instance_token_len);
  }
  h->extra = vz_req_push_headers(L, idx, r);
}

/* The request object of a metamethod or of core.req_flags (argument 1),
 * checked against the metatable they hold as their upvalue. */
static vz_req *self_arg(lua_State *L) { return vz_req_at(L, 1, lua_upvalueindex(1)); }

/* The /token request's body carries the client secret: it does not stay
 * in freed memory (VZ_REQ_SECRET_MT's finalizer). */
static int l_req_gc(lua_State *L) {
  vz_req *r = (vz_req *)lua_touserdata(L, 1);
  if (r != NULL && r->secret_body) {
    vz_wipe(r->body, r->body_len);
    r->body_len = 0;
  }
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
  else if (IS("instance_token") && (r->uv & VZ_REQ_UV_TOKEN))
    push_value(L, 1, VZ_REQ_UV_TOKEN);
  else if (IS("headers") && (r->uv & VZ_REQ_UV_HEADERS))
    push_value(L, 1, VZ_REQ_UV_HEADERS);
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

static int l_req_newindex(lua_State *L) { return luaL_error(L, "vzaps: a request cannot be changed"); }

static int l_req_tostring(lua_State *L) {
  vz_req *r = vz_req_check(L, 1);
  lua_pushfstring(L, "vzaps.request (%s ", r->method);
  lua_pushlstring(L, r->url + r->path_at, r->path_len);
  lua_pushliteral(L, ")");
  lua_concat(L, 3);
  return 1;
}

/* The metamethods of a request metatable on top of the stack; their
 * upvalue is VZ_REQ_MT (at index mt) in both metatables. */
static void set_methods(lua_State *L, int mt) {
  lua_pushvalue(L, mt);
  lua_pushcclosure(L, l_req_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_req_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, l_req_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, VZ_REQ_MT);
  lua_setfield(L, -2, "__name");
}

void vz_req_register(lua_State *L) {
  int mt;
  luaL_newmetatable(L, VZ_REQ_MT);
  mt = lua_gettop(L);
  set_methods(L, mt);
  luaL_newmetatable(L, VZ_REQ_SECRET_MT);
  set_methods(L, mt);
  lua_pushcfunction(L, l_req_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcclosure(L, l_req_flags, 1);
  lua_setfield(L, -2, "req_flags");
}
