/* ws.h: the realtime WebSocket client (RFC 6455). libcurl opens the TCP/TLS
 * connection (CONNECT_ONLY) with the client's settings; ws_handshake.c
 * writes the HTTP/1.1 Upgrade itself; ws.c frames with wslay and exposes the
 * vzaps.WebSocket userdata. No Lua code ever runs inside a libcurl or wslay
 * callback: they only move bytes and collect messages into C buffers. */
#ifndef VZ_WS_H
#define VZ_WS_H

#include <wslay/wslay.h>

#include "client.h"
#include "clock.h"
#include "policy.h"
#include "vzaps.h"

#define VZ_WS_MT "vzaps.WebSocket"
/* Longest message accepted from the server; bigger ones fail the connection
 * with close code 1009 and a clean "network" error. */
#define VZ_WS_MAX_MSG ((size_t)16 * 1024 * 1024)
/* Longest handshake response head, and error body kept for the message. */
#define VZ_WS_MAX_HEAD 16384
#define VZ_WS_MAX_ERRBODY 65536

/* One complete message received, waiting for ws:recv. */
typedef struct vz_ws_msg {
  struct vz_ws_msg *next;
  size_t len;
  char data[1]; /* len bytes + NUL */
} vz_ws_msg;

typedef struct vz_ws {
  CURL *curl; /* NULL once closed */
  curl_socket_t fd;
  /* Byte I/O on the connection: curl_easy_recv / curl_easy_send on curl
   * (set by core.ws_connect). Every read and write of the handshake and of
   * wslay goes through these two, so that fuzz/fuzz_ws.c can feed server
   * bytes from a buffer to the same code without a socket. */
  CURLcode (*io_recv)(struct vz_ws *w, void *buf, size_t len, size_t *got);
  CURLcode (*io_send)(struct vz_ws *w, const void *buf, size_t len, size_t *sent);
  wslay_event_context_ptr ctx;
  vz_buf pre; /* bytes read past the handshake head, fed to wslay first */
  size_t pre_pos;
  vz_ws_msg *head, *tail;
  double last_rx;  /* monotonic time of the last bytes received */
  int eof;         /* the server closed TCP */
  int oom;         /* a message could not be stored */
  CURLcode io_err; /* hard send/recv error, CURLE_OK when none */
  int ended;       /* the connection is over; the fields above say why */
  int close_code;  /* close code the server sent, 0 when none */
  char close_reason[124];
  char errbuf[CURL_ERROR_SIZE];
} vz_ws;

/* ws.c */
/* Waits until fd is ready for events or deadline (monotonic seconds) passes.
 * Returns 1 ready, 0 timed out, -1 poll failed. */
int vz_ws_wait(curl_socket_t fd, short events, double deadline);

/* ws_handshake.c: connects w (its curl handle set up with the http(s) URL)
 * and performs the Upgrade for host/target with the headers table at
 * hdr_idx (already checked: string names and values, no CR/LF). Returns 0
 * on success; on failure pushes nil, kind, message[, status, body, reason]
 * and returns their count. */
int vz_ws_handshake(lua_State *L, vz_ws *w, const char *host, const char *target, int hdr_idx, double deadline);

#endif
