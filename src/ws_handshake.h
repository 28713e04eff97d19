/* ws_handshake.h: opening a realtime connection (ws_handshake.c), in steps
 * that never wait, so that a subscription's poll(0) stays quick. */
#ifndef VZ_WS_HANDSHAKE_H
#define VZ_WS_HANDSHAKE_H

#include "ws.h"

/* What vz_ws_handshake_step returns while the handshake goes on. */
#define VZ_WS_PENDING (-1)

/* Starts opening w (its curl handle set up with the http(s) URL, CONNECT_ONLY)
 * for host/target with the headers table at hdr_idx (already checked:
 * string names and values, no CR/LF), to be done by deadline (monotonic
 * seconds). Returns 0, or pushes nil, kind, message and returns 3. */
int vz_ws_handshake_begin(lua_State *L, vz_ws *w, const char *host, const char *target, int hdr_idx, double deadline);

/* One step that never waits: VZ_WS_PENDING, 0 open (w->phase VZ_WS_OPEN),
 * or a failure pushed (nil, kind, message[, status, body, reason]) and its
 * count returned. */
int vz_ws_handshake_step(lua_State *L, vz_ws *w);

/* POLLIN / POLLOUT on w->fd that the next step waits for (0 while libcurl
 * connects: its sockets are in w->socks), and the seconds until a step is
 * due anyway (libcurl's timer, the deadline). */
short vz_ws_handshake_wants(const vz_ws *w);
double vz_ws_handshake_timeout(const vz_ws *w);

/* The steps driven to the end with waits in between (a blocking connect). */
int vz_ws_handshake_finish(lua_State *L, vz_ws *w);

#endif
