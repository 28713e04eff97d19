/* spec/c/query_oom.c: the query builder when an allocation fails (run by
 * spec/url_oom_spec.lua). malloc is wrapped (-Wl,--wrap=malloc) so the
 * allocation of more than 16 query pairs fails; the builder must report
 * "out of memory" and name one of the table's keys, never read before its
 * key array. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "buffer.h"
#include "url.h"

void *__real_malloc(size_t n);
static int fail; /* Lua allocates with realloc: only the module's mallocs fail */
void *__wrap_malloc(size_t n) {
  return fail ? NULL : __real_malloc(n);
}

int main(void) {
  lua_State *L = luaL_newstate();
  vz_buf out;
  const char *why = NULL;
  int i, ok;
  size_t klen;
  const char *key;
  lua_newtable(L);
  for (i = 0; i < 17; i++) {
    lua_pushinteger(L, i);
    lua_setfield(L, -2, (char[]){(char)('a' + i), 0});
  }
  vz_buf_init(&out);
  fail = 1;
  ok = vz_query_table(L, 1, &out, &why);
  fail = 0;
  if (ok || why == NULL || strcmp(why, "out of memory") != 0) {
    printf("FAIL: expected out of memory, got ok=%d why=%s\n", ok, why ? why : "(null)");
    return 1;
  }
  key = lua_tolstring(L, -1, &klen);
  if (key == NULL || klen != 1 || key[0] < 'a' || key[0] > 'q') {
    printf("FAIL: the key named is not one of the table's\n");
    return 1;
  }
  vz_buf_free(&out);
  lua_close(L);
  printf("ok\n");
  return 0;
}
