/* request.c: the mapper. The arguments of one call become its request
 * (method, path, query, headers, body) here and nowhere else: for every
 * endpoint row (route.h) and for client:request. Every argument error is
 * raised here, before anything is sent, whichever path then sends the
 * request (direct_call.c from C, or http.lua for retries, custom transports
 * and parallel runs). Rules: contract §3 and the API description "How arguments map". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "json.h"
#include "media.h"
#include "policy.h"
#include "request.h"
#include "request_object.h"
#include "route.h"
#include "url.h"
#include "vzaps.h"

/* The values of one call: stack indices of the slots' values (0: nil). */
typedef struct frame {
  const vz_route *r;
  int scoped; /* called on an instance handle */
  int val[VZ_MAX_SLOTS];
  int body; /* a positional body table, or the request table (table form) */
} frame;

static int get_field(lua_State *L, int t, const char *name) {
  lua_getfield(L, t, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return lua_gettop(L);
}

/* ---- positions and messages ---------------------------------------------- */

/* The argument position of a slot: its own for positional methods (the
 * body's for body fields), else the request table's (#1). */
static int slot_position(const frame *f, int slot) {
  const vz_route *r = f->r;
  if (r->table_form) return 1;
  if (slot >= 0 && r->slot_pos[f->scoped][slot]) return r->slot_pos[f->scoped][slot];
  return r->body_pos[f->scoped] ? r->body_pos[f->scoped] : 1;
}

static int field_error(lua_State *L, const frame *f, int slot, const char *name, const char *why) {
  if (f->r->table_form) return vz_argerror(L, 1, f->r->name, "field '%s' %s", name, why);
  return vz_argerror(L, slot_position(f, slot), f->r->name, "%s %s", name, why);
}

/* A short text naming the key at idx, for messages. */
static const char *key_text(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING) return lua_tostring(L, idx);
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_pushvalue(L, idx);
    return lua_tostring(L, -1); /* a copy: lua_next's key is left alone */
  }
  return lua_pushfstring(L, "(a %s key)", luaL_typename(L, idx));
}

/* Edit distance of two short names, for "did you mean ...?". */
static size_t distance(const char *a, size_t n, const char *b, size_t m) {
  size_t row[65], i, j;
  if (n > 64 || m > 64) return 99;
  for (j = 0; j <= m; j++) row[j] = j;
  for (i = 1; i <= n; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (j = 1; j <= m; j++) {
      size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[m];
}

/* Raises: an unknown field of a row whose fields the contract lists. */
static int unknown_field(lua_State *L, const frame *f, int key, int route) {
  const vz_route *r = f->r;
  int pos = r->table_form ? 1 : (r->body_pos[f->scoped] ? r->body_pos[f->scoped] : 1);
  const char *k = key_text(L, key), *best = NULL;
  size_t kn = strlen(k), bestd = 99;
  vz_getuservalue(L, route);
  vz_rawgeti(L, -1, VZ_ROUTE_FIELDS);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    size_t n, d;
    const char *name = lua_tolstring(L, -2, &n);
    d = distance(k, kn, name, n);
    if (d < bestd) bestd = d, best = name;
    lua_pop(L, 1);
  }
  if (best != NULL && bestd <= 2 && bestd * 2 < kn)
    return vz_argerror(L, pos, r->name, "unknown field '%s'; did you mean %s?", k, best);
  vz_rawgeti(L, -2, VZ_ROUTE_FIELD_NAMES);
  return vz_argerror(L, pos, r->name, "unknown field '%s'; known fields: %s", k, lua_tostring(L, -1));
}

/* ---- options, headers, timeouts, tokens ---------------------------------- */

/* The caller's headers checked (names are HTTP tokens, values strings or
 * numbers without control bytes) into a new table; empty values are
 * skipped (D18). Returns its index, or 0 when nothing is left. */
static int check_headers(lua_State *L, int idx, int n, const char *name) {
  int out;
  if (lua_isnil(L, idx)) return 0;
  if (!lua_istable(L, idx)) return vz_argerror(L, n, name, "headers must be a table");
  lua_newtable(L);
  out = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t kn, vn;
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &kn) : NULL, *v;
    char num[64];
    if (k == NULL || !vz_header_name_ok(k, kn)) {
      if (k != NULL && kn <= 40 && vz_header_value_ok(k, kn) && strchr(k, '\t') == NULL)
        return vz_argerror(L, n, name, "invalid header name '%s'", k);
      return vz_argerror(L, n, name, "invalid header name (names are HTTP tokens)");
    }
    if (lua_type(L, -1) == LUA_TNUMBER) {
      if (!vz_number_text(L, lua_gettop(L), num, sizeof num))
        return vz_argerror(L, n, name, "header '%s' must be a finite number", k);
      lua_pop(L, 1);
      lua_pushstring(L, num);
    }
    if (lua_type(L, -1) != LUA_TSTRING) return vz_argerror(L, n, name, "header '%s' must be a string", k);
    v = lua_tolstring(L, -1, &vn);
    if (!vz_header_value_ok(v, vn)) return vz_argerror(L, n, name, "header '%s' contains a control character", k);
    if (kn + vn + 3 > VZ_MAX_HEADER_LINE) return vz_argerror(L, n, name, "header '%s' is too long", k);
    if (vn > 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, out);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pushnil(L);
  if (!lua_next(L, out)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 2);
  return out;
}

