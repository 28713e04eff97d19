/* digest.c: core.digest(s) -> the hex SHA-256 of s. Store keys (the
 * shared JWT's) are a digest of the account's URL and credentials, so a
 * key seen in Redis or a shared dict names the account without revealing
 * a secret. libcrypto is already linked for the realtime handshake. */
#include <openssl/sha.h>

#include <lauxlib.h>

#include "digest.h"

static int l_digest(lua_State *L) {
  static const char HEX[] = "0123456789abcdef";
  size_t len, i;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char md[SHA256_DIGEST_LENGTH];
  char out[2 * SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)s, len, md);
  for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
    out[2 * i] = HEX[md[i] >> 4];
    out[2 * i + 1] = HEX[md[i] & 15];
  }
  lua_pushlstring(L, out, sizeof out);
  return 1;
}

void vz_digest_register(lua_State *L) {
  lua_pushcfunction(L, l_digest);
  lua_setfield(L, -2, "digest");
}
