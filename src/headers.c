/* headers.c: the headers of an API call (contract §2.3), in one place for
 * both of their forms: libcurl's header list (the module's transport) and a
 * Lua table (a custom transport). The client's strings and token are held
 * in C (vz_client), so the common case builds nothing per call: the list
 * made for one (token, instance token, body or not) is kept on the transfer
 * slot until one of them changes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buffer.h"
#include "headers.h"
#include "policy.h"

typedef int (*emit_fn)(void *ctx, lua_State *L, const char *name, size_t nlen, const char *value, size_t vlen);

/* Whether the caller's headers (table at extra, or 0) name `name`, in any
 * case: a caller header replaces the module's header of that name (D18). */
static int overridden(lua_State *L, int extra, const char *name) {
  size_t n = strlen(name);
  int found = 0;
  if (extra == 0) return 0;
  lua_pushnil(L);
  while (!found && lua_next(L, extra)) {
    size_t kn;
    const char *k = lua_tolstring(L, -2, &kn);
    found = kn == n && strncasecmp(k, name, n) == 0;
    lua_pop(L, 1);
  }
  if (found) lua_pop(L, 1); /* the key lua_next left */
  return found;
}

static int std_header(void *ctx, emit_fn emit, lua_State *L, int extra, const char *name, const char *value,
                      size_t vlen) {
  if (value == NULL || vlen == 0 || overridden(L, extra, name)) return 1; /* empty values are skipped (D18) */
  return emit(ctx, L, name, strlen(name), value, vlen);
}

/* Emits the headers of r in order: the module's, then the caller's. */
static int emit_all(lua_State *L, const vz_ident *c, const vz_call_headers *r, emit_fn emit, void *ctx) {
  int extra = r->extra;
  /* The realtime upgrade asks for no JSON answer (contract §6.1). */
  if (!r->upgrade && !std_header(ctx, emit, L, extra, "Accept", "application/json", 16)) return 0;
  if (!std_header(ctx, emit, L, extra, "User-Agent", c->user_agent, c->user_agent ? strlen(c->user_agent) : 0))
    return 0;
  if (r->has_body && !std_header(ctx, emit, L, extra, "Content-Type", "application/json", 16)) return 0;
  if (r->auth && c->auth_line != NULL) {
    if (!std_header(ctx, emit, L, extra, "Authorization", c->auth_line, strlen(c->auth_line))) return 0;
    if (!std_header(ctx, emit, L, extra, "X-Client-Token", c->client_token,
                    c->client_token ? strlen(c->client_token) : 0))
      return 0;
  }
  if (!std_header(ctx, emit, L, extra, "X-Instance-Token", r->instance_token, r->instance_token_len)) return 0;
  if (extra != 0) {
    lua_pushnil(L);
    while (lua_next(L, extra)) {
      size_t kn, vn;
      const char *k = lua_tolstring(L, -2, &kn), *v = lua_tolstring(L, -1, &vn);
      if (vn > 0 && !emit(ctx, L, k, kn, v, vn)) {
        lua_pop(L, 2);
        return 0;
      }
      lua_pop(L, 1);
    }
  }
  return 1;
}

/* ---- libcurl's list ----------------------------------------------------- */

typedef struct list_ctx {
  struct curl_slist *list;
  int has_ctype;
} list_ctx;

static int emit_line(void *ud, lua_State *L, const char *name, size_t nlen, const char *value, size_t vlen) {
  list_ctx *ctx = (list_ctx *)ud;
  char line[VZ_MAX_HEADER_LINE];
  struct curl_slist *next;
  (void)L;
  if (nlen + vlen + 3 > sizeof line) return 0; /* checked before building (caller headers) */
  if (nlen == 12 && strncasecmp(name, "content-type", 12) == 0) ctx->has_ctype = 1;
  memcpy(line, name, nlen);
  memcpy(line + nlen, ": ", 2);
  memcpy(line + nlen + 2, value, vlen);
  line[nlen + 2 + vlen] = '\0';
  next = curl_slist_append(ctx->list, line);
  vz_wipe(line, nlen + 2 + vlen); /* the line may hold a secret: not left on the stack */
  if (next == NULL) return 0;
  ctx->list = next;
  return 1;
}

