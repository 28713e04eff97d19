/* vzaps.h: types and functions shared by the C files of the module. */
#ifndef VZ_VZAPS_H
#define VZ_VZAPS_H

#include <curl/curl.h>

#include "buffer.h"
#include "compat.h"
#include "json.h"

#define VZ_VERSION "0.1.0"
#define VZ_CLIENT_MT "vzaps.client"

#if defined(_WIN32)
#define VZ_EXPORT __declspec(dllexport)
#else
#define VZ_EXPORT __attribute__((visibility("default")))
#endif

/* The longest time in seconds any option or argument may give: one year.
 * policy.c applies it; the Lua layer reads it as core.MAX_SECONDS. */
#define VZ_MAX_SECONDS 31536000.0
/* Longest "Name: value" header line accepted. */
#define VZ_MAX_HEADER_LINE 8192

/* Response bodies larger than this are refused (lua-api.md, Reliability). */
#define VZ_MAX_BODY ((size_t)64 * 1024 * 1024)
/* A reused response buffer that grew past this is freed after the call, so a
 * single huge answer does not pin its memory for the client's lifetime. */
#define VZ_KEEP_BUFFER ((size_t)1024 * 1024)

/* What the libcurl transport remembers of one response. */
typedef struct vz_response {
  vz_buf body;
  long status;
  char reason[64];      /* reason phrase of the last status line */
  char retry_after[64]; /* raw Retry-After header value */
  char request_id[128]; /* raw X-Request-Id header value */
  int too_large;        /* the body passed VZ_MAX_BODY */
  int headers_done;     /* the blank line that ends the headers arrived */
} vz_response;

/* What the header list on a transfer slot was built from (headers.c). */
typedef struct vz_header_key {
  int valid;
  unsigned long token_gen;
  int auth, has_body, post_mode;
  char *itoken; /* instance token, or NULL */
  size_t itoken_len;
} vz_header_key;

/* One transfer slot: an easy handle and what it keeps of one exchange. The
 * client has one for its sequential calls; client:parallel has a pool. */
typedef struct vz_xfer {
  CURL *curl;
  vz_response res;
  vz_buf req_body;            /* the request body, owned while in flight */
  struct curl_slist *headers; /* the header list set on the handle */
  vz_header_key hkey;         /* ... and what it was built from */
  vz_json_hints hints;        /* table sizes of the last answer, for the next decode */
  char *url;                  /* the URL set on the handle (set again only when it changes) */
  long timeout_ms;            /* the timeout set on the handle */
  char method[16];            /* the method set on the handle ... */
  int method_set;             /* ... when this is non-zero */
  const char *body_set;       /* the body pointer and length set on it */
  size_t bodylen_set;
  int prereq_calls; /* times libcurl was about to send the current request */
  int guard_resend; /* the current request must not be sent twice */
  char errbuf[CURL_ERROR_SIZE];
} vz_xfer;

/* The C side of a client: one libcurl easy handle reused for every call. */
typedef struct vz_client {
  CURL *curl; /* the sequential transfer's handle (== rest.curl); NULL once closed */
  vz_xfer rest;
  vz_buf enc; /* core.json_encode's buffer, reused across calls */
  vz_buf url; /* the URL the mapper built for the current call */
  char *base_url;
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
  int fast_off;         /* calls are sent by the Lua layer (custom transport, parallel run, vzaps._direct = false) */
  int busy;             /* a call is mapping or sending on this client (vz_client_run_guarded) */
  unsigned json_budget; /* the decode budget of its answers (json.h; 0: the default) */
} vz_client;

/* One call's request, as the mapper (request.c) built it from the
 * arguments: sent from C (direct_call.c) or handed to the Lua layer as a
 * table (http.send). Stack indices are of the mapping C function. */
typedef struct vz_request {
  const char *method;
  char method_buf[16];
  size_t path_at, path_len;    /* the path inside c->url, without base or query (errors name it) */
  int has_body;                /* the JSON or caller body is in c->rest.req_body */
  int auth;                    /* a JWT is needed (not for no_auth requests) */
  int itoken;                  /* stack index of the instance token string, or 0 */
  int headers;                 /* stack index of the checked caller headers, or 0 */
  int timeout;                 /* stack index of the timeout in seconds, or 0 */
  const char *resource, *name; /* the operation, e.g. "messages", "send_text" */
  /* A media value above WhatsApp's limit for its field: the call is not
   * sent, http.send returns the `media` failure (field NULL: none). */
  const char *refuse_field, *refuse_kind;
  size_t refuse_size, refuse_limit;
} vz_request;

