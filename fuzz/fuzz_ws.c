/* fuzz_ws.c: libFuzzer target for the realtime (WebSocket) receive path.
 *
 * The input is what a server sends on the connection:
 *   byte 0     bits 0-4 s: at most (s+1)^2 bytes per read; bit 5: events
 *              read with sub:run (else sub:poll); bit 6: a CURLE_AGAIN
 *              (nothing yet) before every read that gets bytes; bit 7: the
 *              stream ends with CURLE_RECV_ERROR, not an orderly close (EOF)
 *   then       the bytes: the handshake answer head (and an error body, or
 *              the frames after a 101).
 * The module's own code reads them: ws_handshake.c builds the Upgrade
 * request (sent to a sink) and parses and checks the answer head (status
 * line, Upgrade / Connection / Sec-WebSocket-Accept, the error body of a
 * refusal, the bytes that came with the head); ws.c runs wslay's parser
 * through its callbacks (message assembly, the 16 MiB limit, ping -> pong,
 * close handshake) and hands the messages to Lua in ws:recv. Above that the
 * embedded events.lua does what it does with a real server: a client with a
 * custom transport (for the token) calls client.events:subscribe{} and
 * reads the events with sub:poll or sub:run (acks go back through ws:send),
 * until the connection ends and the subscription fails (reconnect off).
 *
 * Checked: nothing crashes, leaks or raises out of a call; every failure is
 * a well-formed tuple / error object (known kinds, HTTP status and body of a
 * refusal within bounds, close codes 1000..4999 and reasons <= 123 bytes);
 * no error message holds a client secret, the instance token or the JWT;
 * at most one event per 4 input bytes; every frame the client wrote is
 * a masked, final frame of a known opcode (a pong, a close reply, an ack).
 *
 * The seam: vz_ws.io_recv / io_send (curl_easy_recv / send in the module)
 * point at the input here. ws.c and ws_handshake.c are included (not
 * linked) to reach their static functions, and this file's vz_ws_register
 * replaces core.ws_connect with fz_ws_connect: l_ws_connect without the
 * libcurl connect (no socket) and with a fixed Sec-WebSocket-Key (RFC 6455's
 * example, so an input can hold the matching Sec-WebSocket-Accept). */
#define vz_ws_register vz_ws_register_module
#include "../src/ws.c"
#undef vz_ws_register
#include "../src/ws_handshake.c"
#include "../src/ws_wait.c"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <lualib.h>

#include "harness.h"

void vz_ws_register(lua_State *L);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* RFC 6455 §1.3: this key's Sec-WebSocket-Accept is s3pPLMBiTxaQ9kYGzzhZRbK+xOo= */
static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";

static lua_State *L;
static int ready_fd = -1; /* /dev/null: poll() says ready at once */

/* ------------------------------------------------------------------------ */
/* The server's bytes, and a sink for the client's                           */
/* ------------------------------------------------------------------------ */

static struct {
  const unsigned char *p;
  size_t n, pos, chunk;
  int again, again_due;
  CURLcode end; /* what a read past the end gives: CURLE_OK (EOF) or an error */
  int framing;  /* 1 once the handshake is done: what the client writes is frames */
  vz_buf sent;  /* frames the client wrote */
  int connects; /* fz_ws_connect calls for this input */
} io;

static CURLcode fz_recv(vz_ws *w, void *buf, size_t len, size_t *got) {
  size_t k;
  (void)w;
  *got = 0;
  if (io.pos == io.n) return io.end;
  if (io.again && io.again_due) {
    io.again_due = 0;
    return CURLE_AGAIN;
  }
  k = io.n - io.pos;
  if (k > len) k = len;
  if (k > io.chunk) k = io.chunk;
  memcpy(buf, io.p + io.pos, k);
  io.pos += k;
  io.again_due = 1;
  *got = k;
  return CURLE_OK;
}

static CURLcode fz_send(vz_ws *w, const void *buf, size_t len, size_t *sent) {
  (void)w;
  if (io.framing && vz_buf_append(&io.sent, buf, len) != 0) abort();
  *sent = len;
  return CURLE_OK;
}

/* Every frame the client wrote: FIN set, no RSV, masked, a text (ack), close,
 * ping or pong opcode, control payloads <= 125 bytes, nothing cut short. */
static void check_sent(void) {
  const unsigned char *p = (const unsigned char *)io.sent.data;
  size_t i = 0, n = io.sent.len;
  while (i < n) {
    uint64_t len;
    unsigned op;
    if (n - i < 2) abort();
    op = p[i] & 0x0f;
    if ((p[i] & 0xf0) != 0x80 || !(p[i + 1] & 0x80)) abort();
    if (op != 0x1 && op != 0x8 && op != 0x9 && op != 0xa) abort();
    len = p[i + 1] & 0x7f;
    i += 2;
    if (len == 126) {
      if (n - i < 2) abort();
      len = (uint64_t)p[i] << 8 | p[i + 1];
      i += 2;
    } else if (len == 127) {
      unsigned k;
      if (n - i < 8) abort();
      for (len = 0, k = 0; k < 8; k++) len = len << 8 | p[i + k];
      i += 8;
    }
    if (op >= 0x8 && len > 125) abort();
    if (n - i < 4 || n - i - 4 < len) abort();
    i += 4 + (size_t)len;
  }
}

