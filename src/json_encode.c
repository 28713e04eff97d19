/* json_encode.c: Lua values -> JSON text (see json.h).
 *
 * Tables are read with raw access only (lua_next, lua_rawgeti, lua_rawget),
 * so no metamethod ever runs. The path of keys from the root to the value
 * being written is kept in a small fixed stack, both to detect cycles and to
 * name the offending field in error messages. */
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json_number.h"
#include "media.h" /* media values (media.c) */

#define KEY_CUT 40 /* longest key name quoted in an error message */

/* One step of the path: a string key, or an array index when key == NULL. */
typedef struct seg {
  const char *key; /* points into a key string kept alive on the Lua stack */
  size_t klen;
  long long index; /* 1-based, as in Lua */
} seg;

typedef struct enc {
  lua_State *L;
  vz_buf *out;
  int array_mt, list_keys;
  char *err;
  size_t errsz;
  int depth;               /* tables on the current path */
  const char *const *skip; /* root object keys left out (or NULL) */
  int nskip;
  const char **media_code;               /* where a media value's failure code goes, or NULL */
  const void *tables[VZ_JSON_MAX_DEPTH]; /* for cycle detection */
  seg path[VZ_JSON_MAX_DEPTH];           /* path[i]: key inside tables[i] */
} enc;

/* For each byte: 0 to copy it, else the letter after '\\' ('u' for \u00XX). */
static const char esc_tab[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f',  'r', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 0,    0,   '"', 0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,   0,   0,
};

/* The first byte of [p, end) that needs escaping, or end. */
static inline const char *find_escape(const char *p, const char *end) {
  while (end - p >= 8) {
    uint64_t w, m;
    memcpy(&w, p, 8);
    if ((m = vz_json_word_stops(w)) != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return p + (__builtin_ctzll(m) >> 3);
#else
      break;
#endif
    }
    p += 8;
  }
  while (p < end && esc_tab[(unsigned char)*p] == 0) p++;
  return p;
}

/* ---- errors ----------------------------------------------------------- */

/* Append src[0..n) to dst (capacity cap, length *len), NUL-terminated,
 * silently truncating. Control bytes are shown as '?'. */
