/* test_query_engine.c — the sandboxed engine in-process: DuckDB's own locks hold even for
 * SQL that bypasses the statement gate, views follow the catalog and the files, the
 * statement splitter finds the right ends. */
#include "query/engine.h"
#include "query/split.h"
#include "test.h"
#include "test_query_fixture.h"

static q_engine *open_fixture(const char **dir_out)
{
    const char *dir = test_tmpdir();
    static char keep[512];
    snprintf(keep, sizeof keep, "%s", dir);
    if (fx_build(keep))
        return NULL;
    q_engine *e = NULL;
    sl_err err = {0};
    q_engine_opts o = {.data_dir = keep, .timeout_ms = 5000};
    if (q_engine_open(&o, &e, &err))
        fprintf(stderr, "  open: %s\n", err.msg);
    *dir_out = keep;
    return e;
}

static long long scalar(q_engine *e, const char *sql)
{
    duckdb_result r;
    double ms;
    if (q_engine_query(e, sql, &r, &ms)) {
        fprintf(stderr, "  %s: %s\n", sql, q_engine_error(e));
        return -1;
    }
    long long v = duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    return v;
}

/* Trusted SQL skips the statement gate, so this proves DuckDB's own settings. */
static void test_duckdb_locks(void)
{
    const char *dir;
    q_engine *e = open_fixture(&dir);
    CHECK(e != NULL);
    if (!e)
        return;
    const char *lifts[] = {"SET enable_external_access=true", "SET lock_configuration=false",
                           "RESET allowed_directories", "SET allowed_directories=['/']"};
    for (size_t i = 0; i < sizeof lifts / sizeof lifts[0]; i++) {
        duckdb_result r;
        CHECK(q_engine_exec(e, lifts[i], &r) == -1);
        CHECK(strstr(q_engine_error(e), "configuration has been locked") != NULL);
    }
    duckdb_result r;
    CHECK(q_engine_exec(e, "SELECT * FROM read_text('/etc/hostname')", &r) == -1);
    CHECK(strstr(q_engine_error(e), "file system operations are disabled") != NULL);
    CHECK(q_engine_exec(e, "COPY (SELECT 1) TO '/tmp/sluice-never.csv'", &r) == -1);
    CHECK(q_engine_exec(e, "LOAD httpfs", &r) == -1);
    q_engine_close(e);
}

static void test_views(void)
{
    const char *dir;
    q_engine *e = open_fixture(&dir);
    CHECK(e != NULL);
    if (!e)
        return;
    /* the hidden temporary file is never read; both schema versions are */
    CHECK(scalar(e, "select count(*) from purchases") == 24);
    CHECK(scalar(e, "select count(*) from purchases where event_id = 'hidden'") == 0);
    CHECK(scalar(e, "select count(color) from purchases") == 4);
    CHECK(scalar(e, "select count(distinct dt) from purchases") == 2);
    long long want = 0; /* the fixture's formula: strength = (i * 37) % 100, i in 0..23 */
    for (int i = 0; i < 24; i++)
        want += (i * 37) % 100;
    CHECK(scalar(e, "select sum(strength) from purchases") == want);
    /* no files yet: empty, with the catalog's columns */
    CHECK(scalar(e, "select count(rating) from reviews") == 0);
    /* a file appears: the next statement sees it */
    char src[1400], dst[600];
    snprintf(dst, sizeof dst, "%s/warehouse/reviews/dt=2026-11-23", dir);
    CHECK(fx_mkdirs(dst) == 0);
    snprintf(src, sizeof src,
             "COPY (SELECT 'r1' AS event_id, 5::BIGINT AS rating) TO "
             "'%s/part-0-0-0.parquet' (FORMAT parquet)", dst);
    CHECK(fx_sql_once(src) == 0);
    CHECK(scalar(e, "select sum(rating) from reviews") == 5);
    /* a table leaves the catalog: its view goes */
    snprintf(src, sizeof src, "%s/catalog/joins.json", dir);
    CHECK(unlink(src) == 0);
    duckdb_result r;
    double ms;
    CHECK(q_engine_query(e, "select * from joins", &r, &ms) == -1);
    CHECK(strstr(q_engine_error(e), "joins does not exist") != NULL);
    q_engine_close(e);
}

