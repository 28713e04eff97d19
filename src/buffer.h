/* buffer.h: a growable byte buffer, reused across requests so a steady stream
 * of calls allocates nothing once the buffer has reached its working size. */
#ifndef VZ_BUFFER_H
#define VZ_BUFFER_H

#include <stddef.h>

typedef struct vz_buf {
  char *data; /* NUL-terminated when non-NULL (one spare byte is kept) */
  size_t len;
  size_t cap;
} vz_buf;

void vz_buf_init(vz_buf *b);
void vz_buf_free(vz_buf *b);
/* Empty the buffer; give memory back when it grew past keep bytes. */
void vz_buf_reset(vz_buf *b, size_t keep);
/* Make room for n more bytes. Returns 0 on success, -1 when out of memory. */
int vz_buf_reserve(vz_buf *b, size_t n);
int vz_buf_append(vz_buf *b, const void *p, size_t n);
int vz_buf_putc(vz_buf *b, char c);
/* Overwrites n bytes at p with zeros in a way the compiler keeps: secrets
 * do not stay in memory given back to the allocator. */
void vz_wipe(void *p, size_t n);

#endif
