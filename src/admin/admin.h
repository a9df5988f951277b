/* admin.h — the admin HTTP server of `sluice up`: a live dashboard and its JSON API.
 *
 * It listens on its own address (not the app's: "/" is an app route there) and only
 * observes; it never writes to the pipeline:
 *   the log        through its own reader handle: high watermark, the newest records
 *                  (latest events, events per second per event_type),
 *   the stream     its checkpoint file (lag = high watermark - checkpoint) and the batch
 *                  lines it logs (batches.h),
 *   the collector  its Prometheus /metrics over loopback (requests by status and route),
 *   the warehouse  the catalog and the table files (rows from the Parquet footers),
 *   SQL            a sandboxed query engine (query/engine.h), as `sluice sql` uses.
 *
 * Endpoints:
 *   GET  /                     the dashboard (HTML, CSS and JS built into the binary)
 *   GET  /api/stats            everything above, one JSON object (format in docs/dashboard.md)
 *   GET  /api/events/latest?n=N the newest N (<= 200) events, newest first
 *   POST /api/sql              body: one SQL statement; answer {columns, types, rows, ...}
 *                              or 400 {"error": "<engine message>"}
 *   GET  /healthz              {"status":"ok"}
 * Errors are JSON {"error": "..."} with a 4xx/5xx status.
 *
 * Threading: admin_start() spawns one thread that owns the h2o loop, the log reader, the
 * query engine and every cache; requests are served on it one at a time (a SQL statement
 * holds the loop for at most the statement timeout). admin_stop() may be called from any
 * other thread.
 */
#ifndef SLUICE_ADMIN_H
#define SLUICE_ADMIN_H

#include <stdint.h>

#include "admin/batches.h"
#include "common/err.h"
#include "spec/spec.h"

typedef struct admin_config {
    const char *host;               /* listen address, default 127.0.0.1 */
    uint16_t    port;               /* default 8089 */
    const char *data_dir;
    const spec_app *app;            /* read-only, outlives the server */
    const char *stream_job;         /* checkpoint name, default "stream" */
    const char *collector_host;     /* where the collector listens, for /metrics */
    uint16_t    collector_port;     /* 0: no request metrics */
    admin_batches *batches;         /* may be NULL */
    uint64_t    sql_timeout_ms;     /* default 10 s */
    uint64_t    sql_max_rows;       /* default 1000 */
    const struct coll_auth *auth;   /* admin token (collector/auth.h); NULL or none: open */
} admin_config;

void admin_config_init(admin_config *c);

typedef struct admin_server admin_server;

/* Binds the listening socket (so a busy port is reported at once), then starts the
 * server thread. The config's strings must outlive the server. */
int admin_start(const admin_config *cfg, admin_server **out, sl_err *err);

/* Stops the thread, closes everything, frees. NULL is fine. */
void admin_stop(admin_server *a);

/* The dashboard page (assets.c). */
extern const char admin_dashboard_html[];

#endif
