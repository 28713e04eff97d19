/* json.h: the module's JSON codec (see docs/design.md, "JSON").
 *
 * Debian's lua-cjson 2.1.0 decodes every number as a float, prints numbers
 * with at most 14 significant digits and cannot emit an empty array; those
 * losses happen inside its number scanner and printer, where no wrapper can
 * undo them. So the module owns its codec: integers stay integers both ways,
 * floats round-trip, arrays carry a metatable so `[]` survives a round trip,
 * and decoding reads libcurl's buffer directly. */
#ifndef VZ_JSON_H
#define VZ_JSON_H

#include <stddef.h>

#include "buffer.h"
#include "compat.h"

#define VZ_JSON_MAX_DEPTH 200

/* Table-size hints per nesting level, carried from one decode to the next
 * by a caller that decodes answers of the same shape again and again (a
 * client's transfer): the first object of a level is then created with the
 * right size instead of growing key by key. Zero-initialise before use. */
#define VZ_JSON_HINT_DEPTHS 8
typedef struct vz_json_hints {
  int object[VZ_JSON_HINT_DEPTHS];
  int array[VZ_JSON_HINT_DEPTHS];
  /* In: the decode budget (below) of this caller, 0 for VZ_JSON_BUDGET. */
  unsigned budget;
  /* Out: the last decode failed because it went over its budget. */
  int over_budget;
} vz_json_hints;

/* The decode budget: the values a text decodes into may cost at most
 * budget x its length + VZ_JSON_BUDGET_FLOOR bytes of Lua memory, estimated
 * the same way on every Lua version (a table 64 bytes and its presized
 * slots, an array item 16, an object member 40, a string 24 + its length).
 * Without it, 4 MiB of `[{},{},...]` costs over 100 MiB of Lua heap, and a
 * server's 64 MiB answer a couple of GB. Ordinary answers estimate at 2-8
 * bytes per byte; `[{},{},...]` at 27. Past the budget the decode fails
 * before allocating more ("JSON text is too costly to decode ...").
 * VZ_JSON_BUDGET_OFF turns it off. */
#define VZ_JSON_BUDGET 16
#define VZ_JSON_BUDGET_OFF 0xFFFFFFFFu
#define VZ_JSON_BUDGET_FLOOR ((size_t)1 << 20)
#define VZ_JSON_BUDGET_MAX 4096

/* The budget argument at stack index i, as vz_json_hints.budget wants it:
 * none or nil is 0 (the default), false is VZ_JSON_BUDGET_OFF, else an
 * integer from 1 to VZ_JSON_BUDGET_MAX (raises a `bad argument` otherwise). */
unsigned vz_json_budget_arg(lua_State *L, int i);

/* Decode buf[0..len) (need not be NUL-terminated) and push the value on L.
 * Objects become tables, arrays become tables with the metatable at array_mt
 * (an absolute stack index, or 0 for none), null becomes the light userdata
 * NULL (== cjson.null). Integer tokens that fit become Lua integers (on Lua
 * 5.3+), anything else a float. Returns 1 on success. On malformed input
 * pushes nothing, writes a short message with the 0-based byte offset (e.g.
 * "invalid JSON at byte 17: expected ':'", never quoting the input) into err,
 * and returns 0. Never raises, except for Lua's own memory errors. */
int vz_json_decode(lua_State *L, const char *buf, size_t len, int array_mt, char *err, size_t errsz);

/* Append the JSON text of the value at idx to out. A table whose metatable is
 * array_mt (absolute index, or 0) is an array even when empty. list_keys
 * (absolute index of a table, or 0): an empty table stored under one of its
 * keys, at any depth, is written as []. Integral floats with |x| < 2^63 are
 * written as integers (3.0 -> 3). Returns 1 on success; on a value that
 * cannot be encoded writes a message naming the field with Lua's 1-based
 * indices (e.g. "field 'options[2]': cannot encode a function") into err and
 * returns 0, leaving out with partial content. Never raises. */
int vz_json_encode(lua_State *L, int idx, vz_buf *out, int array_mt, int list_keys, char *err, size_t errsz);

/* As vz_json_encode, leaving out the keys skip[0..nskip) of the root object
 * (a request table whose path fields are not part of the body). */
int vz_json_encode_except(lua_State *L, int idx, vz_buf *out, int array_mt, int list_keys, const char *const *skip,
                          int nskip, char *err, size_t errsz);

/* As vz_json_encode_except (skip may be NULL), for a request body: when a
 * media value's file is at fault (it cannot be read any more, or changed
 * since vzaps.file), *media_code is its error code, so that the call is
 * refused as the world's failure rather than raised as a bad argument. */
int vz_json_encode_body(lua_State *L, int idx, vz_buf *out, int array_mt, int list_keys, const char *const *skip,
                        int nskip, char *err, size_t errsz, const char **media_code);

/* One member of the root object t (absolute index), for a walk that reads
 * the object's fields itself (the mapper's, during lua_next): appends
 * `,"key":value` (no comma when first) for the value on top of the stack,
 * stored under the string key just below it (key, klen: its text), with
 * the same rules and messages as vz_json_encode_body writing t whole
 * (cycles through t, the field's path). array_mt and list_keys: as for
 * vz_json_encode, each an absolute (or pseudo-) index of a table, or 0.
 * The caller writes the braces. Leaves the stack as it was. */
int vz_json_encode_member(lua_State *L, int t, const char *key, size_t klen, int first, vz_buf *out, int array_mt,
                          int list_keys, char *err, size_t errsz, const char **media_code);

/* As vz_json_decode, starting from and updating *hints (may be NULL: no
 * size hints, the default budget). hints->over_budget tells a failure over
 * the budget from malformed text. */
int vz_json_decode_hinted(lua_State *L, const char *buf, size_t len, int array_mt, vz_json_hints *hints, char *err,
                          size_t errsz);

/* As vz_json_decode_hinted, with a string cache: strcache is the absolute
 * stack index of a table the decoder owns (0 for none), kept by a caller
 * that decodes answers of the same shape again and again. Object keys and
 * string values of at most 40 bytes that repeat between answers are then
 * pushed from it instead of being hashed and interned again. The decoder
 * keeps up to VZ_JSON_STRCACHE_SLOTS such strings at keys 1..N and a 24 KB
 * userdata at key 0 (their bytes, and which slot held each member of the
 * last objects), so the cache stays under about 74 KB. Create it with
 * lua_createtable(L, VZ_JSON_STRCACHE_SLOTS, 1), keep it (the module keeps
 * one per Lua state: upvalue VZ_STRCACHE), and store nothing in it. Decoded values are the same with or without it.
 * LuaJIT ignores it (its interning is cheap enough that it does not pay). */
#define VZ_JSON_STRCACHE_SLOTS 512
int vz_json_decode_cached(lua_State *L, const char *buf, size_t len, int array_mt, vz_json_hints *hints, int strcache,
                          char *err, size_t errsz);

#endif
