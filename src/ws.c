/* ws.c: the vzaps.WebSocket userdata. wslay does the RFC 6455 framing
 * (masking, fragments, ping -> pong, close handshake) over the libcurl
 * CONNECT_ONLY connection opened in ws_handshake.c. Its callbacks only move
 * bytes and store complete messages in a C list; Lua sees them in ws:recv.
 * Every wait is a poll() with a deadline, so nothing blocks forever. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ws.h"
#include "ws_handshake.h"
#include "ws_wait.h"

/* ------------------------------------------------------------------------ */
/* wslay callbacks: bytes in and out, messages into the list                 */
/* ------------------------------------------------------------------------ */

/* The connection's byte I/O (vz_ws.io_recv / io_send) in the module. */
static CURLcode io_curl_recv(vz_ws *w, void *buf, size_t len, size_t *got) {
  return curl_easy_recv(w->curl, buf, len, got);
}

static CURLcode io_curl_send(vz_ws *w, const void *buf, size_t len, size_t *sent) {
  return curl_easy_send(w->curl, buf, len, sent);
}

static ssize_t cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud) {
  vz_ws *w = (vz_ws *)ud;
  size_t got = 0;
  CURLcode rc;
  (void)flags;
  if (w->pre_pos < w->pre.len) { /* frames that came with the handshake answer */
    got = w->pre.len - w->pre_pos;
    if (got > len) got = len;
    memcpy(buf, w->pre.data + w->pre_pos, got);
    w->pre_pos += got;
    return (ssize_t)got;
  }
  rc = w->io_recv(w, buf, len, &got);
  if (rc == CURLE_AGAIN) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  if (rc != CURLE_OK || got == 0) {
    if (rc != CURLE_OK)
      w->io_err = rc;
    else
      w->eof = 1;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  w->last_rx = vz_now();
  return (ssize_t)got;
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud) {
  vz_ws *w = (vz_ws *)ud;
  size_t sent = 0;
  CURLcode rc = w->io_send(w, data, len, &sent);
  (void)flags;
  if (rc == CURLE_AGAIN) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  if (rc != CURLE_OK) {
    w->io_err = rc;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return (ssize_t)sent;
}

/* Client frames are masked with unpredictable keys (RFC 6455 §5.3). */
static int cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  if (RAND_bytes(buf, (int)len) != 1) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return 0;
}

static void cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud) {
  vz_ws *w = (vz_ws *)ud;
  (void)ctx;
  if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) {
    vz_ws_msg *m = (vz_ws_msg *)malloc(sizeof *m + arg->msg_length);
    if (m == NULL) {
      w->oom = 1;
      wslay_event_shutdown_read(ctx);
      return;
    }
    m->next = NULL;
    m->len = arg->msg_length;
    if (arg->msg_length) memcpy(m->data, arg->msg, arg->msg_length);
    m->data[arg->msg_length] = '\0';
    if (w->tail)
      w->tail->next = m;
    else
      w->head = m;
    w->tail = m;
  } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
    size_t n = arg->msg_length > 2 ? arg->msg_length - 2 : 0;
    w->close_code = arg->status_code ? arg->status_code : 1005;
    if (n >= sizeof w->close_reason) n = sizeof w->close_reason - 1;
    if (n) memcpy(w->close_reason, arg->msg + 2, n);
    w->close_reason[n] = '\0';
  }
}

static const struct wslay_event_callbacks ws_callbacks = {
    cb_recv, cb_send, cb_genmask, NULL, NULL, NULL, cb_msg,
};

/* ------------------------------------------------------------------------ */
/* The connection state machine                                              */
/* ------------------------------------------------------------------------ */

static void ws_release(vz_ws *w) {
  vz_ws_msg *m = w->head;
  while (m != NULL) {
    vz_ws_msg *next = m->next;
    free(m);
    m = next;
  }
  w->head = w->tail = NULL;
  if (w->ctx != NULL) wslay_event_context_free(w->ctx);
  w->ctx = NULL;
  if (w->curl != NULL) curl_easy_cleanup(w->curl);
  w->curl = NULL;
  vz_buf_free(&w->pre);
  w->ended = 1;
}

