/* call.c: the fast path of an endpoint call (docs/design.md, "The fast
 * path").
 *
 * Every endpoint method first calls core.call with its route, a compiled
 * form of its row of endpoints.lua. When the call has the common shape
 * (valid arguments, no caller headers or timeout, a cached token, no
 * custom transport, no parallel run) it is mapped, sent and decoded here
 * without running Lua; anything else makes core.call return MARK before
 * anything is sent, and the Lua path (resources.lua, http.lua), which is
 * the reference for every rule, does the whole call and raises the
 * argument errors. An answer that is not a 2xx success is handed to the Lua
 * path too, as the outcome of the first attempt: it decides on retries, the
 * 401 replay and the error, and never sends the request again unless that
 * is safe. The test suite runs every resource spec through both paths
 * (VZAPS_FAST_PATH=0), so both put the same request on the wire. */
#include <stdlib.h>
#include <string.h>

#include "vzaps.h"

#define VZ_ROUTE_MT "vzaps.Route"
#define MAX_PIECES 6 /* literal path pieces; a field sits between two */
#define MAX_SLOTS 8  /* named values: instance_id, instance_token, path fields */
#define MAX_ARGS 6
#define MAX_LIST 8

enum { SLOT_INSTANCE_ID = 0, SLOT_INSTANCE_TOKEN = 1 };
enum { ARG_FIELD, ARG_OPTS, ARG_BODY };

typedef struct vz_arg {
  int kind, slot;
} vz_arg;

typedef struct vz_route {
  char *method;
  int table_form, optional, scoped, needs_instance_id, no_body;
  int npieces; /* fields: npieces - 1 */
  char *lit[MAX_PIECES];
  size_t litlen[MAX_PIECES];
  int field[MAX_PIECES]; /* slot of the field after lit[i] */
  int nslots;
  char *slot[MAX_SLOTS];
  int nargs[2];
  vz_arg args[2][MAX_ARGS]; /* [0]: on the client, [1]: on an instance handle */
  int nrequired;
  char *required[MAX_LIST];
  int nbody_args; /* body = {key = value of slot}: Instances.Get's {id} */
  char *body_key[MAX_LIST];
  int body_slot[MAX_LIST];
} vz_route;

/* ------------------------------------------------------------------------ */
/* Escaping a path segment (contract §3.2): RFC 3986 unreserved bytes are    */
/* kept, every other byte becomes %XX with uppercase hex.                    */
/* ------------------------------------------------------------------------ */

int vz_url_escape(vz_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  char *o;
  if (vz_buf_reserve(b, n * 3) != 0) return -1;
  o = b->data + b->len;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
        ch == '_' || ch == '~') {
      *o++ = (char)ch;
    } else {
      *o++ = '%';
      *o++ = hex[ch >> 4];
      *o++ = hex[ch & 15];
    }
  }
  b->len = (size_t)(o - b->data);
  b->data[b->len] = '\0';
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Routes: core.route(spec) -> route | nil (the row needs the Lua path)      */
/* ------------------------------------------------------------------------ */

static void route_free(vz_route *r) {
  int i;
  free(r->method);
  for (i = 0; i < r->npieces; i++) free(r->lit[i]);
  for (i = 0; i < r->nslots; i++) free(r->slot[i]);
  for (i = 0; i < r->nrequired; i++) free(r->required[i]);
  for (i = 0; i < r->nbody_args; i++) free(r->body_key[i]);
  memset(r, 0, sizeof *r);
}

static int l_route_gc(lua_State *L) {
  route_free((vz_route *)luaL_checkudata(L, 1, VZ_ROUTE_MT));
  return 0;
}

static char *dup_string(lua_State *L, int idx) {
  size_t n;
  const char *s = luaL_checklstring(L, idx, &n);
  char *copy = (char *)malloc(n + 1);
  if (copy == NULL) luaL_error(L, "vzaps: out of memory");
  memcpy(copy, s, n + 1);
  return copy;
}

static int slot_of(lua_State *L, vz_route *r, const char *name) {
  int i;
  for (i = 0; i < r->nslots; i++)
    if (strcmp(r->slot[i], name) == 0) return i;
  if (r->nslots == MAX_SLOTS) luaL_error(L, "vzaps: route has too many fields");
  lua_pushstring(L, name);
  r->slot[r->nslots] = dup_string(L, -1);
  lua_pop(L, 1);
  return r->nslots++;
}

