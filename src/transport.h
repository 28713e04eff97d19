/* transport.h: one HTTP exchange on a transfer slot (transport.c). */
#ifndef VZ_TRANSPORT_H
#define VZ_TRANSPORT_H

#include <curl/curl.h>

#include "buffer.h"
#include "compat.h"
#include "headers.h"
#include "json.h"

/* Response bodies larger than this are refused, by every transport (the
 * Lua layer reads core.MAX_BODY and core.MAX_BODY_TEXT). */
#define VZ_MAX_BODY ((size_t)64 * 1024 * 1024)
#define VZ_MAX_BODY_TEXT "response body exceeds the 64 MiB limit"
/* A request not safe to repeat whose connection died after it was sent. */
#define VZ_NOT_RESENT_TEXT                                              \
  "the connection closed after the request was sent; it may have been " \
  "received, so it was not sent again"
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

/* One transfer slot: an easy handle and what it keeps of one exchange. The
 * client has one for its sequential calls; client:parallel has a pool. */
typedef struct vz_xfer {
  CURL *curl;
  vz_response res;
  struct curl_slist *headers; /* the header list set on the handle */
  vz_header_key hkey;         /* ... and what it was built from */
  vz_json_hints hints;        /* table sizes of the last answer, for the next decode */
  char *url;                  /* the URL set on the handle (set again only when it changes) */
  long timeout_ms;            /* the timeout set on the handle */
  long connect_timeout_ms;    /* ... and its connect timeout (the client's) */
  char method[16];            /* the method set on the handle ... */
  int method_set;             /* ... when this is non-zero */
  int post_mode_set;          /* the POST mode it was set in */
  const char *body_set;       /* the body pointer and length set on it */
  size_t bodylen_set;
  int prereq_calls;      /* times libcurl was about to send the current request */
  int guard_resend;      /* the current request must not be sent twice */
  int post_mode;         /* ... and goes in libcurl's POST mode (policy.h) */
  char rules_method[16]; /* the method and body presence guard_resend and */
  int rules_body;        /* post_mode were worked out for (-1: none yet) */
  int pipewait;          /* set CURLOPT_PIPEWAIT for https URLs (vz_xfer_join) */
  char errbuf[CURL_ERROR_SIZE];
} vz_xfer;

/* One connection cache for all the transfer slots of a client: its own
 * easy handle and its jobs' multi handle, so that concurrent HTTP/2
 * transfers share a connection. Each owner of slots holds a reference and
 * drops it after closing them; the last one frees the cache. */
typedef struct vz_share {
  CURLSH *sh;
  int refs;
} vz_share;

/* A new cache with one reference, or NULL when out of memory. */
vz_share *vz_share_new(void);
void vz_share_ref(vz_share *s);
void vz_share_unref(vz_share *s);

/* How a client connects (its settings), for every handle it makes. */
typedef struct vz_conn {
  long connect_timeout_ms;
  int ssl_verify;
  const char *ca_file, *ca_path, *proxy; /* NULL when not set */
  vz_share *share;                       /* a connection cache for the transfer slots (vz_xfer_join), or NULL */
  unsigned json_budget;                  /* the decode budget of the answers (json.h; 0: the default) */
} vz_conn;

/* Applies the connection settings to an easy handle, so every connection
 * of a client (REST and realtime) uses them. */
void vz_conn_apply(const vz_conn *s, CURL *h);
/* libcurl's timings of x's last transfer, in seconds, pushed as five
 * values: name_lookup, connect, tls, first_byte, total (observe.lua names
 * them in the hook's table); returns 5. */
int vz_xfer_push_timing_values(lua_State *L, vz_xfer *x);
/* Creates x's easy handle with the connection settings. 0, or -1 on OOM. */
int vz_xfer_open(vz_xfer *x, const vz_conn *s);
void vz_xfer_close(vz_xfer *x);
/* Makes x use the connection cache s (one for the client's slots, so
 * concurrent HTTP/2 transfers share a connection); with pipewait, an https
 * transfer waits for a connection that can multiplex rather than opening
 * its own (the jobs' slots: the client's own handle has no one to wait for). */
void vz_xfer_join(vz_xfer *x, vz_share *s, int pipewait);
/* Sets x up for one request: body (NULL for none) must stay valid until
 * the transfer ends. Returns 0 when out of memory. */
int vz_xfer_setup(lua_State *L, vz_xfer *x, const vz_ident *id, const char *method, const char *url, const char *body,
                  size_t bodylen, long timeout_ms, const vz_call_headers *h);
/* The same for the request object r at idx (request_object.c; the caller
 * checked it), which must stay alive until the transfer ends. */
struct vz_req;
int vz_xfer_setup_req(lua_State *L, vz_xfer *x, const vz_ident *id, const struct vz_req *r, int idx,
                      long default_timeout_ms);
/* After the transfer ended with rc, pushes its outcome, the one shape of
 * every transport, as three values: the 2xx value, the status and the
 * request id or nil (returns 1), or nil, a table {status, body, reason,
 * retry_after, request_id} for any other answer or {kind, message, sent}
 * when there was none, and nil (returns 0). */
int vz_xfer_finish(lua_State *L, vz_xfer *x, CURLcode rc);
/* Pushes the outcome table of an exchange without an answer. */
void vz_push_failure(lua_State *L, const char *kind, const char *detail, int sent);
/* ... for a timeout: after the budget that ran out (seconds: the request's
 * timeout, connect: the connect timeout, 0 if none), chosen by sent. */
void vz_push_timeout_failure(lua_State *L, double seconds, double connect, int sent);
/* Pushes the one wording of a timeout (module-wide): "<what> timed out
 * after <seconds> s", then waiting ("waiting for ...") when not NULL, then,
 * for a request, whether it may have been received (sent 1 or -1: unknown)
 * or was not sent (0); sent VZ_NO_SENT: no such clause. */
#define VZ_NO_SENT (-2)
/* The budget a timed-out request ran out of: the whole timeout once it was
 * sent, else the connect phase's, min(connect, timeout) (connect 0: none),
 * as libcurl's connect timeout and ngx_transport's both work. */
double vz_timeout_budget(double timeout, double connect, int sent);
void vz_push_timeout_text(lua_State *L, const char *what, double seconds, const char *waiting, int sent);
int vz_curl_is_tls_error(CURLcode rc);
/* The success value of a 2xx body (true, the decoded JSON, or the text). */
/* Returns 0, with the message pushed instead, when the JSON is over the
 * decode budget (hints->budget). */
int vz_push_success_body(lua_State *L, const char *data, size_t len, int array_mt, vz_json_hints *hints, int strcache);
int vz_success_body(lua_State *L); /* core.success_body */
void vz_transport_register(lua_State *L);

#endif