/* One non-blocking round: read what is there, write what is queued. Marks
 * the connection ended when wslay has nothing more to do in either way. */
static void ws_pump(vz_ws *w) {
  if (w->ended) return;
  if (wslay_event_want_read(w->ctx) && wslay_event_recv(w->ctx) != 0) w->ended = 1;
  if (!w->ended && wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) != 0) w->ended = 1;
  if (!w->ended && !wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx)) w->ended = 1;
  if (w->ended && w->pre.cap > 0) vz_buf_free(&w->pre);
}

/* After a successful handshake: the wslay client context, with the message
 * size limit. Returns 0, or -1 out of memory. */
static int ws_start(vz_ws *w) {
  if (wslay_event_context_client_init(&w->ctx, &ws_callbacks, w) != 0) return -1;
  wslay_event_config_set_max_recv_msg_length(w->ctx, VZ_WS_MAX_MSG);
  w->last_rx = vz_now();
  return 0;
}

/* Waits for the socket in the directions wslay wants; 0 when the deadline
 * passed first. */
static int ws_wait_io(vz_ws *w, double deadline) {
  short ev = 0;
  if (wslay_event_want_read(w->ctx)) ev |= POLLIN;
  if (wslay_event_want_write(w->ctx)) ev |= POLLOUT;
  return vz_ws_wait(w->fd, ev, deadline) > 0;
}

/* nil, kind, message, close_code|nil, close_reason|nil: why it ended. */
static int push_end(lua_State *L, vz_ws *w) {
  lua_pushnil(L);
  if (w->oom) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "realtime: out of memory for a received message");
  } else if (w->ctx != NULL && wslay_event_get_status_code_sent(w->ctx) == WSLAY_CODE_MESSAGE_TOO_BIG) {
    /* wslay refused a message over the limit set at connect (close 1009) */
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "realtime message exceeds the 16 MiB limit");
  } else if (w->close_code) {
    lua_pushliteral(L, "closed");
    lua_pushfstring(L, "realtime connection closed by the server (code %d)", w->close_code);
  } else if (w->io_err != CURLE_OK) {
    lua_pushstring(L, vz_curl_is_tls_error(w->io_err) ? "tls" : "network");
    lua_pushfstring(L, "realtime connection failed: %s", curl_easy_strerror(w->io_err));
  } else if (w->eof) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "realtime connection closed by the server without a close frame");
  } else if (w->ctx != NULL && !wslay_event_get_read_enabled(w->ctx)) {
    lua_pushliteral(L, "network");
    lua_pushliteral(L, "realtime protocol error: invalid frame from the server");
  } else {
    lua_pushliteral(L, "closed");
    lua_pushliteral(L, "realtime connection is closed");
  }
  if (w->close_code) {
    lua_pushinteger(L, w->close_code);
    lua_pushstring(L, w->close_reason);
    return 5;
  }
  return 3;
}

