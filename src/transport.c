/* transport.c: one HTTP exchange over the client's libcurl easy handle.
 *
 * libcurl only ever calls back into C here (the write, header and pre-request
 * callbacks fill the client's buffers), so no Lua error can unwind through
 * libcurl. The response body is decoded straight from libcurl's buffer. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

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
  x->hints.budget = c->json_budget;
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
  vz_header_key_free(&x->hkey);
  free(x->url);
  x->url = NULL;
  vz_buf_free(&x->res.body);
  vz_buf_free(&x->req_body);
}

/* ------------------------------------------------------------------------ */
/* Request set-up                                                            */
/* ------------------------------------------------------------------------ */

static void set_method(vz_xfer *x, const char *m, const char *body, size_t bodylen) {
  CURL *h = x->curl;
  /* The same method and body buffer as last time: nothing to set again
   * (libcurl reads the body from the buffer at perform time). */
  if (x->method_set && strcmp(x->method, m) == 0 && x->body_set == body && x->bodylen_set == bodylen) return;
  x->method_set = strlen(m) < sizeof x->method;
  if (x->method_set) memcpy(x->method, m, strlen(m) + 1);
  x->body_set = body;
  x->bodylen_set = bodylen;
  curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
  if (strcmp(m, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
  } else if (vz_method_post_mode(m, body != NULL)) {
    /* The verb is swapped in for PUT/PATCH/DELETE with a body. */
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? bodylen : 0));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(m, "POST") == 0 ? NULL : m);
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(m, "GET") == 0 ? NULL : m);
  }
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
    /* Before sending again, a caller must know the first one may count. */
    if (sent)
      lua_pushliteral(L, "request timed out after it was sent; it may have been received");
    else
      lua_pushliteral(L, "request timed out");
  } else if (vz_curl_is_tls_error(rc)) {
    lua_pushliteral(L, "tls");
    lua_pushfstring(L, "TLS error: %s (check ca_file, or ssl_verify)", detail);
  } else if (rc == CURLE_WRITE_ERROR && x->res.too_large) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "response body exceeds the 64 MiB limit");
  } else if (rc == CURLE_ABORTED_BY_CALLBACK && x->prereq_calls > 1) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L,
                    "request failed: the connection closed after the request was sent; "
                    "it may have been received, so it was not sent again");
  } else {
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "request failed: %s", detail);
  }
  lua_pushboolean(L, sent);
  return 4;
}

static int push_cut_headers(lua_State *L, vz_xfer *x) {
  lua_pushnil(L);
  lua_pushliteral(L, "network");
  lua_pushliteral(L, "request failed: the connection closed inside the response headers");
  lua_pushboolean(L, x->prereq_calls > 0);
  return 4;
}

static void push_opt_string(lua_State *L, const char *s) {
  if (s[0])
    lua_pushstring(L, s);
  else
    lua_pushnil(L);
}

/* The success value of a 2xx body, the one rule for every transport:
 * true when empty (or only white space), the decoded JSON, or the text
 * itself when it is not JSON (the action did happen). Returns 0 and pushes
 * the message instead when the JSON is over the decode budget (json.h): a
 * failure, not a text answer. */
int vz_push_success_body(lua_State *L, const char *data, size_t len, int array_mt, vz_json_hints *hints, int strcache) {
  const char *p = data, *end;
  char err[160];
  vz_json_hints none;
  if (data == NULL) { /* nothing was ever received into this buffer */
    lua_pushboolean(L, 1);
    return 1;
  }
  if (hints == NULL) {
    memset(&none, 0, sizeof none);
    hints = &none;
  }
  end = data + len;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  if (p == end)
    lua_pushboolean(L, 1);
  else if (!vz_json_decode_cached(L, data, len, array_mt, hints, strcache, err, sizeof err)) {
    if (hints->over_budget) {
      lua_pushstring(L, err);
      return 0;
    }
    lua_pushlstring(L, data, len);
  }
  return 1;
}

/* core.success_body(text [, budget]) -> value | nil, message: the same rule
 * for a custom transport's body. */
