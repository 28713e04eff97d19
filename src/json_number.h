/* json_number.h: locale-independent number text for the JSON codec.
 *
 * The C library formats and parses doubles with the decimal point of the
 * current LC_NUMERIC locale, which the host application may have set to one
 * with a decimal comma. These helpers always use '.', as JSON requires. */
#ifndef VZ_JSON_NUMBER_H
#define VZ_JSON_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for any text written by the two formatters below. */
#define VZ_JSON_NUMBUF 48

/* Write the decimal text of v into buf (VZ_JSON_NUMBUF bytes, not
 * NUL-terminated). Returns the length. */
size_t vz_json_fmt_int(char *buf, long long v);

/* Write the shortest text that reads back as exactly d (%.15g, %.16g or
 * %.17g for a normal double, as few digits as a subnormal allows) (d must
 * be finite) into buf (VZ_JSON_NUMBUF bytes, NUL-terminated), with
 * '.' as the decimal point. Returns the length. */
size_t vz_json_fmt_double(char *buf, double d);

/* Convert the JSON number token s[0..n) (already checked against the JSON
 * grammar, not NUL-terminated) to the nearest double. Returns 0 only when a
 * very long token needs a heap copy and malloc fails. */
int vz_json_strtod(const char *s, size_t n, double *out);

/* Word-at-a-time search for a '"', '\\' or byte < 0x20 among 8 bytes, for
 * the decoder's string scan and the encoder's escape scan. Each term is the
 * classic "has a zero byte" trick: a high bit is set in a byte that
 * matches, and possibly in bytes above it, never below. So the lowest set
 * bit marks the first match exactly. */
#define VZ_JSON_ONES UINT64_C(0x0101010101010101)
#define VZ_JSON_HIGHS UINT64_C(0x8080808080808080)
static inline uint64_t vz_json_word_stops(uint64_t w) {
  uint64_t q = w ^ (VZ_JSON_ONES * '"');
  uint64_t b = w ^ (VZ_JSON_ONES * '\\');
  return (((q - VZ_JSON_ONES) & ~q) | ((b - VZ_JSON_ONES) & ~b) | ((w - VZ_JSON_ONES * 0x20) & ~w)) & VZ_JSON_HIGHS;
}

#endif
