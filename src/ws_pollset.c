/* ws_pollset.c: the one file descriptor a subscription's pollable hands to
 * an event loop (sub:pollable():pollfd()). The realtime socket changes at
 * every reconnect, and libcurl may try several while it connects, so the
 * loop gets an epoll set instead, stable for the subscription's life, and
 * each step of the subscription puts the sockets its connection waits for
 * into it (ps:watch). Linux only: elsewhere core.ws_pollset raises. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/epoll.h>
#endif

#include <poll.h>

#include "ws.h"
#include "ws_handshake.h"

#define VZ_PS_MT "vzaps.WebSocketPollset"

#ifdef __linux__

typedef struct {
  int epfd; /* -1 once closed */
  int n;
  struct {
    int fd;
    unsigned events;
  } in[VZ_WS_MAX_SOCKS];
  const vz_ws *ws; /* what was watched last (compared, never dereferenced later) */
  int open;        /* ...and whether it was open then */
} vz_pollset;

static vz_pollset *ps_check(lua_State *L) {
  vz_pollset *ps = (vz_pollset *)luaL_checkudata(L, 1, VZ_PS_MT);
  if (ps->epfd < 0) luaL_error(L, "vzaps: pollset is closed");
  return ps;
}

static void ps_clear(vz_pollset *ps) {
  int i;
  for (i = 0; i < ps->n; i++) {
    struct epoll_event ev; /* ignored, but needed by kernels before 2.6.9 */
    memset(&ev, 0, sizeof ev);
    /* ENOENT / EBADF: the socket was closed meanwhile and left the set */
    (void)epoll_ctl(ps->epfd, EPOLL_CTL_DEL, ps->in[i].fd, &ev);
  }
  ps->n = 0, ps->ws = NULL, ps->open = 0;
}

static void ps_add(vz_pollset *ps, int fd, unsigned events) {
  struct epoll_event ev;
  if (fd < 0 || events == 0 || ps->n >= VZ_WS_MAX_SOCKS) return;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(ps->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
      (errno != EEXIST || epoll_ctl(ps->epfd, EPOLL_CTL_MOD, fd, &ev) != 0))
    return;
  ps->in[ps->n].fd = fd, ps->in[ps->n].events = events, ps->n++;
}

static unsigned of_poll(short ev) { return (ev & POLLIN ? EPOLLIN : 0u) | (ev & POLLOUT ? EPOLLOUT : 0u); }

/* ps:watch(ws|nil): the set holds the sockets ws waits for now, nothing
 * else (nil: nothing). An open connection keeps its socket: no system call
 * unless the directions changed. */
static int l_ps_watch(lua_State *L) {
  vz_pollset *ps = ps_check(L);
  const vz_ws *w = lua_isnoneornil(L, 2) ? NULL : (const vz_ws *)luaL_checkudata(L, 2, VZ_WS_MT);
  if (w != NULL && (w->curl == NULL || w->ended)) w = NULL;
  if (w != NULL && w->phase == VZ_WS_OPEN) {
    unsigned events = EPOLLIN | (w->ctx != NULL && wslay_event_want_write(w->ctx) ? EPOLLOUT : 0u);
    if (ps->ws == w && ps->open && ps->n == 1 && ps->in[0].events == events) return 0;
    ps_clear(ps);
    ps_add(ps, (int)w->fd, events);
    ps->ws = w, ps->open = 1;
    return 0;
  }
  ps_clear(ps);
  if (w == NULL) return 0;
  if (w->phase == VZ_WS_CONNECTING) {
    int i;
    for (i = 0; i < w->nsocks; i++) {
      int what = w->socks[i].what;
      ps_add(ps, (int)w->socks[i].fd, (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u));
    }
  } else {
    ps_add(ps, (int)w->fd, of_poll(vz_ws_handshake_wants(w)));
  }
  ps->ws = w;
  return 0;
}

/* ps:fd() -> the epoll descriptor (the same for the set's life) */
static int l_ps_fd(lua_State *L) {
  lua_pushinteger(L, ps_check(L)->epfd);
  return 1;
}

/* ps:ready() -> whether a socket in the set is ready now (never waits) */
static int l_ps_ready(lua_State *L) {
  vz_pollset *ps = ps_check(L);
  struct pollfd p;
  p.fd = ps->epfd, p.events = POLLIN, p.revents = 0;
  lua_pushboolean(L, poll(&p, 1, 0) > 0);
  return 1;
}

static int l_ps_close(lua_State *L) {
  vz_pollset *ps = (vz_pollset *)luaL_checkudata(L, 1, VZ_PS_MT);
  if (ps->epfd >= 0) close(ps->epfd);
  ps->epfd = -1, ps->n = 0;
  return 0;
}

/* core.ws_pollset() -> a new, empty set */
static int l_ws_pollset(lua_State *L) {
  vz_pollset *ps = (vz_pollset *)vz_newuserdata(L, sizeof *ps);
  memset(ps, 0, sizeof *ps);
  ps->epfd = -1;
  luaL_getmetatable(L, VZ_PS_MT);
  lua_setmetatable(L, -2);
  ps->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (ps->epfd < 0) return luaL_error(L, "vzaps: cannot create an epoll set: %s", strerror(errno));
  return 1;
}

static const luaL_Reg ps_methods[] = {
    {"watch", l_ps_watch}, {"fd", l_ps_fd}, {"ready", l_ps_ready}, {"close", l_ps_close}, {NULL, NULL},
};

void vz_ws_pollset_register(lua_State *L, int core) {
  luaL_newmetatable(L, VZ_PS_MT);
  lua_newtable(L);
  vz_setfuncs(L, ps_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_ps_close);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_ws_pollset);
  lua_setfield(L, core, "ws_pollset");
}

#else

static int l_ws_pollset(lua_State *L) { return luaL_error(L, "vzaps: sub:pollable() needs Linux (epoll)"); }

void vz_ws_pollset_register(lua_State *L, int core) {
  lua_pushcfunction(L, l_ws_pollset);
  lua_setfield(L, core, "ws_pollset");
}

#endif
