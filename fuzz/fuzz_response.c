/* fuzz_response.c: libFuzzer target for the response path.
 *
 * The input is one HTTP answer as libcurl would hand it to the module:
 *   byte 0-1   the status (100 + n % 500)
 *   byte 2     how the body is cut into write-callback calls
 *   then       header lines up to an empty line ("\n\n"), then the body.
 * C side: each header line goes through transport.c's header callback
 * (status line, Retry-After, X-Request-Id), the body through its write
 * callback (64 MiB cap) and a 2xx body through vz_push_success_body (JSON
 * decode straight from the buffer, else the text). Lua side: the same
 * answer is served by a custom transport to a real client, so the embedded
 * http.lua / errors.lua build the result or the error (message, code,
 * details, Retry-After parsing, redaction) and tostring of it is taken;
 * the answer is also given to the token exchange. Nothing may crash or
 * raise out of a call.
 *
 * transport.c is included (not linked) to reach its static callbacks. */
#include "../src/transport.c"

#include <stdio.h>
#include <stdlib.h>

#include <lualib.h>

#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static lua_State *L;

static const char *LUA_SETUP =
    "local vzaps = require('vzaps')\n"
    "local answer\n"
    "local c = vzaps.new{client_token = 'ctok-fuzz-1234', client_secret = 'csec-fuzz-5678',\n"
    "  base_url = 'http://fuzz.invalid', max_retries = 0,\n"
    "  transport = function(req) return answer end}\n"
    "local h = c:instance('VZFUZZ', 'itok-fuzz-9012')\n"
    "return function(status, headers, body)\n"
    "  answer = {status = status, headers = headers, body = body}\n"
    "  local out = {}\n"
    "  -- secrets: the client's, plus the instance token on the call that\n"
    "  -- carries it (another call cannot know it)\n"
    "  local function keep(itok, ok, res, msg, err)\n"
    "    assert(ok, res)\n"
    "    if res == nil then\n"
    "      assert(type(msg) == 'string' and vzaps.is_error(err))\n"
    "      assert(tostring(err) == msg)\n"
    "      -- a failed token exchange never carried the instance token, so\n"
    "      -- the server cannot echo it there\n"
    "      if err.path == '/token' then itok = nil end\n"
    "      for _, s in ipairs({'csec-fuzz-5678', 'ctok-fuzz-1234', itok}) do\n"
    "        assert(not msg:find(s, 1, true), 'secret in message')\n"
    "        assert(type(err.body) ~= 'string' or not err.body:find(s, 1, true), 'secret in body')\n"
    "      end\n"
    "      out[#out + 1] = msg\n"
    "    end\n"
    "  end\n"
    "  keep(nil, pcall(c.request, c, 'GET', '/x', {no_auth = true}))\n"
    "  keep('itok-fuzz-9012', pcall(h.sessions.status, h.sessions))\n"
    "  keep(nil, pcall(c.auth.get_access_token, c.auth))\n"
    "  return #out\n"
    "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  L = fuzz_new_state(LUA_SETUP);
  return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  vz_xfer x;
  size_t i, start, body_at, cut;
  long status;
  int headers, mt;
  if (size < 3) return 0;
  status = 100 + (long)(((unsigned)data[0] << 8 | data[1]) % 500);
  cut = (size_t)data[2] + 1;
  data += 3, size -= 3;

  memset(&x, 0, sizeof x);
  vz_buf_init(&x.res.body);
  /* The body buffer starts unallocated, as on a fresh transfer slot: an
   * empty first answer must not do pointer arithmetic on NULL (fixed; the
   * reproducer in fuzz/crashes/ keeps checking it). */
  lua_settop(L, 0);
  lua_newtable(L); /* array metatable */
  mt = lua_gettop(L);
  lua_newtable(L); /* headers for the Lua transport */
  headers = lua_gettop(L);

  /* Header lines, each with CRLF, as libcurl delivers them. */
  body_at = size;
  for (i = 0, start = 0; i < size; i++) {
    if (data[i] != '\n') continue;
    if (i == start) { /* empty line: end of headers */
      body_at = i + 1;
      break;
    }
    {
      size_t n = i - start;
      char *line = (char *)malloc(n + 2);
      const char *colon;
      if (line == NULL) abort();
      memcpy(line, data + start, n);
      memcpy(line + n, "\r\n", 2);
      if (on_header(line, 1, n + 2, &x) != n + 2) abort();
      colon = memchr(line, ':', n);
      if (colon != NULL && colon > line) {
        lua_pushlstring(L, line, (size_t)(colon - line));
        lua_pushlstring(L, colon + 1, n - (size_t)(colon - line) - 1);
        lua_settable(L, headers);
      }
      free(line);
    }
    start = i + 1;
  }
  /* Body, cut into write-callback calls of `cut` bytes. */
  for (i = body_at; i < size; i += cut) {
    size_t n = size - i < cut ? size - i : cut;
    if (on_body((char *)data + i, 1, n, &x) != n) abort();
  }
  if (x.res.too_large) abort(); /* inputs are far below 64 MiB */

  /* C success path: decode from the buffer, or the text. */
  if (status >= 200 && status < 300)
    vz_push_success_body(L, x.res.body.data, x.res.body.len, mt, &x.hints, 0);
  else
    lua_pushlstring(L, x.res.body.data ? x.res.body.data : "", x.res.body.len);
  lua_pop(L, 1);

  /* What the C callbacks extracted wins over the raw header of that name. */
  if (x.res.retry_after[0]) {
    lua_pushstring(L, x.res.retry_after);
    lua_setfield(L, headers, "retry-after");
  }
  if (x.res.request_id[0]) {
    lua_pushstring(L, x.res.request_id);
    lua_setfield(L, headers, "x-request-id");
  }

  /* Lua side: results and errors built by the embedded modules. */
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_fn");
  lua_pushinteger(L, status);
  lua_pushvalue(L, headers);
  lua_pushlstring(L, (const char *)data + body_at, size - body_at);
  if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    abort();
  }
  vz_buf_free(&x.res.body);
  lua_settop(L, 0);
  if (lua_gc(L, LUA_GCCOUNT, 0) > 64 * 1024) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
