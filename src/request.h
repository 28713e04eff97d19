/* request.h: the mapper (request.c): arguments -> vz_request; raises on
 * bad arguments, before anything is sent. */
#ifndef VZ_REQUEST_H
#define VZ_REQUEST_H

#include "client.h"

/* One call's request, as the mapper (request.c) built it from the
 * arguments into c->url and c->body: sent from C (direct_call.c) or handed
 * to the Lua layer as a request object (request_object.c). Stack indices
 * are of the mapping C function. */
typedef struct vz_request {
  const char *method;
  char method_buf[16];
  size_t path_at, path_len;    /* the path inside c->url, without base or query (errors name it) */
  int has_body;                /* the JSON or caller body is in c->body */
  int auth;                    /* a JWT is needed (not for no_auth requests) */
  int itoken;                  /* stack index of the instance token string, or 0 */
  int headers;                 /* stack index of the checked caller headers, or 0 */
  int timeout;                 /* stack index of the timeout in seconds, or 0 */
  const char *resource, *name; /* the operation, e.g. "messages", "send_text" */
  /* A media value above WhatsApp's limit for its field: the call is not
   * sent, http.send returns the `media` failure (field NULL: none). */
  const char *refuse_field, *refuse_kind;
  size_t refuse_size, refuse_limit;
  /* A media file that could not be read when the body was built (its code,
   * e.g. MEDIA_CHANGED, and message): refused the same way (code NULL: none). */
  const char *refuse_code;
  char refuse_msg[200];
} vz_request;

struct vz_route;
void vz_map_endpoint(lua_State *L, vz_client *c, const struct vz_route *r, int scope, int first, vz_request *q);
void vz_map_generic(lua_State *L, vz_client *c, int first, vz_request *q);
/* Pushes q as a request object (request_object.c) for the Lua layer. */
void vz_push_request(lua_State *L, vz_client *c, const vz_request *q);
/* out = the client's base URL + path; *path_at, *path_len: where the path
 * is. 0, or -1 when out of memory. */
int vz_url_of(const vz_client *c, const char *path, vz_buf *out, size_t *path_at, size_t *path_len);

/* core.token_request and core.realtime_url. */
void vz_request_register(lua_State *L);

#endif
