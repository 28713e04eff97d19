/* json_number.c: see json_number.h. */
#include "json_number.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t vz_json_fmt_int(char *buf, long long v) {
  char tmp[24];
  char *q = tmp + sizeof tmp;
  /* Negate in unsigned arithmetic so LLONG_MIN does not overflow. */
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  size_t n;
  do {
    *--q = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u != 0);
  if (v < 0) *--q = '-';
  n = (size_t)(tmp + sizeof tmp - q);
  memcpy(buf, q, n);
  return n;
}

size_t vz_json_fmt_double(char *buf, double d) {
  static const char *const fmts[] = {"%.15g", "%.16g", "%.17g"};
  const char *dp;
  char *at;
  size_t n = 0, dplen;
  int i, r;
  /* A normal double that some text of 15 digits or fewer reads back as is
   * printed that way by %.15g already (its ulp is below half a unit of
   * the 15th digit); a subnormal has fewer bits, so its shortest text may
   * have fewer digits than %.15g writes: try them from one up. */
  if (d != 0.0 && fabs(d) < DBL_MIN) {
    for (i = 1; i <= 17; i++) {
      r = snprintf(buf, VZ_JSON_NUMBUF, "%.*g", i, d);
      n = r < 0 ? 0 : (size_t)r;
      if (n >= VZ_JSON_NUMBUF) n = VZ_JSON_NUMBUF - 1; /* cannot happen */
      if (strtod(buf, NULL) == d) break;
    }
  } else {
    for (i = 0; i < 3; i++) {
      r = snprintf(buf, VZ_JSON_NUMBUF, fmts[i], d);
      n = r < 0 ? 0 : (size_t)r;
      if (n >= VZ_JSON_NUMBUF) n = VZ_JSON_NUMBUF - 1; /* cannot happen */
      /* strtod reads the text back in the same locale snprintf wrote it. */
      if (i == 2 || strtod(buf, NULL) == d) break;
    }
  }
  /* Swap the locale's decimal point (possibly several bytes) for '.'. */
  dp = localeconv()->decimal_point;
  if (dp == NULL || dp[0] == '\0' || (dp[0] == '.' && dp[1] == '\0')) return n;
  at = strstr(buf, dp);
  if (at == NULL) return n;
  dplen = strlen(dp);
  *at = '.';
  if (dplen > 1) {
    memmove(at + 1, at + dplen, n - (size_t)(at - buf) - dplen + 1);
    n -= dplen - 1;
  }
  return n;
}

int vz_json_strtod(const char *s, size_t n, double *out) {
  char stackbuf[96];
  char *copy = stackbuf, *w;
  const char *dp = localeconv()->decimal_point;
  size_t dplen, need, i;
  if (dp == NULL || dp[0] == '\0') dp = ".";
  dplen = strlen(dp);
  /* Every byte plus room for a longer decimal point and the terminator. */
  need = n + dplen + 1;
  if (need > sizeof stackbuf) {
    copy = (char *)malloc(need);
    if (copy == NULL) return 0;
  }
  /* The token is not NUL-terminated and must carry the locale's decimal
   * point for strtod (as lua-cjson's fpconv.c does). A JSON number holds at
   * most one '.'. */
  w = copy;
  for (i = 0; i < n; i++) {
    if (s[i] == '.') {
      memcpy(w, dp, dplen);
      w += dplen;
    } else {
      *w++ = s[i];
    }
  }
  *w = '\0';
  *out = strtod(copy, NULL);
  if (copy != stackbuf) free(copy);
  return 1;
}
