/* transport.c: one HTTP exchange over the client's libcurl easy handle.
 *
 * libcurl only ever calls back into C here (the write, header and pre-request
 * callbacks fill the client's buffers), so no Lua error can unwind through
 * libcurl. The response body is decoded straight from libcurl's buffer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "json_number.h"
#include "policy.h"
#include "request_object.h"
#include "transport.h"
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
vz_share *vz_share_new(void) {
  vz_share *s = (vz_share *)malloc(sizeof *s);
  if (s == NULL) return NULL;
  if ((s->sh = curl_share_init()) == NULL ||
      curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
    if (s->sh != NULL) curl_share_cleanup(s->sh);
    free(s);
    return NULL;
  }
  s->refs = 1;
  return s;
}

void vz_share_ref(vz_share *s) { s->refs++; }

void vz_xfer_join(vz_xfer *x, vz_share *s, int pipewait) {
  curl_easy_setopt(x->curl, CURLOPT_SHARE, s->sh);
  x->pipewait = pipewait;
}

void vz_share_unref(vz_share *s) {
  if (s == NULL || --s->refs > 0) return;
  curl_share_cleanup(s->sh);
  free(s);
}

void vz_conn_apply(const vz_conn *s, CURL *h) {
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
  /* TLS 1.2 at least, whatever the system's OpenSSL policy allows. */
  curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, s->ssl_verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, s->ssl_verify ? 2L : 0L);
  if (s->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
  if (s->ca_path) curl_easy_setopt(h, CURLOPT_CAPATH, s->ca_path);
  if (s->proxy) curl_easy_setopt(h, CURLOPT_PROXY, s->proxy);
}

int vz_xfer_open(vz_xfer *x, const vz_conn *s) {
  CURL *h;
  memset(x, 0, sizeof *x);
  x->rules_body = -1;
  vz_buf_init(&x->res.body);
  if ((h = x->curl = curl_easy_init()) == NULL) return -1;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
  curl_easy_setopt(h, CURLOPT_PRIVATE, x);
  x->hints.budget = s->json_budget;
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* never raise SIGALRM in the host */
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is the caller's business */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  /* Paths are built and escaped by the module (dot segments included):
   * libcurl must not squash "/./" or "/../" out of them. */
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  vz_conn_apply(s, h);
  x->connect_timeout_ms = s->connect_timeout_ms;
  if (s->share != NULL) vz_xfer_join(x, s->share, 1);
  return 0;
}

void vz_xfer_close(vz_xfer *x) {
  if (x->curl != NULL) curl_easy_cleanup(x->curl);
  x->curl = NULL;
  vz_slist_free_wiped(x->headers);
  x->headers = NULL;
  vz_header_key_free(&x->hkey);
  free(x->url);
  x->url = NULL;
  vz_buf_free(&x->res.body);
}

/* ------------------------------------------------------------------------ */
/* Request set-up                                                            */
/* ------------------------------------------------------------------------ */

