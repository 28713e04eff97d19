/* multi.c: the transfers of the client's jobs (client:spawn,
 * client:parallel). One curl multi handle with a pool of transfer slots
 * (easy handles) sharing its connection cache, so up to n requests run at
 * once over kept-alive (or HTTP/2-multiplexed) connections. The scheduler
 * is Lua (scheduler.lua): it puts a request object in a free slot with
 * m:add and collects finished ones with m:next. The multi's user value
 * holds each slot's request object while it is in flight (libcurl reads
 * its body from there). The multi is driven by socket events
 * (multi_events.c), so client:pollable can hand a loop one fd. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "multi_events.h"
#include "clock.h"
#include "request_object.h"
#include "transport.h"
#include "udata.h"
#include "vzaps.h"

#define VZ_MULTI_MT "vzaps.Multi"
#define VZ_MULTI_MAX 256

typedef struct vz_multi {
  CURLM *multi;    /* NULL once closed */
  vz_share *share; /* the client's connection cache (a reference) */
  vz_events ev;    /* its sockets and timer (client:pollable's fd) */
  int size;
  long timeout_ms;
  vz_xfer *slots;
  char *busy; /* slot is added to the multi handle */
} vz_multi;

/* The methods' upvalues 3 to 5: the metatables of the multi, the client
 * and the request object, compared with their arguments' (cheaper than
 * luaL_checkudata's registry lookup by name, and the scheduler calls these
 * methods several times per job). */
#define UP_MULTI_MT lua_upvalueindex(3)
#define UP_CLIENT_MT lua_upvalueindex(4)
#define UP_REQ_MT lua_upvalueindex(5)

/* The open client at idx (a closed one raises, as vz_client_check). */
static vz_client *client_arg(lua_State *L, int idx) {
  vz_client *c = vz_client_at(L, idx, UP_CLIENT_MT);
  return c->curl != NULL ? c : vz_client_check(L, idx);
}

static vz_multi *multi_check(lua_State *L) {
  vz_multi *m = (vz_multi *)vz_udata_of(L, 1, UP_MULTI_MT);
  if (m == NULL) m = (vz_multi *)luaL_checkudata(L, 1, VZ_MULTI_MT);
  if (m->multi == NULL) luaL_error(L, "vzaps: parallel transfers are closed");
  return m;
}

static void multi_release(vz_multi *m) {
  int i;
  for (i = 0; m->slots != NULL && i < m->size; i++) {
    if (m->busy[i] && m->multi != NULL) curl_multi_remove_handle(m->multi, m->slots[i].curl);
    vz_xfer_close(&m->slots[i]);
  }
  if (m->multi != NULL) curl_multi_cleanup(m->multi);
  vz_events_close(&m->ev);
  m->multi = NULL;
  vz_share_unref(m->share);
  m->share = NULL;
  free(m->slots);
  free(m->busy);
  m->slots = NULL;
  m->busy = NULL;
}

