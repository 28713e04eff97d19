/* media.c: vzaps.file(path [, mime]) and vzaps.bytes(data, mime), media
 * values that the JSON encoder (json_encode.c) writes as a data URL,
 * "data:<mime>;base64,<data>", wherever they appear in a body: any media
 * field (image, audio, video, document, sticker, gif, jpeg_thumbnail, ...)
 * and client:request's body.
 *
 * A media value is a small userdata: the source (a file or a Lua string),
 * the MIME type and the size. Its user value is a table holding the path
 * (or the data string) at [1] and, for a file, its base name at [2]. A file
 * is checked when the value is made (a regular, non-empty file within
 * VZ_MEDIA_MAX_BYTES) and read only when a request body is encoded: straight
 * from the file, in chunks, into the body buffer, which is reserved once at
 * its exact final size. The file is never held in a Lua string. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

#include "args.h"
#include "media.h"

#ifndef O_NONBLOCK
#define O_NONBLOCK 0
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_BINARY
#define O_BINARY 0
#endif

#define MIME_MAX 128  /* longest MIME type kept, NUL included */
#define HEAD_BYTES 64 /* bytes read to recognise a format */
#define CHUNK 65535   /* bytes read at a time; a multiple of 3, so chunks encode without padding */

typedef struct vz_media {
  int from_file; /* 1: [1] of the user value is a path; 0: it is the data */
  size_t size;   /* bytes (a file's size when the value was made) */
  char mime[MIME_MAX];
} vz_media;

/* ---- MIME types ------------------------------------------------------------ */

/* By extension (lower case), after the magic bytes said nothing. */
static const char *const EXT[][2] = {
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"jpe", "image/jpeg"},
    {"png", "image/png"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"heic", "image/heic"},
    {"heif", "image/heif"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"svg", "image/svg+xml"},
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"mov", "video/quicktime"},
    {"3gp", "video/3gpp"},
    {"3g2", "video/3gpp2"},
    {"webm", "video/webm"},
    {"mkv", "video/x-matroska"},
    {"avi", "video/x-msvideo"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"mp3", "audio/mpeg"},
    {"m4a", "audio/mp4"},
    {"aac", "audio/aac"},
    {"amr", "audio/amr"},
    {"wav", "audio/wav"},
    {"flac", "audio/flac"},
    {"pdf", "application/pdf"},
    {"txt", "text/plain"},
    {"csv", "text/csv"},
    {"md", "text/markdown"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"lua", "text/x-lua"},
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"rtf", "application/rtf"},
    {"vcf", "text/vcard"},
    {"ics", "text/calendar"},
    {"doc", "application/msword"},
    {"xls", "application/vnd.ms-excel"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"epub", "application/epub+zip"},
    {"apk", "application/vnd.android.package-archive"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"7z", "application/x-7z-compressed"},
    {"rar", "application/vnd.rar"},
    {NULL, NULL},
};

