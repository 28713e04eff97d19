/* route.c: core.route(row) compiles a row of endpoints.lua (the endpoint
 * table, docs/design.md "The surface is data") into a vz_route, once at
 * load time, for the mapper (request.c). Every key a row may have is read
 * here; endpoints.lua's header documents them. */
#include <stdlib.h>
#include <string.h>

#include "route.h"

static void pieces_free(vz_pieces *p) {
  int i;
  for (i = 0; i < p->n; i++) free(p->lit[i]);
}

static void route_free(vz_route *r) {
  int i;
  free(r->method);
  free(r->resource);
  free(r->name);
  pieces_free(&r->path);
  pieces_free(&r->alt);
  for (i = 0; i < r->nslots; i++) free(r->slot[i]);
  for (i = 0; i < r->nrequired; i++) free(r->required[i]);
  for (i = 0; i < r->nbody_args; i++) free(r->body_key[i]);
  for (i = 0; i < r->nints; i++) free(r->int_name[i]);
  memset(r, 0, sizeof *r);
}

static int l_route_gc(lua_State *L) {
  route_free((vz_route *)luaL_checkudata(L, 1, VZ_ROUTE_MT));
  return 0;
}

static char *dup_lstring(lua_State *L, const char *s, size_t n) {
  char *copy = (char *)malloc(n + 1);
  if (copy == NULL) luaL_error(L, "vzaps: out of memory");
  memcpy(copy, s, n);
  copy[n] = '\0';
  return copy;
}

static char *dup_string(lua_State *L, int idx) {
  size_t n;
  const char *s = luaL_checklstring(L, idx, &n);
  return dup_lstring(L, s, n);
}

static int slot_of(lua_State *L, vz_route *r, const char *name, size_t n) {
  int i;
  for (i = 0; i < r->nslots; i++)
    if (r->slotlen[i] == n && memcmp(r->slot[i], name, n) == 0) return i;
  if (r->nslots == VZ_MAX_SLOTS) luaL_error(L, "vzaps: route has too many fields");
  r->slot[r->nslots] = dup_lstring(L, name, n);
  r->slotlen[r->nslots] = n;
  return r->nslots++;
}

/* "/a/{x}/b/{y}" -> pieces "/a/", x, "/b/", y, "" */
static void compile_path(lua_State *L, vz_route *r, const char *t, vz_pieces *p) {
  const char *open;
  p->n = 0;
  while ((open = strchr(t, '{')) != NULL) {
    const char *close = strchr(open, '}');
    if (close == NULL || p->n + 1 >= VZ_MAX_PIECES) luaL_error(L, "vzaps: bad route template");
    p->lit[p->n] = dup_lstring(L, t, (size_t)(open - t));
    p->litlen[p->n] = (size_t)(open - t);
    p->field[p->n] = slot_of(L, r, open + 1, (size_t)(close - open - 1));
    p->n++;
    t = close + 1;
  }
  p->lit[p->n] = dup_lstring(L, t, strlen(t));
  p->litlen[p->n] = strlen(t);
  p->n++;
}

static int has_field(lua_State *L, int row, const char *name) {
  int v;
  lua_getfield(L, row, name);
  v = !lua_isnil(L, -1);
  lua_pop(L, 1);
  return v;
}

