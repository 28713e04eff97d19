/* c_loop.c: the floor. The same authenticated calls as the module makes,
 * written as a plain libcurl loop: one easy handle reused (keep-alive), the
 * header list built once, the body read into a reused buffer, no JSON
 * parsing (get/send need none; for list this is reported as "no parse").
 *
 *   c_loop BASE_URL get|send|list WARMUP N
 *
 * The token is fetched once, then WARMUP calls, then N timed calls. Prints
 *   RESULT calls=N wall=S cpu=S maxrss_kb=K bytes=B
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
  char *data;
  size_t len, cap;
} buf;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  buf *b = ud;
  size_t n = size * nmemb;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    if ((b->data = realloc(b->data, cap)) == NULL) return 0;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void call(CURL *h, buf *b) {
  CURLcode rc;
  long status = 0;
  b->len = 0;
  rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK || status != 200) {
    fprintf(stderr, "c_loop: call failed: %s, status %ld\n", curl_easy_strerror(rc), status);
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *base, *mode;
  char url[512], line[1024], token[512];
  const char *body, *p, *q;
  int warmup, n, i;
  struct curl_slist *hdrs = NULL;
  buf b = {0};
  CURL *h;
  double t0, c0, t1, c1;
  struct rusage ru;

  if (argc != 5) {
    fprintf(stderr, "usage: c_loop BASE_URL get|send|list WARMUP N\n");
    return 2;
  }
  base = argv[1], mode = argv[2], warmup = atoi(argv[3]), n = atoi(argv[4]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

  /* POST /token, once. */
  snprintf(url, sizeof url, "%s/token", base);
  hdrs = curl_slist_append(hdrs, "Accept: application/json");
  hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  hdrs = curl_slist_append(hdrs, "User-Agent: VZaps.SDK.Lua/0.1.0");
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"client_secret\":\"bench-secret\",\"client_token\":\"bench-client\"}");
  call(h, &b);
  p = strstr(b.data, "\"access_token\":\"");
  if (p == NULL) return 1;
  p += 16;
  q = strchr(p, '"');
  snprintf(token, sizeof token, "%.*s", (int)(q - p), p);

  /* The authenticated calls: headers and body set once. */
  snprintf(line, sizeof line, "Authorization: Bearer %s", token);
  hdrs = curl_slist_append(hdrs, line);
  hdrs = curl_slist_append(hdrs, "X-Client-Token: bench-client");
  if (strcmp(mode, "get") == 0) {
    snprintf(url, sizeof url, "%s/instances/get", base);
    body = "{\"id\":\"VZ0000000000005EED0001\"}";
  } else if (strcmp(mode, "send") == 0) {
    snprintf(url, sizeof url, "%s/instances/VZ0000000000005EED0001/chat/send/text", base);
    hdrs = curl_slist_append(hdrs, "X-Instance-Token: 0000000000000000000000009e3779b1");
    body = "{\"message\":\"Hello from the bench\",\"phone\":\"5511999990000\"}";
  } else {
    snprintf(url, sizeof url, "%s/instances/list", base);
    body = "{\"filter\":{},\"page\":1,\"size\":1000}";
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);

  for (i = 0; i < warmup; i++) call(h, &b);
  t0 = now(), c0 = cpu();
  for (i = 0; i < n; i++) call(h, &b);
  t1 = now(), c1 = cpu();
  getrusage(RUSAGE_SELF, &ru);
  printf("RESULT calls=%d wall=%.6f cpu=%.6f maxrss_kb=%ld bytes=%zu\n", n, t1 - t0, c1 - c0, ru.ru_maxrss, b.len);

  curl_easy_cleanup(h);
  curl_slist_free_all(hdrs);
  free(b.data);
  curl_global_cleanup();
  return 0;
}