/* The MIME type of a base name's extension, or NULL. */
static const char *by_extension(const char *name) {
  const char *dot = name != NULL ? strrchr(name, '.') : NULL;
  char ext[8];
  size_t n, i;
  if (dot == NULL || dot == name) return NULL; /* none, or a dot file such as ".profile" */
  n = strlen(dot + 1);
  if (n == 0 || n >= sizeof ext) return NULL;
  for (i = 0; i < n; i++) {
    char c = dot[1 + i];
    ext[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  ext[n] = '\0';
  for (i = 0; EXT[i][0] != NULL; i++)
    if (strcmp(EXT[i][0], ext) == 0) return EXT[i][1];
  return NULL;
}

static int starts(const unsigned char *h, size_t n, size_t at, const char *sig, size_t len) {
  return n >= at + len && memcmp(h + at, sig, len) == 0;
}

/* Is the extension's type one of those a ZIP (or OLE2) container holds? */
static const char *container_type(const char *name, const char *const *allowed) {
  const char *t = by_extension(name);
  int i;
  if (t == NULL) return NULL;
  for (i = 0; allowed[i] != NULL; i++)
    if (strcmp(allowed[i], t) == 0) return t;
  return NULL;
}

/* The MIME type the first bytes h[0..n) show, or NULL. name (a base name,
 * or NULL) tells the formats that are ZIP or OLE2 containers apart. */
static const char *by_magic(const unsigned char *h, size_t n, const char *name) {
  static const char *const ZIPPED[] = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                       "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                                       "application/vnd.oasis.opendocument.text",
                                       "application/vnd.oasis.opendocument.spreadsheet",
                                       "application/vnd.oasis.opendocument.presentation",
                                       "application/epub+zip",
                                       "application/vnd.android.package-archive",
                                       NULL};
  static const char *const OLE2[] = {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
                                     NULL};
  if (starts(h, n, 0, "\xFF\xD8\xFF", 3)) return "image/jpeg";
  if (starts(h, n, 0, "\x89PNG\r\n\x1A\n", 8)) return "image/png";
  if (starts(h, n, 0, "GIF87a", 6) || starts(h, n, 0, "GIF89a", 6)) return "image/gif";
  if (starts(h, n, 0, "RIFF", 4)) {
    if (starts(h, n, 8, "WEBP", 4)) return "image/webp";
    if (starts(h, n, 8, "WAVE", 4)) return "audio/wav";
    if (starts(h, n, 8, "AVI ", 4)) return "video/x-msvideo";
    return NULL;
  }
  if (starts(h, n, 0, "%PDF-", 5)) return "application/pdf";
  if (starts(h, n, 4, "ftyp", 4) && n >= 12) {
    const char *b = (const char *)h + 8; /* the major brand */
    if (memcmp(b, "qt  ", 4) == 0) return "video/quicktime";
    if (memcmp(b, "M4A ", 4) == 0 || memcmp(b, "M4B ", 4) == 0) return "audio/mp4";
    if (memcmp(b, "3g2", 3) == 0) return "video/3gpp2";
    if (memcmp(b, "3gp", 3) == 0) return "video/3gpp";
    if (memcmp(b, "avif", 4) == 0 || memcmp(b, "avis", 4) == 0) return "image/avif";
    if (memcmp(b, "heic", 4) == 0 || memcmp(b, "heix", 4) == 0 || memcmp(b, "mif1", 4) == 0 ||
        memcmp(b, "msf1", 4) == 0)
      return "image/heic";
    return "video/mp4"; /* isom, iso2, mp41, mp42, avc1, dash, ... */
  }
  if (starts(h, n, 0, "OggS", 4)) return "audio/ogg";
  if (starts(h, n, 0, "ID3", 3)) return "audio/mpeg";
  if (n >= 2 && h[0] == 0xFF && (h[1] & 0xF6) == 0xF0) return "audio/aac"; /* ADTS: layer bits 00 */
  if (n >= 2 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0 && (h[1] & 0x06) != 0) return "audio/mpeg"; /* frame sync */
  if (starts(h, n, 0, "#!AMR\n", 6)) return "audio/amr";
  if (starts(h, n, 0, "fLaC", 4)) return "audio/flac";
  if (starts(h, n, 0, "\x1A\x45\xDF\xA3", 4)) { /* EBML: WebM or Matroska */
    size_t i;
    for (i = 4; i + 4 <= n; i++)
      if (memcmp(h + i, "webm", 4) == 0) return "video/webm";
    return "video/x-matroska";
  }
  if (starts(h, n, 0, "PK\x03\x04", 4) || starts(h, n, 0, "PK\x05\x06", 4)) {
    const char *t = container_type(name, ZIPPED);
    return t != NULL ? t : "application/zip";
  }
  if (starts(h, n, 0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)) return container_type(name, OLE2);
  if (starts(h, n, 0, "\x1F\x8B", 2)) return "application/gzip";
  if (starts(h, n, 0, "Rar!\x1A\x07", 6)) return "application/vnd.rar";
  if (starts(h, n, 0, "7z\xBC\xAF\x27\x1C", 6)) return "application/x-7z-compressed";
  if (starts(h, n, 0, "{\\rtf", 5)) return "application/rtf";
  if (starts(h, n, 0, "II*\0", 4) || starts(h, n, 0, "MM\0*", 4)) return "image/tiff";
  if (starts(h, n, 0, "BEGIN:VCARD", 11)) return "text/vcard";
  return NULL;
}

static int token_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("!#$&^_.+-", c) != NULL);
}

