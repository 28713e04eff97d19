/* buffer.c: see buffer.h. */
#include "buffer.h"

#include <stdlib.h>
#include <string.h>

void vz_buf_init(vz_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void vz_buf_free(vz_buf *b) {
  free(b->data);
  vz_buf_init(b);
}

void vz_buf_reset(vz_buf *b, size_t keep) {
  if (b->cap > keep) vz_buf_free(b);
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

int vz_buf_reserve(vz_buf *b, size_t n) {
  size_t need, cap;
  char *p;
  if (n > (size_t)-1 - b->len - 1) return -1;
  need = b->len + n + 1; /* + terminator */
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  p = (char *)realloc(b->data, cap);
  if (p == NULL) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int vz_buf_append(vz_buf *b, const void *p, size_t n) {
  if (vz_buf_reserve(b, n) != 0) return -1;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int vz_buf_putc(vz_buf *b, char c) {
  if (b->len + 1 >= b->cap && vz_buf_reserve(b, 1) != 0) return -1;
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
  return 0;
}

void vz_wipe(void *p, size_t n) {
  volatile char *v = (volatile char *)p;
  while (n--) *v++ = '\0';
}
