/* direct_call.c: how a call is sent (docs/design.md, "The life of a
 * call"). Every endpoint method and client:request come here: the mapper
 * (request.c) builds the request, raising on bad arguments; then, unless
 * why_not_from_c names a reason, http.send's first attempt is made right
 * here on the client's own easy handle: a 2xx answer is decoded and
 * returned, any other outcome goes to http.send with the request object,
 * which decides (retry, 401 replay, error) as for its own attempts. When C
 * may not send, the request object goes to http.send as it is. Either way
 * Lua never maps a call again. */
#include <string.h>

#include "args.h"
#include "client.h"
#include "clock.h"
#include "policy.h"
#include "request.h"
#include "request_object.h"
#include "route.h"
#include "transport.h"
#include "udata.h"
#include "vzaps.h"

/* Upvalues of core.call and core.request. */
#define UP_UD lua_upvalueindex(3)
#define UP_SCOPE lua_upvalueindex(4)
#define UP_MARK lua_upvalueindex(5)
#define UP_PRIV lua_upvalueindex(6)
#define UP_CLIENT_MT lua_upvalueindex(7)
#define UP_ROUTE_MT lua_upvalueindex(8)
#define UP_BODY lua_upvalueindex(9) /* the guarded entry points' bodies */
/* Upvalues of an endpoint method (method_maker, l_method), after the nine above. */
#define UP_ROUTE lua_upvalueindex(10)
#define UP_SEND lua_upvalueindex(11)
#define UP_PAR lua_upvalueindex(12) /* http.lua's PAR: what a job yields to its scheduler */

static vz_client *client_of(lua_State *L, int idx) { return (vz_client *)vz_udata_of(L, idx, UP_CLIENT_MT); }

static const char LIVE_JOBS[] = "the client has live jobs (client:spawn, client:parallel)";

/* The client's Lua state (http.send's st), pushed: its stack index. */
static int push_state(lua_State *L, int ud) {
  vz_getuservalue(L, ud);
  lua_pushvalue(L, UP_PRIV);
  lua_rawget(L, -2);
  return lua_gettop(L);
}

/* Why the call cannot be sent from C, or NULL when it can. *st is the
 * stack index of the client's Lua state once it was read (else 0). */
static const char *why_not_from_c(lua_State *L, const vz_client *c, int ud, int *st, const vz_request *q) {
  int jobs;
  if (c->has_transport) return "a custom transport is called from Lua";
  if (c->has_observe) return "the observe hook is called by http.send for each attempt";
  if (c->direct_off) return "the test switch (vzaps._set_direct(false)) sends through the Lua layer";
  if (q->refuse_field != NULL || q->refuse_code != NULL)
    return "a media value over its limit, or a file unreadable now: http.send returns the failure";
  if (q->auth && (c->token == NULL || vz_now() >= c->token_expires)) return "no valid token: http.send fetches one";
  /* A job's call must yield to the scheduler (scheduler.lua), and the
   * guarded body cannot: while the client has jobs, its calls are not sent
   * here (a job's own call then goes to the scheduler from the method,
   * dispatch and l_method). */
  if (!c->has_engine) return NULL; /* no job was ever started */
  *st = push_state(L, ud);
  lua_getfield(L, *st, "engine");
  jobs = lua_istable(L, -1) ? (lua_getfield(L, -1, "live"), lua_tonumber(L, -1) > 0) : 0;
  lua_settop(L, *st);
  if (jobs) return LIVE_JOBS;
  return NULL;
}

#if LUA_VERSION_NUM >= 503
/* Whether the running coroutine is one of the client's jobs (st.par, as
 * http.lua's in_parallel asks). */
static int in_a_job(lua_State *L, int st) {
  int is = 0;
  lua_getfield(L, st, "par");
  if (lua_istable(L, -1) && !lua_pushthread(L)) {
    lua_rawget(L, -2);
    is = lua_toboolean(L, -1);
  }
  lua_settop(L, st);
  return is;
}
#endif

/* Returns: the 2xx value | MARK, st, request object[, outcome of the first
 * attempt] | MARK, st, request object, nil, true when the call runs in one
 * of the client's jobs and nothing else keeps it from C: its first attempt
 * then goes to the scheduler's slots straight from the method (l_method),
 * as http.send's would. st is the client's Lua state (http.send's). */