static void set_method(vz_xfer *x, const char *m, const char *body, size_t bodylen) {
  CURL *h = x->curl;
  /* The same method and body buffer as last time: nothing to set again
   * (libcurl reads the body from the buffer at perform time). */
  int same_method = x->method_set && x->post_mode_set == x->post_mode && strcmp(x->method, m) == 0;
  if (same_method && x->body_set == body && x->bodylen_set == bodylen) return;
  if (same_method && x->post_mode && strcmp(m, "HEAD") != 0) {
    /* Only the body moved (the Lua layer's request objects each hold
     * their own): the verb and mode stay as set. */
    x->body_set = body;
    x->bodylen_set = bodylen;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? bodylen : 0));
    return;
  }
  x->post_mode_set = x->post_mode;
  x->method_set = strlen(m) < sizeof x->method;
  if (x->method_set) memcpy(x->method, m, strlen(m) + 1);
  x->body_set = body;
  x->bodylen_set = bodylen;
  curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
  if (strcmp(m, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
  } else if (x->post_mode) { /* method_rules ran first */
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

/* The one wording of a timeout, for every path that can time out: a
 * request on libcurl's handles or a custom transport (cosockets included),
 * a wait for another process's token fetch (the shared token stores), the
 * realtime handshake. What differs between them is data: what timed out,
 * the budget that ran out, what it waited for, whether a request may have
 * been received. The seconds are written by the JSON number formatter, to
 * the millisecond, whatever LC_NUMERIC says. */
void vz_push_timeout_text(lua_State *L, const char *what, double seconds, const char *waiting, int sent) {
  char secs[VZ_JSON_NUMBUF];
  double ms = floor(seconds * 1000.0 + 0.5);
  if (!(ms >= 0 && ms < 1e15)) ms = 0;
  vz_json_fmt_double(secs, ms / 1000.0);
  lua_pushfstring(L, "%s timed out after %s s%s%s%s", what, secs, waiting != NULL ? " " : "",
                  waiting != NULL ? waiting : "",
                  sent == VZ_NO_SENT ? ""
                  : sent == 0        ? "; it was not sent"
                                     : "; it may have been received");
}

double vz_timeout_budget(double timeout, double connect, int sent) {
  return sent == 0 && connect > 0 && connect < timeout ? connect : timeout;
}

/* The outcome table {kind, sent}; the caller sets its message. */
static void push_outcome(lua_State *L, const char *kind, int sent) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushboolean(L, sent != 0);
  lua_setfield(L, -2, "sent");
}

/* The outcome of an exchange that got no answer: {kind, message, sent}.
 * The one wording of transport failures, for libcurl's and for custom
 * transports' (core.failure): detail says what failed; sent is 1 when the
 * request was sent, 0 when it was not, -1 when nobody knows (then it may
 * have been, and it counts as sent). A timeout's message is
 * vz_push_timeout_failure's. */
void vz_push_failure(lua_State *L, const char *kind, const char *detail, int sent) {
  if (strcmp(kind, "tls") == 0) {
    push_outcome(L, kind, sent);
    lua_pushfstring(L, "TLS error: %s", detail);
  } else {
    push_outcome(L, strcmp(kind, "timeout") == 0 ? kind : "network", sent);
    lua_pushfstring(L, "request failed: %s", detail);
  }
  lua_setfield(L, -2, "message");
}

void vz_push_timeout_failure(lua_State *L, double seconds, double connect, int sent) {
  push_outcome(L, "timeout", sent);
  vz_push_timeout_text(L, "request", vz_timeout_budget(seconds, connect, sent), NULL, sent);
  lua_setfield(L, -2, "message");
}

/* core.failure(kind, detail, sent|nil, timeout, connect_timeout): the
 * outcome of a failed custom transport call; a kind other than timeout or
 * tls is network; sent nil: nobody knows. A timeout's message says which
 * of the budgets the transport was given ran out (vz_timeout_budget). */
static int l_failure(lua_State *L) {
  const char *kind = luaL_optstring(L, 1, "network");
  const char *detail = luaL_checkstring(L, 2);
  int sent = lua_isnoneornil(L, 3) ? -1 : lua_toboolean(L, 3);
  if (strcmp(kind, "timeout") == 0)
    vz_push_timeout_failure(L, (double)luaL_optnumber(L, 4, 0), (double)luaL_optnumber(L, 5, 0), sent);
  else
    vz_push_failure(L, kind, detail, sent);
  return 1;
}

/* core.timeout_text(what, seconds, waiting|nil, sent|nil): the one wording
 * of a timeout (vz_push_timeout_text) for the Lua layer's own waits; sent
 * nil: no clause about the request. */
static int l_timeout_text(lua_State *L) {
  const char *what = luaL_checkstring(L, 1);
  double seconds = (double)luaL_checknumber(L, 2);
  const char *waiting = luaL_optstring(L, 3, NULL);
  vz_push_timeout_text(L, what, seconds, waiting, lua_isnoneornil(L, 4) ? VZ_NO_SENT : lua_toboolean(L, 4));
  return 1;
}

static void push_curl_failure(lua_State *L, vz_xfer *x, CURLcode rc) {
  const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
  int sent = x->prereq_calls > 0;
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    vz_push_timeout_failure(L, (double)x->timeout_ms / 1000.0, (double)x->connect_timeout_ms / 1000.0, sent);
  } else if (vz_curl_is_tls_error(rc)) {
    lua_pushfstring(L, "%s (check ca_file, or ssl_verify)", detail);
    vz_push_failure(L, "tls", lua_tostring(L, -1), sent);
    lua_remove(L, -2);
  } else if (rc == CURLE_WRITE_ERROR && x->res.too_large) {
    vz_push_failure(L, "network", VZ_MAX_BODY_TEXT, sent);
  } else if (rc == CURLE_ABORTED_BY_CALLBACK && x->prereq_calls > 1) {
    vz_push_failure(L, "network", VZ_NOT_RESENT_TEXT, sent);
  } else {
    vz_push_failure(L, "network", detail, sent);
  }
}

