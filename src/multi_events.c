/* multi_events.c: libcurl's sockets in one epoll set
 * (CURLMOPT_SOCKETFUNCTION), driven by curl_multi_socket_action; libcurl's
 * timer is read with curl_multi_timeout. The epoll fd is readable exactly
 * when a socket libcurl watches is, so an event loop can wait on it; with nothing in
 * flight the set is empty and the fd stays quiet. Elsewhere than Linux the
 * multi handle is driven by curl_multi_perform/curl_multi_poll (no fd). */
#include "multi_events.h"

/* libcurl's timer (curl_multi_timeout serves both ways of driving). */
long vz_events_timeout_ms(const vz_events *ev) {
  long ms = -1;
  if (curl_multi_timeout(ev->multi, &ms) != CURLM_OK) return -1;
  return ms;
}

#ifdef __linux__
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define VZ_EVENTS_BATCH 32

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  vz_events *ev = (vz_events *)userp;
  struct epoll_event e;
  (void)easy;
  (void)socketp;
  if (what == CURL_POLL_REMOVE) {
    /* The socket may already be closed: nothing to undo then. */
    epoll_ctl(ev->fd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  e.events = 0;
  e.data.u64 = 0;
  e.data.fd = s;
  if (what & CURL_POLL_IN) e.events |= EPOLLIN;
  if (what & CURL_POLL_OUT) e.events |= EPOLLOUT;
  if (epoll_ctl(ev->fd, EPOLL_CTL_MOD, s, &e) != 0 && errno == ENOENT) epoll_ctl(ev->fd, EPOLL_CTL_ADD, s, &e);
  return 0;
}

int vz_events_open(vz_events *ev, CURLM *multi) {
  ev->multi = multi;
  ev->fd = epoll_create1(EPOLL_CLOEXEC);
  if (ev->fd < 0) return -1;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, ev);
  return 0;
}

void vz_events_close(vz_events *ev) {
  if (ev->fd >= 0) close(ev->fd);
  ev->fd = -1;
}

CURLMcode vz_events_drive(vz_events *ev, long wait_ms) {
  struct epoll_event evs[VZ_EVENTS_BATCH];
  long timer = vz_events_timeout_ms(ev);
  int n, i, running;
  CURLMcode rc = CURLM_OK;
  if (timer >= 0 && timer < wait_ms) wait_ms = timer;
  if (wait_ms < 0) wait_ms = 0;
  n = epoll_wait(ev->fd, evs, VZ_EVENTS_BATCH, (int)wait_ms);
  if (n < 0 && errno == EINTR) n = 0; /* a signal: the caller loops */
  if (n < 0) return CURLM_INTERNAL_ERROR;
  for (i = 0; i < n && rc == CURLM_OK; i++) {
    int flags = 0;
    if (evs[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (evs[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (evs[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    rc = curl_multi_socket_action(ev->multi, evs[i].data.fd, flags, &running);
  }
  if (rc == CURLM_OK && vz_events_timeout_ms(ev) == 0)
    rc = curl_multi_socket_action(ev->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  return rc;
}

#else /* no epoll: curl_multi_perform, and pump with a timer instead of an fd */

int vz_events_open(vz_events *ev, CURLM *multi) {
  ev->multi = multi;
  ev->fd = -1;
  return 0;
}

void vz_events_close(vz_events *ev) { ev->fd = -1; }

CURLMcode vz_events_drive(vz_events *ev, long wait_ms) {
  int running = 0;
  CURLMcode rc = curl_multi_perform(ev->multi, &running);
  if (rc != CURLM_OK || running == 0 || wait_ms <= 0) return rc;
  rc = curl_multi_poll(ev->multi, NULL, 0, (int)wait_ms, NULL);
  if (rc != CURLM_OK) return rc;
  return curl_multi_perform(ev->multi, &running);
}

#endif