/* core.multi_new(client, size) */
static int l_multi_new(lua_State *L) {
  vz_client *c = vz_client_check(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  vz_multi *m;
  vz_conn conn;
  int i, failed = 0;
  luaL_argcheck(L, n >= 1 && n <= VZ_MULTI_MAX, 2, "concurrency must be from 1 to 256");
  m = (vz_multi *)vz_newuserdata(L, sizeof *m);
  memset(m, 0, sizeof *m);
  luaL_getmetatable(L, VZ_MULTI_MT);
  lua_setmetatable(L, -2);
  lua_createtable(L, (int)n, 0);
  vz_setuservalue(L, -2);
  m->size = (int)n;
  m->timeout_ms = c->timeout_ms;
  m->ev.fd = -1;
  m->multi = curl_multi_init();
  m->slots = (vz_xfer *)calloc((size_t)n, sizeof *m->slots);
  m->busy = (char *)calloc((size_t)n, 1);
  if (m->multi == NULL || m->slots == NULL || m->busy == NULL || vz_events_open(&m->ev, m->multi) != 0) failed = 1;
  conn = vz_client_conn(c);
  if ((m->share = conn.share = vz_client_share(c)) == NULL)
    failed = 1;
  else
    vz_share_ref(m->share);
  for (i = 0; !failed && i < m->size; i++) failed = vz_xfer_open(&m->slots[i], &conn) != 0;
  if (failed) {
    multi_release(m);
    return luaL_error(L, "vzaps: out of memory");
  }
  curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
  curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
  curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  return 1;
}

static int fail(lua_State *L, const char *message) {
  lua_pushnil(L);
  lua_pushstring(L, message);
  return 2;
}

/* The slot's request object (held while in flight), set or cleared. */
static void hold(lua_State *L, int slot, int req) {
  vz_getuservalue(L, 1);
  if (req)
    lua_pushvalue(L, req);
  else
    lua_pushnil(L);
  lua_rawseti(L, -2, slot);
  lua_pop(L, 1);
}

/* m:add(slot, client, req) -> true | nil, message: starts the request
 * object req in the slot; the message when libcurl cannot take it (nothing
 * was sent). */
static int l_multi_add(lua_State *L) {
  vz_multi *m = multi_check(L);
  lua_Integer slot = luaL_checkinteger(L, 2);
  vz_client *c = client_arg(L, 3);
  vz_req *r = vz_req_at(L, 4, UP_REQ_MT);
  vz_ident id = vz_client_ident(c);
  vz_xfer *x;
  luaL_argcheck(L, slot >= 1 && slot <= m->size, 2, "no such slot");
  luaL_argcheck(L, !m->busy[slot - 1], 2, "slot is busy");
  x = &m->slots[slot - 1];
  if (!vz_xfer_setup_req(L, x, &id, r, 4, m->timeout_ms)) return fail(L, "vzaps: out of memory");
  if (curl_multi_add_handle(m->multi, x->curl) != CURLM_OK) return fail(L, "vzaps: cannot start a parallel transfer");
  m->busy[slot - 1] = 1;
  hold(L, (int)slot, 4);
  lua_pushboolean(L, 1);
  return 1;
}

static int in_flight(const vz_multi *m) {
  int i, n = 0;
  for (i = 0; i < m->size; i++) n += m->busy[i];
  return n;
}

/* Pops one finished transfer, if any: pushes slot and its outcome. */
static int pop_done(lua_State *L, vz_multi *m) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
    vz_xfer *x = NULL;
    CURLcode rc = msg->data.result;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    curl_multi_remove_handle(m->multi, msg->easy_handle);
    if (x == NULL) continue;
    m->busy[x - m->slots] = 0;
    lua_pushinteger(L, (lua_Integer)(x - m->slots) + 1);
    vz_xfer_finish(L, x, rc);
    hold(L, (int)(x - m->slots) + 1, 0);
    return 4;
  }
  return 0;
}

/* m:next(max_wait) -> slot, value, status, request_id | slot, nil, outcome (as
 *                     transport.c's vz_xfer_finish)
 *                   | nil (nothing finished within max_wait seconds, or
 *                          nothing in flight) */
static int l_multi_next(lua_State *L) {
  vz_multi *m = multi_check(L);
  lua_Number wait = luaL_optnumber(L, 2, 1.0);
  long wait_ms = wait > 0 ? (long)(wait * 1000.0) : 0;
  int n;
  if ((n = pop_done(L, m)) > 0) return n;
  for (;;) {
    /* Waits in slices so that a stuck transfer's own timer still fires
     * (vz_events_drive shortens the wait to libcurl's timer). */
    long slice = wait_ms > 100 ? 100 : wait_ms;
    double t0 = vz_now();
    if (vz_events_drive(&m->ev, slice) != CURLM_OK) return luaL_error(L, "vzaps: parallel transfer failure");
    if ((n = pop_done(L, m)) > 0) return n;
    if (wait_ms <= 0 || !in_flight(m)) return 0;
    wait_ms -= (long)((vz_now() - t0) * 1000);
    if (wait_ms <= 0) wait_ms = 0;
  }
}

