/* vzaps.h: types and functions shared by the C files of the module. */
#ifndef VZ_VZAPS_H
#define VZ_VZAPS_H

#include <curl/curl.h>

#include "buffer.h"
#include "compat.h"

#define VZ_VERSION "0.1.0"
#define VZ_CLIENT_MT "vzaps.Client"

#if defined(_WIN32)
#define VZ_EXPORT __declspec(dllexport)
#else
#define VZ_EXPORT __attribute__((visibility("default")))
#endif

/* Response bodies larger than this are refused (lua-api.md, Reliability). */
#define VZ_MAX_BODY ((size_t)64 * 1024 * 1024)
/* A reused response buffer that grew past this is freed after the call, so a
 * single huge answer does not pin its memory for the client's lifetime. */
#define VZ_KEEP_BUFFER ((size_t)1024 * 1024)

/* What the libcurl transport remembers of one response. */
typedef struct vz_response {
  vz_buf body;
  long status;
  char reason[64];      /* reason phrase of the last status line */
  char retry_after[64]; /* raw Retry-After header value */
  char request_id[128]; /* raw X-Request-Id header value */
  int too_large;        /* the body passed VZ_MAX_BODY */
} vz_response;

/* The C side of a client: one libcurl easy handle reused for every call. */
typedef struct vz_client {
  CURL *curl; /* NULL once closed */
  char *base_url;
  long timeout_ms;
  long connect_timeout_ms;
  int ssl_verify;
  char *ca_file, *ca_path, *proxy; /* NULL when not set */
  vz_response res;
  int prereq_calls;  /* times libcurl was about to send the current request */
  int guard_resend;  /* the current request must not be sent twice */
  char errbuf[CURL_ERROR_SIZE];
} vz_client;

/* client.c */
vz_client *vz_client_check(lua_State *L, int idx);
void vz_client_register(lua_State *L);
/* Applies the client's TLS, proxy and connect-timeout settings to an easy
 * handle, so every connection of a client (REST and realtime) uses them. */
void vz_client_apply_settings(const vz_client *c, CURL *h);

/* transport.c: the perform function registered as core.perform. */
int vz_transport_perform(lua_State *L);
void vz_transport_setup(vz_client *c);

/* core.c: shared helpers registered on the core table. */
void vz_core_register(lua_State *L);

/* Stack index of the JSON array metatable: every core function carries it as
 * upvalue 1. */
#define VZ_ARRAY_MT lua_upvalueindex(1)

#endif
