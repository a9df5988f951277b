/* verify.h — `sluice bench --verify`: wait until the accepted events are queryable.
 *
 * The stream writes tables as <data dir>/warehouse/<table>/<partition dir>/<file>.parquet
 * (DESIGN.md), each file renamed into place complete, so counting the rows of the visible
 * (non-hidden) .parquet files with DuckDB gives exactly what a reader can query.
 *
 * Not thread-safe: one lg_verifier per thread. lg_verifier_close() accepts a half-opened one.
 */
#ifndef SLUICE_LOADGEN_VERIFY_H
#define SLUICE_LOADGEN_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

typedef struct lg_verifier {
    void  *db;      /* duckdb_database */
    void  *con;     /* duckdb_connection */
    char  *glob;    /* the file pattern for glob(3): <data dir>/warehouse/<table>/STAR/STAR.parquet */
    sl_buf sql;
} lg_verifier;

/* table must match [a-z_][a-z0-9_]{0,63} (it becomes part of a path). */
int lg_verifier_open(lg_verifier *v, const char *data_dir, const char *table, sl_err *err);
void lg_verifier_close(lg_verifier *v);

/* Rows in the table's visible Parquet files now; 0 when it has none. A file that vanishes
 * or is unreadable between listing and reading gives an error marked retriable. */
int lg_verifier_count(lg_verifier *v, uint64_t *rows, sl_err *err);

/* Polls lg_verifier_count() until it reaches target or deadline_ns (CLOCK_MONOTONIC)
 * passes. On success *seen_ns is when the target was first seen. -ETIMEDOUT if the
 * deadline passed (then *rows is the last count). Waits `poll_ms` between tries. */
int lg_verifier_wait(lg_verifier *v, uint64_t target, uint64_t deadline_ns, unsigned poll_ms,
                     uint64_t *rows, uint64_t *seen_ns, sl_err *err);

/* SQL string literal of s, single quotes doubled, appended to b. */
int lg_sql_quote(sl_buf *b, const char *s);

#endif
