/* transport.c: one HTTP exchange over the client's libcurl easy handle.
 *
 * libcurl only ever calls back into C here (the write, header and pre-request
 * callbacks fill the client's buffers), so no Lua error can unwind through
 * libcurl. The response body is decoded straight from libcurl's buffer. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

/* Longest "Name: value" line accepted; longer ones raise before sending. */
#define VZ_MAX_HEADER_LINE 8192
#include "vzaps.h"

/* ------------------------------------------------------------------------ */
/* libcurl callbacks                                                         */
/* ------------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  vz_xfer *x = (vz_xfer *)ud;
  size_t n = size * nmemb;
  if (n > VZ_MAX_BODY - x->res.body.len) {
    x->res.too_large = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (vz_buf_append(&x->res.body, p, n) != 0) return 0;
  return n;
}

/* Copies a header value, trimmed, cut to fit dst. */
static void copy_value(char *dst, size_t dstsz, const char *v, size_t n) {
  while (n && (*v == ' ' || *v == '\t')) v++, n--;
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  if (n >= dstsz) n = dstsz - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

static int header_is(const char *line, size_t n, const char *name, size_t namelen) {
  return n > namelen && line[namelen] == ':' && strncasecmp(line, name, namelen) == 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud) {
  vz_response *r = &((vz_xfer *)ud)->res;
  size_t n = size * nmemb;
  if (n <= 2 && (line[0] == '\r' || line[0] == '\n')) {
    r->headers_done = 1; /* the blank line after the headers (of this response) */
  } else if (n > 5 && memcmp(line, "HTTP/", 5) == 0) {
    /* A new status line (after 100 Continue, say): forget the previous one. */
    const char *sp = memchr(line, ' ', n), *reason;
    r->reason[0] = r->retry_after[0] = r->request_id[0] = '\0';
    r->headers_done = 0;
    if (sp != NULL && (size_t)(sp - line) + 5 <= n) {
      reason = sp + 4; /* skip " 200" */
      copy_value(r->reason, sizeof r->reason, reason, n - (size_t)(reason - line));
    }
  } else if (header_is(line, n, "retry-after", 11)) {
    copy_value(r->retry_after, sizeof r->retry_after, line + 12, n - 12);
  } else if (header_is(line, n, "x-request-id", 12)) {
    copy_value(r->request_id, sizeof r->request_id, line + 13, n - 13);
  }
  return n;
}

/* Called by libcurl each time it is about to send the request on a
 * connection. A second call within one perform is libcurl's silent resend
 * after a reused keep-alive connection died: for a request that is not safe
 * to repeat it may already have been received, so refuse it. */
static int on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port, int conn_local_port) {
  vz_xfer *x = (vz_xfer *)ud;
  (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
  x->prereq_calls++;
  if (x->prereq_calls > 1 && x->guard_resend) return CURL_PREREQFUNC_ABORT;
  return CURL_PREREQFUNC_OK;
}

/* Options set once per handle; per-request ones are set in prepare. */
int vz_xfer_open(vz_xfer *x, const vz_client *c) {
  CURL *h;
  memset(x, 0, sizeof *x);
  vz_buf_init(&x->res.body);
  vz_buf_init(&x->req_body);
  if ((h = x->curl = curl_easy_init()) == NULL) return -1;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
  curl_easy_setopt(h, CURLOPT_PRIVATE, x);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* never raise SIGALRM in the host */
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is the caller's business */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  /* Paths are built and escaped by the module (dot segments included):
   * libcurl must not squash "/./" or "/../" out of them. */
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  vz_client_apply_settings(c, h);
  return 0;
}

void vz_xfer_close(vz_xfer *x) {
  if (x->curl != NULL) curl_easy_cleanup(x->curl);
  x->curl = NULL;
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  free(x->url);
  x->url = NULL;
  vz_buf_free(&x->res.body);
  vz_buf_free(&x->req_body);
}

/* ------------------------------------------------------------------------ */
/* Request set-up                                                            */
/* ------------------------------------------------------------------------ */

static int method_is(const char *m, const char *name) { return strcmp(m, name) == 0; }

/* GET, HEAD, PUT, DELETE and OPTIONS are safe to send again (lua-api.md,
 * Reliability); everything else, POST and PATCH above all, is guarded. */
static int safe_to_resend(const char *m) {
  return method_is(m, "GET") || method_is(m, "HEAD") || method_is(m, "PUT") || method_is(m, "DELETE") ||
         method_is(m, "OPTIONS");
}

static void set_method(CURL *h, const char *m, const char *body, size_t bodylen) {
  curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
  if (method_is(m, "HEAD")) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
  } else if (body != NULL || method_is(m, "POST") || method_is(m, "PUT") || method_is(m, "PATCH")) {
    /* POST mode carries a body (or Content-Length: 0); the verb is swapped
     * in for PUT/PATCH/DELETE with a body. */
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? bodylen : 0));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_is(m, "POST") ? NULL : m);
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_is(m, "GET") ? NULL : m);
  }
}

