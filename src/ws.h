/* ws.h: the realtime connection's state (vz_ws), shared by ws_handshake.c
 * (the HTTP/1.1 Upgrade over libcurl's CONNECT_ONLY connection) and ws.c
 * (wslay framing, the vzaps.WebSocket userdata). No Lua code ever runs
 * inside a libcurl or wslay callback: they only move bytes and collect
 * messages into C buffers. */
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
/* Bytes one pump reads at most, so that a server sending without pause
 * cannot keep a call inside wslay_event_recv (the caller's deadline, or
 * VZ_WS_PUMP_SLICE when that is sooner, bounds it too). */
#define VZ_WS_PUMP_BYTES ((size_t)1024 * 1024)
/* Seconds a pump may read past an earlier deadline (a recv(0)). */
#define VZ_WS_PUMP_SLICE 0.002
/* Defaults of the flood limits (ws_connect's limits table, the
 * subscription's options of the same names): received messages waiting for
 * ws:recv, in bytes (with a per-message overhead) and in count, and frames
 * waiting to be sent (pongs wslay owes the server's pings, acks). */
#define VZ_WS_MAX_QUEUED_BYTES ((size_t)64 * 1024 * 1024)
#define VZ_WS_MAX_QUEUED_MESSAGES ((size_t)100000)
#define VZ_WS_MAX_UNSENT_FRAMES ((size_t)1024)

/* One complete message received, waiting for ws:recv. */
typedef struct vz_ws_msg {
  struct vz_ws_msg *next;
  size_t len;
  char data[1]; /* len bytes + NUL */
} vz_ws_msg;

/* Where an opening connection stands (vz_ws.phase): libcurl connects on a
 * multi handle of its own, then the Upgrade is written and its answer read,
 * each a step that never waits (ws_handshake.c). */
enum { VZ_WS_CONNECTING = 1, VZ_WS_SENDING, VZ_WS_READING, VZ_WS_BODY, VZ_WS_OPEN };
#define VZ_WS_MAX_SOCKS 4 /* sockets libcurl may try at once while connecting */
/* Seconds between connecting steps when libcurl lists no socket to watch
 * (resolving the name, or a socket past FD_SETSIZE). */
#define VZ_WS_BLIND_STEP 0.01

typedef struct vz_ws {
  CURL *curl; /* NULL once closed */
  /* The connection's own multi handle: the easy handle stays in it for the
   * connection's whole life, since libcurl 7.88 closes a CONNECT_ONLY
   * connection when its easy handle leaves the multi handle. */
  CURLM *multi;
  curl_socket_t fd;
  int phase;
  /* The handshake in progress: the request and how much of it went out, the
   * key, the deadline, and (a refusal) the answer's status and body size. */
  vz_buf req;
  size_t req_pos;
  char key[32];
  double deadline, body_deadline;
  double budget;         /* seconds the handshake was given (its timeout message) */
  double connect_budget; /* libcurl's connect timeout on it, seconds (0: none) */
  size_t head_len, body_want;
  int status;
  char reason[64];
  /* What libcurl watches while connecting (curl_multi_fdset) and its next
   * timer (CURLMOPT_TIMERFUNCTION; -1 none). */
  struct {
    curl_socket_t fd;
    int what;
  } socks[VZ_WS_MAX_SOCKS];
  int nsocks;
  long timer_ms;
  double timer_set_at;
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
  double last_rx; /* monotonic time of the last bytes received */
  int eof;        /* the server closed TCP */
  int oom;        /* a message could not be stored */
  int flood;      /* a flood limit was passed (WS_FLOOD_* in ws.c) */
  size_t max_queued_bytes, max_queued_messages, max_unsent_frames;
  size_t queued_bytes, queued_messages; /* in the list head..tail */
  size_t pump_left;                     /* bytes the current pump may still read */
  double pump_deadline;                 /* and until when (after its first read) */
  int pump_reads;
  CURLcode io_err; /* hard send/recv error, CURLE_OK when none */
  int ended;       /* the connection is over; the fields above say why */
  int close_code;  /* close code the server sent, 0 when none */
  char close_reason[124];
  char errbuf[CURL_ERROR_SIZE];
} vz_ws;

/* Registers core.ws_pollset (ws_pollset.c) on the core table at index core. */
void vz_ws_pollset_register(lua_State *L, int core);

#endif
