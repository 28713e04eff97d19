/* headers.h: the headers of a call (headers.c, contract §2.3). */
#ifndef VZ_HEADERS_H
#define VZ_HEADERS_H

#include <curl/curl.h>

#include "compat.h"

/* Who the client is on the wire: its strings and current JWT (the
 * client's, vz_client_ident). */
typedef struct vz_ident {
  const char *user_agent, *client_token; /* NULL when not set */
  const char *auth_line;                 /* "Bearer <jwt>", or NULL without a token */
  unsigned long token_gen;               /* changes with the token */
} vz_ident;

/* The headers of one call (headers.c): the module's own, then the caller's
 * (a Lua table at stack index extra, or 0). */
typedef struct vz_call_headers {
  int auth;                   /* send Authorization and X-Client-Token */
  int has_body;               /* send Content-Type: application/json */
  int upgrade;                /* the realtime handshake: no Accept */
  const char *instance_token; /* or NULL */
  size_t instance_token_len;
  int extra;
} vz_call_headers;

/* What the header list on a transfer slot was built from (headers.c). */
typedef struct vz_header_key {
  int valid;
  unsigned long token_gen;
  int auth, has_body, post_mode;
  char *itoken; /* instance token, or NULL */
  size_t itoken_len;
} vz_header_key;

/* Raises on a header table that could not go on the wire (policy.c). */
void vz_headers_check_table(lua_State *L, int idx);
/* The call's header list for a handle: *list is replaced (reused when key
 * says it was built from the same headers). 0 when out of memory. */
int vz_call_headers_list(lua_State *L, struct curl_slist **list, vz_header_key *key, const vz_ident *id,
                         const vz_call_headers *r, int post_mode);
/* Pushes a fresh table of the call's headers. */
void vz_call_headers_push(lua_State *L, const vz_ident *id, const vz_call_headers *r);
void vz_header_key_free(vz_header_key *k);
/* Frees a header list after wiping its lines (they may hold secrets). */
void vz_slist_free_wiped(struct curl_slist *l);

#endif
