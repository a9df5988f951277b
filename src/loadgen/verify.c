/* verify.c — counting rows of a warehouse table with DuckDB (contract in verify.h).
 *
 * The file list is made here with glob(3), which skips hidden names, and given to
 * read_parquet() explicitly: a writer's temporary file (hidden until it is renamed into
 * place) is therefore never read half-written.
 */
#include "loadgen/verify.h"

#include <duckdb.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen/client.h"

static bool table_name_ok(const char *t)
{
    size_t n = strlen(t);
    if (!n || n > 64 || !((t[0] >= 'a' && t[0] <= 'z') || t[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '_'))
            return false;
    return true;
}

int lg_sql_quote(sl_buf *b, const char *s)
{
    int rc = sl_buf_addc(b, '\'');
    for (; !rc && *s; s++)
        rc = *s == '\'' ? sl_buf_adds(b, "''") : sl_buf_addc(b, *s);
    return rc ? rc : sl_buf_addc(b, '\'');
}

int lg_verifier_open(lg_verifier *v, const char *data_dir, const char *table, sl_err *err)
{
    memset(v, 0, sizeof *v);
    sl_buf_init(&v->sql, 64u << 20);
    if (!table_name_ok(table))
        return sl_err_set(err, -EINVAL, false,
                          "table name '%s' is not valid ([a-z_][a-z0-9_]*, at most 64)", table);
    size_t n = strlen(data_dir) + strlen(table) + 64;
    if (!(v->glob = malloc(n)))
        return sl_err_set(err, -ENOMEM, true, "out of memory");
    snprintf(v->glob, n, "%s/warehouse/%s/*/*.parquet", data_dir, table);
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    if (duckdb_open(NULL, &db) != DuckDBSuccess) {
        lg_verifier_close(v);
        return sl_err_set(err, -EIO, false, "cannot open an in-memory DuckDB database");
    }
    v->db = db;
    if (duckdb_connect(db, &con) != DuckDBSuccess) {
        lg_verifier_close(v);
        return sl_err_set(err, -EIO, false, "cannot connect to DuckDB");
    }
    v->con = con;
    return 0;
}

void lg_verifier_close(lg_verifier *v)
{
    if (!v)
        return;
    if (v->con) {
        duckdb_connection con = v->con;
        duckdb_disconnect(&con);
    }
    if (v->db) {
        duckdb_database db = v->db;
        duckdb_close(&db);
    }
    free(v->glob);
    sl_buf_free(&v->sql);
    memset(v, 0, sizeof *v);
}

int lg_verifier_count(lg_verifier *v, uint64_t *rows, sl_err *err)
{
    glob_t g;
    memset(&g, 0, sizeof g);
    int grc = glob(v->glob, 0, NULL, &g);
    if (grc == GLOB_NOMATCH) {
        globfree(&g);
        *rows = 0;
        return 0;
    }
    if (grc != 0) {
        globfree(&g);
        return sl_err_set(err, -EIO, true, "cannot list %s", v->glob);
    }
    sl_buf_reset(&v->sql);
    int rc = sl_buf_adds(&v->sql, "SELECT count(*) FROM read_parquet([");
    for (size_t i = 0; !rc && i < g.gl_pathc; i++) {
        if (i)
            rc = sl_buf_addc(&v->sql, ',');
        if (!rc)
            rc = lg_sql_quote(&v->sql, g.gl_pathv[i]);
    }
    if (!rc)
        rc = sl_buf_adds(&v->sql, "])");
    size_t nfiles = g.gl_pathc;
    globfree(&g);
    if (rc)
        return sl_err_set(err, rc, false, "too many files to count in %s", v->glob);
    duckdb_result res;
    if (duckdb_query((duckdb_connection)v->con, v->sql.p, &res) != DuckDBSuccess) {
        const char *m = duckdb_result_error(&res);
        rc = sl_err_set(err, -EIO, true, "counting rows of %zu files %s: %s", nfiles, v->glob,
                        m ? m : "query failed");
        duckdb_destroy_result(&res);
        return rc;
    }
    int64_t c = duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    *rows = c > 0 ? (uint64_t)c : 0;
    return 0;
}

int lg_verifier_wait(lg_verifier *v, uint64_t target, uint64_t deadline_ns, unsigned poll_ms,
                     uint64_t *rows, uint64_t *seen_ns, sl_err *err)
{
    sl_err last;
    sl_err_clear(&last);
    bool counted = false;
    for (;;) {
        uint64_t n;
        int rc = lg_verifier_count(v, &n, &last);
        if (rc == 0) {
            counted = true;
            *rows = n;
            if (n >= target) {
                *seen_ns = lg_now_ns();
                return 0;
            }
        } else if (!last.retriable) {
            if (err)
                *err = last;
            return rc;
        }
        if (lg_now_ns() >= deadline_ns) {
            if (!counted && err) {
                *err = last;
                return last.code ? last.code : -ETIMEDOUT;
            }
            return sl_err_set(err, -ETIMEDOUT, true, "%" PRIu64 " of %" PRIu64
                              " rows visible in %s when the wait ended", *rows, target, v->glob);
        }
        struct timespec ts = {.tv_sec = poll_ms / 1000, .tv_nsec = (long)(poll_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}
