/* fuzz_json.c: libFuzzer target for the module's JSON codec.
 *
 * Any input: vz_json_decode must either fail with a message or push a value.
 * When it decodes, encode -> decode -> encode -> decode must be stable: the
 * codec's own output is a fixed point: the two decoded values are equal
 * (same types, integer/float subtypes, array marks) and the two texts have
 * the same length (object keys may come out in another order: Lua tables
 * have no order, and JSON objects none either). The only value decode
 * accepts that encode may refuse is a number out of the double range (1e999
 * decodes to inf, which JSON cannot carry).
 *
 * Every input is also decoded twice with a string cache that lives across
 * inputs (vz_json_decode_cached): the results must equal the uncached one,
 * failures must fail alike, and the stack must stay balanced. Now and then
 * the cache table is tampered with, which must cost only misses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"

static lua_State *L;

static const char *DEEP_EQUAL =
    "local function eq(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) == 'number' then return math.type(a) == math.type(b) and a == b end\n"
    "  if type(a) ~= 'table' then return a == b end\n"
    "  if getmetatable(a) ~= getmetatable(b) then return false end\n"
    "  for k, v in pairs(a) do if not eq(v, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "return eq\n";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  L = luaL_newstate();
  luaL_openlibs(L);
  if (luaL_dostring(L, DEEP_EQUAL) != LUA_OK) abort();
  lua_setfield(L, LUA_REGISTRYINDEX, "fuzz_eq");
  lua_createtable(L, VZ_JSON_STRCACHE_SLOTS, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "fuzz_cache");
  return 0;
}

/* Change the cache table behind the decoder's back, in one of the ways it
 * must survive: a slot or the mirror replaced by another type, or removed. */
static void tamper(int cache, unsigned long k) {
  int slot = (int)(k / 5 % (VZ_JSON_STRCACHE_SLOTS + 1));
  switch (k % 5) {
    case 0: lua_pushinteger(L, (lua_Integer)k); break;
    case 1: lua_pushnil(L); break;
    case 2: lua_pushboolean(L, 1); break;
    case 3: lua_newuserdata(L, 8); break;
    default:
      lua_pushliteral(L, "not a mirror");
      slot = 0;
      break;
  }
  lua_rawseti(L, cache, slot);
}

/* The value at v (or the failure err0, when v == 0) must be what decoding
 * data with the cache gives, twice in a row. */
static void check_cached(const unsigned char *data, size_t size, int mt, int v, const char *err0) {
  static unsigned long calls;
  char err[160];
  int cache, top, k;
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_cache");
  cache = lua_gettop(L);
  if (++calls % 16 == 0) tamper(cache, calls / 16);
  for (k = 0; k < 2; k++) {
    top = lua_gettop(L);
    if (!vz_json_decode_cached(L, (const char *)data, size, mt, NULL, cache, err, sizeof err)) {
      if (v != 0 || strcmp(err, err0) != 0 || lua_gettop(L) != top) {
        fprintf(stderr, "cached decode failed differently: %s / %s\n", err, v ? "(ok)" : err0);
        abort();
      }
      continue;
    }
    if (v == 0 || lua_gettop(L) != top + 1) {
      fprintf(stderr, "cached decode succeeded where the plain one failed (%s) or left %d values\n", v ? "" : err0,
              lua_gettop(L) - top);
      abort();
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_eq");
    lua_pushvalue(L, v);
    lua_pushvalue(L, top + 1);
    lua_call(L, 2, 1);
    if (!lua_toboolean(L, -1)) {
      fprintf(stderr, "cached decode differs (pass %d):\n%.*s\n", k + 1, (int)size, (const char *)data);
      abort();
    }
    lua_settop(L, top);
  }
  lua_settop(L, cache - 1);
}

static int encode_top(vz_buf *b, int mt, char *err, size_t errsz) {
  vz_buf_init(b);
  return vz_json_encode(L, lua_gettop(L), b, mt, 0, err, errsz);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char err[160];
  vz_buf t1, t2;
  int mt;
  lua_settop(L, 0);
  lua_newtable(L); /* the array metatable */
  mt = lua_gettop(L);
  if (!vz_json_decode(L, (const char *)data, size, mt, err, sizeof err)) {
    if (err[0] == '\0') abort(); /* a failure must say why */
    check_cached(data, size, mt, 0, err);
    return 0;
  }
  check_cached(data, size, mt, mt + 1, NULL);
  if (!encode_top(&t1, mt, err, sizeof err)) {
    vz_buf_free(&t1);
    if (strstr(err, "NaN or infinity") == NULL) {
      fprintf(stderr, "decoded but cannot re-encode: %s\n", err);
      abort();
    }
    return 0;
  }
  lua_settop(L, mt);
  if (!vz_json_decode(L, t1.data ? t1.data : "", t1.len, mt, err, sizeof err)) { /* v2 at mt+1 */
    fprintf(stderr, "own output does not decode: %s\n%.*s\n", err, (int)t1.len, t1.data);
    abort();
  }
  if (!encode_top(&t2, mt, err, sizeof err)) {
    fprintf(stderr, "second encode failed: %s\n", err);
    abort();
  }
  if (!vz_json_decode(L, t2.data ? t2.data : "", t2.len, mt, err, sizeof err)) { /* v3 at mt+2 */
    fprintf(stderr, "second output does not decode: %s\n", err);
    abort();
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_eq");
  lua_pushvalue(L, mt + 1);
  lua_pushvalue(L, mt + 2);
  lua_call(L, 2, 1);
  if (!lua_toboolean(L, -1) || t1.len != t2.len) {
    fprintf(stderr, "round trip not stable:\n%.*s\n%.*s\n", (int)t1.len, t1.data, (int)t2.len, t2.data);
    abort();
  }
  vz_buf_free(&t1);
  vz_buf_free(&t2);
  lua_settop(L, 0);
  if (lua_gc(L, LUA_GCCOUNT, 0) > 64 * 1024) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