/* The headers of one call (headers.c): the module's own, then the caller's
 * (a Lua table at stack index extra, or 0). */
typedef struct vz_call_headers {
  int auth;                   /* send Authorization and X-Client-Token */
  int has_body;               /* send Content-Type: application/json */
  const char *instance_token; /* or NULL */
  size_t instance_token_len;
  int extra;
} vz_call_headers;

/* client.c */
vz_client *vz_client_check(lua_State *L, int idx);
/* Wipes and frees *s (a token or secret), then sets it to NULL. */
void vz_client_forget_secret(char **s);
void vz_client_register(lua_State *L);
/* Calls the function at stack index 1 with the values above it, with c
 * marked busy until it returns or raises: a call made on c meanwhile (from
 * a metamethod of an argument or a finalizer) raises instead of sharing c's
 * URL, body and response buffers. Returns the number of results; raises
 * the function's error again. */
int vz_client_run_guarded(lua_State *L, vz_client *c);
/* Applies the client's TLS, proxy and connect-timeout settings to an easy
 * handle, so every connection of a client (REST and realtime) uses them. */
void vz_client_apply_settings(const vz_client *c, CURL *h);

/* headers.c */
/* Raises on a header table that could not go on the wire (policy.c). */
void vz_headers_check_table(lua_State *L, int idx);
/* Raises on caller headers that could not go on the wire. */
void vz_call_headers_check(lua_State *L, const vz_call_headers *r);
/* Puts the call's header list on x's handle (reusing the current one when
 * it was built from the same headers). 0 when out of memory. */
int vz_call_headers_apply(lua_State *L, vz_xfer *x, const vz_client *c, const vz_call_headers *r, int post_mode);
void vz_header_key_free(vz_header_key *k);
int vz_headers_table(lua_State *L); /* core.headers */

/* transport.c: one exchange on a transfer slot. */
int vz_transport_perform(lua_State *L); /* core.perform */
int vz_transport_timings(lua_State *L); /* core.timings */
void vz_xfer_push_timings(lua_State *L, vz_xfer *x);
/* Creates x's easy handle with the client's settings. 0, or -1 on OOM. */
int vz_xfer_open(vz_xfer *x, const vz_client *c);
void vz_xfer_close(vz_xfer *x);
/* Sets up x for the request whose method, url, body|nil, timeout|nil,
 * auth, instance_token|nil and caller headers|nil are at stack indices
 * first..first+6; c gives the client's headers and token. Raises only
 * before anything is allocated. */
void vz_xfer_prepare(lua_State *L, vz_xfer *x, const vz_client *c, int first, long default_timeout_ms);
/* The C side of prepare: the request body (len bytes, or NULL) is already
 * in x->req_body. Returns 0 when out of memory. */
int vz_xfer_setup(lua_State *L, vz_xfer *x, const vz_client *c, const char *method, const char *url, int has_body,
                  long timeout_ms, const vz_call_headers *h);
/* After the transfer ended with rc: pushes status, body, reason,
 * retry_after, request_id or nil, kind, message, sent. Returns the number
 * pushed. The request body is left in x->req_body for the caller to reset. */
int vz_xfer_finish(lua_State *L, vz_xfer *x, CURLcode rc);
int vz_curl_is_tls_error(CURLcode rc);
/* The success value of a 2xx body (true, the decoded JSON, or the text). */
int vz_push_success_body(lua_State *L, const char *data, size_t len, int array_mt, vz_json_hints *hints, int strcache);
int vz_success_body(lua_State *L); /* core.success_body */

/* policy.c: each rule that several parts apply, once. */
int vz_seconds_ok(double s, int zero_ok); /* (0 or more | more than 0), at most VZ_MAX_SECONDS */
long vz_seconds_to_ms(double s);
int vz_method_is_safe(const char *m);                 /* may be sent again */
int vz_method_post_mode(const char *m, int has_body); /* goes in libcurl's POST mode */
int vz_header_name_ok(const char *s, size_t n);
int vz_header_value_ok(const char *s, size_t n);
/* The largest whole number a field (page, size, delay...) takes: 2^53, the
 * last one every Lua (doubles included) holds exactly. request.c applies
 * it; the paging iterators read it as core.MAX_WHOLE. */
