/* parts.h — the observers behind the admin server (admin.h), one module each:
 *   sampler.c  the log: offsets, lag, events per second per event_type, latest events
 *   scrape.c   the collector's /metrics: requests by status and route
 *   tables.c   the warehouse: rows, files, bytes, partitions per catalog table
 *   sqlapi.c   POST /api/sql: one statement through the sandboxed engine, as JSON
 * All of them belong to the admin thread (no locks) unless stated.
 */
#ifndef SLUICE_ADMIN_PARTS_H
#define SLUICE_ADMIN_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "query/engine.h"

/* Appends the JSON string token for p[0..n) to b. */
int admin_json_str(sl_buf *b, const char *p, size_t n);

/* ---- sampler.c ---- */

#define ADMIN_RATE_SECS  300  /* events/s history kept */
#define ADMIN_MAX_TYPES  24   /* event types charted; the rest count as "(other)" */
#define ADMIN_LATEST     200  /* latest events kept */
#define ADMIN_LATEST_MAX_BYTES 4096 /* a longer event is shown cut, as a string */

typedef struct admin_sampler admin_sampler;

/* The topic need not exist yet: it is opened on a later tick. */
int  admin_sampler_create(const char *data_dir, const char *topic, const char *job,
                          admin_sampler **out, sl_err *err);
void admin_sampler_destroy(admin_sampler *s);

/* Reads what was appended since the last tick (at most a bounded amount per call; a
 * backlog beyond ADMIN_SAMPLER_MAX_BEHIND is skipped, not counted). */
void admin_sampler_tick(admin_sampler *s);

/* Appends `"log":{...},"events_per_sec":{...}` (members, no braces) with the last `secs`
 * seconds of history ending at now_s. */
int admin_sampler_stats_json(admin_sampler *s, sl_buf *b, unsigned secs, int64_t now_s);

/* Appends {"events":[{"offset":..,"ts_ms":..,"event":{...}}...]} newest first. */
int admin_sampler_latest_json(admin_sampler *s, sl_buf *b, size_t n);

/* ---- scrape.c ---- */

#define ADMIN_MAX_STATUS 16
#define ADMIN_MAX_ROUTES 64

typedef struct admin_reqstats {
    bool     ok;                 /* the last scrape worked */
    char     error[128];
    size_t   nstatus;
    char     status[ADMIN_MAX_STATUS][8];
    uint64_t status_count[ADMIN_MAX_STATUS];
    size_t   nroutes;
    char     route[ADMIN_MAX_ROUTES][96];
    uint64_t route_count[ADMIN_MAX_ROUTES];
    uint64_t total;
    uint64_t events_stored;
} admin_reqstats;

/* Parses Prometheus text from the collector (metrics.h). Requests to /metrics itself are
 * left out (they are the admin server's own scrapes). Pure. */
void admin_metrics_parse(const char *text, size_t len, admin_reqstats *rs);

/* GET http://host:port/metrics with a short deadline; fills *rs (rs->ok false with the
 * reason on failure). Blocking, bounded by timeout_ms. */
void admin_scrape(const char *host, uint16_t port, int timeout_ms, admin_reqstats *rs);

/* Appends `"requests":{...}`. */
int admin_reqstats_json(const admin_reqstats *rs, sl_buf *b);

/* ---- tables.c ---- */

typedef struct admin_tables admin_tables;
int  admin_tables_create(admin_tables **out);
void admin_tables_destroy(admin_tables *t);
/* Appends `"tables":[{"name","rows","files","bytes","partitions","last_update_ms"}...]`;
 * rows are recomputed only for tables whose files changed. On a catalog error appends
 * `"tables":[],"tables_error":"..."`. */
int admin_tables_json(admin_tables *t, q_engine *e, sl_buf *b);

/* ---- sqlapi.c ---- */

/* Runs one statement and appends the answer object to b. Returns the HTTP status: 200,
 * or 400 with {"error": msg} (the engine's message: syntax, sandbox, timeout). */
int admin_sql_json(q_engine *e, const char *sql, uint64_t max_rows, sl_buf *b);

#endif
