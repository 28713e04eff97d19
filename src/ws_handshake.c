/* ws_handshake.c: opening a realtime connection. libcurl connects (TCP, TLS,
 * proxy tunnel) with CONNECT_ONLY and the client's settings, then the
 * HTTP/1.1 Upgrade request of RFC 6455 §4.1 is written and its answer read
 * here, because Debian's libcurl 7.88 has no ws:// support.
 *
 * SHA-1 and base64 come from OpenSSL's libcrypto: libcurl is built against
 * OpenSSL on Debian, so the library is already in the process, and RAND_bytes
 * gives the unpredictable key (and frame masks, ws.c) RFC 6455 asks for.
 *
 * The URL holds the access token in its query: no message built here ever
 * contains the URL, the request or a header value. */
#include <math.h>
#include <poll.h>
#include <sys/select.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ws_handshake.h"
#include "ws_wait.h"

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ------------------------------------------------------------------------ */
/* Failures: nil, kind, message[, status, body, reason]                      */
/* ------------------------------------------------------------------------ */

static int fail(lua_State *L, const char *kind, const char *message) {
  lua_pushnil(L);
  lua_pushstring(L, kind);
  lua_pushstring(L, message);
  return 3;
}

/* A timeout of the handshake, in the module's one wording (transport.c):
 * after how long, and in which phase. */
static int fail_timeout(lua_State *L, vz_ws *w, double seconds) {
  lua_pushnil(L);
  lua_pushliteral(L, "timeout");
  vz_push_timeout_text(L, "realtime handshake", seconds,
                       w->phase == VZ_WS_CONNECTING ? "while connecting" : "waiting for the upgrade answer",
                       VZ_NO_SENT);
  return 3;
}

static int fail_curl(lua_State *L, vz_ws *w, CURLcode rc, const char *what) {
  const char *detail = w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    /* libcurl only connects here (this phase), and gives up at its
     * connect timeout when that comes before the handshake's own budget:
     * the message names the budget that ran out, as for a request that
     * was not sent. */
    return fail_timeout(L, w, vz_timeout_budget(w->budget, w->connect_budget, 0));
  }
  lua_pushnil(L);
  if (vz_curl_is_tls_error(rc)) {
    lua_pushliteral(L, "tls");
    lua_pushfstring(L, "realtime TLS error: %s (check ca_file, or ssl_verify)", detail);
  } else {
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "realtime %s failed: %s", what, detail);
  }
  return 3;
}

/* ------------------------------------------------------------------------ */
/* Non-blocking I/O over the CONNECT_ONLY connection                         */
/* ------------------------------------------------------------------------ */

/* Writes what the socket takes of the request. 0 all sent, 1 would block,
 * 2 curl error (in *rc). */
static int send_some(vz_ws *w, CURLcode *rc) {
  while (w->req_pos < w->req.len) {
    size_t sent = 0;
    *rc = w->io_send(w, w->req.data + w->req_pos, w->req.len - w->req_pos, &sent);
    if (*rc == CURLE_AGAIN) return 1;
    if (*rc != CURLE_OK) return 2;
    w->req_pos += sent;
  }
  return 0;
}

/* Reads what is available into b (at most max bytes in all). 0 read some,
 * 1 would block, 2 error, 3 eof, 4 full. */
static int read_some(vz_ws *w, vz_buf *b, size_t max, CURLcode *rc) {
  char tmp[4096];
  size_t got = 0, room = max - b->len;
  if (room == 0) return 4;
  *rc = w->io_recv(w, tmp, room < sizeof tmp ? room : sizeof tmp, &got);
  if (*rc == CURLE_AGAIN) return 1;
  if (*rc != CURLE_OK) return 2;
  if (got == 0) return 3;
  if (vz_buf_append(b, tmp, got) != 0) return 2;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Request                                                                   */
/* ------------------------------------------------------------------------ */

static void base64(const unsigned char *in, int n, char *out) { EVP_EncodeBlock((unsigned char *)out, in, n); }

/* The expected Sec-WebSocket-Accept of key (RFC 6455 §4.2.2). */
static void accept_of(const char *key, char out[32]) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  char joined[64];
  size_t kn = strlen(key);
  memcpy(joined, key, kn);
  memcpy(joined + kn, WS_GUID, sizeof WS_GUID);
  SHA1((const unsigned char *)joined, kn + sizeof WS_GUID - 1, digest);
  base64(digest, SHA_DIGEST_LENGTH, out);
}

