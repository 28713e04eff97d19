/* request_object.h: the request object (request_object.c), what every
 * transport sends. */
#ifndef VZ_REQUEST_OBJECT_H
#define VZ_REQUEST_OBJECT_H

#include "headers.h"

#define VZ_REQ_MT "vzaps.request"
/* The /token request's metatable: the same methods, and a finalizer that
 * wipes its body (the client secret). Other requests hold no copy of a
 * secret and have none: a finalizer costs each request about 1 000
 * instructions. */
#define VZ_REQ_SECRET_MT "vzaps.request.secret"

typedef struct vz_req {
  char method[16];
  int auth;        /* Authorization and X-Client-Token go with it */
  int has_body;    /* body[0..body_len) is the body (else no body) */
  int uv;          /* its user values: VZ_REQ_UV_HEADERS | VZ_REQ_UV_TOKEN (request_object.c) */
  int secret_body; /* the body carries the client secret (/token) */
  double timeout;  /* seconds, or 0 for the client's */
  char *url;       /* these point into the same block, after the struct */
  size_t url_len, path_at, path_len;
  char *body;
  size_t body_len;
  char *op; /* "messages.send_text" */
  /* A media value above WhatsApp's limit for its field: the call is not
   * sent, http.send returns the `media` failure (field NULL: none). */
  const char *refuse_field, *refuse_kind;
  size_t refuse_size, refuse_limit;
  const char *refuse_code; /* a media file unreadable at send time: code, message */
  char *refuse_msg;
} vz_req;

/* What a request object is made from (copied). */
typedef struct vz_req_parts {
  const char *method, *url, *body, *op; /* body: NULL for none */
  size_t url_len, path_at, path_len, body_len;
  int auth, secret_body;
  int headers; /* stack index of the checked caller headers, or 0 */
  int itoken;  /* stack index of the instance token (a string), or 0: kept, not copied */
  double timeout;
  const char *refuse_field, *refuse_kind;
  size_t refuse_size, refuse_limit;
  const char *refuse_code, *refuse_msg; /* static code; message copied (NULL: none) */
} vz_req_parts;

/* Pushes a new request object made from p. Raises only when out of memory. */
vz_req *vz_req_new(lua_State *L, const vz_req_parts *p);
vz_req *vz_req_check(lua_State *L, int idx);
/* The same, checked against the vzaps.request metatable at stack index mt
 * (a C function's upvalue), cheaper than vz_req_check's registry lookup by
 * name; raises vz_req_check's error when idx holds no request object. */
vz_req *vz_req_at(lua_State *L, int idx, int mt);
/* Pushes the caller's headers of the request at idx and returns their
 * stack index, or returns 0 (nothing pushed) when it has none. */
int vz_req_push_headers(lua_State *L, int idx, const vz_req *r);
/* The call's headers of the request at idx (may push its caller headers). */
void vz_req_call_headers(lua_State *L, int idx, const vz_req *r, vz_call_headers *h);
/* The vzaps.request metatable, and core.req_flags on the core table on
 * top of the stack. */
void vz_req_register(lua_State *L);

#endif