/* ------------------------------------------------------------------------ */
/* core.ws_connect for the harness                                           */
/* ------------------------------------------------------------------------ */

/* A failed handshake: nil, kind, message[, status, body, reason] on top. */
static void check_refusal(lua_State *S, int n) {
  int base = lua_gettop(S) - n + 1;
  const char *kind;
  if ((n != 3 && n != 6) || !lua_isnil(S, base) || lua_type(S, base + 1) != LUA_TSTRING ||
      lua_type(S, base + 2) != LUA_TSTRING)
    abort();
  kind = lua_tostring(S, base + 1);
  if (n == 6) {
    if (strcmp(kind, "http") != 0 || !lua_isinteger(S, base + 3) || lua_tointeger(S, base + 3) == 101 ||
        lua_type(S, base + 4) != LUA_TSTRING || vz_rawlen(S, base + 4) > VZ_WS_MAX_ERRBODY ||
        lua_type(S, base + 5) != LUA_TSTRING || vz_rawlen(S, base + 5) >= 64)
      abort();
  } else if (strcmp(kind, "network") != 0 && strcmp(kind, "timeout") != 0 && strcmp(kind, "tls") != 0) {
    abort();
  }
}

/* l_ws_connect after libcurl's connect: the same userdata, the request of
 * vz_ws_handshake (to the sink), then read_response on the input. */
static int fz_ws_connect(lua_State *S) {
  const char *url;
  vz_ws *w;
  double deadline;
  int ud, n;
  vz_client_check(S, 1);
  url = luaL_checkstring(S, 2);
  vz_headers_check_table(S, 3);
  deadline = vz_now() + check_seconds(S, 4, 30);
  lua_settop(S, 4);
  if (strncmp(url, "ws://fuzz.invalid/", 18) != 0) abort();
  if (++io.connects > 1) abort(); /* reconnect is off in the harness */
  w = (vz_ws *)vz_newuserdata(S, sizeof *w);
  ud = lua_gettop(S);
  memset(w, 0, sizeof *w);
  vz_buf_init(&w->pre);
  w->fd = ready_fd;
  w->io_recv = fz_recv;
  w->io_send = fz_send;
  luaL_getmetatable(S, VZ_WS_MT);
  lua_setmetatable(S, ud);
  if ((w->curl = curl_easy_init()) == NULL) abort(); /* never connected; ws_release cleans it up */

  /* as vz_ws_handshake_begin leaves it once libcurl has connected */
  if (!build_request(S, &w->req, "fuzz.invalid", url + 17, 3, KEY)) abort();
  strcpy(w->key, KEY);
  w->deadline = deadline;
  w->phase = VZ_WS_SENDING;
  n = vz_ws_handshake_finish(S, w);
  if (n > 0) {
    check_refusal(S, n);
    ws_release(w);
    return n;
  }
  if (ws_start(w) != 0) abort();
  io.framing = 1;
  lua_pushvalue(S, ud);
  return 1;
}

void vz_ws_register(lua_State *S) {
  int core = lua_gettop(S);
  vz_ws_register_module(S);
  lua_pushcfunction(S, fz_ws_connect);
  lua_setfield(S, core, "ws_connect");
}

/* ------------------------------------------------------------------------ */
/* Lua side: events.lua over the connection                                  */
/* ------------------------------------------------------------------------ */