static void set_opt_string(lua_State *L, const char *field, const char *s) {
  if (s[0]) {
    lua_pushstring(L, s);
    lua_setfield(L, -2, field);
  }
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

/* The resend guard and POST mode of the request, worked out again only
 * when its method or whether it has a body changes (most calls repeat the
 * previous one's). */
static void method_rules(vz_xfer *x, const char *m, int has_body) {
  size_t n;
  if (x->rules_body == has_body && strcmp(x->rules_method, m) == 0) return;
  x->guard_resend = !vz_method_is_safe(m);
  x->post_mode = vz_method_post_mode(m, has_body);
  n = strlen(m);
  x->rules_body = n < sizeof x->rules_method ? has_body : -1; /* a longer one is never remembered */
  if (x->rules_body >= 0) memcpy(x->rules_method, m, n + 1);
}

int vz_xfer_setup(lua_State *L, vz_xfer *x, const vz_ident *id, const char *method, const char *url, const char *body,
                  size_t bodylen, long timeout_ms, const vz_call_headers *h) {
  vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
  x->res.too_large = x->res.headers_done = 0;
  x->res.reason[0] = x->res.retry_after[0] = x->res.request_id[0] = '\0';
  x->errbuf[0] = '\0';
  x->prereq_calls = 0;
  method_rules(x, method, body != NULL);
  {
    struct curl_slist *before = x->headers;
    int ok = vz_call_headers_list(L, &x->headers, &x->hkey, id, h, x->post_mode);
    if (x->headers != before) curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->headers);
    if (!ok) return 0;
  }
  /* libcurl copies the URL on every set: skip it when it is the same. */
  if (x->url == NULL || strcmp(x->url, url) != 0) {
    size_t n = strlen(url) + 1;
    char *copy = (char *)realloc(x->url, n);
    if (copy == NULL) return 0;
    memcpy(copy, url, n);
    x->url = copy;
    curl_easy_setopt(x->curl, CURLOPT_URL, url);
    /* Over https, ALPN tells at once whether a new connection multiplexes
     * (HTTP/2): a transfer waits for it rather than opening its own. Over
     * http:// that is known only after the first answer, so waiting would
     * queue every transfer behind a slow one. */
    if (x->pipewait) curl_easy_setopt(x->curl, CURLOPT_PIPEWAIT, strncmp(url, "https://", 8) == 0 ? 1L : 0L);
  }
  set_method(x, method, body, bodylen);
  if (timeout_ms != x->timeout_ms) {
    x->timeout_ms = timeout_ms;
    curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  }
  return 1;
}

int vz_xfer_setup_req(lua_State *L, vz_xfer *x, const vz_ident *id, const struct vz_req *r, int idx,
                      long default_timeout_ms) {
  vz_call_headers h;
  int top = lua_gettop(L), ok;
  idx = vz_absindex(L, idx);
  vz_req_call_headers(L, idx, r, &h);
  ok = vz_xfer_setup(L, x, id, r->method, r->url, r->has_body ? r->body : NULL, r->body_len,
                     r->timeout > 0 ? vz_seconds_to_ms(r->timeout) : default_timeout_ms, &h);
  lua_settop(L, top);
  return ok;
}

