/* client.h: the vzaps.client userdata (client.c). */
#ifndef VZ_CLIENT_H
#define VZ_CLIENT_H

#include "buffer.h"
#include "compat.h"
#include "headers.h"
#include "transport.h"

#define VZ_CLIENT_MT "vzaps.client"

/* The C side of a client: one libcurl easy handle reused for every call. */
typedef struct vz_client {
  CURL *curl; /* the sequential transfer's handle (== rest.curl); NULL once closed */
  vz_xfer rest;
  vz_share *share; /* the connection cache of rest and the jobs' slots, from the first job on (vz_client_share) */
  vz_buf enc;      /* core.json_encode's buffer, reused across calls */
  vz_buf url;      /* the URL the mapper built for the current call */
  vz_buf body;     /* ... and its body */
  char *base_url;
  char *realtime_url; /* the realtime base URL, no trailing '/' (core.realtime_url) */
  long timeout_ms;
  long connect_timeout_ms;
  int ssl_verify;
  char *ca_file, *ca_path, *proxy; /* NULL when not set */
  char *user_agent, *client_token;
  /* The cached JWT (set by the Lua layer's token cache, core.set_token):
   * "Bearer <jwt>", its expiry on core.now's clock, and a generation that
   * changes with it so header lists built from an old token are dropped. */
  char *token, *auth_line;
  double token_expires;
  unsigned long token_gen;
  /* What makes every call of this client go through the Lua layer
   * (direct_call.c, why_not_from_c): set when the client is made. */
  int has_transport, has_observe, direct_off;
  int has_engine;       /* the Lua layer made the client's job scheduler (core.engine_made): read its live jobs */
  int busy;             /* a call is mapping or sending on this client (vz_client_run_guarded) */
  unsigned json_budget; /* the decode budget of its answers (json.h; 0: the default) */
} vz_client;

vz_client *vz_client_check(lua_State *L, int idx);
/* The client at idx, closed or not, checked against the vzaps.client
 * metatable at stack index mt (a C function's upvalue): cheaper than
 * luaL_checkudata's registry lookup by name, which gives the error. */
vz_client *vz_client_at(lua_State *L, int idx, int mt);
/* Wipes and frees *s (a token or secret), then sets it to NULL. */
void vz_client_forget_secret(char **s);
/* Calls the function at stack index 1 with the values above it, with c
 * marked busy until it returns or raises: a call made on c meanwhile (from
 * a metamethod of an argument or a finalizer) raises instead of sharing c's
 * URL, body and response buffers. Returns the number of results; raises
 * the function's error again. */
int vz_client_run_guarded(lua_State *L, vz_client *c);
/* Who the client is on the wire (headers.h). */
vz_ident vz_client_ident(const vz_client *c);
/* The client's connection cache, made when its first jobs need transfer
 * slots: from then on its own handle shares it with them (a blocking call
 * alone pays nothing for it). NULL when out of memory. */
vz_share *vz_client_share(vz_client *c);
/* Its connection settings (transport.h). */
vz_conn vz_client_conn(const vz_client *c);
/* Applies the client's connection settings to an easy handle. */
void vz_client_apply_settings(const vz_client *c, CURL *h);
/* vzaps.client, core.new_client and the client's C functions (core.send,
 * core.headers, core.timings, ...). */
void vz_client_register(lua_State *L);

#endif
