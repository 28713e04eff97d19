/* ws.c: the vzaps.WebSocket userdata. wslay does the RFC 6455 framing
 * (masking, fragments, ping -> pong, close handshake) over the libcurl
 * CONNECT_ONLY connection opened in ws_handshake.c. Its callbacks only move
 * bytes and store complete messages in a C list; Lua sees them in ws:recv.
 * Every wait is a poll() with a deadline, so nothing blocks forever. */
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ws.h"
#include "ws_handshake.h"
#include "ws_wait.h"

/* vz_ws.flood: which limit a peer passed. */
enum { WS_FLOOD_NONE, WS_FLOOD_UNSENT, WS_FLOOD_MESSAGES, WS_FLOOD_BYTES };

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
  size_t got = 0, unsent, room;
  CURLcode rc;
  (void)flags;
  /* The pump's budget: a server that never pauses still lets the call
   * return (with what was read) once its bytes or the caller's time are
   * spent; the first read of a pump always happens. */
  if (w->pump_left == 0 || (w->pump_reads > 0 && vz_now() >= w->pump_deadline)) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  /* Each ping read makes wslay queue a pong. Past half of max_unsent_frames
   * the pump stops reading to send them, and one read is never big enough
   * (2 bytes per ping) to pass the limit while there is room: only a peer
   * that does not read reaches it, not a burst of pings. */
  unsent = wslay_event_get_queued_msg_count(ctx);
  if (w->pump_reads > 0 && unsent >= w->max_unsent_frames / 2) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  room = unsent < w->max_unsent_frames ? w->max_unsent_frames - unsent : 0;
  if (len > 2 * room) len = room > 0 ? 2 * room : 2; /* no room: a read that may pass the limit */
  if (len > w->pump_left) len = w->pump_left;
  w->pump_reads++;
  if (w->pre_pos < w->pre.len) { /* frames that came with the handshake answer */
    got = w->pre.len - w->pre_pos;
    if (got > len) got = len;
    memcpy(buf, w->pre.data + w->pre_pos, got);
    w->pre_pos += got;
    w->pump_left -= got;
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
  w->pump_left -= got;
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

/* Frees the received messages nobody read. */
static void drop_queue(vz_ws *w) {
  vz_ws_msg *m = w->head;
  while (m != NULL) {
    vz_ws_msg *next = m->next;
    free(m);
    m = next;
  }
  w->head = w->tail = NULL;
  w->queued_bytes = w->queued_messages = 0;
}

/* A peer past a limit: reading stops, what waits is dropped (ws:recv
 * reports the end at once) and ws_pump ends the connection. */
static void flooded(wslay_event_context_ptr ctx, vz_ws *w, int why) {
  w->flood = why;
  drop_queue(w);
  wslay_event_shutdown_read(ctx);
}

static void cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud) {
  vz_ws *w = (vz_ws *)ud;
  if (w->flood) return;
  if (arg->opcode == WSLAY_PING && wslay_event_get_queued_msg_count(ctx) > w->max_unsent_frames) {
    flooded(ctx, w, WS_FLOOD_UNSENT); /* wslay has just queued one more pong */
  } else if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) {
    size_t cost = sizeof(vz_ws_msg) + arg->msg_length;
    vz_ws_msg *m;
    if (w->queued_messages >= w->max_queued_messages) {
      flooded(ctx, w, WS_FLOOD_MESSAGES);
      return;
    }
    if (cost > w->max_queued_bytes - w->queued_bytes) {
      flooded(ctx, w, WS_FLOOD_BYTES);
      return;
    }
    m = (vz_ws_msg *)malloc(cost);
    if (m == NULL) {
      w->oom = 1;
      drop_queue(w);
      wslay_event_shutdown_read(ctx);
      return;
    }
    w->queued_bytes += cost;
    w->queued_messages++;
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
  drop_queue(w);
  if (w->ctx != NULL) wslay_event_context_free(w->ctx);
  w->ctx = NULL;
  if (w->multi != NULL && w->curl != NULL) curl_multi_remove_handle(w->multi, w->curl);
  if (w->curl != NULL) curl_easy_cleanup(w->curl);
  w->curl = NULL;
  if (w->multi != NULL) curl_multi_cleanup(w->multi);
  w->multi = NULL;
  w->nsocks = 0, w->fd = CURL_SOCKET_BAD;
  vz_buf_free(&w->pre);
  vz_buf_free(&w->req);
  w->ended = 1;
}

/* One non-blocking round: read what is there (at most VZ_WS_PUMP_BYTES, and
 * no later than deadline, or VZ_WS_PUMP_SLICE from now when that is later,
 * so that poll(0) still moves a big message along), write what is queued. Marks
 * the connection ended when wslay has nothing more to do in either way, or
 * when a limit was passed or memory ran out (then nothing more is sent:
 * the peer may not be reading at all). */