static int check_timeout(lua_State *L, int idx, int n, const char *name) {
  if (lua_isnil(L, idx)) return 0;
  if (lua_type(L, idx) != LUA_TNUMBER || !vz_seconds_ok((double)lua_tonumber(L, idx), 0))
    return vz_argerror(L, n, name, "timeout must be a positive number of seconds, at most one year");
  return idx;
}

/* A token that goes in a header: a non-blank single-line string. */
static void check_token(lua_State *L, int idx, int n, const char *name, const char *field) {
  size_t len;
  const char *s;
  if (idx == 0 || lua_type(L, idx) != LUA_TSTRING) {
    vz_argerror(L, n, name, "%s is required", field);
    return;
  }
  s = lua_tolstring(L, idx, &len);
  switch (vz_token_problem(s, len)) {
    case VZ_TOKEN_BLANK: vz_argerror(L, n, name, "%s is required", field); break;
    case VZ_TOKEN_CONTROL: vz_argerror(L, n, name, "%s contains control characters", field); break;
    case VZ_TOKEN_LONG: vz_argerror(L, n, name, "%s is longer than %d bytes", field, VZ_MAX_TOKEN); break;
    default: break;
  }
}

/* opts of a positional method: {instance_token, headers, timeout}. */
static void take_opts(lua_State *L, int idx, int n, const char *name, int *token, vz_request *q) {
  if (lua_isnil(L, idx)) return;
  if (!lua_istable(L, idx)) {
    vz_argerror(L, n, name, "options table expected, got %s", luaL_typename(L, idx));
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    lua_pop(L, 1);
    if (k == NULL || (strcmp(k, "instance_token") != 0 && strcmp(k, "headers") != 0 && strcmp(k, "timeout") != 0))
      vz_argerror(L, n, name, "unknown option '%s'", key_text(L, lua_gettop(L)));
  }
  *token = get_field(L, idx, "instance_token");
  lua_getfield(L, idx, "headers");
  q->headers = check_headers(L, lua_gettop(L), n, name);
  lua_getfield(L, idx, "timeout");
  q->timeout = check_timeout(L, lua_gettop(L), n, name);
}

/* ---- path, body, query ----------------------------------------------------- */

static int has_space_or_control(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return 1;
  return 0;
}

static void build_path(lua_State *L, vz_client *c, const frame *f, vz_request *q) {
  const vz_route *r = f->r;
  const vz_pieces *p = &r->path;
  vz_buf *b = &c->url;
  int i;
  if (r->without_slot >= 0) {
    int v = f->val[r->without_slot];
    size_t n = 0;
    if (v == 0 || (lua_type(L, v) == LUA_TSTRING && (lua_tolstring(L, v, &n), n == 0))) p = &r->alt;
  }
  q->path_at = b->len;
  for (i = 0; i < p->n; i++) {
    if (vz_buf_append(b, p->lit[i], p->litlen[i]) != 0) luaL_error(L, "vzaps: out of memory");
    if (i + 1 < p->n) {
      int slot = p->field[i];
      char num[64];
      size_t n;
      const char *s = vz_segment_text(L, f->val[slot], &n, num, sizeof num);
      if (s == NULL) field_error(L, f, slot, r->slot[slot], "is required (a non-empty string)");
      if (slot == r->raw_slot) {
        while (n > 0 && *s == '/') s++, n--; /* inserted as given, leading "/" stripped (§3.1) */
        const char *why = vz_url_raw_path_problem(s, n);
        if (has_space_or_control(s, n)) field_error(L, f, slot, r->slot[slot], "contains spaces or control characters");
        if (why != NULL) field_error(L, f, slot, r->slot[slot], why);
        if (vz_buf_append(b, s, n) != 0) luaL_error(L, "vzaps: out of memory");
      } else if (vz_url_segment(b, s, n) != 0) {
        luaL_error(L, "vzaps: out of memory");
      }
    }
  }
  q->path_len = b->len - q->path_at;
}

