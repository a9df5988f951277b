/* Unit tests of the collector's metrics: per-thread counters summed in the Prometheus
 * text, histogram buckets cumulative, unknown statuses counted as "other". */
#include "collector/metrics.h"
#include "test.h"

static void test_render_sums_threads(void)
{
    coll_metrics a, b;
    CHECK(coll_metrics_init(&a, 2) == 0);
    CHECK(coll_metrics_init(&b, 2) == 0);
    const char *names[] = {"/a", "/b", "/events", "/healthz", "/metrics", "unmatched"};
    coll_metrics_request(&a, 0, 200, 30000);      /* 30 us: first bucket */
    coll_metrics_request(&b, 0, 200, 700000);     /* 0.7 ms */
    coll_metrics_request(&b, 1, 503, 2000000000); /* 2 s: +Inf only */
    coll_metrics_request(&a, 2 + COLL_RT_UNMATCHED, 404, 1000);
    coll_metrics_request(&a, 2 + COLL_RT_UNMATCHED, 418, 1000);
    coll_metrics_append(&a, 3, 300, 1000);
    coll_metrics_append(&b, 1, 100, 1000);
    coll_metrics_append_failed(&b);
    const coll_metrics *ms[] = {&a, &b};
    sl_buf out;
    sl_buf_init(&out, 1 << 20);
    CHECK(coll_metrics_render(ms, 2, names, &out) == 0);
    const char *want[] = {
        "sluice_http_requests_total{route=\"/a\",status=\"200\"} 2\n",
        "sluice_http_requests_total{route=\"/b\",status=\"503\"} 1\n",
        "sluice_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n",
        "sluice_http_requests_total{route=\"unmatched\",status=\"other\"} 1\n",
        "sluice_http_request_duration_seconds_bucket{le=\"5e-05\"} 3\n",
        "sluice_http_request_duration_seconds_bucket{le=\"0.001\"} 4\n",
        "sluice_http_request_duration_seconds_bucket{le=\"1\"} 4\n",
        "sluice_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n",
        "sluice_http_request_duration_seconds_count 5\n",
        "sluice_events_stored_total 4\n",
        "sluice_event_bytes_stored_total 400\n",
        "sluice_append_failures_total 1\n",
        "sluice_log_append_duration_seconds_count 2\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(out.p, want[i]))
            fprintf(stderr, "  missing: %s", want[i]);
        CHECK(strstr(out.p, want[i]) != NULL);
    }
    CHECK(strstr(out.p, "route=\"/events\"") == NULL);  /* zero series are left out */
    sl_buf_free(&out);
    coll_metrics_free(&a);
    coll_metrics_free(&b);
}

/* Route paths are label values: a quote or a backslash in one (the spec allows both)
 * must not end the value early; the text format escapes them and line feeds. */
static void test_label_escaping(void)
{
    coll_metrics m;
    CHECK(coll_metrics_init(&m, 2) == 0);
    const char *names[] = {"/say\"hi\"", "/back\\slash\nx", "/events", "/healthz",
                           "/metrics", "unmatched"};
    coll_metrics_request(&m, 0, 200, 1000);
    coll_metrics_request(&m, 1, 404, 1000);
    const coll_metrics *ms[] = {&m};
    sl_buf out;
    sl_buf_init(&out, 1 << 20);
    CHECK(coll_metrics_render(ms, 1, names, &out) == 0);
    CHECK(strstr(out.p, "sluice_http_requests_total{route=\"/say\\\"hi\\\"\",status=\"200\"} 1\n"));
    CHECK(strstr(out.p, "sluice_http_requests_total{route=\"/back\\\\slash\\nx\",status=\"404\"} 1\n"));
    sl_buf_free(&out);
    coll_metrics_free(&m);
}

int main(void)
{
    RUN(test_render_sums_threads);
    RUN(test_label_escaping);
    return test_summary();
}
