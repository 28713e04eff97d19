/* policy.c: the rules that more than one part of the module applies, each
 * written once (docs/design.md, "Which file owns which rule"): the range of
 * a time in seconds, which HTTP methods are safe to send again, which of
 * them carry a body (libcurl's POST mode), what may go in a header, and how
 * a secret is compared. The Lua layer reads the same rules from the core
 * table (core.SAFE_METHODS, core.post_mode, core.check_seconds,
 * core.check_header, core.token_problem) instead of restating them. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "policy.h"

int vz_seconds_ok(double s, int zero_ok) {
  if (s != s) return 0; /* NaN */
  if (zero_ok ? !(s >= 0) : !(s > 0)) return 0;
  return s <= VZ_MAX_SECONDS;
}

long vz_seconds_to_ms(double s) {
  long ms = (long)(s * 1000.0 + 0.5);
  return ms > 0 ? ms : (s > 0 ? 1 : 0);
}

/* GET, HEAD, PUT, DELETE and OPTIONS may be sent again (README,
 * Reliability): the module's retries, libcurl's silent resend and the
 * cosocket transport's all ask here. Everything else, POST and PATCH above all, is sent once. */
static const char *const SAFE_METHODS[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", NULL};

int vz_method_is_safe(const char *m) {
  int i;
  for (i = 0; SAFE_METHODS[i] != NULL; i++)
    if (strcmp(m, SAFE_METHODS[i]) == 0) return 1;
  return 0;
}

/* libcurl's POST mode carries a body (or Content-Length: 0): any request
 * with a body, and POST/PUT/PATCH without one; never HEAD. */
int vz_method_post_mode(const char *m, int has_body) {
  if (strcmp(m, "HEAD") == 0) return 0;
  return has_body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

/* A header name is an HTTP token (RFC 9110 §5.6.2). */
int vz_header_name_ok(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) continue;
    if (ch == 0 || strchr("!#$%&'*+-.^_`|~", ch) == NULL) return 0;
  }
  return 1;
}

/* A header value has no control byte but HTAB (RFC 9110 §5.5): CR, LF and
 * NUL would split or cut the header (injection), the rest are invalid. */
int vz_header_value_ok(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return 0;
  }
  return 1;
}

/* A token that goes in a header (instance token, credentials, the JWT from
 * /token): not blank (only white space, or empty: VZ_TOKEN_BLANK), at most
 * VZ_MAX_TOKEN bytes (VZ_TOKEN_LONG), then no control byte at all
 * (VZ_TOKEN_CONTROL); 0 when it may go on the wire. */
int vz_token_problem(const char *s, size_t n) {
  size_t i;
  int blank = 1;
  for (i = 0; i < n && blank; i++) blank = s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r');
  if (blank) return VZ_TOKEN_BLANK;
  if (n > VZ_MAX_TOKEN) return VZ_TOKEN_LONG;
  /* 8 bytes at a time: a byte below 0x20, or one equal to 0x7f (exact
   * tests, "Bit Twiddling Hacks": hasless and haszero). */
  for (i = 0; n - i >= 8; i += 8) {
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t w, del;
    memcpy(&w, s + i, 8);
    del = w ^ (ones * 0x7f);
    if ((((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs) return VZ_TOKEN_CONTROL;
  }
  for (; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x20 || ch == 0x7f) return VZ_TOKEN_CONTROL;
  }
  return 0;
}

int vz_token_ok(const char *s, size_t n) { return vz_token_problem(s, n) == 0; }

/* core.token_problem(s) -> nil | "blank" | "control" | "long" (s a string) */
static int l_token_problem(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  switch (vz_token_problem(s, n)) {
    case VZ_TOKEN_BLANK: lua_pushliteral(L, "blank"); return 1;
    case VZ_TOKEN_CONTROL: lua_pushliteral(L, "control"); return 1;
    case VZ_TOKEN_LONG: lua_pushliteral(L, "long"); return 1;
    default: return 0;
  }
}

/* core.post_mode(method, has_body) -> boolean: the request carries a body
 * or Content-Length: 0 (vz_method_post_mode). */
static int l_post_mode(lua_State *L) {
  lua_pushboolean(L, vz_method_post_mode(luaL_checkstring(L, 1), lua_toboolean(L, 2)));
  return 1;
}

/* core.check_seconds(v, zero_ok) -> boolean: v is a number of seconds in
 * the module's range (see VZ_MAX_SECONDS). */
static int l_check_seconds(lua_State *L) {
  lua_pushboolean(L, lua_type(L, 1) == LUA_TNUMBER && vz_seconds_ok((double)lua_tonumber(L, 1), lua_toboolean(L, 2)));
  return 1;
}

/* core.check_header(name, value) -> nil | why */
static int l_check_header(lua_State *L) {
  size_t kn, vn;
  const char *k = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &kn) : NULL;
  const char *v = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &vn) : NULL;
  if (k == NULL || !vz_header_name_ok(k, kn)) {
    lua_pushliteral(L, "invalid header name");
  } else if (v == NULL) {
    lua_pushliteral(L, "header values must be strings");
  } else if (!vz_header_value_ok(v, vn)) {
    lua_pushliteral(L, "header value contains a control character");
  } else {
    return 0;
  }
  return 1;
}

/* core.same_secret(given, expected) -> boolean: the two strings are equal,
 * in a time that depends on the length of `expected` only, never on where
 * `given` first differs (a webhook key compared byte by byte would tell an
 * attacker, through the answer's timing, how much of a guess was right). */
static int l_same_secret(lua_State *L) {
  size_t gn = 0, en = 0, i;
  const unsigned char *g = (const unsigned char *)(lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &gn) : NULL);
  const unsigned char *e = (const unsigned char *)luaL_checklstring(L, 2, &en);
  volatile unsigned char diff = (unsigned char)(g == NULL || gn != en);
  for (i = 0; i < en; i++) diff |= (unsigned char)(e[i] ^ (gn > 0 ? g[i % gn] : 0));
  lua_pushboolean(L, diff == 0);
  return 1;
}

void vz_policy_register(lua_State *L) {
  int core = lua_gettop(L), i;
  lua_pushinteger(L, VZ_MAX_TOKEN);
  lua_setfield(L, core, "MAX_TOKEN");
  lua_pushnumber(L, VZ_MAX_WHOLE);
  lua_setfield(L, core, "MAX_WHOLE");
  lua_newtable(L);
  for (i = 0; SAFE_METHODS[i] != NULL; i++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, SAFE_METHODS[i]);
  }
  lua_setfield(L, core, "SAFE_METHODS");
  lua_pushcfunction(L, l_post_mode);
  lua_setfield(L, core, "post_mode");
  lua_pushcfunction(L, l_check_seconds);
  lua_setfield(L, core, "check_seconds");
  lua_pushcfunction(L, l_check_header);
  lua_setfield(L, core, "check_header");
  lua_pushcfunction(L, l_token_problem);
  lua_setfield(L, core, "token_problem");
  lua_pushcfunction(L, l_same_secret);
  lua_setfield(L, core, "same_secret");
}
