/* fuzz_json_budget.c: libFuzzer target for the JSON decoder's budget
 * (src/json.h): what a text decodes into may cost at most budget x length
 * + 1 MiB of Lua memory, estimated.
 *
 * Input: byte 0 picks the budget (1 to 32 bytes per byte), byte 1 a repeat
 * count (1 to 64): the rest is decoded as it is, or, repeated, as the items
 * of one array, so that inputs within -max_len still reach past the 1 MiB
 * floor. The text is decoded twice: without a budget, then with one, in a
 * Lua state whose allocator counts the bytes in use. Checked:
 * - the budget only turns a success into a failure over the budget: a text
 *   that fails without it fails with it, and a success with it is the same
 *   value (deep equality) as without;
 * - a failure says why, and over_budget only for the budget's failures;
 * - the Lua memory the budgeted decode held at its peak stays within twice
 *   the budget (the estimate is of Lua 5.4's sizes; arrays grow by doubling)
 *   plus 256 KiB, and the stack is balanced either way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"

static lua_State *L;
static size_t in_use, peak;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) {
    free(ptr);
    in_use -= osize;
    return NULL;
  }
  ptr = realloc(ptr, nsize);
  if (ptr == NULL) return NULL;
  in_use = in_use - osize + nsize;
  if (in_use > peak) peak = in_use;
  return ptr;
}

static const char *DEEP_EQUAL =
    "local function eq(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) == 'number' then return math.type(a) == math.type(b) and (a == b or a ~= a and b ~= b) end\n"
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
  L = lua_newstate(counting_alloc, NULL);
  luaL_openlibs(L);
  if (luaL_dostring(L, DEEP_EQUAL) != LUA_OK) abort();
  lua_setfield(L, LUA_REGISTRYINDEX, "fuzz_eq");
  return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char err0[160], err[160];
  unsigned ratio, reps, i;
  char *text;
  size_t len, pos, budget;
  int mt, ok0, ok;
  vz_json_hints h0, h;
  if (size < 2) return 0;
  ratio = 1u + data[0] % 32u;
  reps = 1u + data[1] % 64u;
  data += 2;
  size -= 2;
  len = reps == 1 ? size : 2 + reps * size + (reps - 1);
  text = (char *)malloc(len + 1);
  if (text == NULL) return 0;
  if (reps == 1) {
    if (size > 0) memcpy(text, data, size);
  } else {
    pos = 0;
    text[pos++] = '[';
    for (i = 0; i < reps; i++) {
      if (i > 0) text[pos++] = ',';
      if (size > 0) memcpy(text + pos, data, size);
      pos += size;
    }
    text[pos++] = ']';
  }

  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  lua_newtable(L); /* the array metatable */
  mt = lua_gettop(L);
  memset(&h0, 0, sizeof h0);
  h0.budget = VZ_JSON_BUDGET_OFF;
  ok0 = vz_json_decode_hinted(L, text, len, mt, &h0, err0, sizeof err0); /* at mt + 1 when ok0 */
  if (ok0 != (lua_gettop(L) == mt + 1) || h0.over_budget || (!ok0 && err0[0] == '\0')) {
    fprintf(stderr, "unbudgeted decode: ok %d, top %d, over %d, '%s'\n", ok0, lua_gettop(L) - mt, h0.over_budget, err0);
    abort();
  }

  memset(&h, 0, sizeof h);
  h.budget = ratio;
  budget = ratio * len + VZ_JSON_BUDGET_FLOOR;
  lua_gc(L, LUA_GCSTOP, 0); /* the peak is what the decode holds, not what a cycle left */
  peak = in_use;
  {
    size_t base = in_use;
    ok = vz_json_decode_hinted(L, text, len, mt, &h, err, sizeof err);
    if (peak - base > 2 * budget + (256u << 10)) {
      fprintf(stderr, "budget %lu bytes (x%u of %lu), but the decode held %lu\n", (unsigned long)budget, ratio,
              (unsigned long)len, (unsigned long)(peak - base));
      abort();
    }
  }
  lua_gc(L, LUA_GCRESTART, 0);
  if (lua_gettop(L) != (ok0 ? mt + 1 : mt) + (ok ? 1 : 0) || (!ok && err[0] == '\0') || (ok && h.over_budget)) {
    fprintf(stderr, "budgeted decode: ok %d, over %d, '%s'\n", ok, h.over_budget, err);
    abort();
  }
  if (ok && !ok0) {
    fprintf(stderr, "decodes with a budget only: %s\n", err0);
    abort();
  }
  if (!ok && ok0 && !h.over_budget) {
    fprintf(stderr, "a budget made a valid text fail otherwise: %s\n", err);
    abort();
  }
  if (ok) {
    lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_eq");
    lua_pushvalue(L, mt + 1);
    lua_pushvalue(L, mt + 2);
    lua_call(L, 2, 1);
    if (!lua_toboolean(L, -1)) {
      fprintf(stderr, "the budgeted decode differs\n");
      abort();
    }
  }
  free(text);
  lua_settop(L, 0);
  return 0;
}