static int has_line_break(lua_State *L, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL || memchr(s, '\0', n) != NULL;
}

/* Validates the headers table (string names and values) before anything is
 * allocated, so building the list below cannot raise half-way. */
static void check_headers(lua_State *L, int idx) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "vzaps: header names and values must be strings");
    if (vz_rawlen(L, -2) + vz_rawlen(L, -1) + 3 > VZ_MAX_HEADER_LINE)
      luaL_error(L, "vzaps: header '%s' is too long", lua_tostring(L, -2));
    /* The Lua layer checks caller values; this is the last line of defence
     * against header injection whatever the caller. */
    if (has_line_break(L, -2) || has_line_break(L, -1))
      luaL_error(L, "vzaps: header names and values must not contain CR, LF or NUL");
    lua_pop(L, 1);
  }
}

/* Builds the header list: the Lua layer's headers, then libcurl defaults
 * switched off (Expect: 100-continue round trip, form Content-Type). */
static struct curl_slist *build_headers(lua_State *L, int idx, int post_mode, int *ok) {
  struct curl_slist *list = NULL, *next;
  int has_ctype = 0;
  char line[VZ_MAX_HEADER_LINE];
  *ok = 1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t kn, vn;
    const char *k = lua_tolstring(L, -2, &kn), *v = lua_tolstring(L, -1, &vn);
    lua_pop(L, 1);
    if (vn == 0) continue; /* empty values are skipped (contract D18) */
    if (kn == 12 && strncasecmp(k, "content-type", 12) == 0) has_ctype = 1;
    memcpy(line, k, kn);
    memcpy(line + kn, ": ", 2);
    memcpy(line + kn + 2, v, vn + 1);
    if ((next = curl_slist_append(list, line)) == NULL) goto oom;
    list = next;
  }
  if ((next = curl_slist_append(list, "Expect:")) == NULL) goto oom;
  list = next;
  if (post_mode && !has_ctype) {
    if ((next = curl_slist_append(list, "Content-Type:")) == NULL) goto oom;
    list = next;
  }
  return list;
oom:
  curl_slist_free_all(list);
  *ok = 0;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

/* Whether a libcurl failure is about TLS (certificate, handshake): the
 * realtime client classifies its connection errors the same way. */
int vz_curl_is_tls_error(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT: return 1;
    default: return 0;
  }
}

/* nil, kind, message, sent */
static int push_failure(lua_State *L, vz_xfer *x, CURLcode rc) {
  const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
  int sent = x->prereq_calls > 0;
  lua_pushnil(L);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    lua_pushliteral(L, "timeout");
    lua_pushliteral(L, "VZaps request timed out");
  } else if (vz_curl_is_tls_error(rc)) {
    lua_pushliteral(L, "tls");
    lua_pushfstring(L, "VZaps TLS error: %s (check ca_file, or ssl_verify)", detail);
  } else if (rc == CURLE_WRITE_ERROR && x->res.too_large) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "VZaps response body exceeds the 64 MiB limit");
  } else if (rc == CURLE_ABORTED_BY_CALLBACK && x->prereq_calls > 1) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L,
                    "VZaps request failed: the connection closed after the request was sent; "
                    "it may have been received, so it was not sent again");
  } else {
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "VZaps request failed: %s", detail);
  }
  lua_pushboolean(L, sent);
  return 4;
}

static int push_cut_headers(lua_State *L, vz_xfer *x) {
  lua_pushnil(L);
  lua_pushliteral(L, "network");
  lua_pushliteral(L, "VZaps request failed: the connection closed inside the response headers");
  lua_pushboolean(L, x->prereq_calls > 0);
  return 4;
}

static void push_opt_string(lua_State *L, const char *s) {
  if (s[0])
    lua_pushstring(L, s);
  else
    lua_pushnil(L);
}

/* Pushes the success value of a 2xx body: true when empty, the decoded JSON,
 * or the text itself when it is not JSON (the action did happen). */
static void push_success_body(lua_State *L, vz_xfer *x, int array_mt) {
  const vz_buf *b = &x->res.body;
  const char *p = b->data, *end;
  char err[128];
  if (p == NULL) { /* nothing was ever received into this buffer */
    lua_pushboolean(L, 1);
    return;
  }
  end = p + b->len;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  if (p == end)
    lua_pushboolean(L, 1);
  else if (!vz_json_decode_hinted(L, b->data, b->len, array_mt, &x->hints, err, sizeof err))
    lua_pushlstring(L, b->data, b->len);
}