static const char *LUA_SETUP =
    "local vzaps = require('vzaps')\n"
    "local SECRETS = {'csec-fuzz-5678', 'ctok-fuzz-1234', 'jwt-fuzz-3456', 'itok-fuzz-9012'}\n"
    "local KINDS = {network = true, timeout = true, tls = true, http = true, auth = true, rate_limit = true,\n"
    "  realtime = true, decode = true}\n"
    "local c = vzaps.new{client_token = 'ctok-fuzz-1234', client_secret = 'csec-fuzz-5678',\n"
    "  base_url = 'http://fuzz.invalid', realtime_url = 'ws://fuzz.invalid', max_retries = 0,\n"
    "  transport = function()\n"
    "    return {status = 200, headers = {}, body = '{\"access_token\":\"jwt-fuzz-3456\",\"expires_in\":3600}'}\n"
    "  end}\n"
    "local TRACE = os.getenv('FUZZ_WS_TRACE') -- prints what each input led to\n"
    "local function trace(n, err)\n"
    "  if TRACE then\n"
    "    io.stderr:write(('events=%d kind=%s code=%s close=%s %q message=%s\\n'):format(n, tostring(err.kind),\n"
    "      tostring(err.code), tostring(err.close_code), tostring(err.close_reason), tostring(err.message)))\n"
    "  end\n"
    "end\n"
    "local problem\n"
    "-- an error object (from a failure tuple or an on_error callback): kind,\n"
    "-- message without secrets, close fields in range\n"
    "local function check(err, msg)\n"
    "  local ok, why = pcall(function()\n"
    "    assert(vzaps.is_error(err), 'not an error object')\n"
    "    assert(KINDS[err.kind], 'unknown kind')\n"
    "    assert(type(err.message) == 'string' and err.message ~= '', 'message')\n"
    "    assert(msg == nil or msg == tostring(err), 'message and tostring differ')\n"
    "    for _, s in ipairs(SECRETS) do assert(not err.message:find(s, 1, true), 'secret in message') end\n"
    "    if err.close_code ~= nil then\n"
    "      assert(math.type(err.close_code) == 'integer' and err.close_code >= 1000 and err.close_code <= 4999,\n"
    "        'close code')\n"
    "      assert(type(err.close_reason) == 'string' and #err.close_reason <= 123, 'close reason')\n"
    "    end\n"
    "  end)\n"
    "  if not ok then problem = problem or (why .. ' (' .. tostring(err and err.kind) .. ')') end\n"
    "end\n"
    "-- mode 0: sub:poll(0) until the subscription fails; 1: sub:run() with a\n"
    "-- handler that raises on events of type Boom (not acked). budget bounds\n"
    "-- the idle polls and the events (each takes >= 4 input bytes).\n"
    "return function(mode, budget)\n"
    "  problem = nil\n"
    "  local sub, msg, err = c.events:subscribe{instance_id = 'VZFUZZ', instance_token = 'itok-fuzz-9012',\n"
    "    reconnect = false}\n"
    "  if not sub then\n"
    "    check(err, msg)\n"
    "    trace(0, err)\n"
    "    assert(not problem, problem)\n"
    "    return 0\n"
    "  end\n"
    "  local n = 0\n"
    "  local function seen(ev)\n"
    "    assert(type(ev) == 'table', 'event is not a table')\n"
    "    n = n + 1\n"
    "  end\n"
    "  sub:on_error(function(e)\n"
    "    check(e)\n"
    "    if TRACE then io.stderr:write('  on_error ', tostring(e.kind), ' ', tostring(e.message), '\\n') end\n"
    "  end)\n"
    "  sub:on_close(function(code, reason)\n"
    "    if math.type(code) ~= 'integer' or (reason ~= nil and type(reason) ~= 'string') then\n"
    "      problem = problem or 'on_close arguments'\n"
    "    end\n"
    "  end)\n"
    "  if mode == 0 then\n"
    "    local idle = 0\n"
    "    while true do\n"
    "      local ev, m, e = sub:poll(0)\n"
    "      if ev then\n"
    "        seen(ev)\n"
    "      elseif m then\n"
    "        check(e, m)\n"
    "        trace(n, e)\n"
    "        break\n"
    "      else\n"
    "        idle = idle + 1\n"
    "        assert(idle <= budget, 'poll makes no progress')\n"
    "      end\n"
    "    end\n"
    "  else\n"
    "    sub:on('All', function(ev)\n"
    "      seen(ev)\n"
    "      if ev.type == 'Boom' then error('handler raised') end\n"
    "    end)\n"
    "    local ok, m, e = sub:run()\n"
    "    assert(ok == nil and type(m) == 'string', 'run ended without failing')\n"
    "    check(e, m)\n"
    "    trace(n, e)\n"
    "  end\n"
    "  sub:close()\n"
    "  assert(not problem, problem)\n"
    "  assert(n <= budget / 4, 'more events than the input holds')\n"
    "  return n\n"
    "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  ready_fd = open("/dev/null", O_RDWR);
  if (ready_fd < 0) abort();
  vz_buf_init(&io.sent);
  L = fuzz_new_state(LUA_SETUP);
  return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  unsigned s;
  if (size < 1) return 0;
  s = (data[0] & 0x1f) + 1u;
  io.chunk = (size_t)s * s;
  io.again = (data[0] & 0x40) != 0;
  io.again_due = 1;
  io.end = (data[0] & 0x80) ? CURLE_RECV_ERROR : CURLE_OK;
  io.p = data + 1, io.n = size - 1, io.pos = 0;
  io.framing = 0, io.connects = 0;
  vz_buf_reset(&io.sent, 65536);

  lua_settop(L, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_fn");
  lua_pushinteger(L, (data[0] & 0x20) ? 1 : 0);
  lua_pushinteger(L, (lua_Integer)size + 8);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0); /* the connection's __gc runs now, not in a later input */
  check_sent();
  return 0;
}
