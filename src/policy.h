/* policy.h: each rule that several parts apply, once (policy.c). */
#ifndef VZ_POLICY_H
#define VZ_POLICY_H

#include <stddef.h>

#include "compat.h"

/* The longest time in seconds any option or argument may give: one year.
 * policy.c applies it (core.check_seconds in Lua). */
#define VZ_MAX_SECONDS 31536000.0
/* Longest "Name: value" header line accepted. */
#define VZ_MAX_HEADER_LINE 8192

int vz_seconds_ok(double s, int zero_ok); /* (0 or more | more than 0), at most VZ_MAX_SECONDS */
long vz_seconds_to_ms(double s);
int vz_method_is_safe(const char *m);                 /* may be sent again */
int vz_method_post_mode(const char *m, int has_body); /* goes in libcurl's POST mode */
int vz_header_name_ok(const char *s, size_t n);
int vz_header_value_ok(const char *s, size_t n);
/* The largest whole number a field (page, size, delay...) takes: 2^53, the
 * last one every Lua (doubles included) holds exactly. request.c applies
 * it; the paging iterators read it as core.MAX_WHOLE. */
#define VZ_MAX_WHOLE 9007199254740992.0
/* The longest token (credential, JWT, instance token) that goes in a
 * header: its header line stays well inside VZ_MAX_HEADER_LINE. */
#define VZ_MAX_TOKEN 4096
enum { VZ_TOKEN_BLANK = 1, VZ_TOKEN_CONTROL = 2, VZ_TOKEN_LONG = 3 };
int vz_token_problem(const char *s, size_t n); /* 0, or VZ_TOKEN_BLANK, _CONTROL, _LONG */
int vz_token_ok(const char *s, size_t n);      /* one line, not blank */
void vz_policy_register(lua_State *L);

#endif
