/* url.c: URLs (contract §3.1–§3.3): path-segment escaping, the text of a
 * number in a path, query or header, and query strings. Endpoint calls,
 * client:request and the realtime URL (request.c) all build theirs here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_number.h"
#include "url.h"

/* RFC 3986 unreserved bytes are kept, every other byte becomes %XX with
 * uppercase hex. */
/* RFC 3986 unreserved bytes: A-Z a-z 0-9 - . _ ~ */
static const unsigned char unreserved[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int vz_url_escape(vz_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i = 0;
  char *o;
  /* Ids and tokens are mostly unreserved: their longest such prefix is
   * copied at once. */
  while (i < n && unreserved[(unsigned char)s[i]]) i++;
  if (vz_buf_reserve(b, i + (n - i) * 3) != 0) return -1;
  o = b->data + b->len;
  memcpy(o, s, i);
  o += i;
  for (; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (unreserved[ch]) {
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

/* A path segment: "." and ".." are unreserved, so escaping keeps them, but
 * as a whole segment they would be read as dot segments and change the
 * route. */
int vz_url_segment(vz_buf *b, const char *s, size_t n) {
  if (n == 1 && s[0] == '.') return vz_buf_append(b, "%2E", 3);
  if (n == 2 && s[0] == '.' && s[1] == '.') return vz_buf_append(b, "%2E%2E", 6);
  return vz_url_escape(b, s, n);
}

static int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* A raw path (a pass-through row's `path`, inserted unescaped): NULL when it
 * may go on the wire, else why not. `?` and `#` would start a query or a
 * fragment of the module's URL, and a `.` or `..` segment, also written
 * %2E (servers decode it; CURLOPT_PATH_AS_IS sends it as it is), would
 * climb out of the instance's path. Segments end at '/' and '\\', and at
 * %2F and %5C, which servers may decode too. */
const char *vz_url_raw_path_problem(const char *s, size_t n) {
  size_t i = 0, dots = 0, other = 0;
  for (;;) {
    int sep = i == n, ch = 0;
    size_t step = 1;
    if (!sep) {
      ch = (unsigned char)s[i];
      if (ch == '?' || ch == '#') return "must not contain '?' or '#' (use client:request for a query)";
      if (ch == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
        ch = hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]);
        step = 3;
      }
      sep = ch == '/' || ch == '\\';
    }
    if (sep) {
      if (dots > 0 && dots <= 2 && other == 0) return "must not contain '.' or '..' segments";
      if (i == n) return NULL;
      dots = other = 0;
    } else if (ch == '.') {
      dots++;
    } else {
      other++;
    }
    i += step;
  }
}

/* The text of the number at idx: integers in plain decimal, an integral
 * float without a fraction (3.0 -> "3"), any other float in the shortest
 * form that reads back the same. 0 for NaN and the infinities. */
int vz_number_text(lua_State *L, int idx, char *out, size_t outsz) {
  lua_Number v;
  if (vz_isinteger(L, idx)) {
    snprintf(out, outsz, "%lld", (long long)lua_tointeger(L, idx));
    return 1;
  }
  v = lua_tonumber(L, idx);
  if (v != v || v == HUGE_VAL || v == -HUGE_VAL) return 0;
  if (v == floor(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0) {
    snprintf(out, outsz, "%.0f", (double)v);
    if (strcmp(out, "-0") == 0) strcpy(out, "0");
    return 1;
  }
  /* The JSON encoder's formatter: '.' whatever LC_NUMERIC says, so a
   * query or header number reads the same as the body's. */
  {
    char buf[VZ_JSON_NUMBUF];
    size_t n = vz_json_fmt_double(buf, (double)v);
    if (n + 1 > outsz) return 0;
    memcpy(out, buf, n + 1);
  }
  return 1;
}

/* A path value's text: a string that is not blank, or a whole number
 * (phone numbers, ids) as its decimal text, on every Lua the same way
 * (contract D16: a blank id is missing). NULL when it cannot be one. */
const char *vz_segment_text(lua_State *L, int idx, size_t *n, char *num, size_t numsz) {
  if (idx == 0) return NULL;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, idx, n);
    size_t i;
    for (i = 0; i < *n; i++)
      if (!(s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) return s;
    return NULL;
  }
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Number v = lua_tonumber(L, idx);
    if (!vz_isinteger(L, idx) && !(v == floor(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0))
      return NULL;
    if (!vz_number_text(L, idx, num, numsz)) return NULL;
    *n = strlen(num);
    return num;
  }
  return NULL;
}

/* camelCase -> snake_case (§3.3): "_" before every ASCII uppercase letter
 * but the first, then lowercase. */
static int append_snake(vz_buf *b, const char *k, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    char ch = k[i];
    if (ch >= 'A' && ch <= 'Z') {
      if (i > 0 && vz_buf_putc(b, '_') != 0) return -1;
      ch = (char)(ch - 'A' + 'a');
    }
    if (vz_buf_putc(b, ch) != 0) return -1;
  }
  return 0;
}

/* The query text of the value at idx, appended escaped; NULL or the reason
 * it cannot be sent. */
static const char *append_value(lua_State *L, int idx, vz_buf *b) {
  char num[64];
  size_t n;
  const char *s;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: s = lua_tolstring(L, idx, &n); break;
    case LUA_TBOOLEAN:
      s = lua_toboolean(L, idx) ? "true" : "false";
      n = strlen(s);
      break;
    case LUA_TNUMBER:
      if (!vz_number_text(L, idx, num, sizeof num)) return "NaN or infinity";
      s = num;
      n = strlen(num);
      break;
    default: return "only strings, numbers and booleans can go in a query string";
  }
  return vz_url_escape(b, s, n) == 0 ? NULL : "out of memory";
}

typedef struct qpair {
  size_t key_at, key_len, val_at, val_len; /* in the scratch buffer */
  const char *key;                         /* scratch.data + key_at, once the buffer stopped growing */
} qpair;

/* Pairs by key; no state outside the pairs, so two Lua states on two
 * threads can build query strings at once. */
static int cmp_pair(const void *a, const void *b) {
  const qpair *x = (const qpair *)a, *y = (const qpair *)b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  if (c != 0) return c;
  return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* Appends the query string of the pairs (keys[i], value at vals[i]) for
 * i < n (value index 0: left out) to out, keys snake_cased and sorted,
 * values escaped (§3.3). Returns NULL, or the reason and *bad, the index of
 * the pair that cannot be sent. */
const char *vz_query_append(lua_State *L, const char *const *keys, const size_t *klens, const int *vals, int n,
                            vz_buf *out, int *bad) {
  vz_buf scratch;
  qpair stackpairs[16], *pairs = stackpairs;
  int i, np = 0;
  const char *why = NULL;
  vz_buf_init(&scratch);
  if (n > 16 && (pairs = (qpair *)malloc(sizeof *pairs * (size_t)n)) == NULL) {
    *bad = 0; /* the caller names a key: any will do for "out of memory" */
    return "out of memory";
  }
  for (i = 0; i < n && why == NULL; i++) {
    qpair *p = &pairs[np];
    if (vals[i] == 0) continue;
    p->key_at = scratch.len;
    if (append_snake(&scratch, keys[i], klens[i]) != 0) {
      why = "out of memory";
      break;
    }
    p->key_len = scratch.len - p->key_at;
    p->val_at = scratch.len;
    if ((why = append_value(L, vals[i], &scratch)) != NULL) *bad = i;
    p->val_len = scratch.len - p->val_at;
    np++;
  }
  if (why == NULL && np > 0) {
    for (i = 0; i < np; i++) pairs[i].key = scratch.data + pairs[i].key_at;
    qsort(pairs, (size_t)np, sizeof *pairs, cmp_pair);
    for (i = 0; i < np && why == NULL; i++) {
      if ((i > 0 && vz_buf_putc(out, '&') != 0) ||
          vz_url_escape(out, scratch.data + pairs[i].key_at, pairs[i].key_len) != 0 || vz_buf_putc(out, '=') != 0 ||
          vz_buf_append(out, scratch.data + pairs[i].val_at, pairs[i].val_len) != 0)
        why = "out of memory";
    }
  }
  if (pairs != stackpairs) free(pairs);
  vz_buf_free(&scratch);
  if (why != NULL && *bad < 0) *bad = 0;
  return why;
}

/* The query string of the table at t (nil values are simply absent). On a
 * key or value that cannot be sent: NULL, with *badkey (a string on the
 * stack, popped by the caller) and the reason in *why. */
int vz_query_table(lua_State *L, int t, vz_buf *out, const char **why) {
  int n = 0, i, bad = -1, top = lua_gettop(L), arr;
  const char **keys;
  size_t *klens;
  int *vals;
  t = vz_absindex(L, t);
  lua_newtable(L); /* the keys, so their strings stay alive */
  arr = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      *why = "query keys must be strings";
      lua_settop(L, top);
      lua_pushliteral(L, "?");
      return 0;
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, arr, ++n);
  }
  if (n == 0 || !lua_checkstack(L, 2 * n + 4)) {
    lua_settop(L, top);
    if (n == 0) return 1;
    *why = "too many query fields";
    lua_pushliteral(L, "?");
    return 0;
  }
  keys = (const char **)lua_newuserdata(L, (sizeof *keys + sizeof *klens + sizeof *vals) * (size_t)n);
  klens = (size_t *)(keys + n);
  vals = (int *)(klens + n);
  for (i = 0; i < n; i++) {
    vz_rawgeti(L, arr, i + 1);
    keys[i] = lua_tolstring(L, -1, &klens[i]);
    lua_pushvalue(L, -1);
    lua_rawget(L, t);
    vals[i] = lua_gettop(L);
  }
  *why = vz_query_append(L, keys, klens, vals, n, out, &bad);
  if (*why != NULL) {
    lua_pushlstring(L, keys[bad], klens[bad]);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 0;
  }
  lua_settop(L, top);
  return 1;
}

/* core.segment_text(v) -> text | nil: the path text of an id (client:instance
 * takes ids by the mapper's rule). */
static int l_segment_text(lua_State *L) {
  char num[64];
  size_t n;
  const char *s;
  lua_settop(L, 1);
  s = vz_segment_text(L, 1, &n, num, sizeof num);
  if (s == NULL) return 0;
  lua_pushlstring(L, s, n);
  return 1;
}

void vz_url_register(lua_State *L) {
  int core = lua_gettop(L);
  lua_pushcfunction(L, l_segment_text);
  lua_setfield(L, core, "segment_text");
}