static int is_slot(const vz_route *r, const char *k, size_t n) {
  int i;
  for (i = 0; i < r->nslots; i++)
    if (r->slotlen[i] == n && memcmp(r->slot[i], k, n) == 0) return 1;
  return 0;
}

/* lua_next over the fields of the call's table t, a table-form row's
 * slots (path and option fields) skipped: 0 at the end, else the key and
 * value are pushed and *k is the key's text (NULL: not a string key). */
static int next_field(lua_State *L, const vz_route *r, int t, const char **k, size_t *kn) {
  while (lua_next(L, t)) {
    *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, kn) : NULL;
    if (!(r->table_form && *k != NULL && is_slot(r, *k, *kn))) return 1;
    lua_pop(L, 1);
  }
  return 0;
}

/* The generic body (an object of the call's fields, nothing else:
 * no positional body arguments, no `prepare`) is encoded during the field
 * walk, member by member, saving a second walk over the table. Its failure
 * is kept and reported where encoding a whole body would report it (after
 * the path), so which mistake a call hears about first does not change. */
typedef struct walk_body {
  unsigned seen;          /* bit i: the walk met required[i] (a non-nil value) */
  int on;                 /* encoding during the walk */
  int failed;             /* a member could not be encoded: err, media_code */
  const char *media_code; /* as in vz_json_encode_body */
  char err[160];
} walk_body;

/* Walks the body fields of the call: raises on an unexpected or unknown
 * one; returns how many there are. With w->on, encodes them into c->body
 * as it goes; a key that is not a string turns that off (the whole-table
 * encoder then reports it as before). */