#define VZ_MAX_WHOLE 9007199254740992.0
/* The longest token (credential, JWT, instance token) that goes in a
 * header: its header line stays well inside VZ_MAX_HEADER_LINE. */
#define VZ_MAX_TOKEN 4096
enum { VZ_TOKEN_BLANK = 1, VZ_TOKEN_CONTROL = 2, VZ_TOKEN_LONG = 3 };
int vz_token_problem(const char *s, size_t n); /* 0, or VZ_TOKEN_BLANK, _CONTROL, _LONG */
int vz_token_ok(const char *s, size_t n);      /* one line, not blank */
void vz_policy_register(lua_State *L);

/* url.c: escaping, number text, query strings (contract §3). */
/* Appends s[0..n) to b escaped (RFC 3986 unreserved bytes kept, the rest
 * %XX). 0, or -1 when out of memory. */
int vz_url_escape(vz_buf *b, const char *s, size_t n);
/* As vz_url_escape, and "." / ".." as a whole segment become %2E / %2E%2E. */
int vz_url_segment(vz_buf *b, const char *s, size_t n);
/* Why a raw path (inserted unescaped) cannot go on the wire, or NULL. */
const char *vz_url_raw_path_problem(const char *s, size_t n);
int vz_number_text(lua_State *L, int idx, char *out, size_t outsz);
const char *vz_segment_text(lua_State *L, int idx, size_t *n, char *num, size_t numsz);
const char *vz_query_append(lua_State *L, const char *const *keys, const size_t *klens, const int *vals, int n,
                            vz_buf *out, int *bad);
int vz_query_table(lua_State *L, int t, vz_buf *out, const char **why);
void vz_url_register(lua_State *L);

/* args.c: argument errors with the user's line in front. */
void vz_push_caller_position(lua_State *L);
int vz_raise(lua_State *L, const char *fmt, ...);
int vz_argerror(lua_State *L, int n, const char *name, const char *fmt, ...);
void vz_args_register(lua_State *L);

/* request.c: the mapper, arguments -> vz_request; raises on bad arguments,
 * before anything is sent. */
struct vz_route;
void vz_map_endpoint(lua_State *L, vz_client *c, const struct vz_route *r, int scope, int first, vz_request *q);
void vz_map_generic(lua_State *L, vz_client *c, int first, vz_request *q);
/* Pushes q as the Lua layer's request table (http.send). */
void vz_push_request(lua_State *L, vz_client *c, const vz_request *q);

/* direct_call.c: core.caller; route.c: core.route. */
void vz_direct_register(lua_State *L);

/* multi.c: client:parallel's curl multi handle (core.multi_new). */
void vz_multi_register(lua_State *L);

/* ws.c: the realtime WebSocket (vzaps.WebSocket, core.ws_connect). */
void vz_ws_register(lua_State *L);

/* media.c: vzaps.file / vzaps.bytes values (core.media_file, core.media_bytes),
 * sent as "data:<mime>;base64,..." strings by the JSON encoder. */
#define VZ_MEDIA_MT "vzaps.media"
/* The largest file or data a media value takes: WhatsApp's document limit
 * (README "Media from local files"). */
#define VZ_MEDIA_MAX_BYTES ((size_t)100 * 1024 * 1024)
int vz_media_is(lua_State *L, int idx);
/* The size in bytes of the media value at idx, 0 for any other value. */
size_t vz_media_size(lua_State *L, int idx);
/* Appends the value at idx as a JSON string, "data:<mime>;base64,...", to
 * out: a file is read in chunks straight into out, reserved once at the
 * exact size. 1, or 0 with a message in err (the file cannot be read any
 * more, or changed). Never raises. */
int vz_media_encode(lua_State *L, int idx, vz_buf *out, char *err, size_t errsz);
/* Pushes the base name of a file's media value and returns 1; 0 (nothing
 * pushed) for anything else. */
int vz_media_push_name(lua_State *L, int idx);
void vz_media_register(lua_State *L);

/* core.c: shared helpers registered on the core table. */
/* Monotonic seconds, immune to wall-clock changes: the one clock of token
 * expiry (core.now in Lua, the fast path in C), timeouts and deadlines. */
double vz_now(void);
void vz_core_register(lua_State *L);

/* Stack index of the JSON array metatable: every core function carries it as
 * upvalue 1, and the decoder's string cache as upvalue 2. */
#define VZ_ARRAY_MT lua_upvalueindex(1)
#define VZ_STRCACHE lua_upvalueindex(2)

#endif
