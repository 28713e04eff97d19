/* json_decode.c: JSON text -> Lua values (see json.h).
 *
 * A recursive-descent parser over a cursor that is passed and returned by
 * value (so it lives in a register); a function returns the cursor after
 * what it parsed, or NULL after writing the error message. The input is not
 * NUL-terminated: every read is guarded by `p < end`. */
#include "json.h"

#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lualib.h> /* LUA_JITLIBNAME tells LuaJIT */

#include "json_number.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Objects and arrays at the first HINT_DEPTHS levels are created with the
 * size of the previous sibling container at the same level: API responses
 * are lists of same-shaped objects, and presizing saves the rehashes that
 * growing a table one key at a time costs. Capped to bound wasted memory. */
#define HINT_DEPTHS VZ_JSON_HINT_DEPTHS
#define HINT_MAX 64

/* String cache (vz_json_decode_cached). The cache table's integer keys
 * 1..CACHE_SLOTS hold short strings, in 2-way sets chosen by a hash; a full
 * userdata at key 0 mirrors each slot's length and bytes, so a lookup is
 * settled without calling into Lua (only pushing a hit costs a call). Only
 * strings Lua interns are worth it: a hit replaces lua_pushlstring's
 * per-byte hash and string-table lookup, and keeps the string alive so the
 * GC does not free and re-create it answer after answer. */
#define CACHE_BITS 9
#define CACHE_SLOTS (1 << CACHE_BITS)
typedef char vz_cache_slots_match[CACHE_SLOTS == VZ_JSON_STRCACHE_SLOTS ? 1 : -1];
#define CACHE_MAXLEN 40  /* LUAI_MAXSHORTLEN in 5.2+; longer ones are not interned */
#define CACHE_EMPTY 0xFF /* a length no cached string has */
/* Misses in a row after which the rest of the answer skips the cache: a
 * long run of one-off strings (a list of ids) would pay lookups for nothing. */
#define CACHE_GIVEUP 256
/* LuaJIT interns with a sparse hash: measured, the cache only breaks even
 * there (a few % better on small answers, worse on long lists), so it is
 * left unused. */
#ifdef LUA_JITLIBNAME
#define CACHE_USED 0
#else
#define CACHE_USED 1
#endif

/* Member memo: the cache slots (plus one; 0: none) of the k-th key of the
 * last object at each of the first HINT_DEPTHS levels, of its value when
 * that was a string, and of the k-th string of the last array. Objects of
 * one answer, and answer after answer, share their keys in order and many
 * values (a status, a type), so the string there is compared with the
 * memo's slot first: a match skips the scan for the closing quote, the
 * hash and the set's two slots. Measured: about 1 100 instructions less
 * for an instances:get answer (11 keys), about 5% less for a 1000-row list. */
#define MEMO_KEYS 32

typedef struct str_mirror {
  unsigned short memo[HINT_DEPTHS][MEMO_KEYS][2]; /* a key's slot, its string value's */
  unsigned short amemo[HINT_DEPTHS][MEMO_KEYS];   /* an array's k-th string item's */
  unsigned char len[CACHE_SLOTS];                 /* CACHE_EMPTY when the slot is unused */
  unsigned char hot[CACHE_SLOTS];                 /* hit since stored or since last aged */
  uint32_t seen[CACHE_SLOTS / 2];                 /* per set: hash of the last string refused */
  char bytes[CACHE_SLOTS][CACHE_MAXLEN];
} str_mirror;

typedef struct dec {
  lua_State *L;
  const char *start, *end;
  int array_mt;
  int cache;        /* absolute index of the cache table, or 0 */
  str_mirror *sc;   /* its mirror, when cache != 0 */
  size_t cache_lim; /* strings shorter than this use the cache (0: none) */
  unsigned misses;  /* cache misses since the last hit */
  int depth;
  int over_budget;      /* the failure was the budget's */
  size_t spent, budget; /* estimated Lua memory so far, and its limit */
  char *err;
  size_t errsz;
  int ohint[HINT_DEPTHS]; /* hash size of the last object per depth */
  int ahint[HINT_DEPTHS]; /* length of the last array per depth */
} dec;

/* Bytes that end the fast scan of a string: '"', '\\' and controls < 0x20. */
static const unsigned char str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50: '\\' */
};

