/* transport.c: one HTTP exchange over the client's libcurl easy handle.
 *
 * libcurl only ever calls back into C here (the write, header and pre-request
 * callbacks fill the client's buffers), so no Lua error can unwind through
 * libcurl. The response body is decoded straight from libcurl's buffer. */
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
  vz_client *c = (vz_client *)ud;
  size_t n = size * nmemb;
  if (n > VZ_MAX_BODY - c->res.body.len) {
    c->res.too_large = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (vz_buf_append(&c->res.body, p, n) != 0) return 0;
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
  vz_client *c = (vz_client *)ud;
  size_t n = size * nmemb;
  if (n > 5 && memcmp(line, "HTTP/", 5) == 0) {
    /* A new status line (after 100 Continue, say): forget the previous one. */
    const char *sp = memchr(line, ' ', n), *reason;
    c->res.reason[0] = c->res.retry_after[0] = c->res.request_id[0] = '\0';
    if (sp != NULL && (size_t)(sp - line) + 5 <= n) {
      reason = sp + 4; /* skip " 200" */
      copy_value(c->res.reason, sizeof c->res.reason, reason, n - (size_t)(reason - line));
    }
  } else if (header_is(line, n, "retry-after", 11)) {
    copy_value(c->res.retry_after, sizeof c->res.retry_after, line + 12, n - 12);
  } else if (header_is(line, n, "x-request-id", 12)) {
    copy_value(c->res.request_id, sizeof c->res.request_id, line + 13, n - 13);
  }
  return n;
}

/* Called by libcurl each time it is about to send the request on a
 * connection. A second call within one perform is libcurl's silent resend
 * after a reused keep-alive connection died: for a request that is not safe
 * to repeat it may already have been received, so refuse it. */
static int on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port) {
  vz_client *c = (vz_client *)ud;
  (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
  c->prereq_calls++;
  if (c->prereq_calls > 1 && c->guard_resend) return CURL_PREREQFUNC_ABORT;
  return CURL_PREREQFUNC_OK;
}

/* Options set once per handle; per-request ones are set in perform. */
void vz_transport_setup(vz_client *c) {
  CURL *h = c->curl;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
  curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(h, CURLOPT_PREREQDATA, c);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);       /* never raise SIGALRM in the host */
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is the caller's business */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
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

static int is_tls_error(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED: case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED: case CURLE_SSL_SHUTDOWN_FAILED: case CURLE_SSL_CLIENTCERT:
      return 1;
    default:
      return 0;
  }
}

/* nil, kind, message, sent */
static int push_failure(lua_State *L, vz_client *c, CURLcode rc) {
  const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
  int sent = c->prereq_calls > 0;
  lua_pushnil(L);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    lua_pushliteral(L, "timeout");
    lua_pushliteral(L, "VZaps request timed out");
  } else if (is_tls_error(rc)) {
    lua_pushliteral(L, "tls");
    lua_pushfstring(L, "VZaps TLS error: %s (check ca_file, or ssl_verify)", detail);
  } else if (rc == CURLE_WRITE_ERROR && c->res.too_large) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "VZaps response body exceeds the 64 MiB limit");
  } else if (rc == CURLE_ABORTED_BY_CALLBACK && c->prereq_calls > 1) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "VZaps request failed: the connection closed after the request was sent; "
                       "it may have been received, so it was not sent again");
  } else {
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "VZaps request failed: %s", detail);
  }
  lua_pushboolean(L, sent);
  return 4;
}

static void push_opt_string(lua_State *L, const char *s) {
  if (s[0]) lua_pushstring(L, s);
  else lua_pushnil(L);
}

/* Pushes the success value of a 2xx body: true when empty, the decoded JSON,
 * or the text itself when it is not JSON (the action did happen). */
static void push_success_body(lua_State *L, const vz_buf *b) {
  const char *p = b->data, *end = b->data + b->len;
  char err[128];
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  if (p == end)
    lua_pushboolean(L, 1);
  else if (!vz_json_decode(L, b->data, b->len, vz_absindex(L, VZ_ARRAY_MT), err, sizeof err))
    lua_pushlstring(L, b->data, b->len);
}

/* ------------------------------------------------------------------------ */
/* core.perform(client, method, url, headers, body|nil, timeout|nil)          */
/*   -> status, body, reason|nil, retry_after|nil, request_id|nil            */
/*   -> nil, kind, message, sent                                             */
/* body: the decoded 2xx value (see push_success_body), else the raw text.   */
/* ------------------------------------------------------------------------ */

int vz_transport_perform(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  const char *method = luaL_checkstring(L, 2);
  const char *url = luaL_checkstring(L, 3);
  size_t bodylen = 0;
  const char *body = luaL_optlstring(L, 5, NULL, &bodylen);
  long timeout_ms = c->timeout_ms;
  struct curl_slist *headers;
  CURLcode rc;
  long status = 0;
  int ok, post_mode;

  check_headers(L, 4);
  if (!lua_isnoneornil(L, 6)) {
    lua_Number s = luaL_checknumber(L, 6);
    luaL_argcheck(L, s > 0 && s < 86400.0 * 365, 6, "timeout must be a positive number of seconds");
    timeout_ms = (long)(s * 1000.0 + 0.5) > 0 ? (long)(s * 1000.0 + 0.5) : 1;
  }

  vz_buf_reset(&c->res.body, VZ_KEEP_BUFFER);
  c->res.too_large = 0;
  c->res.reason[0] = c->res.retry_after[0] = c->res.request_id[0] = '\0';
  c->errbuf[0] = '\0';
  c->prereq_calls = 0;
  c->guard_resend = !safe_to_resend(method);

  post_mode = !method_is(method, "HEAD") && (body != NULL || method_is(method, "POST") ||
                                             method_is(method, "PUT") || method_is(method, "PATCH"));
  headers = build_headers(L, 4, post_mode, &ok);
  if (!ok) return luaL_error(L, "vzaps: out of memory");

  curl_easy_setopt(c->curl, CURLOPT_URL, url);
  set_method(c->curl, method, body, bodylen);
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  rc = curl_easy_perform(c->curl);
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(headers);

  if (rc != CURLE_OK) {
    vz_buf_reset(&c->res.body, VZ_KEEP_BUFFER);
    return push_failure(L, c, rc);
  }
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
  lua_pushinteger(L, (lua_Integer)status);
  if (status >= 200 && status < 300)
    push_success_body(L, &c->res.body);
  else
    lua_pushlstring(L, c->res.body.data ? c->res.body.data : "", c->res.body.len);
  push_opt_string(L, c->res.reason);
  push_opt_string(L, c->res.retry_after);
  push_opt_string(L, c->res.request_id);
  vz_buf_reset(&c->res.body, VZ_KEEP_BUFFER);
  return 5;
}