/* Sends everything queued, until deadline. 1 done, 0 timed out, -1 ended. */
static int ws_flush(vz_ws *w, double deadline) {
  for (;;) {
    if (w->ended) return -1;
    if (!wslay_event_want_write(w->ctx)) return 1;
    if (wslay_event_send(w->ctx) != 0) {
      w->ended = 1;
      return -1;
    }
    if (!wslay_event_want_write(w->ctx)) return 1;
    if (vz_ws_wait(w->fd, POLLOUT, deadline) <= 0) return 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Lua API                                                                   */
/* ------------------------------------------------------------------------ */

static vz_ws *ws_check(lua_State *L) {
  vz_ws *w = (vz_ws *)luaL_checkudata(L, 1, VZ_WS_MT);
  if (w->curl == NULL) luaL_error(L, "vzaps: websocket is closed");
  return w;
}

static double check_seconds(lua_State *L, int idx, double def) {
  lua_Number s = luaL_optnumber(L, idx, def);
  luaL_argcheck(L, vz_seconds_ok((double)s, 1), idx, "timeout must be zero or more seconds, at most one year");
  return (double)s;
}

/* core.ws_connect(client, url, headers, timeout)
 *   -> ws | nil, kind, message[, status, body, reason]
 * url is ws://host[:port]/path?query or wss://...; it never appears in a
 * message, because its query carries the access token. */
static int l_ws_connect(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  const char *url = luaL_checkstring(L, 2), *auth, *slash;
  double timeout = check_seconds(L, 4, (double)c->timeout_ms / 1000.0);
  int tls, ud, n;
  vz_ws *w;
  vz_headers_check_table(L, 3);
  lua_settop(L, 4);
  if (strncmp(url, "ws://", 5) == 0)
    tls = 0;
  else if (strncmp(url, "wss://", 6) == 0)
    tls = 1;
  else
    return luaL_argerror(L, 2, "ws:// or wss:// URL expected");
  auth = url + (tls ? 6 : 5);
  slash = auth + strcspn(auth, "/?#");
  luaL_argcheck(L, slash > auth && strcspn(auth, "@ \t\r\n") >= (size_t)(slash - auth), 2,
                "the URL needs a host (and no user info or spaces)");
  {
    const char *frag = strchr(slash, '#');
    size_t rest = frag ? (size_t)(frag - slash) : strlen(slash);
    lua_pushlstring(L, auth, (size_t)(slash - auth)); /* 5: Host header */
    lua_pushliteral(L, "/");                          /* 6: request target */
    lua_pushlstring(L, *slash == '/' ? slash + 1 : slash, *slash == '/' ? rest - 1 : rest);
    lua_concat(L, 2);
    lua_pushfstring(L, "%s://%s/", tls ? "https" : "http", lua_tostring(L, 5)); /* 7: what curl opens */
  }
  w = (vz_ws *)vz_newuserdata(L, sizeof *w);
  ud = lua_gettop(L);
  memset(w, 0, sizeof *w);
  vz_buf_init(&w->pre);
  w->fd = CURL_SOCKET_BAD;
  w->io_recv = io_curl_recv;
  w->io_send = io_curl_send;
  luaL_getmetatable(L, VZ_WS_MT);
  lua_setmetatable(L, ud);
  if ((w->curl = curl_easy_init()) == NULL) return luaL_error(L, "vzaps: cannot create a libcurl handle");
  curl_easy_setopt(w->curl, CURLOPT_URL, lua_tostring(L, 7));
  curl_easy_setopt(w->curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, w->errbuf);
  curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(w->curl, CURLOPT_HTTPPROXYTUNNEL, 1L); /* through a proxy: CONNECT, never plain HTTP */
  curl_easy_setopt(w->curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000.0) + 1);
  vz_client_apply_settings(c, w->curl);

  n = vz_ws_handshake(L, w, lua_tostring(L, 5), lua_tostring(L, 6), 3, vz_now() + timeout);
  if (n > 0) {
    ws_release(w);
    return n;
  }
  if (ws_start(w) != 0) {
    ws_release(w);
    return luaL_error(L, "vzaps: out of memory");
  }
  lua_pushvalue(L, ud);
  return 1;
}

/* ws:recv(timeout) -> text | nil, "timeout" | nil, kind, message[, code, reason] */
static int l_ws_recv(lua_State *L) {
  vz_ws *w = ws_check(L);
  double deadline = vz_now() + check_seconds(L, 2, 0);
  for (;;) {
    vz_ws_msg *m = w->head;
    if (m != NULL) {
      lua_pushlstring(L, m->data, m->len); /* before unlinking: a raise here leaks nothing */
      w->head = m->next;
      if (w->head == NULL) w->tail = NULL;
      free(m);
      return 1;
    }
    if (w->ended) return push_end(L, w);
    ws_pump(w);
    if (w->head != NULL || w->ended) continue;
    if (!ws_wait_io(w, deadline)) {
      lua_pushnil(L);
      lua_pushliteral(L, "timeout");
      return 2;
    }
  }
}

/* Queues one frame and flushes it: true | nil, kind, message */
static int queue_and_flush(lua_State *L, vz_ws *w, uint8_t opcode, const char *p, size_t n, double timeout) {
  struct wslay_event_msg msg;
  int r;
  if (w->ended) return push_end(L, w);
  msg.opcode = opcode, msg.msg = (const uint8_t *)p, msg.msg_length = n;
  if (wslay_event_queue_msg(w->ctx, &msg) != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    lua_pushliteral(L, "realtime connection is closing");
    return 3;
  }
  r = ws_flush(w, vz_now() + timeout);
  if (r < 0) return push_end(L, w);
  if (r == 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "timeout");
    lua_pushliteral(L, "realtime send timed out");
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* ws:send(text[, timeout]) */
static int l_ws_send(lua_State *L) {
  vz_ws *w = ws_check(L);
  size_t n;
  const char *p = luaL_checklstring(L, 2, &n);
  return queue_and_flush(L, w, WSLAY_TEXT_FRAME, p, n, check_seconds(L, 3, 10));
}

/* ws:ping([timeout]): a keepalive the server answers with a pong. */
static int l_ws_ping(lua_State *L) {
  vz_ws *w = ws_check(L);
  return queue_and_flush(L, w, WSLAY_PING, "", 0, check_seconds(L, 2, 10));
}

/* ws:last_rx(): monotonic time (as core.now) of the last bytes received. */
static int l_ws_last_rx(lua_State *L) {
  lua_pushnumber(L, (lua_Number)ws_check(L)->last_rx);
  return 1;
}

/* ws:close([code[, reason[, timeout]]]): close handshake (bounded by timeout,
 * default 1 s), then the socket is released. Always true; closing twice is
 * harmless. */
static int l_ws_close(lua_State *L) {
  vz_ws *w = (vz_ws *)luaL_checkudata(L, 1, VZ_WS_MT);
  lua_Integer code = luaL_optinteger(L, 2, 1000);
  size_t rn = 0;
  const char *reason = luaL_optlstring(L, 3, "", &rn);
  double deadline = vz_now() + check_seconds(L, 4, 1);
  luaL_argcheck(L, code >= 1000 && code <= 4999, 2, "close code must be 1000..4999");
  luaL_argcheck(L, rn <= 123, 3, "close reason is longer than 123 bytes");
  if (w->curl != NULL && !w->ended &&
      wslay_event_queue_close(w->ctx, (uint16_t)code, (const uint8_t *)reason, rn) == 0 && ws_flush(w, deadline) == 1) {
    /* Wait for the server's close frame, so the server ends TCP first. */
    while (!w->ended && !wslay_event_get_close_received(w->ctx) && ws_wait_io(w, deadline)) ws_pump(w);
  }
  ws_release(w);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_ws_gc(lua_State *L) {
  ws_release((vz_ws *)luaL_checkudata(L, 1, VZ_WS_MT));
  return 0;
}

static int l_ws_tostring(lua_State *L) {
  vz_ws *w = (vz_ws *)luaL_checkudata(L, 1, VZ_WS_MT);
  if (w->curl == NULL)
    lua_pushliteral(L, "vzaps.WebSocket (closed)");
  else
    lua_pushfstring(L, "vzaps.WebSocket (%p)", (void *)w);
  return 1;
}

static const luaL_Reg ws_methods[] = {
    {"recv", l_ws_recv},       {"send", l_ws_send},   {"ping", l_ws_ping},
    {"last_rx", l_ws_last_rx}, {"close", l_ws_close}, {NULL, NULL},
};

/* Registers vzaps.WebSocket and core.ws_connect on the core table on top. */
void vz_ws_register(lua_State *L) {
  int core = lua_gettop(L);
  luaL_newmetatable(L, VZ_WS_MT);
  lua_newtable(L);
  vz_setfuncs(L, ws_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_ws_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_ws_gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_ws_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_ws_connect);
  lua_setfield(L, core, "ws_connect");
}
