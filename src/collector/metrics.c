/* metrics.c — per-thread counters and Prometheus text (see metrics.h). */
#include "collector/metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const int status_codes[COLL_NSTATUS] = {200, 201, 202, 204, 400, 401, 404, 405,
                                               408, 413, 414, 417, 431, 500, 503, 507, 0};

/* upper bounds in ns; the last bucket is +Inf */
static const uint64_t lat_bounds_ns[COLL_LAT_NBUCKETS - 1] = {
    50000,    100000,   250000,    500000,    1000000,   2500000,   5000000,
    10000000, 25000000, 50000000, 100000000, 250000000, 1000000000};

int coll_status_of_slot(size_t s)
{
    return s < COLL_NSTATUS ? status_codes[s] : 0;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < COLL_NSTATUS - 1; i++)
        if (status_codes[i] == status)
            return i;
    return COLL_NSTATUS - 1;
}

int coll_metrics_init(coll_metrics *m, size_t app_routes)
{
    memset(m, 0, sizeof *m);
    m->nroutes = app_routes + COLL_RT_NSPECIAL;
    m->requests = calloc(m->nroutes * COLL_NSTATUS, sizeof *m->requests);
    return m->requests ? 0 : -ENOMEM;
}

void coll_metrics_free(coll_metrics *m)
{
    if (!m)
        return;
    free(m->requests);
    m->requests = NULL;
}

/* Single writer: a relaxed load + store is enough and avoids a locked instruction. */
void coll_metrics_add(uint64_t *counter, int64_t delta)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + (uint64_t)delta,
                     __ATOMIC_RELAXED);
}

static void hist_add(coll_hist *h, uint64_t ns)
{
    size_t b = 0;
    while (b < COLL_LAT_NBUCKETS - 1 && ns > lat_bounds_ns[b])
        b++;
    coll_metrics_add(&h->bucket[b], 1);
    coll_metrics_add(&h->sum_ns, (int64_t)ns);
    coll_metrics_add(&h->count, 1);
}

void coll_metrics_request(coll_metrics *m, size_t route_slot, int status, uint64_t ns)
{
    if (route_slot >= m->nroutes)
        route_slot = m->nroutes - 1;
    coll_metrics_add(&m->requests[route_slot * COLL_NSTATUS + status_slot(status)], 1);
    hist_add(&m->req_latency, ns);
}

void coll_metrics_append(coll_metrics *m, uint64_t events, uint64_t bytes, uint64_t ns)
{
    coll_metrics_add(&m->events_stored, (int64_t)events);
    coll_metrics_add(&m->bytes_stored, (int64_t)bytes);
    hist_add(&m->append_latency, ns);
}

void coll_metrics_append_failed(coll_metrics *m)
{
    coll_metrics_add(&m->append_failures, 1);
}

static uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int render_hist(sl_buf *out, const char *name, const char *help,
                       const coll_metrics *const *ms, size_t n, size_t off)
{
    int rc = sl_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0, sum = 0, count = 0;
    for (size_t b = 0; b < COLL_LAT_NBUCKETS && rc >= 0; b++) {
        for (size_t i = 0; i < n; i++)
            cum += ld(&((const coll_hist *)((const char *)ms[i] + off))->bucket[b]);
        if (b < COLL_LAT_NBUCKETS - 1)
            rc = sl_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
                               (double)lat_bounds_ns[b] / 1e9, (unsigned long long)cum);
        else
            rc = sl_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                               (unsigned long long)cum);
    }
    for (size_t i = 0; i < n; i++) {
        const coll_hist *h = (const coll_hist *)((const char *)ms[i] + off);
        sum += ld(&h->sum_ns);
        count += ld(&h->count);
    }
    if (rc >= 0)
        rc = sl_buf_printf(out, "%s_sum %.9f\n%s_count %llu\n", name, (double)sum / 1e9, name,
                           (unsigned long long)count);
    return rc < 0 ? rc : 0;
}

static int render_counter(sl_buf *out, const char *name, const char *help, const char *type,
                          const coll_metrics *const *ms, size_t n, size_t off)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v += ld((const uint64_t *)((const char *)ms[i] + off));
    return sl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
                         name, (unsigned long long)v) < 0 ? -E2BIG : 0;
}

/* A label value in the text format's escaping: backslash, double quote and line feed
 * become \\, \" and \n (a route path may hold the first two). */
static int add_label_value(sl_buf *out, const char *v)
{
    int rc = 0;
    for (; *v && rc >= 0; v++) {
        if (*v == '\\' || *v == '"')
            rc = sl_buf_printf(out, "\\%c", *v);
        else if (*v == '\n')
            rc = sl_buf_adds(out, "\\n");
        else
            rc = sl_buf_addc(out, *v);
    }
    return rc < 0 ? rc : 0;
}

int coll_metrics_render(const coll_metrics *const *ms, size_t n, const char *const *route_names,
                        sl_buf *out)
{
    if (n == 0)
        return 0;
    int rc = sl_buf_adds(out, "# HELP sluice_http_requests_total HTTP requests by route and "
                              "status.\n# TYPE sluice_http_requests_total counter\n");
    size_t nroutes = ms[0]->nroutes;
    for (size_t r = 0; r < nroutes && rc >= 0; r++) {
        for (size_t s = 0; s < COLL_NSTATUS && rc >= 0; s++) {
            uint64_t v = 0;
            for (size_t i = 0; i < n; i++)
                v += ld(&ms[i]->requests[r * COLL_NSTATUS + s]);
            if (v == 0)
                continue;
            int code = status_codes[s];
            if ((rc = sl_buf_adds(out, "sluice_http_requests_total{route=\"")) < 0 ||
                (rc = add_label_value(out, route_names[r])) < 0)
                break;
            if (code)
                rc = sl_buf_printf(out, "\",status=\"%d\"} %llu\n", code, (unsigned long long)v);
            else
                rc = sl_buf_printf(out, "\",status=\"other\"} %llu\n", (unsigned long long)v);
        }
    }
    if (rc < 0)
        return rc;
    if ((rc = render_hist(out, "sluice_http_request_duration_seconds",
                          "Time from request handling to response.", ms, n,
                          offsetof(coll_metrics, req_latency))) < 0 ||
        (rc = render_hist(out, "sluice_log_append_duration_seconds",
                          "Time from log append to durable acknowledgement.", ms, n,
                          offsetof(coll_metrics, append_latency))) < 0 ||
        (rc = render_counter(out, "sluice_events_stored_total", "Events appended to the log.",
                             "counter", ms, n, offsetof(coll_metrics, events_stored))) < 0 ||
        (rc = render_counter(out, "sluice_event_bytes_stored_total",
                             "Bytes of event JSON appended to the log.", "counter", ms, n,
                             offsetof(coll_metrics, bytes_stored))) < 0 ||
        (rc = render_counter(out, "sluice_append_failures_total",
                             "Requests answered 503 because the log refused or failed.",
                             "counter", ms, n, offsetof(coll_metrics, append_failures))) < 0 ||
        (rc = render_counter(out, "sluice_requests_pending",
                             "Requests waiting for their events to become durable.", "gauge",
                             ms, n, offsetof(coll_metrics, pending))) < 0)
        return rc;
    return 0;
}