/* The strings of list field `name` of the row, each passed to fn. */
static int list_len(lua_State *L, int row, const char *name) {
  int n;
  lua_getfield(L, row, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  luaL_checktype(L, -1, LUA_TTABLE);
  n = (int)vz_rawlen(L, -1);
  if (n > VZ_MAX_LIST) luaL_error(L, "vzaps: route list '%s' is too long", name);
  return n; /* the list stays on the stack */
}

/* core.route(row) -> route */
static int l_route(lua_State *L) {
  vz_route *r;
  int row = 1, i, n, s, uv;
  const char *template;
  luaL_checktype(L, row, LUA_TTABLE);
  lua_settop(L, 1);
  r = (vz_route *)vz_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r);
  r->without_slot = r->raw_slot = -1;
  luaL_getmetatable(L, VZ_ROUTE_MT);
  lua_setmetatable(L, -2);
  lua_createtable(L, 4, 0); /* the user value: lists, fields, prepare, field names */
  uv = lua_gettop(L);
  lua_pushvalue(L, uv);
  vz_setuservalue(L, 2);

  slot_of(L, r, "instance_id", 11);
  slot_of(L, r, "instance_token", 14);
  vz_rawgeti(L, row, 1);
  r->resource = dup_string(L, -1);
  vz_rawgeti(L, row, 2);
  r->name = dup_string(L, -1);
  vz_rawgeti(L, row, 3);
  r->method = dup_string(L, -1);
  vz_rawgeti(L, row, 4);
  template = luaL_checkstring(L, -1);
  compile_path(L, r, template, &r->path);
  r->scoped = strncmp(template, "/instances/{instance_id}", 24) == 0;
  lua_pop(L, 4);

  lua_getfield(L, row, "body");
  r->no_body = (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) || strcmp(r->method, "GET") == 0;
  lua_pop(L, 1);
  lua_getfield(L, row, "optional");
  r->optional = lua_toboolean(L, -1);
  lua_pop(L, 1);

  lua_getfield(L, row, "without"); /* {field = template}: one entry */
  if (!lua_isnil(L, -1)) {
    lua_pushnil(L);
    if (lua_next(L, -2)) {
      size_t fn;
      const char *f = luaL_checklstring(L, -2, &fn);
      r->without_slot = slot_of(L, r, f, fn);
      compile_path(L, r, luaL_checkstring(L, -1), &r->alt);
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, row, "raw");
  if (!lua_isnil(L, -1)) {
    size_t fn;
    const char *f = luaL_checklstring(L, -1, &fn);
    r->raw_slot = slot_of(L, r, f, fn);
  }
  lua_pop(L, 1);

  /* Query fields, in the sorted order they go on the wire (§3.3). */
  n = list_len(L, row, "query");
  for (i = 1; i <= n; i++) {
    size_t fn;
    const char *f;
    int j, slot;
    vz_rawgeti(L, -1, i);
    f = luaL_checklstring(L, -1, &fn);
    slot = slot_of(L, r, f, fn);
    for (j = r->nquery; j > 0 && strcmp(r->slot[r->query_slot[j - 1]], f) > 0; j--)
      r->query_slot[j] = r->query_slot[j - 1];
    r->query_slot[j] = slot;
    r->nquery++;
    lua_pop(L, 1);
  }
  if (n) lua_pop(L, 1);

  /* Positional arguments; on an instance handle instance_id is dropped. */
  r->table_form = !has_field(L, row, "args");
  n = list_len(L, row, "args");
  if (n > VZ_MAX_ARGS) luaL_error(L, "vzaps: route has too many arguments");
  for (s = 0; s < 2; s++) {
    int pos = 0;
    for (i = 1; i <= n; i++) {
      size_t fn;
      const char *f;
      vz_arg *a;
      vz_rawgeti(L, -1, i);
      f = luaL_checklstring(L, -1, &fn);
      lua_pop(L, 1);
      if (s == 1 && strcmp(f, "instance_id") == 0) continue;
      if (strcmp(f, "instance_id") == 0) r->needs_instance_id = 1;
      a = &r->args[s][pos++];
      if (strcmp(f, "opts") == 0) {
        a->kind = VZ_ARG_OPTS;
        r->opts_pos[s] = pos;
      } else if (strcmp(f, "body") == 0) {
        a->kind = VZ_ARG_BODY;
        r->body_pos[s] = pos;
      } else {
        a->kind = VZ_ARG_FIELD;
        a->slot = slot_of(L, r, f, fn);
        r->slot_pos[s][a->slot] = pos;
      }
    }
    r->nargs[s] = pos;
  }
  if (n) lua_pop(L, 1);
  if (r->scoped) r->needs_instance_id = 1;

  n = list_len(L, row, "required");
  for (i = 1; i <= n; i++) {
    vz_rawgeti(L, -1, i);
    r->required[r->nrequired++] = dup_string(L, -1);
    lua_pop(L, 1);
  }
  if (n) lua_pop(L, 1);

  lua_getfield(L, row, "body_args"); /* {key = field}, kept as `"key":` in key order */
  if (!lua_isnil(L, -1)) {
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      size_t fn;
      const char *k = luaL_checkstring(L, -2), *f = luaL_checklstring(L, -1, &fn);
      int j;
      if (r->nbody_args == VZ_MAX_LIST || strspn(k, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(k))
        luaL_error(L, "vzaps: bad route body_args");
      for (j = r->nbody_args; j > 0 && strcmp(r->body_key[j - 1], k) > 0; j--) {
        r->body_key[j] = r->body_key[j - 1];
        r->body_slot[j] = r->body_slot[j - 1];
      }
      r->body_slot[j] = slot_of(L, r, f, fn);
      lua_pushfstring(L, "\"%s\":", k);
      r->body_key[j] = dup_string(L, -1);
      r->nbody_args++;
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);

  lua_getfield(L, row, "ints"); /* {field = minimum} */
  if (!lua_isnil(L, -1)) {
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      size_t fn;
      const char *f = luaL_checklstring(L, -2, &fn);
      int j;
      if (r->nints == VZ_MAX_LIST) luaL_error(L, "vzaps: route has too many ints");
      r->int_name[r->nints] = dup_lstring(L, f, fn);
      r->int_min[r->nints] = (lua_Integer)luaL_checknumber(L, -1);
      r->int_slot[r->nints] = -1;
      for (j = 0; j < r->nslots; j++)
        if (strcmp(r->slot[j], f) == 0) r->int_slot[r->nints] = j;
      r->nints++;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);

  /* The Lua parts, in the user value. */
  lua_getfield(L, row, "lists");
  lua_newtable(L);
  if (!lua_isnil(L, -2)) {
    n = (int)vz_rawlen(L, -2);
    for (i = 1; i <= n; i++) {
      vz_rawgeti(L, -2, i);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
  }
  lua_rawseti(L, uv, VZ_ROUTE_LISTS);
  lua_pop(L, 1);
  lua_getfield(L, row, "fields");
  if (!lua_isnil(L, -1)) {
    luaL_Buffer names;
    int fl = lua_gettop(L);
    luaL_checktype(L, fl, LUA_TTABLE);
    r->has_fields = 1;
    n = (int)vz_rawlen(L, fl);
    lua_newtable(L);
    for (i = 1; i <= n; i++) {
      const char *f;
      vz_rawgeti(L, fl, i);
      f = lua_tostring(L, -1);
      if (f != NULL && (strcmp(f, "image") == 0 || strcmp(f, "video") == 0 || strcmp(f, "gif") == 0 ||
                        strcmp(f, "audio") == 0 || strcmp(f, "sticker") == 0))
        r->has_media = 1;
      if (f != NULL && strcmp(f, "document") == 0) r->has_document = 1;
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
    lua_rawseti(L, uv, VZ_ROUTE_FIELDS);
    luaL_buffinit(L, &names);
    for (i = 1; i <= n; i++) {
      if (i > 1) luaL_addstring(&names, ", ");
      vz_rawgeti(L, fl, i);
      luaL_addvalue(&names);
    }
    luaL_pushresult(&names);
    lua_rawseti(L, uv, VZ_ROUTE_FIELD_NAMES);
  }
  lua_pop(L, 1);
  lua_getfield(L, row, "prepare");
  if (!lua_isnil(L, -1)) {
    luaL_checktype(L, -1, LUA_TFUNCTION);
    r->has_prepare = 1;
    lua_rawseti(L, uv, VZ_ROUTE_PREPARE);
  } else {
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  return 1;
}

void vz_route_register(lua_State *L) {
  int core = lua_gettop(L);
  luaL_newmetatable(L, VZ_ROUTE_MT);
  lua_pushcfunction(L, l_route_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, VZ_ROUTE_MT);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_route);
  lua_setfield(L, core, "route");
}
