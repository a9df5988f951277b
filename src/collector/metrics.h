/* metrics.h — the collector's counters and their Prometheus text rendering (GET /metrics).
 *
 * Each event-loop thread owns one coll_metrics and is its only writer, so counting costs
 * no lock and no contended cache line; GET /metrics sums all threads' copies with relaxed
 * atomic loads (a scrape may see one thread's counters a few requests behind another's,
 * which Prometheus counters tolerate).
 *
 * Series:
 *   sluice_http_requests_total{route,status}      counter
 *   sluice_http_request_duration_seconds          histogram (handler entry to response)
 *   sluice_log_append_duration_seconds            histogram (append to durable ack)
 *   sluice_events_stored_total, sluice_event_bytes_stored_total, sluice_append_failures_total
 *   sluice_requests_pending                       gauge (waiting on the log)
 */
#ifndef SLUICE_COLL_METRICS_H
#define SLUICE_COLL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define COLL_LAT_NBUCKETS 14  /* the last is +Inf */
#define COLL_NSTATUS      17  /* see coll_status_slot() */

/* Route slots: 0..nroutes-1 are the app's routes; then these: */
enum { COLL_RT_EVENTS = 0, COLL_RT_HEALTHZ, COLL_RT_METRICS, COLL_RT_UNMATCHED, COLL_RT_NSPECIAL };

typedef struct coll_hist {
    uint64_t bucket[COLL_LAT_NBUCKETS];  /* non-cumulative counts */
    uint64_t sum_ns;
    uint64_t count;
} coll_hist;

typedef struct coll_metrics {
    size_t     nroutes;        /* app routes + COLL_RT_NSPECIAL */
    uint64_t  *requests;       /* [nroutes * COLL_NSTATUS] */
    coll_hist  req_latency;
    coll_hist  append_latency;
    uint64_t   events_stored;
    uint64_t   bytes_stored;
    uint64_t   append_failures;
    uint64_t   pending;        /* gauge, written by the owner */
} coll_metrics;

/* 0 or -ENOMEM. coll_metrics_free accepts a zeroed or half-built struct. */
int  coll_metrics_init(coll_metrics *m, size_t app_routes);
void coll_metrics_free(coll_metrics *m);

/* Owner thread only. */
void coll_metrics_request(coll_metrics *m, size_t route_slot, int status, uint64_t ns);
void coll_metrics_append(coll_metrics *m, uint64_t events, uint64_t bytes, uint64_t ns);
void coll_metrics_append_failed(coll_metrics *m);
void coll_metrics_add(uint64_t *counter, int64_t delta);

/* Renders the sum of n per-thread metrics. route_names[i] names slot i (app routes first,
 * then "/events", "/healthz", "/metrics", "unmatched"). Any thread. */
int coll_metrics_render(const coll_metrics *const *ms, size_t n, const char *const *route_names,
                        sl_buf *out);

/* The status code of slot s (0 for "other"). */
int coll_status_of_slot(size_t s);

#endif
