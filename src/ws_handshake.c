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
#include <poll.h>
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

static int fail_curl(lua_State *L, vz_ws *w, CURLcode rc, const char *what) {
  const char *detail = w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc);
  lua_pushnil(L);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    lua_pushliteral(L, "timeout");
    lua_pushfstring(L, "realtime %s timed out", what);
  } else if (vz_curl_is_tls_error(rc)) {
    lua_pushliteral(L, "tls");
    lua_pushfstring(L, "realtime TLS error: %s (check ca_file, or ssl_verify)", detail);
  } else {
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "realtime %s failed: %s", what, detail);
  }
  return 3;
}

/* ------------------------------------------------------------------------ */
/* Blocking I/O with a deadline over the CONNECT_ONLY connection             */
/* ------------------------------------------------------------------------ */

/* 0 sent, 1 timed out, 2 curl error (in *rc) */
static int send_all(vz_ws *w, const char *p, size_t n, double deadline, CURLcode *rc) {
  while (n > 0) {
    size_t sent = 0;
    *rc = w->io_send(w, p, n, &sent);
    if (*rc == CURLE_AGAIN) {
      if (vz_ws_wait(w->fd, POLLOUT, deadline) <= 0) return 1;
      continue;
    }
    if (*rc != CURLE_OK) return 2;
    p += sent, n -= sent;
  }
  return 0;
}

/* Reads what is available into b (at most max bytes in all), waiting until
 * deadline for the first byte. 0 read, 1 timed out, 2 error, 3 eof, 4 full. */
static int read_some(vz_ws *w, vz_buf *b, size_t max, double deadline, CURLcode *rc) {
  char tmp[4096];
  for (;;) {
    size_t got = 0, room = max - b->len;
    if (room == 0) return 4;
    *rc = w->io_recv(w, tmp, room < sizeof tmp ? room : sizeof tmp, &got);
    if (*rc == CURLE_AGAIN) {
      if (vz_ws_wait(w->fd, POLLIN, deadline) <= 0) return 1;
      continue;
    }
    if (*rc != CURLE_OK) return 2;
    if (got == 0) return 3;
    if (vz_buf_append(b, tmp, got) != 0) return 2;
    return 0;
  }
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

/* A non-101 answer: read its body (bounded) so the Lua layer can build the
 * same error as for REST, then push nil, "http", message, status, body, reason. */
static int fail_status(lua_State *L, vz_ws *w, vz_buf *b, size_t head_len, int status, const char *reason,
                       double deadline) {
  char cl[32];
  size_t want = VZ_WS_MAX_ERRBODY;
  CURLcode rc;
  double soon = vz_now() + 2.0; /* an error body is not worth a long wait */
  if (soon < deadline) deadline = soon;
  if (header_value(b->data, "content-length", cl, sizeof cl)) {
    unsigned long n = strtoul(cl, NULL, 10);
    if (n < want) want = (size_t)n;
  } else if (header_value(b->data, "transfer-encoding", cl, sizeof cl)) {
    want = 0; /* chunked error bodies are not decoded: the status says enough */
  }
  while (b->len - head_len < want && read_some(w, b, head_len + want, deadline, &rc) == 0) {
  }
  lua_pushnil(L);
  lua_pushliteral(L, "http");
  lua_pushfstring(L, "realtime handshake refused with HTTP %d", status);
  lua_pushinteger(L, status);
  lua_pushlstring(L, b->data + head_len, b->len - head_len < want ? b->len - head_len : want);
  lua_pushstring(L, reason);
  return 6;
}

/* Reads and checks the answer head. Bytes after it stay in w->pre. */
static int read_response(lua_State *L, vz_ws *w, const char *key, double deadline) {
  vz_buf *b = &w->pre;
  const char *end;
  char value[128], expect[32], reason[64] = "";
  int status = 0, r;
  CURLcode rc = CURLE_OK;
  size_t head_len;
  while ((end = b->data ? strstr(b->data, "\r\n\r\n") : NULL) == NULL) {
    r = read_some(w, b, VZ_WS_MAX_HEAD, deadline, &rc);
    if (r == 1) return fail(L, "timeout", "realtime handshake timed out");
    if (r == 2) return fail_curl(L, w, rc, "handshake");
    if (r == 3) return fail(L, "network", "realtime handshake failed: the server closed the connection");
    if (r == 4) return fail(L, "network", "realtime handshake failed: response head too large");
  }
  head_len = (size_t)(end - b->data) + 4;
  if (sscanf(b->data, "HTTP/1.%*1[01] %3d", &status) != 1)
    return fail(L, "network", "realtime handshake failed: the answer is not HTTP");
  {
    const char *sp = strchr(b->data, ' '), *eol = strstr(b->data, "\r\n");
    if (sp != NULL && sp + 5 < eol) {
      size_t n = (size_t)(eol - (sp + 5));
      if (n >= sizeof reason) n = sizeof reason - 1;
      memcpy(reason, sp + 5, n);
      reason[n] = '\0';
    }
  }
  if (status != 101) return fail_status(L, w, b, head_len, status, reason, deadline);
  if (!header_value(b->data, "upgrade", value, sizeof value) || strcasecmp(value, "websocket") != 0 ||
      !header_value(b->data, "connection", value, sizeof value) || !has_token(value, "upgrade"))
    return fail(L, "network", "realtime handshake failed: the server did not upgrade to WebSocket");
  accept_of(key, expect);
  if (!header_value(b->data, "sec-websocket-accept", value, sizeof value) || strcmp(value, expect) != 0)
    return fail(L, "network", "realtime handshake failed: wrong Sec-WebSocket-Accept");
  w->pre_pos = head_len; /* frames that arrived with the head */
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                     */
/* ------------------------------------------------------------------------ */

int vz_ws_handshake(lua_State *L, vz_ws *w, const char *host, const char *target, int hdr_idx, double deadline) {
  unsigned char raw[16];
  char key[32];
  vz_buf req;
  CURLcode rc = CURLE_OK;
  curl_socket_t fd = CURL_SOCKET_BAD;
  int r;

  rc = curl_easy_perform(w->curl);
  if (rc != CURLE_OK) return fail_curl(L, w, rc, "connection");
  if (curl_easy_getinfo(w->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD)
    return fail(L, "network", "realtime connection failed: no socket");
  w->fd = fd;

  if (RAND_bytes(raw, sizeof raw) != 1) return fail(L, "network", "realtime: no random bytes for the key");
  base64(raw, sizeof raw, key);
  vz_buf_init(&req);
  if (!build_request(L, &req, host, target, hdr_idx, key)) {
    vz_buf_free(&req);
    return fail(L, "network", "realtime: out of memory");
  }
  r = send_all(w, req.data, req.len, deadline, &rc);
  vz_buf_free(&req);
  if (r == 1) return fail(L, "timeout", "realtime handshake timed out");
  if (r == 2) return fail_curl(L, w, rc, "handshake");
  return read_response(L, w, key, deadline);
}
