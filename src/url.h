/* url.h: escaping, number text, query strings (url.c, contract §3). */
#ifndef VZ_URL_H
#define VZ_URL_H

#include "buffer.h"
#include "compat.h"

/* Appends s[0..n) to b escaped (RFC 3986 unreserved bytes kept, the rest
 * %XX). 0, or -1 when out of memory. */
int vz_url_escape(vz_buf *b, const char *s, size_t n);
/* As vz_url_escape, and "." / ".." as a whole segment become %2E / %2E%2E. */
int vz_url_segment(vz_buf *b, const char *s, size_t n);
/* Why a raw path (inserted unescaped) cannot go on the wire, or NULL. */
const char *vz_url_raw_path_problem(const char *s, size_t n);
int vz_number_text(lua_State *L, int idx, char *out, size_t outsz);
const char *vz_segment_text(lua_State *L, int idx, size_t *n, char *num, size_t numsz);
const char *vz_query_append(lua_State *L, const char *const *keys, const size_t *klens, const int *vals, int n,
                            vz_buf *out, int *bad);
int vz_query_table(lua_State *L, int t, vz_buf *out, const char **why);
void vz_url_register(lua_State *L);

#endif
