/* scrape.c — requests by status and route, from the collector's Prometheus /metrics.
 *
 * Why over HTTP: the collector keeps its per-thread counters inside coll_server_run()
 * and exposes them only as /metrics; reading them the way Prometheus does keeps the
 * admin server decoupled from the collector's internals (and works against any
 * collector, in this process or not). The scrape is a plain blocking HTTP/1.0 GET on
 * loopback with a deadline; the answer is capped at ADMIN_SCRAPE_MAX bytes.
 * Thread: the admin thread (admin_metrics_parse is pure).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "admin/parts.h"

#define ADMIN_SCRAPE_MAX (4u << 20)

static void add_count(char (*names)[96], uint64_t *counts, size_t *n, size_t max,
                      size_t name_cap, const char *name, size_t len, uint64_t v)
{
    if (len >= name_cap)
        len = name_cap - 1;
    for (size_t i = 0; i < *n; i++)
        if (strlen(names[i]) == len && !memcmp(names[i], name, len)) {
            counts[i] += v;
            return;
        }
    if (*n == max)
        return;
    memcpy(names[*n], name, len);
    names[*n][len] = '\0';
    counts[(*n)++] = v;
}

/* The value of label `key` in a label set like {route="/x",status="200"}. */
static bool label(const char *labels, const char *end, const char *key, const char **v,
                  size_t *vlen)
{
    size_t kl = strlen(key);
    for (const char *p = labels; p + kl + 2 < end; p++) {
        if ((p == labels || p[-1] == '{' || p[-1] == ',') && !memcmp(p, key, kl) &&
            p[kl] == '=' && p[kl + 1] == '"') {
            const char *s = p + kl + 2, *q = memchr(s, '"', (size_t)(end - s));
            if (!q)
                return false;
            *v = s;
            *vlen = (size_t)(q - s);
            return true;
        }
    }
    return false;
}

void admin_metrics_parse(const char *text, size_t len, admin_reqstats *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->ok = true;
    const char *p = text, *end = text + len;
    static const char req[] = "sluice_http_requests_total{";
    static const char stored[] = "sluice_events_stored_total ";
    /* status slots share the name table layout of routes: use a wide scratch */
    char snames[ADMIN_MAX_STATUS][96];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll > sizeof req - 1 && !memcmp(p, req, sizeof req - 1)) {
            const char *close = memchr(p, '}', ll);
            if (close) {
                const char *route, *status;
                size_t rl, sl;
                uint64_t v = strtoull(close + 1, NULL, 10);
                if (label(p + sizeof req - 2, close, "route", &route, &rl) &&
                    label(p + sizeof req - 2, close, "status", &status, &sl) &&
                    !(rl == 8 && !memcmp(route, "/metrics", 8)) && v > 0) {
                    add_count(snames, rs->status_count, &rs->nstatus, ADMIN_MAX_STATUS,
                              sizeof rs->status[0], status, sl, v);
                    add_count(rs->route, rs->route_count, &rs->nroutes, ADMIN_MAX_ROUTES,
                              sizeof rs->route[0], route, rl, v);
                    rs->total += v;
                }
            }
        } else if (ll > sizeof stored - 1 && !memcmp(p, stored, sizeof stored - 1)) {
            rs->events_stored = strtoull(p + sizeof stored - 1, NULL, 10);
        }
        p = nl ? nl + 1 : end;
    }
    for (size_t i = 0; i < rs->nstatus; i++)
        memcpy(rs->status[i], snames[i], sizeof rs->status[i]);  /* added with that cap */
}