static int check_body_fields(lua_State *L, vz_client *c, const frame *f, int route, walk_body *w) {
  const vz_route *r = f->r;
  int t = f->body, count = 0, fields = 0, lists = 0, top = lua_gettop(L);
  const char *k;
  size_t kn;
  if (t == 0) {
    w->on = 0;
    return 0;
  }
  if (r->has_fields || w->on) {
    int uv;
    vz_getuservalue(L, route);
    uv = lua_gettop(L);
    if (w->on) {
      vz_rawgeti(L, uv, VZ_ROUTE_LISTS);
      lists = lua_istable(L, -1) ? lua_gettop(L) : 0;
      vz_buf_reset(&c->body, VZ_KEEP_BUFFER);
      if (vz_buf_putc(&c->body, '{') != 0) luaL_error(L, "vzaps: out of memory");
    }
    if (r->has_fields) {
      vz_rawgeti(L, uv, VZ_ROUTE_FIELDS);
      fields = lua_gettop(L);
    }
  }
  lua_pushnil(L);
  while (next_field(L, r, t, &k, &kn)) {
    if (r->no_body) vz_argerror(L, 1, r->name, "unexpected field '%s'", key_text(L, lua_gettop(L) - 1));
    if (fields) {
      int known;
      lua_pushvalue(L, -2);
      lua_rawget(L, fields);
      known = !lua_isnil(L, -1);
      lua_pop(L, 1);
      if (!known) unknown_field(L, f, lua_gettop(L) - 1, route);
    }
    count++;
    if (k != NULL) {
      int i;
      for (i = 0; i < r->nrequired; i++)
        if (strlen(r->required[i]) == kn && memcmp(r->required[i], k, kn) == 0) w->seen |= 1u << i;
    }
    if (w->on && k == NULL) w->on = 0;
    if (w->on && !w->failed &&
        !vz_json_encode_member(L, t, k, kn, count == 1, &c->body, VZ_ARRAY_MT, lists, w->err, sizeof w->err,
                               &w->media_code))
      w->failed = 1;
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  return count;
}

/* Whole-number fields (page, page_size, ...): values the contract does not
 * define raise instead of being corrected in silence. */
static void check_ints(lua_State *L, const frame *f) {
  const vz_route *r = f->r;
  int i;
  for (i = 0; i < r->nints; i++) {
    int slot = r->int_slot[i], v;
    lua_Number x;
    if (slot >= 0)
      v = f->val[slot];
    else
      v = f->body ? get_field(L, f->body, r->int_name[i]) : 0;
    if (v == 0) continue;
    x = lua_tonumber(L, v);
    if (lua_type(L, v) != LUA_TNUMBER || x != floor(x) || x < (lua_Number)r->int_min[i] || x > VZ_MAX_WHOLE) {
      lua_pushfstring(L, "must be a whole number, %d or more", (int)r->int_min[i]);
      field_error(L, f, slot, r->int_name[i], lua_tostring(L, -1));
    }
  }
}

static void encode_failed(lua_State *L, const frame *f, const char *err) {
  vz_argerror(L, slot_position(f, -1), f->r->name, "%s", err);
}

/* A document given as vzaps.file(path) without a file_name, on a row that
 * knows both fields (send_document): the encoded body b gets
 * "file_name": <the file's base name> before its closing brace. */
static void default_file_name(lua_State *L, const frame *f, int route, vz_buf *b) {
  int top = lua_gettop(L), t = f->body, doc, name, known;
  char err[160];
  if (!f->r->has_document || t == 0 || b->len < 2 || b->data[b->len - 1] != '}') return;
  doc = get_field(L, t, "document");
  if (doc == 0 || get_field(L, t, "file_name") != 0 || !vz_media_push_name(L, doc)) {
    lua_settop(L, top);
    return;
  }
  name = lua_gettop(L);
  vz_getuservalue(L, route);
  vz_rawgeti(L, -1, VZ_ROUTE_FIELDS);
  lua_getfield(L, -1, "file_name");
  known = !lua_isnil(L, -1);
  if (known) {
    static const char key[] = ",\"file_name\":";
    b->len--; /* the closing brace */
    if (vz_buf_append(b, key, sizeof key - 1) != 0 || !vz_json_encode(L, name, b, 0, 0, err, sizeof err) ||
        vz_buf_putc(b, '}') != 0)
      luaL_error(L, "vzaps: out of memory");
  }
  lua_settop(L, top);
}

/* WhatsApp's limits per media field (the Cloud API's "supported media
 * types"; README "Media from local files"): a value above its field's limit
 * is refused before anything is sent. vzaps.file and vzaps.bytes already
 * refuse anything above the largest one, a document's 100 MiB. */
static const struct {
  const char *field, *kind;
  size_t limit;
} MEDIA_LIMITS[] = {
    {"image", "images", (size_t)5 * 1024 * 1024},
    {"video", "videos", (size_t)16 * 1024 * 1024},
    {"gif", "GIFs (sent as video)", (size_t)16 * 1024 * 1024},
    {"audio", "audio", (size_t)16 * 1024 * 1024},
    {"sticker", "stickers", (size_t)500 * 1024},
};

static void check_media_limits(lua_State *L, const frame *f, vz_request *q) {
  size_t i;
  if (f->body == 0 || !f->r->has_media) return; /* rows with a media field only (send_image, ...) */
  for (i = 0; i < sizeof MEDIA_LIMITS / sizeof MEDIA_LIMITS[0] && q->refuse_field == NULL; i++) {
    int top = lua_gettop(L), v = get_field(L, f->body, MEDIA_LIMITS[i].field);
    size_t n = v ? vz_media_size(L, v) : 0;
    if (n > MEDIA_LIMITS[i].limit) {
      q->refuse_field = MEDIA_LIMITS[i].field;
      q->refuse_kind = MEDIA_LIMITS[i].kind;
      q->refuse_size = n;
      q->refuse_limit = MEDIA_LIMITS[i].limit;
    }
    lua_settop(L, top);
  }
}

/* A body that could not be encoded: a media file at fault (it cannot be
 * read any more, or changed since vzaps.file) is the world's failure, so
 * the call is refused and nothing is sent (http.send returns kind media);
 * anything else is a bad argument, raised. */
static void body_failed(lua_State *L, const frame *f, vz_request *q, const char *err, const char *media_code) {
  if (media_code == NULL) encode_failed(L, f, err);
  if (q->refuse_code != NULL) return;
  q->refuse_code = media_code;
  snprintf(q->refuse_msg, sizeof q->refuse_msg, "%s", err);
}

/* The JSON body into c->body (§3.4): only when there is a field
 * to send. */
static void encode_body(lua_State *L, vz_client *c, const frame *f, int route, int nfields, vz_request *q,
                        const walk_body *w) {
  const vz_route *r = f->r;
  vz_buf *b = &c->body;
  char err[160];
  const char *media_code;
  int lists, i, t = f->body;
  if (w->on && nfields > 0) { /* encoded by the field walk */
    if (vz_buf_putc(b, '}') != 0) luaL_error(L, "vzaps: out of memory");
    if (w->failed) body_failed(L, f, q, w->err, w->media_code);
    default_file_name(L, f, route, b);
    q->has_body = 1;
    return;
  }
  vz_buf_reset(b, VZ_KEEP_BUFFER);
  vz_getuservalue(L, route);
  vz_rawgeti(L, -1, VZ_ROUTE_LISTS);
  lists = lua_gettop(L);
  if (r->nbody_args > 0) {
    if (vz_buf_putc(b, '{') != 0) luaL_error(L, "vzaps: out of memory");
    for (i = 0; i < r->nbody_args; i++) {
      int v = f->val[r->body_slot[i]];
      if (v == 0) continue;
      if (b->len > 1 && vz_buf_putc(b, ',') != 0) luaL_error(L, "vzaps: out of memory");
      if (vz_buf_append(b, r->body_key[i], strlen(r->body_key[i])) != 0) luaL_error(L, "vzaps: out of memory");
      if (!vz_json_encode_body(L, v, b, VZ_ARRAY_MT, lists, NULL, 0, err, sizeof err, &media_code))
        body_failed(L, f, q, err, media_code);
    }
    if (vz_buf_putc(b, '}') != 0) luaL_error(L, "vzaps: out of memory");
    q->has_body = 1;
  } else if (r->has_prepare) {
    /* Instances.List (D2): the row's function gives the body to send. */
    int body;
    vz_getuservalue(L, route);
    vz_rawgeti(L, -1, VZ_ROUTE_PREPARE);
    lua_newtable(L);
    body = lua_gettop(L);
    if (t != 0) {
      const char *k;
      size_t kn;
      lua_pushnil(L);
      while (next_field(L, r, t, &k, &kn)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, body);
      }
    }
    lua_call(L, 1, 1);
    if (!vz_json_encode_body(L, lua_gettop(L), b, VZ_ARRAY_MT, lists, NULL, 0, err, sizeof err, &media_code))
      body_failed(L, f, q, err, media_code);
    q->has_body = b->len > 0;
  } else if (nfields > 0) {
    int ok = vz_json_encode_body(L, t, b, VZ_ARRAY_MT, lists, r->table_form ? (const char *const *)r->slot : NULL,
                                 r->table_form ? r->nslots : 0, err, sizeof err, &media_code);
    if (!ok) body_failed(L, f, q, err, media_code);
    default_file_name(L, f, route, b);
    q->has_body = 1;
  }
}