/* Value of a hex digit, or -1. */
/* clang-format off */
static const signed char hexval[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
/* clang-format on */

/* On little-endian GCC/Clang the first match's offset is a bit count. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_STOP(m) ((size_t)__builtin_ctzll(m) >> 3)
#endif

#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* What each value is charged against the budget (json.h): close to Lua
 * 5.4's sizes on 64-bit, the same on every version so that a text fails
 * alike everywhere. Charged before the value is made. */
#define COST_TABLE 64
#define COST_SLOT 16
#define COST_NODE 40
#define COST_STRING 24

static const char *fail(dec *d, const char *p, const char *msg) {
  if (d->err != NULL && d->errsz > 0)
    snprintf(d->err, d->errsz, "invalid JSON at byte %lu: %s", (unsigned long)(p - d->start), msg);
  return NULL;
}

static const char *fail_end(dec *d) { return fail(d, d->end, "unexpected end of input"); }

/* Charge n bytes of Lua memory; 0 (after writing the error) past the
 * budget. The message names no byte of the input. */
static int charge(dec *d, size_t n) {
  if (n <= d->budget - d->spent) {
    d->spent += n;
    return 1;
  }
  d->over_budget = 1;
  if (d->err != NULL && d->errsz > 0)
    snprintf(d->err, d->errsz,
             "JSON text is too costly to decode: its %lu bytes would take over %lu bytes of Lua memory "
             "(the decode budget: option json_budget)",
             (unsigned long)(d->end - d->start), (unsigned long)d->budget);
  return 0;
}

static inline const char *skip_ws(const char *p, const char *end) {
  /* The first test alone settles the common case of compact JSON. */
  while (p < end && (unsigned char)*p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

static const char *parse_value(dec *d, const char *p);

/* ---- strings ---------------------------------------------------------- */

static void add_utf8(luaL_Buffer *b, unsigned long cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  luaL_addlstring(b, u, n);
}

/* The 4 hex digits at p (p + 4 <= end), or -1. */
static long hex4(const char *p) {
  int a = hexval[(unsigned char)p[0]], b = hexval[(unsigned char)p[1]];
  int c = hexval[(unsigned char)p[2]], e = hexval[(unsigned char)p[3]];
  if ((a | b | c | e) < 0) return -1;
  return ((long)a << 12) | (b << 8) | (c << 4) | e;
}

/* The first '"', '\\' or control byte in [p, end), or end. */
static inline const char *scan_plain(const char *p, const char *end) {
#if defined(__SSE2__) && defined(FIRST_STOP)
  /* 16 bytes at a time; bytes <= 0x1F are those where max(x, 0x1F) == 0x1F. */
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  const __m128i ctl = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                               _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
    unsigned mask = (unsigned)_mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (end - p >= 8) {
    uint64_t w, m;
    memcpy(&w, p, 8); /* an unaligned load on common targets */
    if ((m = vz_json_word_stops(w)) != 0) {
#ifdef FIRST_STOP
      return p + FIRST_STOP(m);
#else
      break;
#endif
    }
    p += 8;
  }
  while (p < end && !str_stop[(unsigned char)*p]) p++;
  return p;
}

/* Slow path: the string starting at s has a backslash at p. */
static const char *parse_string_escaped(dec *d, const char *s, const char *p) {
  lua_State *L = d->L;
  const char *end = d->end, *first = s;
  luaL_Buffer b;
  /* luaL_Buffer keeps its pieces on the Lua stack (up to ~LUA_MINSTACK
   * slots in 5.1). */
  if (!lua_checkstack(L, LUA_MINSTACK)) return fail(d, p, "nested too deeply");
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, s, (size_t)(p - s));
  for (;;) {
    /* Here *p == '\\'. */
    const char *esc = p;
    char c;
    if (end - p < 2) return fail_end(d);
    c = p[1];
    p += 2;
    switch (c) {
      case '"': luaL_addchar(&b, '"'); break;
      case '\\': luaL_addchar(&b, '\\'); break;
      case '/': luaL_addchar(&b, '/'); break;
      case 'b': luaL_addchar(&b, '\b'); break;
      case 'f': luaL_addchar(&b, '\f'); break;
      case 'n': luaL_addchar(&b, '\n'); break;
      case 'r': luaL_addchar(&b, '\r'); break;
      case 't': luaL_addchar(&b, '\t'); break;
      case 'u': {
        long cp, lo;
        if (end - p < 4) return fail_end(d);
        cp = hex4(p);
        if (cp < 0) return fail(d, esc, "invalid \\u escape");
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          /* A high surrogate followed by "\u" + low surrogate makes one code
           * point; any other surrogate becomes U+FFFD and a following
           * escape is decoded on its own (as Go's encoding/json does). */
          if (cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u' && (lo = hex4(p + 2)) >= 0xDC00 &&
              lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          } else {
            cp = 0xFFFD;
          }
        }
        add_utf8(&b, (unsigned long)cp);
        break;
      }
      default: return fail(d, esc, "invalid escape in string");
    }
    /* Copy the run up to the next special byte. */
    s = p;
    p = scan_plain(p, end);
    if (p >= end) return fail_end(d);
    if (p > s) luaL_addlstring(&b, s, (size_t)(p - s));
    if (*p == '"') break;
    if (*p != '\\') return fail(d, p, "control character in string");
  }
  /* Charged once built: the pieces are bounded by the input's length, and
   * the escaped text is an upper bound of the string's. */
  if (!charge(d, COST_STRING + (size_t)(p - first))) return NULL;
  luaL_pushresult(&b);
  return p + 1;
}

static inline uint64_t load64(const char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint32_t load32(const char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Hash of s[0..n), n <= CACHE_MAXLEN, from a few overlapping loads instead
 * of a loop over the bytes: the length, the first, middle and last 8 bytes
 * (4 + 4, or 3 single bytes, for short ones). Every load stays inside
 * s[0..n). Its high bits, the best mixed, pick the slot; collisions only
 * cost a miss. */
static inline uint64_t cache_hash(const char *s, size_t n) {
  uint64_t a, b, c = 0;
  if (n >= 8) {
    a = load64(s);
    b = load64(s + n - 8);
    if (n > 16) c = load64(s + n / 2 - 4);
  } else if (n >= 4) {
    a = load32(s);
    b = load32(s + n - 4);
  } else if (n > 0) {
    a = (unsigned char)s[0] | (unsigned)(unsigned char)s[n / 2] << 8 | (unsigned)(unsigned char)s[n - 1] << 16;
    b = 0;
  } else {
    a = b = 0;
  }
  a = (a ^ n) * UINT64_C(0x9E3779B97F4A7C15);
  b = b * UINT64_C(0xC2B2AE3D27D4EB4F) ^ c * UINT64_C(0x165667B19E3779F9);
  return a ^ b;
}

/* a[0..n) == b[0..n), n <= CACHE_MAXLEN, reading nothing outside them. */
static inline int same_bytes(const char *a, const char *b, size_t n) {
  size_t i;
  if (n >= 8) {
    for (i = 0; i + 8 < n; i += 8)
      if (load64(a + i) != load64(b + i)) return 0;
    return load64(a + n - 8) == load64(b + n - 8);
  }
  if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
  return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* Push s[0..n) (n <= CACHE_MAXLEN), a miss of the cache, and store it in
 * set i when worth it. Storing costs about what a hit saves, so once the
 * set is full a string gets in only when it comes back (the set remembers
 * the last one it refused), and only into a slot that has not hit since it
 * was stored: one-off values (ids, dates of a long list) then cost little
 * more than without the cache, and the keys, hot, stay. */
static int push_miss(dec *d, const char *s, size_t n, unsigned i, uint32_t seen) {
  lua_State *L = d->L;
  str_mirror *sc = d->sc;
  unsigned w;
  lua_pushlstring(L, s, n);
  if (++d->misses == CACHE_GIVEUP) d->cache_lim = 0;
  if (sc->len[i] == CACHE_EMPTY)
    w = i;
  else if (sc->len[i + 1] == CACHE_EMPTY)
    w = i + 1;
  else if (sc->seen[i / 2] != seen) {
    sc->seen[i / 2] = seen;
    return -1;
  } else if (!sc->hot[i])
    w = i;
  else if (!sc->hot[i + 1])
    w = i + 1;
  else { /* both hot: age them, so a string that keeps coming gets in */
    sc->hot[i] = sc->hot[i + 1] = 0;
    return -1;
  }
  lua_pushvalue(L, -1);
  lua_rawseti(L, d->cache, (int)w + 1);
  /* Mirror only once the slot holds the string (rawseti did not raise). */
  sc->len[w] = (unsigned char)n;
  sc->hot[w] = 0;
  memcpy(sc->bytes[w], s, n);
  return (int)w;
}

/* Push the string of slot w, whose mirror matched: 1, or 0 (pushing
 * nothing) when the table was changed behind the decoder's back, and then
 * the slot is forgotten. */
static inline int push_slot(dec *d, unsigned w) {
#if LUA_VERSION_NUM >= 503
  if (vz_rawgeti(d->L, d->cache, (int)w + 1) == LUA_TSTRING) {
#else
  vz_rawgeti(d->L, d->cache, (int)w + 1);
  if (lua_type(d->L, -1) == LUA_TSTRING) {
#endif
    d->sc->hot[w] = 1;
    d->misses = 0;
    return 1;
  }
  lua_pop(d->L, 1);
  d->sc->len[w] = CACHE_EMPTY;
  return 0;
}

/* Push s[0..n) (n <= CACHE_MAXLEN): the cached string when a slot of its
 * 2-way set holds the same bytes (compared in full: a hash match proves
 * nothing), else a new one. Needs 2 free stack slots. Returns the slot
 * that holds it, or -1. */
static inline int push_cached(dec *d, const char *s, size_t n) {
  str_mirror *sc = d->sc;
  uint64_t h = cache_hash(s, n);
  unsigned i = (unsigned)(h >> (64 - CACHE_BITS)) & ~1u, w = i;
  if (!(sc->len[w] == n && same_bytes(sc->bytes[w], s, n))) {
    w = i + 1;
    if (!(sc->len[w] == n && same_bytes(sc->bytes[w], s, n))) return push_miss(d, s, n, i, (uint32_t)(h >> 32));
  }
  if (push_slot(d, w)) return (int)w;
  return push_miss(d, s, n, i, (uint32_t)(h >> 32));
}

/* The mirror of the cache table at t (absolute index), made on first use
 * (or when t[0] is not one). */
static str_mirror *cache_mirror(lua_State *L, int t) {
  str_mirror *sc;
  int i;
  lua_rawgeti(L, t, 0);
  sc = (str_mirror *)lua_touserdata(L, -1);
  if (sc != NULL && lua_type(L, -1) == LUA_TUSERDATA && vz_rawlen(L, -1) == sizeof(str_mirror)) {
    lua_pop(L, 1); /* t[0] keeps it alive */
    return sc;
  }
  lua_pop(L, 1);
  /* Slots 1..CACHE_SLOTS as false so they live in the array part. */
  for (i = 1; i <= CACHE_SLOTS; i++) {
    lua_pushboolean(L, 0);
    lua_rawseti(L, t, i);
  }
  sc = (str_mirror *)vz_newuserdata(L, sizeof(str_mirror));
  memset(sc->memo, 0, sizeof sc->memo);
  memset(sc->amemo, 0, sizeof sc->amemo);
  memset(sc->len, CACHE_EMPTY, sizeof sc->len);
  memset(sc->hot, 0, sizeof sc->hot);
  memset(sc->seen, 0, sizeof sc->seen);
  lua_rawseti(L, t, 0);
  return sc;
}

/* p is just after the opening quote. Pushes the string. memo, when not
 * NULL, is the member memo's place for it (see MEMO_KEYS; the cache is in
 * use): the slot it names is tried first, its bytes then a closing quote
 * (the mirror holds no quote, backslash or control byte, so equal bytes
 * are a whole plain string), and it is told the slot that holds a string
 * found otherwise. */
/* Inlined into its callers (object keys, string values, array items): the
 * call and its register saves were a tenth of a short string's cost, and
 * a NULL memo then costs nothing. */
static ALWAYS_INLINE const char *parse_string(dec *d, const char *p, unsigned short *memo) {
  const char *s = p, *end = d->end;
  size_t n;
  if (memo != NULL && *memo != 0) {
    str_mirror *sc = d->sc;
    unsigned w = *memo - 1u;
    n = sc->len[w];
    if (n != CACHE_EMPTY && (size_t)(end - p) > n && p[n] == '"' && same_bytes(sc->bytes[w], p, n) && push_slot(d, w))
      return charge(d, COST_STRING + n) ? p + n + 1 : NULL;
  }
  p = scan_plain(p, end);
  if (p >= end) return fail_end(d);
  if (*p == '"') {
    /* Common case: no escapes, push straight from the input. */
    n = (size_t)(p - s);
    if (!charge(d, COST_STRING + n)) return NULL;
    if (n < d->cache_lim) {
      int w = push_cached(d, s, n);
      if (memo != NULL) *memo = (unsigned short)(w + 1);
    } else {
      lua_pushlstring(d->L, s, n);
    }
    return p + 1;
  }
  if (*p == '\\') return parse_string_escaped(d, s, p);
  return fail(d, p, "control character in string");
}

/* ---- numbers ---------------------------------------------------------- */

/* Push the token s[0..n) as a float converted by strtod. */
static const char *push_strtod(dec *d, const char *s, const char *p) {
  double v;
  if (!vz_json_strtod(s, (size_t)(p - s), &v)) return fail(d, s, "out of memory");
  lua_pushnumber(d->L, (lua_Number)v);
  return p;
}

static const char *parse_number(dec *d, const char *p) {
  /* Exact powers of ten: a mantissa below 2^53 times or divided by one of
   * these is correctly rounded (Clinger's fast path). */
  static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char *s = p, *end = d->end;
  uint64_t m = 0; /* significant digits, while they fit */
  int nd = 0;     /* digits accumulated in m (leading zeros excluded) */
  int exact = 1;  /* m holds every significant digit */
  int isfloat = 0;
  long e10 = 0; /* decimal exponent to apply to m */
  int neg = 0;

  if (*p == '-') {
    neg = 1;
    if (++p == end) return fail_end(d);
  }
  if (*p == '0') {
    p++;
    if (p < end && IS_DIGIT(*p)) return fail(d, s, "invalid number (leading zero)");
  } else if (IS_DIGIT(*p)) {
    do {
      /* 19 digits always fit in 64 bits. */
      if (nd < 19) {
        m = m * 10 + (uint64_t)(*p - '0');
        nd++;
      } else {
        exact = 0;
      }
      p++;
    } while (p < end && IS_DIGIT(*p));
  } else {
    return fail(d, s, "invalid number");
  }

  if (p < end && *p == '.') {
    isfloat = 1;
    p++;
    if (p >= end) return fail_end(d);
    if (!IS_DIGIT(*p)) return fail(d, s, "invalid number");
    do {
      if (m == 0 && *p == '0') {
        e10--; /* leading zero of the fraction: only shifts the exponent */
      } else if (nd < 19) {
        m = m * 10 + (uint64_t)(*p - '0');
        nd++;
        e10--;
      } else {
        exact = 0;
      }
      p++;
    } while (p < end && IS_DIGIT(*p));
  }

  if (p < end && (*p == 'e' || *p == 'E')) {
    long x = 0;
    int eneg = 0;
    isfloat = 1;
    p++;
    if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
    if (p >= end) return fail_end(d);
    if (!IS_DIGIT(*p)) return fail(d, s, "invalid number");
    do {
      if (x < 100000) x = x * 10 + (*p - '0'); /* only decides the fast path */
      p++;
    } while (p < end && IS_DIGIT(*p));
    e10 += eneg ? -x : x;
  }

  if (!isfloat) {
    if (exact) {
      if (neg && m == 0) {
        lua_pushnumber(d->L, (lua_Number)-0.0); /* "-0" is the float -0.0 */
        return p;
      }
      if (vz_push_exact_integer(d->L, m, neg)) return p;
    }
    return push_strtod(d, s, p); /* out of integer range: nearest float */
  }

#if FLT_EVAL_METHOD == 0 /* no excess precision: the fast path is exact */
  if (exact && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
    double v = (double)m;
    if (e10 < 0)
      v /= pow10[-e10];
    else
      v *= pow10[e10];
    lua_pushnumber(d->L, (lua_Number)(neg ? -v : v));
    return p;
  }
#else
  (void)pow10;
#endif
  return push_strtod(d, s, p);
}

/* ---- containers ------------------------------------------------------- */

/* After an object member or array item: ',' (*more = 1, p at the next
 * item) or the closing byte (*more = 0, p after it); NULL on anything
 * else. */
static const char *after_item(dec *d, const char *p, char close, int *more) {
  p = skip_ws(p, d->end);
  if (p >= d->end) return fail_end(d);
  if (*p == ',') {
    *more = 1;
    return skip_ws(p + 1, d->end);
  }
  if (*p == close) {
    *more = 0;
    return p + 1;
  }
  return fail(d, p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

/* Leaving a container of n items at level lvl: its size is the next
 * one's hint. */
static const char *leave(dec *d, const char *p, int lvl, int *hints, int n) {
  if (lvl < HINT_DEPTHS) hints[lvl] = n < HINT_MAX ? n : HINT_MAX;
  d->depth = lvl;
  return p;
}

/* Entering the container that opens at `open`: its level, or -1 when it
 * is nested too deeply. Stack room for the table, a key, a value, and a
 * string buffer's first slot or a cached string's copy. */
static int enter(dec *d, const char *open) {
  if (d->depth >= VZ_JSON_MAX_DEPTH || !lua_checkstack(d->L, 4)) {
    fail(d, open, "nested too deeply");
    return -1;
  }
  return d->depth++;
}

/* p is just after '{'. */
static const char *parse_object(dec *d, const char *p) {
  lua_State *L = d->L;
  const char *end = d->end;
  int lvl = enter(d, p - 1), n = 0, more, hint;
  unsigned short *memo;
  if (lvl < 0) return NULL;
  hint = lvl < HINT_DEPTHS ? d->ohint[lvl] : 0;
  if (!charge(d, COST_TABLE + (size_t)hint * COST_NODE)) return NULL;
  lua_createtable(L, 0, hint);
  p = skip_ws(p, end);
  if (p < end && *p == '}') {
    p++;
    goto done;
  }
  for (;;) {
    if (p >= end) return fail_end(d);
    if (*p != '"') return fail(d, p, "expected a string key");
    if (!charge(d, COST_NODE)) return NULL;
    memo = d->sc != NULL && lvl < HINT_DEPTHS && n < MEMO_KEYS ? d->sc->memo[lvl][n] : NULL;
    if ((p = parse_string(d, p + 1, memo ? &memo[0] : NULL)) == NULL) return NULL;
    p = skip_ws(p, end);
    if (p >= end) return fail_end(d);
    if (*p != ':') return fail(d, p, "expected ':'");
    p = skip_ws(p + 1, end);
    if (memo && p < end && *p == '"')
      p = parse_string(d, p + 1, &memo[1]);
    else
      p = parse_value(d, p);
    if (p == NULL) return NULL;
    lua_rawset(L, -3); /* duplicate keys: the last one wins */
    n++;
    if ((p = after_item(d, p, '}', &more)) == NULL) return NULL;
    if (!more) break;
  }
done:
  return leave(d, p, lvl, d->ohint, n);
}

/* p is just after '['. */
static const char *parse_array(dec *d, const char *p) {
  lua_State *L = d->L;
  const char *end = d->end;
  int lvl = enter(d, p - 1), n = 0, more, hint;
  unsigned short *memo;
  if (lvl < 0) return NULL;
  hint = lvl < HINT_DEPTHS ? d->ahint[lvl] : 0;
  if (!charge(d, COST_TABLE + (size_t)hint * COST_SLOT)) return NULL;
  lua_createtable(L, hint, 0);
  if (d->array_mt) {
    lua_pushvalue(L, d->array_mt);
    lua_setmetatable(L, -2);
  }
  p = skip_ws(p, end);
  if (p < end && *p == ']') {
    p++;
    goto done;
  }
  memo = d->sc != NULL && lvl < HINT_DEPTHS ? d->sc->amemo[lvl] : NULL;
  for (;;) {
    if (!charge(d, COST_SLOT)) return NULL;
    if (memo && n < MEMO_KEYS && p < end && *p == '"')
      p = parse_string(d, p + 1, &memo[n]);
    else
      p = parse_value(d, p);
    if (p == NULL) return NULL;
    if (n == 0x7fffffff) return fail(d, p, "array too long");
    lua_rawseti(L, -2, ++n);
    if ((p = after_item(d, p, ']', &more)) == NULL) return NULL;
    if (!more) break;
  }
done:
  return leave(d, p, lvl, d->ahint, n);
}

/* p is at the first byte of a value (whitespace already skipped). */
static const char *parse_value(dec *d, const char *p) {
  const char *end = d->end;
  if (p >= end) return fail_end(d);
  switch (*p) {
    case '"': return parse_string(d, p + 1, NULL);
    case '{': return parse_object(d, p + 1);
    case '[': return parse_array(d, p + 1);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': return parse_number(d, p);
    case 't':
      if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
        lua_pushboolean(d->L, 1);
        return p + 4;
      }
      break;
    case 'f':
      if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
        lua_pushboolean(d->L, 0);
        return p + 5;
      }
      break;
    case 'n':
      if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
        lua_pushlightuserdata(d->L, NULL);
        return p + 4;
      }
      break;
    default: break;
  }
  return fail(d, p, "expected a value");
}

/* The budget of a len-byte text at `ratio` bytes per byte (json.h),
 * saturating instead of overflowing. */
static size_t budget_of(unsigned ratio, size_t len) {
  if (ratio == 0) ratio = VZ_JSON_BUDGET;
  if (ratio == VZ_JSON_BUDGET_OFF || len > (SIZE_MAX - VZ_JSON_BUDGET_FLOOR) / ratio) return SIZE_MAX;
  return len * ratio + VZ_JSON_BUDGET_FLOOR;
}

unsigned vz_json_budget_arg(lua_State *L, int i) {
  lua_Number v;
  if (lua_isnoneornil(L, i)) return 0;
  if (lua_type(L, i) == LUA_TBOOLEAN && !lua_toboolean(L, i)) return VZ_JSON_BUDGET_OFF;
  v = lua_type(L, i) == LUA_TNUMBER ? lua_tonumber(L, i) : 0;
  if (!(v >= 1 && v <= VZ_JSON_BUDGET_MAX && v == (lua_Number)(unsigned)v))
    luaL_argerror(L, i, "the JSON budget must be an integer from 1 to 4096, or false");
  return (unsigned)v;
}

int vz_json_decode(lua_State *L, const char *buf, size_t len, int array_mt, char *err, size_t errsz) {
  return vz_json_decode_cached(L, buf, len, array_mt, NULL, 0, err, errsz);
}

int vz_json_decode_hinted(lua_State *L, const char *buf, size_t len, int array_mt, vz_json_hints *hints, char *err,
                          size_t errsz) {
  return vz_json_decode_cached(L, buf, len, array_mt, hints, 0, err, errsz);
}

int vz_json_decode_cached(lua_State *L, const char *buf, size_t len, int array_mt, vz_json_hints *hints, int strcache,
                          char *err, size_t errsz) {
  dec d;
  int ok;
  const char *p;
  int top = lua_gettop(L);
  if (buf == NULL) { /* no arithmetic on a null pointer */
    buf = "";
    len = 0;
  }
  d.L = L;
  d.start = buf;
  d.end = buf + len;
  d.array_mt = (array_mt != 0 && lua_istable(L, array_mt)) ? vz_absindex(L, array_mt) : 0;
  d.cache = (CACHE_USED && strcache != 0 && lua_istable(L, strcache)) ? vz_absindex(L, strcache) : 0;
  d.sc = NULL;
  d.cache_lim = 0;
  d.misses = 0;
  d.depth = 0;
  d.over_budget = 0;
  d.spent = 0;
  d.budget = budget_of(hints == NULL ? 0 : hints->budget, len);
  d.err = err;
  d.errsz = errsz;
  if (hints != NULL) {
    memcpy(d.ohint, hints->object, sizeof d.ohint);
    memcpy(d.ahint, hints->array, sizeof d.ahint);
  } else {
    memset(d.ohint, 0, sizeof d.ohint);
    memset(d.ahint, 0, sizeof d.ahint);
  }
  if (err != NULL && errsz > 0) err[0] = '\0';

  p = buf;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 BOM */
  /* A string value and its copy for the cache. */
  if (!lua_checkstack(L, 2)) p = fail(&d, p, "nested too deeply");
  if (p != NULL && d.cache != 0) {
    d.sc = cache_mirror(L, d.cache);
    d.cache_lim = CACHE_MAXLEN + 1;
  }
  if (p != NULL) p = parse_value(&d, skip_ws(p, d.end));
  if (p != NULL) {
    p = skip_ws(p, d.end);
    if (p != d.end) p = fail(&d, p, "unexpected data after the value");
  }
  ok = p != NULL;
  if (!ok) lua_settop(L, top);
  if (ok && hints != NULL) {
    memcpy(hints->object, d.ohint, sizeof d.ohint);
    memcpy(hints->array, d.ahint, sizeof d.ahint);
  }
  if (hints != NULL) hints->over_budget = d.over_budget;
  return ok;
}