static int dispatch(lua_State *L, vz_client *c, int ud, const vz_request *q) {
  int st = 0, outcome = 0, to_slot = 0;
  const char *why = why_not_from_c(L, c, ud, &st, q);
#if LUA_VERSION_NUM >= 503
  to_slot = why == LIVE_JOBS && in_a_job(L, st);
#endif
  if (why == NULL) {
    vz_call_headers h;
    vz_ident id = vz_client_ident(c);
    long timeout_ms = q->timeout ? vz_seconds_to_ms((double)lua_tonumber(L, q->timeout)) : c->timeout_ms;
    vz_xfer *x = &c->rest;
    h.auth = q->auth;
    h.has_body = q->has_body;
    h.upgrade = 0;
    h.instance_token = q->itoken ? lua_tolstring(L, q->itoken, &h.instance_token_len) : NULL;
    if (h.instance_token == NULL) h.instance_token_len = 0;
    h.extra = q->headers;
    if (!vz_xfer_setup(L, x, &id, q->method, c->url.data, q->has_body ? (c->body.data ? c->body.data : "") : NULL,
                       c->body.len, timeout_ms, &h))
      return luaL_error(L, "vzaps: out of memory");
    if (vz_xfer_finish(L, x, curl_easy_perform(x->curl))) {
      vz_buf_reset(&c->body, VZ_KEEP_BUFFER);
      lua_pop(L, 2); /* the status and request id */
      return 1;
    }
    outcome = lua_gettop(L) - 1;
  }
  if (st == 0) st = push_state(L, ud);
  lua_pushvalue(L, UP_MARK);
  lua_pushvalue(L, st);
  vz_push_request(L, c, q);
  vz_buf_reset(&c->body, VZ_KEEP_BUFFER);
  if (to_slot) {
    lua_pushnil(L);
    lua_pushboolean(L, 1);
    return 5;
  }
  if (outcome == 0) return 3;
  lua_pushvalue(L, outcome);
  return 4;
}

/* core.call's body: an endpoint method's call. */
static int call_body(lua_State *L) {
  vz_route *r = (vz_route *)vz_udata_of(L, 2, UP_ROUTE_MT);
  vz_client *c = NULL;
  vz_request q;
  int ud, scope;
  if (r == NULL) return luaL_error(L, "vzaps: core.call needs a route");
  if (lua_gettop(L) < 2 + VZ_MAX_ARGS) lua_settop(L, 2 + VZ_MAX_ARGS);
  if (!lua_checkstack(L, VZ_MAX_SLOTS + 40)) return luaL_error(L, "vzaps: stack overflow");
  if (lua_istable(L, 1)) {
    lua_pushvalue(L, UP_UD);
    lua_rawget(L, 1);
    c = client_of(L, -1);
  } else {
    lua_pushnil(L);
  }
  ud = lua_gettop(L);
  if (c == NULL)
    return vz_raise(L, "vzaps: %s.%s is a method: call it with ':' (client.%s:%s%s)", r->resource, r->name, r->resource,
                    r->name, r->table_form ? "{...}" : "(...)");
  if (c->curl == NULL) return vz_raise(L, "vzaps: client is closed");
  lua_pushvalue(L, 1); /* the scope is SCOPES[resource] (state.lua): not on the object */
  lua_rawget(L, UP_SCOPE);
  scope = lua_isnil(L, -1) ? 0 : lua_gettop(L);
  vz_map_endpoint(L, c, r, scope, 3, &q);
  return dispatch(L, c, ud, &q);
}

/* core.request's body: client:request. */
static int request_body(lua_State *L) {
  vz_client *c;
  vz_request q;
  lua_settop(L, 4);
  if (!lua_checkstack(L, 40)) return luaL_error(L, "vzaps: stack overflow");
  c = client_of(L, 1);
  if (c == NULL)
    return vz_raise(L, "vzaps: request is a method: call it with ':' (client:request(method, path, opts))");
  if (c->curl == NULL) return vz_raise(L, "vzaps: client is closed");
  vz_map_generic(L, c, 2, &q);
  return dispatch(L, c, 1, &q);
}

/* Runs the body (UP_BODY) on the arguments with c guarded, so the mapping
 * and the send cannot be entered again from a metamethod or a finalizer
 * (vz_client_run_guarded). Without a usable client the body raises. */