/* The first row's first column as text (malloc'd), or NULL on an error. */
static char *text(q_engine *e, const char *sql)
{
    duckdb_result r;
    double ms;
    if (q_engine_query(e, sql, &r, &ms)) {
        fprintf(stderr, "  %s: %s\n", sql, q_engine_error(e));
        return NULL;
    }
    char *v = duckdb_value_varchar(&r, 0, 0);
    char *out = v ? strdup(v) : NULL;
    duckdb_free(v);
    duckdb_destroy_result(&r);
    return out;
}

#define CHECK_TEXT(e, sql, want)                                                           \
    do {                                                                                   \
        char *got_ = text(e, sql);                                                         \
        CHECK_STR(got_, want);                                                             \
        free(got_);                                                                        \
    } while (0)

/* A column the catalog declares but no file holds yet is NULL with the catalog's type, and
 * a view has exactly the catalog's columns in the catalog's order, whatever the files hold
 * (a file column the catalog does not know, another column order). */
static void test_catalog_schema(void)
{
    const char *dir;
    q_engine *e = open_fixture(&dir);
    CHECK(e != NULL);
    if (!e)
        return;
    const char *joins_cols = "event_id VARCHAR, event_type VARCHAR, received_at TIMESTAMP, "
                             "host VARCHAR, user_agent VARCHAR, accept VARCHAR, guild VARCHAR";
    char want[512];
    snprintf(want, sizeof want, "%s, dt VARCHAR", joins_cols);
    const char *describe =
        "select string_agg(column_name || ' ' || column_type, ', ') from (describe joins)";
    CHECK_TEXT(e, describe, want);

    /* schema version 2 adds two columns; no file has them */
    wh_table *t = NULL;
    sl_err err = {0};
    CHECK(wh_catalog_read(dir, "joins", &t, &err) == 0);
    if (!t)
        return;
    wh_column *cols = realloc(t->cols, (t->ncols + 2) * sizeof *cols);
    CHECK(cols != NULL);
    if (!cols)
        return;
    t->cols = cols;
    cols[t->ncols++] = (wh_column){strdup("level"), SPEC_COL_BIGINT};
    cols[t->ncols++] = (wh_column){strdup("seen"), SPEC_COL_TIMESTAMP};
    t->schema_version = 2;
    CHECK(wh_catalog_write(dir, t, &err) == 0);
    wh_table_free(t);
    CHECK(scalar(e, "select count(*) from joins where level is null and seen is null") == 6);
    CHECK_TEXT(e, "select typeof(level) || ' ' || typeof(seen) from joins limit 1",
               "BIGINT TIMESTAMP");
    snprintf(want, sizeof want, "%s, level BIGINT, seen TIMESTAMP, dt VARCHAR", joins_cols);
    CHECK_TEXT(e, describe, want);

    /* a file with the new column, a column the catalog lacks, in another order */
    char sql[1400], d[600];
    snprintf(d, sizeof d, "%s/warehouse/joins/dt=2026-11-24", dir);
    CHECK(fx_mkdirs(d) == 0);
    snprintf(sql, sizeof sql,
             "COPY (SELECT 7::BIGINT AS level, 'x' AS unknown, 'j7' AS event_id, 'elves' AS "
             "guild) TO '%s/part-0-6-6.parquet' (FORMAT parquet)", d);
    CHECK(fx_sql_once(sql) == 0);
    CHECK(scalar(e, "select count(*) from joins") == 7);
    CHECK(scalar(e, "select sum(level) from joins") == 7);
    CHECK_TEXT(e, "select guild || ' ' || dt from joins where event_id = 'j7'",
               "elves 2026-11-24");
    CHECK_TEXT(e, describe, want);
    CHECK(scalar(e, "select count(*) from joins where host is null") == 1);
    q_engine_close(e);
}

static void test_split(void)
{
    const char *s = "select ';' as a; select 2";
    CHECK_EQ_U64(q_split(s, strlen(s)), 16);
    s = "select \"x;y\" -- ; comment\n from t /* ; */;";
    CHECK_EQ_U64(q_split(s, strlen(s)), strlen(s));
    s = "select 'it''s;' ";
    CHECK_EQ_U64(q_split(s, strlen(s)), 0);
    s = "select $$a;b$$;";
    CHECK_EQ_U64(q_split(s, strlen(s)), strlen(s));
    CHECK(q_blank(" -- x\n ; /* y */ ", 17));
    CHECK(!q_blank(" -- x\n 1", 8));
}

int main(void)
{
    RUN(test_split);
    RUN(test_duckdb_locks);
    RUN(test_views);
    RUN(test_catalog_schema);
    return test_summary();
}