/* "type/subtype" with optional "; name=value" parameters, short, printable
 * ASCII and without the characters that would need escaping in JSON or end
 * the data URL's header early (quote, backslash, comma). */
static int mime_ok(const char *s, size_t n) {
  size_t i = 0, t;
  if (n == 0 || n >= MIME_MAX) return 0;
  for (t = i; i < n && token_char((unsigned char)s[i]); i++) {
  }
  if (i == t || i >= n || s[i] != '/') return 0;
  for (t = ++i; i < n && token_char((unsigned char)s[i]); i++) {
  }
  if (i == t) return 0;
  for (; i < n; i++)
    if (!token_char((unsigned char)s[i]) && s[i] != ';' && s[i] != '=' && s[i] != ' ') return 0;
  return 1;
}

/* ---- base64 ------------------------------------------------------------------ */

static size_t b64_len(size_t n) { return (n + 2) / 3 * 4; }

static char *b64(char *out, const unsigned char *in, size_t n) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[0] = A[v >> 18];
    out[1] = A[(v >> 12) & 63];
    out[2] = A[(v >> 6) & 63];
    out[3] = A[v & 63];
    out += 4;
  }
  if (i < n) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
    out[0] = A[v >> 18];
    out[1] = A[(v >> 12) & 63];
    out[2] = i + 1 < n ? A[(v >> 6) & 63] : '=';
    out[3] = '=';
    out += 4;
  }
  return out;
}

/* ---- the value --------------------------------------------------------------- */

static vz_media *to_media(lua_State *L, int idx) { return (vz_media *)vz_testudata(L, idx, VZ_MEDIA_MT); }

int vz_media_is(lua_State *L, int idx) { return to_media(L, idx) != NULL; }

size_t vz_media_size(lua_State *L, int idx) {
  vz_media *m = to_media(L, idx);
  return m != NULL ? m->size : 0;
}

/* Pushes [i] of the media value's user value table (at absolute idx). */
static void push_part(lua_State *L, int idx, int i) {
  vz_getuservalue(L, idx);
  vz_rawgeti(L, -1, i);
  lua_remove(L, -2);
}

int vz_media_push_name(lua_State *L, int idx) {
  vz_media *m = to_media(L, idx);
  if (m == NULL || !m->from_file) return 0;
  push_part(L, vz_absindex(L, idx), 2);
  if (lua_type(L, -1) == LUA_TSTRING) return 1;
  lua_pop(L, 1);
  return 0;
}

/* Room for exactly n more bytes and the terminator (vz_buf_reserve would
 * double the capacity: for a large body that is up to twice the memory). */
static int reserve_exact(vz_buf *b, size_t n) {
  size_t need;
  char *p;
  if (n > (size_t)-1 - b->len - 1) return -1;
  need = b->len + n + 1;
  if (need <= b->cap) return 0;
  p = (char *)realloc(b->data, need);
  if (p == NULL) return -1;
  b->data = p;
  b->cap = need;
  return 0;
}

/* Writes the encoder's error message and returns 0. */
static int fail(char *err, size_t errsz, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errsz == 0) return 0;
  va_start(ap, fmt);
  vsnprintf(err, errsz, fmt, ap);
  va_end(ap);
  return 0;
}