static void ws_pump(vz_ws *w, double deadline) {
  double slice = vz_now() + VZ_WS_PUMP_SLICE;
  if (w->ended) return;
  w->pump_left = VZ_WS_PUMP_BYTES, w->pump_reads = 0, w->pump_deadline = deadline > slice ? deadline : slice;
  if (wslay_event_want_read(w->ctx) && wslay_event_recv(w->ctx) != 0) w->ended = 1;
  if (w->flood || w->oom) w->ended = 1;
  if (!w->ended && wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) != 0) w->ended = 1;
  if (!w->ended && !wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx)) w->ended = 1;
  if (w->ended && w->pre.cap > 0) vz_buf_free(&w->pre);
}

/* After a successful handshake: the wslay client context, with the message
 * size limit. Returns 0, or -1 out of memory. */
static int ws_start(vz_ws *w) {
  if (w->max_queued_bytes == 0) w->max_queued_bytes = VZ_WS_MAX_QUEUED_BYTES;
  if (w->max_queued_messages == 0) w->max_queued_messages = VZ_WS_MAX_QUEUED_MESSAGES;
  if (w->max_unsent_frames == 0) w->max_unsent_frames = VZ_WS_MAX_UNSENT_FRAMES;
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
  if (w->flood == WS_FLOOD_UNSENT) {
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "realtime server does not read: more than %d frames wait to be sent (max_unsent_frames)",
                    (int)w->max_unsent_frames);
  } else if (w->flood == WS_FLOOD_MESSAGES) {
    lua_pushliteral(L, "network");
    lua_pushfstring(L, "realtime server sends faster than it is read: more than %d messages wait (max_queued_messages)",
                    (int)w->max_queued_messages);
  } else if (w->flood == WS_FLOOD_BYTES) {
    lua_pushliteral(L, "network");
    lua_pushfstring(
        L, "realtime server sends faster than it is read: more than %d bytes of messages wait (max_queued_bytes)",
        (int)w->max_queued_bytes);
  } else if (w->oom) {
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
  if (w->phase != VZ_WS_OPEN) luaL_error(L, "vzaps: websocket is still opening");
  return w;
}

static double check_seconds(lua_State *L, int idx, double def) {
  lua_Number s = luaL_optnumber(L, idx, def);
  luaL_argcheck(L, vz_seconds_ok((double)s, 1), idx, "timeout must be zero or more seconds, at most one year");
  return (double)s;
}

/* The flood limit name of the limits table at idx (nil: the default), an
 * integer from 1 to INT_MAX so that messages can print it with %d. */
static size_t opt_limit(lua_State *L, int idx, const char *name) {
  lua_Number v;
  size_t r = 0;
  lua_getfield(L, idx, name);
  if (!lua_isnil(L, -1)) {
    v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : -1;
    if (!(v >= 1 && v <= INT_MAX && v == floor(v)))
      luaL_error(L, "bad argument #5 to 'ws_connect' (%s must be an integer from 1 to %d)", name, INT_MAX);
    r = (size_t)v;
  }
  lua_pop(L, 1);
  return r;
}

/* The arguments of core.ws_open / ws_connect checked, the userdata made and
 * its handshake begun (nothing waited for): returns the userdata's index,
 * or 0 with nil, kind, message pushed.
 * limits: {max_queued_bytes=, max_queued_messages=, max_unsent_frames=}
 * (see ws.h; unset ones take the defaults there).
 * url is ws://host[:port]/path?query or wss://...; it never appears in a
 * message, because its query carries the access token. */
static int ws_open(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  const char *url = luaL_checkstring(L, 2), *auth, *slash;
  double timeout = check_seconds(L, 4, (double)c->timeout_ms / 1000.0);
  int tls, ud;
  vz_ws *w;
  size_t max_bytes = 0, max_msgs = 0, max_unsent = 0;
  vz_headers_check_table(L, 3);
  if (!lua_isnoneornil(L, 5)) {
    luaL_checktype(L, 5, LUA_TTABLE);
    max_bytes = opt_limit(L, 5, "max_queued_bytes");
    max_msgs = opt_limit(L, 5, "max_queued_messages");
    max_unsent = opt_limit(L, 5, "max_unsent_frames");
  }
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
  w->max_queued_bytes = max_bytes, w->max_queued_messages = max_msgs, w->max_unsent_frames = max_unsent;
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
  w->connect_budget = (double)c->connect_timeout_ms / 1000.0;

  if (vz_ws_handshake_begin(L, w, lua_tostring(L, 5), lua_tostring(L, 6), 3, vz_now() + timeout) > 0) {
    ws_release(w);
    return 0;
  }
  return ud;
}

/* The handshake's end: the framing starts, or the failure on top is kept
 * and the connection released. Returns n unchanged (0: open). */
static int handshake_done(lua_State *L, vz_ws *w, int n) {
  if (n > 0) {
    ws_release(w);
    return n;
  }
  if (ws_start(w) != 0) {
    ws_release(w);
    return luaL_error(L, "vzaps: out of memory");
  }
  return 0;
}