int vz_xfer_finish(lua_State *L, vz_xfer *x, CURLcode rc) {
  long status = 0;
  int ok = 0;
  if (rc == CURLE_OK && !x->res.headers_done) {
    /* libcurl 7.88 accepts a response that ends inside its headers: the
     * answer is incomplete, so it is a failure, not an empty success. */
    lua_pushnil(L);
    vz_push_failure(L, "network", "the connection closed inside the response headers", x->prereq_calls > 0);
  } else if (rc != CURLE_OK) {
    lua_pushnil(L);
    push_curl_failure(L, x, rc);
  } else {
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {
      lua_pushnil(L);
      lua_createtable(L, 0, 5);
      lua_pushinteger(L, (lua_Integer)status);
      lua_setfield(L, -2, "status");
      lua_pushlstring(L, x->res.body.data ? x->res.body.data : "", x->res.body.len);
      lua_setfield(L, -2, "body");
      set_opt_string(L, "reason", x->res.reason);
      set_opt_string(L, "retry_after", x->res.retry_after);
      set_opt_string(L, "request_id", x->res.request_id);
    } else if (!vz_push_success_body(L, x->res.body.data, x->res.body.len, vz_absindex(L, VZ_ARRAY_MT), &x->hints,
                                     vz_absindex(L, VZ_STRCACHE))) {
      /* Over the decode budget (the message is on top): the answer is
       * refused like one over the size cap, and it was received. */
      lua_createtable(L, 0, 3);
      lua_insert(L, -2);
      lua_setfield(L, -2, "message");
      lua_pushliteral(L, "network");
      lua_setfield(L, -2, "kind");
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "sent");
      lua_pushnil(L);
      lua_insert(L, -2);
    } else {
      lua_pushinteger(L, (lua_Integer)status);
      if (x->res.request_id[0])
        lua_pushstring(L, x->res.request_id);
      else
        lua_pushnil(L);
      ok = 1;
    }
  }
  if (!ok) lua_pushnil(L);
  vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
  return ok;
}

/* The timings of x's last transfer, in seconds (libcurl's, each from the
 * start): {name_lookup, connect, tls, first_byte, total}. */
static const CURLINFO TIMINGS[] = {CURLINFO_NAMELOOKUP_TIME_T, CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T,
                                   CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_TOTAL_TIME_T};
#define NTIMINGS (sizeof TIMINGS / sizeof TIMINGS[0])

int vz_xfer_push_timing_values(lua_State *L, vz_xfer *x) {
  size_t i;
  for (i = 0; i < NTIMINGS; i++) {
    curl_off_t us = 0;
    if (curl_easy_getinfo(x->curl, TIMINGS[i], &us) != CURLE_OK) us = 0;
    lua_pushnumber(L, (lua_Number)us / 1e6);
  }
  return (int)NTIMINGS;
}

static const luaL_Reg transport_funcs[] = {
    {"failure", l_failure},
    {"timeout_text", l_timeout_text},
    {"success_body", vz_success_body},
    {NULL, NULL},
};

/* Registers core.failure, core.timeout_text, core.success_body,
 * core.MAX_BODY and core.MAX_BODY_TEXT on the core table on top of the
 * stack. */
void vz_transport_register(lua_State *L) {
  lua_pushnumber(L, (lua_Number)VZ_MAX_BODY);
  lua_setfield(L, -2, "MAX_BODY");
  lua_pushliteral(L, VZ_MAX_BODY_TEXT);
  lua_setfield(L, -2, "MAX_BODY_TEXT");
  lua_pushliteral(L, VZ_NOT_RESENT_TEXT);
  lua_setfield(L, -2, "NOT_RESENT_TEXT");
  lua_getfield(L, -1, "array_mt");
  lua_getfield(L, -2, "strcache");
  vz_setfuncs(L, transport_funcs, 2);
}