static int build_request(lua_State *L, vz_buf *b, const char *host, const char *target, int hdr_idx, const char *key) {
  int ok = 1;
#define ADD(s) ok = ok && vz_buf_append(b, (s), strlen(s)) == 0
  ADD("GET ");
  ADD(target);
  ADD(" HTTP/1.1\r\nHost: ");
  ADD(host);
  ADD("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
  ADD(key);
  ADD("\r\n");
  lua_pushnil(L);
  while (lua_next(L, hdr_idx)) {
    const char *v = lua_tostring(L, -1);
    if (v[0] != '\0') {
      ADD(lua_tostring(L, -2));
      ADD(": ");
      ADD(v);
      ADD("\r\n");
    }
    lua_pop(L, 1);
  }
  ADD("\r\n");
#undef ADD
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Response                                                                  */
/* ------------------------------------------------------------------------ */

/* The value of header name in head (lines after the status line), trimmed,
 * copied into out; 0 when absent. */
static int header_value(const char *head, const char *name, char *out, size_t outsz) {
  size_t nl = strlen(name);
  const char *line = strstr(head, "\r\n");
  while (line != NULL && line[2] != '\r') {
    const char *p = line + 2, *end = strstr(p, "\r\n");
    if (end == NULL) break;
    if ((size_t)(end - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
      const char *v = p + nl + 1;
      size_t n;
      while (v < end && (*v == ' ' || *v == '\t')) v++;
      n = (size_t)(end - v);
      while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
      if (n >= outsz) n = outsz - 1;
      memcpy(out, v, n);
      out[n] = '\0';
      return 1;
    }
    line = end;
  }
  return 0;
}

/* Case-insensitive token search in a comma list ("keep-alive, Upgrade"). */
static int has_token(const char *list, const char *tok) {
  size_t n = strlen(tok);
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (strncasecmp(p, tok, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ')) return 1;
    while (*p && *p != ',') p++;
  }
  return 0;
}

/* A non-101 answer, its body read (bounded): nil, "http", message, status,
 * body, reason, so that the Lua layer builds the same error as for REST. */
static int fail_status(lua_State *L, vz_ws *w) {
  vz_buf *b = &w->pre;
  size_t have = b->len - w->head_len;
  lua_pushnil(L);
  lua_pushliteral(L, "http");
  lua_pushfstring(L, "realtime handshake refused with HTTP %d", w->status);
  lua_pushinteger(L, w->status);
  lua_pushlstring(L, b->data + w->head_len, have < w->body_want ? have : w->body_want);
  lua_pushstring(L, w->reason);
  return 6;
}

/* The answer head is in w->pre: a refusal moves on to its body; a 101 is
 * checked. Returns 0 open, VZ_WS_PENDING (the body) or a failure count. */
static int check_head(lua_State *L, vz_ws *w, const char *end) {
  vz_buf *b = &w->pre;
  char value[128], expect[32], cl[32];
  w->head_len = (size_t)(end - b->data) + 4;
  if (sscanf(b->data, "HTTP/1.%*1[01] %3d", &w->status) != 1)
    return fail(L, "network", "realtime handshake failed: the answer is not HTTP");
  {
    const char *sp = strchr(b->data, ' '), *eol = strstr(b->data, "\r\n");
    if (sp != NULL && sp + 5 < eol) {
      size_t n = (size_t)(eol - (sp + 5));
      if (n >= sizeof w->reason) n = sizeof w->reason - 1;
      memcpy(w->reason, sp + 5, n);
      w->reason[n] = '\0';
    }
  }
  if (w->status != 101 && w->status < 300) {
    /* not a refusal either: an error of kind http would say "ok" */
    lua_pushnil(L);
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "realtime handshake failed: HTTP %d instead of 101 Switching Protocols", w->status);
    return 3;
  }
  if (w->status != 101) {
    double soon = vz_now() + 2.0; /* an error body is not worth a long wait */
    w->body_want = VZ_WS_MAX_ERRBODY;
    if (header_value(b->data, "content-length", cl, sizeof cl)) {
      unsigned long n = strtoul(cl, NULL, 10);
      if (n < w->body_want) w->body_want = (size_t)n;
    } else if (header_value(b->data, "transfer-encoding", cl, sizeof cl)) {
      w->body_want = 0; /* chunked error bodies are not decoded: the status says enough */
    }
    w->body_deadline = soon < w->deadline ? soon : w->deadline;
    w->phase = VZ_WS_BODY;
    return VZ_WS_PENDING;
  }
  if (!header_value(b->data, "upgrade", value, sizeof value) || strcasecmp(value, "websocket") != 0 ||
      !header_value(b->data, "connection", value, sizeof value) || !has_token(value, "upgrade"))
    return fail(L, "network", "realtime handshake failed: the server did not upgrade to WebSocket");
  accept_of(w->key, expect);
  if (!header_value(b->data, "sec-websocket-accept", value, sizeof value) || strcmp(value, expect) != 0)
    return fail(L, "network", "realtime handshake failed: wrong Sec-WebSocket-Accept");
  w->pre_pos = w->head_len; /* frames that arrived with the head */
  w->phase = VZ_WS_OPEN;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Connecting on the connection's own multi handle                           */
/* ------------------------------------------------------------------------ */

/* The sockets libcurl waits on while it connects (happy eyeballs may try
 * several), for the pollable: curl_multi_perform calls no socket callback,
 * so they are read from curl_multi_fdset after each step. A socket past
 * FD_SETSIZE is not listed; the pollable's timeout covers it. */
static void list_sockets(vz_ws *w) {
  fd_set r, wr, ex;
  int maxfd = -1, fd;
  FD_ZERO(&r);
  FD_ZERO(&wr);
  FD_ZERO(&ex);
  w->nsocks = 0;
  if (curl_multi_fdset(w->multi, &r, &wr, &ex, &maxfd) != CURLM_OK) return;
  for (fd = 0; fd <= maxfd && w->nsocks < VZ_WS_MAX_SOCKS; fd++) {
    int what = (FD_ISSET(fd, &r) ? CURL_POLL_IN : 0) | (FD_ISSET(fd, &wr) ? CURL_POLL_OUT : 0);
    if (what) w->socks[w->nsocks].fd = fd, w->socks[w->nsocks].what = what, w->nsocks++;
  }
}

static int on_timer(CURLM *m, long timeout_ms, void *userp) {
  vz_ws *w = (vz_ws *)userp;
  (void)m;
  w->timer_ms = timeout_ms, w->timer_set_at = vz_now();
  return 0;
}

/* One connecting step: VZ_WS_PENDING, or 0 connected (then w->fd is set),
 * or a failure count. */
static int step_connect(lua_State *L, vz_ws *w) {
  int running = 0, left = 0;
  CURLMsg *m;
  if (curl_multi_perform(w->multi, &running) != CURLM_OK)
    return fail(L, "network", "realtime connection failed: libcurl multi error");
  while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (m->msg != CURLMSG_DONE) continue;
    if (m->data.result != CURLE_OK) return fail_curl(L, w, m->data.result, "connection");
    if (curl_easy_getinfo(w->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD)
      return fail(L, "network", "realtime connection failed: no socket");
    w->fd = fd;
    w->nsocks = 0, w->timer_ms = -1;
    return 0;
  }
  list_sockets(w);
  return VZ_WS_PENDING;
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                     */
/* ------------------------------------------------------------------------ */

int vz_ws_handshake_begin(lua_State *L, vz_ws *w, const char *host, const char *target, int hdr_idx, double deadline) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return fail(L, "network", "realtime: no random bytes for the key");
  base64(raw, sizeof raw, w->key);
  if (!build_request(L, &w->req, host, target, hdr_idx, w->key)) return fail(L, "network", "realtime: out of memory");
  w->deadline = deadline;
  w->budget = deadline - vz_now();
  w->timer_ms = -1;
  if ((w->multi = curl_multi_init()) == NULL) return fail(L, "network", "realtime: cannot create a libcurl handle");
  curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
  if (curl_multi_add_handle(w->multi, w->curl) != CURLM_OK)
    return fail(L, "network", "realtime: cannot start the connection");
  w->phase = VZ_WS_CONNECTING;
  return 0;
}

int vz_ws_handshake_step(lua_State *L, vz_ws *w) {
  CURLcode rc = CURLE_OK;
  const char *end;
  int r;
  for (;;) {
    switch (w->phase) {
      case VZ_WS_CONNECTING:
        r = step_connect(L, w);
        if (r != 0) break;
        w->phase = VZ_WS_SENDING;
        continue;
      case VZ_WS_SENDING:
        r = send_some(w, &rc);
        if (r == 2) return fail_curl(L, w, rc, "handshake");
        if (r == 1) {
          r = VZ_WS_PENDING;
          break;
        }
        vz_buf_free(&w->req);
        w->phase = VZ_WS_READING;
        continue;
      case VZ_WS_READING:
        while ((end = w->pre.data ? strstr(w->pre.data, "\r\n\r\n") : NULL) == NULL) {
          r = read_some(w, &w->pre, VZ_WS_MAX_HEAD, &rc);
          if (r == 1) break;
          if (r == 2) return fail_curl(L, w, rc, "handshake");
          if (r == 3) return fail(L, "network", "realtime handshake failed: the server closed the connection");
          if (r == 4) return fail(L, "network", "realtime handshake failed: response head too large");
        }
        if (end == NULL) {
          r = VZ_WS_PENDING;
          break;
        }
        r = check_head(L, w, end);
        if (r != VZ_WS_PENDING) return r;
        continue;
      case VZ_WS_BODY:
        while (w->pre.len - w->head_len < w->body_want) {
          r = read_some(w, &w->pre, w->head_len + w->body_want, &rc);
          if (r == 1) break;
          if (r != 0) return fail_status(L, w);
        }
        if (w->pre.len - w->head_len >= w->body_want || vz_now() >= w->body_deadline) return fail_status(L, w);
        return VZ_WS_PENDING;
      default: return 0;
    }
    /* pending: the deadline ends it */
    if (r == VZ_WS_PENDING && vz_now() >= w->deadline) return fail_timeout(L, w, w->budget);
    return r;
  }
}

/* The socket and direction the handshake waits for (POLLIN / POLLOUT),
 * once connected; 0 while connecting or done. */
short vz_ws_handshake_wants(const vz_ws *w) {
  if (w->phase == VZ_WS_SENDING) return POLLOUT;
  if (w->phase == VZ_WS_READING || w->phase == VZ_WS_BODY) return POLLIN;
  return 0;
}

/* Seconds until the handshake must move again: libcurl's timer while
 * connecting, the deadline (the error body's own one) otherwise. */
double vz_ws_handshake_timeout(const vz_ws *w) {
  double t = (w->phase == VZ_WS_BODY ? w->body_deadline : w->deadline) - vz_now();
  if (w->phase == VZ_WS_CONNECTING && w->timer_ms >= 0) {
    double c = w->timer_set_at + (double)w->timer_ms / 1000.0 - vz_now();
    if (c < t) t = c;
  }
  if (w->phase == VZ_WS_CONNECTING && w->nsocks == 0 && t > VZ_WS_BLIND_STEP) t = VZ_WS_BLIND_STEP;
  return t > 0 ? t : 0;
}

/* Drives the steps to the end, waiting between them (core.ws_connect, and
 * fuzz/fuzz_ws.c from the sending phase on). */
int vz_ws_handshake_finish(lua_State *L, vz_ws *w) {
  for (;;) {
    int r = vz_ws_handshake_step(L, w);
    double wait;
    if (r != VZ_WS_PENDING) return r;
    wait = vz_ws_handshake_timeout(w);
    if (w->phase == VZ_WS_CONNECTING) {
      int ms = wait > 1.0 ? 1000 : (int)ceil(wait * 1000.0);
      curl_multi_poll(w->multi, NULL, 0, ms, NULL);
    } else {
      vz_ws_wait(w->fd, vz_ws_handshake_wants(w), vz_now() + wait);
    }
  }
}