static void append_query(lua_State *L, vz_client *c, const frame *f) {
  const vz_route *r = f->r;
  const char *keys[VZ_MAX_LIST];
  size_t klens[VZ_MAX_LIST];
  int vals[VZ_MAX_LIST], i, any = 0, bad = -1;
  size_t at = c->url.len;
  const char *why;
  for (i = 0; i < r->nquery; i++) {
    int slot = r->query_slot[i];
    keys[i] = r->slot[slot];
    klens[i] = r->slotlen[slot];
    vals[i] = f->val[slot];
    any |= vals[i] != 0;
  }
  if (!any) return;
  if (vz_buf_putc(&c->url, '?') != 0) luaL_error(L, "vzaps: out of memory");
  why = vz_query_append(L, keys, klens, vals, r->nquery, &c->url, &bad);
  if (why != NULL) {
    int slot = r->query_slot[bad];
    lua_pushfstring(L, "cannot be sent: %s", why);
    field_error(L, f, slot, r->slot[slot], lua_tostring(L, -1));
  }
  if (c->url.len == at + 1) c->url.len = at; /* nothing after all: no "?" */
  c->url.data[c->url.len] = '\0';
}

static void start_url(lua_State *L, vz_client *c) {
  vz_buf_reset(&c->url, VZ_KEEP_BUFFER);
  if (vz_buf_append(&c->url, c->base_url, strlen(c->base_url)) != 0) luaL_error(L, "vzaps: out of memory");
}

int vz_url_of(const vz_client *c, const char *path, vz_buf *out, size_t *path_at, size_t *path_len) {
  size_t n = strlen(path);
  vz_buf_reset(out, VZ_KEEP_BUFFER);
  if (vz_buf_append(out, c->base_url, strlen(c->base_url)) != 0) return -1;
  *path_at = out->len;
  *path_len = n;
  return vz_buf_append(out, path, n);
}

/* ---- the two mappers ------------------------------------------------------- */

/* A table-form method given something else (a positional id, most often):
 * the message shows the call's shape, naming its first path field
 * (webhooks:retry_log{log_id = ...}), else its first required one. */
static void not_a_table(lua_State *L, const vz_route *r, int t) {
  const char *field = NULL;
  int i;
  for (i = 0; i + 1 < r->path.n && field == NULL; i++)
    if (r->path.field[i] != VZ_SLOT_INSTANCE_ID) field = r->slot[r->path.field[i]];
  if (field == NULL && r->nrequired > 0) field = r->required[0];
  if (field != NULL)
    vz_argerror(L, 1, r->name, "table expected, got %s: call it as %s:%s{%s = ...}", luaL_typename(L, t), r->resource,
                r->name, field);
  vz_argerror(L, 1, r->name, "table expected, got %s: call it as %s:%s{...}", luaL_typename(L, t), r->resource,
              r->name);
}