/* The file's bytes, base64, into out at w (room reserved for n bytes). */
static int encode_file(int fd, size_t n, char *w, const char *name, char *err, size_t errsz, const char **code) {
  unsigned char *chunk = (unsigned char *)malloc(n < CHUNK ? n : CHUNK);
  size_t left = n;
  char extra;
  if (chunk == NULL) return fail(err, errsz, "out of memory");
  while (left > 0) {
    size_t want = left < CHUNK ? left : CHUNK, got = 0;
    while (got < want) {
      ssize_t r = read(fd, chunk + got, want - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        free(chunk);
        *code = r < 0 ? "MEDIA_UNREADABLE" : "MEDIA_CHANGED";
        if (r < 0) return fail(err, errsz, "cannot read file '%s': %s", name, strerror(errno));
        return fail(err, errsz, "file '%s' changed after vzaps.file (it got shorter while being read)", name);
      }
      got += (size_t)r;
    }
    w = b64(w, chunk, want);
    left -= want;
  }
  free(chunk);
  for (;;) {
    ssize_t r = read(fd, &extra, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      *code = "MEDIA_CHANGED";
      return fail(err, errsz, "file '%s' changed after vzaps.file (it grew while being read)", name);
    }
    break;
  }
  return 1;
}

/* Opens path for reading without blocking on a FIFO or device; -1 and
 * errno on failure. */
static int open_read(const char *path) {
  int fd;
  do fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_BINARY);
  while (fd < 0 && errno == EINTR);
  return fd;
}

/* Why a file (st from stat or fstat) cannot be sent, or NULL. */
#define TOO_LARGE "is larger than the 100 MiB limit for media"
static const char *file_problem(const struct stat *st, const char **code) {
  *code = "MEDIA_NOT_A_FILE";
  if (S_ISDIR(st->st_mode)) return "is a directory";
  if (!S_ISREG(st->st_mode)) return "is not a regular file";
  *code = "MEDIA_EMPTY";
  if (st->st_size <= 0) return "is empty";
  *code = "MEDIA_TOO_LARGE";
  if ((unsigned long long)st->st_size > VZ_MEDIA_MAX_BYTES) return TOO_LARGE;
  *code = NULL;
  return NULL;
}

int vz_media_encode(lua_State *L, int idx, vz_buf *out, char *err, size_t errsz, const char **code) {
  vz_media *m;
  const char *src, *name = "?";
  size_t srclen, hlen, total;
  int fd = -1, ok;
  char *w;
  if (!lua_checkstack(L, 3)) return fail(err, errsz, "nested too deeply");
  idx = vz_absindex(L, idx);
  m = to_media(L, idx);
  if (m == NULL) return fail(err, errsz, "not a media value");
  push_part(L, idx, 1);
  src = lua_tolstring(L, -1, &srclen);
  if (src == NULL) {
    lua_pop(L, 1);
    return fail(err, errsz, "broken media value");
  }
  hlen = 5 + strlen(m->mime) + 8; /* data:<mime>;base64, */
  *code = NULL;
  if (m->from_file) {
    struct stat st;
    const char *why;
    push_part(L, idx, 2);
    name = lua_tostring(L, -1);
    if (name == NULL) name = "?";
    fd = open_read(src);
    if (fd < 0 || fstat(fd, &st) != 0) {
      int e = errno;
      if (fd >= 0) close(fd);
      *code = "MEDIA_UNREADABLE";
      fail(err, errsz, "cannot read file '%s': %s", name, strerror(e));
      lua_pop(L, 2); /* after: name points into the popped string */
      return 0;
    }
    if ((why = file_problem(&st, code)) != NULL) {
      close(fd);
      fail(err, errsz, "file '%s' %s", name, why);
      lua_pop(L, 2);
      return 0;
    }
    srclen = (size_t)st.st_size;
  }
  total = hlen + b64_len(srclen) + 2; /* the quotes */
  if (reserve_exact(out, total) != 0) {
    if (fd >= 0) close(fd);
    lua_pop(L, m->from_file ? 2 : 1);
    return fail(err, errsz, "out of memory");
  }
  w = out->data + out->len;
  *w++ = '"';
  memcpy(w, "data:", 5);
  memcpy(w + 5, m->mime, hlen - 13);
  memcpy(w + hlen - 8, ";base64,", 8);
  w += hlen;
  if (m->from_file) {
    ok = encode_file(fd, srclen, w, name, err, errsz, code);
    close(fd);
  } else {
    b64(w, (const unsigned char *)src, srclen);
    ok = 1;
  }
  lua_pop(L, m->from_file ? 2 : 1);
  if (!ok) return 0;
  out->data[out->len + total - 1] = '"';
  out->len += total;
  return 1;
}