/* ------------------------------------------------------------------------ */
/* A transfer's life: prepare, (perform), finish                             */
/* ------------------------------------------------------------------------ */

void vz_xfer_prepare(lua_State *L, vz_xfer *x, int first, long default_timeout_ms) {
  const char *method = luaL_checkstring(L, first);
  const char *url = luaL_checkstring(L, first + 1);
  size_t bodylen = 0;
  const char *body = luaL_optlstring(L, first + 3, NULL, &bodylen);
  long timeout_ms = default_timeout_ms;
  lua_Integer headers_id = (lua_Integer)luaL_optnumber(L, first + 5, 0);
  int ok, post_mode;

  luaL_checktype(L, first + 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, first + 4)) {
    lua_Number s = luaL_checknumber(L, first + 4);
    luaL_argcheck(L, s > 0 && s < 86400.0 * 365, first + 4, "timeout must be a positive number of seconds");
    timeout_ms = (long)(s * 1000.0 + 0.5) > 0 ? (long)(s * 1000.0 + 0.5) : 1;
  }

  vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
  vz_buf_reset(&x->req_body, VZ_KEEP_BUFFER);
  x->res.too_large = x->res.headers_done = 0;
  x->res.reason[0] = x->res.retry_after[0] = x->res.request_id[0] = '\0';
  x->errbuf[0] = '\0';
  x->prereq_calls = 0;
  x->guard_resend = !safe_to_resend(method);
  /* The body is copied: a parallel transfer outlives the Lua call that
   * queued it, and libcurl may read the body again (a safe resend). */
  if (body != NULL && vz_buf_append(&x->req_body, body, bodylen) != 0) luaL_error(L, "vzaps: out of memory");

  post_mode = !method_is(method, "HEAD") &&
              (body != NULL || method_is(method, "POST") || method_is(method, "PUT") || method_is(method, "PATCH"));
  if (headers_id <= 0 || headers_id != x->headers_id || post_mode != x->headers_post || x->headers == NULL) {
    check_headers(L, first + 2);
    curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(x->headers);
    x->headers_id = 0;
    x->headers = build_headers(L, first + 2, post_mode, &ok);
    if (!ok) luaL_error(L, "vzaps: out of memory");
    x->headers_id = headers_id > 0 ? headers_id : 0;
    x->headers_post = post_mode;
    curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->headers);
  }

  /* libcurl copies the URL on every set: skip it when it is the same. */
  if (x->url == NULL || strcmp(x->url, url) != 0) {
    size_t n = strlen(url) + 1;
    char *copy = (char *)realloc(x->url, n);
    if (copy == NULL) luaL_error(L, "vzaps: out of memory");
    memcpy(copy, url, n);
    x->url = copy;
    curl_easy_setopt(x->curl, CURLOPT_URL, url);
  }
  set_method(x->curl, method, body != NULL ? (x->req_body.data ? x->req_body.data : "") : NULL, bodylen);
  if (timeout_ms != x->timeout_ms) {
    x->timeout_ms = timeout_ms;
    curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  }
}

int vz_xfer_finish(lua_State *L, vz_xfer *x, CURLcode rc) {
  long status = 0;
  int n;
  if (rc == CURLE_OK && !x->res.headers_done) {
    /* libcurl 7.88 accepts a response that ends inside its headers: the
     * answer is incomplete, so it is a failure, not an empty success. */
    n = push_cut_headers(L, x);
  } else if (rc != CURLE_OK) {
    n = push_failure(L, x, rc);
  } else {
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, (lua_Integer)status);
    if (status >= 200 && status < 300)
      push_success_body(L, x, vz_absindex(L, VZ_ARRAY_MT));
    else
      lua_pushlstring(L, x->res.body.data ? x->res.body.data : "", x->res.body.len);
    push_opt_string(L, x->res.reason);
    push_opt_string(L, x->res.retry_after);
    push_opt_string(L, x->res.request_id);
    n = 5;
  }
  vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
  vz_buf_reset(&x->req_body, VZ_KEEP_BUFFER);
  return n;
}

/* ------------------------------------------------------------------------ */
/* core.perform(client, method, url, headers, body|nil, timeout|nil, hid|nil)  */
/*   -> status, body, reason|nil, retry_after|nil, request_id|nil            */
/*   -> nil, kind, message, sent                                             */
/* body: the decoded 2xx value (see push_success_body), else the raw text.   */
/* ------------------------------------------------------------------------ */

int vz_transport_perform(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  vz_xfer_prepare(L, &c->rest, 2, c->timeout_ms);
  return vz_xfer_finish(L, &c->rest, curl_easy_perform(c->rest.curl));
}
