/* media.h: vzaps.file / vzaps.bytes values (media.c, core.media_file,
 * core.media_bytes), sent as "data:<mime>;base64,..." strings by the JSON
 * encoder. */
#ifndef VZ_MEDIA_H
#define VZ_MEDIA_H

#include "buffer.h"
#include "compat.h"

#define VZ_MEDIA_MT "vzaps.media"
/* The largest file or data a media value takes: WhatsApp's document limit
 * (README "Media from local files"). */
#define VZ_MEDIA_MAX_BYTES ((size_t)100 * 1024 * 1024)
int vz_media_is(lua_State *L, int idx);
/* The size in bytes of the media value at idx, 0 for any other value. */
size_t vz_media_size(lua_State *L, int idx);
/* Appends the value at idx as a JSON string, "data:<mime>;base64,...", to
 * out: a file is read in chunks straight into out, reserved once at the
 * exact size. 1, or 0 with a message in err; *code is then the media error
 * code when the file is at fault (MEDIA_UNREADABLE, MEDIA_CHANGED,
 * MEDIA_EMPTY, MEDIA_TOO_LARGE, MEDIA_NOT_A_FILE), NULL otherwise. Never
 * raises. */
int vz_media_encode(lua_State *L, int idx, vz_buf *out, char *err, size_t errsz, const char **code);
/* Pushes the base name of a file's media value and returns 1; 0 (nothing
 * pushed) for anything else. */
int vz_media_push_name(lua_State *L, int idx);
void vz_media_register(lua_State *L);

#endif
