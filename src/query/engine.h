/* engine.h — the sandboxed DuckDB session behind sluice sql, tables and export.
 *
 * An engine is one in-memory DuckDB database and one connection. At open it is locked
 * down with DuckDB's own controls, in this order:
 *   SET allowed_directories=['<data dir>/warehouse/'], [allowed_paths=['<export file>']],
 *   SET TimeZone='UTC', SET enable_external_access=false, autoinstall/autoload of
 *   extensions off,
 *   SET lock_configuration=true (no SET/RESET/PRAGMA can lift any of this afterwards).
 * On top of that, user statements must prepare as SELECT or EXPLAIN (DuckDB's own parser
 * decides the statement type): allowed_directories also permits writing inside the
 * warehouse, which a query must never do (COPY ... TO 'warehouse/x/evil.parquet').
 *
 * Catalog tables are views. q_engine_refresh() (called before every statement) re-reads
 * the catalog and the file lists and re-creates a view whose file list changed, so a table
 * or file that appears during a session is visible to the next statement. The view reads
 * an explicit list of the table's visible files (hidden names are a writer's temporary
 * files); a table without files is an empty relation with its catalog columns.
 *
 * Threading: an engine belongs to one thread. A statement timeout runs a watchdog thread
 * that calls duckdb_interrupt() on the connection (the one call DuckDB allows from
 * another thread).
 */
#ifndef SLUICE_QUERY_ENGINE_H
#define SLUICE_QUERY_ENGINE_H

#include <duckdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

typedef struct q_engine q_engine;

typedef struct q_engine_opts {
    const char *data_dir;    /* must exist */
    uint64_t    timeout_ms;  /* per statement; 0 = none */
    const char *write_path;  /* export only: the one file DuckDB may write, else NULL */
    unsigned    threads;     /* DuckDB worker threads; 0 = one per core */
} q_engine_opts;

int  q_engine_open(const q_engine_opts *o, q_engine **out, sl_err *err);
void q_engine_close(q_engine *e);  /* accepts NULL and half-built engines */

/* Re-reads the catalog and re-creates changed views. A broken catalog file is an error
 * naming it; the views of the other tables are still created. */
int q_engine_refresh(q_engine *e, sl_err *err);

/* Runs one user statement (no trailing ';' needed): `show tables`, `describe <table>`, or
 * a statement DuckDB prepares as SELECT/EXPLAIN. Refreshes the views first. On success
 * *res holds the materialized result (free with duckdb_destroy_result) and returns 0; on
 * failure returns -1 and q_engine_error() gives the message (DuckDB's, with its LINE/caret
 * position). *elapsed_ms is set either way. */
int q_engine_query(q_engine *e, const char *sql, duckdb_result *res, double *elapsed_ms);

/* Runs trusted SQL built by sluice itself (no statement gate; the sandbox still holds and
 * the timeout applies). Same result convention. */
int q_engine_exec(q_engine *e, const char *sql, duckdb_result *res);

/* Prepares sql without running it and checks that it is exactly one SELECT statement.
 * 0, or -1 with q_engine_error() set. */
int q_engine_check_select(q_engine *e, const char *sql);

const char *q_engine_error(const q_engine *e);

/* Absolute path of the data dir and the warehouse (no trailing '/'). */
const char *q_engine_data_dir(const q_engine *e);

/* Files of a table: the visible *.parquet files in <location>/<partition dir>/, sorted.
 * Fills the arrays (malloc'd, freed with q_files_free). */
typedef struct q_file {
    char    *path;   /* absolute */
    uint64_t size;
    int64_t  mtime_ms;
} q_file;
int  q_table_files(const char *abs_data_dir, const char *location, q_file **files, size_t *n,
                   sl_err *err);
void q_files_free(q_file *files, size_t n);

/* Appends s as an SQL string literal ('' doubled) / a double-quoted identifier. */
struct sl_buf;
int q_sql_literal(struct sl_buf *b, const char *s);
int q_sql_ident(struct sl_buf *b, const char *s);

#endif