static int run_body(lua_State *L, vz_client *c) {
  lua_pushvalue(L, UP_BODY);
  lua_insert(L, 1);
  if (c == NULL || c->curl == NULL) {
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  return vz_client_run_guarded(L, c);
}

/* core.call(resource, route, ...): an endpoint method's call. */
static int l_call(lua_State *L) {
  vz_client *c = NULL;
  if (lua_istable(L, 1)) {
    lua_pushvalue(L, UP_UD);
    lua_rawget(L, 1);
    c = client_of(L, -1);
    lua_pop(L, 1);
  }
  return run_body(L, c);
}

#if LUA_VERSION_NUM >= 503
/* An endpoint method, resource:name(...): core.call on its route, and
 * http.send on what C did not settle (as resources.lua's Lua closure does
 * on 5.1, 5.2 and LuaJIT; a C one saves that frame and its varargs). A
 * call in one of the client's jobs yields its request to the scheduler
 * from here (lua_yieldk; method_slot_done takes the slot's outcome), and
 * jobs yield inside http.send too (lua_callk; method_sent ends the call).
 * Returns the 2xx value, or http.send's three results. */
static int method_sent(lua_State *L, int status, lua_KContext ctx) {
  (void)L, (void)status, (void)ctx;
  return 3;
}

/* http.send(st, request, outcome at o, or nil when o is past the top): the
 * stack from base is MARK, st, request. */
static int method_send(lua_State *L, int base, int o) {
  if (o > lua_gettop(L)) lua_settop(L, o);
  lua_pushvalue(L, o);
  lua_replace(L, base + 3);
  lua_pushvalue(L, UP_SEND);
  lua_replace(L, base); /* send, st, request, outcome */
  lua_settop(L, base + 3);
  lua_callk(L, 3, 3, 0, method_sent);
  return 3;
}

/* The scheduler resumed a job's call with the slot's outcome: the 2xx
 * value, status, request id, or nil and the outcome, which http.send
 * takes as its first attempt's (retries, 401 replay, errors), as for a
 * call sent from C. */
static int method_slot_done(lua_State *L, int status, lua_KContext ctx) {
  int base = (int)ctx;
  (void)status;
  if (lua_gettop(L) >= base + 3 && !lua_isnil(L, base + 3)) {
    lua_settop(L, base + 3);
    return 1;
  }
  return method_send(L, base, base + 4);
}

static int l_method(lua_State *L) {
  int n, base;
  vz_client *c = NULL;
  lua_pushvalue(L, UP_ROUTE);
  lua_insert(L, 2);
  if (lua_istable(L, 1)) {
    lua_pushvalue(L, UP_UD);
    lua_rawget(L, 1);
    c = client_of(L, -1);
    lua_pop(L, 1);
  }
  n = run_body(L, c);
  base = lua_gettop(L) - n + 1;
  if (n < 3 || !lua_rawequal(L, base, UP_MARK)) return n > 0 ? 1 : 0;
  if (n == 5 && lua_toboolean(L, base + 4) && lua_isyieldable(L)) {
    /* A job's call: the request goes to the scheduler for a slot, as
     * http.lua's exchange asks (yield PAR, "xfer", req). */
    lua_settop(L, base + 2); /* MARK, st, request */
    lua_pushvalue(L, UP_PAR);
    lua_pushliteral(L, "xfer");
    lua_pushvalue(L, base + 2);
    return lua_yieldk(L, 3, (lua_KContext)base, method_slot_done);
  }
  return method_send(L, base, base + 3);
}

int vz_is_method_frame(lua_State *L, lua_Debug *ar) {
  int is;
  if (!lua_getinfo(L, "f", ar)) return 0;
  is = lua_tocfunction(L, -1) == l_method;
  lua_pop(L, 1);
  return is;
}

/* method_maker(route, send, PAR) -> an endpoint method (l_method): bound
 * to the same upvalues as core.call. */
static int l_method_maker(lua_State *L) {
  int i;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checktype(L, 3, LUA_TTABLE);
  for (i = 1; i <= 9; i++) lua_pushvalue(L, lua_upvalueindex(i));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_pushcclosure(L, l_method, 12);
  return 1;
}
#else
int vz_is_method_frame(lua_State *L, lua_Debug *ar) {
  (void)L, (void)ar;
  return 0;
}
#endif

/* core.request(client, method, path, opts): client:request. */
static int l_request(lua_State *L) { return run_body(L, client_of(L, 1)); }

/* Pushes fn as a closure over the caller's four keys (stack 1..4) and the
 * upvalues listed above, its body among them when it has one. */
static void push_bound(lua_State *L, lua_CFunction fn, lua_CFunction body) {
  int i;
  lua_pushvalue(L, VZ_ARRAY_MT);
  lua_pushvalue(L, VZ_STRCACHE);
  for (i = 1; i <= 4; i++) lua_pushvalue(L, i);
  luaL_getmetatable(L, VZ_CLIENT_MT);
  luaL_getmetatable(L, VZ_ROUTE_MT);
  if (body != NULL) push_bound(L, body, NULL);
  lua_pushcclosure(L, fn, body != NULL ? 9 : 8);
}

/* core.caller(UD, SCOPES, MARK, PRIV) -> call, request, method_maker
 * (Lua 5.3+; before, nil: no yield across a C call): bound to the keys the
 * Lua layer keeps its objects under (SCOPES: the weak table of scopes). */
static int l_caller(lua_State *L) {
  lua_settop(L, 4);
  push_bound(L, l_call, call_body);
  push_bound(L, l_request, request_body);
#if LUA_VERSION_NUM >= 503
  push_bound(L, l_method_maker, call_body);
#else
  lua_pushnil(L);
#endif
  return 3;
}

void vz_direct_register(lua_State *L) {
  int core = lua_gettop(L);
  vz_route_register(L);
  lua_getfield(L, core, "array_mt");
  lua_getfield(L, core, "strcache");
  lua_pushcclosure(L, l_caller, 2);
  lua_setfield(L, core, "caller");
}