/* ---- vzaps.file, vzaps.bytes ----------------------------------------------- */

/* nil, message, code: a media value that cannot be made (init.lua turns it
 * into the failure tuple). */
static int refuse(lua_State *L, const char *code, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_pushstring(L, code);
  return 3;
}

/* The explicit MIME type at idx (2), or NULL; raises when it is not one. */
static const char *explicit_mime(lua_State *L, int idx, const char *fname) {
  size_t n;
  const char *s;
  if (lua_isnoneornil(L, idx)) return NULL;
  if (lua_type(L, idx) != LUA_TSTRING)
    vz_argerror(L, idx, fname, "mime must be a string, got %s", luaL_typename(L, idx));
  s = lua_tolstring(L, idx, &n);
  if (!mime_ok(s, n)) vz_argerror(L, idx, fname, "mime must be a MIME type such as \"image/png\"");
  return s;
}

static vz_media *new_media(lua_State *L, int from_file, size_t size, const char *mime) {
  vz_media *m = (vz_media *)vz_newuserdata(L, sizeof *m);
  m->from_file = from_file;
  m->size = size;
  snprintf(m->mime, sizeof m->mime, "%s", mime);
  luaL_getmetatable(L, VZ_MEDIA_MT);
  lua_setmetatable(L, -2);
  return m;
}