/* core.ws_connect(client, url, headers, timeout[, limits])
 *   -> ws | nil, kind, message[, status, body, reason]: opened before it
 * returns (a blocking connect). */
static int l_ws_connect(lua_State *L) {
  int ud = ws_open(L), n;
  vz_ws *w;
  if (ud == 0) return 3;
  w = (vz_ws *)lua_touserdata(L, ud);
  n = handshake_done(L, w, vz_ws_handshake_finish(L, w));
  if (n > 0) return n;
  lua_pushvalue(L, ud);
  return 1;
}

/* core.ws_open(client, url, headers, timeout[, limits]) -> ws, its
 * connection opened by ws:advance() steps | nil, kind, message */
static int l_ws_open(lua_State *L) {
  int ud = ws_open(L);
  if (ud == 0) return 3;
  lua_pushvalue(L, ud);
  return 1;
}

/* ws:advance() -> true open | false still opening (never waits) |
 * nil, kind, message[, status, body, reason] (the connection is released) */
static int l_ws_advance(lua_State *L) {
  vz_ws *w = (vz_ws *)luaL_checkudata(L, 1, VZ_WS_MT);
  int n;
  if (w->curl == NULL) return luaL_error(L, "vzaps: websocket is closed");
  if (w->phase == VZ_WS_OPEN) {
    lua_pushboolean(L, 1);
    return 1;
  }
  n = vz_ws_handshake_step(L, w);
  if (n == VZ_WS_PENDING) {
    lua_pushboolean(L, 0);
    return 1;
  }
  n = handshake_done(L, w, n);
  if (n > 0) return n;
  lua_pushboolean(L, 1);
  return 1;
}

/* ws:wait(seconds): waits at most that long for the socket(s) the
 * connection needs next (opening: libcurl's or the handshake's; open: a read,
 * and a write when frames wait). Returns nothing: the next step tells. */
static int l_ws_wait(lua_State *L) {
  vz_ws *w = (vz_ws *)luaL_checkudata(L, 1, VZ_WS_MT);
  double s = check_seconds(L, 2, 0);
  if (w->curl == NULL) return 0;
  if (w->phase == VZ_WS_CONNECTING) {
    double t = vz_ws_handshake_timeout(w);
    if (t < s) s = t;
    curl_multi_poll(w->multi, NULL, 0, s > 1.0 ? 1000 : (int)ceil(s * 1000.0), NULL);
  } else if (w->phase != VZ_WS_OPEN) {
    double t = vz_ws_handshake_timeout(w);
    vz_ws_wait(w->fd, vz_ws_handshake_wants(w), vz_now() + (t < s ? t : s));
  } else if (!w->ended && w->head == NULL && w->pre_pos >= w->pre.len) {
    ws_wait_io(w, vz_now() + s);
  }
  return 0;
}

/* ws:timeout() -> seconds until an opening connection must step anyway
 * (libcurl's timer, the handshake deadline); 0 when an open one holds
 * messages or bytes already read (its socket may stay quiet); nil otherwise. */
static int l_ws_timeout(lua_State *L) {
  vz_ws *w = (vz_ws *)luaL_checkudata(L, 1, VZ_WS_MT);
  if (w->curl == NULL) return 0;
  if (w->phase != VZ_WS_OPEN)
    lua_pushnumber(L, (lua_Number)vz_ws_handshake_timeout(w));
  else if (w->head != NULL || w->pre_pos < w->pre.len || w->ended)
    lua_pushnumber(L, 0);
  else
    return 0;
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
      w->queued_bytes -= sizeof(vz_ws_msg) + m->len;
      w->queued_messages--;
      free(m);
      return 1;
    }
    if (w->ended) return push_end(L, w);
    ws_pump(w, deadline);
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
  if (wslay_event_get_queued_msg_count(w->ctx) >= w->max_unsent_frames) {
    /* the peer has read nothing for that many frames: acks and pings too */
    w->flood = WS_FLOOD_UNSENT, w->ended = 1;
    drop_queue(w);
    return push_end(L, w);
  }
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
  if (w->curl != NULL && w->ctx != NULL && !w->ended &&
      wslay_event_queue_close(w->ctx, (uint16_t)code, (const uint8_t *)reason, rn) == 0 && ws_flush(w, deadline) == 1) {
    /* Wait for the server's close frame, so the server ends TCP first. */
    while (!w->ended && !wslay_event_get_close_received(w->ctx) && ws_wait_io(w, deadline)) ws_pump(w, deadline);
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
    {"recv", l_ws_recv},       {"send", l_ws_send},       {"ping", l_ws_ping},
    {"last_rx", l_ws_last_rx}, {"close", l_ws_close},     {"advance", l_ws_advance},
    {"wait", l_ws_wait},       {"timeout", l_ws_timeout}, {NULL, NULL},
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
  lua_pushcfunction(L, l_ws_open);
  lua_setfield(L, core, "ws_open");
  vz_ws_pollset_register(L, core);
}
