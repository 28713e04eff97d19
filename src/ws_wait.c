/* ws_wait.c: waiting on the realtime socket with a deadline (ws_wait.h). */
#include <errno.h>
#include <math.h>
#include <poll.h>

#include "clock.h"
#include "ws_wait.h"

int vz_ws_wait(curl_socket_t fd, short events, double deadline) {
  for (;;) {
    struct pollfd p;
    double left = deadline - vz_now();
    int r;
    if (left <= 0) return 0;
    p.fd = fd, p.events = events, p.revents = 0;
    r = poll(&p, 1, left > 86400 ? 86400000 : (int)ceil(left * 1000.0));
    if (r > 0) return 1; /* also on POLLERR/POLLHUP: the next recv tells */
    if (r < 0 && errno != EINTR) return -1;
  }
}