/* Validates a table of headers with the one rule (policy.c) before
 * anything is allocated, so that building the list cannot fail half-way
 * except for memory. The mapper checks a call's own headers, with
 * argument errors; this guards the realtime handshake's (ws.c). */
void vz_headers_check_table(lua_State *L, int idx) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t kn, vn;
    const char *k, *v;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "vzaps: header names and values must be strings");
    k = lua_tolstring(L, -2, &kn);
    v = lua_tolstring(L, -1, &vn);
    if (kn + vn + 3 > VZ_MAX_HEADER_LINE) luaL_error(L, "vzaps: a header is too long");
    if (!vz_header_name_ok(k, kn) || !vz_header_value_ok(v, vn))
      luaL_error(L, "vzaps: invalid header name, or a control character in a header value");
    lua_pop(L, 1);
  }
}

/* A list from the same headers is kept: same token (generation), instance
 * token, auth, body and POST mode, and no caller headers. */
static int list_is_current(struct curl_slist *list, const vz_header_key *k, const vz_ident *c, const vz_call_headers *r,
                           int post_mode) {
  if (list == NULL || !k->valid || r->extra != 0) return 0;
  if (k->token_gen != c->token_gen || k->auth != r->auth || k->has_body != r->has_body || k->post_mode != post_mode)
    return 0;
  if (r->instance_token == NULL) return k->itoken == NULL;
  return k->itoken != NULL && k->itoken_len == r->instance_token_len &&
         memcmp(k->itoken, r->instance_token, r->instance_token_len) == 0;
}

int vz_call_headers_list(lua_State *L, struct curl_slist **list, vz_header_key *k, const vz_ident *c,
                         const vz_call_headers *r, int post_mode) {
  list_ctx ctx = {NULL, 0};
  struct curl_slist *next;
  if (list_is_current(*list, k, c, r, post_mode)) return 1;
  vz_slist_free_wiped(*list);
  *list = NULL;
  k->valid = 0;
  if (!emit_all(L, c, r, emit_line, &ctx)) goto oom;
  /* libcurl defaults switched off: the Expect: 100-continue round trip, and
   * a form Content-Type on a POST without a body. */
  if ((next = curl_slist_append(ctx.list, "Expect:")) == NULL) goto oom;
  ctx.list = next;
  if (post_mode && !ctx.has_ctype) {
    if ((next = curl_slist_append(ctx.list, "Content-Type:")) == NULL) goto oom;
    ctx.list = next;
  }
  *list = ctx.list;
  if (r->extra == 0) {
    char *copy = NULL;
    if (r->instance_token != NULL) {
      if ((copy = (char *)malloc(r->instance_token_len + 1)) == NULL) return 1; /* just not kept */
      memcpy(copy, r->instance_token, r->instance_token_len);
      copy[r->instance_token_len] = '\0';
    }
    if (k->itoken != NULL) vz_wipe(k->itoken, k->itoken_len);
    free(k->itoken);
    k->itoken = copy;
    k->itoken_len = r->instance_token_len;
    k->token_gen = c->token_gen;
    k->auth = r->auth;
    k->has_body = r->has_body;
    k->post_mode = post_mode;
    k->valid = 1;
  }
  return 1;
oom:
  vz_slist_free_wiped(ctx.list);
  return 0;
}

void vz_slist_free_wiped(struct curl_slist *l) {
  struct curl_slist *e;
  for (e = l; e != NULL; e = e->next)
    if (e->data != NULL) vz_wipe(e->data, strlen(e->data));
  curl_slist_free_all(l);
}

void vz_header_key_free(vz_header_key *k) {
  if (k->itoken != NULL) vz_wipe(k->itoken, k->itoken_len);
  free(k->itoken);
  k->itoken = NULL;
  k->valid = 0;
}

/* ---- a Lua table (custom transports) ------------------------------------ */

static int emit_field(void *ud, lua_State *L, const char *name, size_t nlen, const char *value, size_t vlen) {
  int t = *(int *)ud;
  lua_pushlstring(L, name, nlen);
  lua_pushlstring(L, value, vlen);
  lua_rawset(L, t);
  return 1;
}

void vz_call_headers_push(lua_State *L, const vz_ident *id, const vz_call_headers *r) {
  int t;
  lua_newtable(L);
  t = lua_gettop(L);
  emit_all(L, id, r, emit_field, &t);
}