/* core.media_file(path, mime|nil) -> media | nil, message, code */
static int l_file(lua_State *L) {
  size_t n;
  const char *path, *mime, *name, *why, *code = NULL;
  unsigned char head[HEAD_BYTES];
  size_t got = 0;
  struct stat st;
  int fd;
  if (lua_type(L, 1) != LUA_TSTRING)
    return vz_argerror(L, 1, "file", "path must be a string, got %s", luaL_typename(L, 1));
  path = lua_tolstring(L, 1, &n);
  mime = explicit_mime(L, 2, "file");
  if (n == 0) return refuse(L, "MEDIA_UNREADABLE", "cannot read file '': empty path");
  if (strlen(path) != n) return refuse(L, "MEDIA_UNREADABLE", "cannot read file: the path contains a NUL byte");
  /* the base name: after the last separator */
  name = strrchr(path, '/');
#if defined(_WIN32)
  if (strrchr(path, '\\') > name) name = strrchr(path, '\\');
#endif
  name = name != NULL ? name + 1 : path;
  if (stat(path, &st) != 0) {
    if (errno == EOVERFLOW) return refuse(L, "MEDIA_TOO_LARGE", "file '%s' " TOO_LARGE, path);
    return refuse(L, "MEDIA_UNREADABLE", "cannot read file '%s': %s", path, strerror(errno));
  }
  /* stat first: open() of a FIFO could wait for a writer */
  if ((why = file_problem(&st, &code)) != NULL) return refuse(L, code, "file '%s' %s", path, why);
  fd = open_read(path);
  if (fd < 0) return refuse(L, "MEDIA_UNREADABLE", "cannot read file '%s': %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || (why = file_problem(&st, &code)) != NULL) {
    int e = errno;
    close(fd);
    if (why != NULL) return refuse(L, code, "file '%s' %s", path, why);
    return refuse(L, "MEDIA_UNREADABLE", "cannot read file '%s': %s", path, strerror(e));
  }
  while (got < sizeof head) {
    ssize_t r = read(fd, head + got, sizeof head - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return refuse(L, "MEDIA_UNREADABLE", "cannot read file '%s': %s", path, strerror(e));
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (mime == NULL) mime = by_magic(head, got, name);
  if (mime == NULL) mime = by_extension(name);
  if (mime == NULL) mime = "application/octet-stream";
  new_media(L, 1, (size_t)st.st_size, mime);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushstring(L, name);
  lua_rawseti(L, -2, 2);
  vz_setuservalue(L, -2);
  return 1;
}

/* core.media_bytes(data, mime|nil) -> media | nil, message, code */
static int l_bytes(lua_State *L) {
  size_t n;
  const char *mime;
  if (lua_type(L, 1) != LUA_TSTRING)
    return vz_argerror(L, 1, "bytes", "data must be a string, got %s", luaL_typename(L, 1));
  lua_tolstring(L, 1, &n);
  mime = explicit_mime(L, 2, "bytes");
  if (n == 0) return refuse(L, "MEDIA_EMPTY", "media data is empty");
  if (n > VZ_MEDIA_MAX_BYTES) return refuse(L, "MEDIA_TOO_LARGE", "media data " TOO_LARGE);
  if (mime == NULL) mime = by_magic((const unsigned char *)lua_tostring(L, 1), n < HEAD_BYTES ? n : HEAD_BYTES, NULL);
  if (mime == NULL) mime = "application/octet-stream";
  new_media(L, 0, n, mime);
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  vz_setuservalue(L, -2);
  return 1;
}

/* media.mime, .size, .name (a file's base name), .path (a file's path),
 * .source ("file" or "bytes"); anything else is nil. */
static int l_index(lua_State *L) {
  vz_media *m = to_media(L, 1);
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (m == NULL || k == NULL) return 0;
  if (strcmp(k, "mime") == 0) {
    lua_pushstring(L, m->mime);
  } else if (strcmp(k, "size") == 0) {
#if VZ_HAS_INTEGERS
    lua_pushinteger(L, (lua_Integer)m->size);
#else
    lua_pushnumber(L, (lua_Number)m->size);
#endif
  } else if (strcmp(k, "source") == 0) {
    lua_pushstring(L, m->from_file ? "file" : "bytes");
  } else if (m->from_file && strcmp(k, "name") == 0) {
    push_part(L, 1, 2);
  } else if (m->from_file && strcmp(k, "path") == 0) {
    push_part(L, 1, 1);
  } else {
    return 0;
  }
  return 1;
}

/* "vzaps.media (file, image/png, 1234 bytes)": never the content. */
static int l_tostring(lua_State *L) {
  vz_media *m = to_media(L, 1);
  char size[32];
  if (m == NULL) return 0;
  snprintf(size, sizeof size, "%lu", (unsigned long)m->size);
  lua_pushfstring(L, "vzaps.media (%s, %s, %s bytes)", m->from_file ? "file" : "bytes", m->mime, size);
  return 1;
}

void vz_media_register(lua_State *L) {
  int core = lua_gettop(L);
  luaL_newmetatable(L, VZ_MEDIA_MT);
  lua_pushliteral(L, VZ_MEDIA_MT);
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, l_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, VZ_MEDIA_MT);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_file);
  lua_setfield(L, core, "media_file");
  lua_pushcfunction(L, l_bytes);
  lua_setfield(L, core, "media_bytes");
  lua_pushnumber(L, (lua_Number)VZ_MEDIA_MAX_BYTES);
  lua_setfield(L, core, "MEDIA_MAX_BYTES");
}