/* An endpoint call: route at stack index 2, the caller's arguments from
 * `first` on (missing ones are nil), scope the instance handle's scope
 * table (or 0). */
void vz_map_endpoint(lua_State *L, vz_client *c, const vz_route *r, int scope, int first, vz_request *q) {
  frame f;
  walk_body walk;
  int i, nfields, token = 0;
  memset(&f, 0, sizeof f);
  memset(q, 0, sizeof *q);
  f.r = r;
  f.scoped = scope != 0;
  q->method = r->method;
  q->resource = r->resource;
  q->name = r->name;
  q->auth = 1;

  if (r->table_form) {
    int t = first;
    if (lua_isnil(L, t)) {
      if (!r->optional && scope == 0) not_a_table(L, r, t);
    } else if (!lua_istable(L, t)) {
      not_a_table(L, r, t);
    } else {
      for (i = 0; i < r->nslots; i++) f.val[i] = get_field(L, t, r->slot[i]);
      f.body = t;
    }
  } else {
    const vz_arg *a = r->args[f.scoped];
    for (i = 0; i < r->nargs[f.scoped]; i++) {
      int idx = first + i, n = i + 1;
      switch (a[i].kind) {
        case VZ_ARG_OPTS: take_opts(L, idx, n, r->name, &token, q); break;
        case VZ_ARG_BODY:
          if (lua_isnil(L, idx)) break;
          if (!lua_istable(L, idx))
            vz_argerror(L, n, r->name, "table expected for the body, got %s", luaL_typename(L, idx));
          f.body = idx;
          break;
        default:
          if (!lua_isnil(L, idx)) f.val[a[i].slot] = idx;
      }
    }
    if (token) f.val[VZ_SLOT_INSTANCE_TOKEN] = token;
  }
  if (scope != 0) {
    if (f.val[VZ_SLOT_INSTANCE_ID] == 0 || !r->table_form)
      f.val[VZ_SLOT_INSTANCE_ID] = get_field(L, scope, "instance_id");
    if (f.val[VZ_SLOT_INSTANCE_TOKEN] == 0) f.val[VZ_SLOT_INSTANCE_TOKEN] = get_field(L, scope, "instance_token");
  }

  if (r->needs_instance_id) {
    char num[64];
    size_t n;
    if (vz_segment_text(L, f.val[VZ_SLOT_INSTANCE_ID], &n, num, sizeof num) == NULL)
      field_error(L, &f, VZ_SLOT_INSTANCE_ID, "instance_id", "is required");
  }
  if (r->scoped || f.val[VZ_SLOT_INSTANCE_TOKEN] != 0) {
    int pos = r->table_form ? 1 : (r->opts_pos[f.scoped] ? r->opts_pos[f.scoped] : slot_position(&f, -1));
    check_token(L, f.val[VZ_SLOT_INSTANCE_TOKEN], pos, r->name, "instance_token");
    q->itoken = f.val[VZ_SLOT_INSTANCE_TOKEN];
  }

  walk.seen = 0;
  walk.on = r->nbody_args == 0 && !r->has_prepare;
  walk.failed = 0;
  walk.media_code = NULL;
  nfields = check_body_fields(L, c, &f, 2, &walk);
  for (i = 0; i < r->nrequired; i++) {
    /* The walk's raw read settles it when it met the field; otherwise
     * lua_getfield's answer (an __index may give it) does. */
    if (walk.seen & (1u << i)) continue;
    if (f.body == 0 || get_field(L, f.body, r->required[i]) == 0) field_error(L, &f, -1, r->required[i], "is required");
  }
  check_ints(L, &f);
  check_media_limits(L, &f, q);

  start_url(L, c);
  build_path(L, c, &f, q);
  append_query(L, c, &f);
  encode_body(L, c, &f, 2, nfields, q, &walk);
}

