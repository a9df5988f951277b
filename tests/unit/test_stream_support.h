/* test_stream_support.h — shared helpers of the stream tests: fill the log, run the stream
 * once, query the Parquet files back with DuckDB. Static functions, included by each test. */
#ifndef TEST_STREAM_SUPPORT_H
#define TEST_STREAM_SUPPORT_H

#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/log.h"
#include "common/buf.h"
#include "spec/spec.h"
#include "stream/stream.h"

/* Appends records to <dir>/log/events. */
static int ts_fill(const char *dir, const char *const *lines, size_t n)
{
    log_topic *t = NULL;
    sl_err err = {0};
    if (log_topic_open(dir, "events", LOG_OPEN_WRITE, NULL, &t, &err) < 0) {
        fprintf(stderr, "  log open: %s\n", err.msg);
        return -1;
    }
    log_entry *e = calloc(n ? n : 1, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        e[i].data = lines[i];
        e[i].len = (uint32_t)strlen(lines[i]);
    }
    uint64_t first;
    int rc = log_append(t, e, n, &first, &err);
    if (rc < 0)
        fprintf(stderr, "  log append: %s\n", err.msg);
    free(e);
    log_topic_close(t);
    return rc;
}

static const char *ts_write_spec(const char *dir, const char *yaml)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/app.yaml", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(yaml, f);
    fclose(f);
    return path;
}

/* The options of an in-process `stream --once` on dir, quiet, logging to stderr. */
static void ts_opts(stream_opts *o, const char *dir)
{
    stream_opts_init(o);
    o->data_dir = dir;
    o->once = true;
    o->quiet = true;
    o->log = stderr;
}

/* Runs `stream --once` in-process; returns stream_run's code. */
static int ts_run_once(const char *dir, const char *spec_path, stream_stats *st)
{
    spec_app *app = NULL;
    sl_err err = {0};
    if (spec_load(spec_path, &app, &err) < 0) {
        fprintf(stderr, "  spec: %s\n", err.msg);
        return -1;
    }
    stream_opts o;
    ts_opts(&o, dir);
    o.lanes = 2;
    stream_stats local;
    int rc = stream_run(app, &o, st ? st : &local, &err);
    if (rc < 0)
        fprintf(stderr, "  stream: %s\n", err.msg);
    spec_free(app);
    return rc;
}

/* Runs SQL in a fresh in-memory DuckDB; returns rows as "a|b\n" (NULL as "NULL"), or
 * "ERROR: ..." — caller frees. */
static char *ts_query(const char *sql)
{
    duckdb_database db;
    duckdb_connection con;
    duckdb_result res;
    sl_buf out;
    sl_buf_init(&out, 1 << 24);
    if (duckdb_open(NULL, &db) == DuckDBError)
        return strdup("ERROR: open");
    duckdb_connect(db, &con);
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        sl_buf_printf(&out, "ERROR: %s", duckdb_result_error(&res));
    } else {
        idx_t rows = duckdb_row_count(&res), cols = duckdb_column_count(&res);
        for (idx_t r = 0; r < rows; r++) {
            for (idx_t c = 0; c < cols; c++) {
                if (c)
                    sl_buf_addc(&out, '|');
                if (duckdb_value_is_null(&res, c, r)) {
                    sl_buf_adds(&out, "NULL");
                } else {
                    char *v = duckdb_value_varchar(&res, c, r);
                    sl_buf_adds(&out, v ? v : "?");
                    duckdb_free(v);
                }
            }
            sl_buf_addc(&out, '\n');
        }
    }
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return out.p ? out.p : strdup("");
}

/* ts_q("SELECT ... FROM %T", dir, "events") — %T is replaced by the table's read_parquet(). */
static char *ts_q(const char *fmt, const char *dir, const char *table)
{
    char from[1024], sql[4096];
    snprintf(from, sizeof from,
             "read_parquet('%s/warehouse/%s/*/*.parquet', union_by_name=true, "
             "hive_partitioning=true)", dir, table);
    const char *p = strstr(fmt, "%T");
    if (!p)
        return ts_query(fmt);
    snprintf(sql, sizeof sql, "%.*s%s%s", (int)(p - fmt), fmt, from, p + 2);
    return ts_query(sql);
}

#define CHECK_Q(fmt, dir, table, want)                                                     \
    do {                                                                                   \
        char *got_ = ts_q(fmt, dir, table);                                                \
        CHECK_STR(got_, want);                                                             \
        free(got_);                                                                        \
    } while (0)

#endif
