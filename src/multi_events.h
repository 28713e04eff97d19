/* multi_events.h: a curl multi handle driven by socket callbacks
 * (multi_events.c): one epoll set over libcurl's sockets and libcurl's
 * timer, so that a loop can wait on one fd. */
#ifndef VZ_MULTI_EVENTS_H
#define VZ_MULTI_EVENTS_H

#include <curl/curl.h>

typedef struct vz_events {
  CURLM *multi;
  int fd; /* the epoll fd; -1 where there is no epoll */
} vz_events;

/* Installs the callbacks on multi; 0 on success, -1 when the epoll set
 * cannot be made. */
int vz_events_open(vz_events *ev, CURLM *multi);
void vz_events_close(vz_events *ev);
/* Waits at most wait_ms (0: never) for a socket event or libcurl's timer,
 * then hands what is ready to curl_multi_socket_action. CURLM_OK or the
 * failure. */
CURLMcode vz_events_drive(vz_events *ev, long wait_ms);
/* Milliseconds until libcurl's timer (0 when due), -1 when none. */
long vz_events_timeout_ms(const vz_events *ev);

#endif
