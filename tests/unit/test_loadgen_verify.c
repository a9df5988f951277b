/* Unit tests for src/loadgen/verify.c: counting rows of a table's visible Parquet files,
 * ignoring hidden (in-progress) files, and waiting for a target with a deadline. */
#include <duckdb.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "loadgen/client.h"
#include "loadgen/verify.h"
#include "test.h"

/* Writes a Parquet file of n rows with DuckDB. */
static int write_parquet(const char *path, int n)
{
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) != DuckDBSuccess)
        return -1;
    if (duckdb_connect(db, &con) != DuckDBSuccess) {
        duckdb_close(&db);
        return -1;
    }
    char sql[2048];
    snprintf(sql, sizeof sql,
             "COPY (SELECT i AS n, 'e' || i AS event_id FROM range(%d) t(i)) TO '%s' "
             "(FORMAT parquet)", n, path);
    /* (paths here come from test_tmpdir(): no quotes in them) */
    duckdb_result res;
    int rc = duckdb_query(con, sql, &res) == DuckDBSuccess ? 0 : -1;
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return rc;
}

static void test_count_and_wait(void)
{
    const char *d = test_tmpdir();
    char dir[400], path[900];
    lg_verifier v;
    sl_err err;
    CHECK(lg_verifier_open(&v, d, "events", &err) == 0);
    uint64_t rows = 99, seen = 0;
    /* no table folder yet: zero rows, not an error */
    CHECK(lg_verifier_count(&v, &rows, &err) == 0);
    CHECK_EQ_U64(rows, 0);

    snprintf(dir, sizeof dir, "%s/warehouse/events/dt=2026-01-02", d);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s/warehouse/events/dt=2026-01-03'", dir, d);
    CHECK(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/part-0-0-9.parquet", dir);
    CHECK(write_parquet(path, 10) == 0);
    snprintf(path, sizeof path, "%s/warehouse/events/dt=2026-01-03/part-0-10-14.parquet", d);
    CHECK(write_parquet(path, 5) == 0);
    /* a hidden in-progress file and another table are not counted */
    snprintf(path, sizeof path, "%s/.part-0-15-99.parquet.tmp.parquet", dir);
    CHECK(write_parquet(path, 85) == 0);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/warehouse/eventsx/dt=2026-01-02'", d);
    CHECK(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/warehouse/eventsx/dt=2026-01-02/part-0-0-6.parquet", d);
    CHECK(write_parquet(path, 7) == 0);

    CHECK(lg_verifier_count(&v, &rows, &err) == 0);
    CHECK_EQ_U64(rows, 15);

    /* reached at once */
    CHECK(lg_verifier_wait(&v, 15, lg_now_ns() + 2000000000ull, 5, &rows, &seen, &err) == 0);
    CHECK(seen > 0);
    /* never reached: times out with the count in the message */
    uint64_t t0 = lg_now_ns();
    CHECK(lg_verifier_wait(&v, 16, t0 + 100000000ull, 5, &rows, &seen, &err) == -ETIMEDOUT);
    CHECK(lg_now_ns() - t0 >= 100000000ull);
    CHECK_EQ_U64(rows, 15);
    CHECK(strstr(err.msg, "15 of 16 rows") != NULL);
    lg_verifier_close(&v);
    lg_verifier_close(&v);   /* closing twice is harmless */
}

static void test_bad_table_name_and_quoting(void)
{
    lg_verifier v;
    sl_err err;
    CHECK(lg_verifier_open(&v, "/tmp", "../etc", &err) == -EINVAL);
    CHECK(strstr(err.msg, "'../etc' is not valid") != NULL);
    lg_verifier_close(&v);
    CHECK(lg_verifier_open(&v, "/tmp", "Events", &err) == -EINVAL);
    lg_verifier_close(&v);

    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(lg_sql_quote(&b, "/a/it's/x.parquet") == 0);
    CHECK_STR(b.p, "'/a/it''s/x.parquet'");
    sl_buf_free(&b);
}

int main(void)
{
    RUN(test_count_and_wait);
    RUN(test_bad_table_name_and_quoting);
    return test_summary();
}
