/* ws_handshake.h: opening a realtime connection (ws_handshake.c). */
#ifndef VZ_WS_HANDSHAKE_H
#define VZ_WS_HANDSHAKE_H

#include "ws.h"

/* Connects w (its curl handle set up with the http(s) URL) and performs the
 * Upgrade for host/target with the headers table at hdr_idx (already
 * checked: string names and values, no CR/LF). Returns 0 on success; on
 * failure pushes nil, kind, message[, status, body, reason] and returns
 * their count. */
int vz_ws_handshake(lua_State *L, vz_ws *w, const char *host, const char *target, int hdr_idx, double deadline);

#endif