/* m:in_flight() -> number of transfers added and not yet collected */
static int l_multi_in_flight(lua_State *L) {
  lua_pushinteger(L, in_flight(multi_check(L)));
  return 1;
}

/* m:fd() -> the fd readable when a transfer has work (the same for the
 *           multi's life), or nil where there is none (not Linux) */
static int l_multi_fd(lua_State *L) {
  vz_multi *m = multi_check(L);
  if (m->ev.fd < 0) return 0;
  lua_pushinteger(L, m->ev.fd);
  return 1;
}

/* m:timeout() -> seconds until libcurl's timer (0: due), or nil when none */
static int l_multi_timeout(lua_State *L) {
  vz_multi *m = multi_check(L);
  long ms = in_flight(m) ? vz_events_timeout_ms(&m->ev) : -1;
  if (ms < 0) return 0;
  lua_pushnumber(L, (lua_Number)ms / 1000.0);
  return 1;
}

/* m:cancel(slot) -> sent: abandons the slot's transfer (a cancelled job, a
 * closed client); the slot is free again. sent: whether libcurl had got as
 * far as sending the request (so it may have been received). */
static int l_multi_cancel(lua_State *L) {
  vz_multi *m = multi_check(L);
  lua_Integer slot = luaL_checkinteger(L, 2);
  int sent = 0;
  luaL_argcheck(L, slot >= 1 && slot <= m->size, 2, "no such slot");
  if (m->busy[slot - 1]) {
    vz_xfer *x = &m->slots[slot - 1];
    sent = x->prereq_calls > 0;
    curl_multi_remove_handle(m->multi, x->curl);
    m->busy[slot - 1] = 0;
    vz_buf_reset(&x->res.body, VZ_KEEP_BUFFER);
    hold(L, (int)slot, 0);
  }
  lua_pushboolean(L, sent);
  return 1;
}

/* m:timings(slot): the slot's last transfer's five timings, as
 * core.observe_facts gives those of the client's own handle. */
static int l_multi_timings(lua_State *L) {
  vz_multi *m = multi_check(L);
  lua_Integer slot = luaL_checkinteger(L, 2);
  luaL_argcheck(L, slot >= 1 && slot <= m->size, 2, "no such slot");
  return vz_xfer_push_timing_values(L, &m->slots[slot - 1]);
}

static int l_multi_size(lua_State *L) {
  lua_pushinteger(L, multi_check(L)->size);
  return 1;
}

static int l_multi_close(lua_State *L) {
  multi_release((vz_multi *)luaL_checkudata(L, 1, VZ_MULTI_MT));
  return 0;
}

static const luaL_Reg multi_methods[] = {
    {"add", l_multi_add},         {"next", l_multi_next}, {"in_flight", l_multi_in_flight}, {"cancel", l_multi_cancel},
    {"timings", l_multi_timings}, {"size", l_multi_size}, {"close", l_multi_close},         {"fd", l_multi_fd},
    {"timeout", l_multi_timeout}, {NULL, NULL},
};

/* Registers the metatable and core.multi_new on the core table on top of
 * the stack; the array metatable and the string cache are upvalues 1 and 2
 * of the methods (results are decoded like core.send's), the metatable
 * upvalue 3 (multi_check). */
void vz_multi_register(lua_State *L) {
  int core = lua_gettop(L);
  luaL_newmetatable(L, VZ_MULTI_MT);
  lua_pushcfunction(L, l_multi_close);
  lua_setfield(L, -2, "__gc");
  lua_newtable(L);
  lua_getfield(L, core, "array_mt");
  lua_getfield(L, core, "strcache");
  lua_pushvalue(L, -4); /* the metatable */
  luaL_getmetatable(L, VZ_CLIENT_MT);
  luaL_getmetatable(L, VZ_REQ_MT);
  vz_setfuncs(L, multi_methods, 5);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_multi_new);
  lua_setfield(L, core, "multi_new");
}