/* Waits for fd to be ready for ev until deadline; 0 ready, -1 timeout or error. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - sl_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {fd, ev, 0};
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

void admin_scrape(const char *host, uint16_t port, int timeout_ms, admin_reqstats *rs)
{
    int64_t deadline = sl_mono_ms() + timeout_ms;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    /* a collector listening on the wildcard address is reached on loopback */
    const char *h = host;
    if (!strcmp(h, "0.0.0.0") || !strcmp(h, "") || !strcmp(h, "*"))
        h = "127.0.0.1";
    else if (!strcmp(h, "::"))
        h = "::1";
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    sl_buf resp;
    sl_buf_init(&resp, ADMIN_SCRAPE_MAX);
    int fd = -1;
    const char *why = NULL;
    if (getaddrinfo(h, portstr, &hints, &ai) != 0) {
        why = "cannot resolve the collector address";
        goto fail;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        why = "socket failed";
        goto fail;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        why = "collector not reachable";
        goto fail;
    }
    if (wait_fd(fd, POLLOUT, deadline) < 0) {
        why = "collector did not accept in time";
        goto fail;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        why = "collector not reachable";
        goto fail;
    }
    static const char get[] = "GET /metrics HTTP/1.0\r\nHost: sluice-admin\r\n\r\n";
    size_t sent = 0;
    while (sent < sizeof get - 1) {
        ssize_t w = send(fd, get + sent, sizeof get - 1 - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT, deadline) == 0)
            continue;
        if (w <= 0) {
            why = "sending the request failed";
            goto fail;
        }
        sent += (size_t)w;
    }
    for (;;) {
        if (sl_buf_reserve(&resp, 16384) < 0) {
            why = "metrics answer too large";
            goto fail;
        }
        ssize_t r = recv(fd, resp.p + resp.len, resp.cap - resp.len - 1, 0);
        if (r == 0)
            break;
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLIN, deadline) < 0) {
                why = "collector answered too slowly";
                goto fail;
            }
            continue;
        }
        if (r < 0) {
            why = "reading the answer failed";
            goto fail;
        }
        resp.len += (size_t)r;
        resp.p[resp.len] = '\0';
    }
    const char *body = resp.p ? strstr(resp.p, "\r\n\r\n") : NULL;
    if (!body || resp.len < 12 || strncmp(resp.p, "HTTP/1.", 7) != 0 ||
        strncmp(resp.p + 8, " 200", 4) != 0) {
        why = "unexpected answer to GET /metrics";
        goto fail;
    }
    body += 4;
    admin_metrics_parse(body, resp.len - (size_t)(body - resp.p), rs);
    goto out;
fail:
    memset(rs, 0, sizeof *rs);
    rs->ok = false;
    snprintf(rs->error, sizeof rs->error, "%s (%s:%u)", why, h, port);
out:
    if (fd >= 0)
        close(fd);
    if (ai)
        freeaddrinfo(ai);
    sl_buf_free(&resp);
}

int admin_reqstats_json(const admin_reqstats *rs, sl_buf *b)
{
    int rc = sl_buf_printf(b, "\"requests\":{\"ok\":%s,\"total\":%llu,\"events_stored\":%llu",
                           rs->ok ? "true" : "false", (unsigned long long)rs->total,
                           (unsigned long long)rs->events_stored);
    if (!rc && !rs->ok) {
        rc = sl_buf_adds(b, ",\"error\":");
        rc = rc ? rc : admin_json_str(b, rs->error, strlen(rs->error));
    }
    rc = rc ? rc : sl_buf_adds(b, ",\"by_status\":{");
    for (size_t i = 0; i < rs->nstatus && !rc; i++) {
        rc = i ? sl_buf_addc(b, ',') : 0;
        rc = rc ? rc : admin_json_str(b, rs->status[i], strlen(rs->status[i]));
        rc = rc ? rc : sl_buf_printf(b, ":%llu", (unsigned long long)rs->status_count[i]);
    }
    rc = rc ? rc : sl_buf_adds(b, "},\"by_route\":{");
    for (size_t i = 0; i < rs->nroutes && !rc; i++) {
        rc = i ? sl_buf_addc(b, ',') : 0;
        rc = rc ? rc : admin_json_str(b, rs->route[i], strlen(rs->route[i]));
        rc = rc ? rc : sl_buf_printf(b, ":%llu", (unsigned long long)rs->route_count[i]);
    }
    rc = rc ? rc : sl_buf_adds(b, "}}");
    return rc;
}