static int flag(lua_State *L, int spec, const char *name) {
  int v;
  lua_getfield(L, spec, name);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* spec = {method, pieces = {lit, field, lit, ...}, args = {...}|nil,
 *         args_scoped = {...}|nil, required = {...}|nil,
 *         body_args = {key, field, key, field, ...}|nil, optional, scoped,
 *         needs_instance_id, no_body, lists = set|nil}
 * The Lua side only builds routes for rows the fast path covers. */
static int l_route(lua_State *L) {
  vz_route *r;
  int spec = 1, i, n, s;
  luaL_checktype(L, spec, LUA_TTABLE);
  r = (vz_route *)vz_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r);
  luaL_getmetatable(L, VZ_ROUTE_MT);
  lua_setmetatable(L, -2);
  lua_getfield(L, spec, "lists"); /* the encoder's list_keys, kept with the route */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  vz_setuservalue(L, -2);

  slot_of(L, r, "instance_id");
  slot_of(L, r, "instance_token");
  lua_getfield(L, spec, "method");
  r->method = dup_string(L, -1);
  lua_pop(L, 1);
  r->optional = flag(L, spec, "optional");
  r->scoped = flag(L, spec, "scoped");
  r->needs_instance_id = flag(L, spec, "needs_instance_id");
  r->no_body = flag(L, spec, "no_body");

  lua_getfield(L, spec, "pieces");
  n = (int)vz_rawlen(L, -1);
  if (n < 1 || n % 2 != 1 || (n + 1) / 2 > MAX_PIECES) luaL_error(L, "vzaps: bad route pieces");
  for (i = 1; i <= n; i++) {
    vz_rawgeti(L, -1, i);
    if (i % 2 == 1) {
      r->lit[r->npieces] = dup_string(L, -1);
      r->litlen[r->npieces] = strlen(r->lit[r->npieces]);
      r->npieces++;
    } else {
      r->field[r->npieces - 1] = slot_of(L, r, luaL_checkstring(L, -1));
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  for (s = 0; s < 2; s++) {
    lua_getfield(L, spec, s == 0 ? "args" : "args_scoped");
    if (s == 0) r->table_form = lua_isnil(L, -1);
    if (!lua_isnil(L, -1)) {
      n = (int)vz_rawlen(L, -1);
      if (n > MAX_ARGS) luaL_error(L, "vzaps: route has too many arguments");
      for (i = 1; i <= n; i++) {
        const char *name;
        vz_rawgeti(L, -1, i);
        name = luaL_checkstring(L, -1);
        if (strcmp(name, "opts") == 0)
          r->args[s][i - 1].kind = ARG_OPTS;
        else if (strcmp(name, "body") == 0)
          r->args[s][i - 1].kind = ARG_BODY;
        else
          r->args[s][i - 1].kind = ARG_FIELD, r->args[s][i - 1].slot = slot_of(L, r, name);
        lua_pop(L, 1);
      }
      r->nargs[s] = n;
    }
    lua_pop(L, 1);
  }

  lua_getfield(L, spec, "required");
  if (!lua_isnil(L, -1)) {
    n = (int)vz_rawlen(L, -1);
    if (n > MAX_LIST) luaL_error(L, "vzaps: route has too many required fields");
    for (i = 1; i <= n; i++) {
      vz_rawgeti(L, -1, i);
      r->required[r->nrequired++] = dup_string(L, -1);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);

  lua_getfield(L, spec, "body_args");
  if (!lua_isnil(L, -1)) {
    n = (int)vz_rawlen(L, -1);
    if (n % 2 != 0 || n / 2 > MAX_LIST) luaL_error(L, "vzaps: bad route body_args");
    for (i = 1; i <= n; i += 2) {
      vz_rawgeti(L, -1, i);
      /* Kept as its JSON text, "key": (the table's keys are identifiers). */
      if (strspn(luaL_checkstring(L, -1), "abcdefghijklmnopqrstuvwxyz_0123456789") != vz_rawlen(L, -1))
        luaL_error(L, "vzaps: bad route body_args key");
      lua_pushfstring(L, "\"%s\":", lua_tostring(L, -1));
      r->body_key[r->nbody_args] = dup_string(L, -1);
      lua_pop(L, 1);
      vz_rawgeti(L, -2, i + 1);
      r->body_slot[r->nbody_args] = slot_of(L, r, luaL_checkstring(L, -1));
      r->nbody_args++;
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* One call                                                                  */
/* ------------------------------------------------------------------------ */

/* The values of one call: stack indices of the slots' values (0: nil). */
typedef struct frame {
  int val[MAX_SLOTS];
  int body_table; /* a positional body table, or the request table (table form) */
} frame;

static int no_metatable(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 1;
  lua_pop(L, 1);
  return 0;
}

/* A field read from a table, kept on the stack. */
static int get_field(lua_State *L, int t, const char *name) {
  lua_getfield(L, t, name); /* no metatable: a raw read */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return lua_gettop(L);
}

/* opts on the fast path: nil, or {instance_token = <string>} alone. */
static int take_opts(lua_State *L, int idx, frame *f) {
  if (lua_isnoneornil(L, idx)) return 1;
  if (!lua_istable(L, idx) || !no_metatable(L, idx)) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t n;
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &n) : NULL;
    lua_pop(L, 1);
    if (k == NULL || n != 14 || memcmp(k, "instance_token", 14) != 0) {
      lua_pop(L, 1);
      return 0;
    }
  }
  f->val[SLOT_INSTANCE_TOKEN] = get_field(L, idx, "instance_token");
  return 1;
}

static int map_positional(lua_State *L, const vz_route *r, int scoped, int first, frame *f) {
  const vz_arg *a = r->args[scoped];
  int i;
  for (i = 0; i < r->nargs[scoped]; i++) {
    int idx = first + i;
    switch (a[i].kind) {
      case ARG_OPTS:
        if (!take_opts(L, idx, f)) return 0;
        break;
      case ARG_BODY:
        if (lua_isnoneornil(L, idx)) break;
        if (!lua_istable(L, idx)) return 0;
        f->body_table = idx;
        break;
      default:
        if (!lua_isnoneornil(L, idx)) f->val[a[i].slot] = idx;
    }
  }
  return 1;
}

static int map_table(lua_State *L, const vz_route *r, int t, frame *f) {
  int i;
  for (i = 0; i < r->nslots; i++) f->val[i] = get_field(L, t, r->slot[i]);
  f->body_table = t;
  return 1;
}

/* A path segment's text: a non-empty string, or an integer. */
static const char *segment_text(lua_State *L, int idx, size_t *n, char *num, size_t numsz) {
  if (idx == 0) return NULL;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, idx, n);
    return *n > 0 ? s : NULL;
  }
  if (lua_type(L, idx) == LUA_TNUMBER && vz_isinteger(L, idx)) {
    int len = snprintf(num, numsz, "%lld", (long long)lua_tointeger(L, idx));
    *n = (size_t)len;
    return num;
  }
  return NULL; /* floats and the rest: the Lua path decides */
}

/* A token that goes in a header: a string, not blank, no control bytes. */
static int valid_token(lua_State *L, int idx) {
  size_t n, i;
  const unsigned char *s;
  int blank = 1;
  if (idx == 0 || lua_type(L, idx) != LUA_TSTRING) return 0;
  s = (const unsigned char *)lua_tolstring(L, idx, &n);
  for (i = 0; i < n; i++) {
    if (s[i] < 0x20 || s[i] == 0x7f) return 0;
    if (s[i] != ' ') blank = 0;
  }
  return !blank;
}

static int build_url(lua_State *L, const vz_client *c, const vz_route *r, const frame *f, vz_buf *b) {
  int i;
  vz_buf_reset(b, VZ_KEEP_BUFFER);
  if (vz_buf_append(b, c->base_url, strlen(c->base_url)) != 0) return 0;
  for (i = 0; i < r->npieces; i++) {
    if (vz_buf_append(b, r->lit[i], r->litlen[i]) != 0) return 0;
    if (i + 1 < r->npieces) {
      char num[32];
      size_t n;
      const char *s = segment_text(L, f->val[r->field[i]], &n, num, sizeof num);
      if (s == NULL) return 0;
      /* "." and ".." are unreserved: escaped by hand, or they would be
       * read as dot segments and change the route. */
      if (n == 1 && s[0] == '.') {
        if (vz_buf_append(b, "%2E", 3) != 0) return 0;
      } else if (n == 2 && s[0] == '.' && s[1] == '.') {
        if (vz_buf_append(b, "%2E%2E", 6) != 0) return 0;
      } else if (vz_url_escape(b, s, n) != 0) {
        return 0;
      }
    }
  }
  return 1;
}

/* Whether table t has a key outside the route's named slots (a body field). */
static int has_body_field(lua_State *L, const vz_route *r, int t) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int i, named = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      for (i = 0; i < r->nslots && !named; i++) named = strcmp(k, r->slot[i]) == 0;
    }
    if (!named) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Encodes the request body into b (len 0: no body). 0: the Lua path must
 * decide (a missing required field, a value that cannot be encoded). */
static int encode_body(lua_State *L, const vz_route *r, const frame *f, int list_keys, vz_buf *b) {
  int t = f->body_table, i;
  char err[8];
  vz_buf_reset(b, VZ_KEEP_BUFFER);
  if (r->nbody_args > 0) {
    if (vz_buf_putc(b, '{') != 0) return 0;
    for (i = 0; i < r->nbody_args; i++) {
      int v = f->val[r->body_slot[i]];
      if (v == 0) continue;
      if (b->len > 1 && vz_buf_putc(b, ',') != 0) return 0;
      if (vz_buf_append(b, r->body_key[i], strlen(r->body_key[i])) != 0 ||
          !vz_json_encode(L, v, b, VZ_ARRAY_MT, list_keys, err, sizeof err))
        return 0;
    }
    return vz_buf_putc(b, '}') == 0;
  }
  for (i = 0; i < r->nrequired; i++) {
    if (t == 0) return 0;
    lua_getfield(L, t, r->required[i]);
    if (lua_isnil(L, -1)) return 0;
    lua_pop(L, 1);
  }
  if (t == 0) return 1;
  if (r->table_form) {
    if (!has_body_field(L, r, t)) return 1;
    if (r->no_body) return 0; /* an unexpected field: the Lua path raises */
    return vz_json_encode_except(L, t, b, VZ_ARRAY_MT, list_keys, (const char *const *)r->slot, r->nslots, err,
                                 sizeof err);
  }
  lua_pushnil(L);
  if (!lua_next(L, t)) return 1; /* an empty body table: no body */
  lua_pop(L, 2);
  return vz_json_encode(L, t, b, VZ_ARRAY_MT, list_keys, err, sizeof err);
}

/* Maps the call's arguments onto f, url and x->req_body; 0 to decline. */
static int map_call(lua_State *L, const vz_route *r, int scope, frame *f) {
  int i;
  memset(f, 0, sizeof *f);
  if (r->table_form) {
    int t = 3;
    if (lua_isnoneornil(L, t)) {
      if (!r->optional && scope == 0) return 0;
      t = 0;
    } else if (!lua_istable(L, t) || !no_metatable(L, t)) {
      return 0;
    }
    if (t != 0) map_table(L, r, t, f);
  } else if (!map_positional(L, r, scope != 0, 3, f)) {
    return 0;
  }
  if (scope != 0) {
    if (f->val[SLOT_INSTANCE_ID] == 0) f->val[SLOT_INSTANCE_ID] = get_field(L, scope, "instance_id");
    if (f->val[SLOT_INSTANCE_TOKEN] == 0) f->val[SLOT_INSTANCE_TOKEN] = get_field(L, scope, "instance_token");
  }
  if (r->needs_instance_id) {
    char num[32];
    size_t n;
    if (segment_text(L, f->val[SLOT_INSTANCE_ID], &n, num, sizeof num) == NULL) return 0;
  }
  i = f->val[SLOT_INSTANCE_TOKEN];
  if ((r->scoped || i != 0) && !valid_token(L, i)) return 0;
  return 1;
}

/* core.call(resource, route, ...) -> the 2xx value | MARK[, outcome]
 * Upvalues: array_mt, strcache, UD, SCOPE, MARK, the client and route
 * metatables. */
#define UP_UD lua_upvalueindex(3)
#define UP_SCOPE lua_upvalueindex(4)
#define UP_MARK lua_upvalueindex(5)
#define UP_CLIENT_MT lua_upvalueindex(6)
#define UP_ROUTE_MT lua_upvalueindex(7)
static int l_call(lua_State *L) {
  vz_route *r = NULL;
  vz_client *c;
  vz_xfer *x;
  frame f;
  int scope, list_keys, n;
  vz_call_headers h;
  /* A route: its metatable is the one kept as upvalue 7. */
  if (lua_getmetatable(L, 2)) {
    if (lua_rawequal(L, -1, UP_ROUTE_MT)) r = (vz_route *)lua_touserdata(L, 2);
    lua_pop(L, 1);
  }
  if (r == NULL || !lua_istable(L, 1)) goto decline;
  /* Missing arguments become nils, so what is pushed below never sits
   * where an argument is looked for. */
  if (lua_gettop(L) < 2 + MAX_ARGS) lua_settop(L, 2 + MAX_ARGS);
  lua_pushvalue(L, UP_UD);
  lua_rawget(L, 1);
  /* A client userdata: its metatable is the one kept as upvalue 5. */
  c = NULL;
  if (lua_getmetatable(L, -1)) {
    if (lua_rawequal(L, -1, UP_CLIENT_MT)) c = (vz_client *)lua_touserdata(L, -2);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (c == NULL || c->curl == NULL || c->fast_off > 0 || c->token == NULL || !(vz_now() < c->token_expires))
    goto decline;
  lua_pushvalue(L, UP_SCOPE);
  lua_rawget(L, 1);
  scope = lua_isnil(L, -1) ? 0 : lua_gettop(L);
  if (!lua_checkstack(L, MAX_SLOTS + 8)) goto decline;
  x = &c->rest;
  if (!map_call(L, r, scope, &f)) goto decline;
  if (!build_url(L, c, r, &f, &c->enc)) goto decline;
  vz_getuservalue(L, 2);
  list_keys = lua_gettop(L);
  if (!encode_body(L, r, &f, list_keys, &x->req_body)) goto decline;

  h.auth = 1;
  h.has_body = x->req_body.len > 0;
  h.instance_token = NULL;
  h.instance_token_len = 0;
  h.extra = 0;
  if (f.val[SLOT_INSTANCE_TOKEN] != 0)
    h.instance_token = lua_tolstring(L, f.val[SLOT_INSTANCE_TOKEN], &h.instance_token_len);
  if (!vz_xfer_setup(L, x, c, r->method, c->enc.data, h.has_body, c->timeout_ms, &h)) goto decline;

  n = vz_xfer_finish(L, x, curl_easy_perform(x->curl));
  if (n == 5 && lua_tointeger(L, -5) >= 200 && lua_tointeger(L, -5) < 300) {
    lua_pushvalue(L, -4);
    return 1;
  }
  /* Not a success: the Lua path takes it from here, with this outcome. */
  {
    int first = lua_gettop(L) - n + 1, k, t;
    lua_createtable(L, n, 1);
    t = lua_gettop(L);
    for (k = 1; k <= n; k++) {
      lua_pushvalue(L, first + k - 1);
      lua_rawseti(L, t, k);
    }
    lua_pushinteger(L, n);
    lua_setfield(L, t, "n");
    lua_pushvalue(L, UP_MARK);
    lua_pushvalue(L, t);
    return 2;
  }

decline:
  lua_pushvalue(L, UP_MARK);
  return 1;
}

/* core.caller(UD, SCOPE, MARK) -> core.call bound to the resources' keys */
static int l_caller(lua_State *L) {
  lua_settop(L, 3);
  lua_pushvalue(L, VZ_ARRAY_MT);
  lua_insert(L, 1);
  lua_pushvalue(L, VZ_STRCACHE);
  lua_insert(L, 2);
  luaL_getmetatable(L, VZ_CLIENT_MT);
  luaL_getmetatable(L, VZ_ROUTE_MT);
  lua_pushcclosure(L, l_call, 7);
  return 1;
}

void vz_call_register(lua_State *L) {
  int core = lua_gettop(L);
  luaL_newmetatable(L, VZ_ROUTE_MT);
  lua_pushcfunction(L, l_route_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_route);
  lua_setfield(L, core, "route");
  lua_getfield(L, core, "array_mt");
  lua_getfield(L, core, "strcache");
  lua_pushcclosure(L, l_caller, 2);
  lua_setfield(L, core, "caller");
}