int vz_success_body(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  vz_json_hints h;
  memset(&h, 0, sizeof h);
  h.budget = vz_json_budget_arg(L, 2);
  if (vz_push_success_body(L, s, n, vz_absindex(L, VZ_ARRAY_MT), &h, 0)) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* ------------------------------------------------------------------------ */
/* A transfer's life: prepare, (perform), finish                             */
/* ------------------------------------------------------------------------ */

int vz_xfer_setup(lua_State *L, vz_xfer *x, const vz_client *c, const char *method, const char *url, int has_body,
                  long timeout_ms, const vz_call_headers *h) {
  vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
  x->res.too_large = x->res.headers_done = 0;
  x->res.reason[0] = x->res.retry_after[0] = x->res.request_id[0] = '\0';
  x->errbuf[0] = '\0';
  x->prereq_calls = 0;
  x->guard_resend = !vz_method_is_safe(method);
  if (!vz_call_headers_apply(L, x, c, h, vz_method_post_mode(method, has_body))) return 0;
  /* libcurl copies the URL on every set: skip it when it is the same. */
  if (x->url == NULL || strcmp(x->url, url) != 0) {
    size_t n = strlen(url) + 1;
    char *copy = (char *)realloc(x->url, n);
    if (copy == NULL) return 0;
    memcpy(copy, url, n);
    x->url = copy;
    curl_easy_setopt(x->curl, CURLOPT_URL, url);
  }
  set_method(x, method, has_body ? (x->req_body.data ? x->req_body.data : "") : NULL, x->req_body.len);
  if (timeout_ms != x->timeout_ms) {
    x->timeout_ms = timeout_ms;
    curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  }
  return 1;
}

void vz_xfer_prepare(lua_State *L, vz_xfer *x, const vz_client *c, int first, long default_timeout_ms) {
  const char *method = luaL_checkstring(L, first);
  const char *url = luaL_checkstring(L, first + 1);
  size_t bodylen = 0;
  const char *body = luaL_optlstring(L, first + 2, NULL, &bodylen);
  long timeout_ms = default_timeout_ms;
  vz_call_headers h;

  if (!lua_isnoneornil(L, first + 3)) {
    lua_Number s = luaL_checknumber(L, first + 3);
    luaL_argcheck(L, vz_seconds_ok((double)s, 0), first + 3, "timeout must be a positive number of seconds");
    timeout_ms = vz_seconds_to_ms((double)s);
  }
  h.auth = lua_toboolean(L, first + 4);
  h.has_body = body != NULL;
  h.instance_token = lua_isnoneornil(L, first + 5) ? NULL : luaL_checklstring(L, first + 5, &h.instance_token_len);
  if (h.instance_token == NULL) h.instance_token_len = 0;
  h.extra = lua_isnoneornil(L, first + 6) ? 0 : vz_absindex(L, first + 6);
  vz_call_headers_check(L, &h);

  /* The body is copied: a parallel transfer outlives the Lua call that
   * queued it, and libcurl may read the body again (a safe resend). */
  vz_buf_reset(&x->req_body, VZ_KEEP_BUFFER);
  if (body != NULL && vz_buf_append(&x->req_body, body, bodylen) != 0) luaL_error(L, "vzaps: out of memory");
  if (!vz_xfer_setup(L, x, c, method, url, body != NULL, timeout_ms, &h)) luaL_error(L, "vzaps: out of memory");
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
    if (status < 200 || status >= 300) {
      lua_pushlstring(L, x->res.body.data ? x->res.body.data : "", x->res.body.len);
    } else if (!vz_push_success_body(L, x->res.body.data, x->res.body.len, vz_absindex(L, VZ_ARRAY_MT), &x->hints,
                                     vz_absindex(L, VZ_STRCACHE))) {
      /* status, message -> nil, "network", message, sent: over the decode
       * budget, the answer is refused like one over the size cap. */
      lua_pushnil(L);
      lua_replace(L, -3);
      lua_pushliteral(L, "network");
      lua_insert(L, -2);
      lua_pushboolean(L, 1);
      vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
      return 4;
    }
    push_opt_string(L, x->res.reason);
    push_opt_string(L, x->res.retry_after);
    push_opt_string(L, x->res.request_id);
    n = 5;
  }
  /* The request body stays until the caller is done with it (the direct
   * path hands it to Lua after a non-2xx answer). */
  vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
  return n;
}

/* The timings of x's last transfer, in seconds (libcurl's, each from the
 * start): {name_lookup, connect, tls, first_byte, total}. */
void vz_xfer_push_timings(lua_State *L, vz_xfer *x) {
  static const struct {
    const char *name;
    CURLINFO info;
  } T[] = {{"name_lookup", CURLINFO_NAMELOOKUP_TIME_T},
           {"connect", CURLINFO_CONNECT_TIME_T},
           {"tls", CURLINFO_APPCONNECT_TIME_T},
           {"first_byte", CURLINFO_STARTTRANSFER_TIME_T},
           {"total", CURLINFO_TOTAL_TIME_T}};
  size_t i;
  lua_createtable(L, 0, 5);
  for (i = 0; i < sizeof T / sizeof T[0]; i++) {
    curl_off_t us = 0;
    if (curl_easy_getinfo(x->curl, T[i].info, &us) != CURLE_OK) us = 0;
    lua_pushnumber(L, (lua_Number)us / 1e6);
    lua_setfield(L, -2, T[i].name);
  }
}

/* core.timings(client): the timings of the client's last call. */
int vz_transport_timings(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  vz_xfer_push_timings(L, &c->rest);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* core.perform(client, method, url, body|nil, timeout|nil, auth,           */
/*               instance_token|nil, headers|nil)                            */
/*   -> status, body, reason|nil, retry_after|nil, request_id|nil            */
/*   -> nil, kind, message, sent                                             */
/* body: the decoded 2xx value (see push_success_body), else the raw text.   */
/* ------------------------------------------------------------------------ */

static int perform_body(lua_State *L) {
  vz_client *c = (vz_client *)lua_touserdata(L, 1);
  int n;
  vz_xfer_prepare(L, &c->rest, c, 2, c->timeout_ms);
  n = vz_xfer_finish(L, &c->rest, curl_easy_perform(c->rest.curl));
  vz_buf_reset(&c->rest.req_body, VZ_KEEP_BUFFER);
  return n;
}

/* The exchange runs with the client guarded: a finalizer run by the
 * decoder's allocations must not start another exchange on the same handle
 * and buffers (vz_client_run_guarded). */
int vz_transport_perform(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  lua_pushvalue(L, VZ_ARRAY_MT);
  lua_pushvalue(L, VZ_STRCACHE);
  lua_pushcclosure(L, perform_body, 2);
  lua_insert(L, 1);
  return vz_client_run_guarded(L, c);
}