/* client:request(method, path, opts): arguments from `first` on. */
void vz_map_generic(lua_State *L, vz_client *c, int first, vz_request *q) {
  static const char *const OPTS[] = {"query", "body", "headers", "instance_token", "no_auth", "timeout", NULL};
  int m = first, p = first + 1, o = first + 2, i, v;
  size_t n, plen;
  const char *s, *path, *qmark;
  vz_buf *b = &c->body;
  memset(q, 0, sizeof *q);
  q->name = "request";
  q->auth = 1;

  s = lua_type(L, m) == LUA_TSTRING ? lua_tolstring(L, m, &n) : NULL;
  if (s == NULL || n == 0 || n >= sizeof q->method_buf ||
      strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != n)
    vz_argerror(L, 1, "request", "method must be an HTTP verb such as \"GET\"");
  for (i = 0; i < (int)n; i++) q->method_buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
  q->method_buf[n] = '\0';
  q->method = q->method_buf;

  path = lua_type(L, p) == LUA_TSTRING ? lua_tolstring(L, p, &plen) : NULL;
  if (path == NULL || plen == 0) vz_argerror(L, 2, "request", "path must be a non-empty string");
  if (has_space_or_control(path, plen)) vz_argerror(L, 2, "request", "path contains spaces or control characters");

  if (lua_isnil(L, o)) {
    lua_newtable(L);
    lua_replace(L, o);
  }
  if (!lua_istable(L, o)) vz_argerror(L, 3, "request", "options table expected, got %s", luaL_typename(L, o));
  lua_pushnil(L);
  while (lua_next(L, o)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int known = 0;
    lua_pop(L, 1);
    for (i = 0; k != NULL && OPTS[i] != NULL && !known; i++) known = strcmp(k, OPTS[i]) == 0;
    if (!known) vz_argerror(L, 3, "request", "unknown option '%s'", key_text(L, lua_gettop(L)));
  }

  /* body: a string as given, any other value as JSON; never on GET */
  vz_buf_reset(b, VZ_KEEP_BUFFER);
  if ((v = get_field(L, o, "body")) != 0) {
    if (strcmp(q->method, "GET") == 0) vz_argerror(L, 3, "request", "a GET request carries no body");
    if (lua_type(L, v) == LUA_TSTRING) {
      s = lua_tolstring(L, v, &n);
      if (vz_buf_append(b, s, n) != 0) luaL_error(L, "vzaps: out of memory");
    } else {
      char err[160];
      const char *media_code;
      if (!vz_json_encode_body(L, v, b, VZ_ARRAY_MT, 0, NULL, 0, err, sizeof err, &media_code)) {
        if (media_code == NULL) vz_argerror(L, 3, "request", "body: %s", err);
        q->refuse_code = media_code;
        snprintf(q->refuse_msg, sizeof q->refuse_msg, "body: %s", err);
      }
    }
    q->has_body = 1;
  }
  if ((v = get_field(L, o, "instance_token")) != 0) {
    check_token(L, v, 3, "request", "instance_token");
    q->itoken = v;
  }
  if ((v = get_field(L, o, "no_auth")) != 0) {
    if (lua_type(L, v) != LUA_TBOOLEAN) vz_argerror(L, 3, "request", "no_auth must be a boolean");
    q->auth = !lua_toboolean(L, v);
  }
  lua_getfield(L, o, "headers");
  q->headers = check_headers(L, lua_gettop(L), 3, "request");
  lua_getfield(L, o, "timeout");
  q->timeout = check_timeout(L, lua_gettop(L), 3, "request");

  /* base + "/" + path (leading "/" stripped, not escaped) + query (§4.13) */
  while (plen > 0 && *path == '/') path++, plen--;
  start_url(L, c);
  q->path_at = c->url.len;
  if (vz_buf_putc(&c->url, '/') != 0 || vz_buf_append(&c->url, path, plen) != 0) luaL_error(L, "vzaps: out of memory");
  qmark = memchr(path, '?', plen);
  q->path_len = 1 + (qmark ? (size_t)(qmark - path) : plen);
  if ((v = get_field(L, o, "query")) != 0) {
    const char *why;
    size_t at = c->url.len;
    if (!lua_istable(L, v)) vz_argerror(L, 3, "request", "query must be a table");
    if (vz_buf_putc(&c->url, qmark ? '&' : '?') != 0) luaL_error(L, "vzaps: out of memory");
    if (!vz_query_table(L, v, &c->url, &why))
      vz_argerror(L, 3, "request", "query field '%s' cannot be sent: %s", lua_tostring(L, -1), why);
    if (c->url.len == at + 1) c->url.len = at;
    c->url.data[c->url.len] = '\0';
  }
}

/* The request object of the call just mapped (the URL in c->url, the body
 * in c->body), pushed for the Lua layer. */
