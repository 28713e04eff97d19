/* ws_wait.h: the one blocking step of the realtime connection, a poll() on
 * its socket bounded by a deadline. Its own file so that ws.c (framing) and
 * ws_handshake.c (the Upgrade) both use it without calling each other. */
#ifndef VZ_WS_WAIT_H
#define VZ_WS_WAIT_H

#include <curl/curl.h>

/* Waits until fd is ready for events or deadline (monotonic seconds, as
 * vz_now) passes. Returns 1 ready, 0 timed out, -1 poll failed. */
int vz_ws_wait(curl_socket_t fd, short events, double deadline);

#endif