static void cat(char *dst, size_t cap, size_t *len, const char *src, size_t n) {
  size_t i;
  for (i = 0; i < n && *len + 1 < cap; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[(*len)++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  dst[*len] = '\0';
}

/* Write "field 'a.b[2]': msg" (or just msg at the root) and return 0. A
 * long path is cut so that msg always fits in err. */
static int fail(enc *e, const char *msg) {
  char where[256];
  size_t wl = 0, room;
  int i;
  if (e->err == NULL || e->errsz == 0) return 0;
  where[0] = '\0';
  for (i = 0; i < e->depth && wl + 1 < sizeof where; i++) {
    const seg *s = &e->path[i];
    if (s->key != NULL) {
      size_t n = s->klen;
      if (i > 0) cat(where, sizeof where, &wl, ".", 1);
      if (n > KEY_CUT) {
        n = KEY_CUT;
        /* Do not cut a UTF-8 sequence in half. */
        while (n > 0 && ((unsigned char)s->key[n] & 0xC0) == 0x80) n--;
      }
      cat(where, sizeof where, &wl, s->key, n);
      if (n < s->klen) cat(where, sizeof where, &wl, "...", 3);
    } else {
      char num[VZ_JSON_NUMBUF];
      cat(where, sizeof where, &wl, "[", 1);
      cat(where, sizeof where, &wl, num, vz_json_fmt_int(num, s->index));
      cat(where, sizeof where, &wl, "]", 1);
    }
  }
  /* room for the path: errsz minus "field '", "': ", msg and the NUL */
  room = strlen(msg) + 11;
  room = e->errsz > room ? e->errsz - room : 0;
  if (wl + 1 >= sizeof where || wl > room) {
    if (room < 8) {
      wl = 0; /* no room for a useful path */
    } else {
      wl = (room < sizeof where ? room : sizeof where - 1) - 3;
      while (wl > 0 && ((unsigned char)where[wl] & 0xC0) == 0x80) wl--;
      memcpy(where + wl, "...", 4);
      wl += 3;
    }
  }
  if (wl > 0)
    snprintf(e->err, e->errsz, "field '%s': %s", where, msg);
  else
    snprintf(e->err, e->errsz, "%s", msg);
  return 0;
}

static int fail_oom(enc *e) {
  if (e->err != NULL && e->errsz > 0) snprintf(e->err, e->errsz, "out of memory");
  return 0;
}

/* Output. The buffer's NUL terminator is written once, at the end of
 * vz_json_encode: every write below stays within the space that
 * vz_buf_reserve promised, which includes the terminator's byte. */
static inline int put_bytes(vz_buf *b, const char *p, size_t n) {
  if (b->len + n >= b->cap && vz_buf_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static inline int put_char(vz_buf *b, char c) {
  if (b->len + 1 >= b->cap && vz_buf_reserve(b, 1) != 0) return -1;
  b->data[b->len++] = c;
  return 0;
}

#define PUT(e, lit)                                                           \
  do {                                                                        \
    if (put_bytes((e)->out, (lit), sizeof(lit) - 1) != 0) return fail_oom(e); \
  } while (0)
#define PUTC(e, c)                                        \
  do {                                                    \
    if (put_char((e)->out, (c)) != 0) return fail_oom(e); \
  } while (0)

/* ---- scalars ---------------------------------------------------------- */

static int put_string(enc *e, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  vz_buf *out = e->out;
  const char *p = s, *end = s + n;
  /* Room for the quotes and the string unescaped; each escape below
   * reserves again for its own bytes and whatever remains. */
  if (vz_buf_reserve(out, n + 2) != 0) return fail_oom(e);
  out->data[out->len++] = '"';
  for (;;) {
    const char *q = find_escape(p, end);
    char *w;
    unsigned char c;
    memcpy(out->data + out->len, p, (size_t)(q - p));
    out->len += (size_t)(q - p);
    if (q == end) break;
    if (vz_buf_reserve(out, 6 + (size_t)(end - q)) != 0) return fail_oom(e);
    w = out->data + out->len;
    c = (unsigned char)*q;
    w[0] = '\\';
    if (esc_tab[c] == 'u') {
      w[1] = 'u';
      w[2] = '0';
      w[3] = '0';
      w[4] = hex[c >> 4];
      w[5] = hex[c & 15];
      out->len += 6;
    } else {
      w[1] = esc_tab[c];
      out->len += 2;
    }
    p = q + 1;
  }
  out->data[out->len++] = '"';
  return 1;
}

static int put_number(enc *e, int idx) {
  lua_State *L = e->L;
  char buf[VZ_JSON_NUMBUF];
  size_t n;
  double v;
  if (vz_isinteger(L, idx)) {
    n = vz_json_fmt_int(buf, (long long)lua_tointeger(L, idx));
  } else {
    v = (double)lua_tonumber(L, idx);
    if (v - v != 0) return fail(e, "cannot encode NaN or infinity"); /* NaN or inf */
    /* Integral floats print without a fraction (3.0 -> 3, -0.0 -> 0):
     * servers that type a field as an integer reject "3.0". */
    if (v > -9223372036854775808.0 && v < 9223372036854775808.0 && (double)(long long)v == v)
      n = vz_json_fmt_int(buf, (long long)v);
    else
      n = vz_json_fmt_double(buf, v);
  }
  if (put_bytes(e->out, buf, n) != 0) return fail_oom(e);
  return 1;
}

/* ---- tables ----------------------------------------------------------- */

static int put_value(enc *e, int idx, int keyidx);

/* Is the number key at idx integral? Doubles beyond 2^63 all are (and must
 * not be cast to long long). */
static int key_is_integral(lua_State *L, int idx) {
  double v;
  if (vz_isinteger(L, idx)) return 1;
  v = (double)lua_tonumber(L, idx);
  return v - v == 0 && (v <= -9223372036854775808.0 || v >= 9223372036854775808.0 || v == (double)(long long)v);
}

/* Why the key at idx cannot be in an array; the key is not a valid index. */
static const char *bad_array_key(enc *e, int idx, int marked) {
  lua_State *L = e->L;
  int t = lua_type(L, idx);
  if (marked) return "table marked as array has non-array keys";
  if (t == LUA_TSTRING) return "cannot encode a table mixing array and string keys";
  if (t == LUA_TNUMBER)
    return key_is_integral(L, idx) ? "cannot encode a sparse array" /* 0, -1, 2^70 */
                                   : "cannot encode a table key of type number (not an integer)";
  return NULL; /* caller reports the type name */
}

static int fail_key(enc *e, int idx, int marked) {
  char msg[80];
  const char *why = bad_array_key(e, idx, marked);
  if (why != NULL) return fail(e, why);
  snprintf(msg, sizeof msg, "cannot encode a table key of type %s", lua_typename(e->L, lua_type(e->L, idx)));
  return fail(e, msg);
}

static int skipped(const enc *e, const char *key) {
  int i;
  for (i = 0; i < e->nskip; i++)
    if (strcmp(e->skip[i], key) == 0) return 1;
  return 0;
}

/* Object whose traversal has started: the first key/value pair is on top
 * (the first key is a string). */
static int put_object(enc *e, int t) {
  lua_State *L = e->L;
  seg *s = &e->path[e->depth - 1];
  int first = 1;
  PUTC(e, '{');
  do {
    int top = lua_gettop(L);
    if (lua_type(L, top - 1) != LUA_TSTRING) {
      int ok;
      e->depth--; /* the error is about this table, not one of its fields */
      ok = lua_type(L, top - 1) == LUA_TNUMBER && key_is_integral(L, top - 1)
               ? fail(e, "cannot encode a table mixing array and string keys")
               : fail_key(e, top - 1, 0);
      e->depth++;
      lua_pop(L, 2);
      return ok;
    }
    /* Only ever called on a real string key: lua_tolstring would convert a
     * number key in place and break lua_next. */
    s->key = lua_tolstring(L, top - 1, &s->klen);
    if (e->depth == 1 && skipped(e, s->key)) {
      lua_pop(L, 1);
      continue;
    }
    if (!first) PUTC(e, ',');
    first = 0;
    if (!put_string(e, s->key, s->klen)) {
      lua_pop(L, 2);
      return 0;
    }
    PUTC(e, ':');
    if (!put_value(e, top, top - 1)) {
      lua_pop(L, 2);
      return 0;
    }
    lua_pop(L, 1);
  } while (lua_next(L, t));
  PUTC(e, '}');
  return 1;
}

/* Array whose traversal has started (first key/value pair on top): check
 * that the keys are exactly 1..n, then write t[1..n] in order. A string or
 * non-number key fails at once; bad number keys are only noted, so that a
 * table mixing them with string keys is reported as mixed. */
static int put_array(enc *e, int t, int marked) {
  lua_State *L = e->L;
  long long n = 0, max = 0, k, i;
  const char *bad = NULL;
  seg *s;
  do {
    int kt = lua_type(L, -2);
    if (kt == LUA_TNUMBER && vz_array_index(L, -2, &k)) {
      n++;
      if (k > max) max = k;
    } else if (kt == LUA_TNUMBER) {
      if (bad == NULL) bad = bad_array_key(e, lua_gettop(L) - 1, marked);
    } else {
      int ok;
      e->depth--; /* the error is about this table, not one of its fields */
      ok = fail_key(e, lua_gettop(L) - 1, marked);
      e->depth++;
      lua_pop(L, 2);
      return ok;
    }
    lua_pop(L, 1);
  } while (lua_next(L, t));
  /* Keys are distinct positive integers: they are 1..n iff the largest is n. */
  if (bad == NULL && max != n)
    bad = marked ? "table marked as array has non-array keys" : "cannot encode a sparse array";
  if (bad != NULL) {
    e->depth--;
    fail(e, bad);
    e->depth++;
    return 0;
  }
  s = &e->path[e->depth - 1];
  s->key = NULL;
  PUTC(e, '[');
  for (i = 1; i <= n; i++) {
    if (i > 1) PUTC(e, ',');
    s->index = i;
    vz_rawgeti(L, t, i);
    if (!put_value(e, lua_gettop(L), 0)) {
      lua_pop(L, 1);
      return 0;
    }
    lua_pop(L, 1);
  }
  PUTC(e, ']');
  return 1;
}

/* keyidx: stack index of the string key this table is stored under in its
 * parent object, or 0 (root, array element). */
static int put_table(enc *e, int t, int keyidx) {
  lua_State *L = e->L;
  const void *ptr = lua_topointer(L, t);
  int i, marked = 0, ok;
  for (i = 0; i < e->depth; i++)
    if (e->tables[i] == ptr) return fail(e, "cannot encode a cyclic table");
  /* Room for a key/value pair, and one more for metatable/list_keys checks. */
  if (e->depth >= VZ_JSON_MAX_DEPTH || !lua_checkstack(L, 4)) return fail(e, "nested too deeply");
  if (e->array_mt != 0 && lua_getmetatable(L, t)) {
    marked = lua_rawequal(L, -1, e->array_mt);
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  if (!lua_next(L, t)) {
    if (!marked && keyidx != 0 && e->list_keys != 0) {
      lua_pushvalue(L, keyidx);
      lua_rawget(L, e->list_keys);
      marked = !lua_isnil(L, -1);
      lua_pop(L, 1);
    }
    if (marked)
      PUT(e, "[]");
    else
      PUT(e, "{}");
    return 1;
  }
  e->tables[e->depth++] = ptr;
  if (!marked && lua_type(L, -2) == LUA_TSTRING)
    ok = put_object(e, t);
  else
    ok = put_array(e, t, marked);
  /* On failure the path is left as is: fail() has already used it. */
  if (ok) e->depth--;
  return ok;
}

static int put_value(enc *e, int idx, int keyidx) {
  lua_State *L = e->L;
  char msg[64];
  switch (lua_type(L, idx)) {
    case LUA_TNIL: PUT(e, "null"); return 1;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx))
        PUT(e, "true");
      else
        PUT(e, "false");
      return 1;
    case LUA_TNUMBER: return put_number(e, idx);
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      return put_string(e, s, n);
    }
    case LUA_TTABLE: return put_table(e, idx, keyidx);
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { /* cjson.null and the decoder's null */
        PUT(e, "null");
        return 1;
      }
      break;
    case LUA_TUSERDATA:
      /* vzaps.file / vzaps.bytes: a data URL, streamed from the file */
      if (vz_media_is(L, idx)) {
        char why[160];
        const char *code;
        if (!vz_media_encode(L, idx, e->out, why, sizeof why, &code)) {
          if (e->media_code != NULL) *e->media_code = code;
          return fail(e, why);
        }
        return 1;
      }
      break;
    default: break;
  }
  snprintf(msg, sizeof msg, "cannot encode a %s", lua_typename(L, lua_type(L, idx)));
  return fail(e, msg);
}

int vz_json_encode(lua_State *L, int idx, vz_buf *out, int array_mt, int list_keys, char *err, size_t errsz) {
  return vz_json_encode_except(L, idx, out, array_mt, list_keys, NULL, 0, err, errsz);
}

int vz_json_encode_except(lua_State *L, int idx, vz_buf *out, int array_mt, int list_keys, const char *const *skip,
                          int nskip, char *err, size_t errsz) {
  return vz_json_encode_body(L, idx, out, array_mt, list_keys, skip, nskip, err, errsz, NULL);
}

/* The encoder's state for one call: array_mt and list_keys already
 * absolute (or pseudo-) indices of tables, or 0. */
static void enc_start(enc *e, lua_State *L, vz_buf *out, int array_mt, int list_keys, char *err, size_t errsz,
                      const char **media_code) {
  e->L = L;
  e->out = out;
  e->array_mt = array_mt;
  e->list_keys = list_keys;
  e->err = err;
  e->errsz = errsz;
  e->depth = 0;
  e->skip = NULL;
  e->nskip = 0;
  e->media_code = media_code;
  if (media_code != NULL) *media_code = NULL;
  if (err != NULL && errsz > 0) err[0] = '\0';
}

int vz_json_encode_member(lua_State *L, int t, const char *key, size_t klen, int first, vz_buf *out, int array_mt,
                          int list_keys, char *err, size_t errsz, const char **media_code) {
  enc e; /* as in vz_json_encode_body: t is the root object, at depth 1 */
  int top = lua_gettop(L), ok;
  enc_start(&e, L, out, array_mt, list_keys, err, errsz, media_code);
  e.tables[0] = lua_topointer(L, t);
  e.path[0].key = key;
  e.path[0].klen = klen;
  e.depth = 1;
  ok = (first || put_char(out, ',') == 0) ? 1 : fail_oom(&e);
  if (ok && !put_string(&e, key, klen)) ok = 0;
  if (ok && put_char(out, ':') != 0) ok = fail_oom(&e);
  /* put_value pushes nothing it does not pop: the stack is as it was */
  if (ok) ok = put_value(&e, top, top - 1);
  if (out->data != NULL) out->data[out->len] = '\0';
  return ok;
}

int vz_json_encode_body(lua_State *L, int idx, vz_buf *out, int array_mt, int list_keys, const char *const *skip,
                        int nskip, char *err, size_t errsz, const char **media_code) {
  enc e; /* path arrays are written before they are read: no need to clear */
  int top = lua_gettop(L), ok;
  enc_start(&e, L, out, array_mt != 0 ? vz_absindex(L, array_mt) : 0,
            (list_keys != 0 && lua_istable(L, list_keys)) ? vz_absindex(L, list_keys) : 0, err, errsz, media_code);
  e.skip = skip;
  e.nskip = nskip;
  ok = put_value(&e, vz_absindex(L, idx), 0);
  if (out->data != NULL) out->data[out->len] = '\0';
  lua_settop(L, top);
  return ok;
}