void vz_push_request(lua_State *L, vz_client *c, const vz_request *q) {
  vz_req_parts p;
  char op[96];
  size_t rn = q->resource != NULL ? strlen(q->resource) : 0, nn = strlen(q->name);
  memset(&p, 0, sizeof p);
  if (rn + nn + 2 > sizeof op) rn = 0, nn = nn < sizeof op - 1 ? nn : sizeof op - 1;
  if (rn > 0) memcpy(op, q->resource, rn), op[rn++] = '.';
  memcpy(op + rn, q->name, nn);
  op[rn + nn] = '\0';
  p.method = q->method;
  p.url = c->url.data;
  p.url_len = c->url.len;
  p.path_at = q->path_at;
  p.path_len = q->path_len;
  p.body = q->has_body ? (c->body.data ? c->body.data : "") : NULL;
  p.body_len = q->has_body ? c->body.len : 0;
  p.itoken = q->itoken;
  p.op = op;
  p.auth = q->auth;
  p.headers = q->headers;
  p.timeout = q->timeout ? (double)lua_tonumber(L, q->timeout) : 0;
  p.refuse_field = q->refuse_field;
  p.refuse_kind = q->refuse_kind;
  p.refuse_size = q->refuse_size;
  p.refuse_limit = q->refuse_limit;
  p.refuse_code = q->refuse_code;
  p.refuse_msg = q->refuse_code != NULL ? q->refuse_msg : NULL;
  vz_req_new(L, &p);
}

/* core.token_request(client, client_secret): the POST /token request of
 * contract §2.1, its body encoded here so that the buffer holding the
 * secret is the module's, wiped when the request is collected. */
static int l_token_request(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  vz_req_parts p;
  vz_buf url, body;
  char err[128];
  int ok;
  luaL_checkstring(L, 2);
  memset(&p, 0, sizeof p);
  vz_buf_init(&url);
  vz_buf_init(&body);
  lua_createtable(L, 0, 2);
  if (c->client_token != NULL) {
    lua_pushstring(L, c->client_token);
    lua_setfield(L, -2, "client_token");
  }
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "client_secret");
  ok = vz_json_encode(L, lua_gettop(L), &body, 0, 0, err, sizeof err) &&
       vz_url_of(c, "/token", &url, &p.path_at, &p.path_len) == 0;
  lua_pop(L, 1);
  if (ok) {
    p.method = "POST";
    p.url = url.data;
    p.url_len = url.len;
    p.body = body.data ? body.data : "";
    p.body_len = body.len;
    p.op = "auth.token";
    p.secret_body = 1;
    vz_req_new(L, &p);
  }
  vz_buf_free(&url);
  if (body.data != NULL) vz_wipe(body.data, body.cap);
  vz_buf_free(&body);
  if (!ok) return luaL_error(L, "vzaps: out of memory");
  return 1;
}

/* core.realtime_url(client, instance_id, instance_token, access_token,
 * events, last_event_id): the URL of the realtime handshake (contract
 * §6.1), the client's realtime base + "/events/ws?" + the query every call
 * gets (url.c, §3.3), except that an empty value is dropped like a nil one
 * (the realtime rule of §3.3). The client token is the client's own. */
static int l_realtime_url(lua_State *L) {
  static const char *const KEYS[] = {"instance_id", "instance_token", "access_token",
                                     "events",      "last_event_id",  "client_token"};
  enum { NKEYS = sizeof KEYS / sizeof KEYS[0] };
  vz_client *c = vz_client_check(L, 1);
  size_t klens[NKEYS];
  int vals[NKEYS], i, bad = -1;
  const char *why;
  vz_buf url;
  lua_settop(L, NKEYS);
  if (c->client_token != NULL)
    lua_pushstring(L, c->client_token);
  else
    lua_pushnil(L);
  for (i = 0; i < NKEYS; i++) {
    int idx = i + 2;
    size_t n = 1;
    if (lua_type(L, idx) == LUA_TSTRING) lua_tolstring(L, idx, &n);
    klens[i] = strlen(KEYS[i]);
    vals[i] = lua_isnil(L, idx) || n == 0 ? 0 : idx;
  }
  vz_buf_init(&url);
  if (c->realtime_url == NULL) return luaL_error(L, "vzaps: the client has no realtime_url");
  if (vz_buf_append(&url, c->realtime_url, strlen(c->realtime_url)) != 0 ||
      vz_buf_append(&url, "/events/ws?", 11) != 0) {
    vz_buf_free(&url);
    return luaL_error(L, "vzaps: out of memory");
  }
  why = vz_query_append(L, KEYS, klens, vals, NKEYS, &url, &bad);
  if (why == NULL) lua_pushlstring(L, url.data, url.len);
  if (url.data != NULL) vz_wipe(url.data, url.cap); /* it held the tokens */
  vz_buf_free(&url);
  if (why != NULL) return luaL_error(L, "vzaps: realtime query field '%s' cannot be sent: %s", KEYS[bad], why);
  return 1;
}

void vz_request_register(lua_State *L) {
  lua_pushcfunction(L, l_token_request);
  lua_setfield(L, -2, "token_request");
  lua_pushcfunction(L, l_realtime_url);
  lua_setfield(L, -2, "realtime_url");
}
